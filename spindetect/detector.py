"""The Detector: documents in, paragraph and document verdicts out.

segment -> features (n-gram, language model) -> classifier -> paragraph scores -> document score.
The document score is the word-weighted mean of the scores of the paragraphs that can be judged alone
(long enough, English). Headlines, menus and other short lines are scored and shown, but never decide: a
document with nothing longer, or nothing in English, is "unjudged", with no score.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from spindetect.config import RuntimeConfig
from spindetect.explain import describe
from spindetect.features.extractor import FeatureExtractor, build_extractor
from spindetect.features.ngram import frequent_english_share
from spindetect.features.perplexity import LanguageModelScorer
from spindetect.features.resources import NGramReference
from spindetect.features.spans import FlaggedSpan, merge_flags, shown_flags
from spindetect.inputs import check_record
from spindetect.model import ModelError, TrainedModel, default_model_dir
from spindetect.segment import Paragraph, segment

if TYPE_CHECKING:
    from spindetect.filtering import FilterDecision

logger = logging.getLogger(__name__)

# A paragraph with a smaller share of frequent English words is not judged (other language, code, tables).
MIN_ENGLISH_SHARE = 0.4
MIN_WORDS_FOR_LANGUAGE = 8
# Signals weaker than this many clean standard deviations are not shown.
MIN_SIGNAL_STRENGTH = 1.0
MAX_SIGNALS = 3


@dataclass(frozen=True)
class Flag:
    """Why a paragraph was marked: a condition (`too_short`) or a signal with its strength."""

    reason: str
    description: str
    strength: float | None = None

    def to_json(self) -> dict:
        data: dict = {"reason": self.reason, "description": self.description}
        if self.strength is not None:
            data["strength"] = round(self.strength, 2)
        return data


@dataclass(frozen=True)
class ParagraphResult:
    start: int
    end: int
    n_words: int
    score: float
    judged: bool  # counted in the document score on its own merit
    flags: tuple[Flag, ...]
    spans: tuple[FlaggedSpan, ...] = ()  # words that fired, with offsets into the document

    def to_json(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
            # Conditions and paragraph signals first, then flagged spans (those carry "start" and "end").
            "flags": [flag.to_json() for flag in self.flags] + [span.to_json() for span in self.spans],
        }


@dataclass(frozen=True)
class DocumentResult:
    """A document's verdict.

    `label` is "spun" or "clean" with a `score`; "unjudged" (no score, `unjudged` saying why: "too_short" or
    "not_english") when no paragraph is English prose long enough to judge; None (no score, `error` set) when
    the document could not be scored at all. The paragraphs keep their own scores in every case but the last.
    """

    score: float | None
    label: str | None
    threshold: float
    paragraphs: tuple[ParagraphResult, ...]
    warnings: tuple[str, ...] = ()
    error: str | None = None
    unjudged: str | None = None


@dataclass(frozen=True)
class DetectorSource:
    """What `Detector.load` was given: enough to load the same detector again in another process."""

    model_dir: Path | None
    runtime: RuntimeConfig | None
    cache_dir: Path | None
    cascade: bool = False
    device: str | None = None


@dataclass(frozen=True)
class _Parts:
    model: TrainedModel
    extractor: FeatureExtractor
    reference: NGramReference
    runtime: RuntimeConfig


class Detector:
    """Scores documents with a trained model; resources are loaded once and reused across calls.

    A detector from `Detector.load` can be pickled to ship it to worker processes: only what it was loaded
    from travels, and each worker loads the models itself on first use.
    """

    def __init__(self, model: TrainedModel, extractor: FeatureExtractor, reference: NGramReference, runtime: RuntimeConfig) -> None:
        if extractor.feature_names != model.feature_names:
            raise ModelError(_feature_mismatch(model.feature_names, extractor.feature_names))
        if model.feature_definitions is not None and model.feature_definitions != extractor.definitions:
            raise ModelError(_definition_mismatch(model.feature_definitions, extractor.definitions))
        self._parts: _Parts | None = _Parts(model, extractor, reference, runtime)
        self._source: DetectorSource | None = None  # None: built from parts, which cannot be sent elsewhere
        self._loading = threading.Lock()
        self.cascade = False

    def use_cascade(self, enabled: bool = True) -> None:
        """Score with the model's cascade: the language model only sees paragraphs the fast classifier is
        unsure of (much faster, scores differ slightly; see `spindetect.cascade`)."""
        if enabled and self.model.fast is None:
            raise ModelError("this model has no cascade: train it with `cascade: {enabled: true}` in its config")
        self.cascade = enabled

    @classmethod
    def load(
        cls,
        model_dir: Path | str | None = None,
        runtime: RuntimeConfig | None = None,
        cache_dir: Path | None = None,
        cascade: bool = False,
        device: str | None = None,
    ) -> Detector:
        """Load a trained model directory (default: the model shipped in the package) and its resources.

        `runtime` replaces the model's speed and memory settings (which move scores only by rounding: see
        `RuntimeConfig`). `cascade` scores with the model's cascade (see `use_cascade`). `device` (auto, cpu, cuda,
        cuda:N) replaces `runtime.device`; DeviceUnavailable if this machine has no such device.
        """
        source = DetectorSource(None if model_dir is None else Path(model_dir), runtime, cache_dir, cascade, device)
        detector = cls(*_load_parts(source))
        detector.use_cascade(cascade)
        detector._source = source
        return detector

    def __getstate__(self) -> dict:
        if self._source is None:
            raise TypeError("only a Detector made by Detector.load can be pickled (it is reloaded from its model directory)")
        return {"source": replace(self._source, cascade=self.cascade)}

    def __setstate__(self, state: dict) -> None:
        self._source = state["source"]
        self._parts = None
        self._loading = threading.Lock()
        self.cascade = self._source.cascade

    def _loaded(self) -> _Parts:
        # Threads that call an unpickled detector at once load its models once, under the lock, and no thread
        # sees them before they are whole.
        parts = self._parts
        if parts is None:
            with self._loading:
                if self._parts is None:
                    self._parts = _Parts(*_load_parts(self._source))
                parts = self._parts
        return parts

    @property
    def model(self) -> TrainedModel:
        return self._loaded().model

    @property
    def extractor(self) -> FeatureExtractor:
        return self._loaded().extractor

    @property
    def reference(self) -> NGramReference:
        return self._loaded().reference

    @property
    def runtime(self) -> RuntimeConfig:
        return self._loaded().runtime

    @property
    def threshold(self) -> float:
        return self.model.threshold

    def threshold_for_fpr(self, max_fpr: float) -> float:
        """The threshold at which at most `max_fpr` of the model's known-clean paragraphs count as spun
        (scored in this detector's mode)."""
        return self.model.threshold_for_fpr(max_fpr, cascade=self.cascade)

    def filter(
        self,
        records: Iterable[dict | str],
        threshold: float | None = None,
        text_field: str = "text",
        paragraph_mode: bool = False,
        unjudged: str = "keep",
    ) -> Iterator[FilterDecision]:
        """One decision per record (a dict holding `text_field`, or a bare string), in order.

        Each decision says "keep", "reject" or "error" and carries the record to write; records that
        cannot be scored (no text, empty, binary, longer than `runtime.max_document_chars`) are errors with a
        reason, never exceptions. In paragraph mode only spun paragraphs are cut from a kept record. A record
        with nothing to judge (only short lines, or not English) gets the action `unjudged` names, with the
        label "unjudged".
        """
        from spindetect.filtering import FilterSettings, filter_records  # filtering builds on this module

        checked = (
            check_record({text_field: record} if isinstance(record, str) else record, number, text_field, f"record {number}")
            for number, record in enumerate(records, start=1)
        )
        settings = FilterSettings(
            text_field, threshold, paragraph_mode, self.runtime.max_document_chars, where="record {}", unjudged=unjudged
        )
        yield from filter_records(self, checked, settings)

    def score(
        self,
        documents: Sequence[str],
        threshold: float | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[DocumentResult]:
        """Score documents; `progress(done, total)` is called as paragraphs are scored (for progress bars)."""
        threshold = self.model.threshold if threshold is None else threshold
        segmentation = self.model.config.segmentation
        max_chars = self.runtime.max_document_chars
        # Lone surrogates (possible in JSON input) cannot be encoded; each becomes "?", keeping offsets exact.
        documents = [document.encode("utf-8", "replace").decode("utf-8") for document in documents]
        per_document: list[list[Paragraph]] = []
        for document in documents:
            per_document.append(segment(document[:max_chars], segmentation.min_words, segmentation.max_paragraph_words))
        texts = [paragraph.text for paragraphs in per_document for paragraph in paragraphs]
        done = 0

        def count_paragraphs(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(done, len(texts))

        if self.cascade:
            features, scores, raised = self._cascade_scores(texts, count_paragraphs)
        else:
            features, raised = self.extractor.score_and_flag(texts, count_paragraphs)
            scores = self.model.predict_proba(features)
        signals = self.model.reference.signals(features) if len(texts) else features
        truncated_by_model = self._truncated_paragraphs(texts)

        results = []
        row = 0
        for document, paragraphs in zip(documents, per_document, strict=True):
            rows = range(row, row + len(paragraphs))
            row += len(paragraphs)
            if not paragraphs:
                error = "empty text: nothing to score" if not document.strip() else "no words to score"
                results.append(DocumentResult(None, None, threshold, (), error=error))
                continue
            paragraph_results = tuple(
                self._paragraph_result(p, scores[i], signals[i], truncated_by_model[i], raised[i], threshold)
                for p, i in zip(paragraphs, rows, strict=True)
            )
            warnings = []
            if len(document) > max_chars:
                warnings.append(
                    f"document has {len(document):,} characters; scored the first {max_chars:,} "
                    "(raise runtime.max_document_chars to score more)"
                )
            results.append(self._document_result(paragraph_results, threshold, warnings))
        return results

    def _cascade_scores(
        self, texts: list[str], progress: Callable[[int], None]
    ) -> tuple[np.ndarray, np.ndarray, list[list[FlaggedSpan]]]:
        """Fast features and scores for every paragraph; language-model features and full scores for the
        paragraphs whose fast score falls in the cascade's band."""
        model, fast = self.model, self.model.fast
        language_model = self.extractor.family(LanguageModelScorer)
        fast_extractor = FeatureExtractor([family for family in self.extractor.families if family is not language_model])
        fast_features, raised = fast_extractor.score_and_flag(texts)
        scores = fast.predict_proba(fast_features)
        uncertain = np.flatnonzero(model.cascade_band.uncertain(scores))
        progress(len(texts) - uncertain.size)
        # The language-model columns of paragraphs the fast classifier settles stay at their clean-text mean,
        # so they show no signal.
        features = np.tile(model.reference.clean_mean, (len(texts), 1))
        features[:, [model.feature_names.index(name) for name in fast.feature_names]] = fast_features
        if uncertain.size:
            lm_features, lm_flags = language_model.score_and_flag([texts[i] for i in uncertain], progress)
            features[np.ix_(uncertain, [model.feature_names.index(name) for name in language_model.feature_names])] = lm_features
            scores[uncertain] = model.predict_proba(features[uncertain])
            for index, flags in zip(uncertain, lm_flags, strict=True):
                raised[index].extend(flags)
        return features, scores, raised

    def _truncated_paragraphs(self, texts: list[str]) -> list[bool]:
        scorer = self.extractor.family(LanguageModelScorer)
        if scorer is None:
            return [False] * len(texts)
        return [len(ids) + 1 > scorer.max_tokens for ids in scorer.language_model.encoder.encode(texts)]

    def _paragraph_result(
        self,
        paragraph: Paragraph,
        score: float,
        signals: np.ndarray,
        truncated: bool,
        raised: list[FlaggedSpan],
        threshold: float,
    ) -> ParagraphResult:
        flags = []
        # A few words (a title, a name list) are too few to tell the language by.
        not_english = (
            paragraph.n_words >= MIN_WORDS_FOR_LANGUAGE
            and frequent_english_share(paragraph.text, self.reference) < MIN_ENGLISH_SHARE
        )
        for condition, present in (("too_short", paragraph.too_short), ("not_english", not_english), ("truncated", truncated)):
            if present:
                flags.append(Flag(condition, describe(condition)))
        strongest = np.argsort(-signals)[:MAX_SIGNALS]
        for index in strongest:
            if signals[index] >= MIN_SIGNAL_STRENGTH:
                name = self.model.feature_names[index]
                flags.append(Flag(name, describe(name), float(signals[index])))
        judged = not (paragraph.too_short or not_english)
        spans = tuple(span.shifted(paragraph.start) for span in shown_flags(merge_flags(raised), score >= threshold))
        return ParagraphResult(paragraph.start, paragraph.end, paragraph.n_words, float(score), judged, tuple(flags), spans)

    @staticmethod
    def _document_result(paragraphs: tuple[ParagraphResult, ...], threshold: float, warnings: list[str]) -> DocumentResult:
        counted = [p for p in paragraphs if p.judged]
        if not counted:
            # Titles, menus, captions and foreign text: the classifier learned prose, and on a few words its
            # score is confident without the evidence to be (clean headlines scored up to 0.78 alone).
            reason = "not_english" if any(flag.reason == "not_english" for p in paragraphs for flag in p.flags) else "too_short"
            return DocumentResult(None, "unjudged", threshold, paragraphs, tuple(warnings), unjudged=reason)
        weights = np.array([max(p.n_words, 1) for p in counted], dtype=np.float64)
        score = float(np.average([p.score for p in counted], weights=weights))
        label = "spun" if score >= threshold else "clean"
        return DocumentResult(score, label, threshold, paragraphs, tuple(warnings))


def _definition_mismatch(trained: tuple[str, ...], produced: tuple[str, ...]) -> str:
    """Why a model cannot use features of the same names: their code version or packaged weights differ."""
    if len(trained) == len(produced):
        differences = [f"{old} -> {new}" for old, new in zip(trained, produced, strict=True) if old != new]
    else:
        differences = [f"{', '.join(trained)} -> {', '.join(produced)}"]
    return (
        f"the model was trained on features that this spindetect computes differently ({'; '.join(differences)}: "
        "another feature version or refitted packaged weights such as span_odds.json or word_probe_*.json): retrain it "
        "with this version (spindetect train), or score with the version and weights that trained it"
    )


def _feature_mismatch(trained: tuple[str, ...], produced: tuple[str, ...]) -> str:
    """Why a model cannot use an extractor's features, naming the differences rather than both lists."""
    missing = [name for name in trained if name not in produced]
    extra = [name for name in produced if name not in trained]
    differences = []
    if missing:
        differences.append(f"this spindetect does not compute {', '.join(missing)}")
    if extra:
        differences.append(f"the model was not trained on {', '.join(extra)}")
    details = "; ".join(differences) or "the same features in another order"
    return (
        f"the model was trained on other features than this spindetect computes ({details}): retrain it with "
        "this version (spindetect train), or score with the version that trained it"
    )


def _load_parts(source: DetectorSource) -> tuple[TrainedModel, FeatureExtractor, NGramReference, RuntimeConfig]:
    model = TrainedModel.load(source.model_dir or default_model_dir())
    runtime = source.runtime or model.config.runtime
    if source.device is not None:
        runtime = runtime.model_copy(update={"device": source.device})  # checked where the model loads (resolve_device)
    config = model.config.model_copy(update={"runtime": runtime})
    if runtime.torch_threads is not None:
        # torch counts threads per process, not per model: the setting holds for everything torch runs here.
        torch.set_num_threads(runtime.torch_threads)
    reference = NGramReference.load()
    return model, build_extractor(config, reference, source.cache_dir), reference, config.runtime
