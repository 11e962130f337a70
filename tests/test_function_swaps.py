from dataclasses import replace
from typing import ClassVar

import numpy as np
import pytest

from spindetect.config import SpindetectConfig, load_config
from spindetect.features.extractor import build_extractor
from spindetect.features.function_swaps import (
    FUNCTION_SWAP_FEATURE_NAMES,
    MIN_FLAG_GAIN,
    REREAD_WORDS,
    FunctionWord,
    FunctionWordCandidates,
    FunctionWordProbes,
    function_swap_features,
    function_swap_flags,
    word_gains,
    words_to_reread,
)
from spindetect.features.perplexity import LM_FEATURE_NAMES, LanguageModelScorer
from spindetect.features.rescoring import continuations
from spindetect.model import TrainedModel
from spindetect.model_card import model_card
from spindetect.train import fast_model_config

from .conftest import ROOT


class _Thesaurus:
    """Moby's shape: "throughout" lists "during", which has no entry of its own; "toward" lists "towards"."""

    entries: ClassVar[dict[str, tuple[str, ...]]] = {
        "throughout": ("during", "through", "all over", "everywhere"),
        "each": ("every", "apiece"),
        "toward": ("towards", "to"),
        "after": ("behind",),
        "behind": ("after",),
    }

    def synonyms(self, word: str) -> tuple[str, ...]:
        return self.entries.get(word, ())

    def reverse(self, word: str) -> tuple[str, ...]:
        return tuple(head for head, listed in self.entries.items() if word in listed)


def test_a_function_words_candidates_are_the_function_words_moby_links_to_it_either_way() -> None:
    candidates = FunctionWordCandidates.from_thesaurus(_Thesaurus()).candidates
    assert candidates["throughout"] == ("during", "through")  # not the phrase, nor the content word
    assert candidates["during"] == ("throughout",)  # listed only, under "throughout"
    assert candidates["through"] == ("throughout",)  # one word starting another is still a swap
    assert candidates["each"] == ("every",) and candidates["every"] == ("each",)
    assert candidates["after"] == ("behind",) and candidates["behind"] == ("after",)
    # A spelling variant is not a swap, and a word with no candidate left has no entry.
    assert "toward" not in candidates and "towards" not in candidates


# "Talks went on throughout the day. During it, each side spoke" as a byte-pair tokenizer splits it: each token
# carries the space before its word.
TEXT = "Talks went on throughout the day. During it, each side spoke"
WORDS = TEXT.split(" ")
TOKEN_SPANS = []
_at = 0
for _word in WORDS:
    _start = TEXT.index(_word, _at)
    TOKEN_SPANS.append((_start - 1 if _start else 0, _start + len(_word)))
    _at = _start + len(_word)
OFFSETS = np.array(TOKEN_SPANS)
VOCABULARY = {" throughout": 1, " during": 2, " each": 3, " every": 4}


def _single_token(written: str) -> int | None:
    return VOCABULARY.get(written)


def test_the_probes_are_the_lowercase_one_token_function_words_and_their_one_token_candidates() -> None:
    probes = FunctionWordCandidates.from_thesaurus(_Thesaurus()).probes(TEXT, OFFSETS, _single_token)
    throughout, each = TEXT.index("throughout"), TEXT.index("each")
    # "During" opens a sentence (capitalised): left alone.
    assert probes.words == (FunctionWord(throughout, throughout + 10), FunctionWord(each, each + 4))
    assert probes.word_tokens.tolist() == [3, 8]
    assert probes.candidates == ("during", "every")
    assert probes.probe_words.tolist() == [0, 1]
    assert probes.tokens.tolist() == [3, 8] and probes.token_ids.tolist() == [2, 4]
    # A word that is not one token, or whose candidates are none, is not judged.
    assert FunctionWordCandidates.from_thesaurus(_Thesaurus()).probes(TEXT, OFFSETS, lambda _: None).words == ()
    # After a newline the word's token is another than the candidates' (written after a space): not judged.
    broken = TEXT.replace(" each", "\neach")
    assert FunctionWordCandidates.from_thesaurus(_Thesaurus()).probes(broken, OFFSETS, _single_token).words == (
        FunctionWord(throughout, throughout + 10),
    )


def test_a_words_gain_is_its_likeliest_candidates_advantage_in_log10() -> None:
    probes = FunctionWordCandidates.from_thesaurus(_Thesaurus()).probes(TEXT, OFFSETS, _single_token)
    surprisal = np.zeros(len(WORDS))
    surprisal[3], surprisal[8] = 12.0, 2.0
    gains, suggestions = word_gains(probes, surprisal, np.array([2.0, 4.0]))
    np.testing.assert_allclose(gains, [10.0 / np.log2(10.0), -2.0 / np.log2(10.0)])
    assert suggestions == ["during", "every"]


