"""CIDEr-D, the caption metric of UCIT's VizWiz-Caption and Flickr30k tasks, as a per-sample score in [0, 1].

Definition: Vedantam et al., "CIDEr: Consensus-based Image Description Evaluation", CVPR 2015 (arXiv:1411.5726), in
the CIDEr-D form of the COCO caption evaluation code that UCIT's ``eval_caption.py`` runs (``pycocoevalcap`` 1.2,
``cider/cider_scorer.py``): n-grams n = 1..4 weighted by tf-idf, idf = log(N) − log(max(1, df)) with df the number of
images whose references contain the n-gram and N the number of images of the reference corpus; per n the cosine of
hypothesis and reference vectors with the hypothesis counts clipped to the reference's; a Gaussian length penalty
(σ = 6, lengths counted as pycocoevalcap counts them: bigrams); mean over n, mean over references, × 10. Each image's
score lies in [0, 10] and the corpus CIDEr-D is the mean of the image scores.

Score here: **CIDEr-D / 10** of the ``<answer>`` span (0 without one), so that a task's accuracy column (100 × the
mean score) reads the published CIDEr (× 100 convention) divided by 10: a published CIDEr of 65.3 reads 6.53.

Document frequencies are a statistic of the *whole* reference corpus. ``register_references`` (called by the
``llava_caption`` adapter with every row of a split's file, before any subsampling) records a split's corpus, and every
row whose references belong to a registered corpus is scored with that corpus's df and N — the same per-image value
pycocoevalcap gives when it scores the whole file, so the mean over all rows equals the official corpus CIDEr-D.
A subsample of rows (``n_eval``) is scored with the full file's df: an unbiased estimate of the full-file score, not
pycocoevalcap run on the subsample alone. Rows from no registered corpus (a direct call, a stream that does not use
the adapter) are scored against the df of the call's own references, exactly as ``Cider().compute_score`` on that
set — per-batch statistics, which is why the adapter registers corpora; a warning says so once.

Tokenisation: ``tokenizer="ptb"`` is pycocoevalcap's ``PTBTokenizer`` (Stanford PTBTokenizer, needs Java; one JVM per
call, ~0.4 s), the official one, used by the shipped streams' metric. ``"simple"`` (default, used by the training
reward) is a pure-Python re-creation of what that tokenizer and pycocoevalcap's punctuation filter do to captions —
lower case, punctuation and clitics split off, the same punctuation tokens dropped, brackets kept as ``-lrb-`` …
tokens (pycocoevalcap filters only their upper-case forms) — written here because no kept Python package reproduces
it; it can differ on rarer constructs (PTB's abbreviation and number rules).

The n-gram counting is pycocoevalcap's own ``precook``. Its ``CiderScorer`` computes df from the sentences it is
handed and takes no corpus statistics, so its scoring arithmetic is mirrored in ``_cider_d`` (bigram "length"
quirk kept); tests assert equality with ``Cider().compute_score``.
"""

from __future__ import annotations

import math
import re
import subprocess
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pycocoevalcap.cider.cider_scorer import precook

from reward_fns.parsing import answer_span
from reward_fns.registry import register_reward


TOKENIZERS = ("simple", "ptb")
N_GRAMS = 4
SIGMA = 6.0
# A caption longer than this is cut before tokenising, so that model output of any size costs bounded time. Exact
# in practice: with every reference thousands of tokens shorter, the length penalty exp(−Δ²/72) is 0.0 either way.
MAX_CHARS = 20_000

# pycocoevalcap's tokenizer/ptbtokenizer.py PUNCTUATIONS, as they appear after PTBTokenizer -lowerCase.
_DROPPED = {"''", "'", "``", "`", ".", "?", "!", ",", ":", "-", "--", "...", ";", '"'}  # PTB: " -> `` or ''
_BRACKETS = {"(": "-lrb-", ")": "-rrb-", "[": "-lsb-", "]": "-rsb-", "{": "-lcb-", "}": "-rcb-"}
_LEADING = "\"'`([{$#"
_TRAILING = "\"'`)]}.,;:?!%"
_CLITIC = re.compile(r"^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$|^(can)(not)$")
_ABBREVIATION = re.compile(r"^(?:(?:[^\W\d_]\.)+[^\W\d_]|mr|mrs|ms|dr|st|jr|sr|vs|etc|inc|co|ltd)$")  # keep "u.s."


