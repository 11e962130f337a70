"""Training a model from a config: data, features (cached), classifier, threshold, metrics, model directory."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from spindetect.cache import default_cache_dir
from spindetect.cascade import choose_band
from spindetect.config import CascadeConfig, DataConfig, SpindetectConfig
from spindetect.cross_validation import cross_validated_metrics, unlisted_tortured_metrics
from spindetect.features.cache import FeatureCache
from spindetect.features.extractor import FeatureExtractor, Progress, build_extractor
from spindetect.features.perplexity import LM_FEATURE_PREFIX, LanguageModelScorer
from spindetect.features.resources import NGramReference
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.features.tortured import TorturedPhraseLexicon
from spindetect.features.word_probe import WORD_PROBE_FEATURE_NAMES
from spindetect.labeled import LABELED_STYLES, labeled_examples
from spindetect.detector import Detector
from spindetect.metrics import binary_metrics, metrics_by_rate, metrics_by_style, verdict_shares
from spindetect.model_card import write_model_card
from spindetect.model import (
    FeatureReference,
    TrainedModel,
    UnlistedCopies,
    as_unlisted,
    build_classifier,
    choose_threshold,
    fit_classifier,
    out_of_fold_scores,
)
from spindetect.plots import write_plots
from spindetect.synth.dataset import (
    CLEAN_COUNTERPART,
    RATE_SWEEP_SPLIT,
    SHORT_LINES_SPLIT,
    SWEPT_STYLES,
    CorpusLocations,
    Example,
    build_synthetic_dataset,
    load_sources,
)
from spindetect.synth.storage import save_dataset

logger = logging.getLogger(__name__)

DATASET_DIR = "dataset"  # the training data as a `datasets` DatasetDict, with its card
PLOTS_DIR = "plots"  # curves and histograms on the test split
LABELED_COUNTERPART = {LABELED_STYLES[1]: LABELED_STYLES[0]}
TORTURED_FEATURE = "lx_tortured_phrase_count"
SPLITS = ("train", "valid", "test")
CLASS_NAMES = {0: "clean", 1: "spun"}
# Fewest sources of each class (corpus documents; labeled texts, or groups with a group field) the valid and
# test splits should hold. A source's paragraphs share a split and resemble each other, so a split's rates are
# worth about its number of sources: on 10, the 95% Wilson interval of a rate spans 0.28 even at 0 or 1, and
# more in between (0.24 to 0.76 at a half).
MIN_SOURCES_PER_CLASS = 10


def as_run(config: SpindetectConfig, extractor: FeatureExtractor) -> SpindetectConfig:
    """`config` with the precision its language model runs in, where that differs (bfloat16 runs in float32 on a
    CPU without it: `language_model.load_language_model`), so that the model is saved as it was trained and
    scores in that precision on every machine."""
    scorer = extractor.family(LanguageModelScorer)
    ran_in = scorer.language_model.precision if scorer is not None else config.language_model.precision
    if ran_in == config.language_model.precision:
        return config
    logger.warning("the model is trained and saved with language_model.precision: %s, the precision it runs in here", ran_in)
    return config.model_copy(update={"language_model": config.language_model.model_copy(update={"precision": ran_in})})


def fast_model_config(config: SpindetectConfig) -> SpindetectConfig:
    """The config of a cascade's fast classifier: `config` without the language model (nor the deletion test, the
    word probe and the function-word swap test, which a config without it refuses when the fast model is loaded)
    and without a cascade of its own."""
    without = {"language_model": False, "deletion_test": False, "word_probe": False, "function_word_swaps": False}
    features = config.features.model_copy(update=without)
    return config.model_copy(update={"features": features, "cascade": CascadeConfig()})


def train_model(
    config: SpindetectConfig,
    output_dir: Path,
    locations: CorpusLocations | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[int], Progress] | None = None,
) -> TrainedModel:
    """Build the training data (synthetic pairs and labeled files), fit, pick the threshold on validation,
    evaluate on test, and save the model with its plots to `output_dir`.

    `progress(total)` is called once with the number of texts to featurise and returns the per-batch
    callback of a progress bar.
    """
    started = time.monotonic()
    cache_dir = cache_dir or default_cache_dir()
    reference = NGramReference.load()
    locations = replace(locations or CorpusLocations(), cache_dir=cache_dir)
    thesaurus = MobyThesaurus.load()
    examples = []
    if config.data.synthetic:
        corpus = load_sources(config.data, config.seed, locations)
        examples += build_synthetic_dataset(config.data, config.seed, corpus, thesaurus, reference.unigram, cache_dir)
    examples += labeled_examples(config.data.labeled_files, config.segmentation, config.data, config.seed)
    if not examples:
        raise ValueError("no training examples: the labeled files hold no paragraph long enough to judge")
    warnings = split_warnings(examples, config.data)
    for warning in warnings:
        logger.warning(warning)
    output_dir.mkdir(parents=True, exist_ok=True)
    save_dataset(examples, output_dir / DATASET_DIR, config)

    texts = [example.text for example in examples]
    labels = np.array([example.label for example in examples])
    splits = np.array([example.split for example in examples])
    rates = np.array([example.rate for example in examples])
    styles = np.array([example.style for example in examples])
    source_ids = np.array([example.source_id for example in examples])
    # Metrics by rate compare thesaurus-spun paragraphs with the corpus paragraphs they were spun from: those
    # of the test split and the rate sweep's twins of them.
    by_rate = _swept_rows(styles, splits, "thesaurus_spin")
    from_files = np.array([example.style in LABELED_STYLES.values() for example in examples])
    logger.info("%d examples (%d spun); extracting features", len(examples), int(labels.sum()))
    extractor = build_extractor(config, reference, cache_dir, thesaurus)
    config = as_run(config, extractor)
    # The short lines are scored as records by a detector once the model is fitted (`_short_line_metrics`);
    # their rows here stay NaN and no mask below selects them.
    featurised = splits != SHORT_LINES_SPLIT
    with FeatureCache(cache_dir / "features.sqlite") as cache:
        featurised_texts = [text for text, keep in zip(texts, featurised) if keep]
        computed = extractor.score(featurised_texts, progress(len(featurised_texts)) if progress else None, cache=cache)
    features = np.full((len(texts), computed.shape[1]), np.nan)
    features[featurised] = computed

    train, valid, test = (splits == name for name in SPLITS)
    unlisted_copies = _unlisted_copies(config, extractor)
    copied = None if unlisted_copies is None else int(unlisted_copies.copied(features[train], labels[train]).sum())
    if copied is not None:
        logger.info("fitting on %d training paragraphs and %d unlisted copies of tortured ones", int(train.sum()), copied)
    classifier = fit_classifier(config, features[train], labels[train], unlisted_copies)
    valid_scores = classifier.predict_proba(features[valid])[:, 1]
    if np.ptp(valid_scores) < 1e-12:
        raise ValueError(
            f"the classifier gives every validation paragraph the same score ({valid_scores[0]:.3f}): it learned "
            f"nothing from {int(train.sum())} training paragraphs. Give more texts, or a classifier that fits few "
            "(classifier.kind: logistic_regression)"
        )
    threshold = choose_threshold(labels[valid], valid_scores, config.threshold.strategy, config.threshold.target_fpr)
    test_scores = classifier.predict_proba(features[test])[:, 1]
    by_rate_scores = _spun_probability(classifier, features[by_rate])
    metrics = {
        "counts": {name: {"clean": int((splits == name).sum() - labels[splits == name].sum()), "spun": int(labels[splits == name].sum())} for name in ("train", "valid", "test")},
        "unlisted_copies": copied,
        "valid": binary_metrics(labels[valid], valid_scores, threshold),
        "test": binary_metrics(labels[test], test_scores, threshold),
        "test_by_rate": metrics_by_rate(labels[by_rate], by_rate_scores, rates[by_rate], threshold),
        **{
            f"test_{style}_swept": _swept_metrics(classifier, features, labels, styles, splits, rates, style, threshold)
            for style in SWEPT_STYLES
        },
        "test_by_style": metrics_by_style(labels[test], test_scores, styles[test], threshold, CLEAN_COUNTERPART | LABELED_COUNTERPART),
        "test_labeled_files": binary_metrics(labels[test & from_files], test_scores[from_files[test]], threshold)
        if (test & from_files).any()
        else None,
        "test_tortured_unlisted": _unlisted_tortured_metrics(
            classifier, features[test], extractor.feature_names, labels[test], styles[test], source_ids[test], threshold
        ),
        "training_seconds": round(time.monotonic() - started, 1),
    }
    metrics["cross_validated"] = _cross_validated(
        config, features, labels, styles, rates, examples, splits, threshold, extractor.feature_names, unlisted_copies
    )
    metrics["warnings"] = warnings
    model = TrainedModel(
        classifier=classifier,
        feature_names=extractor.feature_names,
        threshold=threshold,
        config=config,
        reference=FeatureReference.fit(features[train], labels[train]),
        metrics=metrics,
        clean_scores=valid_scores[labels[valid] == 0],
        feature_definitions=extractor.definitions,
    )
    short_lines = splits == SHORT_LINES_SPLIT
    if short_lines.any():
        model.metrics["test_short_lines"] = _short_line_metrics(model, extractor, reference, texts, labels, short_lines)
    if config.cascade.enabled:
        splits_and_labels = {
            name: (mask, labels[mask]) for name, mask in (("train", train), ("valid", valid), ("test", test), ("by_rate", by_rate))
        }
        model = add_cascade(
            model, features, splits_and_labels, source_ids[train], valid_scores, test_scores, by_rate_scores, rates[by_rate],
            unlisted_copies,
        )
    model.save(output_dir)
    write_model_card(model, output_dir)
    write_plots(
        output_dir / PLOTS_DIR, labels[test], test_scores, threshold, by_rate=(labels[by_rate], by_rate_scores, rates[by_rate])
    )
    return model


def split_warnings(examples: list[Example], data: DataConfig) -> list[str]:
    """What makes the valid and test splits too small to trust: fewer than MIN_SOURCES_PER_CLASS sources of a
    class in either. Raises ValueError, before any feature is extracted, when a split lacks a class altogether:
    then the classifier cannot be fitted (train), the threshold cannot be chosen (valid), or ROC-AUC and the
    false-positive rate cannot be measured (test)."""
    sources: dict[tuple[str, int], set[str]] = {(split, label): set() for split in SPLITS for label in (0, 1)}
    for example in examples:
        if example.split in SPLITS:
            sources[example.split, example.label].add(example.source_id)
    count = {key: len(ids) for key, ids in sources.items()}
    counts = "sources clean/spun by split: " + ", ".join(f"{split} {count[split, 0]}/{count[split, 1]}" for split in SPLITS)
    needed = math.ceil(MIN_SOURCES_PER_CLASS / min(data.valid_fraction, data.test_fraction))
    advice = (
        f"about {needed} source texts of each class would put {MIN_SOURCES_PER_CLASS} of each in the valid and test "
        f"splits (valid_fraction {data.valid_fraction:g}, test_fraction {data.test_fraction:g})"
    )
    missing = [f"the {split} split has no {CLASS_NAMES[label]} paragraphs" for (split, label), n in count.items() if n == 0]
    if missing:
        raise ValueError(
            f"{'; '.join(missing)} ({counts}). Every split needs both classes: train to fit the classifier, valid to "
            f"choose its threshold, test to measure it; {advice}"
        )
    small = [split for split in ("valid", "test") if min(count[split, 0], count[split, 1]) < MIN_SOURCES_PER_CLASS]
    if not small:
        return []
    return [
        f"the {' and '.join(small)} {'splits hold' if len(small) > 1 else 'split holds'} fewer than {MIN_SOURCES_PER_CLASS} sources "
        f"of a class ({counts}): the threshold and the test metrics rest on too few texts to trust; {advice}"
    ]


@dataclass(frozen=True)
class _BandChoiceScores:
    """The paragraphs a cascade band is chosen on: labels, fast and full scores, and what they are."""

    labels: np.ndarray
    fast: np.ndarray
    full: np.ndarray
    described: str


def _band_choice_scores(
    config: SpindetectConfig,
    fast_config: SpindetectConfig,
    train_features: np.ndarray,
    train_fast_features: np.ndarray,
    train_labels: np.ndarray,
    train_groups: np.ndarray,
    valid_labels: np.ndarray,
    fast_valid: np.ndarray,
    full_valid: np.ndarray,
    unlisted_copies: UnlistedCopies | None = None,
) -> _BandChoiceScores:
    """The validation split's scores and, with `cascade.band_folds` of 2 or more, both classifiers' out-of-fold
    scores on the training split beside them: a band chosen on a few hundred validation paragraphs fits their
    noise and costs more than its budget on new text."""
    folds = min(config.cascade.band_folds, len(set(train_groups)))
    if folds >= 2:
        try:
            full_train = out_of_fold_scores(config, train_features, train_labels, train_groups, folds, unlisted_copies)
            fast_train = out_of_fold_scores(fast_config, train_fast_features, train_labels, train_groups, folds)
        except ValueError as error:
            logger.warning("choosing the cascade band on the validation split alone: %s", error)
        else:
            return _BandChoiceScores(
                np.concatenate([train_labels, valid_labels]),
                np.concatenate([fast_train, fast_valid]),
                np.concatenate([full_train, full_valid]),
                f"valid split and {folds}-fold out-of-fold scores of the train split",
            )
    return _BandChoiceScores(valid_labels, fast_valid, full_valid, "valid split")


def _swept_rows(styles: np.ndarray, splits: np.ndarray, style: str) -> np.ndarray:
    """The test split's corpus paragraphs and their spins of `style`, its own twins and the rate sweep's."""
    return np.isin(styles, ["clean", style]) & np.isin(splits, ["test", RATE_SWEEP_SPLIT])


def _swept_metrics(
    classifier,
    features: np.ndarray,
    labels: np.ndarray,
    styles: np.ndarray,
    splits: np.ndarray,
    rates: np.ndarray,
    style: str,
    threshold: float,
) -> dict | None:
    """The test split's clean paragraphs against their spins of `style` at every rate (its test twins and the
    rate sweep's), pooled and by rate; None where there are no such spins."""
    chosen = _swept_rows(styles, splits, style)
    labels, rates = labels[chosen], rates[chosen]
    if not labels.any() or labels.all():
        return None
    scores = _spun_probability(classifier, features[chosen])
    return {
        "pooled": binary_metrics(labels, scores, threshold),
        "by_rate": metrics_by_rate(labels, scores, rates, threshold),
    }


