"""Resumable notebook runs: a training run stopped half-way continues from its last checkpoint.

The report runner sets `XLW_CHECKPOINTS` to a folder named after the notebook run's fingerprint (the
notebook, the `xlw` code and settings, the data, the parameters: `xlw.provenance`). Every `xlw.train.train`
call without its own `output_dir` then keeps a resumable checkpoint in a sub-folder named by its place in
the notebook and a hash of what it trains, and a rerun of the same notebook finds it: finished runs load
their final weights at once, the interrupted one continues exactly where it stopped. The runner removes
the folder once the notebook has succeeded. Only trainable tensors are saved (a LoRA run writes its
adapter, not the frozen 270M base it was loaded with). Resuming is exact for loaders whose batch sampler
reshuffles by seed and epoch (`set_epoch`, as xlw.batching's do); a plain `shuffle=True` loader replays
only its first epoch's order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
from pathlib import Path

import torch

CHECKPOINTS_ENV = "XLW_CHECKPOINTS"  # the folder of this notebook run's checkpoints (set by the runner)
STOP_ENV = "XLW_STOP_AFTER_STEP"  # test hook: raise after the checkpoint of this step, as a crash would
CHECKPOINT_EVERY_S = 60.0  # at most one checkpoint a minute (and one at the end), so saving stays cheap

_run_numbers = itertools.count()


class InjectedStop(RuntimeError):
    """Training was stopped on purpose by `XLW_STOP_AFTER_STEP` (tests of resuming)."""


def reset_run_numbers() -> None:
    """Number training runs from 0 again (`xlw.setup` calls this: one numbering per notebook run)."""
    global _run_numbers
    _run_numbers = itertools.count()


def run_dir(model: torch.nn.Module, loader, cfg) -> Path | None:
    """The checkpoint folder of the next training run of this notebook (None without `XLW_CHECKPOINTS`).

    Named by the run's place in the notebook and a hash of its settings, the model's parameter names,
    shapes and trainability, the initial trainable values and the number of batches, so a changed run
    never resumes from another's state.
    """
    root = os.environ.get(CHECKPOINTS_ENV)
    number = next(_run_numbers)
    if not root:
        return None
    params = [(name, list(p.shape), p.requires_grad) for name, p in model.named_parameters()]
    with torch.no_grad():
        start = [float(p.double().sum()) for p in model.parameters() if p.requires_grad]
    payload = json.dumps({"cfg": dataclasses.asdict(cfg), "params": params, "start": start,
                          "batches": len(loader)}, sort_keys=True, default=str)
    return Path(root) / f"run{number:03d}-{hashlib.sha256(payload.encode()).hexdigest()[:16]}"


def save_trainable_only(accelerator) -> None:
    """Make `accelerator.save_state`/`load_state` write and read only the models' trainable tensors
    (frozen ones cannot change during training)."""
    def save(models, weights, output_dir):
        for i, (model, state) in enumerate(zip(models, weights) if accelerator.is_main_process else ()):
            trainable = {name for name, p in model.named_parameters() if p.requires_grad}
            torch.save({k: v for k, v in state.items() if k in trainable}, Path(output_dir) / f"trainable_{i}.pt")
        weights.clear()  # accelerate saves nothing more of the models

    def load(models, input_dir):
        for i, model in enumerate(models):
            state = torch.load(Path(input_dir) / f"trainable_{i}.pt", weights_only=True)
            missing = set(state) - set(model.state_dict())
            if missing:
                raise ValueError(f"checkpoint {input_dir} holds tensors the model lacks, e.g. {sorted(missing)[0]!r}")
            model.load_state_dict(state, strict=False)
        models.clear()

    accelerator.register_save_state_pre_hook(save)
    accelerator.register_load_state_pre_hook(load)


def stop_requested(step: int) -> bool:
    """Whether `XLW_STOP_AFTER_STEP` asks to stop after `step` (the loop checkpoints, then raises InjectedStop)."""
    return os.environ.get(STOP_ENV) == str(step)
