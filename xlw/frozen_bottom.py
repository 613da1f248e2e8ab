"""Freeze a decoder's bottom layers, compute their output once, and train only the top.

With LoRA in the top layers only, the bottom layers of a transformer are a fixed function of the
input: without dropout, their output for a training window is the same in every epoch and every seed.
Computing it once (`bottom_states`) and running only the top layers from it (`top_loss`, `top_outputs`) gives the
same forward pass and the same gradients as the whole model with LoRA in the top layers
(peft's `layers_to_transform`), at a fraction of the cost per epoch: the bottom is paid once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch.utils.data import DataLoader
from transformers import AutoConfig

from xlw.batching import TokenBudgetSampler, evaluating, in_input_order, token_budget_batches
from xlw.pretrained import adapted_model, lora_config, resolve


def decoder_stack(model: torch.nn.Module) -> torch.nn.Module:
    """The module holding the decoder layers (`layers`, `norm`, `rotary_emb`) inside `model` (peft-wrapped or not)."""
    for module in model.modules():
        if isinstance(getattr(module, "layers", None), torch.nn.ModuleList) and hasattr(module, "rotary_emb"):
            return module
    raise ValueError(f"{type(model).__name__} has no decoder stack with `layers` and `rotary_emb`")


def check_cut(model: torch.nn.Module, cut: int) -> None:
    """Refuse a cut that does not leave at least one layer on top."""
    n = decoder_stack(model).config.num_hidden_layers
    if not 0 <= cut < n:
        raise ValueError(f"frozen_layers must be between 0 and {n - 1} (the model has {n} layers), got {cut}")


@contextmanager
def only_layers(model: torch.nn.Module, start: int, stop: int, final_norm: bool,
                bidirectional: bool = False) -> Iterator[None]:
    """Within the block, `model`'s forward runs decoder layers start..stop-1 only (and the final norm if asked),
    attending in both directions if `bidirectional` (Gemma-3's `use_bidirectional_attention`).

    The stack's own forward still builds the masks and rotary embeddings; it reads each layer's
    attention type (sliding or full) by position, so `layer_types` is cut with the layers.
    """
    stack = decoder_stack(model)
    config = stack.config
    saved = stack.layers, stack.norm, config.num_hidden_layers, getattr(config, "layer_types", None)
    if bidirectional and not hasattr(config, "use_bidirectional_attention"):
        raise ValueError(f"{type(stack).__name__} has no bidirectional attention: use bidirectional_top=False")
    was_bidirectional = getattr(config, "use_bidirectional_attention", None)
    if bidirectional:
        config.use_bidirectional_attention = True
    stack.layers = torch.nn.ModuleList(list(saved[0])[start:stop])
    config.num_hidden_layers = stop - start
    if saved[3] is not None:
        config.layer_types = list(saved[3])[start:stop]
    if not final_norm:
        stack.norm = torch.nn.Identity()
    try:
        yield
    finally:
        stack.layers, stack.norm, config.num_hidden_layers = saved[:3]
        if bidirectional:
            config.use_bidirectional_attention = was_bidirectional
        if saved[3] is not None:
            config.layer_types = saved[3]


def bottom_states(model: torch.nn.Module, tokenizer, input_ids: Sequence[Sequence[int]], cut: int,
                  max_tokens: int = 4096, desc: str = "bottom layers") -> list[torch.Tensor]:
    """The hidden states after the first `cut` layers for each window (unpadded, in input order)."""
    check_cut(model, cut)
    stack = decoder_stack(model)

    def batch_states(inputs: dict[str, torch.Tensor]) -> list[torch.Tensor]:
        hidden = stack(**inputs, use_cache=False).last_hidden_state
        return [h[: int(n)].clone() for h, n in zip(hidden, inputs["attention_mask"].sum(1))]  # padded on the right

    with only_layers(model, 0, cut, final_norm=False):
        return in_input_order(model, tokenizer, input_ids, batch_states, max_tokens, desc=desc)


def pad_states(states: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
    """A right-padded batch of hidden states: `inputs_embeds` (zeros past each end) and its `attention_mask`."""
    longest = max(len(s) for s in states)
    embeds = states[0].new_zeros(len(states), longest, states[0].shape[-1])
    mask = torch.zeros(len(states), longest, dtype=torch.long)
    for row, s in enumerate(states):
        embeds[row, : len(s)], mask[row, : len(s)] = s, 1
    return {"inputs_embeds": embeds, "attention_mask": mask}


def state_loader(states: Sequence[torch.Tensor], labels: dict[str, Sequence[int]], max_tokens: int,
                 max_batch: int | None = None, seed: int = 0) -> DataLoader:
    """Shuffled, length-bucketed training batches of cached states with per-window integer `labels`."""
    rows = [{"state": s, **{k: v[i] for k, v in labels.items()}} for i, s in enumerate(states)]

    def collate(batch: list[dict]) -> dict[str, torch.Tensor]:
        return {**pad_states([r["state"] for r in batch]),
                **{k: torch.tensor([r[k] for r in batch]) for k in labels}}

    sampler = TokenBudgetSampler([len(s) for s in states], max_tokens, seed=seed, max_sentences=max_batch)
    return DataLoader(rows, batch_sampler=sampler, collate_fn=collate)


def top_outputs(model: torch.nn.Module, states: Sequence[torch.Tensor], cut: int, bidirectional: bool = False,
                max_tokens: int = 4096) -> list:
    """`model`'s outputs (one tuple of its logits per window, unpadded) from cached states at layer `cut`."""
    n = decoder_stack(model).config.num_hidden_layers
    results: list = [None] * len(states)
    budget = max(max_tokens, max(len(s) for s in states))
    with evaluating(model), only_layers(model, cut, n, final_norm=True, bidirectional=bidirectional):
        for batch in token_budget_batches([len(s) for s in states], budget, shuffle=False):
            out = model(**pad_states([states[i] for i in batch]), use_cache=False)
            logits = [v.float().cpu().numpy() for k, v in out.items() if k.endswith("logits")]
            for row, i in enumerate(batch):
                results[i] = tuple(np.asarray(lg[row, : len(states[i])]) for lg in logits)
    return results


def top_loss(cut: int, bidirectional: bool = False):
    """A `fine_tune` loss: the model's own loss, computed by its layers from `cut` up on cached states."""
    def loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        with only_layers(model, cut, len(decoder_stack(model).layers), final_norm=True, bidirectional=bidirectional):
            return model(**batch, use_cache=False).loss

    return loss


def top_lora_model(auto_class, cfg, task_type: str, cut: int, seed: int = 0):
    """(peft model, tokenizer): `cfg.model` with a new head and LoRA (from `cfg`) in the layers from `cut` up only."""
    n = AutoConfig.from_pretrained(resolve(cfg.model, cfg.model_source)).num_hidden_layers
    peft_config = dataclasses.replace(lora_config(cfg, task_type), layers_to_transform=list(range(cut, n)))
    model, tokenizer = adapted_model(auto_class, cfg, peft_config, seed)
    check_cut(model, cut)
    return model, tokenizer
