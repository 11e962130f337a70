"""Tortured phrases: known garblings of established terms ("counterfeit consciousness" for "artificial
intelligence"), found by lookup in the Problematic Paper Screener's public list.

A lookup is certain where it fires but blind to phrases the list lacks, so `split_lexicon` holds part of the
list out to measure whether the statistical detectors catch tortured phrases nobody has listed yet.

Matching works on tokens, not raw strings, so that the rules stay simple and offsets stay exact: a token is a
word (letters and digits, with inner apostrophes) or a single punctuation character; whitespace and hyphens
only separate tokens, which is what lets "data-set" meet "data set" and a line break sit between two words.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from spindetect.features.ngram import normalise_text
from spindetect.features.spans import FlaggedSpan

REASON = "tortured_phrase"
CERTAIN_STRENGTH = 1.0
# The screener's curators marked some expected phrases "(?)": the phrase is surely tortured, the suggestion
# less surely right.
UNCERTAIN_STRENGTH = 0.7
UNCERTAIN_MARK = "(?)"
HEADER = ("tortured", "expected")

# ASCII hyphen, Unicode hyphen, non-breaking hyphen, en dash ("Euler–Bernoulli").
_HYPHENS = "\\-\u2010\u2011\u2013"
# A word, or else any single character that is neither whitespace nor a hyphen (punctuation, "_").
_TOKEN = re.compile(rf"[^\W_]+(?:'[^\W_]+)*|[^\s{_HYPHENS}]")
# What may separate two tokens of one match: whitespace (line breaks too) with at most one hyphen.
_GAP = re.compile(rf"\s*(?:[{_HYPHENS}]\s*)?")
_UNCERTAIN = re.compile(r"\s*\(\?\)")
_TRAILING_NOTES = re.compile(r"(?:\s*\([^()]*\))+\s*$")
_WORD_KEY = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_SIBILANT_ENDINGS = ("x", "z", "ch", "sh")


class LexiconFormatError(ValueError):
    """A lexicon file that cannot be read as `tortured<TAB>expected` lines; names the file and line."""

    def __init__(self, source: str, line: int, problem: str) -> None:
        super().__init__(f"{source}, line {line}: {problem}")
        self.source = source
        self.line = line


@dataclass(frozen=True)
class _Entry:
    index: int  # position of the pair in the lexicon
    suggestion: str | None
    plural_suggestion: str | None
    strength: float


@dataclass
class _Node:
    """A trie over tokens: a phrase is a path from the root; `entry` marks where a phrase ends."""

    children: dict[str, _Node] = field(default_factory=dict)
    entry: _Entry | None = None


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    entry: _Entry
    plural: bool


def _tokens(text: str) -> tuple[list[str], list[int], list[int]]:
    """Keys (lowercased, apostrophes straightened), starts and ends of a text's tokens."""
    # normalise_text swaps one character for one, so offsets into it are offsets into `text`; so does lower()
    # except for a few characters ("İ"), where each token is lowered on its own instead.
    normalised = normalise_text(text)
    lowered = normalised.lower()
    if len(lowered) == len(normalised):
        found = list(_TOKEN.finditer(lowered))
        keys = [m.group() for m in found]
    else:
        found = list(_TOKEN.finditer(normalised))
        keys = [m.group().lower() for m in found]
    return keys, [m.start() for m in found], [m.end() for m in found]


def phrase_key(phrase: str) -> tuple[str, ...]:
    """The token sequence a phrase is indexed and matched by."""
    return tuple(_tokens(phrase)[0])


def _singulars(key: str) -> Iterator[str]:
    """What a word might be without a plural "-es" or "-s" (both tried: "bases" may be "base" or "bas")."""
    if len(key) > 3 and key.endswith("es"):
        yield key[:-2]
    if len(key) > 2 and key.endswith("s"):
        yield key[:-1]


def clean_suggestion(expected: str) -> str:
    """The expected phrase without the screener's "(?)" marks."""
    return " ".join(_UNCERTAIN.sub("", expected).split())


def pluralise(phrase: str) -> str:
    """Pluralise the last word of a phrase the simple way, before any trailing "(notes)": "neural networks
    (CNN)"; a phrase already ending in "s", or in something other than a letter, is left alone."""
    notes = _TRAILING_NOTES.search(phrase)
    head, tail = (phrase[: notes.start()], phrase[notes.start() :]) if notes else (phrase, "")
    lowered = head.lower()
    if not head or not head[-1].isalpha() or lowered.endswith("s"):
        return phrase
    if lowered.endswith(_SIBILANT_ENDINGS):
        head += "es"
    elif lowered.endswith("y") and len(lowered) > 1 and lowered[-2] not in "aeiou":
        head = head[:-1] + "ies"
    else:
        head += "s"
    return head + tail


