"""Multilingual feedback triage built from the workbench's parts (notebook 11): language identification →
zero-shot sentiment → routing of negatives → the most relevant knowledge-base passage → a reply drafted in
English and translated back into the customer's language.

    parts = TriageParts(lid, classifier, translators, kb)
    handled = triage(parts, stream.text, "english_first", batch_size=32)

Two designs share every model. `multilingual` reads the customer's text as it is: the English-trained
classifier zero-shot, and a multilingual embedding (Gemma, mean-pooled, centred per language) against the
English passages. `english_first` translates the text into English first and then uses English tools: the
same classifier, and BM25 over the passages (translate-test, as XTREME calls it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from xlw.config import settings
from xlw.corpora import has_pair, head, load_pair
from xlw.embedding import embed, unit
from xlw.llm_mt import load_translator, prompted_translate, target_vocabulary, trained_translator
from xlw.pretrained import load_tokenizer, resolve
from xlw.retrieval import bm25_scores, cosine_scores
from xlw.sentiment import (
    UMSAB_LABELS,
    balanced_sample,
    load_chnsenticorp,
    load_umsab,
    match_prior,
    polar_predictions,
    umsab_languages,
)
from xlw.trained import cache_entry

DESIGNS = ("multilingual", "english_first")
NEGATIVE = 0  # UMSAB's label ids: 0 negative, 1 neutral, 2 positive
REPLY = "We are sorry about your experience. This may help: {passage}"


def stream_languages(languages: Sequence[str] | None = None) -> list[str]:
    """The stream's languages: `languages`, else every UMSAB language on disk, and zh when ChnSentiCorp is there."""
    if languages is not None:
        return list(languages)
    found = list(umsab_languages())
    try:
        load_chnsenticorp()
        found.append("zh")
    except FileNotFoundError:  # DataNotFoundError is one
        pass
    return found


def _language_frame(lang: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(test pool, training pool, source) of one language: UMSAB's splits, or ChnSentiCorp (positive → 2)."""
    if lang in umsab_languages():
        return load_umsab(lang, "test"), load_umsab(lang, "train"), "UMSAB"
    if lang != "zh":
        raise ValueError(f"language {lang!r} has no feedback data: UMSAB has {', '.join(umsab_languages())}, "
                         "and ChnSentiCorp gives zh")
    reviews = load_chnsenticorp().assign(label=lambda f: f.label.map({0: NEGATIVE, 1: 2}))
    reviews = reviews.sample(frac=1.0, random_state=0)  # the file is sorted by label; a fixed split: the stream
    half = len(reviews) // 2  # draws from one half, language ID trains on the other
    return reviews.iloc[:half], reviews.iloc[half:], "ChnSentiCorp"


def feedback_stream(languages: Sequence[str], per_language: int, seed: int = 0) -> pd.DataFrame:
    """`per_language` balanced test items of each language (`text`, `lang`, `label`, `source`), shuffled."""
    frames = []
    for lang in languages:
        test, _, source = _language_frame(lang)
        per_class = per_language // test.label.nunique()
        frames.append(balanced_sample(test, per_class, seed)[["text", "label"]].assign(lang=lang, source=source))
    return pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def language_id_data(languages: Sequence[str], per_language: int, seed: int = 0) -> pd.DataFrame:
    """`per_language` training texts of each language (`text`, `lang`): never the stream's split."""
    frames = []
    for lang in languages:
        _, train, _ = _language_frame(lang)
        frames.append(train.sample(n=min(per_language, len(train)), random_state=seed)[["text"]].assign(lang=lang))
    return pd.concat(frames, ignore_index=True)


def classifier_prior(profile: str, seed: int = 0) -> np.ndarray:
    """The class shares of the English tweets 04's classifier is trained on (`sentiment.trained_classifier`):
    the prior `match_prior` restores in every language."""
    cfg = settings(profile, "04_sentiment")
    labels = balanced_sample(load_umsab(cfg.train_language, "train"), None, seed)[: cfg.train_size].label
    return np.bincount(labels, minlength=len(UMSAB_LABELS)) / len(labels)


def sentiment_offsets(classify: Callable[[list[str]], np.ndarray], unlabelled: pd.DataFrame,
                      prior: Sequence[float]) -> dict[str, np.ndarray]:
    """Per language of `unlabelled` (`text`, `lang`; no labels), the class offsets (`match_prior`) that make the
    classifier's mean prediction there `prior`."""
    return {lang: match_prior(classify(list(group.text)), prior) for lang, group in unlabelled.groupby("lang")}


def fit_language_id(texts: Sequence[str], langs: Sequence[str], seed: int = 0) -> Pipeline:
    """A language identifier for exactly the languages of `langs`: character 1–3-gram TF-IDF and logistic
    regression (the idea of langid.py, Lui & Baldwin 2012: byte n-grams and a linear model, on our own data)."""
    return make_pipeline(TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=2),
                         LogisticRegression(C=10.0, max_iter=2000, random_state=seed)).fit(list(texts), list(langs))


