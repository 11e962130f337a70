"""The model card: what a trained model learned from, what it looks at, how well it does, where it fails.

Written by `spindetect train` next to the model (`MODEL_CARD.md`) from the model's own config and metrics,
so the numbers in the card are always the ones the model was measured at; `spindetect calibrate` writes its
copy's card, which says what calibration changed.
"""

from __future__ import annotations

from pathlib import Path

from spindetect.evaluation import calibration_lines, calibration_warning, trained_threshold
from spindetect.features.perplexity import LM_FEATURE_PREFIX
from spindetect.metrics import auc_standard_error
from spindetect.model import TrainedModel
from spindetect.synth.dataset import STYLES, SWEPT_STYLES

CARD_FILE = "MODEL_CARD.md"

# What every model of this design gets wrong, whatever it was trained on; each line is a measured or
# structural limit, not a guess.
KNOWN_WEAKNESSES = (
    "Light spin is the hard case: with 5% of content words replaced a paragraph of 60 words has one or two "
    "odd words, and the scores of such paragraphs overlap the clean ones (see the rate table).",
    "The clean training prose is US English from 1961 (Brown), encyclopedic (Wikipedia) and technical (the "
    "Python documentation) and a little present-day news (30 articles). Social media and "
    "British spelling are out of domain: expect more false positives there; "
    "calibrate the threshold on your own clean texts (`spindetect calibrate`).",
    "The n-gram reference (CMU trigram model) lacks many modern collocations (\"sanctions relief\"); words it "
    "has not seen together look odd to the lexical features.",
    "Paragraphs under the segmentation's `min_words` (titles, headlines, boilerplate) are scored but not judged; "
    "a document of short lines only is `unjudged`, with no score: short spun texts (a spun title alone) go "
    "undetected.",
    "Garbled machine translation is learned from the packaged samples the config names (the default model: "
    "MLQE-PE Sinhala, Estonian and Romanian into English, Wikipedia sentences). On samples it never saw it does "
    "no better than chance on one and little better on the other: ROC-AUC 0.49 on MLQE-PE Russian->English "
    "(Reddit, proverbs) and 0.68 on WMT MQM Chinese->English news (`training/eval_mt.py`), whose garble is "
    "mostly fluent English with a wrong meaning.",
    "Phrase-level and thesaurus spins are measured on the project's own spinners; real spinners differ, and the "
    "lightly spun paragraphs of a real content-farm article overlap clean prose.",
    "The tortured-phrase lexicon finds listed phrases with certainty; unlisted tortured phrases rely on the "
    "statistical features, measured on the held-out part of the list (style `tortured`) and, on every tortured "
    "paragraph, cross-validated with each fold's phrases kept out of its fitting (under the cross-validated "
    "tables; read the recall there too).",
    "Synthetic spinning imitates word-list spinners; paraphrasers built on language models rewrite fluently and "
    "are not what this detector is for (see `round_trip`: fluent rewrites are meant to stay clean).",
)


def _unlisted_copies_lines(copies: int | None) -> list[str]:
    if copies is None:
        return []
    return [
        f"It was also fitted on {copies} copies of the spun training paragraphs that the tortured-phrase lexicon "
        "finds, with the lexicon's count hidden, where the replaced-word probe marks a word "
        "(`classifier.unlisted_copies`): the phrases it will meet unlisted."
    ]


