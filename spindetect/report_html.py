"""Scored documents as one self-contained HTML page: a summary with a score histogram, then each document.

Nothing here loads a model or touches a file: `render_report` turns a `Selection` (see
`spindetect.report_selection`) into a string. The page needs nothing beyond itself: CSS is inline, the
histogram is an SVG drawn here, there is no script, and a Content-Security-Policy forbids the browser to
fetch anything, so a report opened from a mail or an archive years later looks the same and leaks nothing.
Every piece of input text is HTML-escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from spindetect.detector import DocumentResult, ParagraphResult
from spindetect.explain import describe
from spindetect.features.spans import FlaggedSpan
from spindetect.render import UNJUDGED_REASONS
from spindetect.report_selection import (
    HISTOGRAM_BINS,
    VERDICTS,
    ReportRecord,
    Selection,
)

# No fetches of any kind; only the inline style may apply. Scripts are not needed, so none may run.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: #1f2328; background: #fff; max-width: 62rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; }
h1 { font-size: 1.5rem; margin: 0.5rem 0; }
h2 { font-size: 1.1rem; margin: 0; overflow-wrap: anywhere; }
.muted { color: #656d76; }
.badge { display: inline-block; padding: 0 0.5em; border-radius: 0.3em; font-size: 0.85rem; font-weight: 600;
         text-transform: uppercase; letter-spacing: 0.03em; vertical-align: 0.1em; }
.badge.spun { background: #dc2626; color: #fff; }
.badge.clean { background: #16a34a; color: #fff; }
.badge.unjudged { background: #ca8a04; color: #fff; }
.badge.error { background: #6b7280; color: #fff; }
table.counts { border-collapse: collapse; margin: 0.5rem 0; }
table.counts th, table.counts td { padding: 0.15rem 0.8rem; text-align: right; border-bottom: 1px solid #d0d7de; }
table.counts th:first-child, table.counts td:first-child { text-align: left; }
.note { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 0.4rem; padding: 0.5rem 0.8rem; }
.legend { display: inline-block; width: 10rem; height: 0.8rem; vertical-align: middle; border-radius: 0.2rem;
          background: linear-gradient(to right, hsl(120 70% 90%), hsl(60 70% 90%), hsl(0 70% 90%)); }
figure { margin: 1rem 0 0.5rem; }
details.index { margin: 1rem 0; }
details.index table { border-collapse: collapse; font-size: 0.9rem; }
details.index td { padding: 0 0.6rem; }
article.doc { border: 1px solid #d0d7de; border-radius: 0.5rem; margin: 1.5rem 0; padding: 0.8rem 1rem; }
article.doc.spun { border-left: 6px solid #dc2626; }
article.doc.clean { border-left: 6px solid #16a34a; }
article.doc.unjudged { border-left: 6px solid #ca8a04; }
article.doc.error { border-left: 6px solid #6b7280; }
.docmeta { font-size: 0.85rem; color: #656d76; margin: 0.2rem 0 0.6rem; }
.warning { color: #9a6700; }
.para { display: grid; grid-template-columns: 3.2rem 1fr; gap: 0.6rem; margin: 0.35rem 0; padding: 0.35rem 0.6rem;
        border-radius: 0.3rem; border-left: 4px solid transparent; }
.para .pscore { font-variant-numeric: tabular-nums; font-weight: 600; font-size: 0.85rem; padding-top: 0.1rem; }
.para .ptext { white-space: pre-wrap; overflow-wrap: anywhere; }
.para.unjudged { background: #f6f8fa; color: #656d76; border-left-color: #d0d7de; }
.para .why { grid-column: 2; font-size: 0.8rem; color: #57606a; margin: 0; padding-left: 1rem; }
.para .cond { font-style: italic; font-size: 0.8rem; color: #656d76; }
mark.flag, mark.sample { background: #fde047; color: inherit; border-bottom: 2px solid #b91c1c; padding: 0 0.1em;
            border-radius: 0.15em; cursor: help; }
.para.unjudged mark.flag { background: #fef9c3; }
svg.histogram text { font: 11px system-ui, sans-serif; fill: #57606a; }
"""


@dataclass(frozen=True)
class ReportContext:
    """What the page says about how it was made."""

    threshold: float
    model: str
    inputs: tuple[str, ...]
    title: str = "spindetect report"
    version: str | None = None


