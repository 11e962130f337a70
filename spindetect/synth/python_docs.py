"""Clean paragraphs of technical prose from the Python documentation, as Debian's ``python3.11-doc`` ships it.

The package installs the Sphinx HTML build of the documentation under ``/usr/share/doc/python3.11/html``.
This module finds that directory, reads the ``<p>`` elements of the pages in its prose sections with the
standard library's HTML parser, and keeps the paragraphs that read as English prose: the ones with inline
code (a function name, a literal) are dropped whole rather than stripped, because a sentence with its code
cut out no longer reads as clean text. Long paragraphs are split at sentence ends.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from spindetect.synth.brown import SourceParagraph

# The Wikipedia reader's sentence splitter knows the abbreviations technical prose uses too ("e.g.",
# "i.e.", "cf."), and its prose test (starts like a sentence, no markup characters or URLs left,
# quotes in pairs, not mostly numbers) suits a paragraph taken out of HTML as well as one out of wikitext.
from spindetect.synth.wikipedia import reads_as_prose, sentence_chunks

logger = logging.getLogger(__name__)

PYTHON_DOCS_ENV = "SPINDETECT_PYTHON_DOCS"
APT_PACKAGE = "python3.11-doc"
# Where Debian packages install their documentation; a module attribute so tests can point it elsewhere.
SYSTEM_DOC_DIR = Path("/usr/share/doc")
_INSTALLED_DOCS = re.compile(r"python3\.(\d+)")  # python3.11, not python3.11-doc (a link to the same html)

# The sections read, each a directory of the html build; the section name is the paragraphs' genre.
# tutorial, howto, faq, using and extending are written as explanations. reference defines the language in
# formal but complete sentences. library mixes API entries with prose; its paragraphs that name an API carry
# inline code and are dropped, what is left reads as prose. Left out: whatsnew (lists of changes with
# "Contributed by ..." credits and issue numbers), c-api (almost every sentence names a C function or macro,
# and what survives is API boilerplate), and the packaging pages (distutils, install, distributing,
# installing: mostly command lines, much of it about the deprecated distutils).
PROSE_SECTIONS = ("tutorial", "howto", "faq", "reference", "using", "extending", "library")


class PythonDocsNotFoundError(FileNotFoundError):
    """The Python documentation is not on this machine."""


# --------------------------------------------------------------------------- locating the docs


def is_python_docs_dir(path: Path) -> bool:
    """Whether ``path`` is the html directory of a Python documentation build: a prose section with pages."""
    return path.is_dir() and any(
        next((path / section).glob("*.html"), None) is not None for section in PROSE_SECTIONS
    )


def installed_python_docs() -> list[Path]:
    """The html directories of the installed Python documentation packages, newest Python first."""
    candidates: list[tuple[int, Path]] = []
    for directory in SYSTEM_DOC_DIR.glob("python3.*"):
        match = _INSTALLED_DOCS.fullmatch(directory.name)
        if match is not None and is_python_docs_dir(directory / "html"):
            candidates.append((int(match.group(1)), directory / "html"))
    return [path for _, path in sorted(candidates, reverse=True)]


def _how_to_fix() -> str:
    """The advice every 'not found' error ends with."""
    return (
        f"Install the documentation with: sudo apt-get install {APT_PACKAGE} (Debian/Ubuntu), "
        f"or point ${PYTHON_DOCS_ENV} or --python-docs at the html directory of a Python documentation "
        "build (the directory holding tutorial/, library/, reference/ ...)."
    )


def _not_docs_error(origin: str, path: Path) -> PythonDocsNotFoundError:
    # Pointing at /usr/share/doc/python3.11 instead of its html directory is the likely slip.
    hint = f" (did you mean {path / 'html'}?)" if is_python_docs_dir(path / "html") else ""
    return PythonDocsNotFoundError(
        f"{origin} ({path}) is not the html directory of the Python documentation{hint}.\n{_how_to_fix()}"
    )


def locate_python_docs(explicit: Path | None = None) -> Path:
    """Find the html directory of the Python documentation.

    Search order: ``explicit``; ``$SPINDETECT_PYTHON_DOCS``; the newest ``/usr/share/doc/python3.*/html``
    that holds the documentation. A path the caller named (argument or environment) that is not a
    documentation directory is an error rather than something to skip past, so a typo does not silently
    read other docs.
    """
    named: list[tuple[str, Path]] = []
    if explicit is not None:
        named.append(("The Python documentation path given", Path(explicit).expanduser()))
    if os.environ.get(PYTHON_DOCS_ENV):
        named.append((f"${PYTHON_DOCS_ENV}", Path(os.environ[PYTHON_DOCS_ENV]).expanduser()))
    for origin, path in named:
        if is_python_docs_dir(path):
            return path
        raise _not_docs_error(origin, path)

    installed = installed_python_docs()
    if installed:
        return installed[0]
    raise PythonDocsNotFoundError(
        f"The Python documentation was not found in {SYSTEM_DOC_DIR}/python3.*/html.\n{_how_to_fix()}"
    )


# --------------------------------------------------------------------------- HTML to paragraphs

_VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
# Containers whose paragraphs are not running prose: table cells hold fragments, and version notes
# ("Changed in version 3.3: ...") are change-log lines like the ones whatsnew is left out for.
_VERSION_NOTE_CLASSES = frozenset({"versionadded", "versionchanged", "deprecated", "deprecated-removed"})
# Inline elements whose text is a marker, not part of the sentence: footnote references ("[1]").
_MARKER_CLASSES = frozenset({"footnote-reference", "citation-reference", "headerlink"})
# Code examples never hold a paragraph, and their syntax-highlighting spans are a fifth of the tags the
# parser would otherwise walk through. A <pre> cannot hold a literal "</pre>" (it would be escaped).
_CODE_BLOCK = re.compile(r"<pre\b.*?</pre>", re.DOTALL)


@dataclass(frozen=True)
class HtmlParagraph:
    """The text of one ``<p>`` element of a page's body, whitespace normalised, entities decoded."""

    text: str
    has_code: bool  # it holds inline code: <code> or <span class="pre">


