"""Word classes and inflection shared by the spinner (which swaps words) and the swap test (which undoes swaps)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from lemminflect import getAllInflections, getAllLemmas, getInflection, getLemma

# Function words: determiners, pronouns, auxiliaries and modals, prepositions, conjunctions, and a few
# grammatical adverbs and particles. A spinner leaves them alone; the swap test suspects them only as part
# of a phrase ("the went").
STOPWORDS: frozenset[str] = frozenset(
    """
    a an the this that these those some any each every either neither no all both few many much
    more most less least other another such what which whose whatever whichever own same several
    enough
    i me my mine myself you your yours yourself yourselves he him his himself she her hers herself
    it its itself we us our ours ourselves they them their theirs themselves one ones who whom
    whoever someone somebody something anyone anybody anything everyone everybody everything
    nobody nothing none
    be am is are was were been being have has had having do does did doing done will would shall
    should can could may might must ought need dare get gets got gotten
    about above across after against along amid among amongst around as at before behind below
    beneath beside besides between beyond but by despite down during except for from in inside
    into like near of off on onto out outside over past per since than through throughout till to
    toward towards under underneath unlike until unto up upon via with within without
    and or nor so yet if unless because although though while whereas whether when whenever where
    wherever why how then once lest
    not never also just only very too quite rather even still already again ever here there now
    thus hence therefore however yes
    """.split()
)

# Adverbs, prepositions, quantifiers and connectives that have Moby entries and that spinners swap: the phrase
# spinner swaps them, and the function-word swap test (`features.function_swaps`) looks for their swaps.
# Pronouns, articles, auxiliaries and the commonest prepositions ("of", "to", "in") are left alone:
# swapping them breaks the grammar outright, which real spinners avoid and which would be too easy.
SPINNABLE_FUNCTION_WORDS: frozenset[str] = frozenset(
    """
    about above across after again against all along already also although among another any around
    because before behind below beside besides beyond both despite each either enough even ever except
    few hence here however inside just least less like many more most much near never none now once only
    other outside over own past per quite rather same several since some still such than then therefore
    though through throughout thus too toward under underneath unless unlike upon very whereas while
    without yet
    """.split()
)

# Function words Moby has no entry for but lists under spinnable ones ("during" under "throughout",
# "every" under "each", "until" under "before"): they are swapped for a word whose entry lists them.
LISTED_FUNCTION_WORDS: frozenset[str] = frozenset("amid amongst beneath during every onto towards until via".split())

# Cardinal numbers written as words are numbers too: swapping "two" for "brace" changes facts
# rather than wording. (Ordinals such as "first" behave like adjectives and stay candidates.)
NUMBER_WORDS: frozenset[str] = frozenset(
    """
    zero two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
    hundred thousand million billion trillion dozen hundreds thousands millions billions dozens
    """.split()
)

_VERBS = {"VERB", "AUX"}
_NOUNS = {"NOUN", "PROPN"}


def penn_tag(word: str, lemma: str, upos: str) -> str | None:
    """The Penn tag under which ``lemma`` inflects to ``word`` ("took", "take" -> "VBD")."""
    for tag, forms in getAllInflections(lemma, upos=upos).items():
        if word in forms:
            return tag
    return None


def inflected_readings(word: str) -> dict[str, tuple[tuple[str, str], ...]]:
    """Per part of speech, the (lemma, Penn tag) pairs under which ``word`` is an inflected form of a lemma
    other than itself ("took" -> {"VERB": (("take", "VBD"),)})."""
    readings = {}
    for upos, lemmas in getAllLemmas(word).items():
        pairs = []
        for lemma in lemmas:
            tag = penn_tag(word, lemma, upos) if lemma != word else None
            if tag is not None:
                pairs.append((lemma, tag))
        if pairs:
            readings[upos] = tuple(pairs)
    return readings


def known_lemmas(word: str, upos: str) -> tuple[str, ...]:
    """The lemmas of ``word`` in this part of speech that lemminflect knows (none guessed)."""
    return tuple(getLemma(word, upos=upos, lemmatize_oov=False))


def known_forms(lemma: str, tag: str) -> tuple[str, ...]:
    """The forms of ``lemma`` under this Penn tag that lemminflect knows (none guessed)."""
    return tuple(getInflection(lemma, tag=tag, inflect_oov=False))


def inflect(
    synonym: str,
    readings: tuple[tuple[str, str], ...],
    lemmas: Callable[[str, str], tuple[str, ...]] = known_lemmas,
    forms: Callable[[str, str], tuple[str, ...]] = known_forms,
) -> str | None:
    """Put ``synonym`` into the form of the first reading it fits; None when none fits. ``lemmas`` and
    ``forms`` look words up (an `Inflector` passes memoised ones)."""
    words = synonym.split(" ")
    for upos, tag in readings:
        head = head_index(words, upos)
        if head is None:
            continue
        # Moby sometimes lists an inflected form ("avails"), so inflect its lemma. A head word
        # lemminflect does not know in this part of speech ("unmoving" in the entry for "pat")
        # would be guessed into a non-word ("unmovinged"); word-list spinners do not make those.
        head_lemmas = lemmas(words[head], upos)
        head_forms = forms(head_lemmas[0], tag) if head_lemmas else ()
        if head_forms:
            return " ".join([*words[:head], head_forms[0], *words[head + 1 :]])
    return None


class Inflector:
    """`inflect` and `inflected_readings` with lemminflect's lookups memoised per instance.

    lemminflect deep-copies its tables on every call, and the swap test asks about the same words under many
    spans: uncached, these lookups took over half of its search for candidates, which a corpus's first
    paragraphs pay in full.
    """

    def __init__(self, maxsize: int = 200_000) -> None:
        self.readings = lru_cache(maxsize=maxsize)(inflected_readings)
        self._lemmas = lru_cache(maxsize=maxsize)(known_lemmas)
        self._forms = lru_cache(maxsize=maxsize)(known_forms)
        self.inflect = lru_cache(maxsize=maxsize)(self._inflect)

    def _inflect(self, synonym: str, readings: tuple[tuple[str, str], ...]) -> str | None:
        return inflect(synonym, readings, self._lemmas, self._forms)


def head_index(words: list[str], upos: str) -> int | None:
    """Which word of a synonym carries the inflection: the only one, a verb phrase's first
    ("accede to"), a noun phrase's last ("branch office"); None for multiword adjectives and
    adverbs, and for a phrase ending in a particle or preposition (a phrasal verb) read as
    anything but a verb."""
    if len(words) == 1:
        return 0
    if upos in _VERBS:
        return 0
    if words[-1].lower() in STOPWORDS:
        return None
    if upos in _NOUNS:
        return len(words) - 1
    return None