def _cross_validated(
    config: SpindetectConfig,
    features: np.ndarray,
    labels: np.ndarray,
    styles: np.ndarray,
    rates: np.ndarray,
    examples: list[Example],
    splits: np.ndarray,
    threshold: float,
    feature_names: tuple[str, ...],
    unlisted_copies: UnlistedCopies | None = None,
) -> dict | None:
    """Metrics by style, corpus and rate from out-of-fold scores over the train, valid and test splits pooled,
    and the tortured paragraphs' own measure (see `spindetect.cross_validation`); None when switched off or
    when the folds cannot hold both classes."""
    pooled = np.isin(splits, SPLITS)
    groups = np.array([example.source_id for example in examples])[pooled]
    folds = min(config.evaluation.cv_folds, len(set(groups.tolist())))
    if folds < 2:
        return None
    try:
        results = cross_validated_metrics(
            config, features[pooled], labels[pooled], styles[pooled], rates[pooled], groups, threshold,
            CLEAN_COUNTERPART | LABELED_COUNTERPART, folds, unlisted_copies,
        )
    except ValueError as error:
        logger.warning("no cross-validated metrics: %s", error)
        return None
    if TORTURED_FEATURE in feature_names:
        phrases = _tortured_phrases([example for example, keep in zip(examples, pooled) if keep])
        try:
            results["tortured_unlisted"] = unlisted_tortured_metrics(
                config, features[pooled], labels[pooled], styles[pooled], groups, phrases,
                feature_names.index(TORTURED_FEATURE), threshold, folds, unlisted_copies,
            )
        except ValueError as error:  # the other cross-validated metrics stand without it
            logger.warning("no cross-validated measure of unlisted tortured phrases: %s", error)
            results["tortured_unlisted"] = None
    return results


