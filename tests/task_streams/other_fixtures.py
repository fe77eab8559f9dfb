"""Miniature UCIT and MLLM-CL releases in their released layouts (rows written for the tests in each benchmark's
schema; answer conventions as released: option letters, counts, lists of OCR answers, worked maths solutions, one
caption per train row and COCO-format reference captions per test image)."""

from __future__ import annotations

import json
from pathlib import Path

from llava_fixture import FixtureTask, write_release


SUFFIX = "Answer the question using a single word or phrase."
LETTER = "Answer with the option's letter from the given choices directly."
UCIT_DIR = "instructions"

CAPTION = "Please give a brief description of the image."
# Test images' reference captions (UCIT's val_coco_type_3000.json: image_id i + 1 is row i of test_3000.json).
CAPTION_REFERENCES = {
    "vizwiz_caption": [["a can of chicken soup on a kitchen counter", "a red and white soup can",
                        "a can of soup sitting on a counter top", "a soup can with a red label",
                        "a close up of a can of chicken noodle soup"],
                       ["a computer screen showing an error message", "a laptop screen with a dialog box",
                        "an error message on a monitor", "a blurry computer screen", "a screen with white text"]],
    "flickr30k": [["a dog runs through the snow", "a brown dog running in deep snow",
                   "a dog is playing in the snow", "a dog leaps through a snowy field", "a brown dog in the snow"]],
}

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
    "vizwiz_caption": FixtureTask(f"{UCIT_DIR}/VizWiz/train.json", f"{UCIT_DIR}/VizWiz/test_3000.json",
                                  [("VizWiz/train/VizWiz_train_00000001.jpg", CAPTION,
                                    "A bottle of shampoo on a bathroom shelf.")],
                                  [("VizWiz/val/VizWiz_val_00000007.jpg", CAPTION,
                                    CAPTION_REFERENCES["vizwiz_caption"][0][0]),
                                   ("VizWiz/val/VizWiz_val_00000019.jpg", CAPTION,
                                    CAPTION_REFERENCES["vizwiz_caption"][1][0])], "datasets", "datasets"),
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
    "flickr30k": FixtureTask(f"{UCIT_DIR}/Flickr30k/train_brief_4w.json", f"{UCIT_DIR}/Flickr30k/test_3000.json",
                             [("Flickr30k/train/1000092795.jpg", CAPTION, "Two young men stand in a yard."),
                              ("Flickr30k/train/1000092795.jpg", CAPTION, "Two friends talk outside a house.")],
                             [("Flickr30k/val/1007129816.jpg", CAPTION, CAPTION_REFERENCES["flickr30k"][0][0])],
                             "datasets", "datasets"),
}
UCIT_CAPTION_FILES = {"vizwiz_caption": f"{UCIT_DIR}/VizWiz/val_coco_type_3000.json",
                      "flickr30k": f"{UCIT_DIR}/Flickr30k/val_coco_type_3000.json"}
UCIT_VERIFIABLE = [name for name in UCIT if name not in UCIT_CAPTION_FILES]


def write_ucit(root: Path, tasks: dict[str, FixtureTask] = UCIT) -> Path:
    """The UCIT release: instruction files, images, and each caption task's COCO reference file."""
    write_release(root, tasks)
    for name, file in UCIT_CAPTION_FILES.items():
        if name not in tasks:
            continue
        rows = tasks[name].eval
        images = [{"id": i + 1, "file_name": Path(r[0]).name} for i, r in enumerate(rows)]
        captions = [c for i in range(len(rows)) for c in CAPTION_REFERENCES[name][i]]
        image_ids = [i + 1 for i in range(len(rows)) for _ in CAPTION_REFERENCES[name][i]]
        annotations = [{"id": k + 1, "image_id": image_id, "caption": caption}
                       for k, (image_id, caption) in enumerate(zip(image_ids, captions, strict=True))]
        (root / file).write_text(json.dumps({"images": images, "annotations": annotations}, indent=1))
    return root


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
    # MMT-Bench GUI questions: the test file carries no answer (scored on the evaluation server).
    "gui": FixtureTask("App/train.json", "APP_test/test.json",
                       [("images/aitz_0.png", "You are asked to open the settings. Which action comes next?\nA. tap "
                         "the gear icon\nB. scroll down\nC. press back", "A")],
                       [("images/ALL_5.png", "Which element should be clicked to search?\nA. the magnifier\n"
                         "B. the menu", None)], "App", "APP_test", id_key="question_id"),
}
ABILITY_VERIFIABLE = [name for name in ABILITY if name != "gui"]
