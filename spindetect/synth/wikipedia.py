"""Clean paragraphs from the English Wikipedia excerpt that ships inside the gensim wheel.

gensim's test data holds ``enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2``:
about 6 MB of MediaWiki XML export (206 pages, a hundred of them real articles) whose ``<text>``
elements hold wikitext. This module finds that file (or fetches the wheel with pip and takes just
that one file out of it), turns each article's wikitext into plain prose and cuts the prose into
paragraphs of a usable length.

The wikitext conversion is deliberately simple: it keeps running prose and drops everything that
MediaWiki would render as something else (infoboxes, tables, lists, headings, footnotes). It does
not expand templates; the few that stand for plain words in running text (``{{lang|fr|...}}``,
``{{convert|5|km}}``, dashes) are rendered, the rest are dropped, and a paragraph in which a dropped
template stood in the middle of a sentence is not kept, because the hole it leaves does not read as
clean prose.
"""

from __future__ import annotations

import bz2
import html
import importlib.util
import logging
import os
import re
import shlex
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from spindetect.cache import default_cache_dir
from spindetect.synth.brown import SourceParagraph
from spindetect.synth.chunking import pack_sentences

logger = logging.getLogger(__name__)

DUMP_FILENAME = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
DUMP_MEMBER = f"gensim/test/test_data/{DUMP_FILENAME}"  # its path inside the gensim wheel
DUMP_ENV = "SPINDETECT_WIKI_DUMP"
GENRE = "encyclopedia"


class WikipediaDumpNotFoundError(FileNotFoundError):
    """The Wikipedia excerpt is not on this machine and could not be fetched."""


# --------------------------------------------------------------------------- locating the dump


def _pip_download_command(destination: Path) -> list[str]:
    return [
        sys.executable, "-m", "pip", "download",
        "--no-deps", "--only-binary=:all:", "-d", str(destination), "gensim",
    ]


def _how_to_fix(cache_dir: Path) -> str:
    """The advice every 'not found' error ends with: commands that fix it for good."""
    folder = cache_dir / "wikipedia"
    install = shlex.join([sys.executable, "-m", "pip", "install", "--no-deps", "gensim"])
    download = shlex.join(_pip_download_command(folder))
    where = shlex.quote(str(folder))
    unzip = f"unzip -j -d {where} {where}/gensim-*.whl {DUMP_MEMBER}"
    return (
        f"Install gensim, which ships the file: {install}\n"
        f"or fetch just the file into the cache: {download} && {unzip}\n"
        f"or point ${DUMP_ENV} at a copy of {DUMP_FILENAME}."
    )


def _dump_in_installed_gensim() -> Path | None:
    """The dump inside an installed gensim package, found without importing gensim (slow, heavy)."""
    try:
        spec = importlib.util.find_spec("gensim")
    except (ImportError, ValueError):  # ValueError: a half-imported gensim without __spec__
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "test" / "test_data" / DUMP_FILENAME
        if candidate.is_file():
            return candidate
    return None


def _extract_member(wheel: Path, target: Path) -> None:
    """Copy the dump out of ``wheel`` to ``target`` via a temporary name, so that a reader never
    sees a half-written file and two processes doing this at once do not corrupt each other."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out, zipfile.ZipFile(wheel) as archive:
            with archive.open(DUMP_MEMBER) as member:
                while block := member.read(1 << 20):
                    out.write(block)
        os.replace(staging, target)
    finally:
        if os.path.exists(staging):
            os.unlink(staging)


def _download_dump(target: Path) -> None:
    """Fetch the gensim wheel with pip into a temporary directory; extract the dump to ``target``.

    Raises :class:`WikipediaDumpNotFoundError` (with the reason) when pip fails or the wheel does
    not hold the file. The wheel (tens of MB) is deleted with the temporary directory.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".gensim-wheel-", dir=target.parent) as tmp:
        command = _pip_download_command(Path(tmp))
        logger.info("Wikipedia excerpt not found; fetching gensim: %s", shlex.join(command))
        try:
            completed = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as error:
            raise WikipediaDumpNotFoundError(f"could not run pip: {error}") from error
        if completed.returncode != 0:
            raise WikipediaDumpNotFoundError(
                f"pip download failed (exit {completed.returncode}): "
                f"{(completed.stderr or '').strip()[-2000:]}"
            )
        wheels = sorted(Path(tmp).glob("gensim-*.whl"))
        if not wheels:
            raise WikipediaDumpNotFoundError("pip download gave no gensim wheel")
        try:
            _extract_member(wheels[0], target)
        except (KeyError, zipfile.BadZipFile, OSError) as error:
            raise WikipediaDumpNotFoundError(
                f"could not take {DUMP_MEMBER} out of {wheels[0].name}: {error}"
            ) from error


