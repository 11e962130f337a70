"""Perplexity features: how surprised a small causal language model is by each token of a paragraph.

Spinners swap words for thesaurus neighbours that do not fit their context, so spun prose has more
surprising tokens, more tokens outside the model's top guesses (GLTR's rank buckets), and local bursts of
surprise. Texts are scored in length-sorted batches under a token budget, and logits are computed a chunk
of positions at a time so memory stays bounded by `logits_chunk_rows x vocabulary`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import torch
from transformers import DynamicCache

from spindetect.features.deletion import DELETION_FEATURE_NAMES, deletion_continuations, deletion_features, deletion_fits
from spindetect.features.function_swaps import (
    FUNCTION_SWAP_FEATURE_NAMES,
    FUNCTION_SWAP_VERSION,
    FunctionWord,
    FunctionWordCandidates,
    FunctionWordProbes,
    function_swap_features,
    function_swap_flags,
    word_gains,
    words_to_reread,
)
from spindetect.features.language_model import CausalLanguageModel
from spindetect.features.ngram import highest_two, lowest_two, word_spans
from spindetect.features.rescoring import RESCORED_SPANS, Continuation, context_gains, continuations, rescored_spans
from spindetect.features.spans import FlaggedSpan
from spindetect.features.span_odds import (
    SpanOdds,
    SpanOddsWeights,
    lexical_span_inputs,
    two_most_likely,
)
from spindetect.features.swap import SwapTestResult, SynonymSwapTest
from spindetect.features.swap_judge import (
    CandidateProbes,
    CandidateTokens,
    candidate_probes,
    combined_suggestions,
    evidence_flags,
    lm_candidate_gains,
    span_bits,
)
from spindetect.features.word_probe import (
    WORD_PROBE_FEATURE_NAMES,
    WordProbe,
    scored_words,
    word_flags,
    word_logits,
    word_probe_features,
)
from spindetect.segment import split_sentences

_LN2 = math.log(2.0)
# A token above this many bits of surprisal is a spike: the model gave it well under 1 chance in 4000.
SPIKE_BITS = 12.0
# Local bursts are measured as the mean surprisal over this many consecutive tokens.
WINDOW_TOKENS = 8
# A word is flagged when the model finds it this many bits less likely in its place than in general: on clean
# Brown and Wikipedia paragraphs 0.25% of words fall that low, a sense-blind swap far more often.
UNEXPECTED_WORD_BITS = -7.0
FULL_STRENGTH_BITS = 15.0

# Bump when the features' definition changes, so cached feature rows are recomputed.
LM_FEATURE_VERSION = 10

# Every language-model feature name starts with this (the cascade tells the slow features by it).
LM_FEATURE_PREFIX = "lm_"
LM_FEATURE_NAMES: tuple[str, ...] = (
    "lm_surprisal_mean",
    "lm_surprisal_median",
    "lm_surprisal_std",
    "lm_surprisal_p75",
    "lm_surprisal_p90",
    "lm_surprisal_max",
    "lm_entropy_mean",
    "lm_excess_surprisal_mean",
    "lm_rank_top10",
    "lm_rank_top100",
    "lm_rank_top1000",
    "lm_rank_beyond1000",
    "lm_spike_share",
    "lm_window_surprisal_max",
    "lm_window_surprisal_std",
    "lm_log_tokens",
    "lm_word_fit_mean",
    "lm_word_fit_p10",
    "lm_word_fit_min",
    "lm_word_fit_second_min",
    "lm_poor_word_fit_share",
    "lm_very_poor_word_fit_count",
    "lm_word_pair_fit_min",
    "lm_word_pair_fit_second_min",
    "lm_word_triple_fit_min",
    "lm_word_quad_fit_min",
    "lm_swap_evidence_max",
    "lm_swap_evidence_second",
    "lm_candidate_gain_max",
    "lm_candidate_gain_second",
    "lm_span_replaced_max",
    "lm_span_replaced_second",
    "lm_context_gain_max",
    "lm_context_gain_first",
    "lm_context_gain_second",
    "lm_context_gain_third",
)
_LOG2_10 = math.log2(10.0)
# Word fit below this many bits: the model finds the word 4x less likely here than in general text...
POOR_WORD_FIT_BITS = -2.0
# ... and 16x less likely: what a common word dropped into the wrong sense looks like.
VERY_POOR_WORD_FIT_BITS = -4.0
# Weight of the word after a tested span in its swap evidence: a misplaced word also makes the next one
# unexpected, but that word's fit is partly its own.
NEXT_WORD_WEIGHT = 0.5


@dataclass(frozen=True)
class TokenStatistics:
    """Per-token statistics of one text, for every token after the start token."""

    surprisal: np.ndarray  # bits: -log2 p(token | prefix)
    rank: np.ndarray  # 0 = the model's top guess
    entropy: np.ndarray  # bits: the model's uncertainty before seeing the token
    offsets: np.ndarray  # (n, 2): each token's character span in the text
    truncated: bool  # the text was longer than the scorer's max_tokens
    # bits: -log2 p(token id | prefix) for each probe (token index, token id) asked for, in order.
    probe_surprisal: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # (n, 2): each token's hidden state dotted with the word probe's `here` and `after` weights; (n, 0) without
    # a probe.
    word_probe_scores: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


@dataclass(frozen=True)
class WordFits:
    """Per known word (the first word excepted): its fit in bits and its character span."""

    fits: np.ndarray
    spans: list[tuple[int, int]]


def word_fits(stats: TokenStatistics, text: str, word_log10_frequency: Callable[[str], float | None]) -> WordFits:
    """Per known word: log2 p_LM(word | preceding text) - log2 p(word), in bits.

    Surprisal alone punishes rare words that belong (names, terms); measured against each word's base rate,
    the words that stand out are common ones in a place they do not fit, which is what spinners leave.
    A word's LM probability is the product over the tokens that overlap it.
    """
    words = word_spans(text)
    if not words or stats.surprisal.size == 0:
        return WordFits(np.zeros(0), [])
    starts = np.array([start for _, start, _ in words])
    ends = np.array([end for _, _, end in words])
    last_characters = stats.offsets[:, 1] - 1
    word_index = np.minimum(np.searchsorted(ends, last_characters, side="right"), len(words) - 1)
    inside = (starts[word_index] <= last_characters) & (last_characters < ends[word_index])
    word_bits = np.bincount(word_index[inside], weights=stats.surprisal[inside], minlength=len(words))
    scored = np.bincount(word_index[inside], minlength=len(words)) > 0
    fits, spans = [], []
    # The first word is predicted from nothing but the start token: its surprisal says nothing about fit.
    for index, (word, start, end) in enumerate(words[1:], start=1):
        frequency = word_log10_frequency(word)
        if frequency is not None and scored[index]:
            fits.append(-word_bits[index] - frequency * _LOG2_10)
            spans.append((start, end))
    return WordFits(np.array(fits), spans)


def run_fits(fits: np.ndarray, width: int) -> np.ndarray:
    """The summed fit (bits) of each run of `width` consecutive scored words (`WordFits.fits`; words the
    unigram model does not know, such as most names, are skipped, so a run may straddle one); the sum of all
    of them when there are fewer.

    One word a little out of place is common in clean prose; two or three in a row is what a swapped word or
    phrase leaves: a misplaced word makes the words after it unexpected too, and spinners swap multiword
    phrases and both words of a term ("counterfeit consciousness"). On the default model's data the lowest
    two-word run told tortured paragraphs from the clean ones of their documents at ROC-AUC 0.816 against
    0.787 for the lowest single word (0.894 against 0.840 for phrase spins, 0.776 against 0.732 for 5%
    thesaurus spins).
    """
    if fits.size < width:
        return np.array([fits.sum()])
    return np.convolve(fits, np.ones(width), mode="valid")


def span_word_fits(fits: WordFits, swaps: Sequence[SwapTestResult]) -> tuple[np.ndarray, np.ndarray]:
    """Per tested span: the worst fit (bits) of the words inside it, and the fit of the word after it; 0 where
    there is no such word (the first word of a text has no fit)."""
    starts = np.array([start for start, _ in fits.spans], dtype=np.int64)
    ends = np.array([end for _, end in fits.spans], dtype=np.int64)
    inside_fits, next_fits = np.zeros(len(swaps)), np.zeros(len(swaps))
    for index, swap in enumerate(swaps):
        inside = (starts < swap.end) & (ends > swap.start)
        after = np.flatnonzero(starts >= swap.end)
        inside_fits[index] = fits.fits[inside].min() if inside.any() else 0.0
        next_fits[index] = fits.fits[after[0]] if after.size else 0.0
    return inside_fits, next_fits


def swap_evidence(swaps: Sequence[SwapTestResult], inside_fits: np.ndarray, next_fits: np.ndarray) -> np.ndarray:
    """Per span the synonym-swap test tried: how strongly the two references agree that a word was replaced.

    The sum of three signs of a swap: the n-gram gain of the best thesaurus candidate (log10; below zero when
    the text fits better than every candidate), how much less likely the language model finds the span's
    worst word here than in general (bits; zero if it is likelier), and half that for the word after it.
    `inside_fits` and `next_fits` are the spans' word fits as `span_word_fits` gives them.

    Either reference alone fires on clean text now and then (a rare collocation, a surprising but right word);
    a light spin's few swaps stand out where both fire on the same words. The two highest values of a
    paragraph, as features, took the default model from ROC-AUC 0.890 to 0.903 on its validation split and
    from 0.893 to 0.906 on its test split.
    """
    gains = np.array([swap.gain for swap in swaps], dtype=np.float64)
    return gains + np.maximum(-inside_fits, 0.0) + NEXT_WORD_WEIGHT * np.maximum(-next_fits, 0.0)


def unexpected_words(text: str, fits: WordFits, max_bits: float = UNEXPECTED_WORD_BITS) -> list[FlaggedSpan]:
    """Words the language model finds far less likely here than they usually are (names left out)."""
    flagged = []
    for fit, (start, end) in zip(fits.fits, fits.spans, strict=True):
        # A capitalised word is usually a name, whose fit says more about the model's knowledge than the text.
        if fit <= max_bits and not text[start].isupper():
            strength = float(min(1.0, -fit / FULL_STRENGTH_BITS))
            flagged.append(FlaggedSpan(start, end, text[start:end], "unexpected_word", strength))
    return flagged


def paragraph_lm_features(
    stats: TokenStatistics,
    fits: np.ndarray | None = None,
    evidence: np.ndarray | None = None,
    candidate_gains: np.ndarray | None = None,
    replaced_probabilities: np.ndarray | None = None,
    rescored_gains: Sequence[float] = (),
) -> np.ndarray:
    """Aggregate one paragraph's token statistics, word fits, swap evidence, the combined gains of its
    tested spans' best candidates (`swap_judge.combined_suggestions`), the probability of each tested span
    that it was replaced (`span_odds`) and the context gains of its likeliest replacements (`rescoring`, in
    order of that probability) into the `LM_FEATURE_NAMES` vector.

    The two highest combined gains, as features, took the language-model features alone from ROC-AUC 0.924 to
    0.931 (0.857 to 0.871 at a 5% spin rate) in grouped cross-validation on synthetic validation and test
    paragraphs.
    """
    surprisal = stats.surprisal
    n = surprisal.size
    fits = np.zeros(0) if fits is None else fits
    evidence = np.zeros(0) if evidence is None else evidence
    candidate_gains = np.zeros(0) if candidate_gains is None else candidate_gains
    replaced_probabilities = np.zeros(0) if replaced_probabilities is None else replaced_probabilities
    if n == 0:
        return np.zeros(len(LM_FEATURE_NAMES), dtype=np.float64)
    quantiles = np.quantile(surprisal, [0.5, 0.75, 0.9])
    rank = stats.rank
    if n >= WINDOW_TOKENS:
        windows = np.convolve(surprisal, np.ones(WINDOW_TOKENS) / WINDOW_TOKENS, mode="valid")
    else:
        windows = np.array([surprisal.mean()])
    return np.array(
        [
            surprisal.mean(),
            quantiles[0],
            surprisal.std(),
            quantiles[1],
            quantiles[2],
            surprisal.max(),
            stats.entropy.mean(),
            (surprisal - stats.entropy).mean(),
            np.mean(rank < 10),
            np.mean((rank >= 10) & (rank < 100)),
            np.mean((rank >= 100) & (rank < 1000)),
            np.mean(rank >= 1000),
            np.mean(surprisal > SPIKE_BITS),
            windows.max(),
            windows.std(),
            math.log1p(n),
            fits.mean() if fits.size else 0.0,
            np.quantile(fits, 0.1) if fits.size else 0.0,
            *lowest_two(fits),
            np.mean(fits < POOR_WORD_FIT_BITS) if fits.size else 0.0,
            math.log1p(np.sum(fits < VERY_POOR_WORD_FIT_BITS)),
            *lowest_two(run_fits(fits, 2)),
            run_fits(fits, 3).min(),
            run_fits(fits, 4).min(),
            *highest_two(evidence),
            *highest_two(candidate_gains),
            *two_most_likely(replaced_probabilities),
            max(rescored_gains, default=0.0),
            *(list(rescored_gains) + [0.0] * RESCORED_SPANS)[:RESCORED_SPANS],
        ],
        dtype=np.float64,
    )


@dataclass(frozen=True)
class _ScoredText:
    """What the scorer measured of one text, before it is summed up into features and flags; the per-span
    arrays hold one value per tested span (`swaps`), as `span_word_fits` and `swap_judge.span_bits` give them."""

    text: str
    stats: TokenStatistics
    swaps: list[SwapTestResult]
    probes: CandidateProbes
    fits: WordFits
    inside_fits: np.ndarray
    next_fits: np.ndarray
    written_bits: np.ndarray
    suggestions: list[tuple[str, float] | None]  # `swap_judge.combined_suggestions`
    span_inputs: np.ndarray  # `span_odds.LANGUAGE_MODEL_SPAN_INPUTS`, one row per tested span
    replaced: np.ndarray  # each tested span's probability of replacement, from `span_inputs`
    # The context gains (`rescoring`) of the likeliest replacements, in order of their probability of replacement.
    rescored_gains: tuple[float, ...] = ()
    # The deletion fits (`deletion`) of its worst-fitting words, where they could be read again.
    deletion_fits: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # The function words the function-word swap test judged (`function_swaps`), each one's gain at the word and
    # likeliest candidate; then the words read again with their candidate (index, candidate) and their gains.
    function_words: tuple[FunctionWord, ...] = ()
    function_word_gains: np.ndarray = field(default_factory=lambda: np.zeros(0))
    function_suggestions: tuple[str, ...] = ()
    function_reread: tuple[tuple[int, str], ...] = ()
    function_gains: tuple[float, ...] = ()


def _joined_probes(
    swap_probes: CandidateProbes, function_probes: FunctionWordProbes | None
) -> tuple[np.ndarray, np.ndarray]:
    """One text's probes as (token indices, token ids): the swap candidates', then the function words'."""
    if function_probes is None:
        return swap_probes.tokens, swap_probes.token_ids
    return (
        np.concatenate([swap_probes.tokens, function_probes.tokens]),
        np.concatenate([swap_probes.token_ids, function_probes.token_ids]),
    )


