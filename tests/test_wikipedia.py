"""Clean Wikipedia paragraphs: wikitext to prose, reading the XML export, finding the dump."""

from __future__ import annotations

import bz2
import importlib.machinery
import importlib.util
import logging
import os
import re
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from spindetect.synth import wikipedia
from spindetect.cache import default_cache_dir
from spindetect.synth.brown import SourceParagraph
from spindetect.synth.wikipedia import (
    DUMP_FILENAME,
    DUMP_MEMBER,
    WikipediaDumpNotFoundError,
    load_wikipedia_paragraphs,
    locate_wikipedia_dump,
    reads_as_prose,
    strip_wikitext,
)

# Where training keeps the excerpt once it has fetched it (`locate_wikipedia_dump`).
REAL_DUMP = default_cache_dir() / "wikipedia" / DUMP_FILENAME
MARKUP = re.compile(r"\{\{|\}\}|\[\[|\]\]|[|<>=]")

# Twenty words of plain prose: just long enough to keep.
FILLER = (
    "The river runs through a wide green valley where farmers have grown wheat and barley "
    "for many hundreds of years."
)


# --------------------------------------------------------------------------- strip_wikitext


def test_nested_templates_are_dropped_whole() -> None:
    markup = (
        "{{Infobox country|name={{lang|fr|France}}|map={{Location map|{{nested|deep}}}}}}\n"
        "'''France''' is a country.{{citation needed|date={{CURRENTYEAR}}}}"
    )
    assert strip_wikitext(markup) == "France is a country."


def test_refs_with_attributes_and_self_closing_refs_are_dropped() -> None:
    markup = (
        'The city grew.<ref name="a">{{cite web|url=http://x.org|title=T}}</ref> '
        'It was rich.<ref name="a" /> It fell.<REF group=note>Some note.</REF>'
    )
    assert strip_wikitext(markup) == "The city grew. It was rich. It fell."


def test_file_links_go_with_captions_that_hold_links() -> None:
    markup = (
        "[[File:Foo.jpg|thumb|left|A caption with [[a link]] and [[other page|a label]].]]\n"
        "[[Image:Bar.png|200px|[[Nested]] caption [http://example.org site]]] Text after."
    )
    assert strip_wikitext(markup) == "Text after."


def test_piped_and_plain_links_show_their_label_or_target() -> None:
    markup = "A [[political philosophy]] of [[self-governance|self-governed]] [[bus]]es."
    assert strip_wikitext(markup) == "A political philosophy of self-governed buses."


def test_pipe_trick_shows_the_title_without_its_parenthesis() -> None:
    assert strip_wikitext("In [[Paris (France)|]] today.") == "In Paris today."


def test_category_and_interlanguage_links_are_dropped() -> None:
    markup = "Prose on [[:Category:Rivers|rivers]].\n[[Category:Anarchism|*]]\n[[de:Anarchismus]]"
    assert strip_wikitext(markup) == "Prose on rivers."


def test_external_links_show_their_label_only() -> None:
    markup = "See [http://example.com/a?b=c the site] and [https://example.org] here."
    assert strip_wikitext(markup) == "See the site and here."


def test_bold_and_italic_quotes_are_removed() -> None:
    assert strip_wikitext("'''Bold''', ''italic'' and '''''both'''''.") == "Bold, italic and both."


def test_html_entities_are_decoded() -> None:
    markup = "Fish &amp; chips cost &pound;5&nbsp;today &ndash; cheap."
    assert strip_wikitext(markup) == "Fish & chips cost £5 today – cheap."


def test_comments_are_dropped_and_other_tags_keep_their_text() -> None:
    markup = 'A<!-- hidden [[x]] -->B is <span style="color:red">red</span>,<br/>very red.'
    assert strip_wikitext(markup) == "AB is red, very red."


def test_tables_are_dropped_with_templates_inside_them() -> None:
    markup = (
        "Before.\n{| class=\"wikitable\"\n|-\n! Head\n|-\n| cell {{tpl|x\n|}}\n"
        "| {{outer|{{inner}}}}\n|}\nAfter."
    )
    assert strip_wikitext(markup) == "Before.\n\nAfter."