def model_card(model: TrainedModel) -> str:
    config, metrics = model.config, model.metrics
    families = [
        name
        for name, enabled in (
            (f"language-model perplexity ({config.language_model.name}, {config.language_model.precision})", config.features.language_model),
            ("deletion test (the words after the worst-fitting ones, reread without them)", config.features.deletion_test),
            ("replaced-word probe (a linear model on the language model's hidden states)", config.features.word_probe),
            ("function-word swap test (another function word read in each one's place)", config.features.function_word_swaps),
            ("n-gram oddity (CMU trigram model)", config.features.ngram),
            ("lexical oddity (synonym-swap test, tortured-phrase lexicon, function-word garble)", config.features.lexical),
        )
        if enabled
    ]
    n_lm = sum(name.startswith(LM_FEATURE_PREFIX) for name in model.feature_names)
    lines = [
        f"# Model card: spindetect `{config.name}`",
        "",
        "Scores paragraphs for machine garbling: article-spinner rewrites, tortured phrases, garbled machine "
        "translation. A document's score comes from its paragraphs long enough to judge.",
        "",
        "## Features",
        "",
        f"{len(model.feature_names)} paragraph features ({n_lm} from the language model), in these families:",
        "",
        *(f"- {family}" for family in families),
        "",
        f"Classifier: {config.classifier.kind} {dict(config.classifier.params) or ''}".rstrip(),
        *_unlisted_copies_lines(metrics.get("unlisted_copies")),
        _threshold_line(model),
        "",
        "## Training data",
        "",
    ]
    counts = metrics.get("counts", {})
    if counts:
        lines += ["| split | clean | spun |", "|---|---|---|"]
        lines += [f"| {split} | {c['clean']} | {c['spun']} |" for split, c in counts.items()]
        lines.append("")
    lines += [line for warning in metrics.get("warnings", []) for line in (f"**Warning:** {warning}.", "")]
    data = config.data
    if data.synthetic:
        corpora = ", ".join(f"{corpus.name} (at most {corpus.max_paragraphs} paragraphs)" for corpus in data.corpora)
        lines.append(f"Clean paragraphs from {corpora}, split by source document, and:")
        lines.append("")
        by_style = metrics.get("test_by_style", {})
        for style in sorted(by_style) or ["thesaurus_spin"]:
            lines.append(f"- `{style}`: {STYLES.get(style, 'from the labeled files')}")
        lines.append("")
    if data.labeled_files:
        lines.append("Labeled files: " + ", ".join(str(f.path) for f in data.labeled_files))
        lines.append("")
    if "calibration" in metrics:
        lines += _calibration_section(metrics["calibration"])
    lines += _metrics_section(metrics)
    lines += ["## Known weaknesses", "", *(f"- {weakness}" for weakness in KNOWN_WEAKNESSES), ""]
    if "training_seconds" in metrics:
        lines.append(f"Training took {metrics['training_seconds']:.0f} s (features from the cache where present).")
    return "\n".join(lines) + "\n"


def _threshold_line(model: TrainedModel) -> str:
    strategy = model.config.threshold.strategy
    calibration = model.metrics.get("calibration")
    if calibration is None:
        return f"Threshold {model.threshold:.3f}, chosen on the validation split ({strategy})."
    return (
        f"Threshold {model.threshold:.3f}, calibrated on the clean texts of `{calibration['source']}` for a false-positive "
        f"budget of {calibration['max_fpr']:.2%}; training chose {trained_threshold(calibration):.3f} on the validation "
        f"split ({strategy})."
    )


def _calibration_section(calibration: dict) -> list[str]:
    """What `spindetect calibrate` did, and what the test metrics, measured before it, still say."""
    trained = trained_threshold(calibration)
    warning = calibration_warning(calibration)
    return [
        "## Calibration",
        "",
        f"Calibrated with `spindetect calibrate` on the labeled texts of `{calibration['source']}` (95% CI: Wilson "
        "score intervals):",
        "",
        *(f"- {line}" for line in calibration_lines(calibration)),
        "",
        *([f"**Warning:** {warning}.", ""] if warning else []),
        "`--max-fpr` reads from these clean texts from now on, in full mode only (cascade mode's clean scores came "
        "from the training data and were dropped).",
        "",
        f"The test-split metrics below were measured at the threshold training chose, {trained:.3f}, before "
        "calibration. ROC-AUC, PR-AUC and the TPR at 1% and 5% FPR do not depend on the threshold and still describe "
        "the model on its own test data. F1, the false-positive rate and every recall and flagged share below hold "
        f"at {trained:.3f}, not at the new threshold; at the new threshold, what is known is the above, measured on "
        "the calibration texts.",
        "",
    ]


