"""CTranslate2: the C++ inference engine OPUS-MT's Marian models are served with, for xlw's Marian models and
for 03b's fine-tuned Gemma translators.

    folder = to_ctranslate2(model_dir, model_dir / "ct2-int8", "int8")   # CTranslate2's own converter
    engine = CT2Translator(folder, tokenizer)
    engine.translate(["A dog runs."])                                      # ["Ein Hund rennt."]

    folder = llm_to_ctranslate2(model, tokenizer, out, "int8", meta["vocabulary"])   # LoRA merged first
    CT2PromptedTranslator(folder, tokenizer).translate(sources, "en", "de")

The converter reads a `save_pretrained` folder and drops the last vocabulary row as Marian's `<pad>` (the
decoder then starts from a zero embedding, as Marian's does); xlw's vocabularies put `<pad>` last for that
reason (`xlw.tokenization`). Quantization happens at conversion: `int8` weights run int8 GEMMs with
int8 activations, `int8_float32` keeps the non-quantized layers in float32, `float32` converts only.

Import ctranslate2 before torch (`import xlw` does): loaded after torch, CTranslate2 runs on torch's OpenMP
threads, several times slower on few cores (`benchmarks/ct2_import_order.py`; the engines warn). Keep one engine
that runs per process: the OpenMP threads of an engine that has run slow every other engine down about tenfold
while it lives (`benchmarks/ct2_threads.py`); delete it before timing the next.
"""

from __future__ import annotations

import copy
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from xlw.batching import token_budget_batches

QUANTIZATIONS = ("float32", "int8_float32", "int8")


def _check_quantization(quantization: str) -> None:
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization {quantization!r} is unknown: expected one of {', '.join(QUANTIZATIONS)}")


def _threads(threads: int | None) -> int:
    """CTranslate2's intra-op threads: `threads`, else as many as torch uses (one per core) so that engines are
    compared on the same cores. Warns when ctranslate2 was imported after torch: CTranslate2 then shares torch's
    OpenMP runtime and runs several times slower on few cores (`benchmarks/ct2_import_order.py`)."""
    import torch

    loaded = list(sys.modules)
    if loaded.index("torch") < loaded.index("ctranslate2"):
        warnings.warn("ctranslate2 was imported after torch, so CTranslate2 runs on torch's OpenMP threads, several "
                      "times slower on few cores: import ctranslate2 (or xlw) before torch", RuntimeWarning,
                      stacklevel=3)
    return threads or torch.get_num_threads()


