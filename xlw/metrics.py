"""Evaluation metrics for the notebooks: translation, classification, extractive QA and retrieval.

Each metric is a thin layer over the library that defines it (sacreBLEU, scikit-learn, numpy), plus
input checks: a wrong call raises an error naming the parameter and what was expected, rather than a
deep traceback or a silently wrong number.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import regex
from sacrebleu.metrics import BLEU, CHRF, TER
from sklearn import metrics as skm
from sklearn.utils.multiclass import unique_labels

if TYPE_CHECKING:
    import torch
    from numpy.typing import ArrayLike

    Matrix = np.ndarray | torch.Tensor
    Relevance = Sequence[int] | Matrix  # a gold document index per query, or a relevance matrix
    Refs = Sequence[str] | Sequence[Sequence[str]]  # one reference stream, or several


# --- Machine translation -------------------------------------------------------------------------

@dataclass(frozen=True)
class Score:
    """A corpus score with sacreBLEU's signature, which is what makes the number reproducible."""

    name: str
    score: float
    signature: str

    def __float__(self) -> float:
        """The score itself, so that a Score can stand where a number is expected."""
        return self.score


# Writing systems (ISO 15924) that put no spaces between words: their text is scored by character.
HAN_SCRIPTS = {"Hans", "Hant", "Hani"}  # Chinese, simplified and traditional
UNSPACED_SCRIPTS = HAN_SCRIPTS | {"Jpan", "Thai", "Laoo", "Khmr", "Mymr"}


def script_of(lang: str) -> str:
    """The usual script of a language code (CLDR likely subtags: 'th' → 'Thai', 'zh-TW' → 'Hant')."""
    import langcodes

    try:
        return langcodes.Language.get(lang.replace("_", "-")).maximize().script or "Zyyy"
    except (langcodes.LanguageTagError, ValueError):
        return "Zyyy"  # "undetermined": an unknown code is scored like a spaced language


@functools.cache  # sentence_bleu asks once per sentence; CLDR lookups and the MeCab probe need not repeat
def bleu_tokenizer(target_lang: str) -> str:
    """sacreBLEU's tokenizer for a target language, chosen by its script.

    Chinese: `zh` (the WMT protocol). Japanese and Korean: `ja-mecab`/`ko-mecab` when MeCab is
    installed (sacreBLEU's own default), else `char` / `13a`. Other unspaced scripts (Thai, Lao,
    Khmer, Myanmar): `char`, since FLORES' `flores200` needs a SentencePiece model from the internet.
    Everything else: `13a`, the WMT default.
    """
    script = script_of(target_lang)
    if script in HAN_SCRIPTS:
        return "zh"
    mecab = importlib.util.find_spec("MeCab") is not None
    if script == "Jpan":
        return "ja-mecab" if mecab else "char"
    if script == "Kore":
        return "ko-mecab" if mecab else "13a"
    return "char" if script in UNSPACED_SCRIPTS else "13a"


def _sentences(name: str, sentences: Any) -> list[str]:
    """`sentences` as a non-empty list of strings, else a ValueError naming `name`."""
    # A bare string is iterable, so without this check it would be scored character by character.
    if isinstance(sentences, str):
        raise ValueError(f"{name} must be a list of strings, not a single string")
    sentences = list(sentences)
    bad = [type(s).__name__ for s in sentences if not isinstance(s, str)]
    if bad:
        raise ValueError(f"{name} must be a list of strings, but it holds {len(bad)} of type {bad[0]}")
    if not sentences:
        raise ValueError(f"{name} is empty: expected at least one sentence")
    return sentences


def _streams(hyps: Sequence[str], refs: Refs) -> list[list[str]]:
    """`refs` as sacreBLEU's list of reference streams, each checked to be aligned with `hyps`."""
    if isinstance(refs, str) or len(refs) == 0:
        raise ValueError("refs must be a list of reference sentences or a list of such lists")
    streams = [refs] if all(isinstance(r, str) for r in refs) else list(refs)
    checked = [_sentences(f"refs[{i}]" if len(streams) > 1 else "refs", s) for i, s in enumerate(streams)]
    for i, stream in enumerate(checked):
        if len(stream) != len(hyps):
            raise ValueError(
                f"hyps has {len(hyps)} sentences but reference stream {i} has {len(stream)}: refs must be "
                "one list aligned with hyps, or a list of such lists (one per reference set)"
            )
    return checked


def _corpus(metric: BLEU | CHRF | TER, hyps: Sequence[str], refs: Refs) -> Score:
    """Score `hyps` against `refs` with a sacreBLEU metric object."""
    hyps = _sentences("hyps", hyps)
    result = metric.corpus_score(hyps, _streams(hyps, refs))
    return Score(result.name, float(result.score), str(metric.get_signature()))


