"""Reading documents from files, standard input and JSON Lines, with errors a user can act on."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

# Bytes of a file inspected to tell text from binary data.
_SNIFF_BYTES = 8192
# Share of control characters (other than tab/newline/carriage return/form feed) above which data is binary.
_MAX_CONTROL_SHARE = 0.1
_TEXT_CONTROLS = {9, 10, 12, 13}


class InputError(ValueError):
    """An input that cannot be scored; the message names it and says why."""


@dataclass(frozen=True)
class TextDocument:
    name: str
    text: str
    warnings: tuple[str, ...] = ()


def looks_binary(data: bytes) -> bool:
    sample = data[:_SNIFF_BYTES]
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte < 32 and byte not in _TEXT_CONTROLS)
    return bool(sample) and controls / len(sample) > _MAX_CONTROL_SHARE


def decode_text(data: bytes, name: str) -> TextDocument:
    """UTF-8 text (a BOM is dropped); invalid bytes become U+FFFD with a warning; binary data is an error."""
    if looks_binary(data):
        raise InputError(f"{name}: looks like a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
        warnings: tuple[str, ...] = ()
    except UnicodeDecodeError:
        text = data.decode("utf-8-sig", errors="replace")
        bad = text.count("\ufffd")
        warnings = (f"{name}: {bad} byte sequence(s) are not valid UTF-8 and were replaced by U+FFFD",)
    if not text.strip():
        raise InputError(f"{name}: empty text, nothing to score")
    return TextDocument(name, text, warnings)


def read_text_document(path: str) -> TextDocument:
    """A whole file (or standard input for "-") as one document."""
    if path == "-":
        return decode_text(sys.stdin.buffer.read(), "<stdin>")
    file = Path(path)
    if file.is_dir():
        raise InputError(f"{path}: is a directory; give the files inside it")
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror or error}") from None
    return decode_text(data, path)


@dataclass(frozen=True)
class JsonlRecord:
    """One input line: either a record with its text, or the reason it cannot be scored."""

    line_number: int
    fields: dict | None  # the parsed object (kept in the output), None if the line is not a JSON object
    text: str | None
    error: str | None
    raw: str | None = None  # the line as read, kept when it is not a JSON object (so nothing is lost)


def parse_jsonl_line(line: bytes, line_number: int, text_field: str, source: str = "<stdin>") -> JsonlRecord:
    where = f"{source}:{line_number}"
    try:
        value = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return JsonlRecord(line_number, None, None, f"{where}: invalid JSON: {error}", _as_read(line))
    except RecursionError:
        return JsonlRecord(line_number, None, None, f"{where}: JSON nested too deeply to read", _as_read(line))
    record = check_record(value, line_number, text_field, where)
    return record if record.fields is not None else replace(record, raw=_as_read(line))


def _as_read(line: bytes) -> str:
    return line.decode("utf-8", "replace").rstrip("\r\n")


def check_record(value: object, line_number: int, text_field: str, where: str) -> JsonlRecord:
    """A parsed record with its text, or the reason it cannot be scored (`where` names it in the message)."""
    if not isinstance(value, dict):
        return JsonlRecord(line_number, None, None, f"{where}: expected a JSON object, got {type(value).__name__}")
    if text_field not in value:
        fields = ", ".join(repr(name) for name in list(value)[:10]) or "none"
        return JsonlRecord(line_number, value, None, f"{where}: no field {text_field!r} (its fields: {fields})")
    text = value[text_field]
    if not isinstance(text, str):
        return JsonlRecord(line_number, value, None, f"{where}: field {text_field!r} is {type(text).__name__}, not a string")
    if not text.strip():
        return JsonlRecord(line_number, value, None, f"{where}: field {text_field!r} is empty")
    # Only the first _SNIFF_BYTES are inspected; as many characters encode to at least that many bytes.
    if looks_binary(text[:_SNIFF_BYTES].encode("utf-8", "replace")):
        return JsonlRecord(line_number, value, None, f"{where}: field {text_field!r} looks like binary data, not text")
    return JsonlRecord(line_number, value, text, None)
