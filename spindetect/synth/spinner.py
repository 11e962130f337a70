"""A sense-blind thesaurus spinner, the cheap kind content farms run over stolen articles.

A set share of the content words (the spin rate) is swapped, each for a synonym drawn uniformly from
its whole Moby entry, whatever sense the text meant: "took office" can come out as "seized office" or
"took bureau". That blindness is the point; it is what the detector learns to recognise.

The share is exact, not a per-word chance: a paragraph spun at 15% has 15% of its candidate words
replaced (rounded, and at least one). With a chance per word, one in six paragraphs of 20 candidates spun
"at 15%" had a single word replaced, and those twins made most of the misses the metrics at 15% counted.

Words are re-inflected so the swap still fits the grammar a spinner would keep: a word that is not
a Moby headword itself ("took") is lemmatised ("take"), a synonym of the lemma is drawn ("seize")
and put back into the original form ("seized"). For a multiword synonym only one word is inflected:
the first of a verb phrase ("accede to" -> "acceded to"), the last of a noun phrase
("branch office" -> "branch offices"). Which it is follows the original word's reading: "takes"
can be a plural noun or a verb, and each synonym is inflected under the first reading it fits (a
phrase ending in a particle only as a verb, "seize" only as a verb). Multiword adjectives and
adverbs cannot be inflected that simply, so they are skipped when the original word is inflected
("bigger", "fastest"); so are synonyms lemminflect does not know in that part of speech.
Articles are not adjusted ("a" before a vowel): spinners do not do that either.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from lemminflect import getAllLemmas

from spindetect.words import NUMBER_WORDS, STOPWORDS, inflect, penn_tag

# Abbreviations whose period does not end a sentence, so the capitalised word after them is
# still mid-sentence ("Mr. Brown" is a name, not a sentence starting with "brown").
ABBREVIATIONS: frozenset[str] = frozenset(
    """
    mr mrs ms messrs dr st jr sr sen rep gov gen col maj lt sgt capt cmdr adm prof rev hon pres
    supt det atty vs etc inc co corp ltd bros assn dept univ ave blvd no nos mt ft jan feb mar apr
    jun jul aug sep sept oct nov dec
    """.split()
)

_WORD = re.compile(r"\w+(?:['’\-]\w+)*")
_LETTERS = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_POSSESSIVE = re.compile(r"(.+?)['’]s")
_SENTENCE_PUNCT = re.compile(r"[.!?]")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# An opening double quote directly before the word: quoted speech starts its own sentence.
_OPENING_QUOTE = re.compile(r"(?:^|[\s(\[—–-])[\"“]$")

# How many synonyms to draw before giving up on a word whose draws keep failing (an inflection
# lemminflect cannot make, a synonym that inflects back to the original word).
_MAX_DRAWS = 25

@dataclass(frozen=True)
class SpinResult:
    """A spun text and what was done to it.

    ``candidates`` counts the words that could have been swapped (eligible content words with a
    Moby entry), ``rate`` is ``replaced / candidates`` (0.0 when there were none), and each span
    is ``(start, end, original_word)`` with offsets into ``text``, the spun output.
    """

    text: str
    replaced: int
    candidates: int
    rate: float
    spans: tuple[tuple[int, int, str], ...]


class Thesaurus(Protocol):
    """What a spinner asks of its dictionary: `MobyThesaurus`, or `synth.wordnet.WordNetThesaurus` for a second
    spinner."""

    def __contains__(self, word: object) -> bool: ...

    def synonyms(self, word: str) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class SynonymSource:
    """Where a word's synonyms come from and how to bend them back into the word's form."""

    synonyms: tuple[str, ...]
    # (universal POS, Penn tag) readings of the original word to inflect a synonym to, tried in
    # order ("takes": NOUN/NNS, VERB/VBZ); empty when synonyms are used as they are.
    readings: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class WordSlot:
    start: int
    word: str
    sentence_start: bool


@dataclass(frozen=True)
class _Candidate:
    """A word the spinner could swap, with its two random draws."""

    order: float  # candidates are swapped in this order until the rate's share is reached
    choice_seed: int
    start: int
    base: str  # the word without a possessive "'s"
    key: str  # `base` lowercased
    source: SynonymSource


def replacement_count(rate: float, candidates: int) -> int:
    """How many of `candidates` words a spin at `rate` replaces: the share rounded half up, at least one
    (a twin with nothing replaced would be no twin)."""
    if rate == 0.0 or candidates == 0:
        return 0
    return max(1, math.floor(rate * candidates + 0.5))


class ThesaurusSpinner:
    """Swap a share ``rate`` of the content words (rounded, at least one) for random Moby synonyms.

    ``max_candidates_per_word`` limits the draw to that many of the shortest synonyms of an entry
    (None: the whole entry). Short synonyms are mostly common single words, so a small limit
    imitates the smaller dictionaries of cheaper spinners. ``allow_multiword`` controls whether
    multiword synonyms may replace a single word; ``only_multiword`` keeps only those (a word becomes a
    phrase, as the PhraseSpinner makes it). ``allow_capitalised`` lets in the capitalised
    entries Moby lists among synonyms ("battle" -> "Bannockburn", "take" -> "OD"); they are off by
    default because a name dropped mid-sentence is a surface tell the detector should not lean on.
    """

    def __init__(
        self,
        thesaurus: Thesaurus,
        rate: float,
        max_candidates_per_word: int | None = None,
        allow_multiword: bool = True,
        allow_capitalised: bool = False,
        min_word_length: int = 3,
        word_log_frequency: Callable[[str], float | None] | None = None,
        common_synonyms: int | None = None,
        only_multiword: bool = False,
    ) -> None:
        self.thesaurus = thesaurus
        self.rate = rate
        self.max_candidates_per_word = max_candidates_per_word
        self.allow_multiword = allow_multiword
        self.allow_capitalised = allow_capitalised
        self.only_multiword = only_multiword
        self.min_word_length = min_word_length
        self.word_log_frequency = word_log_frequency
        self.common_synonyms = common_synonyms

    def spin(self, text: str, rng: random.Random) -> SpinResult:
        """Spin ``text``; the same text, parameters and ``rng`` state give the same result."""
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, got {self.rate}")
        slots = word_slots(text)
        names = proper_nouns(slots)
        sources: dict[str, SynonymSource | None] = {}

        candidates: list[_Candidate] = []
        for slot in slots:
            base = _without_possessive(slot.word)
            if not self.eligible(base, slot.sentence_start, names):
                continue
            key = base.lower()
            if key not in sources:
                sources[key] = self.synonym_source(key)
            source = sources[key]
            if source is None:
                continue
            # Every candidate takes the same two draws from ``rng``: its place in the order of swapping and
            # the seed of its synonym draw. With one seed, the words swapped at a low rate are then swapped,
            # the same way, at any higher rate (the spun versions of a text are nested), and what follows
            # in ``rng`` does not depend on the rate.
            candidates.append(_Candidate(rng.random(), rng.getrandbits(64), slot.start, base, key, source))
        wanted = replacement_count(self.rate, len(candidates))
        replacements: list[tuple[int, int, str]] = []
        for candidate in sorted(candidates, key=lambda candidate: candidate.order):
            if len(replacements) == wanted:
                break
            replacement = self.draw(candidate.source, candidate.key, random.Random(candidate.choice_seed))
            if replacement is None:
                continue  # the next candidate in the order takes its place
            # Only the base is replaced: a possessive "'s" is kept from the original.
            end = candidate.start + len(candidate.base)
            replacements.append((candidate.start, end, match_case(replacement, candidate.base)))
        return splice(text, sorted(replacements), len(candidates))

    def eligible(self, word: str, sentence_start: bool, proper_nouns: set[str]) -> bool:
        """Whether ``word`` is a content word this spinner may swap (``proper_nouns``: `proper_nouns` of the text)."""
        if len(word) < self.min_word_length or not _LETTERS.fullmatch(word):
            return False
        lower = word.lower()
        if lower in STOPWORDS or lower in NUMBER_WORDS:
            return False
        if word == lower:
            return True
        if word.isupper():
            # ALL CAPS: emphasis on an ordinary word, or an acronym the thesaurus does not know.
            return self._has_entry(lower)
        if word[1:] != word[1:].lower():
            return False  # mixed case: "McAllister", "iPhone"
        # Capitalised: a proper noun unless it starts a sentence as an ordinary word would, and
        # the text does not also use it capitalised mid-sentence ("Brown said ... Mr. Brown").
        return sentence_start and lower not in proper_nouns and self._has_entry(lower)

    def _has_entry(self, lower: str) -> bool:
        return lower in self.thesaurus or any(
            lemma in self.thesaurus for lemmas in getAllLemmas(lower).values() for lemma in lemmas
        )

    def synonym_source(self, lower: str) -> SynonymSource | None:
        """Synonyms for a lowercase word: its own entry, else its lemma's with the tag to restore."""
        if lower in self.thesaurus:
            return self.limited(self.thesaurus.synonyms(lower), ())
        analyses = getAllLemmas(lower)
        for lemmas in analyses.values():
            for lemma in lemmas:
                if lemma == lower or lemma not in self.thesaurus:
                    continue
                readings = tuple(
                    (upos, tag)
                    for upos, lemmas_for_pos in analyses.items()
                    if lemma in lemmas_for_pos
                    for tag in [penn_tag(lower, lemma, upos)]
                    if tag is not None
                )
                if readings:
                    return self.limited(self.thesaurus.synonyms(lemma), readings)
        return None

    def limited(
        self, synonyms: tuple[str, ...], readings: tuple[tuple[str, str], ...]
    ) -> SynonymSource | None:
        if not self.allow_multiword:
            synonyms = tuple(s for s in synonyms if " " not in s)
        if self.only_multiword:
            synonyms = tuple(s for s in synonyms if " " in s)
        if not self.allow_capitalised:
            synonyms = tuple(s for s in synonyms if s == s.lower())
        if self.common_synonyms is not None and self.word_log_frequency is not None:
            synonyms = self._most_common(synonyms)
        if self.max_candidates_per_word is not None:
            # Shortest first; sorted() is stable, so ties keep the thesaurus order.
            synonyms = tuple(sorted(synonyms, key=len)[: self.max_candidates_per_word])
        return SynonymSource(synonyms, readings) if synonyms else None

    def _most_common(self, synonyms: tuple[str, ...]) -> tuple[str, ...]:
        """The `common_synonyms` most frequent synonyms, in thesaurus order; unknown words are dropped.

        Commercial spinners swap in everyday words ("piece", "arrangement", "go away"), not the rare ones a
        big thesaurus also lists; a phrase is as common as its rarest word.
        """
        scored = []
        for synonym in synonyms:
            frequencies = [self.word_log_frequency(word) for word in synonym.lower().split()]
            if all(frequency is not None for frequency in frequencies):
                scored.append((min(frequencies), synonym))
        keep = {synonym for _, synonym in sorted(scored, reverse=True)[: self.common_synonyms]}
        return tuple(synonym for synonym in synonyms if synonym in keep)

    def draw(self, source: SynonymSource, original: str, rng: random.Random) -> str | None:
        """A uniformly drawn usable synonym (rejection sampling over the entry), or None."""
        for _ in range(_MAX_DRAWS):
            synonym = _usable(source.synonyms[rng.randrange(len(source.synonyms))], source, original)
            if synonym is not None:
                return synonym
        return None

    def first_listed(self, source: SynonymSource, original: str) -> str | None:
        """The first usable synonym in the entry's order, or None: the policy of spinners that always take
        the first synonym of their list instead of a random one."""
        return next((usable for synonym in source.synonyms if (usable := _usable(synonym, source, original))), None)