class Translators:
    """`(texts, src, tgt) → translations`: 03b's fine-tuned translator where 03b trains that pair (from the
    cache; trained here, as 03b does, when missing), else 03b's base model prompted with `shots` examples from
    the pair's corpus (zero-shot where `load_pair` finds none). Each model is loaded once.

    `target_texts` (language → unlabelled text in it) restricts a prompted direction's output layer to the
    `target_vocabulary` of its target language, as 03b's fine-tuned translators are (the 262k-row output layer
    is most of the work per generated token). A target language without text keeps the whole vocabulary."""

    def __init__(self, profile: str, seed: int, shots: int, max_new_tokens: int, length_ratio: float,
                 target_texts: Mapping[str, Sequence[str]] | None = None):
        self.profile, self.seed, self.shots = profile, seed, shots
        self.generate = {"max_new_tokens": max_new_tokens, "length_ratio": length_ratio, "progress": False}
        self.llm = settings(profile, "03b_llm_translation")
        self.target_texts = dict(target_texts or {})
        self.models: dict[str, tuple] = {}
        self.examples: dict[str, list[tuple[str, str]]] = {}
        self.vocabularies: dict[tuple[str, ...], torch.Tensor | None] = {}

    def kind(self, src: str, tgt: str) -> str:
        """How `src`→`tgt` is translated: 'fine-tuned', 'prompted k=K' or 'prompted k=0'."""
        if f"{src}-{tgt}" in self.llm.pairs:
            return "fine-tuned"
        return f"prompted k={self.shots if has_pair(f'{src}-{tgt}') else 0}"

    def _model(self, pair: str) -> tuple:
        """(model, left-padding tokenizer, vocabulary or None) for a fine-tuned `pair`, or the base model ('base')."""
        if pair not in self.models:
            if pair == "base":
                from transformers import AutoModelForCausalLM

                path = resolve(self.llm.model, self.llm.model_source)
                model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
                self.models[pair] = (model, load_tokenizer(path, "left"), None)
            else:
                folder = trained_translator(cache_entry(self.profile, "03b_llm_translation", pair, self.seed))
                model, tokenizer, meta = load_translator(folder)
                self.models[pair] = (model, tokenizer, meta["vocabulary"])
        return self.models[pair]

    def __call__(self, texts: Sequence[str], src: str, tgt: str) -> list[str]:
        pair = f"{src}-{tgt}"
        kind = self.kind(src, tgt)
        model, tokenizer, vocabulary = self._model(pair if kind == "fine-tuned" else "base")
        examples = self._examples(pair) if kind == f"prompted k={self.shots}" and self.shots else []
        if kind != "fine-tuned":
            vocabulary = self._vocabulary(tokenizer, tgt, examples)
        return prompted_translate(model, tokenizer, list(texts), examples, src, tgt, vocabulary=vocabulary,
                                  **self.generate)

    def _vocabulary(self, tokenizer, tgt: str, examples: Sequence[tuple[str, str]]) -> torch.Tensor | None:
        """The output ids of a prompted direction into `tgt`: `target_vocabulary` of its text and of its own
        examples' targets (built once per direction, so no direction's ids depend on which ran first)."""
        if tgt not in self.target_texts:
            return None
        key = (tgt, *(target for _, target in examples))
        if key not in self.vocabularies:
            self.vocabularies[key] = target_vocabulary(tokenizer, list(self.target_texts[tgt]) + list(key[1:]))
        return self.vocabularies[key]

    def _examples(self, pair: str) -> list[tuple[str, str]]:
        """The first `shots` training pairs of `pair`: read once, not at every batch."""
        if pair not in self.examples:
            shots = head(load_pair(pair, "train"), self.shots)
            self.examples[pair] = list(zip(shots["src"], shots["tgt"]))
        return self.examples[pair]