def test_lists_and_headings_are_dropped_and_split_paragraphs() -> None:
    markup = (
        "== History ==\nIntro line one\nand line two.\n* item one\n# item two\n"
        ": indented\n; term\nOutro.\n=== Sub ===\n----\nLast."
    )
    assert strip_wikitext(markup) == "Intro line one and line two.\n\nOutro.\n\nLast."


def test_inline_templates_that_stand_for_words_are_rendered() -> None:
    markup = "It is {{convert|5|km|mi}} long, {{lang|fr|très}} long{{snd}}and{{nbsp}}old."
    assert strip_wikitext(markup) == "It is 5 km long, très long – and old."


def test_a_parenthesis_holding_a_dropped_template_goes_whole() -> None:
    markup = "'''Asphalt''' ({{IPAc-en|ˈ|æ|s}}, also {{IPA|x}}) is sticky."
    assert strip_wikitext(markup) == "Asphalt is sticky."


def test_unclosed_markup_is_left_as_text() -> None:
    assert strip_wikitext("Unclosed {{template and [[link") == "Unclosed {{template and [[link"


@pytest.mark.parametrize(
    "junk",
    [
        "{{" * 20_000 + "[[" * 20_000 + "x]" * 20_000,  # deep nesting, unclosed
        "[[a" * 20_000 + "]]" * 20_000,  # deep nesting, closed
        "[http://x " * 20_000,  # external links never closed on their line
        "<math>" * 20_000 + "<ref>" * 20_000 + "<!--" * 20_000,  # unclosed elements
        " " * 50_000 + "=" * 50_000 + "'" * 50_000,  # long runs
    ],
    ids=["unclosed", "closed", "external", "elements", "runs"],
)
def test_strip_wikitext_takes_linear_time_on_hostile_input(junk: str) -> None:
    # Each of these took from seconds to minutes in a quadratic implementation and takes ~0.1 s now; the
    # bound is loose so a busy CI machine cannot fail it, yet a quadratic regression still would.
    started = time.perf_counter()
    strip_wikitext(junk + "\n\n" + "Some text. " * 10_000)
    assert time.perf_counter() - started < 10


# --------------------------------------------------------------------------- prose filter


def test_reads_as_prose_rejects_fragments_markup_and_numbers() -> None:
    assert reads_as_prose(FILLER)
    assert not reads_as_prose(FILLER, min_words=21)
    assert not reads_as_prose(FILLER + " " + FILLER[:-1])  # no sentence end
    assert not reads_as_prose("and so " + FILLER + " " + FILLER)  # starts mid-sentence
    assert not reads_as_prose(FILLER + " A | B. " + FILLER)
    assert not reads_as_prose(FILLER + " See http://x.org now. " + FILLER)
    assert not reads_as_prose(FILLER + ' He said "yes. ' + FILLER)
    assert not reads_as_prose("Scores: " + " ".join(str(n) for n in range(60)) + " and more.")


# --------------------------------------------------------------------------- loading paragraphs


def page(title: str, text: str, ns: int = 0, redirect: str | None = None) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    redirect_tag = f'<redirect title="{redirect}" />' if redirect else ""
    return (
        f"<page><title>{title}</title><ns>{ns}</ns><id>1</id>{redirect_tag}"
        f'<revision><id>2</id><text xml:space="preserve">{escaped}</text></revision></page>'
    )


@pytest.fixture
def tiny_dump(tmp_path: Path) -> Path:
    long_paragraph = " ".join(
        f"Sentence number {n} tells of the river and the valley it has carved over time."
        for n in range(30)
    )
    river = (
        "{{Infobox river|name=Aa}}\n"
        f"'''The Aa''' is a [[river]] in [[France]].<ref name=\"x\">Note.</ref> {FILLER}\n\n"
        "== Course ==\n"
        f"{FILLER} It ends in the [[North Sea|sea]].\n\n"
        "Too short to keep.\n\n"
        f"{long_paragraph}\n\n"
        f"It was {{{{dropped|mid}}}} sentence. {FILLER}\n"
    )
    pages = [
        page("AccessibleComputing", "#REDIRECT [[Accessibility]]", redirect="Accessibility"),
        page("Aa River", river),
        page("Template:Infobox river", f"{FILLER} {FILLER}", ns=10),
        page("Wikipedia:About", f"{FILLER} {FILLER}"),  # namespace known from its title alone
        page("Second", f"Old redirect markup. {FILLER}\n\n'''Second''' says: {FILLER}"),
        page("Moved", "#redirect [[Second]]"),
    ]
    xml = (
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10">'
        "<siteinfo><namespaces><namespace key=\"4\">Wikipedia</namespace></namespaces></siteinfo>"
        + "".join(pages)
        + "</mediawiki>"
    )
    path = tmp_path / "tiny.xml.bz2"
    path.write_bytes(bz2.compress(xml.encode("utf-8")))
    return path


