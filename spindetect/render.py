"""Terminal and JSON renderings of document results."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from spindetect.detector import DocumentResult
from spindetect.features.spans import FlaggedSpan

SNIPPET_CHARS = 72
UNJUDGED_REASONS = {
    "too_short": "no paragraph is long enough to judge",
    "not_english": "no paragraph long enough to judge is English",
}
MAX_SHOWN_SPANS = 8
CONTEXT_WORDS = 2


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"


def _score_style(score: float, threshold: float) -> str:
    return "bold red" if score >= threshold else "green"


def print_document(console: Console, name: str, text: str, result: DocumentResult) -> None:
    """A document's verdict, then each paragraph with its score and strongest signals."""
    if result.error is not None:
        console.print(f"[bold]{escape(name)}[/]  [yellow]not scored[/]: {escape(result.error)}")
        return
    judged = sum(1 for p in result.paragraphs if p.judged)
    if result.score is None:
        verdict = f"[yellow]UNJUDGED[/] [dim]({UNJUDGED_REASONS[result.unjudged]})[/]"
    else:
        verdict = f"[{_score_style(result.score, result.threshold)}]{result.label.upper()} {result.score:.2f}[/]"
    console.print(
        f"[bold]{escape(name)}[/]  {verdict}  "
        f"[dim](threshold {result.threshold:.2f}; {len(result.paragraphs)} paragraphs, {judged} judged)[/]"
    )
    for warning in result.warnings:
        console.print(f"  [yellow]warning:[/] {escape(warning)}")
    for number, paragraph in enumerate(result.paragraphs, start=1):
        conditions = [flag.reason.replace("_", " ") for flag in paragraph.flags if flag.strength is None]
        signals = [flag for flag in paragraph.flags if flag.strength is not None]
        snippet = escape(_snippet(text[paragraph.start : paragraph.end]))
        if paragraph.judged:
            score = f"[{_score_style(paragraph.score, result.threshold)}]{paragraph.score:.2f}[/]"
        else:
            score = f"[dim]{paragraph.score:.2f}[/]"
            snippet = f"[dim]{snippet}[/]"
        note = f"  [dim italic]({', '.join(conditions)})[/]" if conditions else ""
        console.print(f"  {number:>3}  {score}  {snippet}{note}", highlight=False)
        if paragraph.judged and paragraph.score >= result.threshold:
            if signals:
                described = " · ".join(f"{escape(flag.description)} [dim]+{flag.strength:.1f}σ[/]" for flag in signals)
                console.print(f"            [dim]▸[/] {described}", highlight=False)
            if paragraph.spans:
                strongest = strongest_spans(paragraph.spans, MAX_SHOWN_SPANS)
                shown = "  ".join(_span_in_context(text, paragraph.start, span) for span in strongest)
                more = len(paragraph.spans) - MAX_SHOWN_SPANS
                tail = f"  [dim](+{more} more)[/]" if more > 0 else ""
                console.print(f"            [dim]▸[/] {shown}{tail}", highlight=False)
    console.print()


def strongest_spans(spans: tuple[FlaggedSpan, ...], limit: int) -> list[FlaggedSpan]:
    """The `limit` strongest spans (the earlier of equals), in text order: when a paragraph has more flags than
    fit on a line, the line shows those the verdict rests on most."""
    chosen = sorted(range(len(spans)), key=lambda index: (-spans[index].strength, index))[:limit]
    return [spans[index] for index in sorted(chosen)]


def _span_in_context(text: str, paragraph_start: int, span: FlaggedSpan) -> str:
    """`will appear in [tribunal → court?]`: a flagged span, its suggestion and the words before it."""
    before = " ".join(text[paragraph_start : span.start].split()[-CONTEXT_WORDS:])
    flagged = " ".join(span.text.split())
    suggestion = f" → {escape(span.suggestion)}?" if span.suggestion else ""
    lead = f"[dim]{escape(before)}[/] " if before else ""
    return f"{lead}[bold red]\\[{escape(flagged)}{suggestion}][/]"


def result_fields(result: DocumentResult) -> dict:
    """The fields `score --jsonl` adds to an input record."""
    fields: dict = {
        "spin_score": None if result.score is None else round(result.score, 4),
        "spin_label": result.label,
        "paragraphs": [paragraph.to_json() for paragraph in result.paragraphs],
    }
    if result.unjudged:
        fields["spin_unjudged"] = result.unjudged
    if result.warnings:
        fields["spin_warnings"] = list(result.warnings)
    if result.error:
        fields["error"] = result.error
    return fields
