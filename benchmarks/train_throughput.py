"""Training throughput of the xlw loop vs 🤗 Seq2SeqTrainer: same model, data and batch budget, one run.

    .venv/bin/python benchmarks/train_throughput.py --steps 150

Both train a fresh copy of the same from-scratch Marian (same seed) on Multi30k en→de with AdamW,
label smoothing 0.1 and gradient clipping. xlw batches by a token budget (length-bucketed); the
Trainer gets the same mean number of sentences per batch with its `group_by_length` sampler, its own
answer to padding. Printed: real (non-padding) and padded target tokens per second over all steps,
timed from the first step's start to the last step's end (xlw's own clock excludes validation).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch
from transformers import DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments, TrainerCallback

import xlw
from xlw.batching import seq2seq_loader
from xlw.corpora import load_multi30k
from xlw.models import new_marian
from xlw.tokenization import train_tokenizer
from xlw.train import TrainConfig, seq2seq_loss, train


class TokenCounter:
    """A collator wrapper that counts real and padded target tokens of every batch it makes."""

    def __init__(self, collate):
        self.collate, self.real, self.padded = collate, [], []

    def __call__(self, examples):
        batch = self.collate(examples)
        self.real.append(int((batch["labels"] != -100).sum()))
        self.padded.append(batch["labels"].numel())
        return batch


class StepClock(TrainerCallback):
    """Records when the first optimizer step starts and when each one ends."""

    def __init__(self):
        self.start, self.end = None, None

    def on_step_begin(self, args, state, control, **kwargs):
        self.start = self.start or time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.end = time.perf_counter()


def main() -> None:
    """Run both trainers for the same number of steps and print their throughput."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--max-tokens", type=int, default=1200)
    args = parser.parse_args()
    xlw.setup(profile="cpu", seed=0, notebook="03_translation")
    data = load_multi30k("train", "en", "de")
    tokenizer = train_tokenizer(list(data["src"]) + list(data["tgt"]), vocab_size=8000, model_max_length=256)
    sizes = {"d_model": 256, "layers": 3, "heads": 4, "ffn_dim": 512, "dropout": 0.1}

    torch.manual_seed(0)
    model = new_marian(tokenizer, **sizes)
    loader = seq2seq_loader(data, tokenizer, model, args.max_tokens, seed=0)
    counter = TokenCounter(loader.collate_fn)
    loader.collate_fn = counter
    cfg = TrainConfig(lr=1e-3, warmup_steps=100, max_steps=args.steps, eval_every=args.steps)
    result = train(model, loader, cfg, loss_fn=seq2seq_loss(0.1))
    xlw_rate = report("xlw loop", counter, result.elapsed_s, args.steps)

    torch.manual_seed(0)
    model = new_marian(tokenizer, **sizes)
    encoded = loader.dataset  # the same tokenized pairs the xlw loader drew its batches from
    batch_size = round(np.mean([len(b) for b in loader.batch_sampler]))
    counter = TokenCounter(DataCollatorForSeq2Seq(tokenizer, model=model))
    step_clock = StepClock()
    with tempfile.TemporaryDirectory() as out:
        trainer_args = Seq2SeqTrainingArguments(
            output_dir=out, per_device_train_batch_size=batch_size, max_steps=args.steps, learning_rate=1e-3,
            warmup_steps=100, lr_scheduler_type="inverse_sqrt", adam_beta2=0.98, label_smoothing_factor=0.1,
            max_grad_norm=1.0, train_sampling_strategy="group_by_length", save_strategy="no", report_to=[],
            logging_strategy="no",
            disable_tqdm=True, dataloader_num_workers=0, seed=0, use_cpu=not torch.cuda.is_available())
        Seq2SeqTrainer(model=model, args=trainer_args, train_dataset=encoded, data_collator=counter,
                       callbacks=[step_clock]).train()
    trainer_rate = report(f"Seq2SeqTrainer (batch {batch_size})", counter, step_clock.end - step_clock.start,
                          args.steps)
    print(f"xlw / Trainer real target tokens/s: {xlw_rate / trainer_rate:.2f}x")


def report(name: str, counter: TokenCounter, seconds: float, steps: int) -> float:
    """Print and return real target tokens/s over the first `steps` batches (loaders may fetch one ahead)."""
    real, padded = sum(counter.real[:steps]), sum(counter.padded[:steps])
    print(f"{name}: {real / seconds:.0f} real target tokens/s, {padded / seconds:.0f} padded target tokens/s, "
          f"padding {1 - real / padded:.1%} ({steps} steps, {seconds:.1f} s)")
    return real / seconds


if __name__ == "__main__":
    main()
