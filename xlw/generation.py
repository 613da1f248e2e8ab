"""Batched generation through `model.generate`, sorted by length so batches carry little padding."""

from __future__ import annotations

from collections.abc import Sequence

from xlw.batching import in_input_order


def generate(model, tokenizer, sentences: Sequence[str], max_tokens: int = 4000, num_beams: int = 1,
             max_new_tokens: int = 128, prefix: str = "", progress: bool = True, **generate_kwargs) -> list[str]:
    """Translate (or otherwise generate from) `sentences`; outputs come back in input order.

    Sentences are grouped by source length into batches of at most `max_tokens` padded source
    tokens (divided by `num_beams`, since beams multiply the decoder's batch); `prefix` is put in
    front of every source (e.g. a target-language tag `>>de<< `). Sources longer than
    `tokenizer.model_max_length` are truncated to it.
    """
    if isinstance(sentences, str):
        raise ValueError("sentences must be a list of strings, not a single string")
    if not sentences:
        return []
    sources = tokenizer([prefix + s for s in sentences], truncation=True)["input_ids"]

    def translate(inputs: dict) -> list[str]:
        ids = model.generate(**inputs, num_beams=num_beams, max_new_tokens=max_new_tokens, **generate_kwargs)
        return [text.strip() for text in tokenizer.batch_decode(ids, skip_special_tokens=True)]

    return in_input_order(model, tokenizer, sources, translate, max_tokens // num_beams,
                          desc=f"generate (beams={num_beams})", progress=progress)
