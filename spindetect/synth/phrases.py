"""A phrase-level spinner: the function-word and multiword rewrites that give spun text away.

Word-list spinners do not stop at content words. Their dictionaries also hold entries for phrases
("according to", "on the other hand", "account for") and for the light words between content words
("each", "however", "also", "through"), and they swap those as blindly as the rest: a phrase becomes
another phrase of any sense, a quantifier becomes a stock expansion of itself ("each" -> "each and
every", "each to each"). This spinner makes those rewrites from the structure of the Moby thesaurus,
which has about 4,900 multiword headwords and entries for most adverbs, prepositions and quantifiers:

- a multiword headword found in the text (longest first, up to four words, its first word in any
  inflection: "accounted for" is the headword "account for" in the past tense) is replaced by a
  synonym drawn from its entry, re-inflected the same way: a phrase becomes a phrase or a single word;
- a function word from `SPINNABLE_FUNCTION_WORDS` is replaced by a synonym from its entry;
- a connective phrase or function word Moby has no entry for but lists under a spinnable function word
  ("because of", "as well as" and "during" are listed, "during" under "throughout") is replaced by a
  function word whose entry lists it: a spinner's lists run both ways;
- with ``content_words`` above 0, a content word becomes one of its multiword synonyms, any sense
  ("office" -> "branch office"), re-inflected as the ThesaurusSpinner does. Single-word swaps of content
  words stay the ThesaurusSpinner's; the training data holds both kinds apart so each is measured alone.

Each rewrite happens with probability ``rate``. Four habits of commercial spinners can be switched on:

- chained spins (``chain``, ``chain_depth``): a replacement is spun again, one of its words or phrases
  swapped in turn, as by a spinner run twice or nested spintax ("according to" -> "in accordance with"
  -> "in harmony with");
- the first listed synonym (``first_synonym_share``): a share of the paragraphs is spun by taking the first
  usable synonym of each list instead of a random one, as some spinners do;
- rates that vary by sentence (``untouched_sentences``, ``sentence_spread``): some sentences are left
  alone, the others spun at rates spread around the paragraph's;
- every replacement, chained or not, is recorded in `SpinResult.spans`: its offsets in the spun text and
  the words of the original it replaced.

Off (their defaults), the spinner draws from ``rng`` exactly as it did without them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from itertools import accumulate
from dataclasses import dataclass

from lemminflect import getAllLemmas

from spindetect.features.thesaurus import MobyThesaurus
from spindetect.synth.spinner import (
    SpinResult,
    SynonymSource,
    ThesaurusSpinner,
    WordSlot,
    match_case,
    proper_nouns,
    splice,
    word_slots,
)
from spindetect.words import LISTED_FUNCTION_WORDS, SPINNABLE_FUNCTION_WORDS, STOPWORDS, penn_tag

# Auxiliaries, modals and subject pronouns: a phrase of function words led by one ("is in", "has been",
# "would be", "it is that") is grammar, not a connective, even where Moby has an entry for it.
_GRAMMATICAL_LEADS: frozenset[str] = frozenset(
    """
    am is are was were be been being have has had having do does did will would shall should can could may
    might must i you he she it we they
    """.split()
)

MAX_PHRASE_WORDS = 4


@dataclass(frozen=True)
class _Match:
    """A phrase or word found at a slot: how many words it spans and where its synonyms come from."""

    length: int
    key: str  # the words as found, lowercase
    source: SynonymSource
    content: bool = False  # a content word (swapped with probability `content_words` times the rate)


@dataclass(frozen=True)
class _Habits:
    """How one paragraph is spun: which synonym is taken, and each sentence's share of the rate."""

    first_listed: bool
    sentence_weights: tuple[float, ...]


def listed_function_phrases(thesaurus: MobyThesaurus) -> dict[str, tuple[str, ...]]:
    """Connective phrases (multiword, up to `MAX_PHRASE_WORDS` words, no Moby entry of their own) and
    `LISTED_FUNCTION_WORDS`, each mapped to the spinnable function words whose entries list it, in
    alphabetical order: "because of" -> ("since", ...), "during" -> ("over", "through", "throughout")."""
    listed: dict[str, list[str]] = {}
    for word in sorted(SPINNABLE_FUNCTION_WORDS):
        for synonym in thesaurus.synonyms(word):
            words = synonym.split()
            phrase = 2 <= len(words) <= MAX_PHRASE_WORDS and synonym == synonym.lower()
            if (phrase or synonym in LISTED_FUNCTION_WORDS) and synonym not in thesaurus:
                listed.setdefault(synonym, []).append(word)
    return {key: tuple(words) for key, words in listed.items()}


