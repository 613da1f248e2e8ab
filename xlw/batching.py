"""Length-bucketed batches under a token budget: similar lengths together, so little padding.

A batch's cost is its padded size, `n_sentences × longest`. Sorting by length and cutting the
sorted list into batches of at most `max_tokens` padded tokens keeps that close to the real
token count; shuffling the *batches* (not the sentences) keeps training stochastic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch.utils.data import Sampler
from tqdm.auto import tqdm

from xlw.env import progress_enabled


def token_budget_batches(lengths: Sequence[int], max_tokens: int, shuffle: bool = True,
                         seed: int = 0, max_sentences: int | None = None) -> list[list[int]]:
    """Indices grouped into batches whose padded size `len(batch) × max length` ≤ `max_tokens`."""
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or (lengths < 1).any():
        raise ValueError("lengths must be a 1-D sequence of positive token counts")
    if lengths.size and lengths.max() > max_tokens:
        raise ValueError(f"max_tokens={max_tokens} is smaller than the longest example ({lengths.max()} tokens)")
    rng = np.random.default_rng(seed)
    # Random tie-breaking among equal lengths, so each epoch's batches differ when shuffling.
    order = np.lexsort((rng.random(lengths.size), lengths)) if shuffle else np.argsort(lengths, kind="stable")
    batches, current, longest = [], [], 0
    for i in order.tolist():
        longest_if_added = max(longest, int(lengths[i]))
        too_many = max_sentences is not None and len(current) >= max_sentences
        if current and (longest_if_added * (len(current) + 1) > max_tokens or too_many):
            batches.append(current)
            current, longest_if_added = [], int(lengths[i])
        current.append(i)
        longest = longest_if_added
    if current:
        batches.append(current)
    if shuffle:
        rng.shuffle(batches)
    return batches


class TokenBudgetSampler(Sampler[list[int]]):
    """A DataLoader `batch_sampler` that re-buckets with a new seed every epoch."""

    def __init__(self, lengths: Sequence[int], max_tokens: int, shuffle: bool = True, seed: int = 0,
                 max_sentences: int | None = None):
        self.lengths, self.max_tokens, self.shuffle = list(lengths), max_tokens, shuffle
        self.seed, self.max_sentences, self.epoch = seed, max_sentences, 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose batches `__iter__` yields (as DistributedSampler does)."""
        self.epoch = epoch

    def _batches(self) -> list[list[int]]:
        return token_budget_batches(self.lengths, self.max_tokens, self.shuffle,
                                    self.seed + self.epoch, self.max_sentences)

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._batches())

    def __len__(self) -> int:
        return len(self._batches())


def seq2seq_loader(dataset, tokenizer, model, max_tokens: int, seed: int = 0, shuffle: bool = True,
                   max_length: int | None = None):
    """A DataLoader of padded, length-bucketed batches from a Dataset with `src` and `tgt` columns."""
    from torch.utils.data import DataLoader
    from transformers import DataCollatorForSeq2Seq

    missing = {"src", "tgt"} - set(dataset.column_names)
    if missing:
        raise ValueError(f"dataset needs columns 'src' and 'tgt'; missing {sorted(missing)}")
    max_length = max_length or tokenizer.model_max_length
    encoded = dataset.map(lambda b: tokenizer(b["src"], text_target=b["tgt"], truncation=True, max_length=max_length),
                          batched=True, remove_columns=dataset.column_names)
    # A batch's padded size is set by whichever side is longer.
    lengths = [max(len(s), len(t)) for s, t in zip(encoded["input_ids"], encoded["labels"])]
    sampler = TokenBudgetSampler(lengths, max_tokens, shuffle=shuffle, seed=seed)
    return DataLoader(encoded, batch_sampler=sampler, collate_fn=DataCollatorForSeq2Seq(tokenizer, model=model))


def padded_loader(dataset, tokenizer, max_tokens: int, max_batch: int | None = None, seed: int = 0,
                  collate_fn: Callable | None = None):
    """Shuffled, length-bucketed training batches of a tokenized Dataset (`input_ids`, …), padded by
    `collate_fn` (default: the tokenizer's padding)."""
    from torch.utils.data import DataLoader
    from transformers import DataCollatorWithPadding

    sampler = TokenBudgetSampler([len(ids) for ids in dataset["input_ids"]], max_tokens, seed=seed,
                                 max_sentences=max_batch)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_fn or DataCollatorWithPadding(tokenizer))


def padded_batches(tokenizer, input_ids: Sequence[Sequence[int]], max_tokens: int, device: torch.device,
                   desc: str = "batches", progress: bool = True,
                   max_batch: int | None = None) -> Iterator[tuple[list[int], dict[str, torch.Tensor]]]:
    """Length-sorted, padded inference batches of `input_ids` on `device` (at most `max_batch` rows each),
    as (indices, inputs) pairs."""
    if not input_ids:
        return
    budget = max(max_tokens, max(len(ids) for ids in input_ids))  # a long example still gets a batch of its own
    for batch in tqdm(token_budget_batches([len(ids) for ids in input_ids], budget, shuffle=False,
                                                  max_sentences=max_batch), desc=desc,
                      disable=not (progress and progress_enabled())):
        yield batch, tokenizer.pad({"input_ids": [input_ids[i] for i in batch]}, return_tensors="pt").to(device)


@contextmanager
def evaluating(model: torch.nn.Module) -> Iterator[torch.device]:
    """Put `model` in eval mode without gradients for the block, yield its device, then restore its mode."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield next(model.parameters()).device
    finally:
        model.train(was_training)


def in_input_order(model: torch.nn.Module, tokenizer, input_ids: Sequence[Sequence[int]],
                   batch_fn: Callable[[dict[str, torch.Tensor]], Sequence], max_tokens: int,
                   desc: str = "batches", progress: bool = True, max_batch: int | None = None) -> list:
    """`batch_fn(inputs)` (one item per row) over length-sorted padded batches of `input_ids` (at most
    `max_batch` rows each), in eval mode without gradients; the items come back one per example, in input order."""
    results: list = [None] * len(input_ids)
    with evaluating(model) as device:
        for batch, inputs in padded_batches(tokenizer, input_ids, max_tokens, device, desc=desc, progress=progress,
                                              max_batch=max_batch):
            for i, item in zip(batch, batch_fn(inputs)):
                results[i] = item
    return results
