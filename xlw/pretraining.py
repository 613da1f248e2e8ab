"""Denoising pretraining of an encoder–decoder on monolingual text, BART/mBART-style, with language tags.

The model learns to reconstruct a document `x` from a corrupted copy `g(x)` (notebook 02 derives
the objective). The two corruptions are mBART's (Liu et al., 2020):

- **sentence permutation**: the sentences of a document are shuffled;
- **text infilling**: spans with Poisson(λ = 3.5) lengths are each replaced by one `<mask>` until
  35% of the tokens are covered (a zero-length span inserts a `<mask>`), so the model must also
  guess how many tokens a mask hides.

Noise is drawn afresh in every batch (dynamic, as RoBERTa's masking), from a seeded generator. The
source starts with the target-language tag `>>xx<<` that the translation notebooks put in front of
a source (`xlw.multilingual.tagged`): in pretraining, output language = input language.
🤗 `transformers` ships BERT's token masking (`DataCollatorForLanguageModeling`) but BART's noising
only in a Flax example script, hence this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from torch.utils.data import DataLoader
from transformers import AutoConfig, AutoModelForSeq2SeqLM, DataCollatorForSeq2Seq, PreTrainedTokenizerBase
from transformers.modeling_outputs import SequenceClassifierOutput

from xlw.batching import TokenBudgetSampler
from xlw.embedding import encode
from xlw.tokenization import lang_tag
from xlw.train import TrainConfig, TrainResult, seq2seq_loss, target_tokens, train
from xlw.translation import LABEL_SMOOTHING

MASK = "<mask>"


def span_mask(ids: Sequence[int], mask_id: int, rng: np.random.Generator, mask_ratio: float = 0.35,
              poisson_lambda: float = 3.5) -> list[int]:
    """`ids` with random spans (Poisson lengths) replaced by one `mask_id` each, covering ≈ `mask_ratio` of them."""
    if not 0.0 <= mask_ratio < 1.0:
        raise ValueError(f"mask_ratio must be in [0, 1), got {mask_ratio}")
    n = len(ids)
    masked = np.zeros(n, dtype=bool)
    inserts = np.zeros(n + 1, dtype=bool)  # a zero-length span: a mask inserted before position i
    target = int(round(mask_ratio * n))
    while masked.sum() < target:
        length = int(rng.poisson(poisson_lambda))
        start = int(rng.integers(0, n))
        if length == 0:
            inserts[start] = True
        masked[start:start + min(length, target - int(masked.sum()))] = True
    out: list[int] = []
    for i in range(n + 1):
        if inserts[i] and not (i < n and masked[i]) and not (i > 0 and masked[i - 1]):
            out.append(mask_id)
        if i == n:
            break
        if not masked[i]:
            out.append(ids[i])
        elif i == 0 or not masked[i - 1]:  # a run of masked tokens becomes one mask
            out.append(mask_id)
    return out


def mask_share(noised: Sequence[int], original_length: int, mask_id: int) -> float:
    """The share of an original's tokens that `span_mask` hid (kept tokens are the non-mask ones)."""
    return 1.0 - sum(1 for t in noised if t != mask_id) / original_length


def documents(texts: Sequence[str], sentences_per_doc: int) -> list[list[str]]:
    """`texts` cut into consecutive documents of `sentences_per_doc` sentences (the last one may be shorter)."""
    if sentences_per_doc < 1:
        raise ValueError(f"sentences_per_doc must be at least 1, got {sentences_per_doc}")
    return [list(texts[i:i + sentences_per_doc]) for i in range(0, len(texts), sentences_per_doc)]


@dataclass
class Document:
    """One training document: its sentences as token ids (no `</s>`) and its language."""

    sentences: list[list[int]]
    lang: str

    def __len__(self) -> int:
        return sum(map(len, self.sentences)) + 2  # + the language tag and </s>


def encode_documents(texts_by_lang: Mapping[str, Sequence[str]], tokenizer: PreTrainedTokenizerBase,
                     sentences_per_doc: int, max_length: int) -> list[Document]:
    """Every language's texts as `Document`s of token ids, each cut to `max_length` tokens in all."""
    docs = []
    for lang, texts in texts_by_lang.items():
        if lang_tag(lang) not in tokenizer.get_vocab():
            raise ValueError(f"language {lang!r}: the tokenizer has no tag {lang_tag(lang)}")
        ids = tokenizer(list(texts), add_special_tokens=False, truncation=True, max_length=max_length)["input_ids"]
        for group in documents(ids, sentences_per_doc):
            budget, kept = max_length - 2, []
            for sentence in (s for s in group if s):
                kept.append(sentence[:budget])
                budget -= len(kept[-1])
                if budget <= 0:
                    break
            if kept:
                docs.append(Document(kept, lang))
    return docs