def simple_tokenize(text: str) -> str:
    """Caption text as PTBTokenizer + pycocoevalcap's filter leave it: lower-case tokens joined by single spaces.

    >>> simple_tokenize('A man\\'s dog doesn\\'t run, fast! (on "the" beach) U.S. 3.5-inch $5 50%...')
    "a man 's dog does n't run fast -lrb- on the beach -rrb- u.s. 3.5-inch $ 5 50 %"
    """
    tokens: list[str] = []
    for word in re.sub("[\u2013\u2014]", " ", text[:MAX_CHARS].lower()).split():  # PTB splits dashes off
        head: list[str] = []
        while word and word[0] in _LEADING:
            head.append(_BRACKETS.get(word[0], word[0]))
            word = word[1:]
        tail: list[str] = []
        while word:
            if word.endswith("..."):
                tail.append("...")
                word = word[:-3]
            elif word[-1] == "." and _ABBREVIATION.match(word[:-1]):
                break
            elif word[-1] in _TRAILING:
                tail.append(_BRACKETS.get(word[-1], word[-1]))
                word = word[:-1]
            else:
                break
        middle = []
        if word:
            clitic = _CLITIC.match(word)
            middle = [g for g in clitic.groups() if g] if clitic else [word]
        tokens.extend(t for t in [*head, *middle, *reversed(tail)] if t not in _DROPPED)
    return " ".join(tokens)


def ptb_tokenize(texts: list[str]) -> list[str]:
    """pycocoevalcap's PTBTokenizer (Java) on each text, as COCOEvalCap runs it; one JVM for the whole list."""
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    # Java splits lines at \r too, and PTBTokenizer sends one caption per line: any whitespace run becomes a space.
    clean = [" ".join(t[:MAX_CHARS].replace("\x00", " ").split()) for t in texts]
    todo = [i for i, t in enumerate(clean) if t]
    out = [""] * len(texts)
    if not todo:
        return out
    try:
        tokenized = PTBTokenizer().tokenize({i: [{"caption": clean[i]}] for i in todo})
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeError("cider: tokenizer 'ptb' runs pycocoevalcap's PTBTokenizer, which needs Java (`java` on "
                           f"PATH): {exc}. Install a JRE or use `params: {{tokenizer: simple}}`.") from exc
    for i in todo:
        out[i] = tokenized[i][0]
    return out


def tokenize(texts: list[str], tokenizer: str) -> list[str]:
    if tokenizer == "ptb":
        return ptb_tokenize(texts)
    return [simple_tokenize(t) for t in texts]


@dataclass
class _Stats:
    """Corpus statistics under one tokenizer: df per n-gram, log N, and each reference set's cooked n-grams."""

    df: dict
    log_n: float
    cooked: dict[tuple[str, ...], list[dict]]


@dataclass
class ReferenceCorpus:
    """The reference sets of one split (one per image / row); statistics are computed per tokenizer on first use."""

    references: list[tuple[str, ...]]
    _stats: dict[str, _Stats] = field(default_factory=dict)

    def stats(self, tokenizer: str) -> _Stats:
        if tokenizer not in self._stats:
            flat = [r for refs in self.references for r in refs]
            tokens = iter(tokenize(flat, tokenizer))
            cooked = {refs: [precook(next(tokens), N_GRAMS) for _ in refs] for refs in self.references}
            df: dict = {}
            for refs in self.references:  # each image counts once per n-gram, as compute_doc_freq counts
                for ngram in {g for counts in cooked[refs] for g in counts}:
                    df[ngram] = df.get(ngram, 0.0) + 1.0
            self._stats[tokenizer] = _Stats(df, math.log(float(len(self.references))), cooked)
        return self._stats[tokenizer]


_CORPUS_OF: dict[tuple[str, ...], ReferenceCorpus] = {}
_warned = False


def references_of(truth) -> tuple[str, ...]:
    """A row's references as a tuple of strings (one caption or a list of them)."""
    values = truth if isinstance(truth, (list, tuple)) else [truth]
    return tuple(str(v) for v in values)


