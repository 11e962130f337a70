"""Spin columns on a Hugging Face `datasets` dataset: typed columns, errors naming the dataset's row, num_proc."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from spindetect.config import RuntimeConfig
from spindetect.dataset_columns import SpinColumns, add_spin_columns, spin_features
from spindetect.detector import Detector
from tests.conftest import ROOT
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


# Run in a child process, so that a hang is a timeout here and not a test run that never ends.
NUM_PROC_SCRIPT = """
import json, sys
import datasets
from spindetect.dataset_columns import add_spin_columns
from spindetect.detector import Detector

detector = Detector.load(sys.argv[1])
texts = json.loads(sys.argv[2])
detector.score(texts[:1])  # torch's threads run in this process before map forks it: the case that hung
scored = add_spin_columns(datasets.Dataset.from_dict({"text": texts}), detector, batch_size=2, num_proc=2)
print(json.dumps(scored.to_dict()))
"""


def test_num_proc_scores_in_forked_workers_as_in_one_process(tiny_model_dir, detector) -> None:
    texts = [BODY, OTHER, "", BODY, None, OTHER]
    # Two OpenMP threads even on a one-core machine, where the parent would otherwise have no pool to lose.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "2"}
    child = subprocess.Popen(
        [sys.executable, "-c", NUM_PROC_SCRIPT, str(tiny_model_dir), json.dumps(texts)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, so the map's workers go with it on a timeout
    )
    try:
        stdout, stderr = child.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        pytest.fail("Dataset.map(num_proc=2) hung")
    assert child.returncode == 0, stderr[-3000:]
    scored = json.loads(stdout.splitlines()[-1])
    expected = add_spin_columns(datasets.Dataset.from_dict({"text": texts}), detector, batch_size=2).to_dict()
    assert scored["spin_label"] == expected["spin_label"]
    assert scored["spin_error"] == expected["spin_error"]
    assert scored["spin_error"][4] == "row 4: field 'text' is NoneType, not a string"  # numbered across the workers
    for got, want in zip(scored["spin_score"], expected["spin_score"], strict=True):
        assert (got is None and want is None) or got == pytest.approx(want, abs=1e-3)
