"""The lexical feature family: synonym swaps, tortured phrases and function-word garble, with their spans.

It needs no language model, so it is the fast path for large corpora. `score` gives the classifier one
feature row per paragraph; `flag` gives the spans those features rest on, for explanations.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from spindetect.features.garble import find_garble
from spindetect.features.ngram import highest_two
from spindetect.features.resources import NGramReference
from spindetect.features.span_odds import SpanOdds, SpanOddsWeights, lexical_span_inputs, two_most_likely
from spindetect.features.spans import FlaggedSpan
from spindetect.features.swap import MIN_HINT_GAIN, SwapTestResult, SynonymSwapTest
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.features.tortured import TorturedPhraseLexicon

# Bump when the features' definition changes, so cached feature rows are recomputed.
LEXICAL_FEATURE_VERSION = 6

LEXICAL_FEATURE_NAMES: tuple[str, ...] = (
    "lx_swap_gain_max",
    "lx_swap_gain_second",
    "lx_swap_gain_mean",
    "lx_swap_strong_count",
    "lx_swap_strong_share",
    "lx_swap_poor_fit_gain_max",
    "lx_tortured_phrase_count",
    "lx_garble_count",
    "lx_span_replaced_max",
    "lx_span_replaced_second",
)
# A swap gain this high (log10) is strong evidence by itself.
STRONG_SWAP_GAIN = 2.0
# A span whose window fits this much (log10) worse than its words' base rates fits poorly as written.
POOR_WINDOW_FIT = -0.5
# A tested span is flagged from this probability of replacement by the lexical span model (`span_odds`). On the
# spans of 355 clean and 351 spun synthetic validation paragraphs: 21% of replaced spans flagged, 89% of flags
# in spun paragraphs on replaced spans, 2.4 flags per 1000 words of clean text (the trigram gain alone, from 3:
# 10%, 71%, 6.1). Shown by the verdict in cascade mode, the flags then cover 37% of replaced words instead of
# 27% (clean text: 3.1 flags per 1000 words instead of 2.6); in full mode, beside the language model's, 43%
# instead of 42% (3.2 instead of 2.8).
MIN_LEXICAL_REPLACED_FLAG = 0.6


def likely_replacement_flags(text: str, swaps: Sequence[SwapTestResult], replaced: np.ndarray) -> list[FlaggedSpan]:
    """`synonym_swap` flags for the tested spans whose probability of replacement reaches
    `MIN_LEXICAL_REPLACED_FLAG` (strength: the probability), with the best candidate where it fits 10x better."""
    return [
        FlaggedSpan(
            swap.start,
            swap.end,
            text[swap.start : swap.end],
            "synonym_swap",
            float(probability),
            swap.suggestion if swap.gain >= MIN_HINT_GAIN else None,
        )
        for swap, probability in zip(swaps, replaced, strict=True)
        if probability >= MIN_LEXICAL_REPLACED_FLAG
    ]


def paragraph_lexical_features(
    swaps: Sequence[SwapTestResult],
    tortured: Sequence[FlaggedSpan],
    garble: Sequence[FlaggedSpan],
    replaced_probabilities: np.ndarray,
) -> np.ndarray:
    """Aggregate one paragraph's swap tests, matches and the probability of each tested span that it was
    replaced (`span_odds`, lexical signs only) into the `LEXICAL_FEATURE_NAMES` vector."""
    gains = np.array([result.gain for result in swaps])
    poor_fit_gains = np.array([result.gain for result in swaps if result.fit <= POOR_WINDOW_FIT])
    highest, second = highest_two(gains)
    strong = int(np.sum(gains >= STRONG_SWAP_GAIN))
    return np.array(
        [
            highest,
            second,
            float(np.mean(np.maximum(gains, 0.0))) if gains.size else 0.0,
            math.log1p(strong),
            strong / gains.size if gains.size else 0.0,
            float(poor_fit_gains.max()) if poor_fit_gains.size else 0.0,
            math.log1p(len(tortured)),
            math.log1p(len(garble)),
            *two_most_likely(replaced_probabilities),
        ],
        dtype=np.float64,
    )


def scoring_lexicon(reference: NGramReference) -> TorturedPhraseLexicon:
    """The packaged tortured-phrase list as the scorers look for it: without the phrases `reference` knows as
    ordinary English (see `TorturedPhraseLexicon.load`)."""
    return TorturedPhraseLexicon.load(common_english=reference.knows_sequence)


class LexicalScorer:
    """Scores texts with the lexical signals; `score(texts)` gives one feature row per text."""

    feature_names = LEXICAL_FEATURE_NAMES

    def __init__(
        self,
        reference: NGramReference,
        swap_test: SynonymSwapTest,
        lexicon: TorturedPhraseLexicon,
        span_odds: SpanOdds | None = None,
    ) -> None:
        self.reference = reference
        self.swap_test = swap_test
        self.lexicon = lexicon
        # How likely each tested span is to be a replacement, from its lexical signs (packaged weights by default).
        self.span_odds = span_odds or SpanOddsWeights.load().lexical

    @classmethod
    def load(cls, reference: NGramReference, thesaurus: MobyThesaurus | None = None) -> LexicalScorer:
        """With the packaged thesaurus and tortured-phrase lexicon."""
        swap_test = SynonymSwapTest(reference, thesaurus or MobyThesaurus.load())
        return cls(reference, swap_test, scoring_lexicon(reference))

    @property
    def cache_key(self) -> str:
        return f"lexical-v{LEXICAL_FEATURE_VERSION}-odds{self.span_odds.fingerprint}"

    @property
    def definition(self) -> str:
        return self.cache_key

    def score(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        return self.score_and_flag(texts, progress)[0]

    def score_and_flag(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> tuple[np.ndarray, list[list[FlaggedSpan]]]:
        """The feature matrix, and for each text its flagged spans plus suggestion hints (see `merge_flags`)."""
        rows, flags = [], []
        for text in texts:
            swaps = self.swap_test.test(text)
            tortured = self.lexicon.find(text)
            garble = find_garble(text, self.reference)
            replaced = self.span_odds.probability(lexical_span_inputs(text, swaps, self.reference.unigram))
            rows.append(paragraph_lexical_features(swaps, tortured, garble, replaced))
            likely = likely_replacement_flags(text, swaps, replaced)
            flags.append([*tortured, *garble, *self.swap_test.flags(text, swaps), *likely])
            if progress is not None:
                progress(1)
        return (np.vstack(rows) if rows else np.zeros((0, len(LEXICAL_FEATURE_NAMES)))), flags
