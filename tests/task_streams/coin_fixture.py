"""A miniature CoIN release: the LLaVA-style instruction files and image folders, in the released layout.

Rows follow the schema CoIN's loaders and evaluators read (train: ``id``, ``image``, ``conversations``; test:
``question_id``, ``image``, ``text``, ``answer`` or ``answer_bbox`` + ``size``), with question texts and answer
conventions as in the released files (per-task instruction suffixes, ScienceQA option layout, normalised boxes).
The rows are written for the tests, not copied from the dataset; images are small generated pictures.
"""

from __future__ import annotations

from pathlib import Path

from llava_fixture import FixtureTask, write_release


SUFFIX = "Answer the question using a single word or phrase."
LETTER = "Answer with the option's letter from the given choices directly."
INSTRUCTIONS = "playground/Instructions_Original"

# task dir → (eval file, [(image or None, question, answer)] for train, [...] for eval). ScienceQA mixes image and
# text-only questions, as the released ScienceQA does (a text-only row has no `image` key and no `<image>` tag).
TASKS = {
    "ScienceQA": ("test.json",
                  [("ScienceQA/images/train/1/image.png",
                    "Which of these states is farthest north?\nA. West Virginia\nB. Louisiana\nC. Arizona\n"
                    f"D. Oklahoma\n{LETTER}", "A"),
                   (None, "Which tense does the sentence use?\nMona will print her name with care.\n"
                          f"A. present tense\nB. future tense\nC. past tense\n{LETTER}", "B"),
                   ("ScienceQA/images/train/3/image.png",
                    "Identify the question that Tom's experiment can best answer.\nA. Do ping pong balls stop rolling "
                    "sooner after being launched from a 30° angle or a 45° angle?\nB. Do ping pong balls travel "
                    f"farther when launched from a 30° angle compared to a 45° angle?\n{LETTER}", "B"),
                   (None, "Which word would you find on a dictionary page with the following guide words?\n"
                          f"lamb - lid\nA. lazy\nB. lump\n{LETTER}", "A")],
                  [("ScienceQA/images/test/5/image.png",
                    f"Which animal's feet are also adapted for swimming?\nA. duck\nB. cat\n{LETTER}", "A"),
                   (None, f"What is the capital of Utah?\nA. Salt Lake City\nB. Denver\nC. Boise\n{LETTER}", "A"),
                   (None, f"Select the mammal.\nA. gray tree frog\nB. koala\nC. great white shark\n{LETTER}", "B"),
                   ("ScienceQA/images/test/8/image.png",
                    "Which property do these three objects have in common?\nA. sticky\nB. yellow\nC. stretchy\n"
                    f"{LETTER}", "B")]),
    "TextVQA": ("val.json",
                [("TextVQA/train_images/003a8ae2ef43b901.jpg", f"what is the brand of this camera?\n{SUFFIX}",
                  "dakota"),
                 ("TextVQA/train_images/0054c91397f2fe05.jpg", f"what does the sign say?\n{SUFFIX}", "stop")],
                [("TextVQA/train_images/00685bc495504d61.jpg", f"what number is on the bus?\n{SUFFIX}", "66")]),
    "ImageNet": ("test.json",
                 [("ImageNet_withlabel/train/n01514859/n01514859_1.JPEG",
                   f"What is the object in the image?\n{SUFFIX}", "hen")],
                 [("ImageNet_withlabel/val/ILSVRC2012_val_00000293.JPEG",
                   f"What is the object in the image?\n{SUFFIX}", "cock")]),
    "GQA": ("test.json",
            [("GQA/images/2354786.jpg", f"Is the sky dark?\n{SUFFIX}", "yes")],
            [("GQA/images/n288870.jpg", f"Do the shorts have dark color?\n{SUFFIX}", "yes")]),
    "VizWiz": ("val.json",
               [("VizWiz/train/VizWiz_train_00000000.jpg",
                 f"What's the name of this product?\nWhen the provided information is insufficient, respond with "
                 f"'Unanswerable'.\n{SUFFIX}", "basil leaves")],
               [("VizWiz/val/VizWiz_val_00000000.jpg",
                 f"Ok. There is another picture I hope it is a better one.\nWhen the provided information is "
                 f"insufficient, respond with 'Unanswerable'.\n{SUFFIX}", "unanswerable")]),
    "Grounding": ("test.json",
                  [("COCO2014/train2014/COCO_train2014_000000581857.jpg",
                    "Please provide the bounding box coordinate of the region this sentence describes: the lady with "
                    "the blue shirt", "[0.38, 0.49, 0.87, 0.78]")],
                  [("COCO2014/train2014/COCO_train2014_000000581839.jpg",
                    "Please provide the bounding box coordinate of the region this sentence describes: left zebra",
                    "[0.02, 0.21, 0.48, 0.93]")]),
    "VQAv2": ("val.json",
              [("COCO2014/train2014/COCO_train2014_000000458752.jpg", f"What is this photo taken looking through?\n"
                f"{SUFFIX}", "net")],
              [("COCO2014/val2014/COCO_val2014_000000262148.jpg", f"Where is he looking?\n{SUFFIX}", "down")]),
    "OCRVQA": ("test.json",
               [("OCR-VQA/images/000195850X.jpg", f"Who wrote this book?\n{SUFFIX}", "Dorothy Turner")],
               [("OCR-VQA/images/0001713353.jpg", f"What is the title of this book?\n{SUFFIX}",
                 "The Cat in the Hat")]),
}


def write_coin(root: Path) -> Path:
    """Write the miniature release under ``root`` and return it (the stream's ``--data_root``)."""
    tasks = {
        name: FixtureTask(f"{INSTRUCTIONS}/{name}/train.json", f"{INSTRUCTIONS}/{name}/{eval_file}", train, evaluation,
                          "cl_dataset", "cl_dataset", **({"answer_field": "answer_bbox", "extra": {"size": [32, 24]}}
                                                         if name == "Grounding" else {}))
        for name, (eval_file, train, evaluation) in TASKS.items()}
    return write_release(root, tasks)
