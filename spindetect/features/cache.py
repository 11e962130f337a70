"""An on-disk cache of feature rows, keyed by feature family version and text.

Language-model features cost about a third of a second per paragraph on a laptop CPU; caching them means
retraining a classifier, or changing another feature family, does not rerun the language model.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np


class FeatureCache:
    """Feature vectors in a SQLite file: one row per (family key, text hash)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._connection = sqlite3.connect(path)
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS features (family TEXT, text_hash TEXT, vector BLOB, PRIMARY KEY (family, text_hash))"
        )

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> FeatureCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def _hash(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, family: str, texts: Sequence[str]) -> dict[int, np.ndarray]:
        """Cached vectors by text index; texts not in the cache are absent."""
        found = {}
        for index, text in enumerate(texts):
            row = self._connection.execute(
                "SELECT vector FROM features WHERE family = ? AND text_hash = ?", (family, self._hash(text))
            ).fetchone()
            if row is not None:
                found[index] = np.frombuffer(row[0], dtype=np.float64)
        return found

    def put(self, family: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        rows = [(family, self._hash(text), vector.astype(np.float64).tobytes()) for text, vector in zip(texts, vectors, strict=True)]
        with self._connection:
            self._connection.executemany("INSERT OR REPLACE INTO features VALUES (?, ?, ?)", rows)


def score_with_cache(
    score: Callable[[Sequence[str]], np.ndarray],
    family: str,
    n_features: int,
    texts: Sequence[str],
    cache: FeatureCache,
    batch_size: int = 256,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Rows of `score(texts)`, computing only the texts the cache lacks, in batches saved as they finish."""
    result = np.zeros((len(texts), n_features))
    cached = cache.get(family, texts)
    for index, vector in cached.items():
        result[index] = vector
    if progress is not None and cached:
        progress(len(cached))
    missing = [index for index in range(len(texts)) if index not in cached]
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        batch_texts = [texts[index] for index in batch]
        vectors = score(batch_texts)
        cache.put(family, batch_texts, vectors)
        result[batch] = vectors
        if progress is not None:
            progress(len(batch))
    return result
