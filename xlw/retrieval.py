"""Cross-lingual retrieval: lexical scores, mean-pooled sentence embeddings and contrastive (InfoNCE) tuning.

Every scorer returns a (n_queries, n_docs) matrix; `xlw.metrics` turns it and the gold document of
each query into accuracy@1, Recall@k, MRR, MAP and NDCG@10 (`ranking_scores`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from rank_bm25 import BM25Okapi
from sklearn.feature_extraction.text import TfidfVectorizer
from torch.utils.data import DataLoader
from transformers import AutoModel, PreTrainedTokenizerBase

from xlw import metrics
from xlw.batching import in_input_order
from xlw.pretrained import load_tokenizer, resolve
from xlw.qa import load_xquad
from xlw.train import LossFn

_WORD = re.compile(r"\w+")


def word_tokens(text: str) -> list[str]:
    """Lower-cased word tokens (runs of letters and digits), the lexical methods' units."""
    return _WORD.findall(text.lower())


def bm25_scores(queries: Sequence[str], docs: Sequence[str]) -> np.ndarray:
    """Okapi BM25 (k1 = 1.5, b = 0.75, rank_bm25's defaults) of every document for every query."""
    index = BM25Okapi([word_tokens(d) for d in docs])
    return np.stack([index.get_scores(word_tokens(q)) for q in queries])


def tfidf_scores(queries: Sequence[str], docs: Sequence[str]) -> np.ndarray:
    """Cosine similarity of TF-IDF vectors (word uni- and bigrams; IDF from the documents)."""
    vectorizer = TfidfVectorizer(tokenizer=word_tokens, token_pattern=None, lowercase=False,
                                 ngram_range=(1, 2), sublinear_tf=True).fit(docs)
    return (vectorizer.transform(queries) @ vectorizer.transform(docs).T).toarray()


def load_encoder(name: str, source: str, layers: int | None = None):
    """(model, tokenizer): the bare transformer of pretrained model `name` (no LM head), first `layers` layers only."""
    path = resolve(name, source)
    model = AutoModel.from_pretrained(path, dtype=torch.float32).eval()
    if layers is not None:
        truncate_layers(model, layers)
    return model, load_tokenizer(path)


def truncate_layers(model: torch.nn.Module, layers: int) -> torch.nn.Module:
    """Keep a decoder's first `layers` blocks and drop its final norm, so its output is hidden state `layers`.

    A representation taken from layer ℓ does not depend on the blocks above ℓ: dropping them gives
    the same vectors at a fraction of the cost (for embedding and for training alike).
    """
    if not (hasattr(model, "layers") and hasattr(model, "norm")):
        raise TypeError(f"{type(model).__name__} has no `layers` and `norm`: truncation needs a decoder's base model")
    if not 1 <= layers <= len(model.layers):
        raise ValueError(f"layers must be from 1 to {len(model.layers)}, got {layers}")
    model.layers = model.layers[:layers]
    model.config.num_hidden_layers = layers
    model.norm = torch.nn.Identity()
    return model


def pooling_mask(input_ids: torch.Tensor, attention_mask: torch.Tensor, bos_token_id: int | None) -> torch.Tensor:
    """Which tokens a sentence vector averages: the real ones, minus the <bos> a decoder starts with.

    A decoder's <bos> carries huge activations (it is where attention heads park, an "attention
    sink") and is the same in every sentence, so averaging it in drowns the sentence's own content.
    Encoders such as MiniLM have no <bos> (`bos_token_id` None) and keep every token, as sentence-transformers does.
    """
    mask = attention_mask.bool()
    return mask & (input_ids != bos_token_id) if bos_token_id is not None else mask


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of each sequence's hidden states over the tokens `mask` marks."""
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def encode(model: torch.nn.Module, inputs: dict[str, torch.Tensor], bos_token_id: int | None = None,
           all_layers: bool = False) -> torch.Tensor:
    """Mean-pooled sentence vectors of one padded batch: (batch, dim), or (batch, layers + 1, dim) for every layer."""
    mask = pooling_mask(inputs["input_ids"], inputs["attention_mask"], bos_token_id)
    if not all_layers:
        return mean_pool(model(**inputs).last_hidden_state, mask)
    states = model(**inputs, output_hidden_states=True).hidden_states  # embeddings, then each layer
    return torch.stack([mean_pool(h, mask) for h in states], dim=1)


def embed(model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int = 256,
          max_tokens: int = 4096, all_layers: bool = False, desc: str = "embed") -> torch.Tensor:
    """Mean-pooled embeddings of `texts` in input order, batched by length (see `encode`); not yet normalised."""
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    def batch_vectors(inputs: dict) -> torch.Tensor:
        return encode(model, inputs, tokenizer.bos_token_id, all_layers).float().cpu()

    return torch.stack(in_input_order(model, tokenizer, encoded, batch_vectors, max_tokens, desc=desc))