def render_report(selection: Selection, context: ReportContext) -> str:
    """The whole HTML page."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(context.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head><body>",
        _header(context),
        _summary(selection, context.threshold),
        _index(selection.shown),
        '<main id="documents">',
        *(_document(record) for record in selection.shown),
        "</main>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _e(text: str) -> str:
    """Escaped for HTML text and attributes. A lone surrogate (JSON input may hold one) becomes "?", as the
    detector scores it, so offsets still count the same characters."""
    return html.escape(text.encode("utf-8", "replace").decode("utf-8"), quote=True)


def _header(context: ReportContext) -> str:
    inputs = ", ".join(context.inputs)
    version = f" · spindetect {_e(context.version)}" if context.version else ""
    return (
        f"<header><h1>{_e(context.title)}</h1>"
        f'<p class="muted">Inputs: {_e(inputs)}<br>Model: {_e(context.model)} · threshold {context.threshold:.3f}{version}</p>'
        "</header>"
    )


def _summary(selection: Selection, threshold: float) -> str:
    tally = selection.tally
    rows = "".join(
        f'<tr data-verdict="{verdict}"><td><span class="badge {verdict}">{verdict}</span></td>'
        f'<td class="count">{tally.counts[verdict]:,}</td><td class="shown">{selection.shown_counts[verdict]:,}</td></tr>'
        for verdict in ("spun", "clean", "unjudged", "error")
    )
    table = (
        '<table class="counts"><thead><tr><th>verdict</th><th>documents</th><th>shown below</th></tr></thead>'
        f'<tbody>{rows}</tbody><tfoot><tr><td>all</td><td class="count" id="total">{tally.total:,}</td>'
        f"<td>{len(selection.shown):,}</td></tr></tfoot></table>"
    )
    return (
        '<section id="summary"><h2>Summary</h2>'
        f"{table}{_left_out_note(selection)}"
        f"{histogram_svg(tally.histogram, threshold)}"
        f'<p class="muted">Spun means a document score at or above the threshold. <em>Unjudged</em>: no paragraph of '
        f"English prose long enough to judge, so no score. Paragraph shading runs from clean to spun "
        f'<span class="legend"></span>; grey paragraphs are too short or not English and do not count. '
        f"Hover a <mark class=\"sample\">highlighted</mark> word for why it was flagged and what it probably replaced.</p>"
        "</section>"
    )


def _left_out_note(selection: Selection) -> str:
    if selection.complete:
        return ""
    tally = selection.tally
    parts = []
    for verdict in VERDICTS:
        total, shown = tally.counts[verdict], selection.shown_counts[verdict]
        if total:
            parts.append(f"{shown:,} of {total:,} {verdict}")
    return (
        f'<p class="note" id="left-out">This report shows {len(selection.shown):,} of {tally.total:,} documents '
        f"(at most {selection.max_documents:,}): {', '.join(parts)}. Spun documents are chosen first, then errors, "
        "then unjudged, then clean; where a verdict does not fit whole, its documents shown are a random sample "
        f"(the same for the same input). The counts and the histogram cover all {tally.total:,} documents. "
        "Documents are shown in input order.</p>"
    )


def histogram_svg(histogram: list[int], threshold: float) -> str:
    """The scores' histogram as inline SVG: one bar per bin over [0, 1], red at or above the threshold, green
    below, amber for the bin the threshold falls in; a dashed line at the threshold."""
    scored = sum(histogram)
    if not scored:
        return '<p class="muted" id="histogram">No document was scored, so there is no histogram.</p>'
    width, height, left, right, top, bottom = 640, 190, 44, 12, 18, 30
    plot_width, plot_height = width - left - right, height - top - bottom
    bar_width = plot_width / HISTOGRAM_BINS
    tallest = max(histogram)
    shapes = []
    for index, count in enumerate(histogram):
        low, high = index / HISTOGRAM_BINS, (index + 1) / HISTOGRAM_BINS
        colour = "#dc2626" if low >= threshold else "#16a34a" if high <= threshold else "#f59e0b"
        bar_height = plot_height * count / tallest
        x, y = left + index * bar_width, top + plot_height - bar_height
        shapes.append(
            f'<rect class="bar" data-count="{count}" x="{x + 1:.1f}" y="{y:.1f}" width="{bar_width - 2:.1f}" '
            f'height="{bar_height:.1f}" fill="{colour}"><title>{low:.2f}–{high:.2f}: {count:,} documents</title></rect>'
        )
        if count:
            shapes.append(f'<text x="{x + bar_width / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{_short(count)}</text>')
    axis_y = top + plot_height
    shapes.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_width}" y2="{axis_y}" stroke="#57606a"/>')
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = left + tick * plot_width
        shapes.append(f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 4}" stroke="#57606a"/>')
        shapes.append(f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle">{tick:g}</text>')
    shapes.append(f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{_short(tallest)}</text>')
    shapes.append(f'<text x="{left - 6}" y="{axis_y}" text-anchor="end">0</text>')
    threshold_x = left + threshold * plot_width
    shapes.append(
        f'<line x1="{threshold_x:.1f}" y1="{top - 6}" x2="{threshold_x:.1f}" y2="{axis_y}" stroke="#1f2328" '
        f'stroke-dasharray="4 3"><title>threshold {threshold:.3f}</title></line>'
    )
    anchor = "end" if threshold > 0.85 else "start"  # the label stays inside the picture
    shapes.append(f'<text x="{threshold_x + (-4 if anchor == "end" else 4):.1f}" y="{top}" text-anchor="{anchor}">threshold {threshold:.3f}</text>')
    caption = (
        f"Document scores of the {scored:,} scored documents (unjudged and errors have none), "
        f"in bins of {1 / HISTOGRAM_BINS:g}; dashed line: the threshold, {threshold:.3f}."
    )
    return (
        f'<figure id="histogram"><svg class="histogram" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}"><title>{_e(caption)}</title>'
        f'{"".join(shapes)}</svg><figcaption class="muted">{_e(caption)}</figcaption></figure>'
    )


def _short(count: int) -> str:
    """A bar label that fits a bar: 950, 12k, 3.4M."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.3g}k"
    return f"{count / 1_000_000:.3g}M"


