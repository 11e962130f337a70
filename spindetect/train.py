"""Training a model from a config: data, features (cached), classifier, threshold, metrics, model directory."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from spindetect.cache import default_cache_dir
from spindetect.config import SpindetectConfig
from spindetect.features.cache import FeatureCache
from spindetect.features.extractor import Progress, build_extractor
from spindetect.features.resources import NGramReference
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.metrics import binary_metrics, metrics_by_rate
from spindetect.model import FeatureReference, TrainedModel, build_classifier, choose_threshold
from spindetect.synth.dataset import CorpusLocations, build_synthetic_dataset, load_sources, write_examples

logger = logging.getLogger(__name__)

DATASET_FILE = "dataset.jsonl"


def train_model(
    config: SpindetectConfig,
    output_dir: Path,
    locations: CorpusLocations | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[int], Progress] | None = None,
) -> TrainedModel:
    """Build the synthetic data, fit, pick the threshold on validation, evaluate on test, save to `output_dir`.

    `progress(total)` is called once with the number of texts to featurise and returns the per-batch
    callback of a progress bar.
    """
    started = time.monotonic()
    cache_dir = cache_dir or default_cache_dir()
    reference = NGramReference.load()
    locations = replace(locations or CorpusLocations(), cache_dir=cache_dir)
    sources = load_sources(config.data, config.seed, locations)
    thesaurus = MobyThesaurus.load()
    examples = build_synthetic_dataset(config.data, config.seed, sources, thesaurus, reference.unigram)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_examples(examples, output_dir / DATASET_FILE)

    texts = [example.text for example in examples]
    labels = np.array([example.label for example in examples])
    splits = np.array([example.split for example in examples])
    rates = np.array([example.rate for example in examples])
    logger.info("%d examples (%d spun); extracting features", len(examples), int(labels.sum()))
    extractor = build_extractor(config, reference, cache_dir, thesaurus)
    with FeatureCache(cache_dir / "features.sqlite") as cache:
        features = extractor.score(texts, progress(len(texts)) if progress else None, cache=cache)

    train, valid, test = (splits == name for name in ("train", "valid", "test"))
    classifier = build_classifier(config).fit(features[train], labels[train])
    valid_scores = classifier.predict_proba(features[valid])[:, 1]
    threshold = choose_threshold(labels[valid], valid_scores, config.threshold.strategy, config.threshold.target_fpr)
    test_scores = classifier.predict_proba(features[test])[:, 1]
    metrics = {
        "counts": {name: {"clean": int((splits == name).sum() - labels[splits == name].sum()), "spun": int(labels[splits == name].sum())} for name in ("train", "valid", "test")},
        "valid": binary_metrics(labels[valid], valid_scores, threshold),
        "test": binary_metrics(labels[test], test_scores, threshold),
        "test_by_rate": metrics_by_rate(labels[test], test_scores, rates[test], threshold),
        "training_seconds": round(time.monotonic() - started, 1),
    }
    model = TrainedModel(
        classifier=classifier,
        feature_names=extractor.feature_names,
        threshold=threshold,
        config=config,
        reference=FeatureReference.fit(features[train], labels[train]),
        metrics=metrics,
    )
    model.save(output_dir)
    return model