def test_load_wikipedia_paragraphs_keeps_article_prose_in_file_order(tiny_dump: Path) -> None:
    paragraphs = load_wikipedia_paragraphs(tiny_dump)
    assert [p.source_id for p in paragraphs] == ["wiki/Aa River"] * 5 + ["wiki/Second"] * 2
    assert paragraphs[0] == SourceParagraph(
        f"The Aa is a river in France. {FILLER}", "wiki/Aa River", 0, "encyclopedia"
    )
    assert paragraphs[1].text == f"{FILLER} It ends in the sea."
    assert [p.paragraph_index for p in paragraphs] == [0, 1, 2, 3, 4, 0, 1]
    assert paragraphs[-1].text == f"Second says: {FILLER}"


def test_long_paragraphs_are_split_at_sentence_ends_into_even_chunks(tiny_dump: Path) -> None:
    # 30 sentences of 15 words: 450 words in three chunks of 150, rather than 200 + 200 + 50.
    chunks = [p.text for p in load_wikipedia_paragraphs(tiny_dump, max_words=200)][2:5]
    assert [len(chunk.split()) for chunk in chunks] == [150, 150, 150]
    assert chunks[0].startswith("Sentence number 0 tells")
    last = "Sentence number 29 tells of the river and the valley it has carved over time."
    assert chunks[2].endswith(last)
    assert " ".join(chunks).count("Sentence number") == 30


def test_paragraphs_with_a_hole_in_a_sentence_are_left_out(tiny_dump: Path) -> None:
    texts = [p.text for p in load_wikipedia_paragraphs(tiny_dump)]
    assert not any("It was" in text for text in texts)


def test_word_limits_are_respected(tiny_dump: Path) -> None:
    paragraphs = load_wikipedia_paragraphs(tiny_dump, min_words=25, max_words=60)
    assert paragraphs and all(25 <= len(p.text.split()) <= 60 for p in paragraphs)
    with pytest.raises(ValueError, match="min_words"):
        load_wikipedia_paragraphs(tiny_dump, min_words=50, max_words=40)


# --------------------------------------------------------------------------- the real dump


def test_real_dump_yields_thousands_of_clean_paragraphs() -> None:
    if not REAL_DUMP.is_file():
        pytest.skip(f"{REAL_DUMP} is not on this machine")
    paragraphs = load_wikipedia_paragraphs(REAL_DUMP)
    assert 2000 < len(paragraphs) < 10000
    assert len({p.source_id for p in paragraphs}) > 80
    assert not [p.text for p in paragraphs if MARKUP.search(p.text)]
    assert all(20 <= len(p.text.split()) <= 200 for p in paragraphs)
    assert paragraphs[0].source_id == "wiki/Anarchism"
    assert paragraphs[0].text.startswith("Anarchism is a political philosophy that advocates")


# --------------------------------------------------------------------------- locating the dump

_REAL_FIND_SPEC = importlib.util.find_spec


def fake_find_spec(gensim_dir: Path | None, pip: bool) -> Any:
    """A find_spec that sees gensim at ``gensim_dir`` (or nowhere) and pip only if ``pip``."""

    def find_spec(name: str, package: str | None = None) -> Any:
        if name == "gensim":
            if gensim_dir is None:
                return None
            spec = importlib.machinery.ModuleSpec("gensim", None, is_package=True)
            spec.submodule_search_locations = [str(gensim_dir)]
            return spec
        if name == "pip":
            return _REAL_FIND_SPEC("pip") if pip else None
        return _REAL_FIND_SPEC(name, package)

    return find_spec


def refuse_to_run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    raise AssertionError(f"a test tried to run {command}")