@dataclass(frozen=True)
class BatchCache:
    """A scored batch's token ids (start token first) and the keys and values the model computed for them, so
    continuations of its texts can be read without running their prefixes again."""

    # On the CPU whatever the model's device: the second pass reads single ids from it, which on a GPU would
    # wait for the device each time.
    input_ids: torch.Tensor
    cache: DynamicCache  # on the model's device


class LanguageModelScorer:
    """Scores texts with a causal language model; `score(texts)` gives one feature row per text: the
    `LM_FEATURE_NAMES`, then with `deletion_test` the `deletion.DELETION_FEATURE_NAMES`, then with a `word_probe`
    the `word_probe.WORD_PROBE_FEATURE_NAMES`, then with `function_swaps` the
    `function_swaps.FUNCTION_SWAP_FEATURE_NAMES`."""

    def __init__(
        self,
        language_model: CausalLanguageModel,
        word_log10_frequency: Callable[[str], float | None],
        max_tokens: int = 512,
        batch_tokens: int = 512,
        logits_chunk_rows: int = 128,
        swap_test: SynonymSwapTest | None = None,
        span_odds: SpanOdds | None = None,
        deletion_test: bool = False,
        word_probe: WordProbe | None = None,
        function_swaps: FunctionWordCandidates | None = None,
    ) -> None:
        self.language_model = language_model
        self.word_log10_frequency = word_log10_frequency
        self.max_tokens = max_tokens
        self.batch_tokens = batch_tokens
        self.logits_chunk_rows = logits_chunk_rows
        # The spans whose swap evidence is measured; without a swap test the evidence features are zero.
        self.swap_test = swap_test
        # How likely each tested span is to be a replacement, from all its signs (the packaged weights by default).
        self.span_odds = span_odds or SpanOddsWeights.load().language_model
        # Whether the second pass also reads each text's worst-fitting words again without them (`deletion`).
        self.deletion_test = deletion_test
        # The replaced-word probe on the model's hidden states (`word_probe`), read in the same pass.
        if word_probe is not None:
            config = language_model.model.config
            word_probe.check_fits(language_model.name, config.hidden_size, config.num_hidden_layers)
        self.word_probe = word_probe
        # The function-word swap test's candidates (`function_swaps`), judged from the same pass.
        self.function_swaps = function_swaps
        self.feature_names = (
            LM_FEATURE_NAMES
            + (DELETION_FEATURE_NAMES if deletion_test else ())
            + (WORD_PROBE_FEATURE_NAMES if word_probe is not None else ())
            + (FUNCTION_SWAP_FEATURE_NAMES if function_swaps is not None else ())
        )
        # Swap candidates and function words recur across a corpus; each is tokenised once.
        self._cached_single_token = lru_cache(maxsize=200_000)(self._single_token)
        self._candidate_tokens = CandidateTokens(self._cached_single_token)

    @property
    def cache_key(self) -> str:
        return self._key(f"-{self.language_model.precision}")

    @property
    def definition(self) -> str:
        """The cache key without the precision: a bfloat16 model may run in float32 on a CPU without it."""
        return self._key("")

    def _key(self, precision: str) -> str:
        swaps = f"swaps{self.swap_test.max_candidates}" if self.swap_test is not None else "noswaps"
        model = f"{self.language_model.name}-{self.max_tokens}{precision}"
        deletion = "-deletion" if self.deletion_test else ""
        probe = f"-wordprobe{self.word_probe.fingerprint}" if self.word_probe is not None else ""
        function = f"-functionswaps{FUNCTION_SWAP_VERSION}" if self.function_swaps is not None else ""
        return f"lm-v{LM_FEATURE_VERSION}-{model}-{swaps}-odds{self.span_odds.fingerprint}{deletion}{probe}{function}"

    def score(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Feature matrix of shape (len(texts), len(self.feature_names))."""
        return self.score_and_flag(texts, progress)[0]

    def score_and_flag(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> tuple[np.ndarray, list[list[FlaggedSpan]]]:
        """The feature matrix, and for each text the words the model found unexpected, the spans whose swap
        evidence is strong (with the candidate both references prefer as the suggestion), with a word probe
        that has flag levels the words it marks as replaced, and with `function_swaps` the function words another
        one would replace far better."""
        rows, flags = [], []
        for scored in self._scored(texts, progress):
            text, stats, swaps, fits = scored.text, scored.stats, scored.swaps, scored.fits
            evidence = swap_evidence(swaps, scored.inside_fits, scored.next_fits)
            gains = np.array([gain for _, gain in filter(None, scored.suggestions)])
            row = paragraph_lm_features(stats, fits.fits, evidence, gains, scored.replaced, scored.rescored_gains)
            if self.deletion_test:
                row = np.concatenate([row, deletion_features(scored.deletion_fits)])
            probe_flags = []
            if self.word_probe is not None:
                words = scored_words(text, stats.offsets)
                logits = word_logits(words[:, 2], stats.word_probe_scores, self.word_probe.intercept)
                row = np.concatenate([row, word_probe_features(logits)])
                if self.word_probe.flag_levels is not None:
                    probe_flags = word_flags(text, words, logits, self.word_probe.flag_levels)
            function_flags = []
            if self.function_swaps is not None:
                row = np.concatenate([row, function_swap_features(scored.function_gains)])
                function_flags = function_swap_flags(
                    text, scored.function_words, scored.function_reread, scored.function_gains
                )
            rows.append(row)
            swap_flags = evidence_flags(text, swaps, scored.replaced, scored.suggestions, evidence)
            flags.append([*unexpected_words(text, fits), *swap_flags, *probe_flags, *function_flags])
        return (np.vstack(rows) if rows else np.zeros((0, len(self.feature_names)))), flags

    def span_inputs(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> list[np.ndarray]:
        """Per text, the `span_odds.LANGUAGE_MODEL_SPAN_INPUTS` of each span the swap test tried, in the order
        of `swap_test.test(text)`: what `training/fit_span_odds.py` fits the span model on."""
        return [scored.span_inputs for scored in self._scored(texts, progress, rescore=False)]

    def _scored(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None, rescore: bool = True
    ) -> list[_ScoredText]:
        """Each text's token statistics, word fits, tested spans and the candidate probes read at them; with
        `rescore`, also the context gains of its likeliest replacements and, with `deletion_test`, the deletion
        fits of its worst-fitting words (one second pass per batch reads both)."""
        with_offsets = self.language_model.encoder.encode_with_offsets(texts)
        offsets = [np.array(pairs[: self.max_tokens - 1], dtype=np.int64).reshape(-1, 2) for _, pairs in with_offsets]
        swaps = [self.swap_test.test(text) if self.swap_test is not None else [] for text in texts]
        probes = [
            candidate_probes(text, text_offsets, text_swaps, self._candidate_tokens.one_token)
            for text, text_offsets, text_swaps in zip(texts, offsets, swaps, strict=True)
        ]
        function_probes = [
            self.function_swaps.probes(text, text_offsets, self._cached_single_token)
            if self.function_swaps is not None
            else None
            for text, text_offsets in zip(texts, offsets, strict=True)
        ]
        # The function words' probes are read after the swap candidates', from the same pass.
        probe_pairs = [
            _joined_probes(text_probes, function)
            for text_probes, function in zip(probes, function_probes, strict=True)
        ]
        scored: list[_ScoredText | None] = [None] * len(texts)
        for batch, batch_stats, batch_cache in self._batch_statistics(with_offsets, probe_pairs, progress):
            batch_scored = [
                self._scored_text(texts[index], stats, swaps[index], probes[index], function_probes[index])
                for index, stats in zip(batch, batch_stats, strict=True)
            ]
            if rescore:
                batch_scored = self._read_again(batch_scored, batch_cache)
            for index, text in zip(batch, batch_scored, strict=True):
                scored[index] = text
        return scored  # type: ignore[return-value]  # every index was filled by exactly one batch

    def _read_again(self, batch: list[_ScoredText], batch_cache: BatchCache) -> list[_ScoredText]:
        """A scored batch (in its rows' order) with what a second pass reads: the context gains of each text's
        likeliest replacements, in order of their probability of replacement (0 for a span whose tokens do not
        cover it exactly), with `deletion_test` the deletion fits of its worst-fitting words, and with
        `function_swaps` the gains of the function words read again with their candidate."""
        requests: list[tuple[int, Continuation]] = []
        chosen_spans, replacements, deletions, function_words = [], [], [], []
        for row, scored in enumerate(batch):
            chosen = rescored_spans(scored.replaced, scored.swaps, scored.suggestions, RESCORED_SPANS)
            scored_ids = batch_cache.input_ids[row, 1 : scored.stats.surprisal.size + 1].tolist()
            sentence_ends = [end for _, end in split_sentences(scored.text)] or [len(scored.text)]
            offsets = scored.stats.offsets
            text, word_fits = scored.text, scored.fits
            replaced = continuations(text, scored_ids, offsets, scored.swaps, chosen, sentence_ends, self._piece_tokens)
            deleted = (
                deletion_continuations(text, scored_ids, offsets, word_fits.fits, word_fits.spans, sentence_ends)
                if self.deletion_test
                else []
            )
            reread = words_to_reread(scored.function_word_gains, scored.function_suggestions)
            functions = continuations(
                text, scored_ids, offsets, scored.function_words, reread, sentence_ends, self._piece_tokens
            )
            requests += [(row, continuation) for continuation in (*replaced, *deleted, *functions)]
            chosen_spans.append(chosen)
            replacements.append(replaced)
            deletions.append(deleted)
            function_words.append(functions)
        surprisal = iter(self._continuation_surprisal(batch_cache, requests))
        read_again = []
        for scored, chosen, replaced, deleted, functions in zip(
            batch, chosen_spans, replacements, deletions, function_words, strict=True
        ):
            by_span = context_gains(scored.stats.surprisal, replaced, [next(surprisal) for _ in replaced])
            deleted_bits = [next(surprisal) for _ in deleted]
            deleted_fits = deletion_fits(scored.fits.fits, scored.stats.surprisal, deleted, deleted_bits)
            by_word = context_gains(scored.stats.surprisal, functions, [next(surprisal) for _ in functions])
            gains = tuple(by_span.get(index, 0.0) for index, _ in chosen)
            reread = tuple((continuation.span, scored.function_suggestions[continuation.span]) for continuation in functions)
            read_again.append(
                replace(
                    scored,
                    rescored_gains=gains,
                    deletion_fits=deleted_fits,
                    function_reread=reread,
                    function_gains=tuple(by_word[index] for index, _ in reread),
                )
            )
        return read_again

    def _scored_text(
        self,
        text: str,
        stats: TokenStatistics,
        swaps: list[SwapTestResult],
        probes: CandidateProbes,
        function_probes: FunctionWordProbes | None = None,
    ) -> _ScoredText:
        function_words: tuple[FunctionWord, ...] = ()
        function_word_gains, function_suggestions = np.zeros(0), []
        if function_probes is not None:
            function_words = function_probes.words
            function_surprisal = stats.probe_surprisal[probes.tokens.size :]
            function_word_gains, function_suggestions = word_gains(function_probes, stats.surprisal, function_surprisal)
        fits = word_fits(stats, text, self.word_log10_frequency)
        inside_fits, next_fits = span_word_fits(fits, swaps)
        written_bits = np.array([span_bits(stats.surprisal, stats.offsets, swap.start, swap.end) for swap in swaps])
        suggestions = combined_suggestions(swaps, probes, stats.probe_surprisal, written_bits)
        candidate_gains = lm_candidate_gains(probes, stats.probe_surprisal, written_bits)
        judged = ~np.isnan(candidate_gains)
        combined_gains = [suggested[1] if suggested is not None else 0.0 for suggested in suggestions]
        span_inputs = np.column_stack(
            [
                lexical_span_inputs(text, swaps, self.word_log10_frequency),
                inside_fits,
                next_fits,
                np.where(judged, candidate_gains, 0.0),
                judged,
                written_bits,
                combined_gains,
            ]
        )
        replaced = self.span_odds.probability(span_inputs)
        return _ScoredText(
            text, stats, swaps, probes, fits, inside_fits, next_fits, written_bits, suggestions, span_inputs, replaced,
            function_words=function_words,
            function_word_gains=function_word_gains,
            function_suggestions=tuple(function_suggestions),
        )

    def token_statistics(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> list[TokenStatistics]:
        """Per-token surprisal, rank and entropy for each text; `progress(n)` is called after each batch."""
        return self._statistics(self.language_model.encoder.encode_with_offsets(texts), progress)

    def _statistics(
        self,
        with_offsets: list[tuple[list[int], list[tuple[int, int]]]],
        progress: Callable[[int], None] | None = None,
        probes: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> list[TokenStatistics]:
        """Token statistics of encoded texts, and the surprisal of each text's probes (see `_batch_statistics`)."""
        results: list[TokenStatistics | None] = [None] * len(with_offsets)
        for batch, batch_stats, _ in self._batch_statistics(with_offsets, probes, progress):
            for index, stats in zip(batch, batch_stats, strict=True):
                results[index] = stats
        return results  # type: ignore[return-value]  # every index was filled by exactly one batch

    def _batch_statistics(
        self,
        with_offsets: list[tuple[list[int], list[tuple[int, int]]]],
        probes: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[tuple[list[int], list[TokenStatistics], BatchCache]]:
        """Token statistics of encoded texts, a length-sorted batch at a time: the texts' indices, their
        statistics and the batch's key/value cache (valid until the next batch).

        `probes` asks for the surprisal of other tokens: per text, parallel arrays of token indices and token
        ids, each pair asking how surprising that token id would have been in that token's place (the index among
        the text's tokens, within the first `max_tokens - 1` that are scored)."""
        encoder = self.language_model.encoder
        encoded = [[encoder.bos_id, *ids] for ids, _ in with_offsets]
        no_probes = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        probes = probes if probes is not None else [no_probes] * len(encoded)
        truncated = [len(ids) > self.max_tokens for ids in encoded]
        encoded = [ids[: self.max_tokens] for ids in encoded]
        for batch in self._length_sorted_batches(encoded):
            batch_results, batch_cache = self._score_batch([encoded[i] for i in batch], [probes[i] for i in batch])
            batch_stats = []
            for index, (surprisal, rank, entropy, probe_surprisal, probe_scores) in zip(batch, batch_results, strict=True):
                offsets = np.array(with_offsets[index][1][: surprisal.size], dtype=np.int64).reshape(-1, 2)
                batch_stats.append(
                    TokenStatistics(surprisal, rank, entropy, offsets, truncated[index], probe_surprisal, probe_scores)
                )
            yield batch, batch_stats, batch_cache
            if progress is not None:
                progress(len(batch))

    def _length_sorted_batches(self, encoded: list[list[int]]) -> list[list[int]]:
        """Group text indices, longest first, so each batch has rows x longest length <= batch_tokens."""
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]), reverse=True)
        batches: list[list[int]] = []
        for index in order:
            if batches and (len(batches[-1]) + 1) * len(encoded[batches[-1][0]]) <= self.batch_tokens:
                batches[-1].append(index)
            else:
                batches.append([index])
        return batches

    def padded_batch(self, batch: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token id rows padded to the longest, and the attention mask marking the real tokens."""
        width = max(len(ids) for ids in batch)
        input_ids = torch.full((len(batch), width), self.language_model.encoder.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, : len(ids)] = 1
        return input_ids, attention_mask

    @torch.inference_mode()
    def _score_batch(
        self, batch: list[list[int]], probes: list[tuple[np.ndarray, np.ndarray]]
    ) -> tuple[list[tuple[np.ndarray, ...]], BatchCache]:
        """Per text of the batch: its tokens' surprisal, rank and entropy, its probes' surprisal and its tokens'
        word probe scores (`TokenStatistics`); and the batch's cache."""
        model = self.language_model.model
        host_input_ids, attention_mask = self.padded_batch(batch)
        input_ids, attention_mask = host_input_ids.to(self.language_model.device), attention_mask.to(self.language_model.device)
        # Without a config the cache keeps every position of every layer (no sliding window), so continuations
        # can be read after any prefix. Passed by position: transformers has named this argument
        # `past_key_values` and, since 5.2x, `cache`.
        cache = DynamicCache()
        with_probe = self.word_probe is not None
        outputs = model.get_decoder()(input_ids, attention_mask, None, cache, use_cache=True, output_hidden_states=with_probe)
        hidden = outputs.last_hidden_state
        # Position t predicts token t + 1; keep only positions whose next token is real.
        predicts_real_token = attention_mask[:, 1:].bool()
        states = hidden[:, :-1][predicts_real_token]
        targets = input_ids[:, 1:][predicts_real_token]
        lengths = [len(ids) - 1 for ids in batch]
        bounds = np.cumsum([0, *lengths])
        token_probe_scores = (
            self._word_probe_scores(outputs.hidden_states[self.word_probe.layer][:, 1:][predicts_real_token])
            if with_probe
            else np.zeros((int(bounds[-1]), 0))
        )
        # A text's token i is predicted by row bounds[text] + i of `states`.
        probe_rows = np.concatenate([bounds[k] + np.asarray(tokens, dtype=np.int64) for k, (tokens, _) in enumerate(probes)])
        probe_ids = np.concatenate([np.asarray(token_ids, dtype=np.int64) for _, token_ids in probes])
        surprisal, rank, entropy, probe_surprisal = self._token_statistics(states, targets, probe_rows, probe_ids)
        probe_bounds = np.cumsum([0, *(len(tokens) for tokens, _ in probes)])
        results = [
            (surprisal[a:b], rank[a:b], entropy[a:b], probe_surprisal[c:d], token_probe_scores[a:b])
            for a, b, c, d in zip(bounds[:-1], bounds[1:], probe_bounds[:-1], probe_bounds[1:], strict=True)
        ]
        return results, BatchCache(host_input_ids, cache)

    def _word_probe_scores(self, states: torch.Tensor) -> np.ndarray:
        """(tokens, 2): each text token's state (one row of `states`) dotted with the word probe's `here` and
        `after` weights, in float32 whatever the model's precision."""
        probe = self.word_probe
        weights = torch.from_numpy(np.column_stack([probe.here, probe.after])).to(states.device)
        return (states.float() @ weights).cpu().double().numpy()

    @torch.inference_mode()
    def _continuation_surprisal(self, batch: BatchCache, requests: Sequence[tuple[int, Continuation]]) -> list[np.ndarray]:
        """Per (batch row, continuation): the surprisal (bits) of each of the continuation's tokens, read after
        the row's tokens before its `first_token`, whose keys and values come from the batch's cache.

        Each continuation is run from the token before it (the start token for a text's first token), whose
        state predicts its first token, up to its last token but one: the state of the last would predict a
        token after the comparison. Its rows of the new pass see their own prefix in the cache (masked to its
        length) and, causally, each other; positions carry on from the prefix.
        """
        if not requests:
            return []
        input_ids, mask, positions, prefixes = self.continuation_inputs(batch, requests)
        hidden = self.language_model.model.get_decoder()(input_ids, mask, positions, prefixes, use_cache=True).last_hidden_state
        lengths = [len(continuation.token_ids) for _, continuation in requests]
        states = torch.cat([hidden[k, :length] for k, length in enumerate(lengths)])
        targets = torch.cat([torch.tensor(continuation.token_ids, dtype=torch.long) for _, continuation in requests])
        targets = targets.to(states.device)
        bits = []
        for start in range(0, targets.numel(), self.logits_chunk_rows):
            log_probs = torch.log_softmax(self._logits(states[start : start + self.logits_chunk_rows]), dim=-1)
            chunk_targets = targets[start : start + self.logits_chunk_rows]
            bits.append(-log_probs[torch.arange(chunk_targets.numel(), device=states.device), chunk_targets] / _LN2)
        return np.split(torch.cat(bits).cpu().double().numpy(), np.cumsum(lengths)[:-1])

    def continuation_inputs(
        self, batch: BatchCache, requests: Sequence[tuple[int, Continuation]]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, DynamicCache]:
        """The second pass's decoder inputs for (batch row, continuation) requests (see
        `_continuation_surprisal`): token ids, attention mask, positions and the rows' prefix keys and values,
        all on the model's device."""
        pad_id = self.language_model.encoder.pad_id
        # Text token t sits at input position t + 1 (after the start token).
        kept = max(continuation.first_token for _, continuation in requests)
        width = max(len(continuation.token_ids) for _, continuation in requests)
        input_ids = torch.full((len(requests), width), pad_id, dtype=torch.long)
        positions = torch.zeros((len(requests), width), dtype=torch.long)
        mask = torch.zeros((len(requests), 1, width, kept + width), dtype=torch.bool)
        causal = torch.tril(torch.ones((width, width), dtype=torch.bool))
        for k, (row, continuation) in enumerate(requests):
            tokens = [int(batch.input_ids[row, continuation.first_token]), *continuation.token_ids[:-1]]
            input_ids[k, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
            positions[k] = torch.arange(continuation.first_token, continuation.first_token + width)
            mask[k, 0, :, : continuation.first_token] = True
            mask[k, 0, :, kept:] = causal
        device = self.language_model.device
        rows = torch.tensor([row for row, _ in requests], dtype=torch.long, device=device)
        prefixes = DynamicCache(
            ddp_cache_data=[(layer.keys[rows, :, :kept], layer.values[rows, :, :kept]) for layer in batch.cache.layers]
        )
        return input_ids.to(device), mask.to(device), positions.to(device), prefixes

    def _logits(self, states: torch.Tensor) -> torch.Tensor:
        """The model's next-token logits (float32) for hidden states, soft-capped where the model caps them."""
        model = self.language_model.model
        logits = model.get_output_embeddings()(states).float()
        softcap = getattr(model.config, "final_logit_softcapping", None)
        return torch.tanh(logits / softcap) * softcap if softcap else logits

    def _token_statistics(
        self, states: torch.Tensor, targets: torch.Tensor, probe_rows: np.ndarray, probe_ids: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        surprisal, rank, entropy = [], [], []
        probe_surprisal = np.zeros(probe_rows.size)
        for start in range(0, states.shape[0], self.logits_chunk_rows):
            logits = self._logits(states[start : start + self.logits_chunk_rows])
            chunk_targets = targets[start : start + self.logits_chunk_rows]
            target_logits = logits.gather(1, chunk_targets[:, None]).squeeze(1)
            # Summing the comparison as int32 is ~5x faster than the default int64 sum of a bool tensor.
            rank.append(torch.sum(logits > target_logits[:, None], dim=-1, dtype=torch.int32))
            # One pass of exp serves both the normaliser and the entropy (the vocabulary is ~50k wide, so each
            # pass over the logits counts); shifting by the maximum in place keeps exp from overflowing.
            maximum = logits.amax(dim=-1, keepdim=True)
            shifted = logits.sub_(maximum)
            weights = shifted.exp()
            total = weights.sum(dim=-1)
            log_total = total.log()
            surprisal.append((maximum.squeeze(1) + log_total - target_logits) / _LN2)
            entropy.append((log_total - torch.linalg.vecdot(weights, shifted) / total) / _LN2)
            in_chunk = np.flatnonzero((probe_rows >= start) & (probe_rows < start + self.logits_chunk_rows))
            if in_chunk.size:
                rows = torch.from_numpy(probe_rows[in_chunk] - start).to(states.device)
                probe_log_probs = shifted[rows, torch.from_numpy(probe_ids[in_chunk]).to(states.device)] - log_total[rows]
                probe_surprisal[in_chunk] = (-probe_log_probs / _LN2).cpu().double().numpy()
        if not surprisal:
            empty = np.zeros(0)
            return empty, empty.astype(np.int64), empty, probe_surprisal
        return (
            torch.cat(surprisal).cpu().double().numpy(),
            torch.cat(rank).cpu().long().numpy(),
            torch.cat(entropy).cpu().double().numpy(),
            probe_surprisal,
        )

    def _single_token(self, written: str) -> int | None:
        ids = self._piece_tokens(written)
        return ids[0] if len(ids) == 1 else None

    def _piece_tokens(self, written: str) -> list[int]:
        return self.language_model.encoder.encode([written])[0]