def _bleu_metric(target_lang: str, effective_order: bool = False) -> BLEU:
    """Cased BLEU with the tokenizer of `bleu_tokenizer(target_lang)`."""
    # Named rather than left to trg_lang, which would pick ja-mecab/ko-mecab even where MeCab is missing.
    return BLEU(tokenize=bleu_tokenizer(target_lang), trg_lang=target_lang, effective_order=effective_order)


def bleu(hyps: Sequence[str], refs: Refs, target_lang: str = "en") -> Score:
    """Corpus BLEU; `refs` is one reference list aligned with `hyps` or a list of several."""
    return _corpus(_bleu_metric(target_lang), hyps, refs)


def chrf(hyps: Sequence[str], refs: Refs, target_lang: str = "en") -> Score:
    """Corpus chrF2; it compares characters, so `target_lang` is accepted only to match `bleu`."""
    return _corpus(CHRF(), hyps, refs)


def ter(hyps: Sequence[str], refs: Refs, target_lang: str = "en") -> Score:
    """Corpus TER (lower is better), splitting CJK characters apart (sacreBLEU's asian_support) for Chinese
    and Japanese targets."""
    return _corpus(TER(asian_support=script_of(target_lang) in HAN_SCRIPTS | {"Jpan"}), hyps, refs)


def corpus_scores(hyps: Sequence[str], refs: Refs, target_lang: str = "en") -> dict[str, Score]:
    """BLEU, chrF and TER of one system output, keyed `bleu`, `chrf`, `ter`."""
    return {f.__name__: f(hyps, refs, target_lang) for f in (bleu, chrf, ter)}


def sentence_bleu(hyp: str, refs: str | Sequence[str], target_lang: str = "en") -> float:
    """BLEU of one sentence with effective n-gram order, so short sentences do not all score 0."""
    if not isinstance(hyp, str):
        raise ValueError(f"hyp must be a string, got {type(hyp).__name__}")
    refs = [refs] if isinstance(refs, str) else _sentences("refs", refs)
    return float(_bleu_metric(target_lang, effective_order=True).sentence_score(hyp, refs).score)


BLEU_VARIANTS = {"sacreBLEU: cased, 13a": {}, "lowercased, 13a": {"lowercase": True},
                 "cased, intl tokenization": {"tokenize": "intl"}}


def bleu_variants(hyps: Sequence[str], refs: Refs) -> pd.DataFrame:
    """One output under common BLEU variants, to show why published numbers differ (non-Chinese targets)."""
    streams = _streams(hyps, refs)
    return pd.DataFrame([{"variant": name, "BLEU": BLEU(**kw).corpus_score(list(hyps), streams).score}
                         for name, kw in BLEU_VARIANTS.items()])

def bleu_by_length(src_lengths: Sequence[int], hyps: Sequence[str], refs: Sequence[str],
                   bins: Sequence[int] = (0, 10, 15, 20, 30, 1000), target_lang: str = "en") -> pd.DataFrame:
    """Corpus BLEU within source-length bins (a corpus score per bin, not a mean of sentence scores)."""
    if not len(src_lengths) == len(hyps) == len(refs):
        raise ValueError(f"src_lengths, hyps and refs differ in length: {len(src_lengths)}, {len(hyps)}, {len(refs)}")
    edges = np.asarray(bins)
    which = np.digitize(src_lengths, edges[1:-1], right=True)  # bin i: edges[i] < length <= edges[i+1]
    rows = []
    for i in range(len(edges) - 1):
        idx = np.flatnonzero(which == i)
        if idx.size:
            score = bleu([hyps[j] for j in idx], [refs[j] for j in idx], target_lang).score
            rows.append({"source length": f"{edges[i] + 1}-{edges[i + 1]}", "sentences": idx.size, "BLEU": score})
    return pd.DataFrame(rows)


# --- Classification ------------------------------------------------------------------------------