def _tortured_phrases(examples: list[Example]) -> list[frozenset[str]]:
    """For each tortured example, the listed phrases it garbles: their tortured forms as written and their
    expected phrases (two paragraphs garbling "data mining" into different forms share a phrase); empty for
    the others."""
    lexicon = TorturedPhraseLexicon.load()
    phrases = []
    for example in examples:
        found = lexicon.find(example.text) if example.style == "tortured" else []
        phrases.append(frozenset(form.lower() for span in found for form in (span.text, span.suggestion or "") if form))
    return phrases


def _spun_probability(classifier, features: np.ndarray) -> np.ndarray:
    """The classifier's probability of "spun" for each row; none for no rows (training on the user's labeled
    files alone leaves no paragraphs for the metrics by rate)."""
    return classifier.predict_proba(features)[:, 1] if len(features) else np.zeros(0)


def _short_line_metrics(model, extractor, reference, texts, labels, chosen) -> dict:
    """The short lines scored as records by a detector with the new model, as `spindetect score` scores them:
    what it labels the clean and the spun ones (see `verdict_shares`)."""
    detector = Detector(model, extractor, reference, model.config.runtime)
    results = detector.score([texts[i] for i in np.flatnonzero(chosen)])
    return verdict_shares(labels[chosen], [result.label or "error" for result in results])