def _batches(input_ids: Sequence[Sequence[int]], max_tokens: int, beams: int) -> Iterator[list[int]]:
    """Length-sorted batches of indices into `input_ids`, <= `max_tokens // beams` tokens each (a longer
    sequence gets a batch of its own), as `xlw.batching.padded_batches` makes them for torch."""
    lengths = [len(ids) for ids in input_ids]
    yield from token_budget_batches(lengths, max([max_tokens // beams, *lengths]), shuffle=False)


def to_ctranslate2(model_dir: str | Path, out_dir: str | Path, quantization: str = "int8") -> Path:
    """`model_dir` (a saved MarianMT model and tokenizer) converted by CTranslate2 into `out_dir`."""
    import ctranslate2
    from transformers import AutoTokenizer

    _check_quantization(quantization)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token_id != len(tokenizer) - 1:
        raise ValueError(f"{model_dir}: <pad> has id {tokenizer.pad_token_id}, but CTranslate2's Marian converter "
                         f"drops the last id ({len(tokenizer) - 1}) as <pad>; this model predates xlw's OPUS-MT "
                         "vocabulary layout: train it again (its notebook, or delete it from cache/)")
    ctranslate2.converters.TransformersConverter(str(model_dir)).convert(str(out_dir), quantization=quantization,
                                                                         force=True)
    return Path(out_dir)


class CT2Translator:
    """A converted model and its 🤗 tokenizer: `translate` takes and returns plain sentences."""

    def __init__(self, folder: str | Path, tokenizer, compute_type: str = "default", threads: int | None = None):
        import ctranslate2

        self.model = ctranslate2.Translator(str(folder), device="cpu", compute_type=compute_type,
                                            intra_threads=_threads(threads))
        self.tokenizer = tokenizer

    def translate(self, sentences: Sequence[str], max_tokens: int = 4000, beams: int = 1,
                  max_new_tokens: int = 128, prefix: str = "") -> list[str]:
        """Translations of `sentences` in input order: length-sorted batches of <= `max_tokens` source tokens,
        greedy (`beams` 1) or beam search, at most `max_new_tokens` each, as `xlw.generation.generate` does."""
        if isinstance(sentences, str):
            raise ValueError("sentences must be a list of strings, not a single string")
        if not sentences:
            return []
        tok = self.tokenizer
        sources = tok([prefix + s for s in sentences], truncation=True)["input_ids"]
        outputs: list[str] = [""] * len(sources)
        for batch in _batches(sources, max_tokens, beams):
            tokens = [tok.convert_ids_to_tokens(sources[i]) for i in batch]
            results = self.model.translate_batch(tokens, beam_size=beams, max_decoding_length=max_new_tokens)
            for i, found in zip(batch, results):
                outputs[i] = tok.decode(tok.convert_tokens_to_ids(found.hypotheses[0]), skip_special_tokens=True)
        return [text.strip() for text in outputs]


def llm_to_ctranslate2(model, tokenizer, out_dir: str | Path, quantization: str = "int8",
                       vocabulary: Sequence[int] | None = None) -> Path:
    """A causal LM (a peft model's adapter merged into a copy first) converted by CTranslate2 into `out_dir`;
    `vocabulary`: the only ids it may write (a -1e9 output bias elsewhere; `llm_mt.kept_ids` drops the other rows)."""
    import ctranslate2
    import numpy as np

    _check_quantization(quantization)
    merged = copy.deepcopy(model)
    merged = merged.merge_and_unload() if hasattr(merged, "merge_and_unload") else merged
    config = merged.config

    def edit(spec) -> None:
        # CTranslate2 scales queries by head_dim^-0.5; Gemma by query_pre_attn_scalar^-0.5 (equal in 270M)
        if getattr(config, "query_pre_attn_scalar", None):
            for layer in spec.decoder.layer:
                layer.self_attention.queries_scale = np.float32(config.query_pre_attn_scalar ** -0.5)
        if vocabulary is not None:
            bias = np.full(spec.decoder.projection.weight.shape[0], -1e9, dtype=np.float32)
            bias[np.asarray(vocabulary)] = 0.0
            spec.decoder.projection.bias = bias

    class Converter(ctranslate2.converters.TransformersConverter):
        def _load(self):
            spec = super()._load()
            edit(spec)
            return spec

    with tempfile.TemporaryDirectory() as folder:
        merged.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        Converter(folder).convert(str(out_dir), quantization=quantization, force=True)
    return Path(out_dir)


class CT2PromptedTranslator:
    """A converted causal LM translator: `translate` builds `llm_mt.few_shot_prompt`s and decodes (greedy or
    beam search) until <eos> or a line break, as `llm_mt.prompted_translate` does."""

    def __init__(self, folder: str | Path, tokenizer, compute_type: str = "default", threads: int | None = None):
        import ctranslate2

        self.model = ctranslate2.Generator(str(folder), device="cpu", compute_type=compute_type,
                                           intra_threads=_threads(threads))
        self.tokenizer = tokenizer

    def translate(self, sources: Sequence[str], src_lang: str, tgt_lang: str, max_tokens: int = 4096,
                  max_new_tokens: int = 64, beams: int = 1) -> list[str]:
        """Zero-shot translations of `sources` in input order, in length-sorted batches of <= `max_tokens`
        prompt tokens."""
        from xlw.llm_mt import few_shot_prompt, stop_ids

        if isinstance(sources, str):
            raise ValueError("sources must be a list of strings, not a single string")
        if not sources:
            return []
        tok = self.tokenizer
        prompts = tok([few_shot_prompt(s, [], src_lang, tgt_lang) for s in sources])["input_ids"]
        outputs: list[str] = [""] * len(prompts)
        for batch in _batches(prompts, max_tokens, beams):
            results = self.model.generate_batch([tok.convert_ids_to_tokens(prompts[i]) for i in batch],
                                                max_length=max_new_tokens, beam_size=beams, sampling_topk=1,
                                                end_token=stop_ids(tok),
                                                include_prompt_in_result=False)
            for i, found in zip(batch, results):
                outputs[i] = tok.decode(found.sequences_ids[0], skip_special_tokens=True).split("\n")[0].strip()
        return outputs