def locate_wikipedia_dump(explicit: Path | None = None, cache_dir: Path | None = None) -> Path:
    """Find the enwiki excerpt from gensim's test data, fetching it with pip if need be.

    Search order: ``explicit``; ``$SPINDETECT_WIKI_DUMP``; the file inside an installed gensim
    package; ``<cache_dir>/wikipedia/<filename>``; then ``pip download`` of the gensim wheel, of
    which only the one file is kept. A path the caller named (argument or environment) that is not
    a file is an error rather than something to skip past, so a typo does not trigger a download.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    named: list[tuple[str, Path]] = []
    if explicit is not None:
        named.append(("The Wikipedia dump path given", Path(explicit).expanduser()))
    if os.environ.get(DUMP_ENV):
        named.append((f"${DUMP_ENV}", Path(os.environ[DUMP_ENV]).expanduser()))
    for origin, path in named:
        if path.is_file():
            return path
        raise WikipediaDumpNotFoundError(
            f"{origin} ({path}) is not a file.\n{_how_to_fix(cache_dir)}"
        )

    installed = _dump_in_installed_gensim()
    if installed is not None:
        return installed
    cached = cache_dir / "wikipedia" / DUMP_FILENAME
    if cached.is_file():
        return cached

    if importlib.util.find_spec("pip") is None:
        raise WikipediaDumpNotFoundError(
            "The Wikipedia excerpt (from gensim's test data) was not found and pip is not "
            f"available to fetch it.\n{_how_to_fix(cache_dir)}"
        )
    try:
        _download_dump(cached)
    except WikipediaDumpNotFoundError as error:
        raise WikipediaDumpNotFoundError(
            f"The Wikipedia excerpt (from gensim's test data) was not found and fetching it "
            f"failed: {error}\n{_how_to_fix(cache_dir)}"
        ) from error
    logger.info("Wikipedia excerpt saved at %s", cached)
    return cached


# --------------------------------------------------------------------------- wikitext to prose

# Marks where a template of unknown output was dropped; removed before text leaves this module.
# A private-use character cannot occur in the dump's text by accident.
_HOLE = "\ue000"

_COMMENT_OPEN, _COMMENT_CLOSE = "<!--", "-->"
# Elements dropped with their content. Footnotes and the like show nothing in the running text;
# formulas, code and verse do, so where one of those stood a hole is left (see _HOLE).
_SILENT_ELEMENTS = (
    "ref", "references", "gallery", "timeline", "imagemap", "templatedata", "inputbox",
    "categorytree", "noinclude", "includeonly", "onlyinclude",
)
_HOLE_ELEMENTS = (
    "math", "chem", "ce", "score", "hiero", "graph", "mapframe", "syntaxhighlight", "source",
    "pre", "nowiki", "poem",
)
_DROPPED_OPEN = re.compile(
    r"<(%s)\b[^<>]*>" % "|".join(_SILENT_ELEMENTS + _HOLE_ELEMENTS), re.IGNORECASE
)
_DROPPED_CLOSE = {
    name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in _SILENT_ELEMENTS + _HOLE_ELEMENTS
}
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*\b[^<>]*>")
_LINE_BREAK_TAG = re.compile(r"<br\b[^<>]*>", re.IGNORECASE)


def _remove_comments(text: str) -> str:
    """Drop ``<!-- ... -->``; an unclosed comment runs to the end, as MediaWiki has it."""
    pieces: list[str] = []
    pos = 0
    while (start := text.find(_COMMENT_OPEN, pos)) >= 0:
        pieces.append(text[pos:start])
        end = text.find(_COMMENT_CLOSE, start + len(_COMMENT_OPEN))
        if end < 0:
            return "".join(pieces)
        pos = end + len(_COMMENT_CLOSE)
    pieces.append(text[pos:])
    return "".join(pieces)


def _remove_dropped_elements(text: str) -> str:
    """Drop ``<ref>...</ref>``, ``<ref name=x/>``, ``<math>...</math>`` and the like, with content.

    A formula, code or verse element leaves a hole mark where it stood; a footnote leaves nothing.

    The closing tag is looked for from the opening tag on (these elements do not nest); an opening
    tag that is never closed is dropped on its own.
    """
    pieces: list[str] = []
    pos = 0
    # The closing tag last found for each element, or None once none is left: with many unclosed
    # opening tags, searching afresh for each would cost quadratic time.
    closers: dict[str, re.Match[str] | None] = {}
    while (match := _DROPPED_OPEN.search(text, pos)) is not None:
        pieces.append(text[pos : match.start()])
        pos = match.end()
        if match.group(0).endswith("/>"):
            continue
        name = match.group(1).lower()
        if name in _HOLE_ELEMENTS:
            pieces.append(_HOLE)
        closing = closers.get(name)
        if name not in closers or (closing is not None and closing.start() < pos):
            closing = closers[name] = _DROPPED_CLOSE[name].search(text, pos)
        if closing is not None:
            pos = closing.end()
    pieces.append(text[pos:])
    return "".join(pieces)


# ---- templates, tables and links: one left-to-right scan with a stack, so nesting costs nothing

_BRACKETS = re.compile(
    r"\{\{"  # template
    r"|\}\}"
    r"|\[\["  # internal link
    r"|\]"  # closes an external link; with a second "]" an internal one
    r"|\[(?=(?:https?|ftps?|irc|ircs|news|mailto|gopher|telnet):|//)"  # external link
    r"|^[ \t:]*\{\|"  # table: only at the start of a line
    r"|^[ \t]*\|\}",
    re.MULTILINE,
)

_HIDDEN_LINK_PREFIXES = {"file", "image", "category", "media"}
# Interlanguage links ("[[de:Anarchismus]]") show nothing in the article; their prefix is a
# lower-case language code such as "fr", "simple", "zh-min-nan" or "be-x-old".
_LANGUAGE_PREFIX = re.compile(r"[a-z]{2,3}(?:-[a-z]+)*|simple")
_PARENTHETICAL = re.compile(r"\s*\([^()]*\)\s*$")


# Deeper nesting is not real wikitext (MediaWiki stops expanding templates at 40 levels); the cap
# bounds what each closing bracket costs on hostile input.
_MAX_DEPTH = 64


@dataclass(frozen=True)
class _Frame:
    """One construct opened but not yet closed during the bracket scan."""

    kind: str  # "template", "table", "link" or "external"
    start: int  # where its content starts in the scan's pieces, right after its opener


def _render_link(inner: str) -> str:
    """``target|label`` -> label, ``target`` -> target; file, category and language links -> ""."""
    target, pipe, label = inner.partition("|")
    if "\n" in target or not target.strip():
        return f"[[{inner}]]"  # not a valid link: MediaWiki shows it as it is
    target = target.strip()
    visible = target.startswith(":")  # "[[:Category:X]]" is a link to the page, shown
    target = target.lstrip(":").strip()
    prefix, colon, rest = target.partition(":")
    if colon and not visible:
        if prefix.strip().lower() in _HIDDEN_LINK_PREFIXES:
            return ""
        if not pipe and _LANGUAGE_PREFIX.fullmatch(prefix.strip()):
            return ""
    if pipe:
        label = label.strip()
        if label:
            return label
        # The "pipe trick": [[Paris (France)|]] shows "Paris".
        return _PARENTHETICAL.sub("", rest if colon else target)
    return target


def _render_external(inner: str) -> str:
    """``http://x some label`` -> "some label"; a bare ``[http://x]`` (shown as "[1]") -> ""."""
    parts = inner.split(None, 1)
    return parts[1].strip() if len(parts) == 2 else ""