def register_references(references: Iterable[Sequence[str] | str]) -> ReferenceCorpus:
    """Record a split's reference corpus (every row of its file): its rows are then scored with its df and N.

    A reference set already registered (the same captions in another split) is scored with the corpus registered
    last; the caption adapter loads a task's eval split after its train split, so the metric sees the eval corpus.
    """
    corpus = ReferenceCorpus([references_of(r) for r in references])
    for refs in corpus.references:
        _CORPUS_OF[refs] = corpus
    return corpus


def _vector(counts: dict, stats_df: dict, log_n: float) -> tuple[list[dict], list[float], int]:
    vec: list[dict] = [{} for _ in range(N_GRAMS)]
    norm = [0.0] * N_GRAMS
    length = 0
    for ngram, term_freq in counts.items():
        k = len(ngram) - 1
        weight = float(term_freq) * (log_n - math.log(max(1.0, stats_df.get(ngram, 0.0))))
        vec[k][ngram] = weight
        norm[k] += weight * weight
        if k == 1:  # pycocoevalcap's `if n == 1: length += term_freq` counts bigrams, kept for equal scores
            length += term_freq
    return vec, [math.sqrt(x) for x in norm], length


def _cider_d(hypothesis: dict, references: list[dict], stats_df: dict, log_n: float) -> float:
    """One image's CIDEr-D in [0, 10] (cider_scorer.compute_cider's arithmetic)."""
    vec, norm, length = _vector(hypothesis, stats_df, log_n)
    total = 0.0
    for ref in references:
        vec_ref, norm_ref, length_ref = _vector(ref, stats_df, log_n)
        penalty = math.exp(-(float(length - length_ref) ** 2) / (2 * SIGMA ** 2))
        for k in range(N_GRAMS):
            val = sum(min(w, vec_ref[k].get(g, 0.0)) * vec_ref[k].get(g, 0.0) for g, w in vec[k].items())
            if norm[k] != 0 and norm_ref[k] != 0:
                val /= norm[k] * norm_ref[k]
            total += val * penalty
    return 10.0 * total / N_GRAMS / len(references)


def cider_d_scores(hypotheses: list[str | None], references: list, tokenizer: str = "simple") -> list[float]:
    """Per-sample CIDEr-D in [0, 10]; None (no answer) scores 0. df and N from each row's registered corpus, or from
    the references of this call when a row's corpus is not registered."""
    global _warned
    _check_params(tokenizer)
    refs = [references_of(r) for r in references]
    unregistered = [r for r in refs if r not in _CORPUS_OF]
    local = ReferenceCorpus(list(dict.fromkeys(unregistered))) if unregistered else None
    if local is not None and not _warned:
        _warned = True
        warnings.warn("cider: references not registered with reward_fns.caption.register_references are scored with "
                      "the document frequencies of the call's own references (per batch), not of their corpus.",
                      stacklevel=3)
    texts = [h if isinstance(h, str) else "" for h in hypotheses]
    tokens = tokenize(texts, tokenizer)
    scores = []
    for hyp, text, row_refs in zip(hypotheses, tokens, refs, strict=True):
        if hyp is None or not row_refs:
            scores.append(0.0)
            continue
        stats = (_CORPUS_OF.get(row_refs) or local).stats(tokenizer)
        scores.append(_cider_d(precook(text, N_GRAMS), stats.cooked[row_refs], stats.df, stats.log_n))
    return scores


def _check_params(tokenizer: str = "simple", **_) -> None:
    if tokenizer not in TOKENIZERS:
        raise ValueError(f"cider: tokenizer must be one of {TOKENIZERS}, got {tokenizer!r}.")


@register_reward("cider")
def cider(completions: list, answer: list, tokenizer: str = "simple", **kwargs) -> list[float]:
    """CIDEr-D / 10 (in [0, 1]) of the ``<answer>`` span against the row's reference captions; dense, not verifiable.

    >>> refs = [["a dog runs on the grass"], ["a red car parked on a street"]]
    >>> register_references(refs) and None
    >>> [round(s, 4) for s in cider(["<answer>A dog runs on the grass.</answer>", "no tags"], answer=refs)]
    [1.0, 0.0]
    """
    return [s / 10.0 for s in cider_d_scores([answer_span(c) for c in completions], answer, tokenizer)]


cider.verifiable = False  # a dense similarity score: task_streams marks tasks scored by it as not verifiable
cider.check_params = _check_params
