import logging
import math

import numpy as np
import pytest
import torch

from spindetect.features import language_model as language_model_module
from spindetect.features.language_model import load_language_model
from spindetect.features.perplexity import (
    LM_FEATURE_NAMES,
    LanguageModelScorer,
    TokenStatistics,
    WordFits,
    paragraph_lm_features,
    run_fits,
    span_word_fits,
    swap_evidence,
    unexpected_words,
    word_fits,
)
from spindetect.features.swap import SwapTestResult

TEXTS = [
    "The council approved the budget on Tuesday.",
    "Officials said the work would begin in the spring and take about eight months to finish.",
    "Short.",
    "A much longer paragraph " * 12,
    "Ünïcödé text — with dashes and “quotes”.",
]


def test_a_random_model_is_about_as_surprised_as_a_uniform_guess(tiny_language_model, reference) -> None:
    stats = LanguageModelScorer(tiny_language_model, reference.unigram).token_statistics(TEXTS)
    mean_surprisal = np.concatenate([s.surprisal for s in stats]).mean()
    # A randomly initialised model over 257 byte tokens is close to uniform: log2(257) ~ 8.0 bits.
    assert mean_surprisal == pytest.approx(math.log2(257), abs=0.5)
    for text, stat in zip(TEXTS, stats, strict=True):
        assert stat.surprisal.shape == stat.rank.shape == stat.entropy.shape == (len(text.encode()),)
        assert (stat.rank >= 0).all() and (stat.rank < 257).all()