def _metrics_section(metrics: dict) -> list[str]:
    lines = ["## Metrics on the test split", ""]
    if "calibration" in metrics:
        lines += [f"Measured at threshold {trained_threshold(metrics['calibration']):.3f}, before calibration.", ""]
    test = metrics.get("test", {})
    lines += [
        "| n | ROC-AUC | PR-AUC | F1 | TPR at 1% FPR | TPR at 5% FPR | false-positive rate |",
        "|---|---|---|---|---|---|---|",
        f"| {test.get('n', 0)} | {_number(test, 'roc_auc')} | {_number(test, 'pr_auc')} | {_number(test, 'f1')} "
        f"| {_number(test, 'tpr_at_1pct_fpr')} | {_number(test, 'tpr_at_5pct_fpr')} | {_number(test, 'false_positive_rate')} |",
        "",
    ]
    by_rate = metrics.get("test_by_rate", {})
    if by_rate:
        lines += [
            "By spin rate (share of content words replaced): the test split's corpus paragraphs against their",
            "thesaurus-spun twins at that rate (with the rate sweep, every test paragraph at every rate):",
            "",
            "| rate | spun | ROC-AUC | recall at the threshold |",
            "|---|---|---|---|",
            *(f"| {rate} | {m['n_spun']} | {_number(m, 'roc_auc')} | {_number(m, 'recall')} |" for rate, m in by_rate.items()),
            "",
        ]
    by_style = metrics.get("test_by_style", {})
    if by_style:
        lines += [
            "By style (a spun style against the clean texts it was made from; a clean style: the share flagged):",
            "",
            "| style | n | ROC-AUC | recall | flagged clean |",
            "|---|---|---|---|---|",
            *(
                f"| {style} | {m['n']} | {_number(m, 'roc_auc')} | {_number(m, 'recall') if m['n_spun'] else '—'} "
                f"| {_number(m, 'false_positive_rate')} |"
                for style, m in by_style.items()
            ),
            "",
        ]
    for style in SWEPT_STYLES:
        swept = metrics.get(f"test_{style}_swept") or {}
        if "roc_auc" in swept.get("pooled", {}):
            pooled = swept["pooled"]
            lines += [
                f"`{style}`, every test paragraph at every rate ({pooled['n_spun']} spun, "
                f"{pooled['n'] - pooled['n_spun']} clean): ROC-AUC {_number(pooled, 'roc_auc')} ± {_auc_se(pooled):.3f}; "
                + ", ".join(f"{_number(m, 'roc_auc')} at rate {rate}" for rate, m in swept["by_rate"].items())
                + f". The `{style}` row above rests on the share of test paragraphs with such a twin only.",
                "",
            ]
    unlisted = metrics.get("test_tortured_unlisted")
    if unlisted:
        lines += [
            "The lexicon lists every tortured phrase of the test split, so `tortured` above measures a lookup. With "
            f"the lexicon's count hidden, the other features tell the same paragraphs from the clean paragraphs of "
            f"their documents at ROC-AUC {_number(unlisted, 'roc_auc')} ± {_auc_se(unlisted):.3f} ({unlisted['n_spun']} "
            f"tortured, {unlisted['n'] - unlisted['n_spun']} clean; recall {_number(unlisted, 'recall')}): that "
            "is what to expect of tortured phrases nobody has listed.",
            "",
        ]
    short_lines = metrics.get("test_short_lines")
    if short_lines:
        lines += [
            "Short lines (titles, section headings, headlines and captions of the test split's documents, and spun "
            "twins of them), each scored as a record the way `spindetect score` scores it:",
            "",
            "| lines | n | labelled spun (95% CI) | unjudged |",
            "|---|---|---|---|",
            *(
                f"| {kind} | {m['n']} | {m['labelled_spun']:.4f} [{m['labelled_spun_ci'][0]:.4f}, {m['labelled_spun_ci'][1]:.4f}] "
                f"| {m['unjudged']:.4f} |"
                for kind, m in short_lines.items()
            ),
            "",
        ]
    lines += cross_validated_section(metrics.get("cross_validated"))
    cascade = metrics.get("cascade")
    if cascade:
        band = cascade["band"]
        lines += [
            f"Cascade mode (`--cascade`): fast scores in [{band['low']:.3f}, {band['high']:.3f}] go to the language "
            f"model, {cascade_share(cascade)}; ROC-AUC "
            f"{_number(cascade['test'], 'roc_auc')} (fast classifier alone {_number(cascade['test_fast_only'], 'roc_auc')}), "
            f"false-positive rate at the threshold {_number(cascade['test'], 'false_positive_rate')}. The band was chosen on "
            f"the {cascade.get('band_chosen_on', 'valid split')}.",
            "",
        ]
    return lines


