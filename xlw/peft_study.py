"""Parameter-efficient fine-tuning, method by method: one peft config each, trained and measured the same way.

    row, model, tokenizer = run_method("ia3", train_frame, {"en": en_test, "de": de_test}, cfg, seed=0)

`row` holds trainable parameters, seconds per step, peak training memory, checkpoint size and
macro-F1 per test language. Every method gets the same data, steps, schedule, head and seed;
only the peft config and its learning rate differ.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import pandas as pd
from peft import (
    AdaLoraConfig,
    IA3Config,
    LoHaConfig,
    LoraConfig,
    PeftConfig,
    PrefixTuningConfig,
    PromptTuningConfig,
)
from transformers import AutoModelForSequenceClassification

from xlw import metrics
from xlw.measure import peak_memory, saved_size_mb
from xlw.pretrained import adapted_model, fine_tune, load_tokenizer, resolve, trainable_parameters
from xlw.sentiment import classification_loader, label_word_head, predict_logits

TASK = "SEQ_CLS"
# Soft prompts are fed as input embeddings, so the classifier cannot find the last real token by
# looking for padding in input_ids and reads the last position instead: pad on the left for them.
LEFT_PADDED = {"prompt"}
PROMPT_INIT_TEXT = "Is the sentiment of this tweet negative, neutral or positive?"


def _adalora(cfg: SimpleNamespace, steps: int) -> AdaLoraConfig:
    """AdaLoRA from rank `1.5 r` down to an average of `r`: budget pruning between 1/6 and 2/3 of training."""
    if steps < 3:
        raise ValueError(f"AdaLoRA needs at least 3 training steps (warm-up, budgeting, final), got {steps}: "
                         "raise train_size or lower max_batch")
    r = cfg.lora_r
    return AdaLoraConfig(init_r=(3 * r) // 2, target_r=r, lora_alpha=2 * r, target_modules=cfg.lora_targets,
                         total_step=steps, tinit=max(1, steps // 6), tfinal=max(1, steps // 3),
                         deltaT=max(1, steps // 12), task_type=TASK)


def method_config(method: str, cfg: SimpleNamespace, steps: int) -> PeftConfig | None:
    """The peft config of `method` for sequence classification (None for full fine-tuning); `steps` for AdaLoRA."""
    attention, r = cfg.lora_targets, cfg.lora_r
    builders = {
        "full": lambda: None,
        "lora_r4": lambda: LoraConfig(r=4, lora_alpha=8, target_modules=attention, task_type=TASK),
        "lora_r8": lambda: LoraConfig(r=8, lora_alpha=16, target_modules=attention, task_type=TASK),
        "lora_r16": lambda: LoraConfig(r=16, lora_alpha=32, target_modules=attention, task_type=TASK),
        "lora_all": lambda: LoraConfig(r=r, lora_alpha=2 * r, target_modules="all-linear", task_type=TASK),
        "dora": lambda: LoraConfig(r=r, lora_alpha=2 * r, target_modules=attention, use_dora=True, task_type=TASK),
        "loha": lambda: LoHaConfig(r=r, alpha=2 * r, target_modules=attention, task_type=TASK),
        "adalora": lambda: _adalora(cfg, steps),
        # IA3's recipe: rescale keys, values and the MLP's input to the down projection.
        "ia3": lambda: IA3Config(target_modules=["k_proj", "v_proj", "down_proj"], feedforward_modules=["down_proj"],
                                 task_type=TASK),
        "prefix": lambda: PrefixTuningConfig(num_virtual_tokens=cfg.virtual_tokens, task_type=TASK),
        # Initialised from the embeddings of a task description, which Lester et al. (2021) found far
        # better than random vectors for small models.
        "prompt": lambda: PromptTuningConfig(num_virtual_tokens=cfg.virtual_tokens, prompt_tuning_init="TEXT",
                                             prompt_tuning_init_text=PROMPT_INIT_TEXT,
                                             tokenizer_name_or_path=resolve(cfg.model, cfg.model_source),
                                             task_type=TASK),
    }
    if method not in builders:
        raise ValueError(f"unknown PEFT method {method!r}: expected one of {', '.join(builders)}")
    if method not in cfg.lrs:
        raise ValueError(f"no learning rate for {method!r} in the profile's `lrs` ({', '.join(cfg.lrs)})")
    return builders[method]()


def run_method(method: str, train: pd.DataFrame, tests: dict[str, pd.DataFrame], cfg: SimpleNamespace,
               seed: int = 0):
    """(row, model, tokenizer): fine-tune `cfg.model` on `train` with `method`; the row is its measurements."""
    padding_side = "left" if method in LEFT_PADDED else "right"
    tokenizer = load_tokenizer(resolve(cfg.model, cfg.model_source), padding_side)
    loader = classification_loader(train, tokenizer, cfg.max_length, cfg.max_tokens, cfg.max_batch, seed=seed)
    steps = cfg.epochs * len(loader)
    model, tokenizer = adapted_model(
        AutoModelForSequenceClassification, cfg, method_config(method, cfg, steps), seed=seed,
        init_head=lambda m, t: label_word_head(m, t, cfg.label_words), padding_side=padding_side,
        num_labels=len(cfg.label_words))
    # AdaLoRA moves rank between matrices from the gradients of each step, before they are cleared.
    on_step = model.base_model.update_and_allocate if method == "adalora" else None
    with peak_memory(next(model.parameters()).device) as memory:
        result = fine_tune(model, loader, SimpleNamespace(**{**vars(cfg), "lr": cfg.lrs[method]}), seed=seed,
                           on_step=on_step)
    trainable, total = trainable_parameters(model)
    row = {"method": method, "seed": seed, "trainable_params": trainable, "trainable_pct": 100 * trainable / total,
           "s_per_step": result.elapsed_s / result.steps, "peak_mem_mb": memory["peak_mb"],
           "checkpoint_mb": checkpoint_mb(model), "first_loss": float(result.history["train_loss"].iloc[0]),
           "final_loss": float(result.history["train_loss"].iloc[-1])}
    return row | macro_f1_by_language(model, tokenizer, tests, cfg), model, tokenizer


def checkpoint_mb(model) -> float:
    """`saved_size_mb` without peft's warning about zero-sized LoRA tensors: AdaLoRA prunes some ranks to zero,
    which peft reads as DeepSpeed shards not gathered before saving; here they are simply pruned."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*LoRA tensor\(s\) have invalid shape")
        return saved_size_mb(model)


