"""N-gram oddity features: do a paragraph's words fit their neighbours the way English words do?

Spinners mostly swap in common words, so word rarity barely separates spun from clean text; what separates
is fit to context. For each word we compare its trigram probability with its unigram probability (context
fit: negative when the neighbours make the word *less* likely than usual), measure the pointwise mutual
information of adjacent pairs, and count pairs of common words that the reference model has never seen
together.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from spindetect.features.resources import NGramReference

# Letters with inner apostrophes; hyphens and digits split words (the reference vocabulary has neither).
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
_SENTENCE_BREAK = re.compile(r"[.!?;:]+[\"')\]]*\s|\n")
# A "common" word has unigram log10 probability at least this high (about the 10,000th most frequent word).
COMMON_WORD_LOG10 = -5.0
# Context fit below this (log10) means the neighbours make the word at least 3x less likely than usual.
POOR_FIT_LOG10 = -0.5
# ... and below this, at least 10x less likely: the trace a sense-blind swap usually leaves.
VERY_POOR_FIT_LOG10 = -1.0

# Bump when the features' definition changes, so cached feature rows are recomputed.
NGRAM_FEATURE_VERSION = 2

NGRAM_FEATURE_NAMES: tuple[str, ...] = (
    "ng_logprob_mean",
    "ng_logprob_p10",
    "ng_context_fit_mean",
    "ng_context_fit_p10",
    "ng_poor_fit_share",
    "ng_pmi_mean",
    "ng_pmi_p10",
    "ng_unseen_common_bigram_share",
    "ng_unseen_common_trigram_share",
    "ng_oov_share",
    "ng_context_fit_min",
    "ng_context_fit_second_min",
    "ng_poor_fit_count",
)


@dataclass(frozen=True)
class WordStatistics:
    """Per-word n-gram statistics of one text (in-vocabulary words only, in text order)."""

    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]  # character offsets of each word in the text
    logprob: np.ndarray  # log10 p(word | up to two previous words)
    context_fit: np.ndarray  # logprob - log10 p(word)
    pmi: np.ndarray  # per adjacent in-vocabulary pair: log10 p(w2 | w1) - log10 p(w2)
    unseen_common_bigram: np.ndarray  # per pair of common words: 1 if the model never saw it
    unseen_common_trigram: np.ndarray  # per triple of common words: 1 if the model never saw it
    n_alphabetic: int
    n_out_of_vocabulary: int


def normalise_text(text: str) -> str:
    """Curly apostrophes become straight ones so "China’s" meets the vocabulary's "china's"."""
    return text.replace("’", "'").replace("‘", "'")


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """Lowercased words of a text with their character spans (the words the reference model knows how to spell)."""
    return [(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(normalise_text(text))]


def sentence_words(text: str) -> list[list[tuple[str, int, int]]]:
    """The words of each sentence as written, with their character spans (the text already normalised)."""
    sentences: list[list[tuple[str, int, int]]] = []
    start = 0
    for boundary in [*(m.end() for m in _SENTENCE_BREAK.finditer(text)), len(text)]:
        words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(text, start, boundary)]
        if words:
            sentences.append(words)
        start = boundary
    return sentences


def words_in_sequence(text: str, words: Sequence[tuple[str, int, int]], hyphens: bool = False) -> bool:
    """Whether `words` (spans into `text`, from `sentence_words`) are read one after another: only whitespace
    between them, or with `hyphens` a hyphen too ("well-known"), and none the letters of a number ("th" of
    "19th"). `sentence_words` skips numbers and punctuation, so the words either side of them look adjacent:
    "butane (butane" and "condition (1) or condition" are a term and its gloss, "in 1971, with" is no phrase
    "in with"."""
    for before, after in pairwise(words):
        gap = text[before[2] : after[1]]
        if not (gap.isspace() or (hyphens and gap == "-")):
            return False
    return not any(start > 0 and text[start - 1].isdigit() for _, start, _ in words)


