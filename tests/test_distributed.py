"""Ray Data in local mode with two workers gives the same rows and scores as the single-process path."""

import pytest

from spindetect.detector import Detector
from tests.texts import NEWS_SENTENCES

ray = pytest.importorskip("ray")

SENTENCES = NEWS_SENTENCES[:5]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    yield
    ray.shutdown()


def _records(count: int) -> list[dict]:
    records = []
    for number in range(count):
        words = " ".join(SENTENCES[(number + k) % len(SENTENCES)] for k in range(1 + number % 3))
        text = "" if number % 50 == 7 else f"{words} Record {number}."
        records.append({"id": number, "text": text})
    return records


def test_two_ray_workers_score_every_row_once_in_order_like_one_process(local_ray, tiny_model_dir) -> None:
    from spindetect.distributed import score_dataset

    records = _records(300)
    rows = score_dataset(ray.data.from_items(records), tiny_model_dir, workers=2, batch_size=32).take_all()
    assert [row["id"] for row in rows] == [record["id"] for record in records]

    expected = list(Detector.load(tiny_model_dir).filter(records))
    for row, decision in zip(rows, expected, strict=True):
        assert row["text"] == decision.output.get("text", row["text"])
        if decision.action == "error":
            assert row["spin_label"] is None and "empty" in row["spin_error"]
            assert row["spin_score"] != row["spin_score"]  # NaN
        elif decision.label == "unjudged":  # too short to judge: kept, with no score
            assert row["spin_label"] == "unjudged" and row["spin_score"] != row["spin_score"]
        else:
            # Batched differently (Ray's batches of 32, the filter's growing chunks), a float32 score moves by
            # rounding (4.6e-6 at most here), which can tip its fourth decimal.
            assert row["spin_score"] == pytest.approx(decision.score, abs=1e-4 + 1e-5)
            assert row["spin_label"] == decision.label == {"keep": "clean", "reject": "spun"}[decision.action]
            assert row["spin_error"] is None
    assert sum(row["spin_error"] is not None for row in rows) == 6


def test_a_missing_text_column_is_named(local_ray, tiny_model_dir) -> None:
    from spindetect.distributed import score_dataset

    with pytest.raises(KeyError, match="no column 'body'"):
        score_dataset(ray.data.from_items([{"text": "x"}]), tiny_model_dir, text_field="body")
