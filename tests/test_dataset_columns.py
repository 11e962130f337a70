"""Spin columns on a Hugging Face `datasets` dataset: typed columns and errors naming the dataset's row."""

from __future__ import annotations

import pytest

from spindetect.config import RuntimeConfig
from spindetect.dataset_columns import SpinColumns, add_spin_columns, spin_features
from spindetect.detector import Detector
from tests.texts import NEWS_SENTENCES

datasets = pytest.importorskip("datasets")

BODY = " ".join(NEWS_SENTENCES[:2])
OTHER = " ".join(NEWS_SENTENCES[2:4])


@pytest.fixture(scope="module")
def detector(tiny_model_dir) -> Detector:
    return Detector.load(tiny_model_dir)


@pytest.mark.parametrize(
    "texts",
    [
        pytest.param([BODY, OTHER, "", BODY, None, OTHER], id="no-error-in-the-first-batch"),
        pytest.param(["", None, BODY, OTHER, BODY, OTHER], id="nothing-scored-in-the-first-batch"),
    ],
)
def test_a_column_all_null_in_the_first_batch_takes_values_later(detector, texts) -> None:
    dataset = datasets.Dataset.from_dict({"id": list(range(len(texts))), "text": texts})
    scored = add_spin_columns(dataset, detector, batch_size=2)
    assert scored.features["spin_score"] == datasets.Value("float64")
    assert scored.features["spin_label"] == scored.features["spin_error"] == datasets.Value("string")
    columns = scored.to_dict()
    assert columns["id"] == list(range(len(texts)))  # every row, in order
    assert [error is not None for error in columns["spin_error"]] == [not text for text in texts]
    assert [score is not None for score in columns["spin_score"]] == [bool(text) for text in texts]
    assert all(label in ("spun", "clean") for label, text in zip(columns["spin_label"], texts) if text)


def test_an_error_names_its_row_in_the_dataset_not_in_its_batch(tiny_model_dir) -> None:
    detector = Detector.load(tiny_model_dir, runtime=RuntimeConfig(max_document_chars=1000))
    too_long = " ".join([BODY] * 8)
    texts = [BODY, OTHER, BODY, OTHER, BODY, "  ", OTHER, None, too_long]
    scored = add_spin_columns(datasets.Dataset.from_dict({"text": texts}), detector, batch_size=4)
    errors = {row: error for row, error in enumerate(scored["spin_error"]) if error is not None}
    assert errors == {
        5: "row 5: field 'text' is empty",
        7: "row 7: field 'text' is NoneType, not a string",
        8: f"row 8: text has {len(too_long):,} characters, over the limit of 1,000",
    }


def test_map_called_directly_takes_the_declared_types_and_names_no_row_it_cannot_know(detector) -> None:
    dataset = datasets.Dataset.from_dict({"text": [BODY, OTHER, "", BODY]})
    scored = dataset.map(SpinColumns(detector), batched=True, batch_size=2, features=spin_features(dataset.features))
    assert scored.to_dict()["spin_error"] == [None, None, "this row: field 'text' is empty", None]


def test_a_missing_text_column_is_named_before_any_scoring(detector) -> None:
    dataset = datasets.Dataset.from_dict({"body": [BODY]})
    with pytest.raises(KeyError, match="no column 'text'; columns: body"):
        add_spin_columns(dataset, detector)


def test_remove_columns_goes_to_map_with_the_types_of_what_is_left(detector) -> None:
    dataset = datasets.Dataset.from_dict({"id": [1, 2], "text": [BODY, ""]})
    scored = add_spin_columns(dataset, detector, remove_columns="id")
    assert scored.column_names == ["text", "spin_score", "spin_label", "spin_error"]

