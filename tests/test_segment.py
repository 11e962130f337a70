import time

from spindetect.segment import count_words, segment, split_sentences

ARTICLE = (
    "Local News\n\n"
    "The city council voted on Tuesday to approve a new budget for the coming year, after months of debate "
    "over the cost of repairing roads and bridges across the county.\n\n"
    "Officials said the work would begin in the spring and take about eight months to finish, with most of "
    "the money going to the oldest bridges on the east side.\n"
    "Related stories\n"
    "Five Ways To Save On Heating This Winter\n"
)


def test_offsets_point_into_the_original_text() -> None:
    for paragraph in segment(ARTICLE):
        assert ARTICLE[paragraph.start : paragraph.end] == paragraph.text
        for start, end in paragraph.sentences:
            assert paragraph.start <= start < end <= paragraph.end


def test_every_line_of_a_page_is_its_own_paragraph_and_short_lines_are_marked() -> None:
    paragraphs = segment(ARTICLE, min_words=20)
    assert [p.text.split()[0] for p in paragraphs] == ["Local", "The", "Officials", "Related", "Five"]
    assert [p.too_short for p in paragraphs] == [True, False, False, True, True]


def test_hard_wrapped_prose_is_joined_into_one_paragraph() -> None:
    wrapped = (
        "The committee said on Tuesday that the new budget would provide\n"
        "enough money to repair the old bridge, and officials expected the\n"
        "work to begin in early spring and to last about eight months in all.\n"
    )
    paragraphs = segment(wrapped)
    assert len(paragraphs) == 1
    assert paragraphs[0].n_words == count_words(wrapped)


def test_crlf_line_endings_keep_offsets_exact() -> None:
    text = ARTICLE.replace("\n", "\r\n")
    paragraphs = segment(text)
    assert len(paragraphs) == 5
    for paragraph in paragraphs:
        assert text[paragraph.start : paragraph.end] == paragraph.text
        assert "\r" not in paragraph.text


def test_long_paragraphs_are_split_at_sentences_within_the_word_limit() -> None:
    sentence = "The quick brown fox jumps over the lazy dog near the river bank today. "
    text = sentence * 40
    paragraphs = segment(text, max_paragraph_words=50)
    assert len(paragraphs) > 1
    assert all(p.n_words <= 50 for p in paragraphs)
    assert all(p.text.endswith(".") for p in paragraphs)
    assert sum(p.n_words for p in paragraphs) == count_words(text)


def test_a_huge_single_line_without_punctuation_is_split_quickly() -> None:
    text = "word " * 400_000  # 2 MB, one line, no sentence boundary
    started = time.monotonic()
    paragraphs = segment(text, max_paragraph_words=200)
    assert time.monotonic() - started < 30  # generous: only guards against quadratic behaviour
    assert all(p.n_words <= 200 for p in paragraphs)
    assert sum(p.n_words for p in paragraphs) == 400_000


def test_sentences_do_not_end_at_abbreviations_or_initials() -> None:
    text = "Mr. Smith met U.S. officials in Jan. 2021. Then J. Doe left! Was it late? Yes."
    sentences = [text[s:e] for s, e in split_sentences(text)]
    assert sentences == ["Mr. Smith met U.S. officials in Jan. 2021.", "Then J. Doe left!", "Was it late?", "Yes."]


def test_empty_and_blank_documents_have_no_paragraphs() -> None:
    assert segment("") == []
    assert segment(" \n\n\t\n") == []