def _unlisted_copies(config: SpindetectConfig, extractor: FeatureExtractor) -> UnlistedCopies | None:
    """The training rows `classifier.unlisted_copies` adds (see `UnlistedCopies`), at the word probe's flag level;
    None when switched off, or when the features lack the lexicon's count or the probe and its flag levels."""
    if not config.classifier.unlisted_copies:
        return None
    names = extractor.feature_names
    language_model = extractor.family(LanguageModelScorer)
    probe = language_model.word_probe if language_model is not None else None
    if TORTURED_FEATURE not in names or probe is None or probe.flag_levels is None:
        logger.info(
            "no unlisted copies of tortured paragraphs: they need the tortured-phrase lexicon's count and the word "
            "probe with its flag levels among the features"
        )
        return None
    return UnlistedCopies(names.index(TORTURED_FEATURE), names.index(WORD_PROBE_FEATURE_NAMES[0]), probe.flag_levels.flag)


def _unlisted_tortured_metrics(classifier, features, feature_names, labels, styles, source_ids, threshold) -> dict | None:
    """The tortured test paragraphs against the clean paragraphs of the same documents, as if the lexicon did
    not list their phrases (its count set to 0): how well the other features find tortured phrases nobody has
    listed yet. The lexicon itself holds every phrase of the list, the held-out part too, so with it the test
    is a lookup. Against the clean paragraphs of the same documents, not all clean ones: tortured paragraphs
    are those that use a technical term, mostly encyclopedic and technical prose, and against all clean
    prose (Brown's fiction too) the measure would reward telling genres apart."""
    tortured = styles == "tortured"
    if TORTURED_FEATURE not in feature_names or not tortured.any():
        return None
    chosen = tortured | ((styles == "clean") & np.isin(source_ids, source_ids[tortured]))
    blind = as_unlisted(features[chosen], list(feature_names).index(TORTURED_FEATURE))
    return binary_metrics(labels[chosen], classifier.predict_proba(blind)[:, 1], threshold)