def unit(vectors: torch.Tensor, center: bool = False) -> torch.Tensor:
    """`vectors` scaled to unit length along the last axis, after subtracting their mean if `center`.

    Centering removes what all the vectors share — for an LLM, a few "massive" dimensions and a
    language-specific offset — which is what makes raw cosines of different sentences nearly equal
    (Libovický et al., 2020, centre each language's representations the same way).
    """
    return F.normalize(vectors - vectors.mean(dim=0) if center else vectors, dim=-1)


def cosine_scores(queries: torch.Tensor, docs: torch.Tensor, center: bool = False) -> np.ndarray:
    """Cosine similarities of query and document embeddings (each side centred on its own mean if `center`)."""
    return (unit(queries, center) @ unit(docs, center).T).numpy()


def ranking_scores(scores, gold) -> dict[str, float]:
    """accuracy@1, Recall@5/10, MRR, MAP and NDCG@10 of a score matrix against each query's gold document."""
    k10 = min(10, np.shape(scores)[1])
    return {"acc1": metrics.accuracy_at_1(scores, gold), "recall5": metrics.recall_at_k(scores, gold, min(5, k10)),
            "recall10": metrics.recall_at_k(scores, gold, k10), "mrr": metrics.mrr(scores, gold),
            "map": metrics.mean_average_precision(scores, gold), "ndcg10": metrics.ndcg_at_k(scores, gold, k10)}


def xquad_retrieval(query_lang: str, doc_lang: str, n_questions: int | None = None,
                    seed: int = 0) -> tuple[list[str], list[str], np.ndarray]:
    """(questions in `query_lang`, XQuAD's 240 paragraphs in `doc_lang`, gold paragraph index per question).

    XQuAD's question ids are the same in every language, so a German question's gold paragraph is
    the English paragraph its English twin was asked about. `n_questions` draws a seeded subset
    (the same ids for every language).
    """
    questions, docs = load_xquad(query_lang), load_xquad(doc_lang)
    paragraphs = list(dict.fromkeys(docs["context"]))
    paragraph_of = dict(zip(docs["id"], docs["context"].map({p: i for i, p in enumerate(paragraphs)})))
    missing = set(questions["id"]) - set(paragraph_of)
    if missing:
        raise ValueError(f"XQuAD {query_lang} has {len(missing)} question ids that {doc_lang} lacks, "
                         f"e.g. {sorted(missing)[0]!r}")
    questions = questions.sort_values("id", kind="stable")
    if n_questions is not None and n_questions < len(questions):
        questions = questions.sample(n=n_questions, random_state=seed).sort_values("id", kind="stable")
    return list(questions["question"]), paragraphs, questions["id"].map(paragraph_of).to_numpy()


def info_nce(queries: torch.Tensor, docs: torch.Tensor, temperature: float, center: bool = False) -> torch.Tensor:
    """Symmetric InfoNCE with in-batch negatives: row i of `queries` should pick row i of `docs`, and back."""
    if queries.shape != docs.shape:
        raise ValueError(f"queries {tuple(queries.shape)} and docs {tuple(docs.shape)} must pair up row by row")
    logits = unit(queries, center) @ unit(docs, center).T / temperature
    targets = torch.arange(len(logits), device=logits.device)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


def pair_loader(pairs: pd.DataFrame, tokenizer: PreTrainedTokenizerBase, batch_size: int, max_length: int = 64,
                seed: int = 0) -> DataLoader:
    """Shuffled batches of translation pairs (`src`, `tgt` columns) as `src_*` / `tgt_*` padded inputs.

    Batches are random, not length-bucketed: the other pairs of a batch are the negatives, and
    bucketing would make them systematically similar in length.
    """
    if not {"src", "tgt"} <= set(pairs.columns):
        raise ValueError(f"pairs needs columns 'src' and 'tgt', got {list(pairs.columns)}")

    def collate(rows: list[dict]) -> dict[str, torch.Tensor]:
        batch = {}
        for side in ("src", "tgt"):
            encoded = tokenizer([r[side] for r in rows], truncation=True, max_length=max_length, padding=True,
                                return_tensors="pt")
            batch |= {f"{side}_{k}": v for k, v in encoded.items() if k in ("input_ids", "attention_mask")}
        return batch

    generator = torch.Generator().manual_seed(seed)
    return DataLoader(pairs[["src", "tgt"]].to_dict("records"), batch_size=batch_size, shuffle=True,
                      drop_last=True, collate_fn=collate, generator=generator)


def contrastive_loss(temperature: float = 0.05, bos_token_id: int | None = None, center: bool = False) -> LossFn:
    """A loss for `xlw.train.train`: InfoNCE between the mean-pooled source and target sides of a `pair_loader` batch.

    With `center`, each side is centred on its batch mean, as `cosine_scores` centres on the set's mean.
    """
    def loss(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        sides = [encode(model, {"input_ids": batch[f"{s}_input_ids"], "attention_mask": batch[f"{s}_attention_mask"]},
                        bos_token_id) for s in ("src", "tgt")]
        return info_nce(*sides, temperature, center)
    return loss
