"""Machine translation as the alternative to zero-shot transfer (XTREME's translate-train and translate-test).

    pairs = translator_pairs("cpu")                 # the pairs 03b fine-tunes: its translators
    german = translate_texts("cpu", "en-de", texts)  # 03b's en→de model, from the cache

Translate-train machine-translates the English training texts into the target language and trains there;
translate-test translates the target-language test texts into English and applies the English model.
Both use 03b's fine-tuned Gemma translators, which cover only the pairs 03b fine-tunes (`pairs`).
"""

from __future__ import annotations

from collections.abc import Sequence

from xlw.config import settings
from xlw.corpora import direction, load_pair
from xlw.llm_mt import load_translator, prompted_translate, trained_translator
from xlw.trained import cache_entry

TRANSLATOR_NOTEBOOK = "03b_llm_translation"


def translator_pairs(profile: str, seed: int = 0) -> list[str]:
    """The pairs 03b fine-tunes under `profile` that have a translator here (`has_translator`)."""
    return [pair for pair in settings(profile, TRANSLATOR_NOTEBOOK).pairs if _available(profile, pair, seed)]


def has_translator(profile: str, pair: str, seed: int = 0) -> bool:
    """Whether 03b fine-tunes `pair` and its model is in the cache, or its training corpus is here to train it
    from as 03b does (a corpus can be named while its files are missing)."""
    return pair in settings(profile, TRANSLATOR_NOTEBOOK).pairs and _available(profile, pair, seed)


def _available(profile: str, pair: str, seed: int) -> bool:
    """Whether 03b's model of `pair` is in the cache, or `pair`'s training corpus loads here."""
    if cache_entry(profile, TRANSLATOR_NOTEBOOK, pair, seed).ready:
        return True
    try:
        load_pair(pair, "train")
    except (ValueError, FileNotFoundError):  # no corpus for the pair, or its files are not here
        return False
    return True


def translate_texts(profile: str, pair: str, texts: Sequence[str], seed: int = 0, max_new_tokens: int = 64,
                    length_ratio: float = 1.5, restrict_output: bool = False, progress: bool = True) -> list[str]:
    """`texts` translated by 03b's model of `pair` (trained here, as 03b trains it, when the cache lacks it).

    `restrict_output` keeps 03b's restricted output layer: only the ids of the translator's training targets
    (Multi30k or Tatoeba words). That is faster, but cannot write a word outside that corpus, so the default
    for text of another domain (tweets, Wikipedia) is the whole layer (benchmarks/translate_test_vocabulary.py).
    """
    if not has_translator(profile, pair, seed):  # checks this pair only: the others' corpora stay unread
        raise ValueError(f"pair {pair!r} has no translator under profile {profile!r}: 03b fine-tunes "
                         f"{', '.join(translator_pairs(profile, seed)) or 'none'} here (its `pairs` with a saved "
                         "model or a corpus)")
    folder = trained_translator(cache_entry(profile, TRANSLATOR_NOTEBOOK, pair, seed))
    model, tokenizer, meta = load_translator(folder)
    src, tgt = direction(pair)
    return prompted_translate(model, tokenizer, list(texts), [], src, tgt, max_new_tokens=max_new_tokens,
                              length_ratio=length_ratio, vocabulary=meta["vocabulary"] if restrict_output else None,
                              progress=progress)
