"""A joint subword vocabulary for translation, trained from scratch on the training text only.

No pretrained translation model is at hand offline, so each translation notebook trains its own
tokenizer: 🤗 `tokenizers` BPE over both languages at once, wrapped as a `transformers` fast
tokenizer so that `AutoTokenizer`, `DataCollatorForSeq2Seq` and `generate` work with it as with
Marian's.

- Normalizer NFKC, so full-width and half-width forms share pieces. It is lossy on purpose:
  Chinese full-width `，？！：；（）` become `,?!:;()` (`。、“”《》` stay) and decode that way, so score against
  `normalized(tokenizer, references)`, not the raw references.
- Metaspace pre-tokenizer (SentencePiece style): spaces become `▁` and words split there, so a
  Chinese sentence is one long "word" inside which BPE learns multi-character pieces.
- Every character of the training text is in the alphabet, so none of it maps to `<unk>`; the 256
  byte pieces `<0x00>`…`<0xFF>` (byte fallback) spell characters never seen in training, such as
  rare hanzi in a test set, instead of `<unk>`.
- Ids as in OPUS-MT's Marian models: `</s>` 0, `<unk>` 1, then opus-mt style target-language tags `>>de<<`,
  `>>en<<`, `>>fr<<`, `>>zh<<` and any extra special tokens, the pieces, and `<pad>` last. Marian starts
  decoding from `<pad>` (a zero embedding); converters that know this drop the last row, CTranslate2's
  among them (`xlw.engines`). Every encoded sequence ends with `</s>`.

Decoding with `skip_special_tokens=True` gives back the NFKC text, spaces between Chinese and Latin
script included, with two known losses: one leading space of a text is dropped, and a literal `▁`
in the input comes back as a space.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
LANGUAGES = ("de", "en", "fr", "zh")
BYTE_PIECES = [f"<0x{b:02X}>" for b in range(256)]


def lang_tag(lang: str) -> str:
    """The opus-mt style token that asks for output in `lang`, e.g. `>>de<<`."""
    return f">>{lang}<<"


def _untrained_tokenizer() -> Tokenizer:
    """The BPE pipeline before training: NFKC, Metaspace, byte-fallback decoding."""
    tok = Tokenizer(models.BPE(unk_token=UNK, byte_fallback=True))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace()])
    return tok


def _with_byte_pieces(tok: Tokenizer) -> Tokenizer:
    """`tok` with the byte pieces, then `<pad>`, added to its model's vocabulary (byte fallback needs them)."""
    # BpeTrainer cannot add plain (non-special) tokens, and special ones would vanish when
    # decoding with skip_special_tokens, so append them to the trained vocabulary itself.
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    for piece in [*BYTE_PIECES, PAD]:
        vocab.setdefault(piece, len(vocab))
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.add_special_tokens([PAD])  # the id it has: the last
    return tok


def train_tokenizer(texts: Iterable[str], vocab_size: int, save_dir: Path | str | None = None,
                    extra_special_tokens: Sequence[str] = (),
                    model_max_length: int = 512) -> PreTrainedTokenizerFast:
    """A joint BPE tokenizer of about `vocab_size` pieces trained on `texts` (all languages)."""
    specials = [EOS, UNK, *map(lang_tag, LANGUAGES), *extra_special_tokens]  # `<pad>` comes last
    if vocab_size <= 1 + len(specials) + len(BYTE_PIECES):
        raise ValueError(f"vocab_size={vocab_size} leaves no room for pieces: it must exceed "
                         f"{1 + len(specials)} special tokens + {len(BYTE_PIECES)} byte pieces")
    tok = _untrained_tokenizer()
    # The alphabet is never cut, so a training set with more distinct characters than
    # vocab_size allows (thousands of hanzi, a tiny vocab) ends up with a larger vocabulary.
    trainer = trainers.BpeTrainer(vocab_size=vocab_size - len(BYTE_PIECES) - 1, special_tokens=specials,
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer)
    tok = _with_byte_pieces(tok)
    tok.post_processor = processors.TemplateProcessing(  # Marian style: `text </s>`, no BOS
        single=f"$A {EOS}", pair=f"$A $B {EOS}", special_tokens=[(EOS, tok.token_to_id(EOS))])
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token=PAD, eos_token=EOS, unk_token=UNK,
        extra_special_tokens=specials[2:], model_max_length=model_max_length)
    if save_dir is not None:
        wrapped.save_pretrained(save_dir)
    return wrapped


def token_lengths(tokenizer: PreTrainedTokenizerFast, texts: Sequence[str]) -> list[int]:
    """The number of tokens, `</s>` included and before any truncation, of each text."""
    # The Rust backend encodes the batch on all cores; going through `tokenizer(...)` gives the
    # same numbers but builds Python lists of every id first, about 1.5x slower. A copy, because
    # the backend keeps the padding state of the last `tokenizer(..., padding=True)` call.
    backend = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    backend.no_padding()
    backend.no_truncation()
    return [len(e) for e in backend.encode_batch(list(texts))]


def normalized(tokenizer: PreTrainedTokenizerFast, texts: Sequence[str]) -> list[str]:
    """`texts` as the tokenizer normalizes them (NFKC): what decoding can give back at best."""
    return [tokenizer.backend_tokenizer.normalizer.normalize_str(t) for t in texts]