@pytest.fixture(autouse=True)
def nothing_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """No dump from the environment or an installed gensim, and never a real download."""
    monkeypatch.delenv(wikipedia.DUMP_ENV, raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec(None, pip=False))
    monkeypatch.setattr(subprocess, "run", refuse_to_run)


def write_dump(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bz2.compress(b"<mediawiki/>"))
    return path


def test_locate_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    cached = write_dump(cache / "wikipedia" / DUMP_FILENAME)
    assert locate_wikipedia_dump(cache_dir=cache) == cached

    gensim_dir = tmp_path / "site-packages" / "gensim"
    installed = write_dump(gensim_dir / "test" / "test_data" / DUMP_FILENAME)
    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec(gensim_dir, pip=False))
    assert locate_wikipedia_dump(cache_dir=cache) == installed

    from_env = write_dump(tmp_path / "env.bz2")
    monkeypatch.setenv(wikipedia.DUMP_ENV, str(from_env))
    assert locate_wikipedia_dump(cache_dir=cache) == from_env

    explicit = write_dump(tmp_path / "explicit.bz2")
    assert locate_wikipedia_dump(explicit, cache_dir=cache) == explicit


def test_a_named_path_that_is_not_a_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    write_dump(cache / "wikipedia" / DUMP_FILENAME)
    with pytest.raises(WikipediaDumpNotFoundError, match="path given .* is not a file"):
        locate_wikipedia_dump(tmp_path / "typo.bz2", cache_dir=cache)
    monkeypatch.setenv(wikipedia.DUMP_ENV, str(tmp_path / "typo.bz2"))
    with pytest.raises(WikipediaDumpNotFoundError, match="SPINDETECT_WIKI_DUMP"):
        locate_wikipedia_dump(cache_dir=cache)


def test_missing_dump_without_pip_says_what_to_run(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(WikipediaDumpNotFoundError) as error:
        locate_wikipedia_dump(cache_dir=cache)
    message = str(error.value)
    assert isinstance(error.value, FileNotFoundError)
    assert "pip is not available" in message
    assert "-m pip install --no-deps gensim" in message
    assert f"pip download --no-deps --only-binary=:all: -d {cache / 'wikipedia'} gensim" in message
    assert "SPINDETECT_WIKI_DUMP" in message


def test_failed_pip_download_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_pip(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "ERROR: No matching distribution")

    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec(None, pip=True))
    monkeypatch.setattr(subprocess, "run", failing_pip)
    with pytest.raises(WikipediaDumpNotFoundError) as error:
        locate_wikipedia_dump(cache_dir=tmp_path / "cache")
    assert "No matching distribution" in str(error.value)
    assert "-m pip install --no-deps gensim" in str(error.value)
    assert not (tmp_path / "cache" / "wikipedia" / DUMP_FILENAME).exists()


def test_missing_dump_is_taken_from_a_downloaded_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    content = bz2.compress(b"<mediawiki>the dump</mediawiki>")
    calls: list[list[str]] = []

    def fake_pip(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        destination = Path(command[command.index("-d") + 1])
        wheel_path = destination / "gensim-4.4.0-cp311-cp311-linux_x86_64.whl"
        with zipfile.ZipFile(wheel_path, "w") as wheel:
            wheel.writestr("gensim/__init__.py", "")
            wheel.writestr(DUMP_MEMBER, content)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec(None, pip=True))
    monkeypatch.setattr(subprocess, "run", fake_pip)
    cache = tmp_path / "cache"
    with caplog.at_level(logging.INFO, logger=wikipedia.__name__):
        found = locate_wikipedia_dump(cache_dir=cache)
    assert found == cache / "wikipedia" / DUMP_FILENAME
    assert found.read_bytes() == content
    assert calls[0][1:4] == ["-m", "pip", "download"]
    assert calls[0][-1] == "gensim" and "--only-binary=:all:" in calls[0]
    assert "pip download" in caplog.text
    # Only the dump is kept: no wheel, no temporary files.
    assert os.listdir(cache / "wikipedia") == [DUMP_FILENAME]
    # Found in the cache from now on, without pip.
    monkeypatch.setattr(subprocess, "run", refuse_to_run)
    assert locate_wikipedia_dump(cache_dir=cache) == found
