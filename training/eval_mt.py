"""Real machine translation a model may never have seen: each packaged sample's garbled paragraphs against
their clean counterparts, scored as documents.

    python training/eval_mt.py [--model DIR] [--pairs mlqe-ru-en mqm-zh-en] [--json PATH]

The samples are `spindetect.synth.translation.TRANSLATION_SETS`, made into paragraphs exactly as training
makes them (`translated_paragraphs`, with the model's own `sentences_per_paragraph` and seed). A garbled
paragraph is compared with the human post-edit of the same sentences where the sample has one, else with the
sample's translations that people found no error in. The default model trains on some samples and keeps the
others for this measure (see `data.machine_translation.pairs` in configs/default.yaml); a sample it trained on
is scored here on every paragraph, its training split included, so read those rows as fit, not as test.

Prints a Markdown table: per sample, the ROC-AUC with its standard error, and the share of garbled and of
clean paragraphs at or above the model's threshold.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from spindetect.detector import Detector
from spindetect.metrics import auc_standard_error
from spindetect.synth.translation import POST_EDIT_STYLE, TRANSLATION_SETS, read_translations, translated_paragraphs


def garbled_and_clean(name: str, sentences_per_paragraph: int, seed: int) -> tuple[list[str], list[str]]:
    """The sample's garbled paragraphs, and the clean paragraphs they are compared with."""
    translation_set = TRANSLATION_SETS[name]
    paragraphs = translated_paragraphs(read_translations(name), translation_set, sentences_per_paragraph, seed)
    garbled = [p for p in paragraphs if p.style == translation_set.garbled_style]
    if translation_set.post_edits:
        return [p.machine for p in garbled], [p.post_edit for p in garbled if p.post_edit]
    return [p.machine for p in garbled], [p.machine for p in paragraphs if p.style == translation_set.clean_style]


def evaluate(detector: Detector, names: list[str]) -> dict[str, dict]:
    mt = detector.model.config.data.machine_translation
    trained_on = set(mt.pairs) if mt.enabled else set()
    results = {}
    for name in names:
        garbled, clean = garbled_and_clean(name, mt.sentences_per_paragraph, detector.model.config.seed)
        scored = detector.score(garbled + clean)
        scores = np.array([np.nan if r.score is None else r.score for r in scored])
        labels = np.array([1] * len(garbled) + [0] * len(clean))
        judged = ~np.isnan(scores)
        scores, labels = scores[judged], labels[judged]
        auc = float(roc_auc_score(labels, scores))
        spun, clean_count = int(labels.sum()), int((labels == 0).sum())
        results[name] = {
            "trained_on": name in trained_on,
            "counterpart": POST_EDIT_STYLE if TRANSLATION_SETS[name].post_edits else TRANSLATION_SETS[name].clean_style,
            "garbled": spun,
            "clean": clean_count,
            "unjudged": int((~judged).sum()),
            "roc_auc": round(auc, 4),
            "standard_error": round(auc_standard_error(auc, spun, clean_count), 4),
            "garbled_flagged": round(float(np.mean(scores[labels == 1] >= detector.threshold)), 4),
            "clean_flagged": round(float(np.mean(scores[labels == 0] >= detector.threshold)), 4),
        }
    return results


def markdown(results: dict[str, dict]) -> str:
    lines = [
        "| sample | trained on | garbled | clean (counterpart) | ROC-AUC | garbled flagged | clean flagged |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {'yes' if r['trained_on'] else 'no'} | {r['garbled']} | {r['clean']} ({r['counterpart']}) "
            f"| {r['roc_auc']:.3f} ± {r['standard_error']:.3f} | {r['garbled_flagged']:.3f} | {r['clean_flagged']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a model directory (default: the shipped model)")
    parser.add_argument("--pairs", nargs="+", choices=sorted(TRANSLATION_SETS), default=sorted(TRANSLATION_SETS))
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    results = evaluate(Detector.load(args.model), args.pairs)
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