class TorturedPhraseLexicon:
    """Known tortured phrases, indexed once as a trie over tokens; `find(text)` returns where they occur."""

    def __init__(
        self, pairs: tuple[tuple[str, str], ...], common_english: Callable[[tuple[str, ...]], bool] | None = None
    ) -> None:
        """`common_english(words)`: whether a phrase is ordinary English, so not looked for (see `load`)."""
        self._pairs = pairs
        self._root = _Node()
        for index, (tortured, expected) in enumerate(pairs):
            key = phrase_key(tortured)
            if not key:
                raise ValueError(f"pair {index + 1} ({tortured!r} -> {expected!r}): the tortured phrase has no words")
            if not self._matchable(key, expected) or (common_english is not None and common_english(key)):
                continue
            node = self._root
            for token in key:
                node = node.children.setdefault(token, _Node())
            if node.entry is None:  # the first pair listed wins; later duplicates add nothing to find
                suggestion = clean_suggestion(expected) or None
                node.entry = _Entry(
                    index=index,
                    suggestion=suggestion,
                    plural_suggestion=pluralise(suggestion) if suggestion else None,
                    strength=UNCERTAIN_STRENGTH if UNCERTAIN_MARK in expected else CERTAIN_STRENGTH,
                )
        # One-word phrases whose plural may open a match ("brilliants" for "brilliant").
        self._plural_candidates = frozenset(
            plural
            for word, node in self._root.children.items()
            if node.entry is not None
            for plural in (word + "s", word + "es")
        )

    @staticmethod
    def _matchable(key: tuple[str, ...], expected: str) -> bool:
        """Whether a pair can be looked for without flagging correct prose: not a single word ("brilliant"
        for "smart devices" would fire on ordinary text), and not a phrase that is part of its own expected
        term (the list has "neural network" for "artificial neural network"). Such pairs stay in `pairs`."""
        expected_key = phrase_key(clean_suggestion(expected))
        inside_expected = any(expected_key[i : i + len(key)] == key for i in range(len(expected_key) - len(key) + 1))
        return len(key) > 1 and not inside_expected

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> TorturedPhraseLexicon:
        return cls(tuple((tortured, expected) for tortured, expected in pairs))

    @classmethod
    def load(
        cls, path: Path | None = None, common_english: Callable[[tuple[str, ...]], bool] | None = None
    ) -> TorturedPhraseLexicon:
        """Read a `tortured<TAB>expected` file with that header line (default: the list shipped in the package).

        With `common_english` (`lexical.scoring_lexicon` passes `NGramReference.knows_sequence`), phrases it
        calls ordinary English stay in `pairs` but are not looked for. The shipped list has some that are tortured
        only in a paper's context and everyday elsewhere ("search engine" for "machine learning", "on the off
        chance" for "computer-aided"); found in web text they made clean paragraphs certain spun. The reference
        model knows 31 of the shipped phrases, word pair by word pair and triple by triple.
        """
        if path is None:
            resource = importlib.resources.files("spindetect") / "data" / "tortured_phrases.tsv"
            source = str(resource)
            if not resource.is_file():
                raise FileNotFoundError(f"the packaged tortured-phrase list is missing: {source}; reinstall spindetect")
            data = resource.read_bytes()
        else:
            source = str(path)
            if not path.is_file():
                raise FileNotFoundError(f"tortured-phrase list not found: {source}")
            data = path.read_bytes()
        return cls(tuple(_parse_tsv(data, source)), common_english)

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return self._pairs

    def __len__(self) -> int:
        return len(self._pairs)

    def find(self, text: str) -> list[FlaggedSpan]:
        """Non-overlapping listed phrases in text order; where matches overlap, the longest is kept."""
        kept: list[_Match] = []
        for match in sorted(self._matches(text), key=lambda m: (m.start - m.end, m.start, m.plural)):
            if all(match.end <= other.start or other.end <= match.start for other in kept):
                kept.append(match)
        kept.sort(key=lambda m: m.start)
        return [
            FlaggedSpan(
                start=match.start,
                end=match.end,
                text=text[match.start : match.end],
                reason=REASON,
                strength=match.entry.strength,
                suggestion=match.entry.plural_suggestion if match.plural else match.entry.suggestion,
            )
            for match in kept
        ]

    def _matches(self, text: str) -> list[_Match]:
        """Every listed phrase in the text, overlapping ones included."""
        keys, starts, ends = _tokens(text)
        children = self._root.children
        matches: list[_Match] = []
        for first, key in enumerate(keys):
            # Most tokens start no phrase: check that before anything else (this loop is the hot path).
            if key not in children and not (key[-1] == "s" and key in self._plural_candidates):
                continue
            node = self._root
            for last in range(first, len(keys)):
                key = keys[last]
                if last > first and _GAP.fullmatch(text, ends[last - 1], starts[last]) is None:
                    break
                if key[-1] == "s":
                    for singular in _singulars(key):
                        plural_of = node.children.get(singular)
                        if plural_of is not None and plural_of.entry is not None:
                            matches.append(_Match(starts[first], ends[last], plural_of.entry, plural=True))
                next_node = node.children.get(key)
                if next_node is None:
                    break
                node = next_node
                if node.entry is not None:
                    matches.append(_Match(starts[first], ends[last], node.entry, plural=False))
        return matches

    def listed_inside(self, phrase: str) -> set[int]:
        """Indices of the pairs whose tortured phrase occurs within `phrase` (itself included, when listed)."""
        return {match.entry.index for match in self._matches(phrase)}