@dataclass(frozen=True)
class _OpenElement:
    tag: str
    is_body: bool  # Sphinx's <div class="body">: the page's content, without sidebar and footer
    skips_paragraphs: bool  # paragraphs inside are not prose (tables, version notes)
    is_marker: bool  # its text is left out of the paragraph


def _is_inline_code(tag: str, classes: set[str]) -> bool:
    return tag == "code" or (tag == "span" and "pre" in classes)


def _open_element(tag: str, classes: set[str]) -> _OpenElement:
    return _OpenElement(
        tag=tag,
        is_body=tag == "div" and "body" in classes,
        skips_paragraphs=tag == "table" or (tag == "div" and bool(classes & _VERSION_NOTE_CLASSES)),
        is_marker=bool(classes & _MARKER_CLASSES),
    )


class _ParagraphCollector(HTMLParser):
    """Collects the body's plain ``<p>`` elements; see :func:`html_paragraphs`.

    Character references are decoded by the parser (``convert_charrefs``). End tags close the innermost
    open element of their name, so a stray end tag cannot unbalance the bookkeeping.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[HtmlParagraph] = []
        self._open: list[_OpenElement] = []
        self._open_tags: Counter[str] = Counter()
        self._in_body = 0  # open elements of each kind, so context tests take constant time
        self._skipping = 0
        self._in_marker = 0
        self._pieces: list[str] | None = None  # the text of the paragraph being read, if one is
        self._paragraph_depth = 0  # len(self._open) just after that paragraph's <p> was pushed
        self._has_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_ELEMENTS:
            if tag == "br" and self._pieces is not None:
                self._pieces.append(" ")
            return
        classes = set((dict(attrs).get("class") or "").split())
        self._push(_open_element(tag, classes))
        if tag == "p":
            # A <p> with a class is a label, not running prose: "Note" titles, rubrics, "Availability:
            # Unix" lines, audit-event notices, the sidebar's links.
            if self._pieces is None and self._in_body and not self._skipping and not classes:
                self._pieces, self._paragraph_depth, self._has_code = [], len(self._open), False
        elif self._pieces is not None and _is_inline_code(tag, classes):
            self._has_code = True

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID_ELEMENTS or not self._open_tags[tag]:
            return
        while self._pop().tag != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self._pieces is not None and not self._in_marker:
            self._pieces.append(data)

    def _push(self, element: _OpenElement) -> None:
        self._open.append(element)
        self._open_tags[element.tag] += 1
        self._in_body += element.is_body
        self._skipping += element.skips_paragraphs
        self._in_marker += element.is_marker

    def _pop(self) -> _OpenElement:
        element = self._open.pop()
        self._open_tags[element.tag] -= 1
        self._in_body -= element.is_body
        self._skipping -= element.skips_paragraphs
        self._in_marker -= element.is_marker
        if self._pieces is not None and len(self._open) < self._paragraph_depth:
            text = " ".join("".join(self._pieces).split())
            self.paragraphs.append(HtmlParagraph(text, self._has_code))
            self._pieces = None
        return element


def html_paragraphs(markup: str) -> list[HtmlParagraph]:
    """The plain ``<p>`` elements of a Sphinx page's body, in page order.

    Left out: paragraphs outside ``<div class="body">`` (sidebar, footer), paragraphs with a class
    (labels such as "Note"), and paragraphs inside tables or version notes. Footnote markers are
    left out of the text; ``<br>`` becomes a space.
    """
    collector = _ParagraphCollector()
    collector.feed(_CODE_BLOCK.sub("", markup))
    collector.close()
    return collector.paragraphs


def _ends_sentence(text: str) -> bool:
    return text.rstrip("\"'”’)]")[-1:] in {".", "!", "?"}


# A word joined by an underscore ("error_callback") is an identifier, usually a parameter name in italics
# rather than in <code>: no English word is written that way.
_IDENTIFIER = re.compile(r"\w_|_\w")


def is_prose_paragraph(paragraph: HtmlParagraph) -> bool:
    """Whether a whole paragraph may give chunks: no inline code, no interpreter prompt, no identifier,
    and it ends a sentence (one ending in ":" introduces the example after it and does not stand alone)."""
    text = paragraph.text
    return (
        not paragraph.has_code
        and ">>>" not in text
        and _IDENTIFIER.search(text) is None
        and _ends_sentence(text)
    )


def paragraphs_from_html(
    markup: str, source_id: str, genre: str, min_words: int = 20, max_words: int = 200
) -> list[SourceParagraph]:
    """Clean prose paragraphs from the HTML of one documentation page."""
    kept: list[SourceParagraph] = []
    for paragraph in html_paragraphs(markup):
        if not is_prose_paragraph(paragraph):
            continue
        for chunk in sentence_chunks(paragraph.text, max_words):
            if reads_as_prose(chunk, min_words):
                kept.append(SourceParagraph(chunk, source_id, len(kept), genre))
    return kept


def prose_pages(root: Path) -> list[Path]:
    """The html pages of the prose sections under ``root``, sorted by path so results are deterministic."""
    return sorted(page for section in PROSE_SECTIONS for page in (Path(root) / section).rglob("*.html"))


def load_python_docs_paragraphs(
    root: Path, min_words: int = 20, max_words: int = 200
) -> list[SourceParagraph]:
    """Clean prose paragraphs from the Python documentation's html directory ``root``, in page-path order.

    A paragraph is a plain ``<p>`` of a page's body (:func:`html_paragraphs`); it is used when it passes
    :func:`is_prose_paragraph` (no inline code, ``>>>`` or identifier; ends a sentence), split at sentence
    ends into chunks of at most ``max_words`` words, and each chunk is kept when it reads as prose with at
    least ``min_words`` words (:func:`~spindetect.synth.wikipedia.reads_as_prose`). ``source_id`` is ``python_docs/<page path
    without .html>`` (one page, one source document), ``genre`` the section ("tutorial"),
    ``paragraph_index`` counts the kept paragraphs of each page.
    """
    if min_words > max_words:
        raise ValueError(f"min_words ({min_words}) is larger than max_words ({max_words})")
    root = Path(root)
    paragraphs: list[SourceParagraph] = []
    pages = prose_pages(root)
    for page in pages:
        relative = page.relative_to(root).with_suffix("")
        source_id, section = f"python_docs/{relative.as_posix()}", relative.parts[0]
        markup = page.read_text(encoding="utf-8", errors="replace")
        paragraphs.extend(paragraphs_from_html(markup, source_id, section, min_words, max_words))
    logger.debug("loaded %d Python documentation paragraphs from %d pages in %s", len(paragraphs), len(pages), root)
    return paragraphs
