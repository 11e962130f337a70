"""Lexical reference resources that ship inside Python packages (loaded once per process, passed in)."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from spindetect.errors import ResourceUnavailable

# pocketsphinx scores are logarithms in base 1.0001; this turns them into log10.
_LOG10_PER_UNIT = math.log10(1.0001)
# pocketsphinx's score for a word outside its vocabulary.
_OUT_OF_VOCABULARY = -536870912
# A word in the vocabulary that almost never follows anything: an unseen continuation of any history, so
# its conditional score minus its unigram score is exactly that history's back-off weight.
_PROBE_WORD = "aardvark"
# Scores are integers; the back-off identity holds to within rounding.
_ROUNDING = 2


def pocketsphinx_lm_path() -> Path:
    spec = importlib.util.find_spec("pocketsphinx")
    if spec is None or spec.origin is None:
        raise ResourceUnavailable("the n-gram features need pocketsphinx: pip install pocketsphinx")
    path = Path(spec.origin).parent / "model" / "en-us" / "en-us.lm.bin"
    if not path.is_file():
        raise ResourceUnavailable(f"{path} is missing; reinstall pocketsphinx")
    return path


class NGramReference:
    """The CMU US-English trigram model from pocketsphinx, with log10 probabilities.

    Words are lowercase. Histories are given oldest first (`prob("state", "secretary", "of")`), unlike
    pocketsphinx's own call, which takes them reversed.
    """

    def __init__(self, model) -> None:
        self.model = model
        # Bounded caches: a long run over a large corpus must not grow memory without limit.
        self.unigram = lru_cache(maxsize=200_000)(self._unigram)
        self._backoff = lru_cache(maxsize=200_000)(self._compute_backoff)

    @classmethod
    def load(cls, path: Path | None = None) -> NGramReference:
        from pocketsphinx import NGramModel

        path = path or pocketsphinx_lm_path()
        try:
            return cls(NGramModel.readfile(str(path)))
        except ValueError as error:
            raise ResourceUnavailable(f"cannot read the n-gram model {path}: {error}") from None

    def _unigram(self, word: str) -> float | None:
        """log10 p(word), or None when the word is outside the vocabulary."""
        score = self.model.prob([word])
        return None if score == _OUT_OF_VOCABULARY else score * _LOG10_PER_UNIT

    def prob(self, word: str, *history: str) -> float:
        """log10 p(word | history) with back-off; history oldest first, all words in the vocabulary."""
        return self.model.prob([word, *reversed(history)]) * _LOG10_PER_UNIT

    def chain(self, history: Sequence[str], words: Sequence[str]) -> float:
        """log10 p(words | history), each word conditioned on the two before it; all words in the vocabulary.

        The synonym-swap test calls this for every candidate of every span, so it sums the model's integer
        scores and converts once, without the per-call list building of `prob`.
        """
        prob = self.model.prob
        older = history[-2] if len(history) >= 2 else None
        newer = history[-1] if history else None
        total = 0
        for word in words:
            if newer is None:
                total += prob([word])
            elif older is None:
                total += prob([word, newer])
            else:
                total += prob([word, newer, older])
            older, newer = newer, word
        return total * _LOG10_PER_UNIT

    def knows_sequence(self, words: Sequence[str]) -> bool:
        """Whether the model stores every word of `words` (lowercase), each pair of neighbours and each triple:
        a sequence of ordinary English, not one it can only score by backing off."""
        return (
            len(words) > 1
            and all(self.unigram(word) is not None for word in words)
            and all(self.is_seen(second, first) for first, second in zip(words, words[1:]))
            and all(self.is_seen(third, first, second) for first, second, third in zip(words, words[1:], words[2:]))
        )

    def is_seen(self, word: str, *history: str) -> bool:
        """Whether the model stores the n-gram `history + word` itself rather than backing off."""
        if not history:
            return self.unigram(word) is not None
        with_history = self.model.prob([word, *reversed(history)])
        shorter = self.model.prob([word, *reversed(history[1:])])
        return abs(with_history - shorter - self._backoff(history)) > _ROUNDING

    def _compute_backoff(self, history: tuple[str, ...]) -> int:
        probe_with = self.model.prob([_PROBE_WORD, *reversed(history)])
        probe_without = self.model.prob([_PROBE_WORD, *reversed(history[1:])])
        return probe_with - probe_without
