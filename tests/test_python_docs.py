"""Clean paragraphs from the Python documentation (Debian's python3.11-doc): HTML to paragraphs, finding the docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spindetect.config import CorpusConfig
from spindetect.synth import python_docs
from spindetect.synth.python_docs import (
    PYTHON_DOCS_ENV,
    PythonDocsNotFoundError,
    html_paragraphs,
    load_python_docs_paragraphs,
    locate_python_docs,
    paragraphs_from_html,
)

REAL_DOCS = Path("/usr/share/doc/python3.11/html")

# Twenty-one words of plain prose: just long enough to keep.
FILLER = (
    "The interpreter reads each line of the program in turn and runs it before it moves on to the next one."
)
# Five sentences of ten words each: fifty words, to be split.
SENTENCES = [
    f"Sentence {n} of this paragraph explains one more module detail."
    for n in ("one", "two", "three", "four", "five")
]
LONG = " ".join(SENTENCES)


def page(*body: str, sidebar: str = "<p>Previous topic and other links from the sidebar of the page go here.</p>") -> str:
    """A page shaped like Sphinx's: header, the body div holding ``body``, then sidebar and footer."""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>T</title></head><body>"
        "<div class='document'><div class='documentwrapper'><div class='bodywrapper'>"
        "<div class='body' role='main'><section id='s'><h1>Title<a class='headerlink' href='#s'>¶</a></h1>"
        + "\n".join(body)
        + "</section></div></div></div>"
        f"<div class='sphinxsidebar'>{sidebar}<p class='topless'>Next topic</p></div></div>"
        "<div class='footer'><p>Copyright 2001 to 2023, the Python Software Foundation, under the PSF License.</p></div>"
        "</body></html>"
    )


