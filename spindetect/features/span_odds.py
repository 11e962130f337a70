"""How likely each tested span is to be a spinner's replacement, from all the signs it shows at once.

The synonym-swap test tries every span that has thesaurus candidates. Each sign alone is weak on one span: a
candidate may fit the trigram window better by chance, a rare but right word surprises the language model.
What marks a replaced span is the signs together on the same words: a common word (spinners swap in everyday
synonyms) that the model finds surprising here, followed by a word it finds surprising too, with a candidate
both references prefer. A logistic model weighs them, one for each feature family (the lexical family's without
the language model's signs). Its two highest probabilities in a paragraph are features; a light spin's one or
two replaced words show there even when a paragraph-wide statistic barely moves.

The weights are fitted by `training/fit_span_odds.py` on spans of synthetic training paragraphs whose replaced
words are known, and shipped as `spindetect/data/span_odds.json`. On held-out spans the language-model span
model tells replaced spans from the rest at ROC-AUC 0.92 and the lexical one at 0.84; on the synthetic
validation split the hand-summed swap evidence (`perplexity.swap_evidence`) did at 0.84. With these features
the shipped model went from test ROC-AUC 0.918 to 0.938 (0.836 to 0.863 at a 5% spin rate, 0.927 to 0.945 at
15%), and its fast classifier, without the language model, from 0.801 to 0.858.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from spindetect.features.ngram import normalise_text
from spindetect.features.swap import SwapTestResult

SPAN_ODDS_FILE = "span_odds.json"
# A span word the unigram model does not know (the swap test only tests known words, so this is rare).
UNKNOWN_WORD_LOG10_FREQUENCY = -9.0
# The signs of a span that need no language model, in the order the weights expect them.
LEXICAL_SPAN_INPUTS: tuple[str, ...] = (
    "trigram_gain",  # calibrated log10 gain of the best candidate over the window as written
    "window_fit",  # log10 p(window) against its words' unigram rates: below 0, a poor fit
    "words",  # words in the span
    "log10_frequency",  # the rarest span word's unigram log10 probability
    "log_candidates",  # log(1 + number of thesaurus candidates)
)
# The language-model family's: the lexical signs (from its own, wider swap test: `swap_judge.JUDGED_CANDIDATES`),
# then what the model sees at the span.
LANGUAGE_MODEL_SPAN_INPUTS: tuple[str, ...] = (
    *LEXICAL_SPAN_INPUTS,
    "span_fit",  # worst word fit inside the span (bits: LM against unigram probability; 0 if none)
    "next_word_fit",  # fit of the word after the span (bits; 0 if none)
    "lm_candidate_gain",  # log10: how much likelier the model finds its best one-token candidate (0 if none)
    "lm_judged",  # 1 if the model could judge a candidate, else 0
    "span_bits",  # surprisal of the span's tokens (bits)
    # log10: the best combined gain (`swap_judge.combined_suggestions`): both references preferring the same
    # candidate (0 if none judged)
    "combined_gain",
)


@dataclass(frozen=True)
class SpanOdds:
    """A logistic model of the probability that a span was replaced, on standardised inputs."""

    inputs: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coefficients: np.ndarray
    intercept: float

    @property
    def fingerprint(self) -> str:
        """A short hash of the weights, for the cache keys of the features computed with them."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode("utf-8")).hexdigest()[:12]

    def probability(self, values: np.ndarray) -> np.ndarray:
        """Per row of `values` (one span, columns as `inputs`): the probability it was replaced."""
        if values.shape[0] == 0:
            return np.zeros(0)
        logits = ((values - self.mean) / self.scale) @ self.coefficients + self.intercept
        return 1.0 / (1.0 + np.exp(-logits))

    def to_json(self) -> dict:
        return {
            "inputs": list(self.inputs),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coefficients": self.coefficients.tolist(),
            "intercept": self.intercept,
        }

    @classmethod
    def unfitted(cls, inputs: Sequence[str]) -> SpanOdds:
        """Weights of zero (every span at probability 0.5): for measuring the inputs a fit needs."""
        n = len(inputs)
        return cls(tuple(inputs), np.zeros(n), np.ones(n), np.zeros(n), 0.0)

    @classmethod
    def from_json(cls, data: dict, expected_inputs: Sequence[str]) -> SpanOdds:
        if tuple(data["inputs"]) != tuple(expected_inputs):
            raise ValueError(
                f"span odds weights are for inputs {data['inputs']}, the code computes {list(expected_inputs)}: "
                "refit them with training/fit_span_odds.py"
            )
        arrays = [np.asarray(data[key], dtype=np.float64) for key in ("mean", "scale", "coefficients")]
        if any(array.shape != (len(expected_inputs),) for array in arrays):
            raise ValueError("span odds weights: mean, scale and coefficients need one value per input")
        return cls(tuple(data["inputs"]), *arrays, float(data["intercept"]))


@dataclass(frozen=True)
class SpanOddsWeights:
    """Both families' span models as shipped."""

    lexical: SpanOdds
    language_model: SpanOdds

    @classmethod
    def load(cls) -> SpanOddsWeights:
        """The packaged weights (written by `training/fit_span_odds.py`)."""
        data = json.loads((importlib.resources.files("spindetect") / "data" / SPAN_ODDS_FILE).read_bytes())
        return cls(
            lexical=SpanOdds.from_json(data["lexical"], LEXICAL_SPAN_INPUTS),
            language_model=SpanOdds.from_json(data["language_model"], LANGUAGE_MODEL_SPAN_INPUTS),
        )


def lexical_span_inputs(
    text: str, swaps: Sequence[SwapTestResult], word_log10_frequency: Callable[[str], float | None]
) -> np.ndarray:
    """The `LEXICAL_SPAN_INPUTS` of each tested span of `text`, one row per span."""
    rows = []
    for swap in swaps:
        words = normalise_text(text[swap.start : swap.end]).lower().split()
        frequencies = [word_log10_frequency(word) for word in words]
        rarest = min((f for f in frequencies if f is not None), default=UNKNOWN_WORD_LOG10_FREQUENCY)
        rows.append([swap.gain, swap.fit, len(words), rarest, math.log1p(len(swap.candidates))])
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(LEXICAL_SPAN_INPUTS))


def two_most_likely(probabilities: np.ndarray) -> tuple[float, float]:
    """The highest and second-highest probabilities of a paragraph's spans; 0 where there are too few spans
    (no span is no evidence of a replacement)."""
    ordered = np.sort(probabilities)[::-1]
    return (float(ordered[0]) if ordered.size else 0.0, float(ordered[1]) if ordered.size > 1 else 0.0)
