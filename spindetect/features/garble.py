"""Function-word garble: the broken grammar a spinner leaves when it swaps function words and phrases.

Two cheap signals, both judged against the reference n-gram model rather than a list of bad phrases:
- a determiner or possessive directly before a word that can only be a verb ("the went"), where the model
  also finds the pair unlikely: in clean prose a determiner is followed by a noun phrase (of which a
  participle can be the adjective: "the returned goods"). On the default training data, leaving out such
  participles, capitalised words and hyphenated compounds took this flag from 19 to 9 on the 2,713
  paragraphs labelled clean (of every style) and from 135 to 124 on the 1,794 thesaurus-spun ones;
- a repeated word, alone ("officials officials") or around a conjunction ("every and every"), where the model
  has never seen the sequence: "more and more" and "side by side" are English, and the model knows them
  (it also knows "the the", from the speech it was built for, so that stays unflagged).
"""

from __future__ import annotations

from lemminflect import getAllLemmas, getInflection

from spindetect.features.ngram import normalise_text, sentence_words, words_in_sequence
from spindetect.features.resources import NGramReference
from spindetect.features.spans import FlaggedSpan

DETERMINERS = frozenset("a an the his her its their our my your this that these those each every".split())
CONJUNCTIONS = frozenset("and or by to for".split())
# A determiner-verb pair is garble only if the model finds it this much (log10) less likely than usual.
MAX_DETERMINER_VERB_PMI = -1.0
_PARTICIPLE_ENDINGS = ("ed", "en", "ing")


def _only_a_verb(word: str) -> bool:
    readings = getAllLemmas(word)
    return bool(readings) and set(readings) <= {"VERB", "AUX"}


def _adjectival_participle(word: str) -> bool:
    """Whether `word` is a participle of the kind used as an adjective: a past or present participle of one of
    the verbs it can be a form of, written with a participle's ending. Irregular forms that are also a plain
    form or a past tense ("come", "put", "found") are left out: after a determiner those are a spinner's."""
    return word.endswith(_PARTICIPLE_ENDINGS) and any(
        word in getInflection(lemma, tag) for lemma in getAllLemmas(word).get("VERB", ()) for tag in ("VBN", "VBG")
    )


def _noun_or_adjective(word: str) -> bool:
    return bool({"NOUN", "ADJ"} & set(getAllLemmas(word)))


def _verb_after_determiner(text: str, sentence: list[tuple[str, int, int]], words: list[str], i: int) -> bool:
    """Whether `words[i]` is a determiner directly before a word that can only be a verb there. Not garble: a
    capitalised word (a name or a month: "the May election"), the first part of a hyphenated compound ("the
    tell-tale sign"), a participle before the rest of its noun phrase ("the returned goods", "an inhibiting
    effect")."""
    if words[i] not in DETERMINERS or not _only_a_verb(words[i + 1]):
        return False
    written, _, end = sentence[i + 1]
    if written[:1].isupper() or text[end : end + 1] == "-":
        return False
    has_rest = i + 2 < len(words) and words_in_sequence(text, sentence[i + 1 : i + 3])
    return not (has_rest and _adjectival_participle(words[i + 1]) and _noun_or_adjective(words[i + 2]))


def find_garble(text: str, reference: NGramReference) -> list[FlaggedSpan]:
    """Spans of function-word garble in `text`, in text order."""
    spans = []
    # Normalising keeps every offset, so spans point into `text` as given.
    normalised = normalise_text(text)
    for sentence in sentence_words(normalised):
        words = [written.lower() for written, _, _ in sentence]
        for i, word in enumerate(words):
            start = sentence[i][1]
            if i + 1 < len(words) and words_in_sequence(normalised, sentence[i : i + 2]):
                following = words[i + 1]
                if _verb_after_determiner(normalised, sentence, words, i) and reference.unigram(following) is not None:
                    pmi = reference.prob(following, word) - reference.unigram(following)
                    if pmi <= MAX_DETERMINER_VERB_PMI:
                        end = sentence[i + 1][2]
                        spans.append(FlaggedSpan(start, end, text[start:end], "determiner_before_verb", min(1.0, -pmi / 3)))
                if following == word and reference.unigram(word) is not None and not reference.is_seen(word, word):
                    end = sentence[i + 1][2]
                    spans.append(FlaggedSpan(start, end, text[start:end], "repeated_word", 0.8))
            if i + 2 < len(words) and words[i + 2] == word and words[i + 1] in CONJUNCTIONS:
                if not words_in_sequence(normalised, sentence[i : i + 3]):
                    continue
                if reference.unigram(word) is not None and not reference.is_seen(word, word, words[i + 1]):
                    end = sentence[i + 2][2]
                    spans.append(FlaggedSpan(start, end, text[start:end], "repeated_word", 0.8))
    return spans
