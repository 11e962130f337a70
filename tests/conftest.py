"""Shared fixtures: the real n-gram reference, the tiny random language model, and a tiny trained model."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from spindetect.config import SpindetectConfig, load_config
from spindetect.features.language_model import CausalLanguageModel, build_tiny_random_model
from spindetect.features.resources import NGramReference

ROOT = Path(__file__).resolve().parents[1]
BROWN_SAMPLE = ROOT / "tests" / "data" / "brown"
WORDNET_SAMPLE = ROOT / "tests" / "data" / "wordnet"
SHARED = ROOT.parent / "shared"


def load_training_script(name: str) -> ModuleType:
    """A script of `training/` as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "training" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_training_config() -> SpindetectConfig:
    """configs/test.yaml with the second spinner on the made-up WordNet database (the real one is a Debian
    package the tests do not need)."""
    config = load_config(ROOT / "configs" / "test.yaml")
    wordnet_spin = config.data.wordnet_spin.model_copy(update={"enabled": True, "directory": WORDNET_SAMPLE})
    return config.model_copy(update={"data": config.data.model_copy(update={"wordnet_spin": wordnet_spin})})


@pytest.fixture(scope="session")
def reference() -> NGramReference:
    return NGramReference.load()


@pytest.fixture(scope="session")
def tiny_language_model() -> CausalLanguageModel:
    return build_tiny_random_model()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained by `tiny_training_config` on the vendored Brown sample, with the tiny random LM."""
    from spindetect.synth.dataset import CorpusLocations
    from spindetect.train import train_model

    output = tmp_path_factory.mktemp("tiny-model")
    train_model(tiny_training_config(), output, CorpusLocations(brown_dir=BROWN_SAMPLE), cache_dir=tmp_path_factory.mktemp("cache"))
    return output
