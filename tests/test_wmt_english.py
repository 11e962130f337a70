"""The present-day news corpus (WMT MQM English sources), the short lines of test documents, and splits."""

from __future__ import annotations

import random

from spindetect.synth.brown import SourceParagraph
from spindetect.synth.dataset import SHORT_LINES_SPLIT, short_line_examples
from spindetect.synth.spinner import SpinResult
from spindetect.synth.wikipedia import short_lines_from_wikitext
from spindetect.synth.wmt_english import (
    load_wmt_english_paragraphs,
    load_wmt_english_short_lines,
    wmt_english_paragraphs,
    wmt_english_short_lines,
)

BODY = (
    "Police arrested fifteen people after a demonstration outside a hotel turned violent on Friday night. "
    "The force said two officers were hurt and the crowd left the area before midnight."
)


def _row(doc: str, segment: int, text: str) -> dict:
    return {"text": text, "doc": doc, "segment": segment, "genre": "news"}


def test_news_segments_are_paragraphs_and_their_short_segments_the_short_lines() -> None:
    rows = [
        _row("news_b.2", 2, BODY),
        _row("news_b.2", 1, "Police arrest 15 after protest"),
        _row("news_b.2", 3, "Officers outside the hotel (Picture: Agency)"),
    ]

    paragraphs = wmt_english_paragraphs(rows, min_words=20, max_words=120)
    lines = wmt_english_short_lines(rows, min_words=20)

    assert [(p.text, p.source_id, p.paragraph_index, p.genre) for p in paragraphs] == [(BODY, "wmt_english/news_b.2", 0, "news")]
    assert [line.text for line in lines] == ["Police arrest 15 after protest", "Officers outside the hotel (Picture: Agency)"]
    assert {line.source_id for line in lines} == {"wmt_english/news_b.2"}


def test_the_packaged_sources_give_news_paragraphs_and_headlines() -> None:
    paragraphs = load_wmt_english_paragraphs(20, 120)
    lines = load_wmt_english_short_lines(20)

    # 30 documents; one article's paragraphs all hold half of a quotation that runs on into the next one.
    assert len({p.source_id for p in paragraphs}) == 29 and len(paragraphs) == 80
    assert len({line.source_id for line in lines}) == 30  # every news article has a headline
    assert all(line.paragraph_index == 0 for line in lines if line.text.startswith("Police arrest 15"))


def test_wikipedia_titles_and_headings_are_short_lines_once_each() -> None:
    markup = "Intro text.\n\n== Early life ==\nBorn.\n\n=== [[Paris|In Paris]] ===\nMoved.\n\n== Early life ==\n==  ==\n"

    lines = short_lines_from_wikitext("Ada Lovelace", markup, "wiki/Ada Lovelace")

    assert [line.text for line in lines] == ["Ada Lovelace", "Early life", "In Paris"]
    assert [line.paragraph_index for line in lines] == [0, 1, 2]


class _FirstWordSpinner:
    """Replaces the first word of a line that has more than one."""

    def spin(self, text: str, rng: random.Random) -> SpinResult:
        first, _, rest = text.partition(" ")
        if not rest:
            return SpinResult(text, 0, 0, 0.0, ())
        return SpinResult(f"Odd {rest}", 1, 2, 0.5, ((0, 3, first),))


def test_short_lines_of_test_documents_only_come_with_spun_twins() -> None:
    lines = [
        SourceParagraph("Early life", "wiki/A", 0, "title_or_heading"),
        SourceParagraph("History", "wiki/A", 1, "title_or_heading"),
        SourceParagraph("Late career", "wiki/B", 0, "title_or_heading"),
        SourceParagraph("Unsplit article", "wiki/C", 0, "title_or_heading"),
    ]
    splits = {"wiki/A": "test", "wiki/B": "train"}

    examples = short_line_examples(lines, splits, _FirstWordSpinner(), seed=1)

    assert [(e.text, e.label, e.style) for e in examples] == [
        ("Early life", 0, "short_line"),
        ("Odd life", 1, "short_line_spin"),
        ("History", 0, "short_line"),
    ]
    assert {e.split for e in examples} == {SHORT_LINES_SPLIT}


def test_each_corpus_is_split_on_its_own_so_adding_one_moves_no_other_document() -> None:
    from spindetect.synth.dataset import split_by_corpus

    brown = [f"brown/c{n:02d}" for n in range(40)]
    news = [f"wmt_english/news_{n}" for n in range(20)]

    alone = split_by_corpus(brown, 0.15, 0.15, seed=13)
    together = split_by_corpus(news + brown, 0.15, 0.15, seed=13)

    assert {source: together[source] for source in brown} == alone
    assert sorted(together[source] for source in news).count("test") == 3


def test_adding_documents_moves_only_a_few_others_to_another_split() -> None:
    from spindetect.synth.dataset import assign_splits

    documents = [f"brown/c{n:03d}" for n in range(200)]
    before = assign_splits(documents, 0.15, 0.15, seed=13)
    after = assign_splits(documents + [f"brown/new{n}" for n in range(5)], 0.15, 0.15, seed=13)

    moved = [document for document in documents if before[document] != after[document]]
    assert len(moved) <= 6  # the five new ones push at most that many across a boundary, and the counts grow by one
    assert sorted(before.values()).count("test") == 30