def _parse_tsv(data: bytes, source: str) -> Iterator[tuple[str, str]]:
    lines = data.splitlines()
    if not lines:
        raise LexiconFormatError(source, 1, "the file is empty; expected the header 'tortured<TAB>expected'")
    for number, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise LexiconFormatError(source, number, f"not UTF-8 text ({error.reason})") from None
        if number == 1:
            line = line.removeprefix("\ufeff")  # a byte-order mark some editors write
        fields = tuple(line.split("\t"))
        if number == 1:
            if fields != HEADER:
                raise LexiconFormatError(source, 1, f"expected the header 'tortured<TAB>expected', found {line!r}")
            continue
        if not line.strip():
            continue
        if len(fields) != 2:
            raise LexiconFormatError(
                source, number, f"expected 2 tab-separated fields (tortured, expected), found {len(fields)}: {line!r}"
            )
        tortured, expected = (value.strip() for value in fields)
        if not phrase_key(tortured) or not expected:
            raise LexiconFormatError(
                source, number, f"both the tortured and the expected phrase must have words: {line!r}"
            )
        yield tortured, expected


def _expected_key(expected: str) -> str:
    """What makes two expected phrases "the same" for the split: their words, notes in brackets dropped,
    the last word taken without a plural "s" ("neural networks (CNN)" ~ "neural network")."""
    words = _WORD_KEY.findall(normalise_text(re.sub(r"\([^()]*\)", " ", expected)).lower())
    if not words:
        return normalise_text(expected).lower().strip()
    words[-1] = words[-1].removesuffix("s")
    return " ".join(words)


def _tortured_key(tortured: str) -> tuple[str, ...]:
    key = list(phrase_key(tortured))
    key[-1] = key[-1].removesuffix("s")
    return tuple(key)


def _groups(lexicon: TorturedPhraseLexicon) -> list[list[int]]:
    """Pair indices grouped so that no group is a variant of another: pairs are joined when they share an
    expected phrase, when their tortured phrases are the same up to a plural, or when one tortured phrase
    contains another (which a lookup of the one would otherwise catch in the other)."""
    parent = list(range(len(lexicon)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    def join(a: int, b: int) -> None:
        parent[root(a)] = root(b)

    first_with: dict[object, int] = {}
    for index, (tortured, expected) in enumerate(lexicon.pairs):
        for key in (("expected", _expected_key(expected)), ("tortured", _tortured_key(tortured))):
            join(index, first_with.setdefault(key, index))
        for inside in lexicon.listed_inside(tortured):
            join(index, inside)
    groups: dict[int, list[int]] = {}
    for index in range(len(lexicon)):
        groups.setdefault(root(index), []).append(index)
    return list(groups.values())


def split_lexicon(
    lexicon: TorturedPhraseLexicon, held_out_fraction: float, seed: int
) -> tuple[TorturedPhraseLexicon, TorturedPhraseLexicon]:
    """Split into (detection, held-out) parts, about `held_out_fraction` of the pairs held out.

    Whole groups of variants move together (see `_groups`), so a held-out pair is not a rewording of a
    listed one. The order comes from a seeded hash of each group's first pair, so the same seed gives the
    same split on any machine and Python version.
    """
    if not 0.0 <= held_out_fraction <= 1.0:
        raise ValueError(f"held_out_fraction must be between 0 and 1, got {held_out_fraction}")
    pairs = lexicon.pairs

    def order(group: list[int]) -> str:
        tortured, expected = pairs[group[0]]
        return hashlib.sha256(f"{seed}\t{tortured}\t{expected}".encode()).hexdigest()

    target = round(held_out_fraction * len(pairs))
    held_out: set[int] = set()
    for group in sorted(_groups(lexicon), key=order):
        if len(held_out) >= target:
            break
        held_out.update(group)
    detection = [pair for index, pair in enumerate(pairs) if index not in held_out]
    kept_out = [pair for index, pair in enumerate(pairs) if index in held_out]
    return TorturedPhraseLexicon.from_pairs(detection), TorturedPhraseLexicon.from_pairs(kept_out)
