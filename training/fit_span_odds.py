"""Fit the span models of `spindetect.features.span_odds` and write their weights.

    python training/fit_span_odds.py configs/default.yaml [--pairs 1000] [--output spindetect/data/span_odds.json]

From the config's synthetic data it takes clean paragraphs of the training split only (so the validation and
test splits stay unseen), spins each once with the config's spinners (thesaurus or phrase spin, at one of
its rates, seeded) and keeps the spinner's record of which words it replaced. Every span the synonym-swap test
tries, in the clean paragraphs and the spun ones, is an example: replaced (it overlaps a replaced word) or
not. Two logistic models are fitted on standardised inputs: the lexical family's (signs without the language
model) and the language model family's (all signs). The held-out ROC-AUC of each (a fifth of the pairs left
out of a first fit) is written beside the weights, which are then refitted on all pairs.

Weights change the features: retrain the classifier after refitting (the feature cache keys follow the
weights, so it recomputes them).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from spindetect.cache import default_cache_dir
from spindetect.config import load_config
from spindetect.features.language_model import load_language_model
from spindetect.features.perplexity import LanguageModelScorer
from spindetect.features.resources import NGramReference
from spindetect.features.span_odds import LANGUAGE_MODEL_SPAN_INPUTS, LEXICAL_SPAN_INPUTS, SpanOdds, lexical_span_inputs
from spindetect.features.swap import MAX_CANDIDATES, SynonymSwapTest
from spindetect.features.swap_judge import JUDGED_CANDIDATES
from spindetect.features.thesaurus import MobyThesaurus
from spindetect.synth.dataset import (
    CorpusLocations,
    build_synthetic_dataset,
    load_sources,
    phrase_spinners,
    thesaurus_spinners,
)

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT_SHARE = 0.2


def spun_pairs(config, thesaurus: MobyThesaurus, unigram, pairs: int) -> list[tuple[str, list[tuple[int, int]]]]:
    """Texts with the character spans the spinner replaced: clean training paragraphs (none) and their spins."""
    data = config.data
    cache_dir = default_cache_dir()
    corpus = load_sources(data, config.seed, CorpusLocations(cache_dir=cache_dir))
    examples = build_synthetic_dataset(data, config.seed, corpus, thesaurus, unigram, cache_dir)
    clean = [example.text for example in examples if example.split == "train" and example.style == "clean"]
    rng = random.Random(config.seed)
    rng.shuffle(clean)
    word_spinners = list(thesaurus_spinners(data, thesaurus, unigram).values())
    phrase_spinner_list = list(phrase_spinners(data, thesaurus, unigram).values())
    texts: list[tuple[str, list[tuple[int, int]]]] = []
    for text in clean:
        if len(texts) >= 2 * pairs:
            break
        phrase = data.phrase_spin.enabled and rng.random() < data.phrase_spin.share
        spinner = rng.choice(phrase_spinner_list if phrase else word_spinners)
        spun = spinner.spin(text, rng)
        if spun.replaced:
            texts += [(text, []), (spun.text, [(start, end) for start, end, _ in spun.spans])]
    return texts


def fit(inputs: np.ndarray, labels: np.ndarray, names: tuple[str, ...]) -> SpanOdds:
    scaler = StandardScaler().fit(inputs)
    model = LogisticRegression(max_iter=1000).fit(scaler.transform(inputs), labels)
    return SpanOdds(names, scaler.mean_, scaler.scale_, model.coef_[0], float(model.intercept_[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", type=Path)
    parser.add_argument(
        "--pairs", type=int, default=1000, help="clean paragraphs spun (each with its spin: twice as many texts)"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "spindetect" / "data" / "span_odds.json")
    args = parser.parse_args()

    started = time.monotonic()
    config = load_config(args.config)
    reference = NGramReference.load()
    thesaurus = MobyThesaurus.load()
    texts = spun_pairs(config, thesaurus, reference.unigram, args.pairs)
    # As `build_extractor` sets them up: the language model's judge weighs more candidates than the lexical family.
    swap_test = SynonymSwapTest(reference, thesaurus, max_candidates=JUDGED_CANDIDATES)
    lexical_swap_test = swap_test.narrowed(MAX_CANDIDATES)
    lm = config.language_model
    unfitted = SpanOdds.unfitted(LANGUAGE_MODEL_SPAN_INPUTS)  # the inputs do not depend on the weights
    scorer = LanguageModelScorer(
        load_language_model(lm.name, precision=lm.precision),
        reference.unigram,
        max_tokens=lm.max_tokens,
        batch_tokens=config.runtime.batch_tokens,
        logits_chunk_rows=config.runtime.logits_chunk_rows,
        swap_test=swap_test,
        span_odds=unfitted,
    )
    print(f"{len(texts)} texts: measuring their spans with {lm.name}", flush=True)
    inputs = scorer.span_inputs([text for text, _ in texts])
    labels, pair_of_span, lexical_inputs = [], [], []
    for index, ((text, replaced), text_inputs) in enumerate(zip(texts, inputs, strict=True)):
        swaps = swap_test.test(text)
        # Narrowing drops candidates, never spans: both tests try the same spans in the same order.
        lexical_swaps = lexical_swap_test.test(text)
        assert len(swaps) == len(lexical_swaps) == len(text_inputs)
        lexical_inputs.append(lexical_span_inputs(text, lexical_swaps, reference.unigram))
        labels += [any(swap.start < end and start < swap.end for start, end in replaced) for swap in swaps]
        pair_of_span += [index // 2] * len(swaps)
    family_inputs = {"lexical": np.vstack(lexical_inputs), "language_model": np.vstack(inputs)}
    labels_array, pairs = np.array(labels), np.array(pair_of_span)
    held_out = np.isin(pairs, np.random.default_rng(config.seed).permutation(pairs.max() + 1)[: int(HELD_OUT_SHARE * (pairs.max() + 1))])

    weights: dict = {
        "fitted_by": f"training/fit_span_odds.py {args.config} --pairs {args.pairs}",
        "config": config.name,
        "seed": config.seed,
        "texts": len(texts),
        "spans": int(labels_array.size),
        "replaced_spans": int(labels_array.sum()),
    }
    for family, names in (("lexical", LEXICAL_SPAN_INPUTS), ("language_model", LANGUAGE_MODEL_SPAN_INPUTS)):
        values = family_inputs[family]
        first = fit(values[~held_out], labels_array[~held_out], names)
        auc = roc_auc_score(labels_array[held_out], first.probability(values[held_out]))
        weights[family] = fit(values, labels_array, names).to_json() | {"held_out_roc_auc": round(float(auc), 4)}
        print(f"{family}: held-out ROC-AUC {auc:.3f} on {int(held_out.sum())} spans")
    args.output.write_text(json.dumps(weights, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.output} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
