"""What a model costs: peak memory while a block runs, size on disk, training tokens per second."""

from __future__ import annotations

import ctypes
import gc
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psutil
import torch


def _release_freed_memory() -> None:
    """Collect garbage and let glibc hand freed heap pages back, so RSS starts from what is really in use."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows): RSS is then only an upper bound
        pass


_PROC_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_mb(field: str) -> float:
    """A memory field of /proc/self/status (VmRSS: resident now, VmHWM: its high-water mark), in MiB."""
    for line in _PROC_STATUS.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(f"{_PROC_STATUS} has no {field} line")


def _reset_peak_rss() -> bool:
    """Reset the kernel's record of peak resident memory (Linux ≥ 4.0); False where that cannot be done."""
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


@contextmanager
def peak_memory(device: torch.device, interval_s: float = 0.01) -> Iterator[dict[str, float]]:
    """Yield a dict that gets `peak_mb`: the most memory the block used above what was in use when it began.

    On CUDA that is the caching allocator's peak (`torch.cuda.max_memory_allocated`); on Linux the
    kernel's exact high-water mark of resident memory (VmHWM, reset on entry); elsewhere the resident
    set size sampled every `interval_s` seconds, which can miss peaks shorter than that.
    """
    result: dict[str, float] = {}
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
        yield result
        torch.cuda.synchronize(device)
        result["peak_mb"] = (torch.cuda.max_memory_allocated(device) - start) / 2**20
        return
    _release_freed_memory()
    if _reset_peak_rss():
        start_mb = _status_mb("VmRSS")
        yield result
        result["peak_mb"] = _status_mb("VmHWM") - start_mb
        return
    process = psutil.Process()
    start = peak = process.memory_info().rss
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(interval_s):
            peak = max(peak, process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        stop.set()
        sampler.join()
        result["peak_mb"] = (max(peak, process.memory_info().rss) - start) / 2**20


def folder_mb(folder: Path) -> float:
    """Total size of the files under `folder`, in MiB."""
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file()) / 2**20


def saved_size_mb(model) -> float:
    """Size on disk of what `model.save_pretrained` writes (for a peft model: the adapter and trained head only)."""
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        return folder_mb(Path(folder))


def fastest_pass_s(step: Callable[[object], object], items: Sequence, repeats: int) -> float:
    """Seconds of the fastest of `repeats` passes of `step` over `items`, after one warm-up call on the first
    (first calls allocate and pick kernels; as `timeit` advises, slower passes measure other load, not the code)."""
    if not items:
        raise ValueError("nothing to time: no items")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    step(items[0])
    best = float("inf")
    for _ in range(repeats):
        tic = time.perf_counter()
        for item in items:
            step(item)
        best = min(best, time.perf_counter() - tic)
    return best


def training_tokens_per_s(model: torch.nn.Module, batches: Sequence[dict[str, torch.Tensor]], loss_fn,
                          repeats: int = 2) -> float:
    """Attended tokens per second of `loss_fn`'s forward and backward over `batches` (gradients cleared after
    each, no optimizer step): the fastest of `repeats` passes after one warm-up batch."""
    if not batches:
        raise ValueError("batches is empty: nothing to time")
    tokens = sum(int(b["attention_mask"].sum()) for b in batches)
    was_training = model.training
    model.train()

    def step(batch: dict[str, torch.Tensor]) -> None:
        loss_fn(model, batch).backward()
        model.zero_grad(set_to_none=True)

    seconds = fastest_pass_s(step, batches, repeats)
    model.train(was_training)
    return tokens / seconds
