"""A dolma tagger: spin scores as dolma attributes, one output line per input document, in input order.

    dolma tag --documents 'data/documents/*.json.gz' --experiment spin \\
        --taggers spindetect --tagger_modules spindetect.integrations.dolma --processes 4

writes `data/attributes/spin/*.json.gz`, one file per shard and one line per document, named as dolma names
every tagger's attributes: `spin__spindetect__doc` and so on. Each attribute is a list of `[start, end, score]`
spans, character offsets into the document's text, scores rounded by dolma to 5 decimals:

- `doc`: `[[0, len(text), score]]`, the document's spin score as `spindetect score` gives it (the word-weighted
  mean of its judged paragraphs); an empty list when the document has no score (the three below).
- `paragraph`: a span for each paragraph judged: English prose long enough to judge alone, the paragraphs
  the document score averages. Headlines and other short or foreign lines are left out: their scores are not
  evidence (see README, "Unjudged").
- `unjudged_too_short` or `unjudged_not_english`: `[[0, len(text), 1.0]]` for a document with nothing to judge,
  the reason `score --jsonl` gives in `spin_unjudged`.
- `error`: `[[0, len(text), 1.0]]` for a text that cannot be scored (empty, only punctuation, binary data), the
  records `score --jsonl` gives an `error`.

`doc` and `paragraph` are on every line, empty or not, so a mixer filter can always read them. The tagger
`spindetect_cascade` scores with the model's cascade (faster, scores differ slightly). The model is the one
shipped in the package, or the trained model directory in `$SPINDETECT_MODEL`.

dolma 1.2.1 hands its taggers one document at a time and writes its line at once, so each document is scored
alone: slower than `score --jsonl`, which batches paragraphs of many documents for the language model.
"""

from __future__ import annotations

import os
from pathlib import Path

from dolma.core.data_types import DocResult, Document, Span
from dolma.core.registry import TaggerRegistry
from dolma.core.taggers import BaseTagger

from spindetect.detector import DocumentResult
from spindetect.inputs import check_record
from spindetect.integrations.shared import process_detector

MODEL_ENV = "SPINDETECT_MODEL"


def document_spans(text: str, result: DocumentResult) -> list[Span]:
    """The spans of one scored document, as listed in this module's docstring."""
    whole = (0, len(text))
    if result.error is not None:
        return [Span(*whole, type="error", score=1.0)]
    if result.score is None:
        return [Span(*whole, type=f"unjudged_{result.unjudged}", score=1.0)]
    paragraphs = [Span(p.start, p.end, type="paragraph", score=p.score) for p in result.paragraphs if p.judged]
    return [Span(*whole, type="doc", score=result.score), *paragraphs]


@TaggerRegistry.add("spindetect")
class SpinTagger(BaseTagger):
    """Document and paragraph spin scores (dolma constructs taggers without arguments: the model comes from
    `$SPINDETECT_MODEL`, read when the tagger is built, in each worker)."""

    cascade = False

    def __init__(self) -> None:
        model_dir = os.environ.get(MODEL_ENV)
        self.model_dir = Path(model_dir) if model_dir else None

    @property
    def defaults(self) -> list[str]:
        return ["doc", "paragraph"]

    def predict(self, doc: Document) -> DocResult:
        # The same checks as `score --jsonl`, so the same records carry an error rather than a score.
        problem = check_record({"text": doc.text}, 0, "text", f"document {doc.id}").error
        if problem is not None:
            return DocResult(doc=doc, spans=[Span(0, len(doc.text), type="error", score=1.0)])
        [result] = process_detector(self.model_dir, None, self.cascade).score([doc.text])
        return DocResult(doc=doc, spans=document_spans(doc.text, result))


@TaggerRegistry.add("spindetect_cascade")
class SpinCascadeTagger(SpinTagger):
    """`SpinTagger` scoring with the model's cascade: the language model only reads the paragraphs the fast
    classifier is unsure of."""

    cascade = True
