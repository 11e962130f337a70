"""A replaced-word probe: a linear model on the language model's hidden states that tells the words a spinner put
in from the words the writer chose.

The surprisal of a word says how unlikely it is; the model's state after reading it says more: whether what came
so far still reads as one coherent text. A logistic model on two states of one middle layer, the state at a
word's last token and the state at the token after it, learns that from word labels: the words a spin changed,
found by diffing synthetic spins of training paragraphs against their clean twins (`training/fit_word_probe.py`).
A paragraph's features are its words' highest logit and the mean of its two highest. Words whose logit is
rare among clean text's words are also shown as `replaced_word` flags (`word_flags`), so a verdict can point at
them.

Measured before it was built (`training/README.md`, "A replaced-word probe on the language model's hidden
states"): alone, the highest word logit told tortured paragraphs from clean ones at ROC-AUC 0.857, against 0.786
for the lowest word fit and 0.825 for the deletion test, though no tortured paragraph was among its training words.

The weights are fitted for one language model (its hidden size and layers): they ship as package data named
after it, and a model they do not fit is refused rather than scored with them.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import re
from dataclasses import dataclass

import numpy as np

from spindetect.features.spans import FlaggedSpan

WORD_PROBE_FEATURE_NAMES: tuple[str, ...] = ("lm_word_probe_max", "lm_word_probe_top2_mean")
_WORD = re.compile(r"\S+")
# The probe's flags stay tentative, below `spans.CONCLUSIVE_STRENGTH`: they show under paragraphs judged spun,
# never alone under one judged clean. Conclusive at 1 clean word in 1,000, they more than doubled the flags shown
# under the clean paragraphs of the Brown example set (16 -> 34 in 10,601 words).
STRONGEST_FLAG = 0.8
# A word without the punctuation around it: from its first letter or digit to its last.
_WORD_CORE = re.compile(r"[^\W_](?:\S*[^\W_])?")


def word_probe_file(language_model: str) -> str:
    """The packaged weights' file name for a language model (by its config name)."""
    return f"word_probe_{language_model}.json"


@dataclass(frozen=True)
class FlagLevels:
    """Where a word's logit becomes a `replaced_word` flag, set from clean words the probe never trained on
    (`training/fit_word_probe.py`): about 1 clean word in 100 reaches `flag`, 1 in 1,000 reaches `strong`."""

    flag: float
    strong: float

    def __post_init__(self) -> None:
        if not self.strong > self.flag:
            raise ValueError(f"word probe flag levels: 'strong' ({self.strong}) must exceed 'flag' ({self.flag})")


