import json

import numpy as np

from spindetect.config import load_config
from spindetect.model import TrainedModel
from spindetect.synth.dataset import CorpusLocations
from spindetect.train import DATASET_FILE, train_model

from .conftest import BROWN_SAMPLE, ROOT


def test_training_is_deterministic_and_splits_never_share_a_source(tiny_model_dir, tmp_path) -> None:
    config = load_config(ROOT / "configs" / "test.yaml")
    again = tmp_path / "again"
    train_model(config, again, CorpusLocations(brown_dir=BROWN_SAMPLE), cache_dir=tmp_path / "fresh-cache")

    assert (again / DATASET_FILE).read_text() == (tiny_model_dir / DATASET_FILE).read_text()
    first, second = TrainedModel.load(tiny_model_dir), TrainedModel.load(again)
    assert first.threshold == second.threshold
    rows = np.random.default_rng(1).normal(size=(20, len(first.feature_names)))
    np.testing.assert_array_equal(first.predict_proba(rows), second.predict_proba(rows))
    first_metrics = {k: v for k, v in first.metrics.items() if k != "training_seconds"}
    assert first_metrics == {k: v for k, v in second.metrics.items() if k != "training_seconds"}

    examples = [json.loads(line) for line in (again / DATASET_FILE).read_text().splitlines()]
    splits_of_source: dict[str, set[str]] = {}
    for example in examples:
        splits_of_source.setdefault(example["source_id"], set()).add(example["split"])
    assert all(len(splits) == 1 for splits in splits_of_source.values())
    assert {example["split"] for example in examples} == {"train", "valid", "test"}
    spun = [example for example in examples if example["label"] == 1]
    assert spun and all(example["replaced"] > 0 and example["style"] == "thesaurus_spin" for example in spun)


def test_training_writes_plots_of_the_test_split(tiny_model_dir) -> None:
    for name in ("roc.png", "pr.png", "score_histogram.png", "recall_by_rate.png"):
        path = tiny_model_dir / "plots" / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
