"""A task-agnostic training loop on 🤗 Accelerate, shared by every notebook that trains.

    result = train(model, loader, TrainConfig(lr=7e-4, max_minutes=18), loss_fn=seq2seq_loss(0.1),
                   evaluate=lambda m: {"bleu": ...}, metric="bleu", mode="max", output_dir=path)

Accelerate supplies the device placement, mixed precision (`bf16`/`fp16` on a GPU), gradient
accumulation and multi-GPU (`accelerate launch` runs the same code). The loop adds what a
research notebook needs around it: AdamW with warmup and decay, gradient clipping, periodic
validation, early stopping on the best validation score, best-checkpoint keeping, resuming, a
time budget, tqdm progress and the history as a DataFrame.
"""

from __future__ import annotations

import copy
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import gather_object, set_seed
from tqdm.auto import tqdm
from transformers import get_scheduler

from xlw.checkpoints import CHECKPOINT_EVERY_S, InjectedStop, run_dir, save_trainable_only, stop_requested
from xlw.env import progress_enabled

LossFn = Callable[[torch.nn.Module, dict[str, torch.Tensor]], torch.Tensor]
EvalFn = Callable[[torch.nn.Module], dict[str, float]]
SCHEDULES = ("inverse_sqrt", "linear", "cosine", "constant_with_warmup")


@dataclass
class TrainConfig:
    """Optimisation and bookkeeping settings of one training run."""

    lr: float = 5e-4
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.98)
    warmup_steps: int = 400
    schedule: str = "inverse_sqrt"
    max_steps: int = 10_000
    max_epochs: int = 1_000
    max_minutes: float | None = None  # wall-clock budget; training stops after the step that passes it
    grad_accum: int = 1
    clip_norm: float | None = 1.0
    eval_every: int = 500  # optimizer steps between validations (and checkpoints)
    patience: int | None = None  # validations without improvement before stopping early
    mixed_precision: str = "no"  # "bf16" or "fp16" on a GPU
    seed: int = 0

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule {self.schedule!r} is unknown: expected one of {', '.join(SCHEDULES)}")
        for name in ("lr", "max_steps", "grad_accum", "eval_every"):
            if not getattr(self, name) > 0:
                raise ValueError(f"TrainConfig.{name} must be positive, got {getattr(self, name)!r}")


@dataclass
class TrainResult:
    """What a training run produced: its history and the best validation score and step."""

    history: pd.DataFrame
    steps: int
    best_score: float | None
    best_step: int | None
    elapsed_s: float
    target_tokens: int
    resumed_from: int = 0  # the step a resumed run's checkpoint had reached (0: trained from the start)

    @property
    def tokens_per_s(self) -> float:
        """Real (non-padding) target tokens trained on per second of training."""
        return self.target_tokens / self.elapsed_s if self.elapsed_s else 0.0


def default_loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The loss a 🤗 model computes itself when the batch holds `labels`."""
    return model(**batch).loss


def seq2seq_loss(label_smoothing: float = 0.0) -> LossFn:
    """Token-mean cross-entropy over non-padding labels (-100), with label smoothing (see 01_math).

    When the vocabulary's last id is `<pad>` (OPUS-MT's Marian layout, and xlw's), it is left out of the
    softmax, as Marian's own vocabulary lacks it: no target is ever `<pad>`, and its row of the tied embeddings
    then stays zero, the vector Marian's decoder starts from (and CTranslate2 assumes)."""
    def loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        inputs = {k: v for k, v in batch.items() if k != "labels"}  # labels would make the model compute a 2nd loss
        logits = model(**inputs).logits
        if getattr(getattr(model, "module", model).config, "pad_token_id", None) == logits.size(-1) - 1:
            logits = logits[..., :-1]  # DDP wraps the model in `.module`
        return F.cross_entropy(logits.flatten(0, 1).float(), batch["labels"].flatten(),
                               ignore_index=-100, label_smoothing=label_smoothing)
    return loss


def target_tokens(batch: dict[str, torch.Tensor]) -> int:
    """Real target tokens in a batch: token labels that are not -100, else attended input tokens (all masks)."""
    if "labels" in batch and batch["labels"].dim() > 1:
        return int((batch["labels"] != -100).sum())
    masks = [v for k, v in batch.items() if k.endswith("attention_mask")]  # pair batches: src_… and tgt_…
    return sum(int(m.sum()) for m in masks) if masks else batch["input_ids"].numel()


