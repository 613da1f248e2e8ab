"""Translation with a pretrained causal LM (Gemma-3): one prompt format, target-only loss, a restricted output layer.

    data = encode_pairs(tokenizer, train_set, "en", "de")       # prompt tokens labelled -100
    vocab = target_vocabulary(tokenizer, train_set["tgt"])      # the ids the output layer keeps
    train(model, pair_loader(data, tokenizer, 2000), cfg, loss_fn=target_loss(vocab))
    hyps = prompted_translate(model, left_tokenizer, sources, [], "en", "de", vocabulary=vocab)

Every pair, fine-tuned or prompted with k examples, uses `few_shot_prompt`: an instruction line,
the examples, then `English: {source}\nGerman:`; a fine-tuned model learns to continue with
` {target}<eos>`. Gemma's tied 262,144 × 640 output layer costs more per predicted token than the
whole 100M-parameter body, so training applies it only at target positions and, with a
`vocabulary`, only to the rows a target language needs (derived in notebook 03b).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F
from datasets import Dataset
from torch import nn

from xlw.batching import in_input_order, padded_loader
from xlw.config import for_pair
from xlw.corpora import direction, head, load_pair
from xlw.env import pick_device
from xlw.train import LossFn, TrainConfig, TrainResult, train
from xlw.trained import CacheEntry, reuse_or_train

TRANSLATOR_FILE = "xlw_translator.json"  # declared pairs and the restricted vocabulary of a saved translator


def language_name(code: str) -> str:
    """The English name of a language code ('de' → 'German') from CLDR (`langcodes`); a code it does not
    know (a user's own, e.g. 'qxx') names itself."""
    import langcodes

    try:
        name = langcodes.Language.get(code).display_name("en")
    except (langcodes.LanguageTagError, ValueError) as err:
        raise ValueError(f"language code {code!r} is not a valid BCP-47 tag (e.g. 'de', 'zh', 'pt-BR')") from err
    return code if name.lower().startswith("unknown language") else name


def few_shot_prompt(source: str, examples: Sequence[tuple[str, str]], src_lang: str, tgt_lang: str) -> str:
    """A completion prompt: an instruction, `examples` as source/target lines, then `source` and an open target line."""
    src_name, tgt_name = language_name(src_lang), language_name(tgt_lang)
    shots = "".join(f"{src_name}: {s}\n{tgt_name}: {t}\n\n" for s, t in examples)
    return f"Translate {src_name} to {tgt_name}.\n\n{shots}{src_name}: {source}\n{tgt_name}:"


def target_ids(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of `texts` as targets: stripped, after one space (the prompt ends at `German:`), no specials."""
    return tokenizer([" " + t.strip() for t in texts], add_special_tokens=False)["input_ids"]


def encode_pairs(tokenizer, dataset: Dataset, src_lang: str | None, tgt_lang: str | None,
                 max_length: int = 256) -> Dataset:
    """`input_ids` = <bos> prompt + " target" <eos>, `labels` the same with every prompt token set to -100.

    Languages are `src_lang` → `tgt_lang`, or, when both are None, each row's `direction` ('de-fr', the
    column `multilingual.temperature_mix` writes), so one dataset can hold many directions. Prompt and
    target are tokenized apart, as generation sees them (the prompt ends at `German:`, the model writes
    ` Ein …`); a target longer than `max_length` allows is cut, its <eos> kept.
    """
    per_row = src_lang is None and tgt_lang is None
    needed = {"src", "tgt"} | ({"direction"} if per_row else set())
    missing = needed - set(dataset.column_names)
    if missing:
        raise ValueError(f"dataset needs columns {sorted(needed)}; missing {sorted(missing)}"
                         + (" (or pass src_lang and tgt_lang)" if "direction" in missing else ""))

    def encode(batch: dict) -> dict:
        langs = [direction(d) for d in batch["direction"]] if per_row else [(src_lang, tgt_lang)] * len(batch["src"])
        prompts = tokenizer([few_shot_prompt(s, [], *pair) for s, pair in zip(batch["src"], langs)])["input_ids"]
        targets = target_ids(tokenizer, batch["tgt"])
        ids, labels = [], []
        for prompt, target in zip(prompts, targets):
            room = max_length - len(prompt) - 1
            if room < 1:
                raise ValueError(f"a prompt of {len(prompt)} tokens leaves no room for its target within "
                                 f"max_length={max_length}: raise max_length")
            target = target[:room] + [tokenizer.eos_token_id]
            ids.append(prompt + target)
            labels.append([-100] * len(prompt) + target)
        return {"input_ids": ids, "attention_mask": [[1] * len(x) for x in ids], "labels": labels}

    return dataset.map(encode, batched=True, remove_columns=dataset.column_names)


def pair_loader(encoded: Dataset, tokenizer, max_tokens: int, max_batch: int | None = None, seed: int = 0):
    """Shuffled, length-bucketed training batches of `encode_pairs` output, right-padded (labels with -100)."""
    from transformers import DataCollatorForSeq2Seq

    if tokenizer.padding_side != "right":
        raise ValueError("training batches need a tokenizer with padding_side='right' (load_tokenizer(path))")
    return padded_loader(encoded, tokenizer, max_tokens, max_batch, seed,
                         collate_fn=DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100))


def stop_ids(tokenizer) -> list[int]:
    """Token ids that end a translation: <eos>, and the line break when it is a single token."""
    newline = tokenizer.encode("\n", add_special_tokens=False)
    return [tokenizer.eos_token_id] + (newline if len(newline) == 1 else [])


def stop_options(tokenizer, kept: KeptIds) -> dict[str, list[int] | int]:
    """`generate`'s eos and pad ids in the decoder's id space: a finished row is padded with its first stop."""
    stops = kept.index(stop_ids(tokenizer))
    return {"eos_token_id": stops, "pad_token_id": stops[0] if kept.vocabulary is not None else tokenizer.pad_token_id}


def target_vocabulary(tokenizer, targets: Sequence[str]) -> torch.Tensor:
    """Sorted ids the output layer keeps for a target language: every token of `targets` (as `encode_pairs`
    writes them), every single character they use (with and without the word-start marker, so any word
    over that alphabet stays spellable), the byte-fallback tokens where the vocabulary has them, and the stops."""
    ids = {i for row in target_ids(tokenizer, targets) for i in row}
    chars = sorted({c for t in targets for c in " " + t.strip()})
    ids.update(i for row in tokenizer(chars + [" " + c for c in chars], add_special_tokens=False)["input_ids"]
               for i in row)
    vocab = tokenizer.get_vocab()
    ids.update(i for i in (vocab.get(f"<0x{b:02X}>") for b in range(256)) if i is not None)
    ids.update(stop_ids(tokenizer))
    return torch.tensor(sorted(ids), dtype=torch.long)


def coverage(tokenizer, texts: Sequence[str], vocabulary: torch.Tensor) -> float:
    """The share of `texts`' target tokens (as `encode_pairs` writes them) that `vocabulary` holds."""
    rows = target_ids(tokenizer, texts)
    kept = set(vocabulary.tolist())
    total = sum(len(r) for r in rows)
    return sum(i in kept for r in rows for i in r) / total if total else 1.0


def _output_layer(model) -> nn.Linear:
    head = model.get_output_embeddings()
    if getattr(head, "bias", None) is not None:
        raise ValueError("restricting the output layer expects a bias-free (tied) LM head, as Gemma's")
    return head


def target_loss(vocabulary: torch.Tensor | None = None, label_smoothing: float = 0.0) -> LossFn:
    """Token-mean cross-entropy over target positions only: the body runs once, the output layer only where a
    label is set (-100 elsewhere), and with `vocabulary` only over those rows (a softmax over the kept ids)."""
    lookup: dict[str, torch.Tensor] = {}

    def loss(model: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        hidden = model.get_decoder()(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                     use_cache=False).last_hidden_state
        labels = batch["labels"][:, 1:]  # position t predicts token t + 1
        at_target = labels != -100
        states, targets = hidden[:, :-1][at_target], labels[at_target]
        weight = _output_layer(model).weight
        if vocabulary is None:
            return F.cross_entropy(F.linear(states, weight), targets, label_smoothing=label_smoothing)
        if "ids" not in lookup:  # full id → row of the restricted layer (-1: not kept)
            table = torch.full((weight.shape[0],), -1, dtype=torch.long, device=weight.device)
            table[vocabulary.to(weight.device)] = torch.arange(len(vocabulary), device=weight.device)
            lookup["ids"], lookup["table"] = vocabulary.to(weight.device), table
        rows = lookup["table"][targets]
        if (rows < 0).any():
            missing = targets[rows < 0][0].item()
            raise ValueError(f"target token {missing} is not in the restricted vocabulary: build it with "
                             "target_vocabulary() from the training targets")
        return F.cross_entropy(F.linear(states, weight[lookup["ids"]]), rows, label_smoothing=label_smoothing)

    return loss


def translator_model(cfg, method: str = "lora", seed: int = 0):
    """(model, right-padding tokenizer): `cfg.model` from `cfg.model_source` with LoRA adapters of `cfg`
    (`method='lora'`) or every weight but the tied embedding trainable (`'full'`: the 262k × 640 matrix
    is also the output layer, and a restricted layer would update only its kept rows)."""
    from transformers import AutoModelForCausalLM

    from xlw.pretrained import adapted_model, lora_config

    if method not in ("lora", "full"):
        raise ValueError(f"method {method!r} is unknown: expected 'lora' or 'full'")
    peft_config = lora_config(cfg, "CAUSAL_LM") if method == "lora" else None
    model, tokenizer = adapted_model(AutoModelForCausalLM, cfg, peft_config, seed)
    if method == "full":
        model.get_input_embeddings().weight.requires_grad_(False)
    return model, tokenizer


def fit_translator(model, tokenizer, pairs: Dataset, src_lang: str | None, tgt_lang: str | None, cfg, max_steps: int,
                   vocabulary: torch.Tensor | None = None, seed: int = 0) -> TrainResult:
    """Fine-tune `model` on `pairs` (`src`, `tgt`; languages as in `encode_pairs`) for `max_steps` with
    `target_loss(vocabulary)`: AdamW, linear warm-up and decay, batches of at most `cfg.max_tokens` padded
    tokens and `cfg.max_batch` pairs."""
    data = encode_pairs(tokenizer, pairs, src_lang, tgt_lang, cfg.max_length)
    loader = pair_loader(data, tokenizer, cfg.max_tokens, cfg.max_batch, seed)
    train_cfg = TrainConfig(lr=cfg.lr, betas=(0.9, 0.999), warmup_steps=cfg.warmup_steps, schedule="linear",
                            max_steps=max_steps, eval_every=max(1, max_steps // 10),
                            mixed_precision=cfg.mixed_precision, seed=seed)
    return train(model, loader, train_cfg, loss_fn=target_loss(vocabulary, cfg.label_smoothing))


def translator_pool(pair: str, seed: int = 0) -> Dataset:
    """03b's training pool of `pair`: every training pair `load_pair` finds, shuffled by `seed` (a model
    trained on N pairs takes the first N)."""
    return load_pair(pair, "train").shuffle(seed=seed)


def fine_tune_translator(pairs: Dataset, pair: str, cfg, max_steps: int, vocabulary: torch.Tensor | None,
                         seed: int = 0, method: str = "lora", device: torch.device | None = None):
    """(model, TrainResult): a fresh `cfg.model` (`translator_model`) fine-tuned on `pairs` of `pair`."""
    model, tokenizer = translator_model(cfg, method, seed)
    model = model.to(device or pick_device())
    return model, fit_translator(model, tokenizer, pairs, *direction(pair), cfg, max_steps, vocabulary, seed)


def trained_translator(entry: CacheEntry) -> Path:
    """The folder of 03b's main translator of a pair (`entry`: `cache_entry(profile, "03b_llm_translation",
    pair, seed)`), trained here as 03b trains it when the cache does not hold it yet."""
    from types import SimpleNamespace

    from xlw.pretrained import load_tokenizer, resolve

    cfg, pair, seed = SimpleNamespace(**entry.recipe["settings"]), entry.recipe["name"], entry.recipe["seed"]

    def train_it(folder: Path) -> None:
        pool = translator_pool(pair, seed)
        left = load_tokenizer(resolve(cfg.model, cfg.model_source), "left")
        vocabulary = target_vocabulary(left, head(list(pool["tgt"]), cfg.vocab_size))
        model, _ = fine_tune_translator(head(pool, for_pair(cfg, "train_size", pair)), pair, cfg,
                                        for_pair(cfg, "max_steps", pair), vocabulary, seed)
        save_translator(model, left, folder, [pair], vocabulary)

    return reuse_or_train(entry, train_it)


class KeptRows(nn.Module):
    """The rows of an output layer that `vocabulary` keeps: logits over those ids only, in their order."""

    def __init__(self, head: nn.Linear, vocabulary: torch.Tensor):
        super().__init__()
        self.weight = nn.Parameter(head.weight.detach()[vocabulary.to(head.weight.device)].clone(),
                                   requires_grad=False)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.linear(hidden, self.weight)


class KeptIdsInput(nn.Module):
    """An input embedding that reads one-token inputs (`generate`'s decoding steps) as indices into `ids`."""

    def __init__(self, embedding: nn.Module, ids: torch.Tensor):
        super().__init__()
        self.embedding = embedding
        self.register_buffer("ids", ids.to(embedding.weight.device), persistent=False)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        # a prompt always has more than one token (few_shot_prompt's instruction line), a decoding step one
        return self.embedding(self.ids[input_ids] if input_ids.shape[-1] == 1 else input_ids)


class KeptIds:
    """The ids a restricted decoder writes: indices into `vocabulary` (None: the tokenizer's own ids)."""

    def __init__(self, vocabulary: torch.Tensor | None):
        self.vocabulary = vocabulary

    def index(self, ids: Sequence[int]) -> list[int]:
        """`ids` (tokenizer ids, all kept) as the decoder writes them."""
        if self.vocabulary is None:
            return list(ids)
        return torch.searchsorted(self.vocabulary, torch.tensor(ids, dtype=torch.long)).tolist()

    def tokens(self, written: torch.Tensor) -> torch.Tensor:
        """Written ids back as tokenizer ids."""
        return written if self.vocabulary is None else self.vocabulary.to(written.device)[written]


@contextmanager
def kept_ids(model, vocabulary: torch.Tensor | None, tokenizer) -> Iterator[KeptIds]:
    """Within the block `model` decodes over the sorted ids of `vocabulary` only (None: the whole layer): its
    output layer computes just those rows, so `generate` writes indices into `vocabulary` and feeds them back
    as such (`KeptIds.tokens` turns them into tokenizer ids). `vocabulary` must hold `stop_ids(tokenizer)`."""
    if vocabulary is None:
        yield KeptIds(None)
        return
    if getattr(model.config, "final_logit_softcapping", None):
        raise ValueError("kept_ids assumes no final logit soft-capping (it would change the kept logits' softmax)")
    if not bool((vocabulary.diff() > 0).all()):
        raise ValueError("vocabulary must be sorted and without repeats, as target_vocabulary() builds it")
    missing = sorted(set(stop_ids(tokenizer)) - set(vocabulary.tolist()))
    if missing:
        raise ValueError(f"vocabulary lacks the stop ids {missing}: translations could never end; build it with "
                         "target_vocabulary(), which keeps them")
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    head, embedding = _output_layer(model), base.get_input_embeddings()
    base.set_output_embeddings(KeptRows(head, vocabulary))
    base.set_input_embeddings(KeptIdsInput(embedding, vocabulary))
    try:
        yield KeptIds(vocabulary)
    finally:
        base.set_output_embeddings(head)
        base.set_input_embeddings(embedding)


def prompted_translate(model, tokenizer, sources: Sequence[str], examples: Sequence[tuple[str, str]],
                       src_lang: str, tgt_lang: str, max_new_tokens: int = 64, max_tokens: int = 4096,
                       num_beams: int = 1, vocabulary: torch.Tensor | None = None, max_batch: int | None = None,
                       progress: bool = True, length_ratio: float | None = None, **generation) -> list[str]:
    """Greedy (or beam) translations by a causal LM given `few_shot_prompt`s; each ends at <eos> or a line break.

    `tokenizer` must pad on the left, so every prompt's last token sits at the same position;
    `vocabulary` restricts the output layer to those ids (`kept_ids`); batches hold at most
    `max_tokens` prompt tokens (divided by `num_beams`) and `max_batch` prompts. `length_ratio` caps a
    batch's outputs at `length_ratio` × its longest source + 10 tokens (fairseq's max_len_a/b), so one
    looping output does not keep a whole batch decoding to `max_new_tokens`. `generation` passes more
    `generate` options, e.g. `do_sample=True, top_k=0` for unrestricted sampling (seed torch first).
    """
    if tokenizer.padding_side != "left":
        raise ValueError("prompted_translate needs a tokenizer with padding_side='left' (load_tokenizer(..., 'left'))")
    prompts = tokenizer([few_shot_prompt(s, examples, src_lang, tgt_lang) for s in sources])["input_ids"]
    if length_ratio is not None:  # prompt tokens that are not the source's
        template = len(tokenizer(few_shot_prompt("", examples, src_lang, tgt_lang))["input_ids"])

    def complete(inputs: dict) -> list[str]:
        limit = max_new_tokens
        if length_ratio is not None:
            longest_source = int(inputs["attention_mask"].sum(dim=1).max()) - template
            limit = min(limit, int(length_ratio * longest_source) + 10)
        out = model.generate(**inputs, max_new_tokens=limit, num_beams=num_beams, **stops,
                             **{"do_sample": False, **generation})
        new = tokenizer.batch_decode(kept.tokens(out[:, inputs["input_ids"].shape[1]:]), skip_special_tokens=True)
        return [text.split("\n")[0].strip() for text in new]

    with kept_ids(model, vocabulary, tokenizer) as kept:
        stops = stop_options(tokenizer, kept)
        return in_input_order(model, tokenizer, prompts, complete, max_tokens // num_beams,
                              desc=f"{src_lang}→{tgt_lang} (k={len(examples)}, beams={num_beams})",
                              progress=progress, max_batch=max_batch)


def save_translator(model, tokenizer, path: Path, pairs: Sequence[str], vocabulary: torch.Tensor | None) -> Path:
    """Save the model (a peft model saves only its adapter) and tokenizer to `path`, with the pairs it
    translates and its output vocabulary, so `python -m xlw.translate path --pair …` serves it."""
    from xlw.multilingual import checked_pairs

    pairs = checked_pairs(pairs)
    path = Path(path)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    meta = {"kind": "causal-lm", "language_pairs": pairs,
            "vocabulary": None if vocabulary is None else vocabulary.tolist()}
    (path / TRANSLATOR_FILE).write_text(json.dumps(meta))
    return path


def is_translator(path: str | Path) -> bool:
    """Whether `path` is a folder written by `save_translator`."""
    return (Path(path) / TRANSLATOR_FILE).is_file()


def load_translator(path: str | Path, trainable: bool = False) -> tuple[nn.Module, object, dict]:
    """(model, left-padding tokenizer, metadata) of a `save_translator` folder; adapters load onto their base
    (frozen for inference unless `trainable`)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    if not is_translator(path):
        raise FileNotFoundError(f"{path} holds no {TRANSLATOR_FILE}: save it with xlw.llm_mt.save_translator")
    meta = json.loads((path / TRANSLATOR_FILE).read_text())
    if (path / "adapter_config.json").exists():
        from peft import AutoPeftModelForCausalLM

        model = AutoPeftModelForCausalLM.from_pretrained(path, dtype=torch.float32, is_trainable=trainable)
    else:
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    if meta.get("vocabulary") is not None:
        meta["vocabulary"] = torch.tensor(meta["vocabulary"], dtype=torch.long)
    return model.eval(), tokenizer, meta


def speed_comparison(model, tokenizer, left_tokenizer, pairs: Dataset, src_lang: str, tgt_lang: str,
                     vocabulary: torch.Tensor, cfg, n_batches: int = 4, batch_size: int = 32,
                     length_ratio: float | None = None):
    """Training tokens/s and greedy sentences/s of the plain 🤗 path against target positions only and a
    restricted vocabulary: the same `n_batches` training batches and the same `batch_size` prompts, one run
    (each timed once after a warm-up batch: the plain path is slow enough that repeats would dominate a notebook).
    Generation batches are consecutive sources, not length-sorted; `length_ratio` caps outputs
    (see `prompted_translate`)."""
    import pandas as pd

    from xlw.deploy import sentences_per_s
    from xlw.measure import training_tokens_per_s
    from xlw.train import default_loss

    loader = pair_loader(encode_pairs(tokenizer, pairs, src_lang, tgt_lang, cfg.max_length), tokenizer,
                         cfg.max_tokens, cfg.max_batch)
    batches = [b for _, b in zip(range(n_batches), loader)]
    rows = [("train", name, "tokens/s", training_tokens_per_s(model, batches, loss_fn, repeats=1))
            for name, loss_fn in [("plain 🤗: labels=…, full logits at every position", default_loss),
                                  ("target positions only, full vocabulary", target_loss()),
                                  (f"target positions, {len(vocabulary):,}-id vocabulary", target_loss(vocabulary))]]
    sources = list(pairs["src"])[:batch_size * 2]
    for name, vocab in [("plain 🤗 generate, full vocabulary", None),
                        (f"generate, {len(vocabulary):,}-id vocabulary", vocabulary)]:
        speed = sentences_per_s(lambda chunk, v=vocab: prompted_translate(
            model, left_tokenizer, chunk, [], src_lang, tgt_lang, max_tokens=10**9, vocabulary=v, progress=False,
            length_ratio=length_ratio),
            sources, batch_size, repeats=1)
        rows.append((f"generate (greedy, batch {batch_size})", name, "sentences/s", speed))
    table = pd.DataFrame(rows, columns=["stage", "path", "unit", "speed"])
    table["× plain"] = table["speed"] / table.groupby("stage")["speed"].transform("first")
    return table
