"""Model builders: a Marian translation model from scratch, or any seq2seq model by name or path.

Models are plain 🤗 `transformers` classes saved with `save_pretrained`, so the code that loads a
from-scratch checkpoint here also loads `Helsinki-NLP/opus-mt-en-de` where a hub is reachable.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, MarianConfig, MarianMTModel, PreTrainedTokenizerBase


def new_marian(tokenizer: PreTrainedTokenizerBase, d_model: int = 256, layers: int = 3, heads: int = 4,
               ffn_dim: int = 1024, dropout: float = 0.1, max_positions: int = 256) -> MarianMTModel:
    """A randomly initialised Marian (Transformer-base layout, post-norm) sized for `tokenizer`."""
    if d_model % heads:
        raise ValueError(f"d_model={d_model} must be divisible by heads={heads}")
    config = MarianConfig(
        vocab_size=len(tokenizer), d_model=d_model, encoder_layers=layers, decoder_layers=layers,
        encoder_attention_heads=heads, decoder_attention_heads=heads, encoder_ffn_dim=ffn_dim,
        decoder_ffn_dim=ffn_dim, dropout=dropout, attention_dropout=dropout, activation_dropout=0.0,
        max_position_embeddings=max_positions, scale_embedding=True,
        # Marian starts decoding from the pad id; one joint vocabulary means shared, tied embeddings.
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id, forced_eos_token_id=tokenizer.eos_token_id,
        share_encoder_decoder_embeddings=True, tie_word_embeddings=True,
    )
    return MarianMTModel(config)


def load_seq2seq(name_or_path: str | Path) -> tuple[AutoModelForSeq2SeqLM, PreTrainedTokenizerBase]:
    """A saved seq2seq model and its tokenizer, from a local folder or (with a hub) a model id."""
    path = Path(name_or_path)
    looks_local = path.exists() or str(name_or_path).startswith((".", "/", "~"))
    if looks_local and not (path / "config.json").exists():
        raise FileNotFoundError(f"{path} holds no saved model (no config.json): train and save_pretrained "
                                "one there, or give a hub id such as 'Helsinki-NLP/opus-mt-en-de'")
    try:
        return AutoModelForSeq2SeqLM.from_pretrained(name_or_path), AutoTokenizer.from_pretrained(name_or_path)
    except OSError as err:  # a hub id without a reachable hub
        raise OSError(f"could not load model {str(name_or_path)!r}: {err}. Offline, give the folder of a model "
                      "saved with save_pretrained") from err


def translation_model(hub_id: str | None, train_texts: Sequence[str], vocab_size: int, max_length: int,
                      **sizes) -> tuple[AutoModelForSeq2SeqLM, PreTrainedTokenizerBase]:
    """A pretrained model by `hub_id` (gpu profile), else a new tokenizer and Marian trained from scratch."""
    if hub_id:
        return load_seq2seq(hub_id)
    from xlw.tokenization import train_tokenizer

    tokenizer = train_tokenizer(train_texts, vocab_size=vocab_size, model_max_length=max_length)
    return new_marian(tokenizer, max_positions=max_length, **sizes), tokenizer
