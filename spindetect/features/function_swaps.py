"""The function-word swap test: would another function word be far likelier in this place?

Spinners swap the light words between the content words too: "during" becomes "throughout", "each" becomes
"every", "after" becomes "since". The synonym-swap test (`swap`) leaves single function words alone, since
its trigram model cannot judge them: on a spun and a clean news article, a trigram test of function-word
candidates found "throughout" for "during" no likelier a swap (gain 0.9) than the clean article's own "during"
(1.6). The language model can, and at no cost: at a function word's token it gives a probability to every
token of its vocabulary, so each candidate that is one token is read from the same pass, as the swap test's
candidates are (`swap_judge`). The words after it tell more: a swapped function word often reads well from
the left and clashes with what follows. So a paragraph's two function words whose likeliest candidate gains
most at the word are read again with it in their place and the next tokens of their sentence
(`rescoring.FOLLOWING_TOKENS`), in the second pass that reads the swap test's likeliest replacements again
(`rescoring`).

A function word's candidates are the function words Moby links to it in either direction: its entry lists
them, or theirs lists it. Spinners' lists run both ways, and Moby has no entry for some function words
("during" is only listed, under "throughout"). Spelling variants ("toward", "towards") are not candidates. A
word's gain is how much likelier (log10) the language model finds its candidate and the tokens after it than
the text as written; two features come of it, the gains of the two words read again, the higher first
(`FUNCTION_SWAP_FEATURE_NAMES`).

Prototype (the same gains from whole texts read again): phrase spins against clean paragraphs of the default
model's test split (83 and 365): a gain of 3 or more in 24% of the phrase spins and in none of the clean
paragraphs (2 or more: 33% and 1.1%); the gain at the word alone, without the tokens after it, reached 3 in 6%
and 0.5%. On a spun news article and a clean one on the same event (an evaluation pair, not trained on), the
spun article's highest gains were 4.0 ("every" in place of a written "each") and 3.7 ("during" in place of
"throughout"), the clean article's 1.3.

It is off by default (`features.function_word_swaps`): a model trained with it needs the same setting to score
(its `model.json` keeps it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from spindetect.features.ngram import highest_two, word_spans
from spindetect.features.spans import FlaggedSpan
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.words import LISTED_FUNCTION_WORDS, SPINNABLE_FUNCTION_WORDS

FUNCTION_SWAP_FEATURE_NAMES: tuple[str, ...] = ("lm_function_swap_gain_max", "lm_function_swap_gain_second")
# Bump when the test changes, so cached feature rows are recomputed. 2: spelling variants from a list, not by
# prefix, which had also left out real swaps ("through" and "throughout", "under" and "underneath"); only words
# after a single space are judged.
FUNCTION_SWAP_VERSION = 2
# One function word written two ways, never a swap: the pairs among the spinnable function words Moby links.
SPELLING_VARIANTS = frozenset(frozenset(pair) for pair in (("among", "amongst"), ("toward", "towards")))
# Function words per paragraph read again with their candidate: those whose candidate gains most at the word.
REREAD_WORDS = 2
# A word read again is flagged where its gain reaches this (log10; 3: a thousand times likelier).
MIN_FLAG_GAIN = 3.0
FULL_STRENGTH_GAIN = 5.0
_LOG2_10 = float(np.log2(10.0))


@dataclass(frozen=True)
class FunctionWord:
    """Characters `start:end` of a text: a function word the language model judges."""

    start: int
    end: int


@dataclass(frozen=True)
class FunctionWordProbes:
    """The function words of one text the language model can judge, and their candidates as probes: one entry
    per (word, candidate) pair, as parallel arrays."""

    words: tuple[FunctionWord, ...]
    word_tokens: np.ndarray  # per judged word: the index of its token among the text's tokens
    probe_words: np.ndarray  # per probe: the index of its word in `words`
    candidates: tuple[str, ...]  # per probe: the candidate, lowercase
    tokens: np.ndarray  # per probe: the token it stands in for (the word's)
    token_ids: np.ndarray  # per probe: the candidate, written as that token (with its leading space)


class FunctionWordCandidates:
    """Each spinnable function word's candidates: the function words Moby links to it either way."""

    def __init__(self, candidates: dict[str, tuple[str, ...]]) -> None:
        self.candidates = candidates

    @classmethod
    def from_thesaurus(cls, thesaurus: MobyThesaurus) -> FunctionWordCandidates:
        function_words = SPINNABLE_FUNCTION_WORDS | LISTED_FUNCTION_WORDS
        candidates = {}
        for word in sorted(function_words):
            linked = {synonym.lower() for synonym in (*thesaurus.synonyms(word), *thesaurus.reverse(word))}
            kept = sorted(other for other in linked & function_words if not _spelling_variants(word, other))
            if kept:
                candidates[word] = tuple(kept)
        return cls(candidates)

    def probes(
        self, text: str, offsets: np.ndarray, single_token: Callable[[str], int | None]
    ) -> FunctionWordProbes:
        """The function words of `text` (tokenised with `offsets`) that are one token with the single space before
        them (as byte-pair tokenizers write a word after a space), lowercase, and not the text's first token,
        with the candidates that are one token there too."""
        words: list[FunctionWord] = []
        word_tokens, probe_words, candidates, tokens, token_ids = [], [], [], [], []
        token_starts = offsets[:, 0] if offsets.size else np.zeros(0, dtype=np.int64)
        for word, start, end in word_spans(text):
            options = self.candidates.get(word)
            # A capitalised function word opens a sentence or a title, where the language model knows least.
            if options is None or text[start].isupper():
                continue
            token = int(np.searchsorted(token_starts, start, side="right")) - 1
            # Its token must be the word after one space, as the candidates are written: after a newline or two
            # spaces it is another token, and its probability would be compared with theirs.
            if token <= 0 or offsets[token, 1] != end or text[token_starts[token] : start] != " ":
                continue
            if single_token(" " + text[start:end]) is None:
                continue
            judged = [(option, token_id) for option in options if (token_id := single_token(" " + option)) is not None]
            if not judged:
                continue
            word_tokens.append(token)
            for option, token_id in judged:
                probe_words.append(len(words))
                candidates.append(option)
                tokens.append(token)
                token_ids.append(token_id)
            words.append(FunctionWord(start, end))
        return FunctionWordProbes(
            tuple(words), *(np.array(values, dtype=np.int64) for values in (word_tokens, probe_words)),
            tuple(candidates), *(np.array(values, dtype=np.int64) for values in (tokens, token_ids)),
        )


