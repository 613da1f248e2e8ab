"""Making a trained model cheaper to serve on a CPU, and measuring what that costs and gains.

- `int8_dynamic`: PyTorch's dynamic quantization — every `nn.Linear` keeps int8 weights (one scale
  per tensor) and quantizes its input on the fly; embeddings and layer norms stay float32.
- `size_on_disk_mb`: the bytes of a model's `state_dict` as `torch.save` writes it (the one format
  that holds float and quantized weights alike; shared tensors are stored once).
- `sentences_per_s`: throughput at a fixed batch size, the best of a few passes after a warm-up batch.
"""

from __future__ import annotations

import copy
import tempfile
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from xlw.measure import fastest_pass_s


def int8_dynamic(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of `model` whose `nn.Linear` layers compute with int8 weights (`quantize_dynamic`), in eval mode."""
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():  # torch.ao.quantization warns that torchao will replace it
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return quantize_dynamic(copy.deepcopy(model).eval(), {torch.nn.Linear}, dtype=torch.qint8)


def size_on_disk_mb(model: torch.nn.Module) -> float:
    """MiB that `torch.save(model.state_dict())` writes."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "weights.pt"
        torch.save(model.state_dict(), path)
        return path.stat().st_size / 2**20


def batches(items: Sequence, batch_size: int) -> list[Sequence]:
    """`items` cut into consecutive batches of `batch_size` (the last may be smaller)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    return [items[i:i + batch_size] for i in range(0, len(items), batch_size)]


def sentences_per_s(run_batch: Callable[[Sequence[str]], object], texts: Sequence[str], batch_size: int,
                    repeats: int = 3) -> float:
    """Sentences per second of `run_batch` over `texts` in batches of `batch_size`: the fastest of `repeats`
    passes after one warm-up batch (as `timeit` advises: slower passes measure other load, not the code)."""
    if not texts:
        raise ValueError("texts is empty: nothing to time")
    with torch.inference_mode():
        return len(texts) / fastest_pass_s(run_batch, batches(list(texts), batch_size), repeats)
