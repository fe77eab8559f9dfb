"""Format reward, R1-style: one non-empty ``<think>…</think>``, then one non-empty ``<answer>…</answer>``.

The format reward of DeepSeek-R1 (Guo et al. 2025, arXiv:2501.12948, §2.2.2: reasoning between ``<think>`` and
``</think>``, as open-r1's ``format_reward`` also checks), with the tags exactly as the system prompts write them
(lower-case), nothing but whitespace around the two blocks, and no nested, repeated or differently-cased
think/answer tag inside them. Hand-written because TRL's ``think_format_reward`` checks the think block only (and
accepts anything after it). ``think="optional"`` is for streams whose prompt does not ask for reasoning: the think
block may then be absent, but when present it must be well formed.

Both spans must hold more than whitespace. An empty think block is not reasoning, and an empty answer leaves the
accuracy reward nothing to grade: crediting either would pay the policy for the cheapest output that looks right.
(Answer *extraction* for the accuracy rewards, ``parsing.extract_answer``, stays lenient about case and stray tags:
grading what the model answered is a different question from whether it kept the format.)
"""

from __future__ import annotations

from reward_fns.parsing import FORMAT_TAG_RE, completion_text
from reward_fns.registry import register_reward


THINK = ("required", "optional")


def well_formed(text: str, think: str = "required") -> bool:
    """Whether ``text`` is laid out as the format asks (see the module docstring).

    >>> [well_formed(t) for t in ["<think>2+2</think> <answer>4</answer>", "<answer>4</answer>",
    ...                           "<think> </think><answer>4</answer>", "<THINK>2+2</THINK><answer>4</answer>"]]
    [True, False, False, False]
    >>> well_formed("<answer>4</answer>", think="optional")
    True
    """
    # Plain string scans (no backtracking regex): this runs on every completion of every step.
    text = text.strip()
    spans = []
    if text.startswith("<think>"):
        end = text.find("</think>")
        if end < 0:
            return False
        spans.append(text[len("<think>"):end])
        text = text[end + len("</think>"):].lstrip()
    elif think != "optional":
        return False
    if not (text.startswith("<answer>") and text.endswith("</answer>")):
        return False
    spans.append(text[len("<answer>"):-len("</answer>")])
    # each span holds more than whitespace and no think/answer tag of any case (nested, repeated, upper-case)
    return all(span.strip() and FORMAT_TAG_RE.search(span) is None for span in spans)


def check_params(think: str = "required", **_) -> None:
    """Refuse a ``think`` other than ``required``/``optional`` when a recipe binds it (see ``registry.get``)."""
    if think not in THINK:
        raise ValueError(f"format: think must be one of {THINK}, got {think!r}.")


@register_reward("format")
def format_reward(completions: list, think: str = "required", **kwargs) -> list[float]:
    """1.0 for a well-formed completion, else 0.0; ``think``: ``required`` (default) or ``optional``.

    >>> format_reward(["<think>red pixels</think><answer>red</answer>", "<answer>red</answer>", "red"])
    [1.0, 0.0, 0.0]
    >>> format_reward(["<answer>red</answer>"], think="optional")
    [1.0]
    """
    check_params(think)
    return [1.0 if well_formed(completion_text(c), think) else 0.0 for c in completions]


format_reward.check_params = check_params  # called by reward_fns.get when parameters are bound
