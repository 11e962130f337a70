"""runtime.device and --device: which device a spec names, batch sizes per device, and clear refusals on a
machine without the GPU asked for. The GPU paths themselves run only where torch sees one."""

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from typer.testing import CliRunner

from spindetect.cli import app
from spindetect.config import RuntimeConfig
from spindetect.detector import Detector
from spindetect.device import (
    GPU_BATCH_TOKENS_RANGE,
    BatchSizes,
    batch_sizes_for,
    bytes_per_token,
    gpu_batch_sizes,
    resolve_device,
)
from spindetect.errors import DeviceUnavailable
from spindetect.features.perplexity import LanguageModelScorer

TEXTS = [
    "The committee met on Monday to discuss the new library, which opens next spring after two years of work.",
    "Several residents said the plan would raise their taxes, while others welcomed the longer opening hours.",
]

runner = CliRunner()


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_cpu_and_auto_without_a_gpu_name_the_cpu(no_gpu) -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cpu")


def test_auto_with_a_gpu_names_the_first(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda", 0)


def test_a_gpu_torch_cannot_see_is_refused_in_one_line(no_gpu) -> None:
    with pytest.raises(DeviceUnavailable, match="torch sees no CUDA GPU here") as raised:
        resolve_device("cuda")
    assert "\n" not in str(raised.value)


def test_a_gpu_index_past_the_last_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(DeviceUnavailable, match="1 CUDA GPU"):
        resolve_device("cuda:1")


@pytest.mark.parametrize("spec", ["gpu", "cuda:", "CUDA", "cuda:x", "mps"])
def test_an_unknown_device_is_refused_by_config_and_by_resolve_device(spec) -> None:
    with pytest.raises(ValidationError):
        RuntimeConfig(device=spec)
    with pytest.raises(DeviceUnavailable, match="not one of auto, cpu, cuda, cuda:N"):
        resolve_device(spec)


def test_the_cpu_keeps_the_configured_batch_sizes(tiny_language_model) -> None:
    sizes = batch_sizes_for(torch.device("cpu"), tiny_language_model.model, 512, 128, gpu_batch_tokens=99_999)
    assert sizes == BatchSizes(512, 128)


def test_gpu_batches_grow_with_free_memory_within_their_bounds() -> None:
    vocabulary, token_bytes = 49_152, 100_000
    low, high = GPU_BATCH_TOKENS_RANGE
    free = {gib: gib << 30 for gib in (1, 8, 80)}
    sizes = {gib: gpu_batch_sizes(free[gib], token_bytes, vocabulary) for gib in free}
    assert sizes[1].batch_tokens == low
    assert sizes[1].batch_tokens <= sizes[8].batch_tokens <= sizes[80].batch_tokens <= high
    assert sizes[8].batch_tokens == int(free[8] * 0.25 / 2 // token_bytes)
    for gib, chosen in sizes.items():
        assert 128 <= chosen.logits_chunk_rows <= chosen.batch_tokens
        # a chunk of logits (three float32 copies of the vocabulary per row) fits in its half of the share
        assert chosen.logits_chunk_rows == 128 or chosen.logits_chunk_rows * vocabulary * 4 * 3 <= free[gib] * 0.25 / 2


def test_bytes_per_token_counts_keys_values_and_activations(tiny_language_model) -> None:
    config = tiny_language_model.model.config
    head_dim = config.hidden_size // config.num_attention_heads
    expected = (2 * config.num_hidden_layers * config.num_key_value_heads * head_dim + 4 * config.hidden_size + 3 * config.intermediate_size) * 4
    assert bytes_per_token(tiny_language_model.model) == expected


def test_the_scorer_runs_where_the_model_is(tiny_language_model, reference) -> None:
    assert tiny_language_model.device == torch.device("cpu")
    scorer = LanguageModelScorer(tiny_language_model, reference.unigram)
    features = scorer.score(TEXTS)
    assert features.shape == (2, len(scorer.feature_names)) and np.isfinite(features).all()


def test_detector_on_cpu_scores_as_the_default(tiny_model_dir, no_gpu) -> None:
    default = [result.score for result in Detector.load(tiny_model_dir).score(TEXTS)]
    on_cpu = [result.score for result in Detector.load(tiny_model_dir, device="cpu").score(TEXTS)]
    assert on_cpu == default


def test_detector_asked_for_a_missing_gpu_refuses(tiny_model_dir, no_gpu) -> None:
    with pytest.raises(DeviceUnavailable, match="no CUDA GPU"):
        Detector.load(tiny_model_dir, device="cuda")


def test_cli_device_errors_are_one_line(tiny_model_dir, tmp_path, no_gpu) -> None:
    article = tmp_path / "article.txt"
    article.write_text(TEXTS[0])
    typo = runner.invoke(app, ["score", "--model", str(tiny_model_dir), "--device", "gpu", str(article)])
    assert typo.exit_code == 2 and "--device 'gpu' is not one of auto, cpu, cuda, cuda:N" in typo.stderr
    missing = runner.invoke(app, ["score", "--model", str(tiny_model_dir), "--device", "cuda", str(article)])
    assert missing.exit_code == 2 and "torch sees no CUDA GPU here" in missing.stderr
    assert "Traceback" not in missing.output
    on_cpu = runner.invoke(app, ["score", "--model", str(tiny_model_dir), "--device", "cpu", str(article)])
    assert on_cpu.exit_code == 0, on_cpu.output


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_scores_agree_with_cpu_up_to_rounding(tiny_model_dir) -> None:
    on_cpu = np.array([result.score for result in Detector.load(tiny_model_dir, device="cpu").score(TEXTS)])
    on_gpu = np.array([result.score for result in Detector.load(tiny_model_dir, device="cuda").score(TEXTS)])
    np.testing.assert_allclose(on_gpu, on_cpu, atol=1e-3)
