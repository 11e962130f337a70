"""Parquet files read as records: row by row, in record batches, each row a dict of all its columns.

Rows stream in batches of BATCH_ROWS (`ParquetFile.iter_batches`), so memory holds one batch of rows and the
column chunks of one row group, whatever the file's size. Every column is kept, so output records carry them
all; values JSON has no type for are written as JSON can hold them (`json_value`). A row whose text column is
missing, null, empty or not a string is an error record, as a JSON Lines line would be.

Resuming checks the rows read, as for JSON Lines it checks the bytes read: the position's digest covers each
row as the JSON line it becomes (and the file's size is checked, as every input's is), so a file rewritten
with other rows before the resume point is refused. Hashing only the footer would be cheaper, but it misses a
value changed in place; one JSON encoding per row costs nothing beside scoring the row.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import uuid
from collections.abc import Iterator
from typing import BinaryIO

from spindetect.inputs import InputError, JsonlRecord, check_record
from spindetect.outputs import json_line

PARQUET_MAGIC = b"PAR1"
# Rows converted at a time: small enough that a batch of long documents stays a few MB.
BATCH_ROWS = 256


def json_value(value: object) -> object:
    """`value` as JSON can hold it: bytes as base64 text, dates and times as ISO 8601 text, durations as
    seconds, decimals as text (exact: a float would round them), maps as objects, anything else unknown as
    its text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime.date | datetime.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return str(value)


class ParquetReader:
    """The rows of one Parquet file, in order, as records; `offset` and `line_number` count rows."""

    def __init__(self, raw: BinaryIO, name: str, text_field: str) -> None:
        try:
            import pyarrow.parquet
        except ImportError:
            raise InputError(f"{name}: reading Parquet needs pyarrow: pip install pyarrow") from None
        try:
            self._file = pyarrow.parquet.ParquetFile(raw)
        except Exception as error:  # noqa: BLE001  pyarrow's errors for a damaged footer are of several kinds
            raise InputError(f"{name}: not a readable Parquet file: {error}") from None
        self.name = name
        self.text_field = text_field
        self.num_rows = self._file.metadata.num_rows
        self.rows_read = 0
        self._rows = self._iter_rows()

    def _iter_rows(self) -> Iterator[dict]:
        try:
            for batch in self._file.iter_batches(batch_size=BATCH_ROWS):
                # Maps as dicts; "lossy" keeps the last value of a key repeated in one map, as JSON would.
                yield from batch.to_pylist(maps_as_pydicts="lossy")
        except Exception as error:  # noqa: BLE001  a damaged page or a failing disk, after the footer read well
            raise InputError(f"{self.name}: cannot read past row {self.rows_read:,}: {error}") from None

    def _next(self, digest) -> tuple[dict, dict] | None:
        row = next(self._rows, None)
        if row is None:
            return None
        fields = {str(column): json_value(value) for column, value in row.items()}
        digest.update(json_line(fields))
        self.rows_read += 1
        return row, fields

    def skip(self, wanted: int | None, digest) -> int:
        """Reads up to `wanted` rows (None: all) into `digest` without making records; the rows read."""
        read = 0
        while (wanted is None or read < wanted) and self._next(digest) is not None:
            read += 1
        return read

    def records(self, offset: int, line_number: int, digest) -> Iterator[tuple[JsonlRecord, int, int]]:
        """Each remaining row's record, with the rows read after it (twice: as offset and as line number)."""
        while (read := self._next(digest)) is not None:
            row, fields = read
            offset += 1
            line_number += 1
            where = f"{self.name} row {line_number}"
            if isinstance(row.get(self.text_field), bytes):  # its base64 text would otherwise be scored
                error = f"{where}: field {self.text_field!r} is binary data (a bytes column), not a string"
                yield JsonlRecord(line_number, fields, None, error), offset, line_number
            else:
                yield check_record(fields, line_number, self.text_field, where), offset, line_number

    def share_read(self) -> float:
        return self.rows_read / self.num_rows if self.num_rows else 1.0