def cross_validated_section(results: dict | None) -> list[str]:
    """The metrics by style, corpus and rate from out-of-fold scores over all splits, with their uncertainty."""
    if not results:
        return []
    overall = results["overall"]
    lines = [
        "## Cross-validated by source document",
        "",
        f"The classifier refitted {results['folds']} times on the train, valid and test splits pooled, each fold "
        "holding out whole source documents, so every paragraph is scored by a classifier that never saw its "
        f"document: ROC-AUC {_with_se(overall)} over {overall['n']} paragraphs. ROC-AUC ± its standard error "
        "(Hanley and McNeil: a lower bound, as twins share their source); rates at the model's threshold with "
        "their 95% Wilson interval. Left out: "
        + (", ".join(results["left_out_styles"]) or "nothing")
        + " (measured on the test split above, whose phrases come from a held-out part of the list, and below the"
        " tables with the phrases of each scored fold kept out of its fitting).",
        "",
        "| style | n | spun | ROC-AUC | recall | flagged clean |",
        "|---|---|---|---|---|---|",
    ]
    for style, m in results["by_style"].items():
        recall = _number(m, "recall") if m["n_spun"] else "—"
        lines.append(f"| {style} | {m['n']} | {m['n_spun']} | {_with_se(m)} | {recall} | {_flagged(m)} |")
    lines += ["", "| corpus | n | spun | ROC-AUC | flagged clean |", "|---|---|---|---|---|"]
    for corpus, m in results["by_corpus"].items():
        lines.append(f"| {corpus} | {m['n']} | {m['n_spun']} | {_with_se(m)} | {_flagged(m)} |")
    lines += ["", "| thesaurus spin rate | spun | ROC-AUC | recall |", "|---|---|---|---|"]
    for rate, m in results["by_rate"].items():
        lines.append(f"| {rate} | {m['n_spun']} | {_with_se(m)} | {_number(m, 'recall')} |")
    unlisted = results.get("tortured_unlisted")
    if unlisted and "roc_auc" in unlisted:
        lines += [
            "",
            f"Tortured phrases nobody has listed, on every tortured paragraph ({unlisted['n_spun']}, against "
            f"{unlisted['n'] - unlisted['n_spun']} clean paragraphs of their documents): each fold fitted without the "
            "tortured paragraphs that garble a phrase the scored fold garbles, and scored with the lexicon's count "
            f"hidden: ROC-AUC {_with_se(unlisted)}, recall {_number(unlisted, 'recall')}. A steadier measure than the "
            "test split's few dozen paragraphs above, which come from a handful of documents.",
        ]
    return [*lines, ""]


def _with_se(metrics: dict) -> str:
    if "roc_auc" not in metrics:
        return "—"
    return f"{metrics['roc_auc']:.3f} ± {metrics['roc_auc_se']:.3f}"


def _auc_se(metrics: dict) -> float:
    """The standard error of a test-split ROC-AUC (see `auc_standard_error`)."""
    return auc_standard_error(metrics["roc_auc"], metrics["n_spun"], metrics["n"] - metrics["n_spun"])


def _flagged(metrics: dict) -> str:
    interval = metrics.get("false_positive_rate_ci")
    if not interval:
        return "—"
    return f"{metrics['false_positive_rate']:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def write_model_card(model: TrainedModel, directory: Path) -> None:
    (directory / CARD_FILE).write_text(model_card(model), encoding="utf-8")


def cascade_share(cascade: dict) -> str:
    """The share of test paragraphs a cascade sends to the language model, and of clean ones where recorded."""
    share = f"{cascade['test_share_to_language_model']:.0%} of test paragraphs"
    clean = cascade.get("test_clean_share_to_language_model")  # models trained before it was recorded lack it
    return share if clean is None else f"{share}, {clean:.0%} of the clean ones"


def _number(metrics: dict, key: str) -> str:
    value = metrics.get(key)
    return "—" if value is None or value != value else f"{value:.3f}"
