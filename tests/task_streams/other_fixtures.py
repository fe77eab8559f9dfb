"""Miniature UCIT and MLLM-CL releases in their released layouts (rows written for the tests in each benchmark's
schema; answer conventions as released: option letters, counts, lists of OCR answers, worked maths solutions)."""

from __future__ import annotations

from llava_fixture import FixtureTask


SUFFIX = "Answer the question using a single word or phrase."
LETTER = "Answer with the option's letter from the given choices directly."
UCIT_DIR = "instructions"

UCIT = {
    "imagenet_r": FixtureTask(f"{UCIT_DIR}/ImageNet-R/train.json", f"{UCIT_DIR}/ImageNet-R/test_3000.json",
                              [("ImageNet-R/train/n01443537/art_0.jpg", f"What is the object in the image?\n{SUFFIX}",
                                "goldfish")],
                              [("ImageNet-R/test/n01484850/cartoon_3.jpg",
                                f"What is the object in the image?\n{SUFFIX}", "great white shark")],
                              "datasets", "datasets"),
    "arxivqa": FixtureTask(f"{UCIT_DIR}/ArxivQA/train_4w.json", f"{UCIT_DIR}/ArxivQA/test_3000.json",
                           [("ArxivQA/images/2301.01234_fig2.jpg", "Which trend is shown for the blue curve?\n"
                             f"A. increasing\nB. decreasing\nC. constant\nD. oscillating\n{LETTER}", "A")],
                           [("ArxivQA/images/2302.00001_fig1.jpg", "What does the x-axis measure?\nA. time\nB. mass\n"
                             f"C. energy\n{LETTER}", "C")], "datasets", "datasets"),
    "iconqa": FixtureTask(f"{UCIT_DIR}/IconQA/train.json", f"{UCIT_DIR}/IconQA/test_3000.json",
                          [("IconQA/iconqa_data/iconqa/train/fill_in_blank/7/image.png",
                            f"How many dots are on the frame?\n{SUFFIX}", "6")],
                          [("IconQA/iconqa_data/iconqa/test/choose_txt/12/image.png",
                            f"Which shape is a circle?\nA. left\nB. right\n{LETTER}", "B")], "datasets", "datasets"),
    "clevr_math": FixtureTask(f"{UCIT_DIR}/CLEVR/train_4w.json", f"{UCIT_DIR}/CLEVR/test_3000.json",
                              [("CLEVR/images/train/CLEVR_train_000001.png",
                                f"Subtract all red cubes. How many objects are left?\n{SUFFIX}", "4")],
                              [("CLEVR/images/test/CLEVR_test_000123.png",
                                f"Add 2 blue spheres. How many objects exist?\n{SUFFIX}", "7")],
                              "datasets", "datasets"),
}

DOMAIN = {
    name: FixtureTask(f"{folder}/train.json", f"{folder}/test.json", [(f"images/{name}_0.png", q, a)],
                      [(f"images/{name}_1.png", q2, a2)], folder, folder, id_key="question_id")
    for name, folder, q, a, q2, a2 in [
        ("rs", "RS", "Is there a road in the image?", "yes", "How many buildings are there?", "3"),
        ("med", "Med", "Is this tissue malignant?", "no", "What organ is shown?", "liver"),
        ("ad", "AD", "What is the ego vehicle doing?", "going straight", "Is the traffic light red?", "no"),
        ("sci", "Sci", f"Which label is the sun?\nA. a\nB. b\n{LETTER}", "A", "What stage is shown?", "pupa"),
        ("fin", "Fin", "Did revenue grow? Only answer with yes or no directly.", "Yes",
         "Which quarter is highest?\nA. Q1\nB. Q2\nAnswer with the given letter directly.", "B"),
    ]
}

ABILITY = {
    "ocr": FixtureTask("OCR/train.json", "OCR_test/test.json",
                       [("images/0.jpg", "what is written in the image?", "CENTRE")],
                       [("images/5.jpg", "what is written in the image?", ["EXIT", "exit"])], "OCR", "OCR_test",
                       id_key="question_id", extra={"answer_type": "Regular Text Recognition"}),
    "math": FixtureTask("Math/train.json", "Math_test/test.json",
                        [("images/mavis/71952.png", "According to the question shown in the image, please first "
                          "perform reasoning, then finally select the right answer from the choices, e.g., Answer: "
                          "xxx.\nQuestion: If the central angle is half of 48 degrees, does y equal 24?\nChoices:\n"
                          "A. Yes\nB. No",
                          "The measure of y is the same as its central angle. Halving the central angle to 24 degrees "
                          "results in y being 24. So the answer is A\nAnswer: A"),
                         ("images/tabmwp/24069.png", "Hint: Please answer the question and provide the final answer "
                          "at the end.\nQuestion: If Myra wants to buy one of each item on the list, how much will it "
                          "cost in total?", "The answer is $38.51")],
                        [("images/testmini_1.png", "What is the value of x?", "\\frac{3}{4}")], "Math", "Math_test",
                        id_key="question_id"),
    "perception": FixtureTask("VP/train.json", "VP_test/test.json",
                              [("images/tally_0.jpg", "How many people are there?", "3")],
                              [("images/img_2D_count_ade20k_10.png", "How many pictures are in the image?\nA. 3\n"
                                "B. 2\nC. 1\nD. 0", "(B)")], "VP", "VP_test", id_key="question_id",
                              extra={"type": "2D", "task": "Count"}),
}
