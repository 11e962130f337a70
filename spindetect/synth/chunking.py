"""Packing sentences into paragraph-sized chunks, shared by the corpus readers."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TypeVar

Sentence = TypeVar("Sentence")


def pack_sentences(sentences: Sequence[Sentence], word_counts: Sequence[int], max_words: int) -> Iterator[list[Sentence]]:
    """Pack whole sentences into chunks of at most `max_words` words, of similar sizes.

    Aiming at an even share (rather than filling each chunk to the brim) avoids a short tail chunk that
    would then fall under the minimum length. A single sentence longer than `max_words` cannot be split at
    a sentence boundary and is left out.
    """
    total = sum(word_counts)
    target = total / max(1, math.ceil(total / max_words))
    chunk: list[Sentence] = []
    size = 0
    for sentence, words in zip(sentences, word_counts, strict=True):
        if words > max_words:
            if chunk:
                yield chunk
            chunk, size = [], 0
            continue
        if chunk and (size + words > max_words or size >= target):
            yield chunk
            chunk, size = [], 0
        chunk.append(sentence)
        size += words
    if chunk:
        yield chunk
