"""Present-day news written by people: the English source documents of the WMT23 MQM ratings.

The packaged `english_sources.jsonl` (built by `training/build_mt_data.py --mqm`) holds 30 news articles of
early 2023, one segment each for the headline, the photo captions and every body paragraph. Brown is 1961
prose and the other corpora are encyclopedic or technical; this is the genre spinners rewrite. A segment
long enough to judge is a paragraph; the shorter ones, headlines and captions, are the short lines of
`wmt_english_short_lines`.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Iterable, Iterator
from itertools import groupby

from spindetect.synth.brown import SourceParagraph
from spindetect.synth.wikipedia import reads_as_prose, sentence_chunks, word_count

SOURCES_FILE = "english_sources.jsonl"
CORPUS = "wmt_english"


def read_english_sources() -> list[dict]:
    """The packaged segments: `text`, `doc`, `segment` (its place in the document), `genre` (news)."""
    resource = importlib.resources.files("spindetect.data").joinpath(SOURCES_FILE)
    return [json.loads(line) for line in resource.read_text(encoding="utf-8").splitlines() if line.strip()]


def _documents(rows: Iterable[dict]) -> Iterator[tuple[str, list[str]]]:
    """(source_id, segment texts in order) for each document."""
    ordered = sorted(rows, key=lambda row: (row["doc"], row["segment"]))
    for doc, segments in groupby(ordered, key=lambda row: row["doc"]):
        yield f"{CORPUS}/{doc}", [row["text"] for row in segments]


def wmt_english_paragraphs(rows: Iterable[dict], min_words: int = 20, max_words: int = 200) -> list[SourceParagraph]:
    """Clean prose paragraphs: each segment, split at sentences when longer than `max_words`, kept when it
    reads as prose (a paragraph holding half of a quotation that runs on into the next one does not)."""
    paragraphs: list[SourceParagraph] = []
    for source_id, segments in _documents(rows):
        kept = 0
        for segment in segments:
            for chunk in sentence_chunks(segment, max_words):
                if reads_as_prose(chunk, min_words):
                    paragraphs.append(SourceParagraph(chunk, source_id, kept, "news"))
                    kept += 1
    return paragraphs


def wmt_english_short_lines(rows: Iterable[dict], min_words: int = 20) -> list[SourceParagraph]:
    """The segments of fewer than `min_words` words: headlines and photo captions, as they stand."""
    lines: list[SourceParagraph] = []
    for source_id, segments in _documents(rows):
        short = [text for text in segments if word_count(text) < min_words]
        lines += [SourceParagraph(text, source_id, index, "headline_or_caption") for index, text in enumerate(short)]
    return lines


def load_wmt_english_paragraphs(min_words: int = 20, max_words: int = 200) -> list[SourceParagraph]:
    return wmt_english_paragraphs(read_english_sources(), min_words, max_words)


def load_wmt_english_short_lines(min_words: int = 20) -> list[SourceParagraph]:
    return wmt_english_short_lines(read_english_sources(), min_words)
