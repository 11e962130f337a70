import dataclasses
import json
import re

import numpy as np
import pytest
import torch

from spindetect.config import ConfigError, load_config
from spindetect.features.extractor import build_extractor
from spindetect.features.perplexity import LM_FEATURE_NAMES, LanguageModelScorer
from spindetect.features.spans import CONCLUSIVE_STRENGTH, FlaggedSpan, shown_flags
from spindetect.features.word_probe import (
    STRONGEST_FLAG,
    WORD_PROBE_FEATURE_NAMES,
    FlagLevels,
    WordProbe,
    scored_words,
    word_flags,
    word_logits,
    word_probe_features,
)
from spindetect.train import fast_model_config

from .conftest import ROOT

TEXT = "The minister took enlighten of enterprise after the vote."
LONGER = "The council met again in the spring, and the minister spoke at length about the harbour and its ships."


def random_probe(hidden_size: int, layer: int, seed: int = 0) -> WordProbe:
    rng = np.random.default_rng(seed)
    here, after = (rng.normal(size=hidden_size).astype(np.float32) for _ in range(2))
    return WordProbe("tiny-random", layer, here, after, -0.5)


def independently_read_logits(language_model, probe: WordProbe, text: str) -> list[float]:
    """Each whitespace word's logit, read from the model's states in float64 without the scorer. The tiny byte
    model has one token per character after the start token, so a word's last token sits at its end offset."""
    ids = torch.tensor([[language_model.encoder.bos_id, *language_model.encoder.encode([text])[0]]])
    with torch.inference_mode():
        states = language_model.model(ids, output_hidden_states=True).hidden_states[probe.layer][0].double().numpy()
    logits = []
    for word in re.finditer(r"\S+", text):
        after = states[word.end() + 1] @ probe.after if word.end() < len(text) else 0.0
        logits.append(states[word.end()] @ probe.here + after + probe.intercept)
    return logits


def test_each_word_is_read_at_its_last_token_and_words_past_the_scored_tokens_are_left_out() -> None:
    text = "The cat's hat fell"
    # Byte-pair tokens carry the space before their word: "The", " cat", "'s", " hat" (" fell" was cut off).
    offsets = np.array([(0, 3), (3, 7), (7, 9), (9, 13)])
    np.testing.assert_array_equal(scored_words(text, offsets), [(0, 3, 0), (4, 9, 2), (10, 13, 3)])
    assert scored_words(text, np.zeros((0, 2), dtype=np.int64)).shape == (0, 3)


def test_a_word_logit_adds_its_last_token_s_here_score_the_next_token_s_after_score_and_the_intercept() -> None:
    token_scores = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]])
    # Words ending at tokens 0, 2 and 3: the last has no token after it.
    logits = word_logits(np.array([0, 2, 3]), token_scores, intercept=-1.0)
    np.testing.assert_allclose(logits, [1.0 + 20.0 - 1.0, 3.0 + 40.0 - 1.0, 4.0 - 1.0])


def test_a_paragraph_s_features_are_its_highest_word_logit_and_the_mean_of_its_two_highest() -> None:
    np.testing.assert_allclose(word_probe_features(np.array([0.5, 3.0, -2.0, 1.0])), [3.0, 2.0])
    np.testing.assert_allclose(word_probe_features(np.array([-1.5])), [-1.5, -1.5])
    np.testing.assert_allclose(word_probe_features(np.zeros(0)), [0.0, 0.0])


def test_words_at_the_flag_level_are_flagged_with_a_strength_that_rises_to_the_strong_level_and_stays_tentative() -> None:
    text = "took enlighten of enterprise"
    words = scored_words(text, np.array([(0, 4), (4, 14), (14, 17), (17, 28)]))
    levels = FlagLevels(flag=2.0, strong=4.0)
    flags = word_flags(text, words, np.array([1.9, 2.0, 3.0, 9.0]), levels)
    assert flags == [
        FlaggedSpan(5, 14, "enlighten", "replaced_word", 0.5),
        FlaggedSpan(15, 17, "of", "replaced_word", pytest.approx((0.5 + STRONGEST_FLAG) / 2)),
        FlaggedSpan(18, 28, "enterprise", "replaced_word", STRONGEST_FLAG),
    ]
    # Never conclusive alone: under a paragraph judged clean the probe's flags are not shown.
    assert STRONGEST_FLAG < CONCLUSIVE_STRENGTH and shown_flags(flags, judged_spun=False) == []
    with pytest.raises(ValueError, match="'strong' .* must exceed 'flag'"):
        FlagLevels(flag=2.0, strong=2.0)
    # The punctuation around a word is not flagged with it, and punctuation alone not at all.
    text = "its (coming.) — end"
    words = scored_words(text, np.array([(0, 3), (3, 13), (13, 15), (15, 19)]))
    assert [span.text for span in word_flags(text, words, np.full(4, 9.0), levels)] == ["its", "coming", "end"]


