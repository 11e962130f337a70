"""Which scored documents an HTML report shows, and the tallies over all of them.

A report of a large crawl cannot show every document, but its summary must still count every one. The
selection streams: each record is counted (verdict, score histogram) and offered to a fixed-size random
sample of its verdict (reservoir sampling, seeded, so the same input gives the same report). At the end the
shown documents are filled in order of interest: spun first, then errors, then unjudged, then clean, each
verdict a uniform sample of its documents where not all fit. Memory stays at most four samples of
`max_documents` documents, whatever the input's size.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from spindetect.detector import DocumentResult

# In the order they are chosen for a report that cannot show everything.
VERDICTS = ("spun", "error", "unjudged", "clean")
HISTOGRAM_BINS = 20


@dataclass(frozen=True)
class ReportRecord:
    """One input document: its text and result, or why it has neither.

    `number` is its place in the input (from 1); `name` what a reader knows it by (a file name, a record id,
    `file.jsonl:12`). `error` is set when the input could not be read or scored; a `result` with its own
    error (an empty text) counts as an error too.
    """

    number: int
    name: str
    text: str | None
    result: DocumentResult | None
    error: str | None = None

    @property
    def verdict(self) -> str:
        if self.error is not None or self.result is None or self.result.label is None:
            return "error"
        return self.result.label

    @property
    def why_not_scored(self) -> str:
        return self.error or (self.result.error if self.result is not None else None) or "not scored"


@dataclass
class ReportTally:
    """Counts over every document read, shown or not."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))
    # Scores of spun and clean documents in HISTOGRAM_BINS equal bins over [0, 1]; a score of 1 goes in the last.
    histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_BINS)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, record: ReportRecord) -> None:
        self.counts[record.verdict] += 1
        if record.verdict in ("spun", "clean"):
            self.histogram[min(int(record.result.score * HISTOGRAM_BINS), HISTOGRAM_BINS - 1)] += 1


@dataclass(frozen=True)
class Selection:
    """The documents a report shows, in input order, and how many of each verdict there were and are shown."""

    shown: list[ReportRecord]
    tally: ReportTally
    shown_counts: dict[str, int]
    max_documents: int

    @property
    def complete(self) -> bool:
        return len(self.shown) == self.tally.total


class ReportSampler:
    """Counts every record offered and keeps a seeded uniform sample of each verdict (see the module)."""

    def __init__(self, max_documents: int, seed: int = 0) -> None:
        if max_documents < 1:
            raise ValueError("max_documents must be at least 1")
        self.max_documents = max_documents
        self.tally = ReportTally()
        self._random = random.Random(seed)
        self._samples: dict[str, list[ReportRecord]] = {verdict: [] for verdict in VERDICTS}

    def add(self, record: ReportRecord) -> None:
        self.tally.add(record)
        sample = self._samples[record.verdict]
        seen = self.tally.counts[record.verdict]
        if len(sample) < self.max_documents:
            sample.append(record)
        else:  # Algorithm R: the seen-th record replaces a kept one with probability max_documents / seen
            slot = self._random.randrange(seen)
            if slot < self.max_documents:
                sample[slot] = record

    def add_all(self, records: Iterable[ReportRecord]) -> None:
        for record in records:
            self.add(record)

    def selection(self) -> Selection:
        room = self.max_documents
        shown: list[ReportRecord] = []
        shown_counts = {}
        for verdict in VERDICTS:
            sample = self._samples[verdict]
            # A random part of a uniform sample is itself uniform; a fresh generator keeps this call repeatable.
            chosen = sample if len(sample) <= room else random.Random(verdict).sample(sample, room)
            shown.extend(chosen)
            shown_counts[verdict] = len(chosen)
            room -= len(chosen)
        return Selection(sorted(shown, key=lambda record: record.number), self.tally, shown_counts, self.max_documents)


def select(records: Iterable[ReportRecord], max_documents: int, seed: int = 0) -> Selection:
    """The selection of `records` a report of at most `max_documents` documents shows."""
    sampler = ReportSampler(max_documents, seed)
    sampler.add_all(records)
    return sampler.selection()
