"""Extractive QA on XQuAD: data, article-level split, span features, post-processing and a baseline.

The model reads `<bos> question <bos> context` and scores every context token as the answer's
start and its end. A decoder-only model attends only to the left, so the question comes first:
that way every context token has seen it. Contexts longer than `max_length` are cut into
overlapping windows (`stride` tokens shared); each window is scored and the best span over all
windows wins, as in the SQuAD reference implementation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import regex
from datasets import Dataset
from transformers import AutoModelForQuestionAnswering, PreTrainedTokenizerBase
from transformers.modeling_layers import GenericForQuestionAnswering
from transformers.models.gemma3.configuration_gemma3 import Gemma3TextConfig
from transformers.models.gemma3.modeling_gemma3 import Gemma3PreTrainedModel

from xlw.data import DATASETS, DataNotFoundError, data_path, data_root, file_languages, hub_copy
from xlw.metrics import answer_tokens

XQUAD_HUB_LANGS = ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")  # google/xquad
PARAGRAPHS_PER_ARTICLE = 5  # XQuAD: 48 articles × 5 paragraphs (what the hub copy's article ids rest on)


class Gemma3TextForQuestionAnswering(GenericForQuestionAnswering, Gemma3PreTrainedModel):
    """Gemma-3 (text) with transformers' generic span head: start/end logits from a linear layer."""

    config_class = Gemma3TextConfig


# Gemma has no QA class of its own; registering one lets AutoModelForQuestionAnswering build it
# from a Gemma checkpoint, while other architectures (xlm-roberta-base, …) keep their own.
AutoModelForQuestionAnswering.register(Gemma3TextConfig, Gemma3TextForQuestionAnswering, exist_ok=True)


def xquad_languages() -> list[str]:
    """The XQuAD languages here: those with a local `xquad.{lang}.json` (without any, the hub copy's)."""
    return file_languages("xquad", "xquad.", ".json") or list(XQUAD_HUB_LANGS)


def load_xquad(lang: str) -> pd.DataFrame:
    """XQuAD (or any SQuAD-format file `xquad.{lang}.json`) in `lang`: one row per question with
    `id, article, context, question, answers, answer_starts`."""
    found = file_languages("xquad", "xquad.", ".json")
    if lang not in (found or XQUAD_HUB_LANGS):
        where = (f"the files xquad.<lang>.json in {data_root() / DATASETS['xquad'].folder}; add xquad.{lang}.json"
                 if found else "the hub copy google/xquad")
        raise ValueError(f"lang {lang!r} is not in XQuAD: expected one of {', '.join(found or XQUAD_HUB_LANGS)} "
                         f"({where})")
    try:
        path = data_path("xquad", f"xquad.{lang}.json")
    except DataNotFoundError as missing:
        return _xquad_from_hub(lang, missing)
    rows = []
    try:
        for article, entry in enumerate(json.loads(path.read_text(encoding="utf-8"))["data"]):
            for paragraph in entry["paragraphs"]:
                for qa in paragraph["qas"]:
                    rows.append({"id": qa["id"], "article": article, "context": paragraph["context"],
                                 "question": qa["question"], "answers": [a["text"] for a in qa["answers"]],
                                 "answer_starts": [a["answer_start"] for a in qa["answers"]]})
    except (KeyError, TypeError) as err:
        raise ValueError(f"{path}: not SQuAD-format JSON (missing field {err})") from err
    return pd.DataFrame(rows)


def _xquad_from_hub(lang: str, missing: DataNotFoundError) -> pd.DataFrame:
    """The hub copy (paragraphs in file order, so the article is paragraph index // 5)."""
    frame = hub_copy("xquad", missing, f"xquad.{lang}", split="validation").to_pandas()
    paragraph = (frame["context"] != frame["context"].shift()).cumsum() - 1
    return pd.DataFrame({"id": frame["id"], "article": paragraph // PARAGRAPHS_PER_ARTICLE,
                         "context": frame["context"], "question": frame["question"],
                         "answers": frame["answers"].map(lambda a: list(a["text"])),
                         "answer_starts": frame["answers"].map(lambda a: [int(s) for s in a["answer_start"]])})


def article_split(articles: Sequence[int], train_fraction: float, seed: int = 0) -> tuple[set[int], set[int]]:
    """Articles for training and for testing, drawn with `seed`: no test context is seen in training."""
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    unique = np.array(sorted(set(articles)))
    shuffled = np.random.default_rng(seed).permutation(unique)
    n_train = int(round(train_fraction * len(unique)))
    return set(shuffled[:n_train].tolist()), set(shuffled[n_train:].tolist())


def _encode(tokenizer: PreTrainedTokenizerBase, frame: pd.DataFrame, max_length: int, stride: int):
    return tokenizer(list(frame["question"]), list(frame["context"]), truncation="only_second",
                     max_length=max_length, stride=stride, return_overflowing_tokens=True,
                     return_offsets_mapping=True)


def _context_span(sequence_ids: list[int | None]) -> tuple[int, int]:
    """First and last token index of the context (sequence 1) in one window."""
    context = [i for i, s in enumerate(sequence_ids) if s == 1]
    return context[0], context[-1]


