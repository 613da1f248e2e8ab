"""One model for many directions: target-language tags, temperature sampling, pivoting, language ID.

A multilingual model (Johnson et al., 2017) reads its target language from a tag in front of the
source, `>>fr<< Ein Hund läuft.`; a direction it never saw in training (zero-shot) is asked for by
the same tag (a causal LM reads it from its prompt instead: `xlw.llm_mt.few_shot_prompt`).
Directions are mixed by temperature sampling (Arivazhagan et al., 2019): direction L gets a share
p_L proportional to n_L^(1/T) of the training examples, so the expected loss of a batch is the
weighted joint loss sum_L p_L * loss_L derived in 01_math.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from datasets import Dataset, concatenate_datasets

from xlw.corpora import direction
from xlw.derivations import temperature_weights
from xlw.generation import generate
from xlw.tokenization import lang_tag


def checked_pairs(pairs: Sequence[str]) -> list[str]:
    """`pairs` sorted without repeats, each checked by `direction` (a clear error for anything but 'src-tgt')."""
    for pair in pairs:
        direction(pair)
    return sorted(set(pairs))


def shared_language(pairs: Sequence[str]) -> str:
    """The one language every pair has (the pivot of an English-centric set such as en-de, en-fr)."""
    common = set.intersection(*(set(direction(p)) for p in pairs)) if pairs else set()
    if len(common) != 1:
        raise ValueError(f"pairs {list(pairs)} must share exactly one language (e.g. en-de, en-fr), not "
                         f"{sorted(common) or 'none'}")
    return common.pop()


def tagged(pairs: Dataset, tgt_lang: str) -> Dataset:
    """`pairs` with the target-language tag put in front of every source, e.g. `>>fr<< Ein Hund.`."""
    tag = lang_tag(tgt_lang)
    return pairs.map(lambda row: {"src": f"{tag} {row['src']}"})


def mix_counts(sizes: Mapping[str, int], temperature: float, total: int | None = None) -> dict[str, int]:
    """How many examples of each direction a mix of `total` (default: all) examples holds at `temperature`."""
    total = sum(sizes.values()) if total is None else total
    shares = temperature_weights(list(sizes.values()), temperature)
    return {name: int(round(total * p)) for name, p in zip(sizes, shares)}


def temperature_mix(sets: Mapping[str, Dataset], temperature: float, total: int | None = None,
                    seed: int = 0) -> Dataset:
    """One training set drawing `mix_counts` examples from each direction (whole copies, then a random rest).

    T = 1 keeps every set as it is (examples sampled uniformly); larger T up-samples the small
    directions and down-samples the large ones. A column `direction` names each row's set.
    """
    rng = np.random.default_rng(seed)
    parts = []
    for name, count in mix_counts({k: len(v) for k, v in sets.items()}, temperature, total).items():
        n = len(sets[name])
        rows = np.concatenate([np.tile(np.arange(n), count // n), rng.permutation(n)[: count % n]])
        parts.append(sets[name].select(rows).add_column("direction", [name] * len(rows)))
    return concatenate_datasets(parts).shuffle(seed=seed)


def translate_to(model, tokenizer, sources: Sequence[str], tgt_lang: str, num_beams: int = 1,
                 max_tokens: int = 4000, length_ratio: float | None = 1.5) -> list[str]:
    """`sources` translated by a tagged multilingual model into `tgt_lang` (outputs capped as in `generate`)."""
    return generate(model, tokenizer, sources, max_tokens=max_tokens, num_beams=num_beams,
                    prefix=f"{lang_tag(tgt_lang)} ", progress=False, length_ratio=length_ratio)


def pivot_translate(translate: Callable[[list[str], str, str], list[str]], sources: Sequence[str], src_lang: str,
                    tgt_lang: str, pivot: str = "en") -> tuple[list[str], list[str]]:
    """`src_lang` → `pivot` → `tgt_lang` with `translate(sentences, src, tgt)` (any model); (pivot, targets)."""
    middle = translate(list(sources), src_lang, pivot)
    return middle, translate(middle, pivot, tgt_lang)


def train_language_id(texts: Mapping[str, Sequence[str]], seed: int = 0):
    """A character 1–3-gram TF-IDF + logistic-regression language identifier (scikit-learn pipeline).

    Character n-grams are what n-gram language identifiers (Cavnar & Trenkle, 1994; langid.py)
    have always used: short texts in related languages differ most in their letter sequences.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    langs = sorted(texts)
    if len(langs) < 2:
        raise ValueError(f"language ID needs texts of at least two languages, got {langs}")
    x = [t for lang in langs for t in texts[lang]]
    y = [lang for lang in langs for _ in texts[lang]]
    model = make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=2),
                          LogisticRegression(max_iter=2000, C=10.0, random_state=seed))
    return model.fit(x, y)


def language_shares(language_id, texts: Sequence[str]) -> pd.Series:
    """The fraction of `texts` identified as each language (empty outputs count as '(empty)')."""
    texts = list(texts)
    labels = np.array(["(empty)"] * len(texts), dtype=object)
    filled = [i for i, t in enumerate(texts) if t.strip()]
    if filled:
        labels[filled] = language_id.predict([texts[i] for i in filled])
    return pd.Series(labels).value_counts(normalize=True).sort_index()


def off_target_rate(language_id, texts: Sequence[str], tgt_lang: str) -> float:
    """The fraction of `texts` that are not in `tgt_lang` (Zhang et al., 2020), empty outputs included."""
    if not texts:
        raise ValueError("off_target_rate needs at least one text")
    return 1.0 - float(language_shares(language_id, texts).get(tgt_lang, 0.0))