def test_scores_do_not_depend_on_batching_order_or_logit_chunking(tiny_language_model, reference) -> None:
    one_by_one = LanguageModelScorer(tiny_language_model, reference.unigram, batch_tokens=64, logits_chunk_rows=7)
    all_at_once = LanguageModelScorer(tiny_language_model, reference.unigram, batch_tokens=100_000, logits_chunk_rows=10_000)
    reversed_scores = all_at_once.score(TEXTS[::-1])[::-1]
    np.testing.assert_allclose(one_by_one.score(TEXTS), all_at_once.score(TEXTS), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(all_at_once.score(TEXTS), reversed_scores, rtol=1e-4, atol=1e-4)


def test_entropy_bounds_and_rank_buckets_add_up(tiny_language_model, reference) -> None:
    scorer = LanguageModelScorer(tiny_language_model, reference.unigram)
    features = scorer.score(TEXTS)
    assert features.shape == (len(TEXTS), len(LM_FEATURE_NAMES))
    buckets = [LM_FEATURE_NAMES.index(name) for name in ("lm_rank_top10", "lm_rank_top100", "lm_rank_top1000", "lm_rank_beyond1000")]
    np.testing.assert_allclose(features[:, buckets].sum(axis=1), 1.0)
    for stat in scorer.token_statistics(TEXTS):
        assert (stat.entropy <= math.log2(257) + 1e-6).all() and (stat.entropy >= 0).all()


def test_long_texts_are_truncated_and_say_so(tiny_language_model, reference) -> None:
    scorer = LanguageModelScorer(tiny_language_model, reference.unigram, max_tokens=32)
    short, long = scorer.token_statistics(["tiny", "x" * 100])
    assert not short.truncated and long.truncated
    assert long.surprisal.size == 31  # the start token is not scored


def test_progress_counts_every_text_once(tiny_language_model, reference) -> None:
    seen = []
    LanguageModelScorer(tiny_language_model, reference.unigram, batch_tokens=64).score(TEXTS, progress=seen.append)
    assert sum(seen) == len(TEXTS) and len(seen) > 1


def test_no_texts_and_empty_statistics_give_zero_rows(tiny_language_model, reference) -> None:
    assert LanguageModelScorer(tiny_language_model, reference.unigram).score([]).shape == (0, len(LM_FEATURE_NAMES))
    empty = TokenStatistics(np.zeros(0), np.zeros(0, dtype=int), np.zeros(0), np.zeros((0, 2), dtype=int), False)
    assert not paragraph_lm_features(empty).any()


def test_token_offsets_point_at_the_scored_characters(tiny_language_model, reference) -> None:
    text = "Ünï — ok"
    (stats,) = LanguageModelScorer(tiny_language_model, reference.unigram).token_statistics([text])
    # Byte tokens: every byte of a character carries that character's span.
    assert [text[start:end] for start, end in stats.offsets] == [c for c in text for _ in c.encode()]


def test_word_fit_is_lm_log_probability_minus_base_rate() -> None:
    text = "A the cat"
    # "A" is the opening word (not judged); two tokens per word after it: 3 + 1 bits for "the", 10 + 6 for "cat".
    stats = TokenStatistics(
        np.array([20.0, 3.0, 1.0, 10.0, 6.0]),
        np.zeros(5, dtype=int),
        np.zeros(5),
        np.array([[0, 1], [1, 4], [4, 5], [5, 7], [7, 9]]),
        False,
    )
    frequencies = {"a": -1.5, "the": -1.0, "cat": -4.0}
    fits = word_fits(stats, text, frequencies.get)
    np.testing.assert_allclose(fits.fits, [-4.0 + math.log2(10), -16.0 + 4 * math.log2(10)])
    assert fits.spans == [(2, 5), (6, 9)]


def test_unexpected_words_flags_poorly_fitting_lowercase_words_only() -> None:
    text = "He met Smith and the cat"
    fits = WordFits(np.array([-9.0, -12.0, -1.0, -8.0]), [(3, 6), (7, 12), (17, 20), (21, 24)])
    flagged = unexpected_words(text, fits, max_bits=-7.0)
    # "Smith" fits worse still, but capitalised words are names; "the" fits well enough.
    assert [(span.text, span.reason) for span in flagged] == [("met", "unexpected_word"), ("cat", "unexpected_word")]
    assert flagged[0].start == 3 and flagged[0].end == 6
    assert 0 < flagged[1].strength < flagged[0].strength <= 1


def test_bfloat16_scores_close_to_float32_and_is_cached_apart(reference, monkeypatch) -> None:
    monkeypatch.setattr(language_model_module, "native_bfloat16", lambda device: True)
    exact = LanguageModelScorer(load_language_model("tiny-random"), reference.unigram)
    halved = LanguageModelScorer(load_language_model("tiny-random", precision="bfloat16"), reference.unigram)
    assert next(halved.language_model.model.parameters()).dtype == torch.bfloat16
    exact_bits = np.concatenate([s.surprisal for s in exact.token_statistics(TEXTS)])
    halved_bits = np.concatenate([s.surprisal for s in halved.token_statistics(TEXTS)])
    assert halved_bits.dtype == np.float64 and np.isfinite(halved_bits).all()
    assert np.abs(halved_bits - exact_bits).mean() < 0.05
    assert halved.cache_key != exact.cache_key
    # A model trained in one precision may score in the other: the features' definition leaves precision out.
    assert halved.definition == exact.definition


def test_bfloat16_on_a_cpu_without_it_runs_in_float32_and_says_so(reference, monkeypatch, caplog) -> None:
    monkeypatch.setattr(language_model_module, "native_bfloat16", lambda device: False)
    with caplog.at_level(logging.WARNING, logger=language_model_module.logger.name):
        fallen_back = load_language_model("tiny-random", precision="bfloat16")
    assert "runs in float32" in caplog.text
    assert fallen_back.precision == "float32" and next(fallen_back.model.parameters()).dtype == torch.float32
    exact = LanguageModelScorer(load_language_model("tiny-random"), reference.unigram)
    assert LanguageModelScorer(fallen_back, reference.unigram).cache_key == exact.cache_key  # float32 rows, shared


def test_an_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="precision"):
        load_language_model("tiny-random", precision="float8")


