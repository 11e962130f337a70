import json
import os

import numpy as np
import pytest
import skops.io
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from spindetect.model import ModelError, TrainedModel, choose_threshold


def test_saved_model_loads_with_the_same_predictions(tiny_model_dir, tmp_path) -> None:
    model = TrainedModel.load(tiny_model_dir)
    rows = np.random.default_rng(0).normal(size=(5, len(model.feature_names)))
    model.save(tmp_path / "copy")
    copy = TrainedModel.load(tmp_path / "copy")
    np.testing.assert_array_equal(model.predict_proba(rows), copy.predict_proba(rows))
    assert copy.threshold == model.threshold and copy.feature_names == model.feature_names
    assert copy.config == model.config


def test_a_model_file_with_untrusted_types_is_refused(tiny_model_dir, tmp_path) -> None:
    directory = tmp_path / "evil"
    directory.mkdir()
    (directory / "model.json").write_text((tiny_model_dir / "model.json").read_text())
    # A model file may name any callable; this one would run shell commands. It must never be loaded.
    skops.io.dump(make_pipeline(FunctionTransformer(os.system)), directory / "classifier.skops")
    with pytest.raises(ModelError, match="does not trust"):
        TrainedModel.load(directory)


def test_missing_or_foreign_model_directories_explain_themselves(tiny_model_dir, tmp_path) -> None:
    with pytest.raises(ModelError, match="not a spindetect model directory"):
        TrainedModel.load(tmp_path)
    old = tmp_path / "old"
    old.mkdir()
    metadata = json.loads((tiny_model_dir / "model.json").read_text())
    metadata["format_version"] = 0
    (old / "model.json").write_text(json.dumps(metadata))
    with pytest.raises(ModelError, match="retrain"):
        TrainedModel.load(old)


def test_threshold_strategies() -> None:
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.5, 0.7, 0.8, 0.9])
    assert choose_threshold(labels, scores, "max_f1", 0.0) in (0.5, 0.7)
    # No clean text may be flagged: the cut must sit above the highest clean score.
    assert choose_threshold(labels, scores, "target_fpr", 0.01) > 0.6
