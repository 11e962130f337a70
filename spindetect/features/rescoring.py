"""The right-hand half of the swap test: a tested span read again with its best candidate in place.

The language model judges a span's candidates at the span's first token (`swap_judge`), so it sees only the
text before it; the trigram test sees two words either side. A word swapped in by a spinner often reads well
from the left and breaks the words after it ("the bank raised curiosity rates": "raised curiosity" reads well,
"curiosity rates" does not, where "interest rates" would). Reading the span's best candidate and the next few
tokens of its sentence after the paragraph before them, and comparing with the text as written, measures that:
the context gain. It costs a second, short pass of the language model (the paragraph's keys and values are
reused, so only the candidate and the tokens after it are run), so only a paragraph's few likeliest
replacements are read again.

In a prototype that read each whole sentence on its own with and without the candidate, the context gains of
a paragraph's three likeliest replacements, as four more features, took a classifier trained on half the
default model's training split from test ROC-AUC 0.939 to 0.954 (0.862 to 0.889 at a 5% spin rate, 0.945
to 0.958 at 15%). On the spans of 600 synthetic training texts (300 clean paragraphs and their spins), a
logistic model of which spans were replaced went from ROC-AUC 0.941 to 0.951 with the gain of the five
likeliest spans beside their probability of replacement (`span_odds`). As shipped (up to `FOLLOWING_TOKENS`
after the span, with the whole paragraph before it), the default model retrained with these features went
from test ROC-AUC 0.941 to 0.958 (0.874 to 0.897 at a 5% spin rate, 0.949 to 0.965 at 15%). Reading the
text's first word again had made one clean seed paragraph that opens with a long, rare word score 0.62;
without it, 0.35.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from spindetect.features.swap import SwapTestResult

_LOG2_10 = math.log2(10.0)
# Spans read again per paragraph: its likeliest replacements (by `span_odds`). Each has a feature of its own
# (`perplexity.LM_FEATURE_NAMES`: lm_context_gain_first to _third).
RESCORED_SPANS = 3
# Tokens after the span read in both versions, up to the end of its sentence: the words a misplaced one
# disturbs most are the next few. With 4, the default model retrained: test ROC-AUC 0.959 (0.958 with 8), but
# lower at every spin rate of the sweep (0.896 at 5%, 0.962 at 15%, against 0.897 and 0.965) and TPR at 1% FPR
# 0.666 (0.693); the language model's scoring was about 10% faster (best of three runs, 150 paragraphs).
FOLLOWING_TOKENS = 8


class TextSpan(Protocol):
    """Characters `start:end` of a text: a tested span of the swap test, or a function word (`function_swaps`)."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...


@dataclass(frozen=True)
class Continuation:
    """A span of a text read again with other words in its place (a tested span's candidate, or nothing where a
    word is deleted: `deletion`): the tokens that replace the text's from `first_token` on."""

    span: int  # which span: its index among the text's tested spans, or for a deletion among its scored words
    first_token: int  # index among the text's tokens of the span's first token
    written_tokens: int  # tokens of the text from `first_token` on that the comparison covers
    token_ids: tuple[int, ...]  # the candidate's tokens, then the same following tokens as written


def rescored_spans(
    probabilities: np.ndarray, swaps: Sequence[SwapTestResult], suggestions: Sequence[tuple[str, float] | None], limit: int
) -> list[tuple[int, str]]:
    """The `limit` spans likeliest to be replacements, each with the candidate to read in its place: the one both
    references prefer (`swap_judge.combined_suggestions`) or, where the language model could judge none, the
    trigram test's."""
    order = np.argsort(-probabilities, kind="stable")[:limit]
    return [(int(index), suggestions[index][0] if suggestions[index] else swaps[index].suggestion) for index in order]  # type: ignore[index]


def continuations(
    text: str,
    token_ids: Sequence[int],
    offsets: np.ndarray,
    swaps: Sequence[TextSpan],
    chosen: Sequence[tuple[int, str]],
    sentence_ends: Sequence[int],
    encode: Callable[[str], list[int]],
    following: int = FOLLOWING_TOKENS,
) -> list[Continuation]:
    """The continuations of the `chosen` (span index, candidate) pairs of `text`.

    `token_ids` and `offsets` are the text's scored tokens and their character spans; `sentence_ends` the
    character offsets where its sentences end, in order. A span is read again only where its tokens cover it
    exactly (its first token starts at the span or at the whitespace before it, its last one ends with it), so
    the tokens that follow are the same in both versions, and not at the text's first token. The candidate is
    capitalised like the span.
    """
    found = []
    starts, ends = offsets[:, 0], offsets[:, 1]
    for index, candidate in chosen:
        swap = swaps[index]
        # The token starting at the span, or else the one before it (which may carry the space before the span).
        first = int(np.searchsorted(starts, swap.start, side="left"))
        if first == len(starts) or starts[first] != swap.start:
            first -= 1
        after = int(np.searchsorted(starts, swap.end, side="left"))
        # The text's first token is predicted from the start token alone: what it costs says how common the word
        # is, not how it fits (a paragraph opening with a long, rare word would always prefer a short one).
        if first <= 0 or after <= first or ends[after - 1] != swap.end:
            continue
        prefix = text[starts[first] : swap.start]
        if prefix and not prefix.isspace():
            continue
        sentence_end = sentence_ends[min(int(np.searchsorted(sentence_ends, swap.end, side="left")), len(sentence_ends) - 1)]
        sentence_tokens_end = max(int(np.searchsorted(starts, sentence_end, side="left")), after)
        last = min(after + following, sentence_tokens_end, len(token_ids))
        written = candidate[:1].upper() + candidate[1:] if text[swap.start].isupper() else candidate
        replacement = encode(prefix + written)
        if not replacement:
            continue
        found.append(Continuation(index, first, last - first, (*replacement, *token_ids[after:last])))
    return found


def context_gains(written_surprisal: np.ndarray, found: Sequence[Continuation], surprisal: Sequence[np.ndarray]) -> dict[int, float]:
    """Per span read again: how much likelier (log10) the language model finds its candidate and the tokens
    after it than the text as written. `written_surprisal`: the text's token surprisal (bits); `surprisal`:
    each continuation's, token by token."""
    return {
        continuation.span: float(
            (
                written_surprisal[continuation.first_token : continuation.first_token + continuation.written_tokens].sum()
                - bits.sum()
            )
            / _LOG2_10
        )
        for continuation, bits in zip(found, surprisal, strict=True)
    }