def macro_f1_by_language(model, tokenizer, tests: dict[str, pd.DataFrame], cfg: SimpleNamespace) -> dict[str, float]:
    """`macro_f1.<lang>`: macro-F1 of `model`'s argmax predictions on each language's test tweets."""
    labels = list(range(len(cfg.label_words)))
    return {f"macro_f1.{lang}": metrics.macro_f1(frame.label, predict_logits(model, tokenizer, list(frame.text),
                                                                             cfg.max_length).argmax(axis=1), labels)
            for lang, frame in tests.items()}


def summarize(rows: pd.DataFrame, zero_shot_langs: list[str]) -> pd.DataFrame:
    """Per method: mean and std over seeds of macro-F1 (en, each language, zero-shot mean) and the mean costs."""
    zero_shot = rows[[f"macro_f1.{lang}" for lang in zero_shot_langs]].mean(axis=1)
    rows = rows.assign(**{"macro_f1.zeroshot_mean": zero_shot})
    numeric = rows.drop(columns=["seed"]).groupby("method", sort=False)
    table = numeric.mean(numeric_only=True)
    for column in [c for c in rows.columns if c.startswith("macro_f1.")]:
        table[column.replace("macro_f1.", "std.")] = numeric[column].std(ddof=1)
    table["seeds"] = numeric.size()
    return table
