"""WordNet as a second spinner's thesaurus, read from the Debian package ``wordnet-base``.

A detector trained only on spins drawn from Moby learns Moby's word pairs as much as it learns spinning: its
synonym-swap test looks candidates up in Moby, so a Moby swap is the easiest kind to undo. Other spinners use
other dictionaries. WordNet's is built differently (synsets, one per sense, multiword lemmas such as
"take office" or "secretary of state"), so spins drawn from it are spins the swap test has no list for.

The lookup is sense-blind, as a spinner's is: a word's synonyms are the lemmas of every synset it belongs to,
in WordNet's sense order (its commonest sense first) and, within a synset, in WordNet's order; multiword
lemmas are written with spaces. The object answers what `ThesaurusSpinner` asks of a thesaurus (``in`` and
``synonyms``), so the same spinner spins with either.

Only training reads it (`data.wordnet_spin`); scoring never does. The files are WordNet 3.0's, under the
WordNet licence (free to use, copy and distribute with the copyright notice; Debian: ``wordnet-base``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from spindetect.errors import ResourceUnavailable

WORDNET_ENV = "SPINDETECT_WORDNET"
DEFAULT_WORDNET_DIR = Path("/usr/share/wordnet")
_PARTS_OF_SPEECH = ("noun", "verb", "adj", "adv")
# Adjective lemmas carry a syntactic marker in the data files: "galore(ip)", "elect(p)".
_ADJECTIVE_MARKER = re.compile(r"\([a-z]+\)$")


def locate_wordnet(explicit: Path | None = None) -> Path:
    """The directory holding WordNet's ``index.*`` and ``data.*`` files: ``explicit``, ``$SPINDETECT_WORDNET``
    or Debian's ``/usr/share/wordnet``."""
    if explicit is not None:
        directory, origin = Path(explicit).expanduser(), "The WordNet directory given"
    elif os.environ.get(WORDNET_ENV):
        directory, origin = Path(os.environ[WORDNET_ENV]).expanduser(), f"${WORDNET_ENV}"
    else:
        directory, origin = DEFAULT_WORDNET_DIR, "WordNet"
    missing = [name for pos in _PARTS_OF_SPEECH for name in (f"index.{pos}", f"data.{pos}") if not (directory / name).is_file()]
    if missing:
        raise ResourceUnavailable(
            f"{origin} ({directory}) lacks {', '.join(missing)}. The WordNet spinner (data.wordnet_spin) reads "
            f"WordNet 3.0's database files: on Debian or Ubuntu, apt-get install wordnet-base; elsewhere set "
            f"${WORDNET_ENV} to a directory holding index.noun, data.noun and the other parts of speech, or set "
            "data.wordnet_spin.enabled: false"
        )
    return directory


def _database_lines(path: Path) -> Iterator[str]:
    """The entries of one WordNet database file: every line but the licence header (which opens with spaces)."""
    with path.open(encoding="latin-1") as lines:
        yield from (line for line in lines if not line.startswith(" "))


def _synset_lemmas(line: str) -> tuple[str, list[str]]:
    """The byte offset and lemmas of one synset line of a ``data.*`` file."""
    fields = line.split(" ")
    count = int(fields[3], 16)
    lemmas = [_ADJECTIVE_MARKER.sub("", fields[4 + 2 * i]).replace("_", " ") for i in range(count)]
    return fields[0], lemmas


def _read_synsets(path: Path) -> dict[str, list[str]]:
    """Synset offset -> lemmas, for one part of speech."""
    return dict(_synset_lemmas(line) for line in _database_lines(path))


def _index_offsets(line: str) -> tuple[str, list[str]]:
    """The lemma of one line of an ``index.*`` file and its synsets' offsets, commonest sense first."""
    fields = line.split()
    synset_count, pointer_count = int(fields[2]), int(fields[3])
    offsets_start = 4 + pointer_count + 2  # after the pointer symbols, sense_cnt and tagsense_cnt
    return fields[0].replace("_", " "), fields[offsets_start : offsets_start + synset_count]


class WordNetThesaurus:
    """Word -> its sense-blind WordNet synonyms (every sense's lemmas but the word itself)."""

    def __init__(self, synonyms: dict[str, tuple[str, ...]]) -> None:
        """Prefer :meth:`load`. ``synonyms`` maps a lowercase word to its synonyms."""
        self._synonyms = synonyms

    @classmethod
    def load(cls, directory: Path | None = None) -> WordNetThesaurus:
        """Read WordNet's index and data files (see `locate_wordnet`)."""
        directory = locate_wordnet(directory)
        merged: dict[str, list[str]] = {}
        for pos in _PARTS_OF_SPEECH:
            synsets = _read_synsets(directory / f"data.{pos}")
            for word, offsets in map(_index_offsets, _database_lines(directory / f"index.{pos}")):
                entry = merged.setdefault(word.lower(), [])
                for offset in offsets:
                    entry += [lemma for lemma in synsets.get(offset, ()) if lemma.lower() != word.lower()]
        return cls({word: tuple(dict.fromkeys(found)) for word, found in merged.items() if found})

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word.lower() in self._synonyms

    def __len__(self) -> int:
        return len(self._synonyms)

    def synonyms(self, word: str) -> tuple[str, ...]:
        """The synonyms of ``word`` in WordNet's sense order; empty where it has none."""
        return self._synonyms.get(word.lower(), ())
