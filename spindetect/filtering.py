"""Filtering records: keep the clean ones, reject the spun ones, set aside the ones that cannot be scored.

Every record read gets exactly one decision, in input order, so read = kept + rejected + errored always
holds. Records are scored in chunks (efficient length-sorted batches, bounded memory); when a chunk fails as
a whole, its records are scored one by one, so one bad text costs one record and never the run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from spindetect.inputs import JsonlRecord
from spindetect.render import UNJUDGED_REASONS, result_fields

if TYPE_CHECKING:
    from spindetect.detector import Detector, DocumentResult

logger = logging.getLogger(__name__)

# Records scored together: enough paragraphs for efficient batches, little memory.
CHUNK_RECORDS = 64
CHUNK_CHARS = 400_000

Action = Literal["keep", "reject", "error"]
# What happens to a record with nothing long enough, or English enough, to judge (see `DocumentResult`).
UnjudgedAction = Literal["keep", "reject", "error"]


@dataclass(frozen=True)
class FilterSettings:
    text_field: str = "text"
    threshold: float | None = None  # None: the model's own
    # Drop only the spun paragraphs of a document and keep the rest (a record is rejected only when every
    # paragraph that can be judged is spun).
    paragraph_mode: bool = False
    # Texts longer than this are errors rather than being judged on a part (None: no limit).
    max_chars: int | None = None
    # How an error names its record, from the record's number: "line 12: ..." for JSON Lines, "row 12: ..." for a
    # dataset's row. Without "{}" the record is named without a number.
    where: str = "line {}"
    # Records with no paragraph to judge (titles, captions, foreign text) are kept by default: rejecting every
    # headline would make the filter useless on pages, and such a record carries no evidence of spinning.
    unjudged: UnjudgedAction = "keep"
    # Records in the first chunk scored (see `chunks`): 1 for a stream, so its first results come soon; a caller
    # that hands over a batch it already holds passes the batch's size, which is then scored as one chunk.
    first_chunk: int = 1


@dataclass(frozen=True)
class FilterDecision:
    """What happened to one record, and the line to write for it.

    `output` is the record as it should be written: for a kept record, the input unchanged (in paragraph
    mode with the spun paragraphs cut from its text and listed in `spin_cut`); for a rejected one, the input
    with `spin_score`, `spin_label` and the per-paragraph flags added; for an error, the input (or the raw
    line, if it was not JSON) with the line number and the reason.
    """

    action: Action
    line_number: int
    output: dict
    score: float | None = None
    error: str | None = None
    cut: tuple[dict, ...] = field(default=())
    # "spun", "clean" or "unjudged" as the detector judged the record; None for an error of the record itself.
    label: str | None = None
    # The detector's verdict with its paragraphs, for every record it scored (a kept record's output does not
    # carry them); None for a record it could not score.
    result: DocumentResult | None = None


def chunks(records: Iterable[JsonlRecord], first: int = 1) -> Iterator[list[JsonlRecord]]:
    """Consecutive records grouped by count and text size. The first chunks are small (`first`, then twice as
    many, and so on up to CHUNK_RECORDS), so the first results, and the first checkpoint of a filter run, come
    within seconds rather than after a full chunk of long documents."""
    chunk: list[JsonlRecord] = []
    chars = 0
    limit = first
    for record in records:
        chunk.append(record)
        chars += len(record.text or "")
        if len(chunk) >= min(limit, CHUNK_RECORDS) or chars >= CHUNK_CHARS:
            yield chunk
            chunk, chars = [], 0
            limit *= 2
    if chunk:
        yield chunk


def score_isolating_failures(
    detector: Detector, texts: list[str], threshold: float | None
) -> list[DocumentResult | str]:
    """Each text's result, or the error that stopped it being scored."""
    try:
        return list(detector.score(texts, threshold=threshold))
    except Exception:
        logger.exception("scoring a batch failed; retrying its records one by one")
    results: list[DocumentResult | str] = []
    for text in texts:
        try:
            results.append(detector.score([text], threshold=threshold)[0])
        except Exception as error:  # one record's failure must not end a long run
            results.append(f"internal error: {error!r}")
    return results