def _template_name(inner: str) -> str:
    name = inner.split("|", 1)[0].split(":", 1)[0] if not inner.startswith("#") else inner
    return " ".join(name.replace("_", " ").split()).lower()


def _template_args(inner: str) -> list[str]:
    """The positional arguments of a template call (named ``key=value`` ones are left out)."""
    return [arg.strip() for arg in inner.split("|")[1:] if "=" not in arg]


def _last_arg(inner: str) -> str:
    args = _template_args(inner)
    return args[-1] if args else ""


def _first_arg(inner: str) -> str:
    args = _template_args(inner)
    return args[0] if args else ""


def _as_of(inner: str) -> str:
    """``{{As of|2010}}`` -> "As of 2010"; with a month or day (shown as a name) it is left out."""
    args = _template_args(inner)
    if len(args) != 1:
        return _HOLE
    lower = re.search(r"\blc\s*=\s*y", inner) is not None
    return f"{'as' if lower else 'As'} of {args[0]}"


def _convert(inner: str) -> str:
    """``{{convert|5|km|mi}}`` -> "5 km"; ``{{convert|5|to|10|km}}`` -> "5 to 10 km"."""
    args = _template_args(inner)
    if len(args) >= 4 and args[1] in {"to", "-", "and", "or", "by", "x", "×", "–"}:
        sep = "–" if args[1] in {"-", "–"} else f" {args[1]} "
        return f"{args[0]}{sep}{args[2]} {args[3]}"
    if len(args) >= 2:
        return f"{args[0]} {args[1]}"
    return _HOLE


