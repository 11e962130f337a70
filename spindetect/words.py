"""Word classes and inflection shared by the spinner (which swaps words) and the swap test (which undoes swaps)."""

from __future__ import annotations

from lemminflect import getAllInflections, getInflection, getLemma

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


def inflect(synonym: str, readings: tuple[tuple[str, str], ...]) -> str | None:
    """Put ``synonym`` into the form of the first reading it fits; None when none fits."""
    words = synonym.split(" ")
    for upos, tag in readings:
        head = head_index(words, upos)
        if head is None:
            continue
        # Moby sometimes lists an inflected form ("avails"), so inflect its lemma. A head word
        # lemminflect does not know in this part of speech ("unmoving" in the entry for "pat")
        # would be guessed into a non-word ("unmovinged"); word-list spinners do not make those.
        lemmas = getLemma(words[head], upos=upos, lemmatize_oov=False)
        forms = getInflection(lemmas[0], tag=tag, inflect_oov=False) if lemmas else ()
        if forms:
            return " ".join([*words[:head], forms[0], *words[head + 1 :]])
    return None


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
