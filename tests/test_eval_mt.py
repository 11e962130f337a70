"""training/eval_mt.py: each MT sample's garbled paragraphs against their own clean counterpart."""

from __future__ import annotations

import pytest

from spindetect.detector import Detector

from .conftest import load_training_script


@pytest.fixture(scope="module")
def eval_mt():
    return load_training_script("eval_mt")


def test_garbled_paragraphs_meet_their_post_edits_or_the_samples_error_free_translations(eval_mt) -> None:
    garbled, post_edits = eval_mt.garbled_and_clean("mlqe-et-en", 4, 13)
    assert len(garbled) == len(post_edits) > 50 and garbled[0] != post_edits[0]
    garbled, no_error = eval_mt.garbled_and_clean("mqm-zh-en", 4, 13)
    assert garbled and no_error and not set(garbled) & set(no_error)


def test_the_report_says_which_samples_the_model_trained_on(eval_mt, tiny_model_dir, monkeypatch) -> None:
    # Two paragraphs of each kind are enough to check the accounting; the tiny model trains on si-en and zh-en.
    real = eval_mt.garbled_and_clean
    monkeypatch.setattr(eval_mt, "garbled_and_clean", lambda *args: tuple(part[:2] for part in real(*args)))
    results = eval_mt.evaluate(Detector.load(tiny_model_dir), ["mlqe-si-en", "mlqe-et-en"])
    assert results["mlqe-si-en"]["trained_on"] and not results["mlqe-et-en"]["trained_on"]
    for result in results.values():
        assert result["garbled"] + result["clean"] + result["unjudged"] == 4 and 0 <= result["roc_auc"] <= 1
    assert "| mlqe-et-en | no |" in eval_mt.markdown(results)