# Templates that stand for plain words in running text, with what they show. Everything else is
# dropped: most templates are infoboxes, navigation boxes, citations or maintenance tags.
_INLINE_TEMPLATES: dict[str, Callable[[str], str]] = {
    "lang": _last_arg,
    "nowrap": _first_arg,
    "nobr": _first_arg,
    "nobreak": _first_arg,
    "smallcaps": _first_arg,
    "small": _first_arg,
    "sic": _last_arg,
    "abbr": _first_arg,
    "em": _first_arg,
    "keypress": _first_arg,
    "not a typo": _first_arg,
    "sc": _first_arg,
    "vanchor": _first_arg,
    "transl": _last_arg,
    "'s": lambda inner: "'s",
    "as of": _as_of,
    "ill": _first_arg,  # a link to a page that exists in another language: shows its words
    "circa": lambda inner: "c.",
    "c.": lambda inner: "c.",
    "convert": _convert,
    "cvt": _convert,
    "ndash": lambda inner: "–",
    "mdash": lambda inner: "—",
    "snd": lambda inner: " – ",
    "spaced ndash": lambda inner: " – ",
    "nbsp": lambda inner: " ",
    "'": lambda inner: "'",
    "' \"": lambda inner: "'\"",  # quote marks side by side, kept apart on the page
    "\" '": lambda inner: "\"'",
    "!": lambda inner: "|",
}
# Templates that render as nothing or as a footnote mark, so dropping them leaves no hole.
_SILENT_TEMPLATE = re.compile(
    r"sfnp?|sfnm|efn|refn|rp|r|harv\w*|citation needed|cn|fact|clarify|dubious|by whom|who|"
    r"when|which|according to whom|vague|failed verification|page needed|better source|"
    r"cite[ \w]*|citation|bibcode|doi|isbn|oclc|anchor|clear|-|refbegin|refend|reflist|"
    r"main|see also|further|details|redirect\w*|about|for|other uses|distinguish|"
    r"use \w+ (english|dates)|pp-[\w-]+|good article|featured article|dead link"
)


def _render_template(inner: str) -> str:
    name = _template_name(inner)
    renderer = _INLINE_TEMPLATES.get(name)
    if renderer is not None:
        return renderer(inner)
    if _SILENT_TEMPLATE.fullmatch(name):
        return ""
    return _HOLE


def _render(kind: str, inner: str) -> str:
    if kind == "template":
        return _render_template(inner)
    if kind == "link":
        return _render_link(inner)
    if kind == "external":
        return _render_external(inner)
    return _HOLE  # a table stands where prose would otherwise go on


@dataclass
class _Scan:
    """The state of one bracket scan: the output so far, in pieces, and the open frames.

    An opener goes into the pieces like any text, so a frame that never closes costs nothing:
    its opener and content simply stay, as MediaWiki shows them. Closing a frame replaces its
    opener and content with what it renders as.
    """

    pieces: list[str] = field(default_factory=list)
    stack: list[_Frame] = field(default_factory=list)

    def innermost(self) -> str:
        return self.stack[-1].kind if self.stack else ""

    def open(self, kind: str, opener: str) -> None:
        self.pieces.append(opener)
        if len(self.stack) < _MAX_DEPTH:
            self.stack.append(_Frame(kind, len(self.pieces)))

    def close(self, kind: str) -> bool:
        """Close the innermost open frame of ``kind``, leaving frames opened inside it and never
        closed as literal text. Returns False (nothing done) when no such frame is open."""
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth].kind == kind:
                break
        else:
            return False
        start = self.stack[depth].start
        del self.stack[depth:]
        inner = "".join(self.pieces[start:])
        del self.pieces[start - 1 :]
        self.pieces.append(_render(kind, inner))
        return True

    def table_close_applies(self) -> bool:
        """``|}`` closes a table unless it sits in a template opened inside that table: there
        ``|}}`` is an empty last argument followed by the template's end."""
        for frame in reversed(self.stack):
            if frame.kind == "table":
                return True
            if frame.kind == "template":
                return False
        return False


