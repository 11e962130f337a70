"""Tests with the real SmolLM2 weights and the shipped default model (marked slow: about a minute)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from spindetect.features.language_model import load_language_model

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

    # The same size, 4 KB of the weights zeroed: only the recorded digest tells this cache is wrong.
    damaged = bytearray((converted / "model.safetensors").read_bytes())
    damaged[1 << 20 : (1 << 20) + 4096] = bytes(4096)
    (converted / "model.safetensors").unlink()
    (converted / "model.safetensors").write_bytes(bytes(damaged))
    rebuilt_again = load_language_model("smollm2-135m", cache_dir=tmp_path).model.state_dict()
    for name, tensor in weights.items():
        assert torch.equal(tensor, rebuilt_again[name]), name
    shutil.rmtree(tmp_path / "models")


def test_loading_the_model_draws_no_progress_bar_of_transformers(capfd) -> None:
    load_language_model("smollm2-135m")  # converts on first use; the load after that is what users see
    capfd.readouterr()
    load_language_model("smollm2-135m")
    assert "Loading weights" not in capfd.readouterr().err


@pytest.fixture(scope="module")
def default_detector():
    from spindetect.detector import Detector

    return Detector.load()


def _seed_results(detector):
    spun_text = (SEEDS / "spun_ap_xi_kim.txt").read_text(encoding="utf-8")
    clean_text = (SEEDS / "clean_kyodo_xi_kim.txt").read_text(encoding="utf-8")
    return detector.score([spun_text, clean_text])


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed articles in ../shared/seeds are not present")
def test_seed_articles_get_the_right_verdicts(default_detector) -> None:
    spun, clean = _seed_results(default_detector)
    assert (spun.label, clean.label) == ("spun", "clean")
    assert spun.score - clean.score > 0.3


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed articles in ../shared/seeds are not present")
@pytest.mark.xfail(
    strict=True,
    reason="not met: 3 of 16 lightly spun body paragraphs of the spun seed (0.04 to 0.35) score below the "
    "highest clean one (0.63), and one of them shows no substitution to find; training with phrase-level "
    "spins, tortured phrases and MT garble took it from 5 to 3, the bfloat16 retrain to 4, the swap-evidence "
    "features to 5, the language model's candidate gains back to 4, the span-odds features to 7, the wider "
    "candidate lists to 6, the context gains to 5, and the lexicon without ordinary English and the spinner's "
    "exact shares kept it at 5, as did the retrain with the new phrase spinner and three MT samples, and the "
    "retrain with present-day news took it to 3, and the one with WordNet spins to 5 (while their ROC-AUC went "
    "from 0.859 to 0.870: the clean seed's highest paragraph rose from 0.21 to 0.41), and the one with runs of "
    "poorly fitting words kept it at 5 (ROC-AUC 0.891, highest clean 0.32; 4 and 0.885 on a CPU without native "
    "bfloat16, which runs the model in float32), and the float32 one with the replaced-word probe took it to 3 "
    "(ROC-AUC 0.906, highest clean 0.47), and the unlisted copies of tortured paragraphs kept it at 3 (ROC-AUC "
    "0.901, highest clean 0.64), as did leaving the garbled round trips out (0.901, highest clean 0.60) and "
    "the swap test's phrases kept to adjacent words (0.891, highest clean 0.63); lightly spun paragraphs stay "
    "the hard case (issue 4)",
)
def test_every_spun_body_paragraph_outscores_every_clean_one(default_detector) -> None:
    spun, clean = _seed_results(default_detector)
    spun_scores = [p.score for p in spun.paragraphs if p.n_words >= BODY_WORDS]
    clean_scores = [p.score for p in clean.paragraphs if p.n_words >= BODY_WORDS]
    assert len(spun_scores) == 16 and len(clean_scores) == 12
    assert min(spun_scores) > max(clean_scores)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed articles in ../shared/seeds are not present")
def test_no_line_of_the_clean_seed_alone_is_labelled_spun(default_detector) -> None:
    # Each line as a record of its own, as a pipeline over headlines, captions and boilerplate would see it.
    lines = [line for line in (SEEDS / "clean_kyodo_xi_kim.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = [result.label for result in default_detector.score(lines)]
    assert "spun" not in labels and {"clean", "unjudged"} == set(labels)