def test_swap_evidence_adds_the_gain_the_spans_misfit_and_half_the_next_words() -> None:
    # "kept bureau of trade": words at 0-4, 5-11, 12-14, 15-20.
    fits = WordFits(np.array([1.0, -6.0, -2.0, 3.0]), [(0, 4), (5, 11), (12, 14), (15, 20)])
    swaps = [
        SwapTestResult(5, 11, "office", gain=2.5, fit=-3.0),  # misfits 6 bits; the next word 2 bits
        SwapTestResult(15, 20, "commerce", gain=-1.0, fit=0.5),  # fits well, nothing after it
        SwapTestResult(0, 4, "held", gain=0.0, fit=0.0),  # fits better here than in general: no misfit
    ]
    inside, after = span_word_fits(fits, swaps)
    np.testing.assert_array_equal(inside, [-6.0, 3.0, 1.0])
    np.testing.assert_array_equal(after, [-2.0, 0.0, -6.0])
    np.testing.assert_allclose(swap_evidence(swaps, inside, after), [2.5 + 6.0 + 0.5 * 2.0, -1.0, 0.0 + 0.0 + 0.5 * 6.0])
    assert swap_evidence([], *span_word_fits(fits, [])).size == 0


def test_the_swap_evidence_and_candidate_gain_features_are_their_two_highest_values(tiny_language_model, reference) -> None:
    (stats,) = LanguageModelScorer(tiny_language_model, reference.unigram).token_statistics(TEXTS[:1])
    features = paragraph_lm_features(stats, np.zeros(0), np.array([0.5, 7.0, 3.0]), np.array([-1.0, 2.5]))
    highest = LM_FEATURE_NAMES.index("lm_swap_evidence_max")
    assert features[highest] == 7.0 and features[LM_FEATURE_NAMES.index("lm_swap_evidence_second")] == 3.0
    assert features[LM_FEATURE_NAMES.index("lm_candidate_gain_max")] == 2.5
    assert features[LM_FEATURE_NAMES.index("lm_candidate_gain_second")] == -1.0
    assert not paragraph_lm_features(stats, np.zeros(0))[highest]


def test_word_run_fits_sum_consecutive_words_and_their_lowest_runs_are_features(tiny_language_model, reference) -> None:
    fits = np.array([1.0, -3.0, -4.0, 0.5, -6.0, 2.0])
    np.testing.assert_array_equal(run_fits(fits, 2), [-2.0, -7.0, -3.5, -5.5, -4.0])
    np.testing.assert_array_equal(run_fits(fits, 4), [-5.5, -12.5, -7.5])
    np.testing.assert_array_equal(run_fits(fits[:2], 3), [-2.0])  # fewer words than the run: all of them
    (stats,) = LanguageModelScorer(tiny_language_model, reference.unigram).token_statistics(TEXTS[:1])
    features = dict(zip(LM_FEATURE_NAMES, paragraph_lm_features(stats, fits)))
    assert (features["lm_word_pair_fit_min"], features["lm_word_pair_fit_second_min"]) == (-7.0, -5.5)
    assert features["lm_word_triple_fit_min"] == -9.5 and features["lm_word_quad_fit_min"] == -12.5
    empty = dict(zip(LM_FEATURE_NAMES, paragraph_lm_features(stats, np.zeros(0))))
    assert empty["lm_word_pair_fit_min"] == empty["lm_word_quad_fit_min"] == 0.0


def test_a_model_cache_whose_bytes_changed_at_the_same_size_is_refused(tmp_path) -> None:
    from spindetect.features.language_model import CacheMismatch, read_verified_marker, write_cache_marker

    weights = tmp_path / "model.safetensors"
    weights.write_bytes(bytes(range(256)) * 64)
    (tmp_path / "config.json").write_text("{}")
    write_cache_marker(tmp_path, {"bos_token": "<s>"})
    assert read_verified_marker(tmp_path)["bos_token"] == "<s>"

    flipped = bytearray(weights.read_bytes())
    flipped[4096:8192] = bytes(4096)
    weights.write_bytes(bytes(flipped))
    with pytest.raises(CacheMismatch, match="model.safetensors"):
        read_verified_marker(tmp_path)

    (tmp_path / "spindetect-cache.json").write_text('{"bos_token": "<s>"}')  # an older cache, without digests
    with pytest.raises(CacheMismatch, match="no file digests"):
        read_verified_marker(tmp_path)