def test_the_words_whose_candidate_gains_most_are_read_again_and_flagged_from_their_gain() -> None:
    assert words_to_reread(np.array([0.5, 2.0, -1.0, 1.0]), ["a", "b", "c", "d"]) == [(1, "b"), (3, "d")][:REREAD_WORDS]
    assert words_to_reread(np.zeros(0), []) == []
    np.testing.assert_allclose(function_swap_features([1.0, 4.0]), [4.0, 1.0])
    np.testing.assert_allclose(function_swap_features([2.5]), [2.5, 2.5])
    np.testing.assert_allclose(function_swap_features([]), [0.0, 0.0])
    words = (FunctionWord(14, 24), FunctionWord(45, 49))
    flags = function_swap_flags(TEXT, words, [(0, "during"), (1, "every")], [MIN_FLAG_GAIN + 1.0, MIN_FLAG_GAIN - 0.5])
    assert [(flag.text, flag.reason, flag.suggestion) for flag in flags] == [("throughout", "function_word_swap", "during")]


def test_a_function_word_is_read_again_with_its_candidate_and_the_rest_of_its_sentence() -> None:
    words = (FunctionWord(TEXT.index("throughout"), TEXT.index("throughout") + 10),)
    token_ids = list(range(100, 100 + len(WORDS)))
    sentence_ends = [TEXT.index(".") + 1, len(TEXT)]
    (found,) = continuations(TEXT, token_ids, OFFSETS, words, [(0, "during")], sentence_ends, lambda s: [VOCABULARY[s]])
    # The candidate in the word's token, then "the day." as written, up to the end of its sentence.
    assert (found.span, found.first_token, found.written_tokens) == (0, 3, 3)
    assert found.token_ids == (2, 104, 105)


class _EachAsEvery(FunctionWordCandidates):
    """The tiny test model reads bytes, so no function word is one token to it: "each" is judged at its first
    byte, with the byte of "e" standing for the candidate "every"."""

    def __init__(self) -> None:
        super().__init__({"each": ("every",)})

    def probes(self, text: str, offsets: np.ndarray, single_token) -> FunctionWordProbes:
        start = text.find(" each ") + 1
        if start == 0:
            return super().probes(text, offsets, single_token)
        token = int(np.flatnonzero(offsets[:, 0] == start)[0])
        first_byte = np.array([token])
        return FunctionWordProbes(
            (FunctionWord(start, start + 4),), first_byte, np.array([0]), ("every",), first_byte, np.array([ord("e")])
        )


def test_with_the_test_scoring_appends_two_features_from_the_words_read_again(tiny_language_model, reference) -> None:
    scorer = LanguageModelScorer(tiny_language_model, reference.unigram, function_swaps=_EachAsEvery())
    texts = ["The talks went on throughout the day, and each side spoke after the other.", "Qxz 1234."]
    assert scorer.feature_names == LM_FEATURE_NAMES + FUNCTION_SWAP_FEATURE_NAMES
    scored = scorer._scored(texts)
    assert scored[0].function_reread == ((0, "every"),)
    (gain,) = scored[0].function_gains
    assert np.isfinite(gain) and gain != 0.0
    assert scored[1].function_words == () and scored[1].function_gains == ()
    features = scorer.score(texts)
    named = dict(zip(scorer.feature_names, features[0], strict=True))
    assert (named["lm_function_swap_gain_max"], named["lm_function_swap_gain_second"]) == pytest.approx((gain, gain))
    np.testing.assert_allclose(features[1, -2:], [0.0, 0.0])
    # The other features are those of a scorer without the test; its features are cached apart.
    without = LanguageModelScorer(tiny_language_model, reference.unigram)
    np.testing.assert_allclose(features[:, : len(LM_FEATURE_NAMES)], without.score(texts), rtol=1e-5, atol=1e-5)
    assert without.cache_key != scorer.cache_key


def test_a_config_with_the_test_builds_it_the_card_names_it_and_its_fast_model_is_valid(reference, tiny_model_dir) -> None:
    config = load_config(ROOT / "configs" / "test.yaml")
    with_test = config.model_copy(update={"features": config.features.model_copy(update={"function_word_swaps": True})})
    scorer = build_extractor(with_test, reference).family(LanguageModelScorer)
    assert scorer.function_swaps is not None and scorer.feature_names[-2:] == FUNCTION_SWAP_FEATURE_NAMES
    assert build_extractor(config, reference).family(LanguageModelScorer).function_swaps is None
    model = TrainedModel.load(tiny_model_dir)
    assert "function-word swap test" not in model_card(model)
    assert "function-word swap test" in model_card(replace(model, config=with_test))
    fast = SpindetectConfig.model_validate(fast_model_config(with_test).model_dump())
    assert not fast.features.language_model and not fast.features.function_word_swaps
    with pytest.raises(ValueError, match="function_word_swaps needs features.language_model"):
        SpindetectConfig.model_validate(
            {**config.model_dump(), "features": {"language_model": False, "function_word_swaps": True}}
        )