def add_cascade(
    model: TrainedModel,
    features: np.ndarray,
    splits: dict[str, tuple[np.ndarray, np.ndarray]],
    train_groups: np.ndarray,
    valid_scores: np.ndarray,
    test_scores: np.ndarray,
    by_rate_scores: np.ndarray,
    by_rate_rates: np.ndarray,
    unlisted_copies: UnlistedCopies | None = None,
) -> TrainedModel:
    """`model` with a fast classifier on its features without the language model's, the band of fast scores
    left to the full model (see `CascadeConfig`), and the cascade's test metrics. `splits` maps train,
    valid, test and by_rate (the paragraphs of the metrics by rate) to their mask and labels; `train_groups`
    holds the source document of each training row."""
    config = model.config
    fast_columns = [i for i, name in enumerate(model.feature_names) if not name.startswith(LM_FEATURE_PREFIX)]
    fast_features = features[:, fast_columns]
    (train, train_labels), (valid, valid_labels), (test, test_labels) = splits["train"], splits["valid"], splits["test"]
    by_rate, by_rate_labels = splits["by_rate"]
    fast_config = fast_model_config(config)
    fast_classifier = build_classifier(fast_config).fit(fast_features[train], train_labels)
    fast_valid = fast_classifier.predict_proba(fast_features[valid])[:, 1]
    choice = _band_choice_scores(
        config, fast_config, features[train], fast_features[train], train_labels, train_groups,
        valid_labels, fast_valid, valid_scores, unlisted_copies,
    )
    band = choose_band(choice.labels, choice.fast, choice.full, model.threshold, config.cascade.max_auc_loss)
    fast_test = fast_classifier.predict_proba(fast_features[test])[:, 1]
    cascade_test = band.combine(fast_test, test_scores)
    cascade_by_rate = band.combine(_spun_probability(fast_classifier, fast_features[by_rate]), by_rate_scores)
    metrics = dict(model.metrics)
    metrics["cascade"] = {
        "band": band.to_json(),
        "band_chosen_on": choice.described,
        "valid_share_to_language_model": float(band.uncertain(fast_valid).mean()),
        "test_share_to_language_model": float(band.uncertain(fast_test).mean()),
        # Most text a corpus cleaner scores is clean: this share, not the balanced split's, sets the speed there.
        "test_clean_share_to_language_model": float(band.uncertain(fast_test[test_labels == 0]).mean()),
        "test": binary_metrics(test_labels, cascade_test, model.threshold),
        "test_fast_only": binary_metrics(test_labels, fast_test, model.threshold),
        "test_by_rate": metrics_by_rate(by_rate_labels, cascade_by_rate, by_rate_rates, model.threshold),
    }
    fast = TrainedModel(
        classifier=fast_classifier,
        feature_names=tuple(model.feature_names[i] for i in fast_columns),
        threshold=model.threshold,
        config=fast_config,
        reference=FeatureReference.fit(fast_features[train], train_labels),
    )
    cascade_valid = band.combine(fast_valid, valid_scores)
    return replace(
        model, metrics=metrics, fast=fast, cascade_band=band, cascade_clean_scores=cascade_valid[valid_labels == 0]
    )
