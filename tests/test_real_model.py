"""Tests with the real SmolLM2 weights and the shipped default model (marked slow: about a minute)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from spindetect.features.language_model import load_language_model
from spindetect.segment import segment

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
BODY_WORDS = 20

pytestmark = pytest.mark.slow


def test_gguf_is_converted_once_and_a_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    first = load_language_model("smollm2-135m", cache_dir=tmp_path)
    (converted,) = (tmp_path / "models").iterdir()
    assert (converted / "model.safetensors").is_file()
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".")]  # no staging left over

    weights = {name: tensor.clone() for name, tensor in first.model.state_dict().items()}
    ids = first.encoder.encode(["The leaders met on Monday."])
    # Replace the file rather than overwrite it in place: the loaded model still maps the old one.
    (converted / "model.safetensors").unlink()
    (converted / "model.safetensors").write_bytes(b"not a safetensors file")
    rebuilt = load_language_model("smollm2-135m", cache_dir=tmp_path)
    assert ids == rebuilt.encoder.encode(["The leaders met on Monday."])
    rebuilt_weights = rebuilt.model.state_dict()
    assert weights.keys() == rebuilt_weights.keys()
    for name, tensor in weights.items():
        assert torch.equal(tensor, rebuilt_weights[name]), name
    shutil.rmtree(tmp_path / "models")


@pytest.fixture(scope="module")
def default_detector():
    from spindetect.detector import Detector

    return Detector.load()


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed articles in ../shared/seeds are not present")
def test_seed_articles_get_the_right_verdicts_and_every_spun_body_paragraph_outscores_every_clean_one(
    default_detector,
) -> None:
    spun_text = (SEEDS / "spun_ap_xi_kim.txt").read_text(encoding="utf-8")
    clean_text = (SEEDS / "clean_kyodo_xi_kim.txt").read_text(encoding="utf-8")
    spun, clean = default_detector.score([spun_text, clean_text])
    assert (spun.label, clean.label) == ("spun", "clean")

    def body_scores(text, result):
        return [p.score for p in result.paragraphs if p.n_words >= BODY_WORDS]

    spun_scores, clean_scores = body_scores(spun_text, spun), body_scores(clean_text, clean)
    assert len(spun_scores) == sum(1 for p in segment(spun_text) if p.n_words >= BODY_WORDS)
    assert min(spun_scores) > max(clean_scores)