def _usable(synonym: str, source: SynonymSource, original: str) -> str | None:
    """``synonym`` in the original word's form, or None where it cannot be put in it or gives the word back."""
    if source.readings:
        synonym = inflect(synonym, source.readings)
    return synonym if synonym is not None and synonym.lower() != original else None


def splice(text: str, replacements: list[tuple[int, int, str]], candidates: int) -> SpinResult:
    """``text`` with each ``(start, end, replacement)`` applied (in order, not overlapping), and each
    replacement's span in the result with the original text it replaced."""
    pieces: list[str] = []
    spans: list[tuple[int, int, str]] = []
    out_len = 0
    cursor = 0
    for start, end, replacement in replacements:
        pieces.append(text[cursor:start])
        out_len += start - cursor
        spans.append((out_len, out_len + len(replacement), text[start:end]))
        pieces.append(replacement)
        out_len += len(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return SpinResult(
        text="".join(pieces),
        replaced=len(spans),
        candidates=candidates,
        rate=len(spans) / candidates if candidates else 0.0,
        spans=tuple(spans),
    )


def word_slots(text: str) -> list[WordSlot]:
    """Every word of ``text`` with its offsets and whether it opens a sentence."""
    slots: list[WordSlot] = []
    previous: re.Match[str] | None = None
    for match in _WORD.finditer(text):
        gap = text[previous.end() : match.start()] if previous else text[: match.start()]
        starts = previous is None or _opens_sentence(gap, previous.group())
        slots.append(WordSlot(match.start(), match.group(), starts))
        previous = match
    return slots


def proper_nouns(slots: list[WordSlot]) -> set[str]:
    """The words (lowercased) of a text written with an initial capital mid-sentence: names here (ALL CAPS is not)."""
    return {
        slot.word.lower()
        for slot in slots
        if slot.word[:1].isupper() and not slot.word.isupper() and not slot.sentence_start
    }


def _opens_sentence(gap: str, previous_word: str) -> bool:
    """Whether a word preceded by ``gap`` (the text since ``previous_word``) starts a sentence."""
    if _PARAGRAPH_BREAK.search(gap) or _OPENING_QUOTE.search(gap):
        return True
    punct = _SENTENCE_PUNCT.search(gap)
    if punct is None:
        return False
    abbreviation = len(previous_word) == 1 or previous_word.lower() in ABBREVIATIONS
    # "Mr. Brown", "John F. Kennedy": a period right after an abbreviation or an initial.
    return not (punct.start() == 0 and gap[0] == "." and abbreviation)


def _without_possessive(word: str) -> str:
    """``"nation's"`` -> ``"nation"``: the word is swapped and its ``'s`` kept."""
    match = _POSSESSIVE.fullmatch(word)
    return match.group(1) if match else word


def match_case(replacement: str, original: str) -> str:
    """Give ``replacement`` the capitalisation of ``original`` (ALL CAPS or Initial capital)."""
    if len(original) > 1 and original.isupper():
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement
