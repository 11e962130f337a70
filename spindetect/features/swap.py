"""The synonym-swap test: would a word the spinner could have replaced fit this place far better?

A spinner replaces a word with one of the synonyms its thesaurus lists for it, whatever the sense. To undo
that, look each word (and each phrase of up to three words) up in reverse: which Moby headwords list it
as a synonym? Those are the words it could have replaced. Each candidate is put back into the text's form
(lemminflect: "went away" <- "left" through "go away" <- "leave") and the window around the place (the span
and the two words after it) is scored under the reference trigram model. If a candidate makes the window
far more probable, the span is suspicious and the candidate is the *suggested original*.

Clean text has words with better-fitting synonyms too, mostly because a more frequent synonym is more
probable anywhere. So the gain is calibrated: the candidate's advantage in plain frequency (its unigram
log-probability over the span's, scaled by `frequency_discount`) is taken off, leaving how much better it
fits its neighbours.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from spindetect.features.ngram import normalise_text, sentence_words, words_in_sequence
from spindetect.features.resources import NGramReference
from spindetect.features.spans import SUGGESTION_HINT, FlaggedSpan, strongest_first
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.words import NUMBER_WORDS, STOPWORDS, Inflector, head_index

MAX_SPAN_WORDS = 3
# Words after the span whose probability the swap changes (a trigram model sees two words back).
FOLLOWING_WORDS = 2
# The most frequent candidates only: spinners replace the everyday words of real prose. Each candidate costs
# a trigram chain per span, the swap test's main cost; the language model's judge takes more (swap_judge).
MAX_CANDIDATES = 30
# Share of a candidate's advantage in plain frequency that is not credited to its fit.
FREQUENCY_DISCOUNT = 1.0
# A calibrated gain of 4 means the candidate makes the window 10,000 times more probable than the text does.
# Lower, clean text is flagged too often: at 2, one word in 35 of clean Brown and Wikipedia prose.
MIN_FLAG_GAIN = 4.0
# Parts of speech whose inflected forms are put back to their lemma to look them up.
_INFLECTED_POS = ("NOUN", "VERB", "ADJ", "ADV")
# A weaker candidate still names what another signal's flagged words probably were, if it fits 10x better.
MIN_HINT_GAIN = 1.0
# Gains at and above this are flagged with full strength.
FULL_STRENGTH_GAIN = 5.0


@dataclass(frozen=True)
class Candidate:
    words: tuple[str, ...]
    log_frequency: float  # sum of the words' unigram log10 probabilities
    text: str  # the words joined by spaces


@dataclass(frozen=True)
class SwapTestResult:
    """One tested span of a text and the best candidate for what it replaced."""

    start: int
    end: int
    suggestion: str
    gain: float  # calibrated log10 gain of the window with the suggestion over the text as written
    fit: float  # log10 p(window as written) minus its unigram log10 probability: below 0, a poor fit
    # Every candidate with its calibrated gain, for a second reference to re-rank (the best is `suggestion`).
    candidates: tuple[tuple[str, float], ...] = ()


def _spelling_key(word: str) -> str:
    """US and UK spellings of a word share a key ("colour"/"color", "organise"/"organize")."""
    for uk, us in (("our", "or"), ("ise", "ize"), ("isation", "ization"), ("yse", "yze"), ("tre", "ter"), ("ll", "l")):
        word = word.replace(uk, us)
    return word


class SynonymSwapTest:
    """Finds spans that a thesaurus neighbour would fit far better, with that neighbour as the suggestion."""

    def __init__(
        self,
        reference: NGramReference,
        thesaurus: MobyThesaurus,
        frequency_discount: float = FREQUENCY_DISCOUNT,
        max_candidates: int = MAX_CANDIDATES,
        min_flag_gain: float = MIN_FLAG_GAIN,
    ) -> None:
        self.reference = reference
        self.thesaurus = thesaurus
        self.frequency_discount = frequency_discount
        self.max_candidates = max_candidates
        self.min_flag_gain = min_flag_gain
        # Candidates depend on the span alone, and the same words recur across a corpus.
        self._candidates = lru_cache(maxsize=100_000)(self._compute_candidates)
        self._inflector = Inflector()

    @classmethod
    def load(cls) -> SynonymSwapTest:
        """With the packaged reference model and thesaurus (for scripts; a Detector passes its own)."""
        return cls(NGramReference.load(), MobyThesaurus.load())

    def narrowed(self, max_candidates: int) -> SynonymSwapTest:
        """The same test over each span's `max_candidates` most frequent candidates only. It shares this test's
        candidate cache, so a span's candidates are looked up and re-inflected once for both."""
        if max_candidates > self.max_candidates:
            raise ValueError(f"can only narrow the test: {max_candidates} > {self.max_candidates} candidates")
        narrowed = copy.copy(self)  # the caches stay bound to this test, which fills them to its own width
        narrowed.max_candidates = max_candidates
        return narrowed

    def test(self, text: str) -> list[SwapTestResult]:
        """Every span of `text` that has candidates, with its best candidate (gains may be negative)."""
        text = normalise_text(text)
        results = []
        for sentence in sentence_words(text):
            for run, opens_sentence in self._in_vocabulary_runs(sentence):
                results.extend(self._test_run(text, run, opens_sentence))
        return results

    def find(self, text: str) -> list[FlaggedSpan]:
        """Spans whose calibrated gain reaches `min_flag_gain`; the strongest of overlapping ones."""
        return strongest_first([span for span in self.flags(text) if span.reason == "synonym_swap"])

    def flags(self, text: str, results: Sequence[SwapTestResult] | None = None) -> list[FlaggedSpan]:
        """Flags for the spans whose gain reaches `min_flag_gain`, and suggestion hints for the spans whose
        candidate fits better at all (`results`: this text's `test`, if already run)."""
        spans = []
        for result in self.test(text) if results is None else results:
            if result.gain < MIN_HINT_GAIN:
                continue
            reason = "synonym_swap" if result.gain >= self.min_flag_gain else SUGGESTION_HINT
            strength = min(1.0, result.gain / FULL_STRENGTH_GAIN)
            spans.append(FlaggedSpan(result.start, result.end, text[result.start : result.end], reason, strength, result.suggestion))
        return spans

    def _in_vocabulary_runs(self, sentence: list[tuple[str, int, int]]):
        """Stretches of words the reference knows; an unknown word breaks the chain as in the n-gram features."""
        run: list[tuple[str, int, int]] = []
        run_opens_sentence = True
        for index, (written, start, end) in enumerate(sentence):
            if self.reference.unigram(written.lower()) is None:
                if run:
                    yield run, run_opens_sentence
                run, run_opens_sentence = [], False
                continue
            if not run:
                run_opens_sentence = index == 0
            run.append((written, start, end))
        if run:
            yield run, run_opens_sentence

    def _test_run(self, text: str, run: list[tuple[str, int, int]], opens_sentence: bool) -> list[SwapTestResult]:
        words = [written.lower() for written, _, _ in run]
        # Capitalised mid-sentence words are names: "Brown said" is not a swapped "Tan said".
        names = [written[:1].isupper() and not (opens_sentence and i == 0) for i, (written, _, _) in enumerate(run)]
        # A phrase is words read one after another: "in 1989 that" is no "in that" to read as "as".
        joined = [words_in_sequence(text, run[i : i + 2], hyphens=True) for i in range(len(run) - 1)]
        results = []
        for i in range(len(words)):
            for length in range(1, MAX_SPAN_WORDS + 1):
                if i + length > len(words) or any(names[i : i + length]):
                    break
                if length > 1 and not joined[i + length - 2]:
                    break
                span = tuple(words[i : i + length])
                if length == 1 and (span[0] in STOPWORDS or len(span[0]) < 3):
                    continue
                if any(word in NUMBER_WORDS for word in span):
                    continue
                candidates = self._candidates(span)[: self.max_candidates]
                if not candidates:
                    continue
                history = (["<s>"] if opens_sentence else []) + words[max(0, i - 2) : i]
                following = tuple(words[i + length : i + length + FOLLOWING_WORDS])
                as_written = self.reference.chain(history, span + following)
                span_frequency = sum(self.reference.unigram(word) for word in span)
                window_frequency = span_frequency + sum(self.reference.unigram(word) for word in following)
                gains = []
                for candidate in candidates:
                    gain = self.reference.chain(history, candidate.words + following) - as_written
                    # Only an advantage is discounted: a rarer candidate that still fits better is no less telling.
                    gain -= self.frequency_discount * max(0.0, candidate.log_frequency - span_frequency)
                    gains.append((candidate.text, gain))
                best, best_gain = max(gains, key=lambda pair: pair[1])  # the first of equal gains
                results.append(
                    SwapTestResult(
                        run[i][1], run[i + length - 1][2], best, best_gain, as_written - window_frequency, tuple(gains)
                    )
                )
        return results

    def _compute_candidates(self, span: tuple[str, ...]) -> tuple[Candidate, ...]:
        """The words and phrases a spinner could have replaced with `span`, in `span`'s form."""
        phrase = " ".join(span)
        found: set[str] = set(self._headwords(phrase))
        for upos in _INFLECTED_POS:
            head = head_index(list(span), upos)
            if head is None:
                continue
            for lemma, tag in self._inflector.readings(span[head]).get(upos, ()):
                lemma_phrase = " ".join([*span[:head], lemma, *span[head + 1 :]])
                for headword in self._headwords(lemma_phrase):
                    inflected = self._inflector.inflect(headword, ((upos, tag),))
                    if inflected is not None:
                        found.add(inflected)
        spelling = _spelling_key(phrase)
        unigram = self.reference.unigram
        # (-rarest word's log10 frequency, words, their summed log10 frequencies): the most frequent first.
        ranked = []
        for text in found:
            words = tuple(text.split())
            if len(words) > MAX_SPAN_WORDS or text == phrase:
                continue
            # Spelling keys keep the first letter, so only candidates sharing it need one.
            if text[0] == phrase[0] and _spelling_key(text) == spelling:
                continue
            frequencies = [unigram(word) for word in words]
            if None in frequencies:
                continue
            ranked.append((-min(frequencies), words, sum(frequencies)))
        # A span can have hundreds of candidates; only the kept ones are built.
        ranked.sort()
        return tuple(Candidate(words, total, " ".join(words)) for _, words, total in ranked[: self.max_candidates])

    def _headwords(self, phrase: str) -> list[str]:
        """Lowercase headwords listing `phrase` among their synonyms (capitalised headwords are names)."""
        return [headword for headword in self.thesaurus.reverse(phrase) if headword == headword.lower()]