def _check_labels(y_true: ArrayLike, y_pred: ArrayLike) -> None:
    """Raise a ValueError unless `y_true` and `y_pred` are non-empty and of the same length."""
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}: expected equal lengths")
    if len(y_true) == 0:
        raise ValueError("y_true and y_pred are empty: expected at least one label")


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Share of predictions equal to the true label."""
    _check_labels(y_true, y_pred)
    return float(skm.accuracy_score(y_true, y_pred))


def macro_f1(y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence[Any] | None = None) -> float:
    """Unweighted mean of per-class F1 over `labels` (default: every label seen in either input)."""
    _check_labels(y_true, y_pred)
    # A class never predicted has no precision, and one in neither input no F1: count those as 0, silently.
    return float(skm.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, labels: Sequence[Any] | None = None) -> pd.DataFrame:
    """Counts with one row per true label and one column per predicted label."""
    _check_labels(y_true, y_pred)
    labels = list(unique_labels(y_true, y_pred) if labels is None else labels)
    counts = skm.confusion_matrix(y_true, y_pred, labels=labels)
    return pd.DataFrame(counts, index=pd.Index(labels, name="true"), columns=pd.Index(labels, name="predicted"))


# --- Extractive QA (SQuAD / MLQA) ----------------------------------------------------------------

# Scripts scored one character (grapheme cluster) at a time: those written without spaces between
# words (MLQA's mixed segmentation for Chinese, extended by script to Japanese, Thai, Lao, Khmer and
# Myanmar) and Hangul (KorQuAD's character-level F1). Script_Extensions also catch the marks they
# share, such as the katakana-hiragana prolonged sound mark ー.
_PER_CHARACTER = "".join(rf"\p{{scx={script}}}" for script in
                         ("Han", "Hiragana", "Katakana", "Hangul", "Thai", "Lao", "Khmer", "Myanmar"))
_TOKEN = regex.compile(rf"(?=[{_PER_CHARACTER}])\X|[^\s{_PER_CHARACTER}]+")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def _is_punctuation(ch: str) -> bool:
    """Unicode punctuation (category P*) or ASCII punctuation, as the official SQuAD script removes."""
    # string.punctuation adds the ASCII symbols $ + < = > ^ ` | ~, which Unicode files under S*, not P*.
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")


def normalize_answer(text: str) -> str:
    """Lowercase, drop punctuation, the articles a/an/the and extra whitespace, as SQuAD v1.1 does.

    Punctuation is every Unicode P* character plus `string.punctuation`, as in MLQA's evaluation, so
    Chinese '，。？！、《》“”' go too; for ASCII text the result equals the official v1.1 script's.
    """
    if not isinstance(text, str):
        raise ValueError(f"an answer must be a string, got {type(text).__name__}")
    text = "".join(ch for ch in text.lower() if not _is_punctuation(ch))
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_tokens(text: str) -> list[str]:
    """Tokens of the normalized answer: each character of an unspaced script (Chinese, Japanese, Thai, …)
    or of Hangul alone, other runs split on whitespace.

    For Chinese this is MLQA's mixed segmentation; the SQuAD v1.1 script that XTREME uses for XQuAD
    splits on whitespace only, which makes a Thai answer one token (so its Thai F1 is not comparable).
    """
    return _TOKEN.findall(normalize_answer(text))


def _truths(ground_truths: Sequence[str], name: str = "ground_truths") -> Sequence[str]:
    """`ground_truths` if it is a non-empty list of answers, else a ValueError naming `name`."""
    if isinstance(ground_truths, str) or not ground_truths:
        raise ValueError(f"{name} must be a non-empty list of answer strings, got {ground_truths!r}")
    return ground_truths


def _token_f1(pred: list[str], truth: list[str]) -> float:
    """Bag-of-tokens F1; 0 without overlap (so also for empty answers), as in SQuAD v1.1."""
    same = sum((Counter(pred) & Counter(truth)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(truth)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, ground_truths: Sequence[str]) -> float:
    """1.0 if the prediction's tokens equal some ground truth's, else 0.0.

    Tokens rather than normalized strings are compared so that spacing between CJK characters does not matter.
    """
    tokens = answer_tokens(prediction)
    return max(float(tokens == answer_tokens(t)) for t in _truths(ground_truths))


def qa_f1(prediction: str, ground_truths: Sequence[str]) -> float:
    """Best token-overlap F1 of the prediction against any ground truth."""
    tokens = answer_tokens(prediction)
    return max(_token_f1(tokens, answer_tokens(t)) for t in _truths(ground_truths))


def squad_scores(predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """Exact match and F1 in percent (0-100) over every question id in `references`."""
    if not references:
        raise ValueError("references is empty: expected at least one question id")
    missing = [qid for qid in references if qid not in predictions]
    if missing:
        raise ValueError(f"predictions has no answer for question id(s) {', '.join(map(repr, missing[:5]))}")
    for qid, truths in references.items():
        _truths(truths, f"references[{qid!r}]")
    em = [exact_match(predictions[qid], truths) for qid, truths in references.items()]
    f1 = [qa_f1(predictions[qid], truths) for qid, truths in references.items()]
    return {"em": 100 * float(np.mean(em)), "f1": 100 * float(np.mean(f1))}


# --- Retrieval ranking ---------------------------------------------------------------------------

def _to_numpy(x: Any) -> np.ndarray:
    """`x` as a numpy array; a torch tensor is detached and copied to the CPU, floats widened to float64."""
    if hasattr(x, "detach"):  # duck-typed so that importing this module does not import torch
        x = x.detach().cpu()
        # numpy has no bfloat16, and float64 holds every torch float exactly, so no new ties appear.
        return (x.double() if x.is_floating_point() else x).numpy()
    return np.asarray(x)


def _one_hot(gold: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A relevance matrix marking document `gold[i]` relevant for query `i`."""
    n_queries, n_docs = shape
    if len(gold) != n_queries:
        raise ValueError(f"gold has {len(gold)} entries but scores has {n_queries} queries (rows)")
    if not np.issubdtype(gold.dtype, np.integer) or gold.min() < 0 or gold.max() >= n_docs:
        raise ValueError(f"gold must hold integer document indices in [0, {n_docs}), got {gold[:5].tolist()}")
    relevance = np.zeros(shape)
    relevance[np.arange(n_queries), gold] = 1
    return relevance