class DenoisingCollator:
    """Batches of (noised document → original) pairs, padded for a seq2seq model; noise drawn per batch."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, model, mask_ratio: float = 0.35,
                 poisson_lambda: float = 3.5, permute: bool = True, seed: int = 0):
        if MASK not in tokenizer.get_vocab():
            raise ValueError(f"the tokenizer has no {MASK} token: train it with extra_special_tokens=['{MASK}']")
        self.tokenizer, self.mask_id = tokenizer, tokenizer.convert_tokens_to_ids(MASK)
        self.mask_ratio, self.poisson_lambda, self.permute = mask_ratio, poisson_lambda, permute
        self.rng = np.random.default_rng(seed)
        self.pad = DataCollatorForSeq2Seq(tokenizer, model=model)

    def example(self, doc: Document) -> dict[str, list[int]]:
        """One noised source and its original target."""
        eos, tag = self.tokenizer.eos_token_id, self.tokenizer.convert_tokens_to_ids(lang_tag(doc.lang))
        order = self.rng.permutation(len(doc.sentences)) if self.permute else range(len(doc.sentences))
        shuffled = [t for i in order for t in doc.sentences[i]]
        source = span_mask(shuffled, self.mask_id, self.rng, self.mask_ratio, self.poisson_lambda)
        return {"input_ids": [tag, *source, eos], "labels": [t for s in doc.sentences for t in s] + [eos]}

    def __call__(self, docs: Sequence[Document]) -> dict[str, torch.Tensor]:
        return self.pad([self.example(d) for d in docs])


def denoising_loader(docs: Sequence[Document], collator: DenoisingCollator, max_tokens: int, seed: int = 0,
                     shuffle: bool = True) -> DataLoader:
    """Length-bucketed batches of at most `max_tokens` padded tokens, noised by `collator`."""
    sampler = TokenBudgetSampler([len(d) for d in docs], max_tokens, shuffle=shuffle, seed=seed)
    return DataLoader(list(docs), batch_sampler=sampler, collate_fn=collator)


def mean_loss(model: torch.nn.Module, batches: Sequence[dict[str, torch.Tensor]], loss_fn) -> float:
    """The token-weighted mean of `loss_fn` over `batches` (labels -100 are padding), without gradients."""
    total, tokens = 0.0, 0
    device = next(model.parameters()).device
    with torch.no_grad():
        for batch in batches:
            batch = {k: v.to(device) for k, v in batch.items()}
            n = target_tokens(batch)
            total += float(loss_fn(model, batch)) * n
            tokens += n
    return total / tokens


def pretrain(model, tokenizer: PreTrainedTokenizerBase, train_docs: Sequence[Document],
             val_docs: Sequence[Document], cfg: SimpleNamespace, output_dir: Path, seed: int = 0) -> TrainResult:
    """Denoising pretraining for `cfg.pretrain_steps`; the lowest-validation-loss weights go to `output_dir/best`.

    Training uses the translation loss (label smoothing 0.1); validation reports plain cross-entropy
    on a noised copy of `val_docs` drawn once, so every validation sees the same corruption.
    """
    def collator(noise_seed: int) -> DenoisingCollator:
        return DenoisingCollator(tokenizer, model, cfg.mask_ratio, cfg.poisson_lambda, cfg.permute, noise_seed)

    loader = denoising_loader(train_docs, collator(seed), cfg.max_tokens, seed=seed)
    val_batches = list(denoising_loader(val_docs, collator(seed + 1), cfg.max_tokens, shuffle=False))
    cross_entropy = seq2seq_loss(0.0)
    train_cfg = TrainConfig(lr=cfg.pretrain_lr, warmup_steps=cfg.pretrain_warmup, schedule=cfg.pretrain_schedule,
                            max_steps=cfg.pretrain_steps, eval_every=min(cfg.pretrain_eval_every, cfg.pretrain_steps),
                            mixed_precision=cfg.mixed_precision, seed=seed)
    result = train(model, loader, train_cfg, loss_fn=seq2seq_loss(LABEL_SMOOTHING),
                   evaluate=lambda m: {"loss": mean_loss(m, val_batches, cross_entropy)}, metric="loss", mode="min",
                   output_dir=output_dir)
    tokenizer.save_pretrained(Path(output_dir) / "best")
    return result


def initialised(path: Path | str, init: str) -> torch.nn.Module:
    """The seq2seq model saved in `path` with its pretrained weights (`init='pretrained'`), or the same
    architecture with fresh random weights (`init='scratch'`): the one difference a comparison should have."""
    if init == "pretrained":
        return AutoModelForSeq2SeqLM.from_pretrained(path)
    if init == "scratch":
        return AutoModelForSeq2SeqLM.from_config(AutoConfig.from_pretrained(path))
    raise ValueError(f"init must be 'pretrained' or 'scratch', got {init!r}")


class EncoderClassifier(torch.nn.Module):
    """A seq2seq model's encoder, mean-pooled over real tokens, under a linear head: a text classifier.

    🤗 `transformers` has `…ForSequenceClassification` for BART and mBART but none for Marian; this
    is the classic "pretrained encoder + new head", and returns what those classes return.
    """

    def __init__(self, seq2seq: torch.nn.Module, num_labels: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = seq2seq.get_encoder()
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(seq2seq.config.d_model, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                labels: torch.Tensor | None = None) -> SequenceClassifierOutput:
        pooled = encode(self.encoder, {"input_ids": input_ids, "attention_mask": attention_mask})
        logits = self.head(self.dropout(pooled))
        loss = torch.nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)
