"""A datatrove filter that drops spun and garbled documents, deciding exactly as `spindetect filter` does.

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from spindetect.integrations.datatrove import SpinFilter

    if __name__ == "__main__":  # the executor's workers start by importing this script
        LocalPipelineExecutor(
            pipeline=[
                JsonlReader("crawl/"),
                SpinFilter(exclusion_writer=JsonlWriter("spun/")),
                JsonlWriter("clean/"),
            ],
            tasks=8,
            workers=4,
            logging_dir="logs/",
        ).run()

Every document that reaches the filter leaves it kept or excluded, with its verdict in `doc.metadata`
(`spin_score`, `spin_label`, `spin_paragraphs`; see `SpinFilter`). The decisions come from
`spindetect.filtering`, the code behind `spindetect filter` and `Detector.filter`, so the same model and
settings keep and drop the same documents.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, get_args

from datatrove.pipeline.filters.base_filter import BaseFilter

from spindetect.detector import Detector
from spindetect.filtering import (
    FilterDecision,
    FilterSettings,
    UnjudgedAction,
    filter_records,
)
from spindetect.inputs import check_record
from spindetect.integrations.shared import process_detector
from spindetect.model import METADATA_FILE, ModelError

if TYPE_CHECKING:
    from datatrove.data import Document
    from datatrove.pipeline.writers.disk_base import DiskWriter

    from spindetect.config import RuntimeConfig

# An error names its document as this: the message is stored in that document's own metadata.
WHERE = "this document"
# The reason datatrove records (as `filter_reason` and in the `dropped_<reason>` stat) for a dropped document.
SPUN, UNJUDGED, ERROR = "spun", "unjudged", "error"
# The stats each decision adds to, beside datatrove's own `forwarded` and `dropped`.
ACTION_STATS = {"keep": "kept", "reject": "rejected", "error": "errored"}


class SpinFilter(BaseFilter):
    """Keeps clean documents and drops spun ones, scoring `batch_size` documents at a time.

    `model` is a trained model directory (None: the model shipped in the package), `threshold` the cut (None:
    the model's), `unjudged` what happens to a document with nothing long enough, or English enough, to judge
    (`keep`, `reject` or `error`, as `spindetect filter --unjudged`), `cascade` scores with the model's
    cascade, and `runtime` replaces the model's speed and memory settings (among them `max_document_chars`,
    beyond which a document is an error).

    Each document gets in `doc.metadata`: `spin_score` (rounded to 4 places, None when unjudged or not
    scored), `spin_label` (`spun`, `clean`, `unjudged`, or None when not scored), `spin_paragraphs`
    (`[{start, end, score}]`, character offsets into `doc.text`), and, where they apply, `spin_unjudged`
    (`too_short` or `not_english`), `spin_warnings` and `spin_error` (why it could not be scored: empty text,
    binary data, too long). A dropped document's reason is `spun`, `unjudged` (with `unjudged="reject"`) or
    `error` (an error, or unjudged with `unjudged="error"`), and with an `exclusion_writer` it is written
    there, so no document vanishes.

    The model loads on the first batch, once per worker process and settings: datatrove sends each task its
    own copy of the pipeline, and this filter travels as its settings alone; a worker that runs several tasks
    keeps the detector it loaded for the first.
    """

    name = "🌀 spindetect"

    def __init__(
        self,
        model: str | Path | None = None,
        threshold: float | None = None,
        unjudged: UnjudgedAction = "keep",
        cascade: bool = False,
        runtime: RuntimeConfig | None = None,
        batch_size: int = 64,
        exclusion_writer: DiskWriter | None = None,
    ) -> None:
        super().__init__(exclusion_writer, batch_size)
        # Checked here, in the process that builds the pipeline, rather than in a worker's log mid-run.
        if unjudged not in get_args(UnjudgedAction):
            raise ValueError(f"unjudged must be one of {', '.join(get_args(UnjudgedAction))}, not {unjudged!r}")
        if model is not None and not (Path(model) / METADATA_FILE).is_file():
            raise ModelError(f"{model} is not a spindetect model directory (no {METADATA_FILE})")
        self.model = None if model is None else Path(model)
        self.threshold = threshold
        self.unjudged = unjudged
        self.cascade = cascade
        self.runtime = runtime

    @property
    def detector(self) -> Detector:
        return process_detector(self.model, self.runtime, self.cascade)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        detector = self.detector
        records = (check_record({"text": doc.text}, number, "text", WHERE) for number, doc in enumerate(batch))
        settings = FilterSettings(
            threshold=self.threshold,
            max_chars=detector.runtime.max_document_chars,
            where=WHERE,
            unjudged=self.unjudged,
            first_chunk=len(batch),
        )
        verdicts = []
        for doc, decision in zip(batch, filter_records(detector, records, settings), strict=True):
            doc.metadata.update(spin_metadata(decision))
            self.stat_update(ACTION_STATS[decision.action], *([decision.label] if decision.label else []))
            verdicts.append(_verdict(decision))
        return verdicts


def spin_metadata(decision: FilterDecision) -> dict:
    """The verdict as `doc.metadata` entries: plain JSON values, as datatrove's writers need."""
    result = decision.result
    metadata: dict = {
        "spin_score": None if result is None or result.score is None else round(result.score, 4),
        "spin_label": None if result is None else result.label,
        "spin_paragraphs": [] if result is None else [
            {"start": p.start, "end": p.end, "score": round(p.score, 4)} for p in result.paragraphs
        ],
    }
    if result is not None and result.unjudged:
        metadata["spin_unjudged"] = result.unjudged
    if result is not None and result.warnings:
        metadata["spin_warnings"] = list(result.warnings)
    if decision.error is not None:
        metadata["spin_error"] = decision.error
    return metadata


def _verdict(decision: FilterDecision) -> bool | tuple[bool, str]:
    if decision.action == "keep":
        return True
    if decision.action == "error":
        return False, ERROR
    return False, SPUN if decision.label == "spun" else UNJUDGED
