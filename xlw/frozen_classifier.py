"""Sentence classifiers above a frozen bottom (`xlw.frozen_bottom`): LoRA in the top layers only.

The bottom layers' output for a text does not depend on the seed, the labels or the adapters, so
`BottomStates` computes it once per text and keeps it; every classifier trained from the same pretrained
weights (each seed, each language) then trains and reads out through the top layers only. The class scores
are the head applied to the last real token's top state, as in `Gemma3TextForSequenceClassification`
(which cannot find the last token of a padded row from `inputs_embeds`, so the pooling is done here).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

from xlw.batching import evaluating, token_budget_batches
from xlw.frozen_bottom import bottom_states, check_cut, decoder_stack, only_layers, pad_states, state_loader
from xlw.pretrained import adapted_model, fine_tune, load_tokenizer, lora_config, resolve
from xlw.train import TrainResult


class BottomStates:
    """The output of `cfg.model`'s first `cfg.frozen_layers` layers for texts, computed once per
    (text, max_length) and kept: `bottom(texts, max_length)` returns one unpadded state per text."""

    def __init__(self, cfg: SimpleNamespace):
        path = resolve(cfg.model, cfg.model_source)
        self.cut, self.tokenizer = cfg.frozen_layers, load_tokenizer(path)
        self.model = AutoModel.from_pretrained(path, dtype=torch.float32).eval()  # the decoder, no head
        check_cut(self.model, self.cut)
        self.kept: dict[tuple[str, int], torch.Tensor] = {}

    def __call__(self, texts: Sequence[str], max_length: int) -> list[torch.Tensor]:
        missing = [t for t in dict.fromkeys(texts) if (t, max_length) not in self.kept]
        if missing:
            ids = self.tokenizer(missing, truncation=True, max_length=max_length)["input_ids"]
            states = bottom_states(self.model, self.tokenizer, ids, self.cut, desc=f"{self.cut} frozen layers")
            self.kept.update({(t, max_length): s for t, s in zip(missing, states)})
        return [self.kept[(t, max_length)] for t in texts]


def bottom_for(cfg: SimpleNamespace) -> BottomStates | None:
    """A `BottomStates` for `cfg` when its `frozen_layers` is above 0, else None (LoRA in every layer)."""
    return BottomStates(cfg) if getattr(cfg, "frozen_layers", 0) else None


def top_classifier(cfg: SimpleNamespace, seed: int = 0, init_head: Callable | None = None):
    """(peft model, tokenizer): `cfg.model` with a `len(cfg.label_words)`-class head and LoRA in the layers
    from `cfg.frozen_layers` up only."""
    n = AutoConfig.from_pretrained(resolve(cfg.model, cfg.model_source)).num_hidden_layers
    top = list(range(cfg.frozen_layers, n))
    peft_config = dataclasses.replace(lora_config(cfg, "SEQ_CLS"), layers_to_transform=top)
    model, tokenizer = adapted_model(AutoModelForSequenceClassification, cfg, peft_config, seed, init_head,
                                     num_labels=len(cfg.label_words))
    check_cut(model, cfg.frozen_layers)
    return model, tokenizer


def top_class_scores(model: torch.nn.Module, batch: dict[str, torch.Tensor], cut: int) -> torch.Tensor:
    """Class scores of a padded batch of bottom states: the top layers, then the head on each row's last real token."""
    stack = decoder_stack(model)
    with only_layers(model, cut, len(stack.layers), final_norm=True):
        hidden = stack(inputs_embeds=batch["inputs_embeds"], attention_mask=batch["attention_mask"],
                       use_cache=False).last_hidden_state
    last = batch["attention_mask"].sum(1) - 1  # states are padded on the right
    return model.score(hidden[torch.arange(len(hidden)), last])


def fit_top_classifier(frame: pd.DataFrame, cfg: SimpleNamespace, bottom: BottomStates, seed: int = 0,
                       init_head: Callable | None = None):
    """(model, tokenizer, TrainResult): `top_classifier` fine-tuned on `frame`'s texts and labels from their
    `bottom` states, batched as `xlw.sentiment.classification_loader` batches the tokens."""
    if bottom.cut != cfg.frozen_layers:
        raise ValueError(f"bottom states cut at layer {bottom.cut}, but frozen_layers is {cfg.frozen_layers}")
    model, tokenizer = top_classifier(cfg, seed, init_head)
    states = bottom(list(frame["text"]), cfg.max_length)
    loader = state_loader(states, {"labels": [int(y) for y in frame["label"]]}, cfg.max_tokens, cfg.max_batch, seed)

    def loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(top_class_scores(model, batch, bottom.cut), batch["labels"])

    result: TrainResult = fine_tune(model, loader, cfg, seed=seed, loss_fn=loss)
    return model, tokenizer, result


def top_class_logits(model: torch.nn.Module, bottom: BottomStates, texts: Sequence[str], max_length: int,
                     max_tokens: int = 4096) -> np.ndarray:
    """Class logits of `texts` (in input order) from their `bottom` states, batched by length."""
    states = bottom(texts, max_length)
    logits: list = [None] * len(states)
    budget = max(max_tokens, max(len(s) for s in states))
    with evaluating(model) as device:
        for batch in token_budget_batches([len(s) for s in states], budget, shuffle=False):
            padded = {k: v.to(device) for k, v in pad_states([states[i] for i in batch]).items()}
            scores = top_class_scores(model, padded, bottom.cut)
            for row, i in enumerate(batch):
                logits[i] = scores[row].float().cpu().numpy()
    return np.stack(logits)
