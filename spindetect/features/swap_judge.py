"""The language model as a second judge of the synonym-swap test: which candidate was the original, and
which tested spans to flag.

The swap test ranks a span's candidates with a trigram model, which sees two words back and the two words
after. The language model sees the whole paragraph before the span: at the span's first token it gives a
probability to every word of its vocabulary, so each candidate that is one token there ("came" for "got
here") is judged for free. A candidate's combined gain adds the two: its calibrated trigram gain and how
much likelier the language model finds it than the span as written (both log10), the trigram's at half
weight. On 133 thesaurus-spun words of synthetic validation paragraphs the combined gain named the original for
31, the trigram model alone for 16 (weights 0 and 0.5 tied; 1: 28, 2: 23).

Flags come from the swap evidence (`perplexity.swap_evidence`): where both references agree that a span
was replaced. They are tentative (see `spans.shown_flags`): shown where the paragraph is judged spun, as the
words the verdict rests on, and in other paragraphs only when the evidence is overwhelming.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from spindetect.features.spans import SUGGESTION_HINT, FlaggedSpan
from spindetect.features.swap import FULL_STRENGTH_GAIN, MIN_HINT_GAIN, SwapTestResult

_LOG2_10 = math.log2(10.0)
# Swap evidence (log10 gain plus bits of misfit) from which a span is flagged. With these flags, on 200 spun
# and 200 clean synthetic validation paragraphs, the flags cover 36% of the replaced words instead of 22%, 94%
# of flags in spun paragraphs still on replaced words; clean paragraphs get 4.9 flags per 1000 words instead
# of 3.5. On the spun seed article they cover 25 of the 40 substitutions listed in issue 3 (before: 14).
MIN_EVIDENCE_FLAG = 5.0
# Evidence at and above this is flagged at full strength (conclusive on its own).
FULL_STRENGTH_EVIDENCE = 10.0
# Weight of the trigram gain beside the language model's in a candidate's combined gain (see above).
TRIGRAM_WEIGHT = 0.5


@dataclass(frozen=True)
class CandidateProbe:
    """A swap candidate the language model can judge: one token in place of a tested span's first token."""

    swap: int  # index of the tested span among the text's swap results
    candidate: str
    token: int  # index of the span's first token among the text's tokens
    token_id: int  # the candidate, written as that token (with its leading space)


def candidate_probes(
    text: str,
    offsets: np.ndarray,
    swaps: Sequence[SwapTestResult],
    single_token: Callable[[str], int | None],
) -> list[CandidateProbe]:
    """The (span, candidate) pairs the language model can judge in `text`, tokenised with `offsets`.

    `single_token(written)` is the token id of `written` if it is one token, else None. A span is judged where
    its first token starts at the span or at the whitespace before it, and not at the very first token (which
    the model predicts from nothing).
    """
    if offsets.size == 0:
        return []
    token_starts, token_ends = offsets[:, 0], offsets[:, 1]
    probes = []
    for index, swap in enumerate(swaps):
        covering = np.flatnonzero((token_starts <= swap.start) & (token_ends > swap.start))
        if covering.size == 0 or covering[0] == 0:
            continue
        token = int(covering[0])
        prefix = text[token_starts[token] : swap.start]
        if prefix and not prefix.isspace():
            continue
        capitalised = text[swap.start].isupper()
        for candidate, _ in swap.candidates:
            written = prefix + (candidate[:1].upper() + candidate[1:] if capitalised else candidate)
            token_id = single_token(written)
            if token_id is not None:
                probes.append(CandidateProbe(index, candidate, token, token_id))
    return probes


def span_bits(surprisal: np.ndarray, offsets: np.ndarray, start: int, end: int) -> float:
    """Surprisal (bits) of the tokens from the one covering `start` up to the last one starting before `end`."""
    first = np.flatnonzero((offsets[:, 0] <= start) & (offsets[:, 1] > start))
    if first.size == 0:
        return 0.0
    last = np.flatnonzero(offsets[:, 0] < end)[-1]
    return float(surprisal[first[0] : last + 1].sum())


def combined_suggestions(
    swaps: Sequence[SwapTestResult],
    probes: Sequence[CandidateProbe],
    probe_surprisal: np.ndarray,
    surprisal: np.ndarray,
    offsets: np.ndarray,
) -> list[tuple[str, float] | None]:
    """Per swap result: the candidate with the highest combined gain (log10) and that gain, or None where the
    language model could judge no candidate."""
    trigram_gains = [dict(swap.candidates) for swap in swaps]
    span_surprisal: dict[int, float] = {}
    best: list[tuple[str, float] | None] = [None] * len(swaps)
    for probe, bits in zip(probes, probe_surprisal, strict=True):
        swap = swaps[probe.swap]
        if probe.swap not in span_surprisal:
            span_surprisal[probe.swap] = span_bits(surprisal, offsets, swap.start, swap.end)
        gain = TRIGRAM_WEIGHT * trigram_gains[probe.swap][probe.candidate] + (span_surprisal[probe.swap] - bits) / _LOG2_10
        current = best[probe.swap]
        if current is None or gain > current[1]:
            best[probe.swap] = (probe.candidate, gain)
    return best


def evidence_flags(
    text: str,
    swaps: Sequence[SwapTestResult],
    evidence: np.ndarray,
    suggestions: Sequence[tuple[str, float] | None],
) -> list[FlaggedSpan]:
    """Spans whose swap evidence reaches `MIN_EVIDENCE_FLAG`, and suggestion hints for spans whose best
    candidate fits at least 10x better by the combined gain (so other signals' flags on them can name it)."""
    spans = []
    for swap, value, suggested in zip(swaps, evidence, suggestions, strict=True):
        if suggested is not None and suggested[1] >= MIN_HINT_GAIN:
            suggestion: str | None = suggested[0]
        else:
            suggestion = swap.suggestion if swap.gain >= MIN_HINT_GAIN else None
        if value >= MIN_EVIDENCE_FLAG:
            strength = min(1.0, value / FULL_STRENGTH_EVIDENCE)
            spans.append(FlaggedSpan(swap.start, swap.end, text[swap.start : swap.end], "swap_evidence", strength, suggestion))
        elif suggested is not None and suggested[1] >= MIN_HINT_GAIN:
            # On the trigram hints' scale: where the language model agrees, the combined gain outranks the trigram's.
            strength = min(1.0, suggested[1] / FULL_STRENGTH_GAIN)
            spans.append(FlaggedSpan(swap.start, swap.end, text[swap.start : swap.end], SUGGESTION_HINT, strength, suggested[0]))
    return spans