def word_gains(
    probes: FunctionWordProbes, surprisal: np.ndarray, probe_surprisal: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Per judged word: how much likelier (log10) the language model finds its likeliest candidate than the word
    as written, at the word alone, and that candidate. `surprisal`: the text's token surprisal (bits);
    `probe_surprisal`: the probes' (bits), in the order of `probes`."""
    gains = np.zeros(len(probes.words))
    best: list[str] = []
    for index, token in enumerate(probes.word_tokens.tolist()):
        mine = np.flatnonzero(probes.probe_words == index)
        likeliest = mine[int(np.argmin(probe_surprisal[mine]))]
        gains[index] = (surprisal[token] - probe_surprisal[likeliest]) / _LOG2_10
        best.append(probes.candidates[likeliest])
    return gains, best


def words_to_reread(gains: np.ndarray, suggestions: Sequence[str]) -> list[tuple[int, str]]:
    """The `REREAD_WORDS` words (index, candidate) whose candidate gains most at the word, the highest first."""
    order = np.argsort(-gains, kind="stable")[:REREAD_WORDS]
    return [(int(index), suggestions[index]) for index in order]


def function_swap_features(gains: Sequence[float]) -> np.ndarray:
    """A paragraph's `FUNCTION_SWAP_FEATURE_NAMES` from the gains of its words read again, as `highest_two` gives
    them: one word read again gives its gain twice, none gives zeros."""
    return np.array(highest_two(np.asarray(gains, dtype=np.float64)), dtype=np.float64)


def function_swap_flags(
    text: str, words: Sequence[FunctionWord], reread: Sequence[tuple[int, str]], gains: Sequence[float]
) -> list[FlaggedSpan]:
    """The words read again whose gain reaches `MIN_FLAG_GAIN`, each with its candidate as the suggestion."""
    flags = []
    for (index, candidate), gain in zip(reread, gains, strict=True):
        if gain >= MIN_FLAG_GAIN:
            word = words[index]
            strength = float(min(1.0, gain / FULL_STRENGTH_GAIN))
            flagged = text[word.start : word.end]
            flags.append(FlaggedSpan(word.start, word.end, flagged, "function_word_swap", strength, candidate))
    return flags


def _spelling_variants(word: str, other: str) -> bool:
    """"toward" and "towards", "among" and "amongst": one word written two ways, not a swap."""
    return frozenset((word, other)) in SPELLING_VARIANTS