def _index(shown: list[ReportRecord]) -> str:
    if not shown:
        return ""
    rows = "".join(
        f'<tr><td><a href="#doc-{record.number}">#{record.number}</a></td><td>{_e(record.name)}</td>'
        f'<td><span class="badge {record.verdict}">{record.verdict}</span></td><td>{_score_text(record)}</td></tr>'
        for record in shown
    )
    return f'<details class="index"><summary>Index of the {len(shown):,} documents shown</summary><table>{rows}</table></details>'


def _score_text(record: ReportRecord) -> str:
    result = record.result
    return "" if result is None or result.score is None else f"{result.score:.3f}"


def _document(record: ReportRecord) -> str:
    verdict = record.verdict
    result = record.result
    score = _score_text(record)
    heading = (
        f'<h2><span class="muted">#{record.number}</span> {_e(record.name)} '
        f'<span class="badge {verdict}">{verdict}</span> <span class="docscore">{score}</span></h2>'
    )
    body = [heading]
    if verdict == "error":
        body.append(f'<p class="error-reason">Not scored: {_e(record.why_not_scored)}</p>')
    else:
        judged = sum(1 for paragraph in result.paragraphs if paragraph.judged)
        unjudged = f"; {UNJUDGED_REASONS[result.unjudged]}" if result.unjudged else ""
        body.append(
            f'<p class="docmeta">threshold {result.threshold:.3f}; {_count(len(result.paragraphs), "paragraph")}, '
            f"{judged} judged{_e(unjudged)}</p>"
        )
        body.extend(f'<p class="warning">warning: {_e(warning)}</p>' for warning in result.warnings)
        body.extend(_paragraph(record.text, paragraph, result) for paragraph in result.paragraphs)
    return (
        f'<article class="doc {verdict}" id="doc-{record.number}" data-number="{record.number}" '
        f'data-verdict="{verdict}" data-score="{score}">{"".join(body)}</article>'
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _paragraph(text: str, paragraph: ParagraphResult, result: DocumentResult) -> str:
    conditions = [flag.reason.replace("_", " ") for flag in paragraph.flags if flag.strength is None]
    note = f' <span class="cond">({_e(", ".join(conditions))})</span>' if conditions else ""
    parts = [
        f'<span class="pscore">{paragraph.score:.2f}</span>',
        f'<div class="ptext">{_marked_text(text, paragraph)}{note}</div>',
    ]
    # As in the terminal view: the signals behind a paragraph are shown where they made it spun.
    signals = [flag for flag in paragraph.flags if flag.strength is not None]
    if paragraph.judged and paragraph.score >= result.threshold and signals:
        items = "".join(f"<li>{_e(flag.description)} <span class=\"muted\">+{flag.strength:.1f}σ</span></li>" for flag in signals)
        parts.append(f'<ul class="why">{items}</ul>')
    if paragraph.judged:
        # Hue from green (0) through yellow to red (1): the paragraph's own score, the verdict's colours.
        hue = round(120 * (1 - paragraph.score))
        style = f' style="background: hsl({hue} 75% 93%); border-left-color: hsl({hue} 65% 42%)"'
        kind = "judged"
    else:
        style, kind = "", "unjudged"
    return (
        f'<div class="para {kind}" data-start="{paragraph.start}" data-end="{paragraph.end}" '
        f'data-score="{paragraph.score:.4f}"{style}>{"".join(parts)}</div>'
    )


def _marked_text(text: str, paragraph: ParagraphResult) -> str:
    """The paragraph's text, escaped, with each flagged span in a <mark> that says why on hover. Spans come
    merged and non-overlapping from the detector; one that overlaps an earlier one or leaves the paragraph
    is shown unmarked rather than breaking the text."""
    pieces = []
    position = paragraph.start
    for span in sorted(paragraph.spans, key=lambda s: (s.start, s.end)):
        if span.start < position or span.end > paragraph.end or span.end <= span.start:
            continue
        pieces.append(_e(text[position : span.start]))
        pieces.append(
            f'<mark class="flag" data-start="{span.start}" data-end="{span.end}" data-reason="{_e(span.reason)}" '
            f'title="{_e(_span_tip(span))}">{_e(text[span.start : span.end])}</mark>'
        )
        position = span.end
    pieces.append(_e(text[position : paragraph.end]))
    return "".join(pieces)


def _span_tip(span: FlaggedSpan) -> str:
    """`synonym swap (strength 0.83): a thesaurus neighbour fits … — probably “court”`"""
    tip = f"{span.reason.replace('_', ' ')} (strength {span.strength:.2f}): {describe(span.reason)}"
    return f"{tip} — probably “{span.suggestion}”" if span.suggestion else tip
