"""Training and prediction of 05's span model above a frozen bottom (`xlw.frozen_bottom`).

The bottom `cfg.frozen_layers` layers' states are computed once per window (`train_windows`,
`eval_windows`); every seed's top layers are fine-tuned (`train_top`) and read out (`predict_spans`)
from them.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from datasets import Dataset
from transformers import PreTrainedTokenizerBase

from xlw.frozen_bottom import bottom_states, state_loader, top_loss, top_outputs
from xlw.pretrained import fine_tune
from xlw.qa import best_spans, eval_features, train_features


def train_windows(model, tokenizer: PreTrainedTokenizerBase, frame: pd.DataFrame, cfg) -> tuple[Dataset, list]:
    """`frame`'s labelled training windows and their states after the `cfg.frozen_layers` bottom layers."""
    features = train_features(tokenizer, frame, cfg.max_length, cfg.stride)
    return features, bottom_states(model, tokenizer, features["input_ids"], cfg.frozen_layers, desc="train windows")


def eval_windows(model, tokenizer: PreTrainedTokenizerBase, frame: pd.DataFrame, cfg) -> tuple[dict, list]:
    """`frame`'s evaluation windows and their bottom states (the same for every seed's top)."""
    features = eval_features(tokenizer, frame, cfg.max_length, cfg.stride)
    return features, bottom_states(model, tokenizer, features["input_ids"], cfg.frozen_layers, desc="test windows")


def train_top(model, windows: tuple[Dataset, list], cfg, seed: int = 0,
              on_epoch: Callable[[int], None] | None = None):
    """`fine_tune` the layers above `cfg.frozen_layers` on training windows whose bottom states are cached;
    `on_epoch(epoch)` runs after each full pass."""
    features, states = windows
    labels = {k: features[k] for k in ("start_positions", "end_positions")}
    loader = state_loader(states, labels, cfg.max_tokens, cfg.max_batch, seed=seed)

    def on_step(step: int) -> None:
        if on_epoch is not None and step % len(loader) == 0:
            on_epoch(step // len(loader))

    return fine_tune(model, loader, cfg, seed=seed, loss_fn=top_loss(cfg.frozen_layers, cfg.bidirectional_top),
                     on_step=on_step)


def predict_spans(model, frame: pd.DataFrame, windows: tuple[dict, list], cfg) -> dict[str, str]:
    """The best span per question of `frame` from the top layers over its cached windows."""
    features, states = windows
    outputs = top_outputs(model, states, cfg.frozen_layers, cfg.bidirectional_top)
    return best_spans(frame, features, [start for start, _ in outputs], [end for _, end in outputs], cfg.n_best,
                      cfg.max_answer_tokens)