def _score_matrix(scores: Matrix) -> np.ndarray:
    """`scores` as a float (n_queries, n_docs) array, checked to be non-empty and free of NaN."""
    scores = _to_numpy(scores).astype(float)
    if scores.ndim != 2 or 0 in scores.shape:
        raise ValueError(f"scores must be a non-empty (n_queries, n_docs) matrix, got shape {scores.shape}")
    if np.isnan(scores).any():
        raise ValueError("scores contains NaN, which has no place in a ranking")
    return scores


def _relevance_matrix(relevant: Relevance, shape: tuple[int, int]) -> np.ndarray:
    """`relevant` as a non-negative float matrix of `shape` with a relevant document in every row."""
    relevance = _to_numpy(relevant)
    relevance = _one_hot(relevance, shape) if relevance.ndim == 1 else relevance.astype(float)
    if relevance.shape != shape:
        raise ValueError(f"relevant has shape {relevance.shape} but scores has {shape}: expected the same")
    if (relevance < 0).any():
        raise ValueError("relevant must be non-negative (0 = not relevant)")
    empty = np.flatnonzero(relevance.sum(axis=1) == 0)
    if empty.size:
        raise ValueError(f"{empty.size} queries have no relevant document, e.g. query {empty[0]}")
    return relevance


def _ranked_relevance(scores: Matrix, relevant: Relevance) -> np.ndarray:
    """Each query's relevance values in ranked order, best score first.

    `relevant` is a gold document index per query or a (n_queries, n_docs) relevance matrix (0/1, bool
    or graded). Ties are broken pessimistically: among equal scores the less relevant document ranks
    first, so no scorer gains from ties and a constant scorer gets the worst possible value.
    """
    scores = _score_matrix(scores)
    relevance = _relevance_matrix(relevant, scores.shape)
    order = np.lexsort((relevance, -scores), axis=-1)  # the last key is the primary one
    return np.take_along_axis(relevance, order, axis=1)


def _check_k(k: int, n_docs: int) -> None:
    """Raise a ValueError unless `k` is an integer from 1 to `n_docs`."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n_docs:
        raise ValueError(f"k must be an integer from 1 to the number of documents ({n_docs}), got {k!r}")


def rank_of_gold(scores: Matrix, relevant: Relevance) -> np.ndarray:
    """1-based rank of each query's best-ranked relevant document."""
    return np.argmax(_ranked_relevance(scores, relevant) > 0, axis=1) + 1


def recall_at_k(scores: Matrix, relevant: Relevance, k: int) -> float:
    """Mean over queries of the share of their relevant documents ranked in the top `k`."""
    hits = _ranked_relevance(scores, relevant) > 0
    _check_k(k, hits.shape[1])
    return float(np.mean(hits[:, :k].sum(axis=1) / hits.sum(axis=1)))


def accuracy_at_1(scores: Matrix, relevant: Relevance) -> float:
    """Share of queries whose top-ranked document is relevant (recall@1 when each has one gold)."""
    return float(np.mean(_ranked_relevance(scores, relevant)[:, 0] > 0))


def mrr(scores: Matrix, relevant: Relevance) -> float:
    """Mean reciprocal rank of each query's first relevant document."""
    return float(np.mean(1 / rank_of_gold(scores, relevant)))


def mean_average_precision(scores: Matrix, relevant: Relevance) -> float:
    """Mean over queries of the precision at each relevant document's rank, averaged over those documents."""
    hits = _ranked_relevance(scores, relevant) > 0
    precision = np.cumsum(hits, axis=1) / np.arange(1, hits.shape[1] + 1)
    return float(np.mean((precision * hits).sum(axis=1) / hits.sum(axis=1)))


def ndcg_at_k(scores: Matrix, relevant: Relevance, k: int) -> float:
    """Mean NDCG@k with linear gains and log2 discounts, as `sklearn.metrics.ndcg_score` defines it."""
    gains = _ranked_relevance(scores, relevant)
    _check_k(k, gains.shape[1])
    discount = 1 / np.log2(np.arange(2, k + 2))
    ideal = -np.sort(-gains, axis=1)
    return float(np.mean((gains[:, :k] @ discount) / (ideal[:, :k] @ discount)))
