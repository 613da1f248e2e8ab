"""Sentence embeddings from a pretrained transformer: load it (optionally its first layers only), mean-pool
its hidden states over a sentence's real tokens, and normalise.

    encoder, tokenizer = load_encoder("gemma-3-270m", "offline", layers=13)
    vectors = unit(embed(encoder, tokenizer, ["A dog runs.", "Ein Hund rennt."]))

`xlw.retrieval` scores documents with these vectors; 02's encoder-decoder pools its encoder with `encode`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from transformers import AutoModel, PreTrainedTokenizerBase

from xlw.batching import in_input_order
from xlw.pretrained import load_tokenizer, resolve


def load_encoder(name: str, source: str, layers: int | None = None):
    """(model, tokenizer): the bare transformer of pretrained model `name` (no LM head), first `layers` layers only."""
    path = resolve(name, source)
    model = AutoModel.from_pretrained(path, dtype=torch.float32).eval()
    if layers is not None:
        truncate_layers(model, layers)
    return model, load_tokenizer(path)


def truncate_layers(model: torch.nn.Module, layers: int) -> torch.nn.Module:
    """Keep a decoder's first `layers` blocks and drop its final norm, so its output is hidden state `layers`.

    A representation taken from layer ℓ does not depend on the blocks above ℓ: dropping them gives
    the same vectors at a fraction of the cost (for embedding and for training alike).
    """
    if not (hasattr(model, "layers") and hasattr(model, "norm")):
        raise TypeError(f"{type(model).__name__} has no `layers` and `norm`: truncation needs a decoder's base model")
    if not 1 <= layers <= len(model.layers):
        raise ValueError(f"layers must be from 1 to {len(model.layers)}, got {layers}")
    model.layers = model.layers[:layers]
    model.config.num_hidden_layers = layers
    model.norm = torch.nn.Identity()
    return model


def pooling_mask(input_ids: torch.Tensor, attention_mask: torch.Tensor, bos_token_id: int | None) -> torch.Tensor:
    """Which tokens a sentence vector averages: the real ones, minus the <bos> a decoder starts with.

    A decoder's <bos> carries huge activations (it is where attention heads park, an "attention
    sink") and is the same in every sentence, so averaging it in drowns the sentence's own content.
    Encoders such as MiniLM have no <bos> (`bos_token_id` None) and keep every token, as sentence-transformers does.
    """
    mask = attention_mask.bool()
    return mask & (input_ids != bos_token_id) if bos_token_id is not None else mask


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of each sequence's hidden states over the tokens `mask` marks."""
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def encode(model: torch.nn.Module, inputs: dict[str, torch.Tensor], bos_token_id: int | None = None,
           all_layers: bool = False) -> torch.Tensor:
    """Mean-pooled sentence vectors of one padded batch: (batch, dim), or (batch, layers + 1, dim) for every layer."""
    mask = pooling_mask(inputs["input_ids"], inputs["attention_mask"], bos_token_id)
    if not all_layers:
        return mean_pool(model(**inputs).last_hidden_state, mask)
    states = model(**inputs, output_hidden_states=True).hidden_states  # embeddings, then each layer
    return torch.stack([mean_pool(h, mask) for h in states], dim=1)


def embed(model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int = 256,
          max_tokens: int = 4096, all_layers: bool = False, desc: str = "embed") -> torch.Tensor:
    """Mean-pooled embeddings of `texts` in input order, batched by length (see `encode`); not yet normalised."""
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    def batch_vectors(inputs: dict) -> torch.Tensor:
        return encode(model, inputs, tokenizer.bos_token_id, all_layers).float().cpu()

    return torch.stack(in_input_order(model, tokenizer, encoded, batch_vectors, max_tokens, desc=desc))


def unit(vectors: torch.Tensor, center: bool = False) -> torch.Tensor:
    """`vectors` scaled to unit length along the last axis, after subtracting their mean if `center`.

    Centering removes what all the vectors share — for an LLM, a few "massive" dimensions and a
    language-specific offset — which is what makes raw cosines of different sentences nearly equal
    (Libovický et al., 2020, centre each language's representations the same way).
    """
    return F.normalize(vectors - vectors.mean(dim=0) if center else vectors, dim=-1)
