"""Cross-lingual retrieval: lexical scores, cosines of sentence embeddings (`xlw.embedding`) and contrastive
(InfoNCE) tuning.

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
from transformers import PreTrainedTokenizerBase

from xlw import metrics
from xlw.embedding import encode, unit
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
