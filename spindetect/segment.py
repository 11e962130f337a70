"""Cut documents into paragraphs and sentences, keeping character offsets into the original text.

Web pages mix article prose with titles, menus and headline lists. Each non-empty line is its own paragraph
unless the line break is clearly a hard wrap inside running prose. Paragraphs shorter than `min_words` are
kept and scored, but marked too short to judge alone: their perplexity says more about their being
headlines than about their being spun.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WORD_PATTERN = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*", re.UNICODE)
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_TERMINAL_PUNCTUATION = ".!?:;\"”’)»"

# A sentence ends at . ! ? (with closing quotes/brackets) followed by space and a capital, digit or quote,
# unless the period ends a common abbreviation or an initial.
_SENTENCE_END = re.compile(r"[.!?]+[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt ft gen gov sen rep rev col lt sgt capt cmdr adm "
    "jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp no vs etc e.g i.e u.s u.k u.n a.m p.m".split()
)


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of a document: `text == document[start:end]`."""

    start: int
    end: int
    text: str
    n_words: int
    too_short: bool
    sentences: tuple[tuple[int, int], ...]  # absolute character offsets


def count_words(text: str) -> int:
    return sum(1 for _ in WORD_PATTERN.finditer(text))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) relative to `text`, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start() + 1]
        last_word = re.split(r"[\s\-–—/(]", before.rstrip())[-1].rstrip(".").lower()
        is_initial = len(last_word) == 1 and last_word.isalpha()
        if match.group().startswith(".") and (last_word in _ABBREVIATIONS or is_initial):
            continue
        end = match.start() + len(match.group().rstrip())
        spans.append((start, end))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return [(s + len(text[s:e]) - len(text[s:e].lstrip()), e) for s, e in spans if text[s:e].strip()]


def _line_spans(block: str, offset: int) -> list[tuple[int, int]]:
    spans = []
    position = 0
    for line in block.split("\n"):
        stripped = line.strip()
        if stripped:
            left = position + line.index(stripped[0])
            spans.append((offset + left, offset + left + len(stripped)))
        position += len(line) + 1
    return spans


def _looks_hard_wrapped(lines: list[str]) -> bool:
    """True when a block's line breaks are a fixed-width wrap of running prose, not separate items."""
    if len(lines) < 2:
        return False
    body = lines[:-1]
    width = max(len(line) for line in lines)
    # Wrapped prose is set between 50 and 120 columns; shorter blocks are menus and lists.
    if not 50 <= width <= 120:
        return False
    full_lines = sum(1 for line in body if len(line) >= 0.6 * width)
    open_ended = sum(1 for line in body if not line.rstrip().endswith(tuple(_TERMINAL_PUNCTUATION)))
    return full_lines >= 0.8 * len(body) and open_ended >= 0.5 * len(body)


def _continues(previous: str, line: str) -> bool:
    """A line that starts in lowercase after a line with no closing punctuation continues its sentence."""
    return not previous.rstrip().endswith(tuple(_TERMINAL_PUNCTUATION)) and line[:1].islower()


def _paragraph_spans(document: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    block_start = 0
    boundaries = [(m.start(), m.end()) for m in _BLANK_LINE.finditer(document)] + [(len(document), len(document))]
    for block_end, next_start in boundaries:
        block = document[block_start:block_end]
        lines = _line_spans(block, block_start)
        texts = [document[s:e] for s, e in lines]
        if lines and _looks_hard_wrapped(texts):
            spans.append((lines[0][0], lines[-1][1]))
        else:
            for (start, end), text in zip(lines, texts, strict=True):
                if spans and spans[-1][1] >= block_start and _continues(document[spans[-1][0] : spans[-1][1]], text):
                    spans[-1] = (spans[-1][0], end)
                else:
                    spans.append((start, end))
        block_start = next_start
    return spans


def _split_long(document: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Split a span into pieces of at most `max_words` words, at sentence boundaries where possible."""
    text = document[start:end]
    if count_words(text) <= max_words:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    piece_start: int | None = None
    piece_words = 0
    previous_end = 0
    for s_start, s_end in split_sentences(text):
        units = [(s_start, s_end)]
        if count_words(text[s_start:s_end]) > max_words:
            units = _split_words(text, s_start, s_end, max_words)
        for u_start, u_end in units:
            words = count_words(text[u_start:u_end])
            if piece_start is not None and piece_words + words > max_words:
                pieces.append((start + piece_start, start + previous_end))
                piece_start, piece_words = None, 0
            if piece_start is None:
                piece_start = u_start
            piece_words += words
            previous_end = u_end
    if piece_start is not None:
        pieces.append((start + piece_start, start + previous_end))
    return pieces


def _split_words(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Split a run-on sentence into runs of `max_words` words (no sentence boundary to use)."""
    matches = list(WORD_PATTERN.finditer(text, start, end))
    pieces = []
    for first in range(0, len(matches), max_words):
        last = min(first + max_words, len(matches)) - 1
        piece_end = matches[last + 1].start() if last + 1 < len(matches) else end
        piece_start = start if first == 0 else matches[first].start()
        pieces.append((piece_start, len(text[:piece_end].rstrip())))
    return pieces


def segment(document: str, min_words: int = 20, max_paragraph_words: int = 200) -> list[Paragraph]:
    """Cut a document into paragraphs with offsets; empty or whitespace-only documents give []."""
    paragraphs = []
    for start, end in _paragraph_spans(document):
        for p_start, p_end in _split_long(document, start, end, max_paragraph_words):
            text = document[p_start:p_end]
            sentences = tuple((p_start + s, p_start + e) for s, e in split_sentences(text))
            n_words = count_words(text)
            paragraphs.append(Paragraph(p_start, p_end, text, n_words, n_words < min_words, sentences))
    return paragraphs