class PhraseSpinner:
    """Swap multiword phrases and function words for Moby synonyms, each with probability ``rate``.

    ``common_synonyms`` and ``word_log_frequency`` limit the draw to the most frequent synonyms, as for
    the ThesaurusSpinner (commercial spinners swap in everyday words). ``content_words`` is the chance,
    relative to ``rate``, that a content word becomes one of its multiword synonyms; ``chain`` the chance
    that a replacement is spun again (up to ``chain_depth`` times); ``first_synonym_share`` the share of
    paragraphs spun with the first listed synonym; ``untouched_sentences`` the share of sentences left
    alone and ``sentence_spread`` how far the others' rates spread around ``rate`` (0: all at the
    paragraph's; 1: anywhere from none to twice, which keeps ``rate`` the paragraph's expected share).
    """

    def __init__(
        self,
        thesaurus: MobyThesaurus,
        rate: float,
        word_log_frequency=None,
        common_synonyms: int | None = None,
        *,
        content_words: float = 0.0,
        chain: float = 0.0,
        chain_depth: int = 2,
        first_synonym_share: float = 0.0,
        untouched_sentences: float = 0.0,
        sentence_spread: float = 0.0,
    ) -> None:
        for name, value in (
            ("rate", rate),
            ("content_words", content_words),
            ("chain", chain),
            ("first_synonym_share", first_synonym_share),
            ("sentence_spread", sentence_spread),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if not 0.0 <= untouched_sentences < 1.0:
            raise ValueError(f"untouched_sentences must be at least 0 and below 1, got {untouched_sentences}")
        if chain_depth < 0:
            raise ValueError(f"chain_depth must be 0 or more, got {chain_depth}")
        self.thesaurus = thesaurus
        self.rate = rate
        self.content_words = content_words
        self.chain = chain
        self.chain_depth = chain_depth
        self.first_synonym_share = first_synonym_share
        self.untouched_sentences = untouched_sentences
        self.sentence_spread = sentence_spread
        # Its synonym lookup, filtering and drawing are the same for phrases as for single words.
        self._words = ThesaurusSpinner(
            thesaurus, rate, word_log_frequency=word_log_frequency, common_synonyms=common_synonyms
        )
        # Content words swapped by this spinner become phrases: their most common multiword synonyms.
        self._to_phrases = ThesaurusSpinner(
            thesaurus, rate, word_log_frequency=word_log_frequency, common_synonyms=common_synonyms, only_multiword=True
        )
        self._listed = listed_function_phrases(thesaurus)
        # Synonym sources depend on the word alone: kept across paragraphs, by kind ("phrase", "function",
        # "content" and "to_phrase") and word.
        self._sources: dict[tuple[str, str], SynonymSource | None] = {}

    def spin(self, text: str, rng: random.Random) -> SpinResult:
        """Spin ``text``; spans in the result cover each rewrite with the original phrase."""
        slots = word_slots(text)
        sentence_of = _sentence_numbers(slots)
        habits = self._habits(rng, sentence_of[-1] + 1 if slots else 0)
        names = proper_nouns(slots)
        content = self._to_phrases if self.content_words > 0 else None
        replacements: list[tuple[int, int, str]] = []
        candidates = 0
        for position, found in self._scan(text, slots, names, content):
            candidates += 1
            # Two draws per candidate whatever happens, so the rewrites at a low rate are nested in
            # those at a higher one (as for the ThesaurusSpinner); a chain draws from the choice's seed.
            chance = self.rate * habits.sentence_weights[sentence_of[position]]
            swap = rng.random() < (chance * self.content_words if found.content else chance)
            choice_seed = rng.getrandbits(64)
            if not swap:
                continue
            first, last = slots[position], slots[position + found.length - 1]
            choice = random.Random(choice_seed)
            replacement = self._choose(found, choice, habits.first_listed)
            if replacement is not None:
                replacement = self._chained(replacement, found.key, choice, habits.first_listed)
                replacements.append((first.start, last.start + len(last.word), match_case(replacement, first.word)))
        return splice(text, replacements, candidates)

    def _habits(self, rng: random.Random, sentences: int) -> _Habits:
        """This paragraph's policy and sentence rates, from one draw of ``rng`` (none when all are off)."""
        if not (self.first_synonym_share or self.untouched_sentences or self.sentence_spread):
            return _Habits(False, (1.0,) * sentences)
        draw = random.Random(rng.getrandbits(64))
        first_listed = draw.random() < self.first_synonym_share
        drawn = [(draw.random() < self.untouched_sentences, draw.random()) for _ in range(sentences)]
        if drawn and all(untouched for untouched, _ in drawn):
            # A paragraph is never left whole: its sentence of the highest level is spun.
            top = max(range(sentences), key=lambda sentence: drawn[sentence][1])
            drawn[top] = (False, drawn[top][1])
        # The touched sentences make up for the untouched ones: on average, the paragraph's rate.
        scale = 1 / (1 - self.untouched_sentences)
        return _Habits(
            first_listed,
            tuple(0.0 if untouched else scale * (1 + self.sentence_spread * (2 * level - 1)) for untouched, level in drawn),
        )

    def _choose(self, found: _Match, rng: random.Random, first_listed: bool) -> str | None:
        if first_listed:
            return self._words.first_listed(found.source, found.key)
        return self._words.draw(found.source, found.key, rng)

    def _chained(self, replacement: str, original: str, rng: random.Random, first_listed: bool) -> str:
        """``replacement`` spun again, one word or phrase of it at a time, each time with probability
        ``chain`` and at most ``chain_depth`` times; never back into ``original``."""
        for _ in range(self.chain_depth):
            if rng.random() >= self.chain:
                break
            # Any word or phrase of it, content words included, for any of their synonyms.
            slots = word_slots(replacement)
            units = list(self._scan(replacement, slots, set(), self._words))
            if not units:
                break
            position, found = units[rng.randrange(len(units))]
            first, last = slots[position], slots[position + found.length - 1]
            respun = self._choose(found, rng, first_listed)
            if respun is None:
                break
            end = last.start + len(last.word)
            chained = replacement[: first.start] + match_case(respun, first.word) + replacement[end:]
            if chained.lower() == original:
                break
            replacement = chained
        return replacement

    def _scan(
        self, text: str, slots: list[WordSlot], names: set[str], content: ThesaurusSpinner | None
    ) -> Iterator[tuple[int, _Match]]:
        """Each candidate of ``text`` left to right, with the position of its first word; none overlap."""
        position = 0
        while position < len(slots):
            found = self._match(text, slots, position, names, content)
            if found is None:
                position += 1
                continue
            yield position, found
            position += found.length

    def _match(
        self, text: str, slots: list[WordSlot], position: int, names: set[str], content: ThesaurusSpinner | None
    ) -> _Match | None:
        """The longest phrase starting at ``position``, else a spinnable function word, else (with a
        ``content`` spinner to give its synonyms) a content word."""
        for length in range(min(MAX_PHRASE_WORDS, len(slots) - position), 1, -1):
            words = slots[position : position + length]
            if not _adjacent(text, words):
                continue
            lowered = [slot.word.lower() for slot in words]
            if lowered[0] in _GRAMMATICAL_LEADS and all(word in STOPWORDS for word in lowered):
                continue
            key = " ".join(lowered)
            source = self._cached("phrase", key, self._phrase_source)
            if source is not None:
                return _Match(length, key, source)
        slot = slots[position]
        lower = slot.word.lower()
        # A capitalised function word mid-sentence is part of a name ("Over the Rainbow").
        if lower in SPINNABLE_FUNCTION_WORDS or lower in LISTED_FUNCTION_WORDS:
            if slot.word == lower or slot.sentence_start:
                source = self._cached("function", lower, self._function_word_source)
                return _Match(1, lower, source) if source is not None else None
            return None
        if content is not None and content.eligible(slot.word, slot.sentence_start, names):
            kind = "to_phrase" if content is self._to_phrases else "content"
            source = self._cached(kind, lower, content.synonym_source)
            if source is not None:
                return _Match(1, lower, source, content=True)
        return None

    def _cached(self, kind: str, key: str, look_up: Callable[[str], SynonymSource | None]) -> SynonymSource | None:
        if (kind, key) not in self._sources:
            self._sources[kind, key] = look_up(key)
        return self._sources[kind, key]

    def _function_word_source(self, word: str) -> SynonymSource | None:
        if word in self._listed:
            return self._words.limited(self._listed[word], ())
        return self._words.synonym_source(word)

    def _phrase_source(self, phrase: str) -> SynonymSource | None:
        if phrase in self.thesaurus:
            return self._words.synonym_source(phrase)
        if phrase in self._listed:
            return self._words.limited(self._listed[phrase], ())
        # An inflected verb phrase: "accounted for" -> "account for", synonyms put into the past tense.
        first, _, rest = phrase.partition(" ")
        for lemma in getAllLemmas(first).get("VERB", ()):
            headword = f"{lemma} {rest}"
            if lemma == first or headword not in self.thesaurus:
                continue
            tag = penn_tag(first, lemma, "VERB")
            if tag is not None:
                return self._words.limited(self.thesaurus.synonyms(headword), (("VERB", tag),))
        return None


def _sentence_numbers(slots: list[WordSlot]) -> list[int]:
    """The number of the sentence each word is in, counting from 0 (the first word always opens one)."""
    return [opened - 1 for opened in accumulate(slot.sentence_start for slot in slots)]


def _adjacent(text: str, slots: list[WordSlot]) -> bool:
    """Whether the words are separated by single spaces only (no punctuation or line break between)."""
    return all(text[a.start + len(a.word) : b.start] == " " for a, b in zip(slots, slots[1:]))