@dataclass
class _NextOccurrence:
    """Where ``char`` next occurs in ``text`` at or after a position (``len(text)``: nowhere).

    The positions asked about only grow during a scan, so the answer is searched for again only
    once the scan has passed it, and all the searches together read the text once.
    """

    text: str
    char: str
    found: int = -1

    def at_or_after(self, pos: int) -> int:
        if self.found < pos:
            found = self.text.find(self.char, pos)
            self.found = found if found >= 0 else len(self.text)
        return self.found


def _expand_brackets(text: str) -> str:
    """Resolve templates, tables, internal and external links, however nested, in one pass."""
    scan = _Scan()
    next_bracket, next_newline = _NextOccurrence(text, "]"), _NextOccurrence(text, "\n")
    pos = 0
    while (match := _BRACKETS.search(text, pos)) is not None:
        scan.pieces.append(text[pos : match.start()])
        token = match.group(0)
        pos = match.end()
        stripped = token.strip(" \t:")
        if token == "{{":
            scan.open("template", token)
        elif token == "[[":
            scan.open("link", token)
        elif token == "[":
            # An external link ends on its own line; a "[" that is not closed there is text.
            if next_bracket.at_or_after(pos) < next_newline.at_or_after(pos):
                scan.open("external", token)
            else:
                scan.pieces.append(token)
        elif stripped == "{|":
            scan.open("table", token)
        elif token == "}}":
            if not scan.close("template"):
                scan.pieces.append(token)
        elif stripped == "|}":
            if not (scan.table_close_applies() and scan.close("table")):
                # Give back only the "|": the "}" may start the "}}" that ends a template.
                scan.pieces.append(token[:-1])
                pos -= 1
        elif scan.innermost() == "external":  # token == "]"
            scan.close("external")
        elif text.startswith("]", pos) and scan.close("link"):
            pos += 1
        elif not scan.close("external"):
            scan.pieces.append(token)
    scan.pieces.append(text[pos:])
    return "".join(scan.pieces)


# ---- what is left: tags, quotes, entities, and lines that are not prose

_BOLD_ITALIC = re.compile(r"'{2,}")
_MAGIC_WORD = re.compile(r"__[A-Z]+__")
# Headings, list items, definitions, indented lines, table rows, horizontal rules.
_NOT_PROSE_LINE_START = ("=", "*", "#", ":", ";", "|", "!", "----", "{|")
# Tabs and non-breaking or thin spaces become plain spaces; soft hyphens are invisible.
_ODD_SPACES = re.compile("[\t\u00a0\u2009\u202f]")
# What removed markup leaves behind, closed up: "( , x )" -> "(x)", "word ," -> "word,".
# Each works within a line (" ", never "\s"), so a whole article is tidied in one go; each
# starts with a fixed character, which the regex engine can skip ahead to.
_TIDY_STEPS = (
    (re.compile(r"  +"), " "),
    (re.compile(r"\( ?[,;:]? ?\)|\[ ?\]"), ""),  # empty brackets
    (re.compile(r"\( ?[,;:] ?"), "("),
    (re.compile(r"[,;:] ?\)"), ")"),
    (re.compile(r"  +"), " "),  # again: an empty bracket between two spaces is gone
    (re.compile(r"([(\[]) "), r"\1"),
    (re.compile(r" (?=[,.;:!?)\]%])"), ""),
)
# A parenthesis in which a template was dropped ("Asphalt ({{IPAc-en|...}}) is") is usually a
# pronunciation, a transliteration or a date: the sentence reads well without all of it.
# (The space before it stays; tidying closes it up. A pattern starting with " *" would cost
# quadratic time on a long run of spaces.)
_PARENS_WITH_HOLE = re.compile(rf"\([^()\n]*{_HOLE}[^()\n]*\)")