def _label_windows(tokenizer: PreTrainedTokenizerBase, frame: pd.DataFrame, max_length: int, stride: int):
    """Tokenized windows and each one's answer token span (first answer); (0, 0) where the answer is cut off."""
    enc = _encode(tokenizer, frame, max_length, stride)
    spans = []
    for w, offsets in enumerate(enc["offset_mapping"]):
        row = frame.iloc[enc["overflow_to_sample_mapping"][w]]
        first, last = _context_span(enc.sequence_ids(w))
        char_start = row["answer_starts"][0]
        char_end = char_start + len(row["answers"][0])
        if row["context"][char_start:char_end] != row["answers"][0]:
            raise ValueError(f"question {row['id']}: answer_start {char_start} does not point at "
                             f"{row['answers'][0]!r} in its context")
        if not (offsets[first][0] <= char_start and offsets[last][1] >= char_end):
            spans.append((0, 0))
            continue
        start, end = first, last
        while start <= last and offsets[start][1] <= char_start:
            start += 1
        while end >= first and offsets[end][0] >= char_end:
            end -= 1
        spans.append((start, end))
    return enc, spans


def train_features(tokenizer: PreTrainedTokenizerBase, frame: pd.DataFrame, max_length: int,
                   stride: int) -> Dataset:
    """Windows labelled with the first answer's token span; windows without it point at token 0."""
    enc, spans = _label_windows(tokenizer, frame, max_length, stride)
    return Dataset.from_dict({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
                              "start_positions": [s for s, _ in spans], "end_positions": [e for _, e in spans]})


def label_alignment(tokenizer: PreTrainedTokenizerBase, frame: pd.DataFrame, max_length: int,
                    stride: int) -> pd.DataFrame:
    """Per question: the gold answer and the text of its labelled token span (what training teaches)."""
    enc, spans = _label_windows(tokenizer, frame, max_length, stride)
    rows = {}
    for w, (start, end) in enumerate(spans):
        example = enc["overflow_to_sample_mapping"][w]
        if start == 0 or example in rows:
            continue
        offsets, context = enc["offset_mapping"][w], frame.iloc[example]["context"]
        rows[example] = context[offsets[start][0]:offsets[end][1]].strip()
    return pd.DataFrame({"id": frame["id"], "answer": [a[0] for a in frame["answers"]],
                         "labelled": [rows.get(i) for i in range(len(frame))]})


def eval_features(tokenizer: PreTrainedTokenizerBase, frame: pd.DataFrame, max_length: int,
                  stride: int) -> dict[str, list]:
    """Windows with `example` (row of `frame`) and offsets, `None` outside the context."""
    enc = _encode(tokenizer, frame, max_length, stride)
    offsets = [[o if s == 1 else None for o, s in zip(offs, enc.sequence_ids(w))]
               for w, offs in enumerate(enc["offset_mapping"])]
    return {"input_ids": enc["input_ids"], "example": list(enc["overflow_to_sample_mapping"]), "offsets": offsets}


def best_spans(frame: pd.DataFrame, features: dict[str, list], starts: list[np.ndarray], ends: list[np.ndarray],
               n_best: int = 20, max_answer_tokens: int = 30) -> dict[str, str]:
    """The highest-scoring context span (start + end logit) per question over all its windows."""
    best: dict[int, tuple[float, str]] = {}
    for w, example in enumerate(features["example"]):
        offsets = features["offsets"][w]
        context = frame.iloc[example]["context"]
        top_starts = np.argsort(starts[w])[::-1][:n_best]
        top_ends = np.argsort(ends[w])[::-1][:n_best]
        for s in top_starts:
            for e in top_ends:
                if offsets[s] is None or offsets[e] is None or e < s or e - s + 1 > max_answer_tokens:
                    continue
                score = float(starts[w][s] + ends[w][e])
                if example not in best or score > best[example][0]:
                    best[example] = (score, context[offsets[s][0]:offsets[e][1]].strip())
    return {frame.iloc[i]["id"]: best.get(i, (0.0, ""))[1] for i in range(len(frame))}


# Sentences end after any Unicode sentence terminal (. ! ? 。 ！ ？ and Hindi's danda ।, Arabic's ؟, …);
# Thai and Lao mark a sentence end with a space, not a sign, so a space between two of their letters ends one.
_SPACE_ENDED = r"[\p{scx=Thai}\p{scx=Lao}]"
_SENTENCE_END = regex.compile(rf"(?<=\p{{Sentence_Terminal}})\s*|(?<={_SPACE_ENDED})\s+(?={_SPACE_ENDED})")


def sentences(text: str) -> list[str]:
    """`text` cut after each sentence end, in any script (`text` itself when it has no sentence end)."""
    return [s for s in _SENTENCE_END.split(text) if s.strip()] or [text]


def overlap_baseline(frame: pd.DataFrame) -> dict[str, str]:
    """For each question, the context sentence sharing the most (normalized) words with it."""
    answers = {}
    for row in frame.itertuples():
        question = set(answer_tokens(row.question))
        answers[row.id] = max(sentences(row.context), key=lambda s: len(question & set(answer_tokens(s))))
    return answers


def translated_questions(frame: pd.DataFrame, translate: Callable[[list[str]], list[str]]) -> pd.DataFrame:
    """`frame`'s questions and contexts machine-translated by `translate` (a list of texts in, their
    translations out) for translate-test: a context sentence by sentence (sentence-level MT systems lose
    the rest of a paragraph), each distinct text once. Its answers are dropped: they are in the old language."""
    contexts = {context: sentences(context) for context in frame.context.unique()}
    texts = list(dict.fromkeys([*frame.question, *(s for parts in contexts.values() for s in parts)]))
    translations = translate(texts)
    if len(translations) != len(texts):
        raise ValueError(f"translate returned {len(translations)} texts for {len(texts)}: expected one per text")
    translation = dict(zip(texts, translations))
    joined = {context: " ".join(translation[s].strip() for s in parts) for context, parts in contexts.items()}
    return frame.drop(columns=["answers", "answer_starts"], errors="ignore").assign(
        question=frame.question.map(translation), context=frame.context.map(joined))
