"""Fit the replaced-word probe of `spindetect.features.word_probe` and write its weights.

    python training/fit_word_probe.py configs/default.yaml [--per-style 110] [--clean 150] [--output PATH]

From the config's synthetic data it takes the training split only (validation and test stay unseen): spun
paragraphs of each word-level spinning style (Moby thesaurus, WordNet, phrase spins) and clean paragraphs. The
words a spin changed are found by a word-level diff against its clean twin (the clean paragraph of the same
document it is most similar to), so the labels hold whatever the spinner did, chained and multiword swaps
included. Tortured phrases and machine translations are left out, so their measures stay unseen by the probe.

Each word gives two vectors of the language model's hidden states at one layer: the state at its last token
and the state at the token after it. A logistic model on standardised vectors, strongly regularised (C=0.0005:
weaker regularisation fitted the training words better and told paragraphs apart worse), learns which words
were replaced. Its held-out scores (a fifth of the texts left out of a first fit) are written beside the weights,
which are then refitted on all texts and folded with their standardisation into plain dot products.

Then the weights' flag levels (`word_probe.FlagLevels`) are set on the validation split, which the probe never
saw: the logits that 1% and 0.1% of its clean paragraphs' words reach. Their recall of the validation spins'
replaced words is written beside them. `--flags-only` sets the levels of the packaged weights (or `--output`'s)
without refitting them.

Weights change the features: retrain the classifier after refitting (the feature cache keys follow the
weights, so it recomputes them). Flag levels change only the flags shown.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import random
import re
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from spindetect.cache import default_cache_dir
from spindetect.config import load_config
from spindetect.features.language_model import CausalLanguageModel, load_language_model
from spindetect.features.resources import NGramReference
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.features.word_probe import (
    FlagLevels,
    WordProbe,
    scored_words,
    word_probe_file,
)
from spindetect.synth.dataset import (
    CorpusLocations,
    Example,
    build_synthetic_dataset,
    load_sources,
)

ROOT = Path(__file__).resolve().parent.parent
SPUN_STYLES = ("thesaurus_spin", "wordnet_spin", "phrase_spin")
# A spun paragraph whose most similar clean paragraph is less alike than this has no twin in the data.
MIN_TWIN_SIMILARITY = 0.5
HELD_OUT_SHARE = 0.2
# Shares of clean words whose logit reaches the flag levels: 1 in 100 is flagged, 1 in 1,000 strongly.
FLAGGED_CLEAN_SHARE, STRONG_CLEAN_SHARE = 0.01, 0.001
_WORD = re.compile(r"\S+")


def changed_words(clean: str, spun: str) -> set[tuple[int, int]]:
    """The character spans of the spun text's words that a word-level diff does not match to the clean text."""
    spun_words = list(_WORD.finditer(spun))
    matcher = difflib.SequenceMatcher(None, clean.split(), [word.group() for word in spun_words], autojunk=False)
    return {
        (spun_words[index].start(), spun_words[index].end())
        for tag, _, _, first, last in matcher.get_opcodes()
        if tag != "equal"
        for index in range(first, last)
    }


def labelled_texts(
    examples: list[Example], split: str, per_style: int, clean: int, seed: int
) -> list[tuple[str, set[tuple[int, int]]]]:
    """Texts of one split with the spans of their replaced words: `per_style` spins of each style that have a
    clean twin, and `clean` clean paragraphs (nothing replaced)."""
    train = [example for example in examples if example.split == split]
    clean_by_document: dict[str, list[str]] = defaultdict(list)
    for example in train:
        if example.style == "clean":
            clean_by_document[example.source_id].append(example.text)
    rng = random.Random(seed)
    texts: list[tuple[str, set[tuple[int, int]]]] = []
    for style in SPUN_STYLES:
        spun = [example for example in train if example.style == style and example.source_id in clean_by_document]
        rng.shuffle(spun)
        for example in spun[:per_style]:
            similarity = {
                twin: difflib.SequenceMatcher(None, twin, example.text).ratio() for twin in clean_by_document[example.source_id]
            }
            twin = max(similarity, key=similarity.__getitem__)
            if similarity[twin] > MIN_TWIN_SIMILARITY:
                texts.append((example.text, changed_words(twin, example.text)))
    clean_texts = [example.text for example in train if example.style == "clean"]
    rng.shuffle(clean_texts)
    return texts + [(text, set()) for text in clean_texts[:clean]]