@dataclass
class KnowledgeBase:
    """English passages, with what each design needs to search them: their embeddings (centred on their own
    mean) and, per language, the mean embedding of unlabelled text in it (to centre a query)."""

    passages: list[str]
    vectors: torch.Tensor
    language_means: dict[str, torch.Tensor]
    encoder: object
    tokenizer: object
    max_length: int = 64

    def search(self, queries: Sequence[str], langs: Sequence[str], design: str) -> np.ndarray:
        """The index of the best passage for each query in language `langs[i]` (English text for english_first)."""
        if design == "english_first":
            return bm25_scores(list(queries), self.passages).argmax(axis=1)
        vectors = embed(self.encoder, self.tokenizer, list(queries), self.max_length, desc="queries")
        centred = vectors - torch.stack([self.language_means[lang] for lang in langs])
        return cosine_scores(centred, self.vectors).argmax(axis=1)


def knowledge_base(passages: Sequence[str], encoder, tokenizer, unlabelled: pd.DataFrame,
                   max_length: int = 256) -> KnowledgeBase:
    """A `KnowledgeBase` of `passages`; `unlabelled` (`text`, `lang`) gives each language's mean embedding."""
    vectors = unit(embed(encoder, tokenizer, list(passages), max_length, desc="passages"), center=True)
    means = {lang: embed(encoder, tokenizer, list(group.text), 64, desc=f"{lang} mean").mean(dim=0)
             for lang, group in unlabelled.groupby("lang")}
    return KnowledgeBase(list(passages), vectors, means, encoder, tokenizer)


@dataclass
class TriageParts:
    """The models of the pipeline: a language identifier, a 3-class classifier `(texts) → logits`, a translator
    `(texts, src, tgt) → texts`, and the knowledge base."""

    language_id: Pipeline
    classify: Callable[[Sequence[str]], np.ndarray]
    translate: Callable[[Sequence[str], str, str], list[str]]
    kb: KnowledgeBase
    polar_languages: set[str] = field(default_factory=set)  # labelled negative/positive only (ChnSentiCorp's zh)
    # class offsets per language the classifier reads (`sentiment.match_prior` on unlabelled text), subtracted
    # from its logits; a language without offsets is read as it is
    sentiment_offsets: dict[str, np.ndarray] = field(default_factory=dict)


def _by_language(texts: Sequence[str], langs: Sequence[str], fn: Callable[[list[str], str], list[str]]) -> list[str]:
    """`fn(texts of one language, language)` for each language present, results back in input order."""
    out: list[str] = [""] * len(texts)
    for lang in dict.fromkeys(langs):
        rows = [i for i, lg in enumerate(langs) if lg == lang]
        for i, result in zip(rows, fn([texts[i] for i in rows], lang)):
            out[i] = result
    return out


def _sentiment(parts: TriageParts, texts: list[str], read_as: list[str], langs: list[str]) -> np.ndarray:
    """Predicted labels (0/1/2) of texts in languages `read_as`, recentred by that language's offsets; in a
    polar customer language (`langs`) neutral is left out, as its data has no neutral class."""
    logits = parts.classify(texts)
    logits = logits - np.stack([parts.sentiment_offsets.get(lang, np.zeros(logits.shape[1])) for lang in read_as])
    labels = logits.argmax(axis=1)
    polar = np.array([lang in parts.polar_languages for lang in langs], dtype=bool)
    if polar.any():
        labels[polar] = np.where(polar_predictions(logits[polar]) == 1, 2, NEGATIVE)
    return labels


