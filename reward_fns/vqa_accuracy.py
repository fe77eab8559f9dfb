"""VQAv2 accuracy: the official metric and answer normalization of the VQA evaluation toolkit.

Source of the definition: GT-Vision-Lab/VQA, ``PythonEvaluationTools/vqaEvaluation/vqaEval.py`` (Agrawal et al.).
Re-implemented here (no maintained package ships it) with the toolkit's behaviour kept, quirks included, so that
scores match published VQAv2 numbers.
"""

from __future__ import annotations

import re

from reward_fns.parsing import answer_span
from reward_fns.registry import register_reward


CONTRACTIONS = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
    "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't",
    "dont": "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't",
    "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's", "howd": "how'd",
    "howll": "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm", "Ive": "I've",
    "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll", "let's": "let's",
    "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've", "mightn'tve": "mightn't've",
    "mightve": "might've", "mustnt": "mustn't", "mustve": "must've", "neednt": "needn't", "notve": "not've",
    "oclock": "o'clock", "oughtnt": "oughtn't", "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at",
    "shant": "shan't", "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's", "shouldve": "should've",
    "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've",
    "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've",
    "somebodyll": "somebody'll", "somebodys": "somebody's", "someoned": "someone'd", "someoned've": "someone'd've",
    "someone'dve": "someone'd've", "someonell": "someone'll", "someones": "someone's", "somethingd": "something'd",
    "somethingd've": "something'd've", "something'dve": "something'd've", "somethingll": "something'll",
    "thats": "that's", "thered": "there'd", "thered've": "there'd've", "there'dve": "there'd've",
    "therere": "there're", "theres": "there's", "theyd": "they'd", "theyd've": "they'd've", "they'dve": "they'd've",
    "theyll": "they'll", "theyre": "they're", "theyve": "they've", "twas": "'twas", "wasnt": "wasn't",
    "wed've": "we'd've", "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll",
    "whatre": "what're", "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd",
    "wheres": "where's", "whereve": "where've", "whod": "who'd", "whod've": "who'd've", "who'dve": "who'd've",
    "wholl": "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll", "whyre": "why're", "whys": "why's",
    "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't", "wouldnt've": "wouldn't've",
    "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll", "y'allll": "y'all'll",
    "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've", "youd": "you'd",
    "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll", "youre": "you're", "youve": "you've",
}
NUMBER_WORDS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
ARTICLES = {"a", "an", "the"}
PUNCTUATION = [";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?",
               "!"]
# The toolkit's pattern is "(?!<=\d)(\.)(?!\d)": its first group is a lookahead that can never match at a ".", so the
# effective rule is "drop a period not followed by a digit". It passes re.UNICODE (= 32) as `count`: at most 32 go.
_PERIOD = re.compile(r"\.(?!\d)")
_PERIOD_COUNT = int(re.UNICODE)
_COMMA_NUMBER = re.compile(r"(\d)(,)(\d)")


def process_punctuation(text: str) -> str:
    """The toolkit's ``processPunctuation``: punctuation next to a space (or any text with a 1,000-style number)
    is dropped, other punctuation becomes a space; periods not followed by a digit are dropped.

    >>> [process_punctuation(s) for s in ["yes!", "black/white", "black / white", "1,000", "3.5", "end."]]
    ['yes ', 'black white', 'black  white', '1000', '3.5', 'end']
    """
    out = text
    strip_all = _COMMA_NUMBER.search(text) is not None
    for p in PUNCTUATION:
        out = out.replace(p, "" if strip_all or (p + " " in text or " " + p in text) else " ")
    return _PERIOD.sub("", out, count=_PERIOD_COUNT)


def process_digit_article(text: str) -> str:
    """The toolkit's ``processDigitArticle``: lower case, number words → digits, articles dropped, contractions fixed.

    >>> process_digit_article("The Two dogs dont")
    "2 dogs don't"
    """
    words = [NUMBER_WORDS.get(w, w) for w in text.lower().split()]
    return " ".join(CONTRACTIONS.get(w, w) for w in words if w not in ARTICLES)


def normalize_prediction(text: str) -> str:
    return process_digit_article(process_punctuation(text.replace("\n", " ").replace("\t", " ").strip()))


def _human_answers(truth) -> list[str]:
    if isinstance(truth, (list, tuple)):
        return [str(a.get("answer", "")) if isinstance(a, dict) else str(a) for a in truth]
    return [str(truth)]


def vqa_score(prediction: str, human_answers: list[str]) -> float:
    """Accuracy of one prediction against the human answers: the mean, over each human answer left out in turn, of
    min(1, #other humans who gave the prediction / 3). With one reference answer (not VQAv2's ten), both sides are
    fully normalised and compared exactly.

    >>> vqa_score("two", ["2"] * 3 + ["3"] * 7), vqa_score("2", ["2"] * 2 + ["3"] * 8)
    (0.9, 0.6)
    """
    predicted = normalize_prediction(prediction)
    if len(human_answers) < 2:
        return float(bool(human_answers) and predicted == normalize_prediction(human_answers[0]))
    if len(set(human_answers)) > 1:  # the toolkit punctuation-normalises references only when humans disagree
        human_answers = [process_punctuation(a) for a in human_answers]
    matches = sum(a == predicted for a in human_answers)
    n = len(human_answers)
    # For a reference equal to the prediction the others hold matches − 1 matches, else all `matches` of them.
    return (matches * min(1.0, (matches - 1) / 3) + (n - matches) * min(1.0, matches / 3)) / n


@register_reward("vqa_accuracy")
def vqa_accuracy(completions: list, answer: list, **kwargs) -> list[float]:
    """Official VQAv2 accuracy of the ``<answer>`` span; ``answer`` holds the 10 human answers (strings or VQAv2's
    ``{"answer": ...}`` dicts), or one string.

    >>> vqa_accuracy(["<answer>Two.</answer>", "two"], answer=[["2"] * 10, ["2"] * 10])
    [1.0, 0.0]
    """
    scores = []
    for completion, truth in zip(completions, answer, strict=True):
        span = answer_span(completion)
        scores.append(0.0 if span is None else vqa_score(span, _human_answers(truth)))
    return scores