@torch.inference_mode()
def word_vectors(language_model: CausalLanguageModel, text: str, layer: int, max_tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """The text's scored words (`word_probe.scored_words`) and per word its two state vectors side by side: at
    its last token and at the token after it (zeros after the text's last token)."""
    ids, offsets = language_model.encoder.encode_with_offsets([text])[0]
    ids, offsets = ids[: max_tokens - 1], np.array(offsets[: max_tokens - 1], dtype=np.int64).reshape(-1, 2)
    input_ids = torch.tensor([[language_model.encoder.bos_id, *ids]], device=language_model.device)
    states = language_model.model.get_decoder()(input_ids, output_hidden_states=True).hidden_states[layer]
    token_states = states[0, 1:].float().cpu().numpy()  # row t: text token t
    padded = np.vstack([token_states, np.zeros((1, token_states.shape[1]), dtype=np.float32)])
    words = scored_words(text, offsets)
    return words, np.hstack([padded[words[:, 2]], padded[words[:, 2] + 1]])


def read_words(
    language_model: CausalLanguageModel, texts: list[tuple[str, set[tuple[int, int]]]], layer: int, max_tokens: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every scored word of `texts`: its two state vectors, whether it was replaced, and the index of its text."""
    vectors, labels, owners = [], [], []
    started = time.monotonic()
    for index, (text, replaced) in enumerate(texts):
        words, text_vectors = word_vectors(language_model, text, layer, max_tokens)
        vectors.append(text_vectors)
        labels += [(int(start), int(end)) in replaced for start, end, _ in words]
        owners += [index] * len(words)
        if (index + 1) % 100 == 0 or index + 1 == len(texts):
            print(f"  read {index + 1} of {len(texts)} texts in {time.monotonic() - started:.0f} s", flush=True)
    return np.vstack(vectors), np.array(labels, dtype=bool), np.array(owners)


def calibrated_flag_levels(logits: np.ndarray, replaced: np.ndarray, spun_text: np.ndarray) -> tuple[FlagLevels, dict]:
    """Flag levels from the logits of words the probe never trained on: those that `FLAGGED_CLEAN_SHARE` and
    `STRONG_CLEAN_SHARE` of the clean texts' words reach (`spun_text` marks the words of spun texts), with what
    they flag, for the record."""
    clean = logits[~spun_text]
    levels = FlagLevels(*(float(np.quantile(clean, 1 - share)) for share in (FLAGGED_CLEAN_SHARE, STRONG_CLEAN_SHARE)))
    kept = logits[spun_text & ~replaced]
    record = {
        "flag_levels_from": f"validation split: {int((~spun_text).sum())} words of clean paragraphs, "
        f"{int(replaced.sum())} replaced words of spins",
        **{
            f"reaching_{name}_logit": {
                "clean_words": round(float((clean >= level).mean()), 4),
                "unchanged_words_of_spins": round(float((kept >= level).mean()), 4),
                "replaced_words": round(float((logits[replaced] >= level).mean()), 4),
            }
            for name, level in (("flag", levels.flag), ("strong", levels.strong))
        },
    }
    return levels, record


def fit(vectors: np.ndarray, labels: np.ndarray, regularisation: float) -> tuple[np.ndarray, float]:
    """Logistic weights on standardised vectors, folded back onto raw vectors: (weights, intercept)."""
    scaler = StandardScaler().fit(vectors)
    model = LogisticRegression(C=regularisation, max_iter=300, class_weight="balanced")
    model.fit(scaler.transform(vectors), labels)
    weights = model.coef_[0] / scaler.scale_
    return weights, float(model.intercept_[0] - scaler.mean_ @ weights)


def fitted_probe(
    language_model: CausalLanguageModel,
    texts: list[tuple[str, set[tuple[int, int]]]],
    args: argparse.Namespace,
    seed: int,
    max_tokens: int,
) -> tuple[WordProbe, dict]:
    """Weights fitted on `texts` as the command line `args` ask, and their record: what they were fitted on and
    their held-out scores."""
    vectors, labels, owners = read_words(language_model, texts, args.layer, max_tokens)
    held_out_texts = np.random.default_rng(seed).permutation(len(texts))[: int(HELD_OUT_SHARE * len(texts))]
    held_out = np.isin(owners, held_out_texts)

    weights, intercept = fit(vectors[~held_out], labels[~held_out], args.regularisation)
    logits = vectors[held_out] @ weights + intercept
    word_auc = roc_auc_score(labels[held_out], logits)
    # Paragraphs as the features see them: by their highest word logit, spun (any word replaced) against clean.
    held_owners = owners[held_out]
    paragraph_max = [logits[held_owners == owner].max() for owner in held_out_texts if (held_owners == owner).any()]
    paragraph_spun = [bool(texts[owner][1]) for owner in held_out_texts if (held_owners == owner).any()]
    paragraph_auc = roc_auc_score(paragraph_spun, paragraph_max)
    print(f"held out: words ROC-AUC {word_auc:.3f}, paragraphs by their highest word {paragraph_auc:.3f}")

    weights, intercept = fit(vectors, labels, args.regularisation)
    hidden = language_model.model.config.hidden_size
    here, after = weights[:hidden].astype(np.float32), weights[hidden:].astype(np.float32)
    probe = WordProbe(language_model.name, args.layer, here, after, intercept)
    record = {
        "fitted_by": f"training/fit_word_probe.py {args.config} --per-style {args.per_style} --clean {args.clean} "
        f"--layer {args.layer} --regularisation {args.regularisation}",
        "texts": len(texts),
        "words": int(labels.size),
        "replaced_words": int(labels.sum()),
        "held_out_word_roc_auc": round(float(word_auc), 4),
        "held_out_paragraph_roc_auc": round(float(paragraph_auc), 4),
    }
    return probe, record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path)
    parser.add_argument("--per-style", type=int, default=110, help="spun paragraphs of each style")
    parser.add_argument("--clean", type=int, default=150, help="clean paragraphs")
    parser.add_argument("--layer", type=int, default=20, help="hidden state index (0: embeddings; k: input of layer k)")
    parser.add_argument("--regularisation", type=float, default=0.0005, help="the logistic model's C")
    parser.add_argument(
        "--flag-texts", type=int, default=400, help="clean validation paragraphs for the flag levels (with 60 spins a style)"
    )
    parser.add_argument("--flags-only", action="store_true", help="keep the weights in --output; set their flag levels only")
    parser.add_argument("--output", type=Path, help="default: spindetect/data/word_probe_<language model>.json")
    args = parser.parse_args()

    started = time.monotonic()
    config = load_config(args.config)
    lm = config.language_model
    output = args.output or ROOT / "spindetect" / "data" / word_probe_file(lm.name)
    cache_dir = default_cache_dir()
    reference = NGramReference.load()
    corpus = load_sources(config.data, config.seed, CorpusLocations(cache_dir=cache_dir))
    examples = build_synthetic_dataset(config.data, config.seed, corpus, MobyThesaurus.load(), reference.unigram, cache_dir)
    # Float32 states whatever the config's precision: the weights are read in float32 too.
    language_model = load_language_model(lm.name, precision="float32")
    if args.flags_only:
        record = json.loads(output.read_text(encoding="utf-8"))
        probe = WordProbe.from_json(record)
    else:
        texts = labelled_texts(examples, "train", args.per_style, args.clean, config.seed)
        print(f"{len(texts)} texts: reading layer {args.layer} of {lm.name}", flush=True)
        probe, record = fitted_probe(language_model, texts, args, config.seed, lm.max_tokens)
        record |= {"config": config.name, "seed": config.seed}

    flag_texts = labelled_texts(examples, "valid", 60, args.flag_texts, config.seed)
    print(f"{len(flag_texts)} validation texts: setting the flag levels", flush=True)
    vectors, replaced, owners = read_words(language_model, flag_texts, probe.layer, lm.max_tokens)
    logits = vectors @ np.concatenate([probe.here, probe.after]) + probe.intercept
    spun_text = np.array([bool(flag_texts[owner][1]) for owner in owners])
    levels, flag_record = calibrated_flag_levels(logits, replaced, spun_text)
    print(json.dumps(flag_record, indent=1))
    probe = dataclasses.replace(probe, flag_levels=levels)
    output.write_text(json.dumps(record | flag_record | probe.to_json()) + "\n", encoding="utf-8")
    print(f"wrote {output} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