def triage_batch(parts: TriageParts, texts: Sequence[str], design: str) -> pd.DataFrame:
    """One batch through every stage: identified language, (English text), sentiment, routing, passage, reply."""
    if design not in DESIGNS:
        raise ValueError(f"design {design!r} is unknown: expected one of {', '.join(DESIGNS)}")
    texts = list(texts)
    langs = list(parts.language_id.predict(texts))
    english = (_by_language(texts, langs, lambda chunk, lang: chunk if lang == "en" else
                            parts.translate(chunk, lang, "en")) if design == "english_first" else texts)
    sentiment = _sentiment(parts, english, ["en"] * len(texts) if design == "english_first" else langs, langs)
    routed = sentiment == NEGATIVE
    out = pd.DataFrame({"lang_pred": langs, "english": english, "sentiment_pred": sentiment, "routed": routed,
                        "passage": -1, "reply": ""})
    if routed.any():
        idx = np.flatnonzero(routed)
        queries, query_langs = [english[i] for i in idx], [langs[i] for i in idx]
        passages = parts.kb.search(queries, query_langs, design)
        drafts = [REPLY.format(passage=first_sentence(parts.kb.passages[p])) for p in passages]
        replies = _by_language(drafts, query_langs, lambda chunk, lang: chunk if lang == "en" else
                               parts.translate(chunk, "en", lang))
        out.loc[idx, "passage"], out.loc[idx, "reply"] = passages, replies
    return out


def triage(parts: TriageParts, texts: Sequence[str], design: str, batch_size: int | None = None) -> pd.DataFrame:
    """Every text through `triage_batch` in batches of `batch_size` (None: all at once, as a job that works
    through an inbox does; each model then batches by its own sizes); `seconds` is each row's batch's wall time."""
    texts, frames = list(texts), []
    batch_size = batch_size or max(len(texts), 1)
    for start in range(0, len(texts), batch_size):
        tic = time.perf_counter()
        frame = triage_batch(parts, texts[start:start + batch_size], design)
        frames.append(frame.assign(seconds=time.perf_counter() - tic))
    return pd.concat(frames, ignore_index=True)


def first_sentence(passage: str, max_words: int = 30) -> str:
    """The passage's first sentence, at most `max_words` words: what a drafted reply quotes."""
    sentence = passage.split(". ")[0].rstrip(".") + "."
    words = sentence.split()
    return sentence if len(words) <= max_words else " ".join(words[:max_words]) + " …"


def stage_accuracy(stream: pd.DataFrame, handled: pd.DataFrame, language_id: Pipeline) -> dict[str, float]:
    """Accuracy of each stage on the stream: language ID, sentiment, routing (negative or not), the reply's
    language (the identifier run on the translated replies), and end to end (routed correctly and, when
    routed, answered in the customer's language)."""
    gold_negative = stream.label.to_numpy() == NEGATIVE
    routed = handled.routed.to_numpy()
    reply_lang = np.array(language_id.predict(list(handled.reply[routed]))) if routed.any() else np.array([])
    on_target = np.zeros(len(stream), dtype=bool)
    on_target[np.flatnonzero(routed)] = reply_lang == stream.lang.to_numpy()[routed]
    correct = (routed == gold_negative) & (~routed | on_target)
    return {"language_id": float(np.mean(handled.lang_pred.to_numpy() == stream.lang.to_numpy())),
            "sentiment": float(np.mean(handled.sentiment_pred.to_numpy() == stream.label.to_numpy())),
            "routing": float(np.mean(routed == gold_negative)),
            "reply_language": float(on_target[routed].mean()) if routed.any() else float("nan"),
            "end_to_end": float(np.mean(correct))}