def test_the_scorer_flags_the_words_the_probe_marks_and_none_without_flag_levels(tiny_language_model, reference) -> None:
    probe = random_probe(tiny_language_model.model.config.hidden_size, layer=1)
    unflagged = LanguageModelScorer(tiny_language_model, reference.unigram, word_probe=probe)
    features, flags = unflagged.score_and_flag([TEXT])
    assert not [span for span in flags[0] if span.reason == "replaced_word"]
    # Levels set between the text's word logits: exactly the words above the lower level are flagged.
    words = list(re.finditer(r"\S+", TEXT))
    logits = independently_read_logits(tiny_language_model, probe, TEXT)
    # Halfway between two neighbouring logits, so the float32 scorer and this float64 reading agree on each side.
    middle = len(logits) // 2
    cut = float(np.mean(sorted(logits)[middle - 1 : middle + 1]))
    levels = FlagLevels(flag=cut, strong=max(logits) + 1.0)
    flagging = LanguageModelScorer(
        tiny_language_model, reference.unigram, word_probe=dataclasses.replace(probe, flag_levels=levels)
    )
    again, flags = flagging.score_and_flag([TEXT])
    np.testing.assert_array_equal(again, features)
    flagged = [span.text for span in flags[0] if span.reason == "replaced_word"]
    assert flagged == [w.group() for w, logit in zip(words, logits, strict=True) if logit > cut]
    assert 0 < len(flagged) < len(words)
    assert all(0.5 <= span.strength < STRONGEST_FLAG for span in flags[0] if span.reason == "replaced_word")


def test_the_probe_features_are_the_model_s_states_dotted_with_the_weights_whatever_the_batch(tiny_language_model, reference) -> None:
    probe = random_probe(tiny_language_model.model.config.hidden_size, layer=1)
    scorer = LanguageModelScorer(tiny_language_model, reference.unigram, word_probe=probe)
    assert scorer.feature_names == LM_FEATURE_NAMES + WORD_PROBE_FEATURE_NAMES
    alone = scorer.score([TEXT])[0, -2:]
    # Batched beside a longer text, the shorter one is padded: its features must not change.
    batched = scorer.score([LONGER, TEXT])[1, -2:]
    np.testing.assert_allclose(batched, alone, rtol=1e-4, atol=1e-4)
    highest = sorted(independently_read_logits(tiny_language_model, probe, TEXT), reverse=True)
    np.testing.assert_allclose(alone, [highest[0], (highest[0] + highest[1]) / 2], rtol=1e-4, atol=1e-4)


def test_the_cache_key_follows_the_probe_and_its_weights(tiny_language_model, reference) -> None:
    size = tiny_language_model.model.config.hidden_size
    keys = {
        LanguageModelScorer(tiny_language_model, reference.unigram, word_probe=probe).cache_key
        for probe in (None, random_probe(size, 1, seed=0), random_probe(size, 1, seed=1))
    }
    assert len(keys) == 3


def test_weights_for_another_model_are_refused_rather_than_read(tiny_language_model, reference) -> None:
    size = tiny_language_model.model.config.hidden_size
    for probe, reason in (
        (random_probe(size + 1, 1), "hidden size 65"),
        (random_probe(size, 3), "layer 3"),
        (WordProbe("smollm2-135m", 1, np.zeros(size, np.float32), np.zeros(size, np.float32), 0.0), "'smollm2-135m'"),
    ):
        with pytest.raises(ValueError, match=reason):
            LanguageModelScorer(tiny_language_model, reference.unigram, word_probe=probe)


def test_weights_round_trip_through_json_and_a_model_without_packaged_weights_is_named(tmp_path) -> None:
    probe = random_probe(8, 2)
    again = WordProbe.from_json(json.loads(json.dumps(probe.to_json())))
    assert again.fingerprint == probe.fingerprint and again.layer == 2 and again.flag_levels is None
    np.testing.assert_array_equal(again.after, probe.after)
    # Flag levels travel with the weights but leave the fingerprint (the features' cache key) alone.
    flagging = dataclasses.replace(probe, flag_levels=FlagLevels(1.5, 3.0))
    again = WordProbe.from_json(json.loads(json.dumps(flagging.to_json())))
    assert again.flag_levels == FlagLevels(1.5, 3.0) and again.fingerprint == probe.fingerprint
    with pytest.raises(ValueError, match="no weights for language model 'tiny-random'.*fit_word_probe"):
        WordProbe.load("tiny-random")


def test_the_packaged_weights_fit_the_default_language_model() -> None:
    config = load_config(ROOT / "configs" / "default.yaml")
    probe = WordProbe.load(config.language_model.name)
    # SmolLM2-135M: 30 layers of 576 dimensions.
    probe.check_fits(config.language_model.name, 576, 30)
    assert np.isfinite(probe.here).all() and np.isfinite(probe.after).all() and np.abs(probe.here).max() > 0
    assert probe.flag_levels is not None, "set the flag levels: training/fit_word_probe.py --flags-only"


def test_a_config_with_the_probe_needs_the_language_model_and_its_fast_model_goes_without(tmp_path, reference) -> None:
    path = tmp_path / "probe.yaml"
    path.write_text("features:\n  language_model: false\n  word_probe: true\n")
    with pytest.raises(ConfigError, match="word_probe needs features.language_model"):
        load_config(path)
    config = load_config(ROOT / "configs" / "test.yaml")
    with_probe = config.model_copy(update={"features": config.features.model_copy(update={"word_probe": True})})
    assert not fast_model_config(with_probe).features.word_probe
    # The test config's tiny model has no packaged weights: building it says so instead of scoring without them.
    with pytest.raises(ValueError, match="no weights for language model 'tiny-random'"):
        build_extractor(with_probe, reference)
