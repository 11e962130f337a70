"""The trained classifier: fitting, choosing a threshold, saving and loading a model directory.

A model directory holds `classifier.skops` (scikit-learn objects in skops format, loaded only with the
types listed in `TRUSTED_TYPES`, so opening a model never runs arbitrary code) and `model.json` (feature
names, threshold, the config it was trained with, metrics, and the clean-text feature reference used to
explain scores). A model trained with a cascade also holds its fast classifier, a model directory of its own,
in `fast/`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import skops.io
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_recall_curve, roc_curve
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from spindetect.cascade import CascadeBand
from spindetect.config import ConfigError, SpindetectConfig, parse_config
from spindetect.errors import ModelError, default_model_dir  # noqa: F401  (defined there so the CLI starts fast)
from spindetect.model_metadata import CalibrationScores, parse_metadata

MODEL_FORMAT_VERSION = 1
CLASSIFIER_FILE = "classifier.skops"
METADATA_FILE = "model.json"
FAST_MODEL_DIR = "fast"
# Types skops may rebuild beyond its built-in safe set; anything else in a model file is refused.
TRUSTED_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]


@dataclass(frozen=True)
class FeatureReference:
    """Where clean training paragraphs sit on each feature, and which way spun ones lean.

    A paragraph's signal on a feature is `direction * (value - clean_mean) / clean_std`: how many clean
    standard deviations it lies towards the spun side.
    """

    clean_mean: np.ndarray
    clean_std: np.ndarray
    direction: np.ndarray  # +1 when spun paragraphs have higher values, -1 when lower

    @classmethod
    def fit(cls, features: np.ndarray, labels: np.ndarray) -> FeatureReference:
        clean, spun = features[labels == 0], features[labels == 1]
        std = clean.std(axis=0)
        return cls(clean.mean(axis=0), np.where(std > 1e-9, std, 1.0), np.sign(spun.mean(0) - clean.mean(0)))

    def signals(self, features: np.ndarray) -> np.ndarray:
        return self.direction * (features - self.clean_mean) / self.clean_std

    def to_json(self) -> dict[str, list[float]]:
        return {
            "clean_mean": self.clean_mean.tolist(),
            "clean_std": self.clean_std.tolist(),
            "direction": self.direction.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, list[float]]) -> FeatureReference:
        return cls(*(np.asarray(data[key], dtype=np.float64) for key in ("clean_mean", "clean_std", "direction")))


def build_classifier(config: SpindetectConfig) -> Pipeline:
    params = dict(config.classifier.params)
    if config.classifier.kind == "hist_gradient_boosting":
        estimator = HistGradientBoostingClassifier(random_state=config.seed, **params)
    else:
        estimator = LogisticRegression(max_iter=2000, random_state=config.seed, **params)
    return make_pipeline(StandardScaler(), estimator)


def as_unlisted(features: np.ndarray, count_column: int) -> np.ndarray:
    """A copy of the rows as they would look if the tortured-phrase lexicon listed none of their phrases: its
    count (`count_column`) at 0."""
    unlisted = features.copy()
    unlisted[:, count_column] = 0.0
    return unlisted


@dataclass(frozen=True)
class UnlistedCopies:
    """Training rows for tortured phrases the lexicon does not list yet.

    A spun row that the tortured-phrase lexicon finds teaches the classifier little beyond the lexicon's count,
    yet the phrases a user meets next are unlisted, and there the count is 0. So each such row is fitted on a
    second time as it would look unlisted (`count_column` set to 0), where the replaced-word probe marks a word
    in it (its highest word logit, `probe_column`, at `probe_level` or above): a copy whose garbled phrase
    leaves no trace in any other feature would teach the classifier to flag fluent text. On the default data,
    copies of every such row cost more at a 5% thesaurus rate and on translation garble than copies of those the
    probe marks, and found unlisted phrases no better (training/README.md, "Unlisted copies").
    """

    count_column: int
    probe_column: int
    probe_level: float

    def copied(self, features: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Which rows get a copy: spun, found by the lexicon, and marked by the probe."""
        found = features[:, self.count_column] > 0
        return (labels == 1) & found & (features[:, self.probe_column] >= self.probe_level)

    def added_to(self, features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`features` and `labels` with the copies appended."""
        chosen = self.copied(features, labels)
        copies = as_unlisted(features[chosen], self.count_column)
        return np.vstack([features, copies]), np.concatenate([labels, labels[chosen]])


def fit_classifier(
    config: SpindetectConfig, features: np.ndarray, labels: np.ndarray, unlisted_copies: UnlistedCopies | None = None
) -> Pipeline:
    """The config's classifier fitted on the rows, and on their `unlisted_copies` where given."""
    if unlisted_copies is not None:
        features, labels = unlisted_copies.added_to(features, labels)
    return build_classifier(config).fit(features, labels)


def out_of_fold_scores(
    config: SpindetectConfig,
    features: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    folds: int,
    unlisted_copies: UnlistedCopies | None = None,
) -> np.ndarray:
    """Each row's probability of "spun" from the config's classifier fitted on the other folds, the rows of a
    group (a source document) always in one fold. Raises ValueError when a fold leaves a single class to fit on."""
    scores = np.zeros(len(labels))
    for fit_rows, scored_rows in GroupKFold(n_splits=folds).split(features, labels, groups):
        classifier = fit_fold(config, features, labels, fit_rows, folds, unlisted_copies)
        scores[scored_rows] = classifier.predict_proba(features[scored_rows])[:, 1]
    return scores


def fit_fold(
    config: SpindetectConfig,
    features: np.ndarray,
    labels: np.ndarray,
    rows: np.ndarray,
    folds: int,
    unlisted_copies: UnlistedCopies | None = None,
) -> Pipeline:
    """The config's classifier fitted on `rows` (and their `unlisted_copies`), one fold's fitting rows of `folds`
    by source document. Raises ValueError when they hold a single class."""
    if np.unique(labels[rows]).size < 2:
        raise ValueError(f"{folds} folds by source document leave one with a single class to fit on")
    return fit_classifier(config, features[rows], labels[rows], unlisted_copies)


def choose_threshold(labels: np.ndarray, scores: np.ndarray, strategy: str, target_fpr: float) -> float:
    """The spun/clean cut on validation scores: best F1, or the lowest cut keeping FPR <= target_fpr."""
    if strategy == "max_f1":
        precision, recall, thresholds = precision_recall_curve(labels, scores)
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
        return float(thresholds[int(np.argmax(f1[:-1]))])
    fpr, _, thresholds = roc_curve(labels, scores)
    allowed = np.flatnonzero(fpr <= target_fpr)
    return float(min(thresholds[allowed[-1]], 1.0))


@dataclass
class TrainedModel:
    classifier: Pipeline
    feature_names: tuple[str, ...]
    threshold: float
    config: SpindetectConfig
    reference: FeatureReference
    metrics: dict = field(default_factory=dict)
    # The cascade's fast classifier (no language-model features; saved in the `fast/` subdirectory) and the
    # band of fast scores it leaves to this model.
    fast: TrainedModel | None = None
    cascade_band: CascadeBand | None = None
    # Scores of known-clean paragraphs (the validation split's), in full and in cascade mode: what a
    # threshold for a false-positive budget is read from (`threshold_for_fpr`).
    clean_scores: np.ndarray | None = None
    cascade_clean_scores: np.ndarray | None = None
    # What each feature family's features depended on when the model was trained (`FeatureFamily.definition`):
    # a detector refuses to score with others. None in models trained before it was recorded.
    feature_definitions: tuple[str, ...] | None = None

    def threshold_for_fpr(self, max_fpr: float, cascade: bool = False) -> float:
        """The lowest threshold at which at most `max_fpr` of the known-clean paragraphs score as spun."""
        scores = self.cascade_clean_scores if cascade else self.clean_scores
        if scores is None or scores.size == 0:
            mode = "cascade mode" if cascade else "full mode"
            raise ModelError(
                f"this model stores no clean-text scores for {mode} to read a false-positive rate from "
                "(a calibrated model keeps only full mode's); run `spindetect calibrate` or retrain it"
            )
        return threshold_for_fpr(scores, max_fpr)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Probability that each row's paragraph is spun or garbled."""
        if features.shape[0] == 0:
            return np.zeros(0)
        return self.classifier.predict_proba(features)[:, 1]

    def save(self, directory: Path) -> None:
        """Write the model to `directory`; ModelError, before anything is written, if its config (or its fast
        model's) would not load."""
        self._check_config_loads(directory)
        config = self.config.model_dump(mode="json")
        directory.mkdir(parents=True, exist_ok=True)
        skops.io.dump(self.classifier, directory / CLASSIFIER_FILE)
        metadata = {
            "format_version": MODEL_FORMAT_VERSION,
            "feature_names": list(self.feature_names),
            "threshold": self.threshold,
            "config": config,
            "reference": self.reference.to_json(),
            "metrics": self.metrics,
        }
        if self.feature_definitions is not None:
            metadata["feature_definitions"] = list(self.feature_definitions)
        calibration = {
            name: np.round(np.sort(scores), 6).tolist()
            for name, scores in (("clean_scores", self.clean_scores), ("cascade_clean_scores", self.cascade_clean_scores))
            if scores is not None
        }
        if calibration:
            metadata["calibration"] = calibration
        if self.fast is not None and self.cascade_band is not None:
            self.fast.save(directory / FAST_MODEL_DIR)
            metadata["cascade"] = self.cascade_band.to_json()
        (directory / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")

    def _check_config_loads(self, directory: Path) -> None:
        """Configs derived in code (`model_copy(update=...)`) skip pydantic's validation, so a derived config that
        `load` refuses is caught here, where it is made, not by whoever loads the model later."""
        try:
            parse_config(self.config.model_dump(mode="json"), directory / METADATA_FILE)
        except ConfigError as error:
            raise ModelError(f"refusing to save a model whose config would not load: {_one_line(error)}") from None
        if self.fast is not None:
            self.fast._check_config_loads(directory / FAST_MODEL_DIR)

    @classmethod
    def load(cls, directory: Path) -> TrainedModel:
        """The model in `directory`, checked whole first; ModelError with one line naming the problem."""
        metadata_path = directory / METADATA_FILE
        if not metadata_path.is_file():
            raise ModelError(f"{directory} is not a spindetect model directory (no {METADATA_FILE})")
        try:
            raw = json.loads(metadata_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ModelError(f"cannot read {metadata_path}: {error}") from None
        version = raw.get("format_version") if isinstance(raw, dict) else None
        if version != MODEL_FORMAT_VERSION:
            raise ModelError(
                f"{directory} has model format {version!r}; "
                f"this spindetect reads format {MODEL_FORMAT_VERSION}: retrain it with `spindetect train`"
            )
        try:
            metadata = parse_metadata(raw)
            config = parse_config(metadata.config, metadata_path)
        except (ValueError, ConfigError) as error:
            raise ModelError(f"{metadata_path}: {_one_line(error)}") from None
        classifier = _load_classifier(directory / CLASSIFIER_FILE)
        fast, band = None, None
        if metadata.cascade is not None:
            fast, band = cls.load(directory / FAST_MODEL_DIR), CascadeBand(metadata.cascade.low, metadata.cascade.high)
            missing = sorted(set(fast.feature_names) - set(metadata.feature_names))
            if missing:
                raise ModelError(f"{directory / FAST_MODEL_DIR}: uses features the full model lacks: {', '.join(missing)}")
        calibration = metadata.calibration or CalibrationScores()
        model = cls(
            classifier=classifier,
            feature_names=tuple(metadata.feature_names),
            threshold=metadata.threshold,
            config=config,
            reference=FeatureReference.from_json(metadata.reference.model_dump()),
            metrics=metadata.metrics,
            fast=fast,
            cascade_band=band,
            clean_scores=None if calibration.clean_scores is None else np.asarray(calibration.clean_scores, dtype=np.float64),
            cascade_clean_scores=(
                None if calibration.cascade_clean_scores is None else np.asarray(calibration.cascade_clean_scores, dtype=np.float64)
            ),
            feature_definitions=None if metadata.feature_definitions is None else tuple(metadata.feature_definitions),
        )
        model._check_classifier(directory / CLASSIFIER_FILE)
        return model

    def _check_classifier(self, path: Path) -> None:
        """The classifier takes this model's features and gives a probability: tried on the clean-text mean."""
        expected = len(self.feature_names)
        found = getattr(self.classifier, "n_features_in_", None)
        if found != expected:
            raise ModelError(f"{path}: the classifier takes {found} features, model.json names {expected}")
        if list(getattr(self.classifier, "classes_", [])) != [0, 1]:
            raise ModelError(f"{path}: the classifier's classes are not clean (0) and spun (1)")
        try:
            probability = self.classifier.predict_proba(self.reference.clean_mean[None, :])
        except Exception as error:  # a classifier that cannot score is unusable, whatever the cause
            raise ModelError(f"{path}: the classifier cannot score: {type(error).__name__}: {error}") from None
        if probability.shape != (1, 2) or not np.all(np.isfinite(probability)) or not np.all((probability >= 0) & (probability <= 1)):
            raise ModelError(f"{path}: the classifier gives no valid probabilities (got {probability.tolist()})")


def _one_line(error: Exception) -> str:
    """A config error lists its keys one per line; a refused model, loaded or saved, says it in one."""
    return "; ".join(line.strip() for line in str(error).splitlines())


def _load_classifier(path: Path) -> Pipeline:
    """The skops file, with only trusted types rebuilt; ModelError for anything missing, damaged or foreign."""
    if not path.is_file():
        raise ModelError(f"{path} is missing")
    try:
        untrusted = set(skops.io.get_untrusted_types(file=path)) - set(TRUSTED_TYPES)
        if untrusted:
            raise ModelError(f"{path} contains types spindetect does not trust: {sorted(untrusted)}")
        return skops.io.load(path, trusted=TRUSTED_TYPES)
    except ModelError:
        raise
    except Exception as error:  # truncated, not a zip, failing CRC, foreign content: all mean "cannot use it"
        raise ModelError(f"{path} cannot be read ({type(error).__name__}: {error}); reinstall or retrain the model") from None


# How far above the highest clean score it must pass a threshold lies. A text's score moves by rounding with
# the texts batched beside it (float32: up to 5e-6 measured; see RuntimeConfig), so a threshold one float above
# a clean text's score flagged that very text when it was scored again in another batch.
SCORE_ROUNDING_MARGIN = 1e-5


def threshold_for_fpr(clean_scores: np.ndarray, max_fpr: float) -> float:
    """The lowest threshold, give or take `SCORE_ROUNDING_MARGIN`, with at most `max_fpr` of `clean_scores` at
    or above it (above them all for 0)."""
    if not 0.0 <= max_fpr < 1.0:
        raise ValueError(f"a false-positive rate must be in [0, 1), got {max_fpr}")
    ordered = np.sort(clean_scores)
    highest_passing = ordered[ordered.size - allowed_false_positives(ordered.size, max_fpr) - 1]
    return float(min(highest_passing + SCORE_ROUNDING_MARGIN, 1.0))


def allowed_false_positives(clean_texts: int, max_fpr: float) -> int:
    """How many of `clean_texts` known-clean scores a threshold for `max_fpr` lets through: none while
    clean_texts * max_fpr < 1, and the threshold then lies above them all, whatever the budget."""
    return int(np.floor(max_fpr * clean_texts + 1e-9))


