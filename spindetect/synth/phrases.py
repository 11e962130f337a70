"""A phrase-level spinner: the function-word and multiword rewrites that give spun text away.

Word-list spinners do not stop at content words. Their dictionaries also hold entries for phrases
("according to", "on the other hand", "account for") and for the light words between content words
("each", "however", "also", "through"), and they swap those as blindly as the rest: a phrase becomes
another phrase of any sense, a quantifier becomes a stock expansion of itself ("each" -> "each and
every", "each to each"). This spinner makes those rewrites from the structure of the Moby thesaurus,
which has about 4,900 multiword headwords and entries for most adverbs, prepositions and quantifiers:

- a multiword headword found in the text (longest first, up to four words, its first word in any
  inflection: "accounted for" is the headword "account for" in the past tense) is replaced by a
  synonym drawn from its entry, re-inflected the same way;
- a function word from `SPINNABLE_FUNCTION_WORDS` is replaced by a synonym from its entry.

Each rewrite happens with probability ``rate``. Content words are left to the ThesaurusSpinner; real
spinners do both, and the training data holds both kinds separately so each is measured on its own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from lemminflect import getAllLemmas

from spindetect.features.thesaurus import MobyThesaurus
from spindetect.synth.spinner import (
    SpinResult,
    SynonymSource,
    ThesaurusSpinner,
    WordSlot,
    match_case,
    splice,
    word_slots,
)
from spindetect.words import penn_tag

# Adverbs, prepositions, quantifiers and connectives that have Moby entries and that spinners swap.
# Pronouns, articles, auxiliaries and the commonest prepositions ("of", "to", "in") are left alone:
# swapping them breaks the grammar outright, which real spinners avoid and which would be too easy.
SPINNABLE_FUNCTION_WORDS: frozenset[str] = frozenset(
    """
    about above across after again against along already also although among another around because
    before behind below beside besides beyond both despite each either enough even ever except few hence
    here however just least less like many more most much near never now once only other over past quite
    rather same several since still such than then therefore though through throughout thus too toward
    under unless unlike upon very whereas while yet
    """.split()
)

MAX_PHRASE_WORDS = 4


@dataclass(frozen=True)
class _Match:
    """A phrase or function word found at a slot: how many words it spans and where its synonyms come from."""

    length: int
    key: str  # the words as found, lowercase
    source: SynonymSource


class PhraseSpinner:
    """Swap multiword phrases and function words for Moby synonyms, each with probability ``rate``.

    ``common_synonyms`` and ``word_log_frequency`` limit the draw to the most frequent synonyms, as for
    the ThesaurusSpinner (commercial spinners swap in everyday words).
    """

    def __init__(
        self,
        thesaurus: MobyThesaurus,
        rate: float,
        word_log_frequency=None,
        common_synonyms: int | None = None,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be between 0 and 1, got {rate}")
        self.thesaurus = thesaurus
        self.rate = rate
        # Its synonym lookup, filtering and drawing are the same for phrases as for single words.
        self._words = ThesaurusSpinner(
            thesaurus, rate, word_log_frequency=word_log_frequency, common_synonyms=common_synonyms
        )

    def spin(self, text: str, rng: random.Random) -> SpinResult:
        """Spin ``text``; spans in the result cover each rewrite with the original phrase."""
        slots = word_slots(text)
        replacements: list[tuple[int, int, str]] = []
        candidates = 0
        position = 0
        while position < len(slots):
            found = self._match(text, slots, position)
            if found is None:
                position += 1
                continue
            candidates += 1
            # Two draws per candidate whatever happens, so the rewrites at a low rate are nested in
            # those at a higher one (as for the ThesaurusSpinner).
            swap = rng.random() < self.rate
            choice_seed = rng.getrandbits(64)
            first, last = slots[position], slots[position + found.length - 1]
            position += found.length
            if not swap:
                continue
            replacement = self._words.draw(found.source, found.key, random.Random(choice_seed))
            if replacement is not None:
                replacements.append((first.start, last.start + len(last.word), match_case(replacement, first.word)))
        return splice(text, replacements, candidates)

    def _match(self, text: str, slots: list[WordSlot], position: int) -> _Match | None:
        """The longest phrase headword starting at ``position``, else a spinnable function word."""
        for length in range(min(MAX_PHRASE_WORDS, len(slots) - position), 1, -1):
            words = slots[position : position + length]
            if not _adjacent(text, words):
                continue
            lowered = [slot.word.lower() for slot in words]
            source = self._phrase_source(lowered)
            if source is not None:
                return _Match(length, " ".join(lowered), source)
        word = slots[position].word
        lower = word.lower()
        # A capitalised function word mid-sentence is part of a name ("Over the Rainbow").
        if lower in SPINNABLE_FUNCTION_WORDS and (word == lower or slots[position].sentence_start):
            source = self._words.synonym_source(lower)
            if source is not None:
                return _Match(1, lower, source)
        return None

    def _phrase_source(self, words: list[str]) -> SynonymSource | None:
        phrase = " ".join(words)
        if phrase in self.thesaurus:
            return self._words.synonym_source(phrase)
        # An inflected verb phrase: "accounted for" -> "account for", synonyms put into the past tense.
        rest = " ".join(words[1:])
        for lemma in getAllLemmas(words[0]).get("VERB", ()):
            headword = f"{lemma} {rest}"
            if lemma == words[0] or headword not in self.thesaurus:
                continue
            tag = penn_tag(words[0], lemma, "VERB")
            if tag is not None:
                return self._words.limited(self.thesaurus.synonyms(headword), (("VERB", tag),))
        return None


def _adjacent(text: str, slots: list[WordSlot]) -> bool:
    """Whether the words are separated by single spaces only (no punctuation or line break between)."""
    return all(text[a.start + len(a.word) : b.start] == " " for a, b in zip(slots, slots[1:]))
