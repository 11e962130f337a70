"""The language model as a second judge of the synonym-swap test: which candidate was the original, and
which tested spans to flag.

The swap test ranks a span's candidates with a trigram model, which sees two words back and the two words
after. The language model sees the whole paragraph before the span: at the span's first token it gives a
probability to every word of its vocabulary, so each candidate that is one token there ("came" for "got
here") is judged for free. A candidate's combined gain adds the two: its calibrated trigram gain and how
much likelier the language model finds it than the span as written (both log10), the trigram's at half
weight. On 133 thesaurus-spun words of synthetic validation paragraphs the combined gain named the original
for 31, the trigram model alone for 16 (weights 0 and 0.5 tied; 1: 28, 2: 23). The best combined gains of a
paragraph are also two of its language-model features (`perplexity.paragraph_lm_features`).

A span is flagged where the probability that it was replaced (`span_odds`, from all its signs: both
references' gains, its misfit, the next word's, how common its words are) is high, where its swap evidence
(`perplexity.swap_evidence`: the references' gain and misfit, summed by hand) is strong, or where both
references prefer the same candidate by far (its combined gain). The span model was fitted on our own
spinner's output and flags more of its swaps; the evidence and the combined gain also catch swaps of the other
spinners whose output we have seen, which the span model misses more often. Flags are tentative (see
`spans.shown_flags`): shown where the paragraph is judged spun, as the words the verdict rests on, and in
other paragraphs only when they are overwhelming (strength 0.9).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from spindetect.features.spans import SUGGESTION_HINT, FlaggedSpan
from spindetect.features.swap import FULL_STRENGTH_GAIN, MIN_HINT_GAIN, SwapTestResult

_LOG2_10 = math.log2(10.0)
# A tested span is flagged from this probability of replacement, or from this swap evidence (log10 gain plus
# bits of misfit), or from this combined gain of its best candidate (log10, as the trigram test's
# `swap.MIN_FLAG_GAIN`); its strength is the highest of the probability, the evidence over FULL_STRENGTH_EVIDENCE
# and the combined gain over FULL_STRENGTH_COMBINED (each full at twice its flagging level).
# On 200 spun and 200 clean synthetic validation paragraphs, flags shown by the verdict: the evidence alone
# covered 37% of the replaced words (94% of flags in spun paragraphs on replaced words, 2.2 flags per 1000
# words of clean text); the probability alone 39% (96%, 1.5); both 42% (95%, 2.8). With the wider candidate
# lists (JUDGED_CANDIDATES) and the model retrained on them: both 44% (94%, 3.1), all three 46% (94%, 3.5;
# the combined gain from 3.5: 47%, 94%, 3.9). The combined gain catches the rarer words a spinner swaps in,
# which the span model, fitted on a spinner of common words, rates low ("abode" for "home").
MIN_REPLACED_FLAG = 0.6
MIN_EVIDENCE_FLAG = 5.0
FULL_STRENGTH_EVIDENCE = 10.0
MIN_COMBINED_FLAG = 4.0
FULL_STRENGTH_COMBINED = 8.0
# Weight of the trigram gain beside the language model's in a candidate's combined gain (see above).
TRIGRAM_WEIGHT = 0.5
# The language model judges a span's candidates nearly for free, so its swap test weighs more of them than the
# lexical family's (`swap.MAX_CANDIDATES`): the original is often a common word that is still not among the 30
# most frequent. On 987 thesaurus-spun words of synthetic validation paragraphs, the original was among the
# candidates for 562 with 30, 856 with 120 (921 with 200), and the combined gain named it for 377 and 476 (484).
# The trigram chains of the extra candidates make the swap test about 2.5 times slower; full-mode scoring went
# from 8.3 to 8.0 paragraphs/s (benchmarks/bench_cascade.py, same session).
JUDGED_CANDIDATES = 120


@dataclass(frozen=True)
class CandidateProbes:
    """The swap candidates of one text the language model can judge: each is one token in place of a tested
    span's first token. One entry per (span, candidate) pair, as parallel arrays."""

    swaps: np.ndarray  # index of the tested span among the text's swap results
    candidates: np.ndarray  # index of the candidate among that span's `candidates`
    tokens: np.ndarray  # index of the span's first token among the text's tokens
    token_ids: np.ndarray  # the candidate, written as that token (with its leading space)


class CandidateTokens:
    """Which of a span's candidates are one token where they would stand, and their ids.

    Cached: a corpus repeats the same words, so the same candidate lists recur with the same leading space.
    """

    def __init__(self, single_token: Callable[[str], int | None]) -> None:
        """`single_token(written)`: the token id of `written` if it is one token, else None."""
        self._single_token = single_token
        self.one_token = lru_cache(maxsize=100_000)(self._one_token)

    def _one_token(self, prefix: str, capitalised: bool, candidates: tuple[str, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Positions in `candidates` of those that are one token after `prefix`, and their token ids."""
        positions, token_ids = [], []
        for position, candidate in enumerate(candidates):
            token_id = self._single_token(prefix + (candidate[:1].upper() + candidate[1:] if capitalised else candidate))
            if token_id is not None:
                positions.append(position)
                token_ids.append(token_id)
        return tuple(positions), tuple(token_ids)


def candidate_probes(
    text: str,
    offsets: np.ndarray,
    swaps: Sequence[SwapTestResult],
    one_token: Callable[[str, bool, tuple[str, ...]], tuple[tuple[int, ...], tuple[int, ...]]],
) -> CandidateProbes:
    """The (span, candidate) pairs the language model can judge in `text`, tokenised with `offsets`.

    `one_token(prefix, capitalised, candidates)` gives the positions and token ids of the candidates that are
    one token when written after `prefix`, capitalised like the span (see `CandidateTokens`). A span is judged
    where its first token starts at the span or at the whitespace before it, and not at the very first token
    (which the model predicts from nothing).
    """
    swap_indices: list[int] = []
    positions: list[int] = []
    tokens: list[int] = []
    token_ids: list[int] = []
    if offsets.size and swaps:
        token_starts = offsets[:, 0]
        # The token covering each span's first character: the last one starting at or before it.
        covering = np.searchsorted(token_starts, [swap.start for swap in swaps], side="right") - 1
        for index, (swap, token) in enumerate(zip(swaps, covering.tolist(), strict=True)):
            if token <= 0 or offsets[token, 1] <= swap.start:
                continue
            prefix = text[token_starts[token] : swap.start]
            if prefix and not prefix.isspace():
                continue
            found, ids = one_token(prefix, text[swap.start].isupper(), tuple(candidate for candidate, _ in swap.candidates))
            swap_indices += [index] * len(found)
            positions += found
            tokens += [token] * len(found)
            token_ids += ids
    return CandidateProbes(*(np.array(values, dtype=np.int64) for values in (swap_indices, positions, tokens, token_ids)))


def span_bits(surprisal: np.ndarray, offsets: np.ndarray, start: int, end: int) -> float:
    """Surprisal (bits) of the tokens from the one covering `start` up to the last one starting before `end`."""
    first = np.flatnonzero((offsets[:, 0] <= start) & (offsets[:, 1] > start))
    if first.size == 0:
        return 0.0
    last = np.flatnonzero(offsets[:, 0] < end)[-1]
    return float(surprisal[first[0] : last + 1].sum())


def combined_suggestions(
    swaps: Sequence[SwapTestResult], probes: CandidateProbes, probe_surprisal: np.ndarray, written_bits: np.ndarray
) -> list[tuple[str, float] | None]:
    """Per swap result: the candidate with the highest combined gain (log10) and that gain, or None where the
    language model could judge no candidate. `written_bits`: each span's surprisal as written (`span_bits`)."""
    best: list[tuple[str, float] | None] = [None] * len(swaps)
    for index, first, last in _spans_probed(probes):
        swap = swaps[index]
        positions = probes.candidates[first:last]
        trigram = np.array([swap.candidates[position][1] for position in positions.tolist()])
        gains = TRIGRAM_WEIGHT * trigram + (written_bits[index] - probe_surprisal[first:last]) / _LOG2_10
        winner = int(np.argmax(gains))  # the first of equal gains
        best[index] = (swap.candidates[positions[winner]][0], float(gains[winner]))
    return best


def lm_candidate_gains(probes: CandidateProbes, probe_surprisal: np.ndarray, written_bits: np.ndarray) -> np.ndarray:
    """Per swap result (one `written_bits` each): how much likelier (log10) the language model finds its
    likeliest one-token candidate than the span as written; NaN where it could judge no candidate."""
    gains = np.full(written_bits.size, np.nan)
    for index, first, last in _spans_probed(probes):
        gains[index] = (written_bits[index] - probe_surprisal[first:last].min()) / _LOG2_10
    return gains


def _spans_probed(probes: CandidateProbes) -> list[tuple[int, int, int]]:
    """(span index, first probe, end of its probes) for each span with probes; they come grouped by span."""
    if probes.swaps.size == 0:
        return []
    indices, starts = np.unique(probes.swaps, return_index=True)
    ends = [*starts[1:].tolist(), probes.swaps.size]
    return list(zip(indices.tolist(), starts.tolist(), ends, strict=True))


def evidence_flags(
    text: str,
    swaps: Sequence[SwapTestResult],
    replaced: np.ndarray,
    suggestions: Sequence[tuple[str, float] | None],
    evidence: np.ndarray,
) -> list[FlaggedSpan]:
    """Spans whose probability of replacement (`span_odds`) reaches `MIN_REPLACED_FLAG`, whose swap evidence
    reaches `MIN_EVIDENCE_FLAG` or whose best combined gain reaches `MIN_COMBINED_FLAG`; and suggestion hints for
    spans whose best candidate fits at least 10x better by the combined gain (so other signals' flags on them
    can name it)."""
    spans = []
    for swap, probability, suggested, value in zip(swaps, replaced, suggestions, evidence, strict=True):
        combined = suggested[1] if suggested is not None else 0.0
        both_suggest = suggested is not None and combined >= MIN_HINT_GAIN
        if both_suggest:
            suggestion: str | None = suggested[0]
        else:
            suggestion = swap.suggestion if swap.gain >= MIN_HINT_GAIN else None
        if probability >= MIN_REPLACED_FLAG or value >= MIN_EVIDENCE_FLAG or combined >= MIN_COMBINED_FLAG:
            strength = float(
                max(probability, min(1.0, value / FULL_STRENGTH_EVIDENCE), min(1.0, combined / FULL_STRENGTH_COMBINED))
            )
            spans.append(
                FlaggedSpan(swap.start, swap.end, text[swap.start : swap.end], "swap_evidence", strength, suggestion)
            )
        elif both_suggest:
            # On the trigram hints' scale: where the language model agrees, the combined gain outranks the trigram's.
            strength = float(min(1.0, combined / FULL_STRENGTH_GAIN))
            spans.append(FlaggedSpan(swap.start, swap.end, text[swap.start : swap.end], SUGGESTION_HINT, strength, suggestion))
    return spans
