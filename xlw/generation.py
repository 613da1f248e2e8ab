"""Batched generation through `model.generate`, sorted by length so batches carry little padding."""

from __future__ import annotations

from collections.abc import Sequence

from xlw.batching import in_input_order


def generate(model, tokenizer, sentences: Sequence[str], max_tokens: int = 4000, num_beams: int = 1,
             max_new_tokens: int = 128, prefix: str = "", progress: bool = True, length_ratio: float | None = None,
             **generate_kwargs) -> list[str]:
    """Translate (or otherwise generate from) `sentences`; outputs come back in input order.

    Sentences are grouped by source length into batches of at most `max_tokens` padded source
    tokens (divided by `num_beams`, since beams multiply the decoder's batch); `prefix` is put in
    front of every source (e.g. a target-language tag `>>de<< `). Sources are truncated to
    `tokenizer.model_max_length` and, like outputs, to the positions an encoder–decoder has.
    `length_ratio` also caps a batch's outputs at `length_ratio` × its longest source + 10 tokens
    (fairseq's max_len_a/b), so that a weak model's repetition loops end early.
    """
    if isinstance(sentences, str):
        raise ValueError("sentences must be a list of strings, not a single string")
    if not sentences:
        return []
    max_length = tokenizer.model_max_length
    if model.config.is_encoder_decoder:  # no longer than the model's positions, on either side
        max_length = min(max_length, model.config.max_position_embeddings)
        max_new_tokens = min(max_new_tokens, model.config.max_position_embeddings - 1)  # + the start token
    sources = tokenizer([prefix + s for s in sentences], truncation=True, max_length=max_length)["input_ids"]

    def translate(inputs: dict) -> list[str]:
        limit = max_new_tokens
        if length_ratio is not None:
            limit = min(limit, int(length_ratio * inputs["input_ids"].shape[1]) + 10)
        ids = model.generate(**inputs, num_beams=num_beams, max_new_tokens=limit, **generate_kwargs)
        return [text.strip() for text in tokenizer.batch_decode(ids, skip_special_tokens=True)]

    return in_input_order(model, tokenizer, sources, translate, max_tokens // num_beams,
                          desc=f"generate (beams={num_beams})", progress=progress)
