"""The deletion test: do the words after a poorly fitting word read better without it?

A word's fit (`perplexity.word_fits`) looks only to the left: how likely the language model finds the word
after the text before it. A swapped word or phrase also breaks the words after it, and a causal model can
only see that by reading them again. Reading them with the word deleted needs no candidate for what the word
replaced, so it works where no thesaurus knows the original ("low citizen turnout": "turnout" reads far better
after "low" than after "low citizen"; in "low voter turnout", "voter" makes it likelier). A word that belongs
carries information the next words use, so deleting it makes them less likely.

Each of a paragraph's worst-fitting words (`DELETED_WORDS`) is read again this way, with the next tokens of
its sentence after it (`rescoring.FOLLOWING_TOKENS`), as a second short pass over the paragraph's cached keys
and values like the context gains (`rescoring`). Its deletion fit is its own fit less `DELETION_WEIGHT` times
how many more bits the following tokens cost with it than without it.

It is off by default (`features.deletion_test`): the shipped model was trained without it, and a model
trained with it needs the same setting to score (its `model.json` keeps it). Two features come of it, the
lowest two deletion fits (`DELETION_FEATURE_NAMES`), after the other language-model features.

Prototype (whole texts read again, 8 tokens after the word; `training/README.md`, "The deletion test"): the
lowest deletion fit of a paragraph's three worst words told tortured paragraphs from the clean ones of their
documents at ROC-AUC 0.824 (0.792 for the lowest plain fit of the same words, 0.814 for the lowest two-word
run), phrase spins from clean test paragraphs at 0.901 (0.843; 0.891) and 5% thesaurus spins at 0.766 (0.720;
0.773). Beside the lowest two-word run, in a logistic model cross-validated by document, it added 0.022 on
tortured paragraphs, 0.018 on phrase spins and 0.006 on 5% thesaurus spins; weight 0.25 added 0.018, 0.008
and 0.001 (alone it did a little better on tortured paragraphs, 0.831); weights 1 and 2 were lower alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spindetect.features.ngram import lowest_two
from spindetect.features.rescoring import FOLLOWING_TOKENS, Continuation

# Words read again without themselves, per paragraph: its worst-fitting ones.
DELETED_WORDS = 3
# Bits of the following tokens' change that count against a word's fit (see the prototype above).
DELETION_WEIGHT = 0.5
# The features of the deletion test, in the order `deletion_features` gives them.
DELETION_FEATURE_NAMES: tuple[str, ...] = ("lm_deletion_fit_min", "lm_deletion_fit_second_min")


def deletion_continuations(
    text: str,
    token_ids: Sequence[int],
    offsets: np.ndarray,
    word_fits: np.ndarray,
    word_spans: Sequence[tuple[int, int]],
    sentence_ends: Sequence[int],
    limit: int = DELETED_WORDS,
    following: int = FOLLOWING_TOKENS,
) -> list[Continuation]:
    """Continuations that read the `limit` worst-fitting words' following tokens with the word deleted.

    `word_fits` and `word_spans` are the text's scored words (`perplexity.WordFits`); `token_ids` and `offsets`
    its scored tokens and their character spans; `sentence_ends` where its sentences end, in order. A word is
    read again only where its tokens cover it exactly, from whitespace before it (so the tokens after it are the
    same in both versions, and deleting it removes that space too), not from the text's first token, and where
    a token of its sentence follows it. Each continuation's `span` is the word's index among `word_spans`.
    """
    found = []
    starts, ends = offsets[:, 0], offsets[:, 1]
    for index in np.argsort(word_fits, kind="stable")[:limit].tolist():
        word_start, word_end = word_spans[index]
        # Deleted with the whitespace before it: from the token holding the character before the word (" Prior"
        # in a byte-pair tokenizer, " " in one of characters), which must hold only whitespace before the word.
        first = int(np.searchsorted(starts, word_start - 1, side="right")) - 1
        after = int(np.searchsorted(starts, word_end, side="left"))
        if first <= 0 or ends[first] < word_start or not text[starts[first] : word_start].isspace():
            continue
        if after <= first or after >= len(token_ids) or ends[after - 1] != word_end:
            continue
        sentence_end = sentence_ends[min(int(np.searchsorted(sentence_ends, word_end, side="left")), len(sentence_ends) - 1)]
        last = min(after + following, int(np.searchsorted(starts, sentence_end, side="left")), len(token_ids))
        if last <= after:
            continue
        found.append(Continuation(index, first, last - first, tuple(token_ids[after:last])))
    return found


def deletion_fits(
    word_fits: np.ndarray, written_surprisal: np.ndarray, found: Sequence[Continuation], surprisal: Sequence[np.ndarray]
) -> np.ndarray:
    """Per continuation of `deletion_continuations`: the deleted word's fit (bits) less `DELETION_WEIGHT` times
    how many more bits its following tokens cost as written than without it. `written_surprisal`: the text's
    token surprisal; `surprisal`: each continuation's, token by token."""
    values = []
    for continuation, bits in zip(found, surprisal, strict=True):
        following_end = continuation.first_token + continuation.written_tokens
        written_following = written_surprisal[following_end - bits.size : following_end].sum()
        values.append(word_fits[continuation.span] - DELETION_WEIGHT * (written_following - bits.sum()))
    return np.array(values, dtype=np.float64)


def deletion_features(fits: np.ndarray) -> np.ndarray:
    """The `DELETION_FEATURE_NAMES` of a text's deletion fits: the lowest two, as `ngram.lowest_two` gives them."""
    return np.array(lowest_two(fits), dtype=np.float64)