def is_better(score: float, best: float | None, mode: str) -> bool:
    """Whether `score` improves on `best` ('max': higher is better, 'min': lower)."""
    return best is None or (score > best if mode == "max" else score < best)


def agreed(flag: bool) -> bool:
    """`flag` of any process, on every process: under `accelerate launch` all of them stop or save together."""
    return any(gather_object([flag]))


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW over the trainable parameters; biases and norms are not decayed (as in BERT and most recipes)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if p.ndim < 2 or "norm" in name.lower() else decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=cfg.betas)


def train(model: torch.nn.Module, loader: torch.utils.data.DataLoader, cfg: TrainConfig,
          loss_fn: LossFn = default_loss, evaluate: EvalFn | None = None, metric: str = "loss",
          mode: str = "min", output_dir: Path | None = None, resume: bool = False,
          on_step: Callable[[int], None] | None = None) -> TrainResult:
    """Train `model` on `loader`, validating every `cfg.eval_every` steps; returns it in eval mode, best weights in.

    `on_step(step)` runs after each optimizer step, before the gradients are cleared (AdaLoRA's
    rank allocation reads them there). A run without `output_dir` or `evaluate` is checkpointed and resumed
    automatically when the report runner asks for it (`xlw.checkpoints`).
    """
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    auto_dir = run_dir(model, loader, cfg) if output_dir is None and evaluate is None else None
    set_seed(cfg.seed)
    # The scheduler steps once per optimizer step, as `max_steps` and `warmup_steps` count them; accelerate's
    # default would step it once per process and so run the schedule N times faster under N processes.
    accelerator = Accelerator(mixed_precision=cfg.mixed_precision, gradient_accumulation_steps=cfg.grad_accum,
                              step_scheduler_with_optimizer=False)
    save_trainable_only(accelerator)
    optimizer = make_optimizer(model, cfg)
    scheduler = get_scheduler(cfg.schedule, optimizer, num_warmup_steps=cfg.warmup_steps,
                              num_training_steps=cfg.max_steps)
    model, optimizer, prepared_loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)

    state = {"step": 0, "epoch": 0, "batches_in_epoch": 0, "best_score": None, "best_step": None,
             "target_tokens": 0, "elapsed_s": 0.0, "history": [], "stale_evals": 0, "finished": False}
    last_dir = Path(output_dir) / "last" if output_dir else auto_dir
    resume = resume or auto_dir is not None
    restore_pending = bool(resume and last_dir and (last_dir / "trainer_state.json").exists())
    if restore_pending:
        state = {"finished": False, **json.loads((last_dir / "trainer_state.json").read_text())}
    resumed_from = state["step"]
    best_weights, last_save = None, time.perf_counter()

    def checkpoint() -> None:
        """Save the resumable state; an automatic one at most every CHECKPOINT_EVERY_S (and at the end)."""
        nonlocal last_save
        due = (auto_dir is None or state["finished"] or stop_requested(state["step"])
               or agreed(time.perf_counter() - last_save >= CHECKPOINT_EVERY_S))
        if last_dir and due:
            accelerator.save_state(str(last_dir), safe_serialization=False)  # safetensors rejects tied weights
            if accelerator.is_main_process:  # every process saves its RNG state above; one writes the rest
                (last_dir / "trainer_state.json").write_text(json.dumps(state))
            accelerator.wait_for_everyone()
            last_save = time.perf_counter()

    def validate() -> bool:
        """Evaluate, log, keep the best weights and a resumable checkpoint; True to stop early."""
        nonlocal best_weights
        model.eval()
        with torch.no_grad():
            scores = evaluate(accelerator.unwrap_model(model)) if evaluate else {}
        model.train()
        row = {"step": state["step"], "epoch": state["epoch"], "elapsed_s": round(state["elapsed_s"], 1),
               **{f"val_{k}": v for k, v in scores.items()}}
        state["history"].append(row)
        score = scores.get(metric)
        if score is not None and is_better(score, state["best_score"], mode):
            state.update(best_score=score, best_step=state["step"], stale_evals=0)
            unwrapped = accelerator.unwrap_model(model)
            if output_dir:
                if accelerator.is_main_process:
                    unwrapped.save_pretrained(Path(output_dir) / "best")
                accelerator.wait_for_everyone()
            else:
                best_weights = copy.deepcopy(unwrapped.state_dict())
        elif score is not None:
            state["stale_evals"] += 1
        checkpoint()
        return cfg.patience is not None and state["stale_evals"] >= cfg.patience

    model.train()
    progress = tqdm(total=cfg.max_steps, initial=state["step"], desc="train", unit="step",
                    disable=not progress_enabled())
    window = {"loss": 0.0, "batches": 0}
    # An automatic checkpoint's run has these very settings: if it had finished (even by the time budget),
    # so has this one. An explicit resume may continue under new settings, e.g. a longer budget.
    done = (auto_dir is not None and state["finished"]) or state["step"] >= cfg.max_steps
    while not done and state["epoch"] < cfg.max_epochs:
        if hasattr(loader.batch_sampler, "set_epoch"):
            loader.batch_sampler.set_epoch(state["epoch"])
        batches = iter(accelerator.skip_first_batches(prepared_loader, state["batches_in_epoch"]))
        if restore_pending:
            # Restore weights, optimizer and RNG only after the first batch is fetched: starting a
            # DataLoader iterator draws from torch's RNG, which the uninterrupted run did before the stop.
            first = next(batches, None)
            accelerator.load_state(str(last_dir))
            batches = itertools.chain([] if first is None else [first], batches)
            restore_pending = False
        tic = time.perf_counter()
        for batch in batches:
            with accelerator.accumulate(model):
                loss = loss_fn(model, batch)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"loss is {loss.item()} at step {state['step']}: lower TrainConfig.lr "
                                             "or check the batch for empty targets")
                accelerator.backward(loss)
                if accelerator.sync_gradients and cfg.clip_norm:
                    accelerator.clip_grad_norm_(model.parameters(), cfg.clip_norm)
                optimizer.step()
                if accelerator.sync_gradients:
                    scheduler.step()
                if on_step is not None and accelerator.sync_gradients:
                    on_step(state["step"] + 1)
                optimizer.zero_grad()
            state["batches_in_epoch"] += 1
            state["target_tokens"] += target_tokens(batch)
            window["loss"] += loss.item()
            window["batches"] += 1
            if not accelerator.sync_gradients:
                continue
            state["step"] += 1
            now = time.perf_counter()
            state["elapsed_s"] += now - tic
            tic = now
            progress.update(1)
            progress.set_postfix(loss=f"{window['loss'] / window['batches']:.3f}",
                                 tok_s=f"{state['target_tokens'] / state['elapsed_s']:.0f}")
            out_of_time = cfg.max_minutes is not None and agreed(state["elapsed_s"] >= 60 * cfg.max_minutes)
            done = state["step"] >= cfg.max_steps or out_of_time
            if state["step"] % cfg.eval_every == 0 or done:
                mean_loss = accelerator.reduce(torch.tensor(window["loss"] / window["batches"]), "mean")
                state["history"].append({"step": state["step"], "epoch": state["epoch"],
                                         "train_loss": float(mean_loss),
                                         "lr": scheduler.get_last_lr()[0]})
                window = {"loss": 0.0, "batches": 0}
                state["finished"] = done
                done = validate() or done
                if stop_requested(state["step"]):
                    raise InjectedStop(f"training stopped after step {state['step']} (a test's crash)")
                tic = time.perf_counter()  # validation time is not training time
            if done:
                break
        else:
            state["epoch"] += 1
            state["batches_in_epoch"] = 0
    progress.close()
    if restore_pending:  # the run had finished before: its final state is the result
        accelerator.load_state(str(last_dir))

    unwrapped = accelerator.unwrap_model(model)
    if output_dir and state["best_step"] is not None:
        best = type(unwrapped).from_pretrained(Path(output_dir) / "best")
        unwrapped.load_state_dict(best.state_dict())
    elif best_weights is not None:
        unwrapped.load_state_dict(best_weights)
    unwrapped.eval()
    history = pd.DataFrame(state["history"])
    if not history.empty:  # one row per validation: train rows and val rows share a step
        history = history.groupby("step", as_index=False).first()
    return TrainResult(history=history, steps=state["step"], best_score=state["best_score"],
                       best_step=state["best_step"], elapsed_s=state["elapsed_s"],
                       target_tokens=int(accelerator.reduce(torch.tensor(state["target_tokens"]), "sum")),
                       resumed_from=resumed_from)