def filter_records(detector: Detector, records: Iterable[JsonlRecord], settings: FilterSettings) -> Iterator[FilterDecision]:
    """One decision per record, in input order."""
    threshold = detector.threshold if settings.threshold is None else settings.threshold
    for chunk in chunks(records, settings.first_chunk):
        checked = [_check_length(record, settings) for record in chunk]
        scorable = [record for record in checked if record.error is None]
        results = iter(score_isolating_failures(detector, [record.text for record in scorable], threshold))
        for record in checked:
            if record.error is not None:
                yield error_decision(record, record.error)
                continue
            result = next(results)
            where = settings.where.format(record.line_number)
            if isinstance(result, str):
                yield error_decision(record, f"{where}: {result}")
            elif result.error is not None:
                yield error_decision(record, f"{where}: {result.error}")
            elif result.label == "unjudged":
                yield replace(_unjudged_decision(record, result, settings.unjudged, where), result=result)
            elif settings.paragraph_mode:
                yield replace(_paragraph_decision(record, result, threshold, settings.text_field), result=result)
            else:
                yield replace(_document_decision(record, result, threshold), result=result)


def error_decision(record: JsonlRecord, reason: str) -> FilterDecision:
    output: dict = {"line": record.line_number, "error": reason}
    if record.fields is not None:
        output["record"] = record.fields
    elif record.raw is not None:
        output["raw"] = record.raw
    return FilterDecision("error", record.line_number, output, error=reason)


def _check_length(record: JsonlRecord, settings: FilterSettings) -> JsonlRecord:
    max_chars = settings.max_chars
    if record.error is None and max_chars is not None and len(record.text) > max_chars:
        where = settings.where.format(record.line_number)
        error = f"{where}: text has {len(record.text):,} characters, over the limit of {max_chars:,}"
        return JsonlRecord(record.line_number, record.fields, None, error)
    return record


def _document_decision(record: JsonlRecord, result: DocumentResult, threshold: float) -> FilterDecision:
    if result.score >= threshold:
        return FilterDecision("reject", record.line_number, {**record.fields, **result_fields(result)}, result.score, label="spun")
    return FilterDecision("keep", record.line_number, record.fields, result.score, label="clean")


def _unjudged_decision(record: JsonlRecord, result: DocumentResult, action: UnjudgedAction, where: str) -> FilterDecision:
    if action == "keep":
        return FilterDecision("keep", record.line_number, record.fields, label="unjudged")
    if action == "reject":
        return FilterDecision("reject", record.line_number, {**record.fields, **result_fields(result)}, label="unjudged")
    decision = error_decision(record, f"{where}: unjudged: {UNJUDGED_REASONS[result.unjudged]}")
    return FilterDecision("error", decision.line_number, decision.output, error=decision.error, label="unjudged")


def _paragraph_decision(record: JsonlRecord, result: DocumentResult, threshold: float, text_field: str) -> FilterDecision:
    judged = [paragraph for paragraph in result.paragraphs if paragraph.judged]
    spun = [paragraph for paragraph in judged if paragraph.score >= threshold]
    # Nothing worth keeping: every judged paragraph is spun (an unjudged record never comes here).
    if len(spun) == len(judged):
        return FilterDecision("reject", record.line_number, {**record.fields, **result_fields(result)}, result.score, label="spun")
    text = record.text
    cut = tuple(
        {"start": p.start, "end": p.end, "score": round(p.score, 4), "text": text[p.start : p.end]} for p in spun
    )
    output = {**record.fields, text_field: cut_spans(text, [(p.start, p.end) for p in spun]), "spin_cut": list(cut)}
    return FilterDecision("keep", record.line_number, output, result.score, cut=cut, label="clean")


def cut_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` without the given (sorted, disjoint) spans, each taken with the whitespace that follows it, so
    the paragraphs around a cut keep their own separator."""
    pieces = []
    position = 0
    for start, end in spans:
        pieces.append(text[position:start])
        position = end
        while position < len(text) and text[position].isspace():
            position += 1
    if position == len(text) and pieces:
        # The last paragraph was cut: its separator from the one before goes with it.
        pieces[-1] = pieces[-1].rstrip()
    pieces.append(text[position:])
    return "".join(pieces)