def word_statistics(text: str, reference: NGramReference) -> WordStatistics:
    text = normalise_text(text)
    words, spans, logprob, fit, pmi, unseen2, unseen3 = [], [], [], [], [], [], []
    n_alphabetic = n_oov = 0
    for sentence in sentence_words(text):
        history: list[str] = ["<s>"]
        for written, start, end in sentence:
            word = written.lower()
            n_alphabetic += 1
            unigram = reference.unigram(word)
            if unigram is None:
                n_oov += 1
                history = []  # an unknown word breaks the chain: its neighbours are scored without it
                continue
            context = tuple(history[-2:])
            conditional = reference.prob(word, *context)
            words.append(word)
            spans.append((start, end))
            logprob.append(conditional)
            fit.append(conditional - unigram)
            if context and context[-1] != "<s>":
                previous = context[-1]
                pmi.append(reference.prob(word, previous) - unigram)
                previous_unigram = reference.unigram(previous) or -99.0
                if unigram >= COMMON_WORD_LOG10 and previous_unigram >= COMMON_WORD_LOG10:
                    unseen2.append(0.0 if reference.is_seen(word, previous) else 1.0)
                    if len(context) == 2 and context[0] != "<s>":
                        first_unigram = reference.unigram(context[0]) or -99.0
                        if first_unigram >= COMMON_WORD_LOG10:
                            unseen3.append(0.0 if reference.is_seen(word, *context) else 1.0)
            history.append(word)
    return WordStatistics(
        tuple(words),
        tuple(spans),
        np.array(logprob),
        np.array(fit),
        np.array(pmi),
        np.array(unseen2),
        np.array(unseen3),
        n_alphabetic,
        n_oov,
    )


def lowest_two(values: np.ndarray) -> tuple[float, float]:
    """The lowest and second-lowest values (a spinner's worst swaps); 0 where there are too few values."""
    if values.size == 0:
        return 0.0, 0.0
    if values.size == 1:
        return float(values[0]), float(values[0])
    lowest = np.partition(values, 1)[:2]
    return float(lowest[0]), float(lowest[1])


def highest_two(values: np.ndarray) -> tuple[float, float]:
    """The highest and second-highest values (a paragraph's strongest signs of a swap); as `lowest_two`."""
    if values.size == 0:
        return 0.0, 0.0
    highest, second = lowest_two(-values)
    return -highest, -second


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else 0.0


def _p10(values: np.ndarray) -> float:
    return float(np.quantile(values, 0.1)) if values.size else 0.0


def paragraph_ngram_features(stats: WordStatistics) -> np.ndarray:
    """Aggregate one paragraph's word statistics into the `NGRAM_FEATURE_NAMES` vector."""
    return np.array(
        [
            _mean(stats.logprob),
            _p10(stats.logprob),
            _mean(stats.context_fit),
            _p10(stats.context_fit),
            _mean(stats.context_fit < POOR_FIT_LOG10) if stats.context_fit.size else 0.0,
            _mean(stats.pmi),
            _p10(stats.pmi),
            _mean(stats.unseen_common_bigram),
            _mean(stats.unseen_common_trigram),
            stats.n_out_of_vocabulary / stats.n_alphabetic if stats.n_alphabetic else 0.0,
            *lowest_two(stats.context_fit),
            math.log1p(np.sum(stats.context_fit < VERY_POOR_FIT_LOG10)),
        ],
        dtype=np.float64,
    )


class NGramScorer:
    """Scores texts against the reference n-gram model; `score(texts)` gives one feature row per text."""

    feature_names = NGRAM_FEATURE_NAMES

    def __init__(self, reference: NGramReference) -> None:
        self.reference = reference

    @property
    def cache_key(self) -> str:
        return f"ngram-v{NGRAM_FEATURE_VERSION}"

    @property
    def definition(self) -> str:
        return self.cache_key

    def score(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        rows = [paragraph_ngram_features(word_statistics(text, self.reference)) for text in texts]
        if progress is not None:
            progress(len(texts))
        return np.vstack(rows) if rows else np.zeros((0, len(NGRAM_FEATURE_NAMES)))


_ANY_LETTERS = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# Frequent English words (log10 p >= -4.5, about the top 5,000) make up ~70% of English prose and under 30%
# of other languages written in Latin script, whose words the reference vocabulary often holds as names.
_FREQUENT_WORD_LOG10 = -4.5


def frequent_english_share(text: str, reference: NGramReference) -> float:
    """Share of a text's words (in any script) that are frequent English words; 0 if it has no words."""
    words = _ANY_LETTERS.findall(normalise_text(text))
    if not words:
        return 0.0
    frequent = sum(1 for word in words if (reference.unigram(word.lower()) or -99.0) >= _FREQUENT_WORD_LOG10)
    return frequent / len(words)
