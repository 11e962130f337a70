"""The documents of `spindetect report`, read and scored as a stream of `ReportRecord`s.

Text files and JSON Lines records are read with the readers `score` uses, and scored in the same growing
chunks as `score --jsonl` and `filter`, so a report over a large crawl holds only a chunk and the report's
sample in memory. An input that cannot be read or scored becomes a record with its error, in its place.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spindetect.filtering import chunks, score_isolating_failures
from spindetect.inputs import InputError, JsonlRecord, read_text_document
from spindetect.jsonl_inputs import STDIN, JsonlInputs
from spindetect.report_selection import ReportRecord

if TYPE_CHECKING:
    from spindetect.detector import Detector


@dataclass(frozen=True)
class NamedInput:
    """An input document before scoring: what the report calls it, and its text or why it has none."""

    name: str
    record: JsonlRecord


def text_file_inputs(paths: list[str], warn: Callable[[str], None]) -> Iterator[NamedInput]:
    """Each file (or "-", standard input) as one document, read when its turn comes."""
    for number, path in enumerate(paths, start=1):
        try:
            document = read_text_document(path)
        except InputError as error:
            yield NamedInput(path, JsonlRecord(number, None, None, str(error)))
            continue
        for warning in document.warnings:
            warn(warning)
        yield NamedInput(document.name, JsonlRecord(number, None, document.text, None))


def jsonl_record_inputs(inputs: JsonlInputs, id_field: str | None) -> Iterator[NamedInput]:
    """Each record, named by its `id_field` where it has one, else by FILE:LINE."""
    for record, position in inputs:
        path = inputs.paths[position.input_index]
        name = f"{'<stdin>' if path == STDIN else path}:{record.line_number}"
        if id_field is not None and record.fields is not None and record.fields.get(id_field) is not None:
            value = record.fields[id_field]
            name = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        yield NamedInput(name, record)


def scored_records(
    detector: Detector, inputs: Iterable[NamedInput], threshold: float | None, progress: Callable[[int], None]
) -> Iterator[ReportRecord]:
    """Every input as a scored `ReportRecord`, in order, numbered from 1; `progress(n)` after each chunk."""
    names: deque[str] = deque()  # chunks() reads ahead; the names of the records it has taken wait here

    def records() -> Iterator[JsonlRecord]:
        for item in inputs:
            names.append(item.name)
            yield item.record

    number = 0
    for chunk in chunks(records()):
        scorable = [record for record in chunk if record.error is None]
        results = iter(score_isolating_failures(detector, [record.text for record in scorable], threshold))
        for record in chunk:
            number += 1
            outcome = record.error if record.error is not None else next(results)
            if isinstance(outcome, str):  # the input's own error, or why scoring it failed
                yield ReportRecord(number, names.popleft(), record.text, None, outcome)
            else:
                yield ReportRecord(number, names.popleft(), record.text, outcome)
        progress(len(chunk))