def write_docs(root: Path, pages: dict[str, str]) -> Path:
    for relative, markup in pages.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(markup, encoding="utf-8")
    return root


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A tiny documentation tree: prose, code-bearing paragraphs, an entity, a long paragraph, left-out sections."""
    return write_docs(
        tmp_path / "html",
        {
            "tutorial/intro.html": page(
                f"<p>{FILLER}</p>",
                f"<p>Use the <code class='docutils literal'><span class='pre'>print()</span></code> function. {FILLER}</p>",
                f"<p>{FILLER} An example follows, with its prompt:</p>",
                "<div class='highlight'><pre><span class='gp'>&gt;&gt;&gt; </span>print(1)</pre></div>",
                f"<p>Strings are &#8220;immutable&#8221; &amp; hashable,\n   so   they can be keys. {FILLER}</p>",
            ),
            "tutorial/long.html": page(f"<p>{LONG}</p>"),
            "library/os.path.html": page(
                f"<dl class='py function'><dt class='sig'>join</dt><dd><p>{FILLER}</p>"
                f"<p>Typing <span class='pre'>&gt;&gt;&gt;</span> at the prompt does nothing. {FILLER}</p></dd></dl>",
                f"<table><tr><td><p>{FILLER}</p></td></tr></table>",
                f"<div class='versionchanged'><p><span class='versionmodified changed'>Changed in version 3.6: </span>{FILLER}</p></div>",
                f"<div class='admonition note'><p class='admonition-title'>Note</p><p>Notes are prose too. {FILLER}</p></div>",
            ),
            "whatsnew/3.11.html": page(f"<p>{FILLER}</p>"),
            "c-api/intro.html": page(f"<p>{FILLER}</p>"),
            "index.html": page(f"<p>{FILLER}</p>"),
        },
    )


# --------------------------------------------------------------------------- HTML to paragraphs


def test_only_the_body_s_plain_paragraphs_are_read() -> None:
    markup = page(
        "<p class='rubric'>Footnotes</p>",
        f"<p>{FILLER}</p>",
        f"<table><tr><td><p>{FILLER} In a cell.</p></td></tr></table>",
        f"<div class='deprecated'><p>Deprecated since version 3.4. {FILLER}</p></div>",
    )
    assert [p.text for p in html_paragraphs(markup)] == [FILLER]


def test_paragraph_text_is_decoded_and_whitespace_normalised() -> None:
    markup = page("<p>A&nbsp;&lt;tag&gt; &amp;\n\t an &#x2019;s<br/>line  &eacute;t&eacute;.</p>")
    assert html_paragraphs(markup)[0].text == "A <tag> & an ’s line été."


def test_footnote_markers_are_left_out_and_inline_code_is_noticed() -> None:
    markup = page(
        "<p>See the notes<a class='footnote-reference brackets' href='#f1'><span>[</span>1<span>]</span></a>.</p>",
        "<p>Call <code class='xref'><span class='pre'>len()</span></code> here.</p>",
        "<p>Call <span class='pre'>len()</span> there.</p>",
    )
    paragraphs = html_paragraphs(markup)
    assert [p.text for p in paragraphs] == ["See the notes.", "Call len() here.", "Call len() there."]
    assert [p.has_code for p in paragraphs] == [False, True, True]


def test_stray_end_tags_do_not_unbalance_the_reader() -> None:
    markup = page("</span></div-not-open>", f"<p>{FILLER}</em></p>", f"<p>{FILLER}</p>")
    assert [p.text for p in html_paragraphs(markup)] == [FILLER, FILLER]


def test_paragraphs_with_code_prompts_identifiers_or_no_sentence_end_are_dropped() -> None:
    markup = page(
        f"<p>{FILLER}</p>",
        f"<p>Pass <code>sep</code> to it. {FILLER}</p>",
        f"<p>{FILLER} Type &gt;&gt;&gt; to start.</p>",
        f"<p>If <em>error_callback</em> is given it is called. {FILLER}</p>",
        f"<p>{FILLER} For example:</p>",
        "<p>Too short to keep, though it is a sentence.</p>",
    )
    assert [p.text for p in paragraphs_from_html(markup, "python_docs/x", "tutorial")] == [FILLER]


def test_long_paragraphs_are_split_at_sentence_ends() -> None:
    kept = paragraphs_from_html(page(f"<p>{LONG}</p>"), "python_docs/x", "tutorial", min_words=20, max_words=30)
    # Chunks of similar size (30 and 20 words) rather than 30 and a short tail.
    assert [p.text for p in kept] == [" ".join(SENTENCES[:3]), " ".join(SENTENCES[3:])]
    assert [p.paragraph_index for p in kept] == [0, 1]
    # A sentence over max_words cannot be split and is left out, as is the fifth one, too short alone.
    kept = paragraphs_from_html(page(f"<p>{LONG} {FILLER}</p>"), "python_docs/x", "tutorial", 20, 20)
    assert [p.text for p in kept] == [" ".join(SENTENCES[:2]), " ".join(SENTENCES[2:4])]


# --------------------------------------------------------------------------- reading a docs tree


def test_load_reads_the_prose_sections_with_ids_genres_and_indexes(docs: Path) -> None:
    kept = load_python_docs_paragraphs(docs, min_words=20, max_words=200)
    assert [(p.source_id, p.genre, p.paragraph_index) for p in kept] == [
        ("python_docs/library/os.path", "library", 0),
        ("python_docs/library/os.path", "library", 1),
        ("python_docs/tutorial/intro", "tutorial", 0),
        ("python_docs/tutorial/intro", "tutorial", 1),
        ("python_docs/tutorial/long", "tutorial", 0),
    ]
    assert kept[1].text == f"Notes are prose too. {FILLER}"
    assert kept[3].text == f"Strings are “immutable” & hashable, so they can be keys. {FILLER}"
    assert kept[4].text == LONG


def test_load_splits_long_paragraphs_within_their_page(docs: Path) -> None:
    kept = load_python_docs_paragraphs(docs, min_words=20, max_words=30)
    long = [p for p in kept if p.source_id == "python_docs/tutorial/long"]
    assert [(p.text, p.paragraph_index) for p in long] == [
        (" ".join(SENTENCES[:3]), 0),
        (" ".join(SENTENCES[3:]), 1),
    ]


def test_load_is_deterministic(docs: Path) -> None:
    assert load_python_docs_paragraphs(docs, 20, 200) == load_python_docs_paragraphs(docs, 20, 200)


def test_load_refuses_min_words_over_max_words(docs: Path) -> None:
    with pytest.raises(ValueError, match="min_words"):
        load_python_docs_paragraphs(docs, min_words=50, max_words=30)


def test_the_config_accepts_the_corpus_but_not_brown_categories() -> None:
    assert CorpusConfig(name="python_docs").name == "python_docs"
    with pytest.raises(ValueError, match="brown"):
        CorpusConfig(name="python_docs", categories=["tutorial"])


# --------------------------------------------------------------------------- finding the docs


@pytest.fixture
def doc_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty stand-in for /usr/share/doc, and no $SPINDETECT_PYTHON_DOCS."""
    doc_dir = tmp_path / "usr-share-doc"
    doc_dir.mkdir()
    monkeypatch.setattr(python_docs, "SYSTEM_DOC_DIR", doc_dir)
    monkeypatch.delenv(PYTHON_DOCS_ENV, raising=False)
    return doc_dir


