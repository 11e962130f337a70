"""Reading a user's labeled texts (JSON Lines, CSV or Parquet) for evaluation, calibration and training.

Labels may be booleans, 0/1, or strings: "spun" and "clean" are understood, and `spun_values` names the
user's own positive labels ("garbled", "machine"); every other string counts as clean only when the user
says so with `clean_values`, so a typo in a label never passes silently as clean.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spindetect.config import DataConfig, LabeledFileConfig, SegmentationConfig
from spindetect.segment import segment
from spindetect.synth.dataset import Example, assign_splits

DEFAULT_SPUN_VALUES = ("spun", "1", "true")
DEFAULT_CLEAN_VALUES = ("clean", "0", "false")
# The `style` of training examples from the user's files, by label.
LABELED_STYLES = {0: "labeled_clean", 1: "labeled_spun"}


class LabeledDataError(ValueError):
    """A labeled file that cannot be used, with the reason and where."""


@dataclass(frozen=True)
class LabeledData:
    texts: list[str]
    labels: np.ndarray  # 1 = spun or garbled, 0 = clean
    groups: list[str] | None  # the group field's value per text, when one was asked for
    skipped: int  # rows without a usable text (counted, and reported by the caller)


def read_rows(path: Path) -> list[dict]:
    """All rows of a .jsonl/.json (JSON Lines), .csv or .parquet file, or of a dataset saved with
    `datasets` (a directory), as dicts."""
    if path.is_dir():
        return _saved_dataset_rows(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".json", ".ndjson"):
            rows = []
            with open(path, encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    if line.strip():
                        try:
                            rows.append(json.loads(line))
                        except json.JSONDecodeError as error:
                            raise LabeledDataError(f"{path}:{number}: invalid JSON: {error}") from None
            return rows
        if suffix == ".csv":
            with open(path, encoding="utf-8", newline="") as handle:
                return list(csv.DictReader(handle))
        if suffix == ".parquet":
            try:
                import pyarrow.parquet
            except ImportError:
                raise LabeledDataError("reading Parquet needs pyarrow: pip install pyarrow") from None
            return pyarrow.parquet.read_table(path).to_pylist()
    except OSError as error:
        raise LabeledDataError(f"{path}: cannot read: {error.strerror or error}") from None
    raise LabeledDataError(f"{path}: unknown format {suffix!r}; use .jsonl, .csv, .parquet or a saved dataset directory")


def _saved_dataset_rows(path: Path) -> list[dict]:
    from datasets import Dataset, load_from_disk

    try:
        dataset = load_from_disk(str(path))
    except FileNotFoundError:
        raise LabeledDataError(f"{path}: a directory, but not a dataset saved with datasets' save_to_disk") from None
    if not isinstance(dataset, Dataset):
        names = ", ".join(dataset)
        raise LabeledDataError(f"{path}: a dataset with splits ({names}); name one, e.g. {path / next(iter(dataset))}")
    return dataset.to_list()


def _label(value: object, spun: set[str], clean: set[str]) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    key = str(value).strip().lower()
    if key in spun:
        return 1
    if key in clean:
        return 0
    return None


def read_labeled(
    path: Path,
    text_field: str = "text",
    label_field: str = "label",
    group_field: str | None = None,
    spun_values: tuple[str, ...] = (),
    clean_values: tuple[str, ...] = (),
) -> LabeledData:
    rows = read_rows(path)
    if not rows:
        raise LabeledDataError(f"{path}: no rows")
    spun = {value.lower() for value in (*DEFAULT_SPUN_VALUES, *spun_values)}
    clean = {value.lower() for value in (*DEFAULT_CLEAN_VALUES, *clean_values)}
    texts, labels, groups = [], [], []
    unknown: Counter[str] = Counter()
    skipped = 0
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or label_field not in row:
            fields = ", ".join(repr(name) for name in list(row)[:10]) if isinstance(row, dict) else type(row).__name__
            raise LabeledDataError(f"{path}: row {number} has no label field {label_field!r} (it has: {fields or 'nothing'})")
        text = row.get(text_field)
        if not isinstance(text, str) or not text.strip():
            skipped += 1
            continue
        label = _label(row[label_field], spun, clean)
        if label is None:
            unknown[str(row[label_field])] += 1
            continue
        texts.append(text)
        labels.append(label)
        if group_field is not None:
            groups.append(str(row.get(group_field, "")))
    if unknown:
        shown = ", ".join(f"{value!r} ({count})" for value, count in unknown.most_common(5))
        raise LabeledDataError(
            f"{path}: labels neither spun nor clean: {shown}; declare them as spun or clean values "
            "(spun_values / clean_values; --spun-value / --clean-value on the command line)"
        )
    if not texts:
        raise LabeledDataError(f"{path}: no row has a text in field {text_field!r}; is the text in another field?")
    return LabeledData(texts, np.array(labels), groups if group_field is not None else None, skipped)


def labeled_examples(
    files: Sequence[LabeledFileConfig], segmentation: SegmentationConfig, data: DataConfig, seed: int
) -> list[Example]:
    """Training examples from the user's labeled files: each text cut into paragraphs as a scored document is;
    the paragraphs long enough to judge take the text's label, and one text's paragraphs (one group's, with a
    `group_field`) share a split."""
    per_text: list[tuple[str, int, list[str]]] = []
    for file in files:
        labeled = read_labeled(
            file.path, file.text_field, file.label_field, file.group_field, tuple(file.spun_values), tuple(file.clean_values)
        )
        for number, (text, label) in enumerate(zip(labeled.texts, labeled.labels.tolist(), strict=True), start=1):
            paragraphs = [p.text for p in segment(text, segmentation.min_words, segmentation.max_paragraph_words) if not p.too_short]
            # Texts of one group (a document and its spun copy, one site) share a split, so none is tested
            # on a near twin of what it was trained on.
            source = f"group {labeled.groups[number - 1]}" if labeled.groups is not None else str(number)
            if paragraphs:
                per_text.append((f"{file.path.name}:{source}", int(label), paragraphs))
    if not per_text:
        return []
    splits = assign_splits((source_id for source_id, _, _ in per_text), data.valid_fraction, data.test_fraction, seed)
    return [
        Example(paragraph, label, splits[source_id], source_id, LABELED_STYLES[label], 0.0, 0)
        for source_id, label, paragraphs in per_text
        for paragraph in paragraphs
    ]