def _tidy(text: str) -> str:
    """Close up the spaces and empty brackets that removed markup leaves behind, line by line."""
    for pattern, replacement in _TIDY_STEPS:
        text = pattern.sub(replacement, text)
    return "\n".join(line.strip() for line in text.split("\n"))


def _is_prose_line(line: str) -> bool:
    if not line or line.startswith(_NOT_PROSE_LINE_START):  # "#REDIRECT" too
        return False
    # A line left with no words (a lone hole, a dash, stray punctuation) is not a line of prose.
    return any(ch.isalnum() for ch in line)


def _prose_blocks(text: str) -> Iterator[str]:
    """Blank-line separated blocks of prose lines, each joined into one line.

    A dropped line (heading, list item, table remnant) ends the block it interrupts, the way it
    interrupts the paragraph on the rendered page.
    """
    block: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if _is_prose_line(line) and line.strip(_HOLE + " "):
            block.append(line)
        elif block:
            yield " ".join(block)
            block = []
    if block:
        yield " ".join(block)


def _strip_with_holes(markup: str) -> str:
    """:func:`strip_wikitext`, but with :data:`_HOLE` where a template of unknown output stood."""
    text = _remove_comments(markup)
    text = _remove_dropped_elements(text)
    text = _expand_brackets(text)
    text = _LINE_BREAK_TAG.sub(" ", text)
    text = _TAG.sub("", text)
    text = _BOLD_ITALIC.sub("", text)
    text = _MAGIC_WORD.sub("", text)
    text = _ODD_SPACES.sub(" ", html.unescape(text)).replace("\u00ad", "")
    text = _PARENS_WITH_HOLE.sub("", text)
    blocks = _tidy("\n\n".join(_prose_blocks(text))).split("\n\n")
    return "\n\n".join(block for block in blocks if block.strip(_HOLE + " "))


def strip_wikitext(markup: str) -> str:
    """Plain prose from one article's wikitext: paragraphs separated by blank lines.

    Dropped: ``<ref>`` footnotes (and ``<math>``, ``<gallery>`` and similar elements) with their
    content, HTML comments, templates (however nested; a few that stand for words, such as
    ``{{lang|..}}`` and ``{{convert|..}}``, are rendered), tables, file, image, category and
    interlanguage links (captions and all), headings, list items and other lines that are not
    prose. Kept: ``[[target|label]]`` as its label, ``[[target]]`` as its target, ``[http://x
    label]`` as its label, the text inside other HTML tags. Bold and italic quotes go and HTML
    entities are decoded. Each paragraph comes out as one line.
    """
    return _tidy_holes(_strip_with_holes(markup))


_HOLE_RUN = re.compile(f"{_HOLE}[ {_HOLE}]*")


def _tidy_holes(text: str) -> str:
    """Take the hole marks out again, closing up the spaces around them."""
    if _HOLE not in text:
        return text
    return _tidy(_HOLE_RUN.sub(" ", text))


# --------------------------------------------------------------------------- paragraphs

_CLOSERS = "\"'”’)]"
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“(\[]?[A-Z0-9])")
_FIRST_ALNUM = re.compile(r"[^\W_]")
_MARKUP_LEFTOVER = re.compile(r"[{}|<>=]|\[\[|\]\]|://|www\.")
# Words after which a period does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "gen", "col", "lt", "capt", "sgt", "rev",
    "hon", "gov", "sen", "rep", "mt", "ft", "no", "vol", "vols", "pp", "p", "ed", "eds", "fig",
    "e.g", "i.e", "cf", "vs", "c", "ca", "approx", "inc", "ltd", "co", "corp", "bros", "u.s",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "op",
}


# Each match runs from the first letter or digit of a token to its end, so there is one match per
# token that holds one. Starting the pattern with \w (\d) lets the regex engine skip ahead fast.
_WORD_TOKEN = re.compile(r"\w\S*")
_NUMERIC_TOKEN = re.compile(r"\d\S*")


def word_count(text: str) -> int:
    return len(_WORD_TOKEN.findall(text))


def _ends_sentence(text: str) -> bool:
    return text.rstrip().rstrip(_CLOSERS)[-1:] in {".", "!", "?"}