def fake_docs(root: Path) -> Path:
    return write_docs(root, {"tutorial/index.html": page(f"<p>{FILLER}</p>")})


def test_explicit_path_comes_first_then_the_environment(doc_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = fake_docs(doc_dir / "python3.11" / "html")
    from_env = fake_docs(doc_dir.parent / "env-docs")
    explicit = fake_docs(doc_dir.parent / "explicit-docs")
    assert locate_python_docs() == installed
    monkeypatch.setenv(PYTHON_DOCS_ENV, str(from_env))
    assert locate_python_docs() == from_env
    assert locate_python_docs(explicit) == explicit


def test_the_newest_installed_docs_are_chosen(doc_dir: Path) -> None:
    fake_docs(doc_dir / "python3.9" / "html")
    newest = fake_docs(doc_dir / "python3.11" / "html")
    (doc_dir / "python3.12" / "html").mkdir(parents=True)  # left behind empty: not docs
    fake_docs(doc_dir / "python3.13-doc" / "html")  # not a python3.N directory
    assert locate_python_docs() == newest


def test_a_named_path_that_is_not_docs_is_an_error(doc_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_docs(doc_dir / "python3.11" / "html")  # would be found, but a named path is not skipped past
    with pytest.raises(PythonDocsNotFoundError, match="path given"):
        locate_python_docs(doc_dir / "python3.11" / "htlm")
    monkeypatch.setenv(PYTHON_DOCS_ENV, str(doc_dir / "nowhere"))
    with pytest.raises(PythonDocsNotFoundError, match=re.escape(f"${PYTHON_DOCS_ENV}")):
        locate_python_docs()


def test_naming_the_parent_of_html_gets_a_hint(doc_dir: Path) -> None:
    fake_docs(doc_dir / "python3.11" / "html")
    with pytest.raises(PythonDocsNotFoundError, match=re.escape(f"did you mean {doc_dir / 'python3.11' / 'html'}")):
        locate_python_docs(doc_dir / "python3.11")


def test_not_found_says_how_to_install_or_point_at_the_docs(doc_dir: Path) -> None:
    with pytest.raises(FileNotFoundError) as error:
        locate_python_docs()
    assert isinstance(error.value, PythonDocsNotFoundError)
    message = str(error.value)
    assert "sudo apt-get install python3.11-doc" in message
    assert PYTHON_DOCS_ENV in message and "--python-docs" in message and "html" in message


# --------------------------------------------------------------------------- the real documentation


@pytest.mark.skipif(not (REAL_DOCS / "tutorial").is_dir(), reason="python3.11-doc is not installed")
def test_the_real_docs_give_hundreds_of_prose_paragraphs() -> None:
    kept = load_python_docs_paragraphs(REAL_DOCS, min_words=20, max_words=120)
    assert len(kept) > 500
    assert {p.genre for p in kept} == set(python_docs.PROSE_SECTIONS)
    for paragraph in kept:
        words = paragraph.text.split()
        assert 20 <= len(words) <= 120
        assert not re.search(r"[^\W_]", paragraph.text).group(0).islower(), paragraph.text
        assert paragraph.text.rstrip("”’\")]")[-1] in ".!?", paragraph.text
        assert ">>>" not in paragraph.text and "<" not in paragraph.text and "&amp;" not in paragraph.text
        assert paragraph.text == " ".join(words)