@dataclass(frozen=True)
class WordProbe:
    """Logistic weights on two hidden states of each word, folded with their standardisation into plain dot
    products: a word's logit is `state(last token) . here + state(next token) . after + intercept`."""

    language_model: str  # the config name of the model whose states the weights read
    layer: int  # index into the model's hidden states: 0 is the embeddings, k the input of layer k (from 0)
    here: np.ndarray  # (hidden size,): on the state at the word's last token
    after: np.ndarray  # (hidden size,): on the state at the token after it (none after a text's last token)
    intercept: float
    flag_levels: FlagLevels | None = None  # None: the weights were packaged without them, and no word is flagged

    @property
    def fingerprint(self) -> str:
        """A short hash of the weights, for the cache keys of the features computed with them. The flag levels
        are left out: they change the flags shown, not the features."""
        return hashlib.sha256(json.dumps(self._weights_json(), sort_keys=True).encode("utf-8")).hexdigest()[:12]

    @property
    def hidden_size(self) -> int:
        return int(self.here.size)

    def _weights_json(self) -> dict:
        return {
            "language_model": self.language_model,
            "layer": self.layer,
            "here": self.here.tolist(),
            "after": self.after.tolist(),
            "intercept": self.intercept,
        }

    def to_json(self) -> dict:
        levels = self.flag_levels
        return self._weights_json() | ({"flag_logit": levels.flag, "strong_logit": levels.strong} if levels else {})

    @classmethod
    def from_json(cls, data: dict) -> WordProbe:
        here, after = (np.asarray(data[key], dtype=np.float32) for key in ("here", "after"))
        if here.ndim != 1 or here.shape != after.shape:
            raise ValueError("word probe weights: 'here' and 'after' need one value per hidden dimension each")
        levels = FlagLevels(float(data["flag_logit"]), float(data["strong_logit"])) if "flag_logit" in data else None
        return cls(str(data["language_model"]), int(data["layer"]), here, after, float(data["intercept"]), levels)

    @classmethod
    def load(cls, language_model: str) -> WordProbe:
        """The packaged weights for a language model (written by `training/fit_word_probe.py`)."""
        path = importlib.resources.files("spindetect") / "data" / word_probe_file(language_model)
        if not path.is_file():
            raise ValueError(
                f"features.word_probe has no weights for language model {language_model!r}: fit them with "
                "training/fit_word_probe.py, or turn the probe off"
            )
        return cls.from_json(json.loads(path.read_bytes()))

    def check_fits(self, language_model: str, hidden_size: int, hidden_layers: int) -> None:
        """Refuse a language model the weights were not fitted for: its states would give meaningless logits."""
        if language_model != self.language_model or hidden_size != self.hidden_size or not 0 < self.layer <= hidden_layers:
            raise ValueError(
                f"the word probe's weights read layer {self.layer} of {self.language_model!r} (hidden size "
                f"{self.hidden_size}); this language model is {language_model!r} with {hidden_layers} layers of "
                f"size {hidden_size}"
            )


def scored_words(text: str, offsets: np.ndarray) -> np.ndarray:
    """(words, 3): per whitespace-separated word of `text` that the scored tokens reach, its start and end
    characters and the index of its last token (the last token overlapping it). `offsets` are the tokens'
    (start, end) character spans, in order."""
    words = []
    if offsets.shape[0]:
        starts, ends = offsets[:, 0], offsets[:, 1]
        for word in _WORD.finditer(text):
            last = int(np.searchsorted(starts, word.end(), side="left")) - 1
            if last >= 0 and ends[last] > word.start():
                words.append((word.start(), word.end(), last))
    return np.array(words, dtype=np.int64).reshape(-1, 3)


def word_logits(last_tokens: np.ndarray, token_scores: np.ndarray, intercept: float) -> np.ndarray:
    """Each word's logit of having been replaced, from the index of its last token (`scored_words`). Row t of
    `token_scores` is token t's state dotted with the probe's `here` and `after` weights."""
    following = last_tokens + 1
    has_next = following < token_scores.shape[0]
    after = np.where(has_next, token_scores[np.minimum(following, token_scores.shape[0] - 1), 1], 0.0)
    return token_scores[last_tokens, 0] + after + intercept


def word_probe_features(logits: np.ndarray) -> np.ndarray:
    """The paragraph's `WORD_PROBE_FEATURE_NAMES`: its highest word logit and the mean of its two highest (the
    highest alone for one word; zeros for none)."""
    if logits.size == 0:
        return np.zeros(len(WORD_PROBE_FEATURE_NAMES))
    highest = np.sort(logits)[::-1][:2]
    return np.array([highest[0], highest.mean()])


def word_flags(text: str, words: np.ndarray, logits: np.ndarray, levels: FlagLevels) -> list[FlaggedSpan]:
    """`replaced_word` flags for the words (`scored_words` rows) whose logit reaches `levels.flag`, without the
    punctuation around them ("coming." flags "coming"). Strength rises linearly from 0.5 there to
    `STRONGEST_FLAG` at `levels.strong` and no further."""
    flagged = []
    for (start, end, _), logit in zip(words, logits, strict=True):
        core = _WORD_CORE.search(text, int(start), int(end))
        if logit >= levels.flag and core is not None:
            rise = min(1.0, (logit - levels.flag) / (levels.strong - levels.flag))
            strength = 0.5 + (STRONGEST_FLAG - 0.5) * rise
            flagged.append(FlaggedSpan(core.start(), core.end(), core.group(), "replaced_word", float(strength)))
    return flagged
