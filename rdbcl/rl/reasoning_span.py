"""Which tokens of a completion are its reasoning, its answer, or all of it (DESIGN §2: RP over the reasoning span).

Completions follow ``<think>…</think><answer>…</answer>``. Spans are found on the decoded text and mapped back to
tokens by their character ranges, so any tokenizer works (a tag split over several tokens, or merged with a
neighbouring word, still bounds its span). Model output is untrusted: no block gives an empty span, a block the
model did not close (a truncated rollout) runs to the end of the completion. Hand-written: neither TRL nor
transformers marks spans of a generated completion.
"""

from __future__ import annotations

import torch


SPANS = ("completion", "reasoning", "answer")
_TAGS = {"reasoning": ("<think>", "</think>"), "answer": ("<answer>", "</answer>")}


def span_range(text: str, span: str) -> tuple[int, int] | None:
    """Character range ``[start, end)`` of ``span`` in ``text``: the content between the tags (tags excluded);
    for ``reasoning`` the first think block, for ``answer`` the last answer block (the graded one); None without one.

    >>> span_range("<think>3+4</think><answer>7</answer>", "reasoning"), span_range("<think>3+4", "reasoning")
    ((7, 10), (7, 10))
    >>> span_range("<think>a</think><answer>7</answer>", "answer"), span_range("7", "reasoning")
    ((24, 25), None)
    """
    if span == "completion":
        return 0, len(text)
    if span not in _TAGS:
        raise ValueError(f"rp_span: must be one of {SPANS}, got {span!r}.")
    open_tag, close_tag = _TAGS[span]
    at = text.find(open_tag) if span == "reasoning" else text.rfind(open_tag)
    if at < 0:
        return None
    start = at + len(open_tag)
    end = text.find(close_tag, start)
    return start, len(text) if end < 0 else end


def span_token_mask(token_texts: list[list[str]], span: str) -> torch.Tensor:
    """(N, T) 1 on the tokens whose text overlaps the row's span, from each row's per-token texts (padded rows hold
    empty strings past their end, which never overlap).

    >>> span_token_mask([["<think>", "3", "+4", "</think>", "<answer>", "7", "</answer>"]], "reasoning").tolist()
    [[0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]]
    >>> span_token_mask([["<ans", "wer>7", "</answer>", ""]], "answer").tolist()
    [[0.0, 1.0, 0.0, 0.0]]
    """
    width = max((len(row) for row in token_texts), default=0)
    mask = torch.zeros(len(token_texts), width)
    for i, pieces in enumerate(token_texts):
        found = span_range("".join(pieces), span)
        if found is None:
            continue
        start, end, position = found[0], found[1], 0
        for j, piece in enumerate(pieces):
            a, b = position, position + len(piece)
            position = b
            if b > a and a < end and b > start:
                mask[i, j] = 1.0
    return mask


def reasoning_prefix(text: str, fraction: float) -> str:
    """The completion up to ``fraction`` of its reasoning (the first think block's content), cut back to the end of
    the last whole word, for the anchor to continue (``prefix_transfer``); ``""`` without a think block (the anchor
    starts afresh).

    Whole words because a BPE tokenizer writes a space with the word after it: a prefix ending in a space or in half
    a word is a token sequence the anchor never wrote, and it does not continue it as it would its own reasoning
    (cut at a character, π₀ of the reasoning testbed continued "The digits are 3 " with ".</think><answer>0,"
    on nearly every row, so almost every RP was 0).

    >>> reasoning_prefix("<think>ab cd ef</think><answer>x</answer>", 0.5), reasoning_prefix("x", 0.5)
    ('<think>ab', '')
    """
    found = span_range(text, "reasoning")
    if found is None:
        return ""
    start, end = found
    cut = start + int(fraction * (end - start))
    if cut < end and not text[cut].isspace():  # inside a word: back to its start
        while cut > start and not text[cut - 1].isspace():
            cut -= 1
    return text[:start] + text[start:cut].rstrip()
