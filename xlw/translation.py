"""Training and scoring a translation model: the building blocks put together for one language pair."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

from datasets import Dataset

from xlw import metrics
from xlw.batching import seq2seq_loader
from xlw.config import for_pair
from xlw.corpora import head, load_pair
from xlw.generation import generate
from xlw.models import translation_model
from xlw.multilingual import checked_pairs
from xlw.train import TrainConfig, TrainResult, seq2seq_loss, train
from xlw.trained import reuse_or_train

LABEL_SMOOTHING = 0.1  # as in Vaswani et al. (2017); the loss is derived in 01_math


def declare_pairs(model, pairs: Sequence[str], target_tags: bool = False) -> None:
    """Write into `model.config` the pairs it translates (and whether sources need a `>>tgt<<` tag), for
    `save_pretrained`: `python -m xlw.translate` reads them to refuse other pairs."""
    model.config.language_pairs = checked_pairs(pairs)
    model.config.target_tags = target_tags


def build_translation_model(train_set: Dataset, cfg: SimpleNamespace,
                            hub_id: str | None = None) -> tuple[object, object]:
    """The model `hub_id` names, else a BPE vocabulary of `train_set`'s two sides and a new Marian of `cfg`'s size."""
    texts = list(train_set["src"]) + list(train_set["tgt"])
    return translation_model(hub_id, texts, cfg.vocab_size, cfg.max_length, d_model=cfg.d_model, layers=cfg.layers,
                             heads=cfg.heads, ffn_dim=cfg.ffn_dim, dropout=cfg.dropout)


def train_translation(model, tokenizer, train_set: Dataset, val_set: Dataset, cfg: SimpleNamespace,
                      max_steps: int, output_dir: Path, seed: int = 0, tgt_lang: str = "en",
                      length_ratio: float | None = None) -> TrainResult:
    """Train `model` on `train_set` for `max_steps`, keeping the weights with the best validation BLEU.

    The best weights and the tokenizer are saved to `output_dir/best`, which `load_seq2seq` loads.
    `tgt_lang` only picks BLEU's tokenizer (zh or 13a), so one value serves a mix of European targets;
    `length_ratio` caps validation outputs (see `generate`).
    """
    loader = seq2seq_loader(train_set, tokenizer, model, cfg.max_tokens, seed=seed, max_length=cfg.max_length)
    val_src, val_ref = list(val_set["src"]), list(val_set["tgt"])

    def val_bleu(m) -> dict[str, float]:
        hyps = generate(m, tokenizer, val_src, progress=False, length_ratio=length_ratio)
        return {"bleu": metrics.bleu(hyps, val_ref, tgt_lang).score}

    train_cfg = TrainConfig(lr=cfg.lr, warmup_steps=cfg.warmup_steps, schedule=cfg.schedule, max_steps=max_steps,
                            eval_every=min(cfg.eval_every, max_steps), mixed_precision=cfg.mixed_precision, seed=seed)
    result = train(model, loader, train_cfg, loss_fn=seq2seq_loss(LABEL_SMOOTHING), evaluate=val_bleu,
                   metric="bleu", mode="max", output_dir=output_dir)
    tokenizer.save_pretrained(Path(output_dir) / "best")  # the best folder then loads with load_seq2seq
    return result


def fit_translation(pair: str, train_set: Dataset, val_set: Dataset, cfg: SimpleNamespace,
                    output_dir: Path, seed: int = 0) -> tuple[object, object, TrainResult]:
    """Build (or load) the model for `pair`, train it with validation BLEU, save the best to `output_dir/best`."""
    model, tokenizer = build_translation_model(train_set, cfg, for_pair(cfg, "hub_model", pair))
    declare_pairs(model, [pair])
    result = train_translation(model, tokenizer, train_set, val_set, cfg, for_pair(cfg, "max_steps", pair),
                               output_dir, seed, tgt_lang=pair.split("-")[1])
    return model, tokenizer, result


def pair_splits(pair: str, cfg: SimpleNamespace) -> dict[str, Dataset]:
    """03's train/val/test sets of `pair`: the first `train_size`/`val_size`/`test_size` pairs `load_pair` finds."""
    sizes = {"train": cfg.train_size, "val": cfg.val_size, "test": cfg.test_size}
    return {split: head(load_pair(pair, split), n) for split, n in sizes.items()}


def trained_translation(entry) -> Path:
    """The `best` folder of 03's model of a pair (`entry`: `cache_entry(profile, "03_translation", pair, seed)`),
    trained here as 03 trains it when the cache does not hold it yet."""
    cfg, pair = SimpleNamespace(**entry.recipe["settings"]), entry.recipe["name"]

    def train_it(folder: Path) -> None:
        data = pair_splits(pair, cfg)
        fit_translation(pair, data["train"], data["val"], cfg, folder, seed=entry.recipe["seed"])

    return reuse_or_train(entry, train_it) / "best"


def score_translations(model, tokenizer, test_set: Dataset, tgt_lang: str, num_beams: int = 1,
                       max_tokens: int = 4000, **generate_kwargs) -> tuple[list[str], dict[str, metrics.Score], float]:
    """Translate `test_set['src']`; corpus BLEU/chrF/TER against `tgt` (and `tgt_b` if present) and sentences/s."""
    tic = time.perf_counter()
    hyps = generate(model, tokenizer, list(test_set["src"]), max_tokens=max_tokens, num_beams=num_beams,
                    **generate_kwargs)
    speed = len(hyps) / (time.perf_counter() - tic)
    refs = [list(test_set[c]) for c in ("tgt", "tgt_b") if c in test_set.column_names]
    return hyps, metrics.corpus_scores(hyps, refs, tgt_lang), speed
