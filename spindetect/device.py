"""Where the language model runs, and how many tokens one batch holds there.

`runtime.device` is `auto` (the first CUDA GPU when torch sees one, else the CPU), `cpu`, `cuda` or `cuda:N`.
On the CPU the configured `batch_tokens` and `logits_chunk_rows` stand as they are: small batches are fastest
on a few cores. On a GPU they are sized from the memory free on it when the model loads, unless
`runtime.gpu_batch_tokens` fixes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

from spindetect.config import DEVICE_PATTERN
from spindetect.errors import DeviceUnavailable

# Share of the GPU's free memory one batch may take; the rest is left to the allocator's slack, other
# processes and the second pass's continuations.
GPU_MEMORY_SHARE = 0.25
# Bounds on a GPU batch: below the lower one the GPU idles between batches; above the upper one batches
# only add padding waste (paragraphs are at most `max_tokens` long, and a batch is sorted by length).
GPU_BATCH_TOKENS_RANGE = (4_096, 131_072)
# Each row of logits is a vocabulary of float32 values, held about three times over while its statistics
# are taken (the logits, their exponentials and a comparison mask).
LOGITS_COPIES = 3


@dataclass(frozen=True)
class BatchSizes:
    # Token budget of one language-model batch (rows x padded length).
    batch_tokens: int
    # Token positions whose logits are computed at once.
    logits_chunk_rows: int


def resolve_device(spec: str) -> torch.device:
    """The torch device `spec` names; DeviceUnavailable, in one line, when it names a GPU torch cannot use."""
    if not re.match(DEVICE_PATTERN, spec):
        raise DeviceUnavailable(f"device {spec!r} is not one of auto, cpu, cuda, cuda:N")
    if spec == "cpu" or (spec == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if spec == "auto":
        return torch.device("cuda", 0)
    if not torch.cuda.is_available():
        raise DeviceUnavailable(
            f"device {spec!r}: torch sees no CUDA GPU here (torch {torch.__version__}, "
            f"built {'with CUDA ' + torch.version.cuda if torch.version.cuda else 'for CPU only'}); use cpu or auto"
        )
    device = torch.device(spec)
    index = 0 if device.index is None else device.index
    if index >= torch.cuda.device_count():
        raise DeviceUnavailable(f"device {spec!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s), numbered from 0")
    return torch.device("cuda", index)


def bytes_per_token(model: torch.nn.Module) -> int:
    """An upper estimate of the GPU memory one token of a batch takes in the first pass: its keys and values in
    every layer (kept for the second pass) and the widest activations of one layer, in the weights' dtype."""
    config = model.config
    element = next(model.parameters()).element_size()
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    keys_and_values = 2 * config.num_hidden_layers * kv_heads * head_dim
    activations = 4 * config.hidden_size + 3 * config.intermediate_size
    return (keys_and_values + activations) * element


def gpu_batch_sizes(free_bytes: int, token_bytes: int, vocabulary: int) -> BatchSizes:
    """Batch sizes that use `GPU_MEMORY_SHARE` of `free_bytes`: half for the batch's tokens, half for one
    chunk of logits (float32, `LOGITS_COPIES` copies of a vocabulary per row)."""
    budget = free_bytes * GPU_MEMORY_SHARE / 2
    low, high = GPU_BATCH_TOKENS_RANGE
    batch_tokens = int(min(high, max(low, budget // token_bytes)))
    logits_rows = int(budget // (vocabulary * 4 * LOGITS_COPIES))
    return BatchSizes(batch_tokens, max(128, min(batch_tokens, logits_rows)))


def batch_sizes_for(
    device: torch.device, model: torch.nn.Module, batch_tokens: int, logits_chunk_rows: int, gpu_batch_tokens: int | None
) -> BatchSizes:
    """The configured sizes on the CPU; on a GPU, sizes from its free memory, with `gpu_batch_tokens` in place
    of the batch's share where it is set."""
    if device.type == "cpu":
        return BatchSizes(batch_tokens, logits_chunk_rows)
    free_bytes, _ = torch.cuda.mem_get_info(device)
    sizes = gpu_batch_sizes(free_bytes, bytes_per_token(model), model.get_output_embeddings().weight.shape[0])
    return sizes if gpu_batch_tokens is None else BatchSizes(gpu_batch_tokens, sizes.logits_chunk_rows)