def split_sentences(text: str) -> list[str]:
    """Split at ". X"-style boundaries, except after initials ("J. S. Bach") and abbreviations,
    and inside a double-quoted passage, which a chunk boundary should not cut in two."""
    sentences: list[str] = []
    start = 0
    counted = 0  # quotes are counted up to here ...
    quotes = 0  # ... and this many were found
    for match in _SENTENCE_BREAK.finditer(text):
        end = match.start() + len(match.group(0).rstrip())  # after the closing quote, if any
        quotes += text.count('"', counted, end)
        counted = end
        window = text[max(start, match.start() - 40) : match.start()].rsplit(None, 1)
        last_word = window[-1].rstrip(".").lower() if window else ""
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        if quotes % 2:
            continue
        sentences.append(text[start:end])
        start = match.end()
    sentences.append(text[start:])
    return [s.strip() for s in sentences if s.strip()]


def sentence_chunks(text: str, max_words: int) -> list[str]:
    """The sentences of ``text`` packed into chunks of at most ``max_words`` words, each chunk one string."""
    sentences = split_sentences(text)
    return [" ".join(chunk) for chunk in pack_sentences(sentences, [word_count(s) for s in sentences], max_words)]


def _hole_inside_sentence(block: str) -> bool:
    """Whether a dropped template stood inside a sentence of ``block`` rather than before the
    first sentence, between two sentences or after the last one (where nothing is missed)."""
    padding = _HOLE + " "
    first = len(block) - len(block.lstrip(padding))  # where the text proper starts ...
    last = len(block.rstrip(padding))  # ... and ends
    for hole in re.finditer(_HOLE, block):
        if hole.start() < first or hole.start() >= last:
            continue
        # Only the few characters before the hole matter, which keeps this linear.
        before = block[max(0, hole.start() - 8) : hole.start()].rstrip(padding)
        if not _ends_sentence(before):
            return True
    return False


def _mostly_digits(text: str, words: int) -> bool:
    return len(_NUMERIC_TOKEN.findall(text)) * 2 > words


def reads_as_prose(text: str, min_words: int = 20) -> bool:
    """Whether a paragraph of stripped text is clean prose worth keeping.

    At least ``min_words`` words, starting like a sentence (not with a lower-case word, which
    is what is left of a sentence interrupted by a list) and ending like one, no leftover markup
    characters (``{{ }} [[ ]] | < > =``) or URLs, double quotes in pairs, and not mostly numbers.
    """
    first_letter = _FIRST_ALNUM.search(text)
    words = word_count(text)
    return (
        first_letter is not None
        and not first_letter.group(0).islower()
        and words >= min_words
        and _ends_sentence(text)
        and _MARKUP_LEFTOVER.search(text) is None
        and text.count('"') % 2 == 0
        and not _mostly_digits(text, words)
    )


def paragraphs_from_wikitext(
    markup: str, source_id: str, min_words: int = 20, max_words: int = 200
) -> list[SourceParagraph]:
    """Clean prose paragraphs from one article's wikitext; see :func:`load_wikipedia_paragraphs`."""
    kept: list[SourceParagraph] = []
    for block in _strip_with_holes(markup).split("\n\n"):
        if _hole_inside_sentence(block):
            continue
        block = _tidy_holes(block)
        for chunk in sentence_chunks(block, max_words):
            if reads_as_prose(chunk, min_words):
                kept.append(SourceParagraph(chunk, source_id, len(kept), GENRE))
    return kept


# ---- reading the XML export

# Canonical namespace names of English Wikipedia; a dump's <siteinfo> may add more.
_NAMESPACES = frozenset({
    "media", "special", "talk", "user", "user talk", "wikipedia", "wikipedia talk", "wp",
    "project", "file", "file talk", "image", "mediawiki", "mediawiki talk", "template",
    "template talk", "help", "help talk", "category", "category talk", "portal", "portal talk",
    "book", "book talk", "draft", "draft talk", "education program", "education program talk",
    "timedtext", "timedtext talk", "module", "module talk", "gadget", "gadget talk",
    "gadget definition", "gadget definition talk", "topic",
})


@dataclass(frozen=True)
class WikiPage:
    """One ``<page>`` of a MediaWiki XML export."""

    title: str
    namespace: int | None  # from <ns>; None where the export has no <ns>
    redirect: bool
    text: str


