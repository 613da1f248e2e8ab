"""One tiny `xlw.train` run (test_train's copy task), for `accelerate launch` (tests/test_launch.py).

    ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2 tests/launch_train.py OUT [--resume]

Writes OUT/result.json (the main process) and OUT/writes.<rank>.txt: every file each process wrote.
"""

import argparse
import json
import os
from pathlib import Path

import torch
import transformers
from accelerate import PartialState
from test_train import copy_task, loader, tiny_marian, val_loss

from xlw.train import TrainConfig, seq2seq_loss, train


def log_writes(path: Path, rank: int) -> None:
    """Record, per process, each file torch.save, Path.write_text and save_pretrained write."""
    def record(target) -> None:
        with open(path / f"writes.{rank}.txt", "a") as f:
            f.write(f"{target}\n")

    def wrap(owner, name, target_of):
        original = getattr(owner, name)

        def wrapped(*args, **kwargs):
            record(target_of(*args, **kwargs))
            return original(*args, **kwargs)
        setattr(owner, name, wrapped)

    wrap(torch, "save", lambda obj, f, *a, **k: f)
    wrap(Path, "write_text", lambda self, *a, **k: self)
    wrap(transformers.PreTrainedModel, "save_pretrained", lambda self, folder, *a, **k: Path(folder) / "*")


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("out", type=Path)
    args.add_argument("--grad-accum", type=int, default=1)
    args.add_argument("--resume", action="store_true")
    args = args.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    log_writes(args.out, int(os.environ.get("RANK", 0)))  # before the Accelerator exists (it reads ACCELERATE_USE_CPU)
    model, val = tiny_marian(dropout=0.0), copy_task(40, seed=1)
    cfg = TrainConfig(lr=1e-2, warmup_steps=2, max_steps=4, eval_every=1, grad_accum=args.grad_accum)
    result = train(model, loader(copy_task(400)), cfg, loss_fn=seq2seq_loss(0.0), evaluate=val_loss(val),
                   output_dir=args.out / "run", resume=args.resume)
    state = PartialState()
    if state.is_main_process:
        (args.out / "result.json").write_text(json.dumps({
            "processes": state.num_processes, "steps": result.steps, "val_loss": list(result.history.val_loss),
            "lr": list(result.history.lr), "target_tokens": result.target_tokens,
            "resumed_from": result.resumed_from}))


if __name__ == "__main__":
    main()