def _local(tag: str) -> str:
    """``{http://www.mediawiki.org/xml/export-0.10/}page`` -> ``page``."""
    return tag.rpartition("}")[2]


def _child_text(element: ElementTree.Element, name: str) -> str | None:
    for child in element.iter():
        if _local(child.tag) == name:
            return child.text
    return None


def iter_wiki_pages(path: Path, namespaces: set[str] | None = None) -> Iterator[WikiPage]:
    """The pages of a (bz2-compressed or plain) MediaWiki XML export, in file order.

    Parsed incrementally, and each page is cleared once read, so memory stays small. Namespace
    names declared in ``<siteinfo>`` are added to ``namespaces`` when that set is given.
    """
    opener = bz2.open if Path(path).suffix == ".bz2" else open
    with opener(path, "rb") as stream:
        for _, element in ElementTree.iterparse(stream, events=("end",)):
            name = _local(element.tag)
            if name == "namespace" and namespaces is not None and element.text:
                namespaces.add(element.text.strip().lower())
            if name != "page":
                continue
            ns = _child_text(element, "ns")
            yield WikiPage(
                title=(_child_text(element, "title") or "").strip(),
                namespace=int(ns) if ns and ns.strip().lstrip("-").isdigit() else None,
                redirect=any(_local(child.tag) == "redirect" for child in element),
                text=_child_text(element, "text") or "",
            )
            element.clear()


def is_article(page: WikiPage, namespaces: AbstractSet[str] = _NAMESPACES) -> bool:
    """Whether a page is an article: in the main namespace and not a redirect."""
    if page.redirect or page.text.lstrip()[:9].upper() == "#REDIRECT":
        return False
    if page.namespace is not None and page.namespace != 0:
        return False
    prefix, colon, _ = page.title.partition(":")
    return not (colon and prefix.strip().lower() in namespaces)


def load_wikipedia_paragraphs(
    path: Path, min_words: int = 20, max_words: int = 200
) -> list[SourceParagraph]:
    """Clean prose paragraphs from the articles of a MediaWiki XML export, in file order.

    Redirects and pages outside the main namespace are skipped. A paragraph is a blank-line
    separated block of the article's stripped text (:func:`strip_wikitext`); it is kept when it
    reads as prose (:func:`reads_as_prose`) and no dropped template left a hole inside one of its
    sentences. Paragraphs over ``max_words`` words are split at sentence boundaries.
    ``source_id`` is ``wiki/<title>``, ``paragraph_index`` counts kept paragraphs per article.
    """
    if min_words > max_words:
        raise ValueError(f"min_words ({min_words}) is larger than max_words ({max_words})")
    namespaces = set(_NAMESPACES)
    paragraphs: list[SourceParagraph] = []
    articles = 0
    for page in iter_wiki_pages(path, namespaces):
        if not is_article(page, namespaces):
            continue
        articles += 1
        paragraphs.extend(
            paragraphs_from_wikitext(page.text, f"wiki/{page.title}", min_words, max_words)
        )
    logger.debug(
        "loaded %d Wikipedia paragraphs from %d articles in %s", len(paragraphs), articles, path
    )
    return paragraphs


_HEADING = re.compile(r"^(={2,6})\s*(.+?)\s*\1\s*$", re.MULTILINE)


def short_lines_from_wikitext(title: str, markup: str, source_id: str) -> list[SourceParagraph]:
    """An article's title and section headings as plain text ("Early life", "External links"), each once."""
    lines: list[str] = []
    for text in [title] + [strip_wikitext(match.group(2)).strip() for match in _HEADING.finditer(markup)]:
        if text and any(ch.isalpha() for ch in text) and text not in lines:
            lines.append(text)
    return [SourceParagraph(text, source_id, index, "title_or_heading") for index, text in enumerate(lines)]


def load_wikipedia_short_lines(path: Path) -> list[SourceParagraph]:
    """The titles and section headings of the articles of a MediaWiki XML export (see
    :func:`short_lines_from_wikitext`); ``source_id`` as for :func:`load_wikipedia_paragraphs`."""
    namespaces = set(_NAMESPACES)
    lines: list[SourceParagraph] = []
    for page in iter_wiki_pages(path, namespaces):
        if is_article(page, namespaces):
            lines.extend(short_lines_from_wikitext(page.title, page.text, f"wiki/{page.title}"))
    return lines
