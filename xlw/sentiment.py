"""Sentiment data and classifiers: UMSAB tweets (en/de/fr/es), ChnSentiCorp reviews (zh), and baselines.

UMSAB's labels are 0 = negative, 1 = neutral, 2 = positive (XLM-T's TweetEval convention; its
model card lists Negative, Neutral, Positive in that order, and notebook 04 prints examples of
each as a check). ChnSentiCorp has two: 0 = negative, 1 = positive.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
from datasets import Dataset
from torch.utils.data import DataLoader
from transformers import AutoModelForSequenceClassification, PreTrainedTokenizerBase

from xlw import metrics
from xlw.batching import in_input_order, padded_loader
from xlw.data import DATASETS, DataNotFoundError, data_path, data_root, hub_copy
from xlw.pretrained import fine_tune, lora_model
from xlw.train import TrainResult

UMSAB_HUB_LANGS = {"ar": "arabic", "de": "german", "en": "english", "es": "spanish", "fr": "french", "hi": "hindi",
                   "it": "italian", "pt": "portuguese"}  # cardiffnlp/tweet_sentiment_multilingual's configurations
UMSAB_LABELS = ("negative", "neutral", "positive")
CHNSENTICORP_LABELS = ("negative", "positive")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def clean_tweet(text: str) -> str:
    """Undo the escaping in UMSAB's text files: literal `\\uXXXX`, HTML entities and CSV-style outer quotes."""
    text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text.strip())
    if len(text) > 1 and text[0] == text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    return html.unescape(text.replace('\\"', '"'))


def _folder_language(folder: Path) -> str:
    """The language code of a UMSAB folder named by language ('german' → 'de', CLDR names) or by code ('cs')."""
    import langcodes

    try:
        return langcodes.find(folder.name).language
    except LookupError:
        if langcodes.tag_is_valid(folder.name):
            return langcodes.standardize_tag(folder.name)
    raise ValueError(f"{folder}: a UMSAB folder must be named by a language ('german') or a code ('de'), "
                     f"not {folder.name!r}")


def umsab_languages() -> dict[str, str]:
    """{code: folder} of the local UMSAB language folders (any holding `*_text.txt`), e.g. {'de': 'german'};
    without local folders, the hub copy's `UMSAB_HUB_LANGS`."""
    root = data_root() / DATASETS["xlm-t-sentiment"].folder
    folders = sorted({p.parent for p in root.glob("*/*_text.txt")})
    return dict(sorted((_folder_language(f), f.name) for f in folders)) or dict(UMSAB_HUB_LANGS)


def load_umsab(lang: str, split: str = "train") -> pd.DataFrame:
    """UMSAB tweets of one language and split as a DataFrame with `text` and `label` (0/1/2)."""
    langs = umsab_languages()
    if lang not in langs:
        root = data_root() / DATASETS["xlm-t-sentiment"].folder
        raise ValueError(f"lang {lang!r} is not in UMSAB here: expected one of {', '.join(langs)} (language folders "
                         f"in {root}, each with {{train,val,test}}_text.txt and _labels.txt)")
    if split not in ("train", "val", "test"):
        raise ValueError(f"split {split!r} is unknown: expected 'train', 'val' or 'test'")
    try:
        text_file = data_path("xlm-t-sentiment", langs[lang], f"{split}_text.txt")
        label_file = data_path("xlm-t-sentiment", langs[lang], f"{split}_labels.txt")
    except DataNotFoundError as missing:
        return _umsab_from_hub(lang, split, missing)
    texts = text_file.read_text(encoding="utf-8").splitlines()
    labels = label_file.read_text(encoding="utf-8").split()
    if len(texts) != len(labels):
        raise ValueError(f"{text_file} has {len(texts)} lines but {label_file} has {len(labels)} labels")
    bad = [(i + 1, v) for i, v in enumerate(labels) if v not in ("0", "1", "2")]
    if bad:
        raise ValueError(f"{label_file} line {bad[0][0]}: label {bad[0][1]!r}, expected 0, 1 or 2")
    return pd.DataFrame({"text": [clean_tweet(t) for t in texts], "label": [int(v) for v in labels]})


def _umsab_from_hub(lang: str, split: str, missing: DataNotFoundError) -> pd.DataFrame:
    """The hub copy for users without the local files; offline, the local error (it says what to do)."""
    hub = hub_copy("xlm-t-sentiment", missing, UMSAB_HUB_LANGS.get(lang, lang),
                   split={"val": "validation"}.get(split, split))
    return pd.DataFrame({"text": hub["text"], "label": hub["label"]})


def load_chnsenticorp(file: str = "ChnSentiCorp_htl_all.csv") -> pd.DataFrame:
    """ChnSentiCorp reviews (`text`, `label` 0/1); rows with an empty review are dropped."""
    path = data_path("chnsenticorp", file)
    frame = pd.read_csv(path, dtype={"review": str})
    if list(frame.columns[:2]) != ["label", "review"]:
        raise ValueError(f"{path}: expected columns 'label,review', found {','.join(frame.columns)}")
    if not frame["label"].isin([0, 1]).all():
        raise ValueError(f"{path}: column 'label' must hold 0 or 1")
    frame = frame.dropna(subset=["review"])
    return pd.DataFrame({"text": frame["review"].str.strip(), "label": frame["label"].astype(int)}).reset_index(
        drop=True)


def balanced_sample(frame: pd.DataFrame, per_class: int | None, seed: int = 0) -> pd.DataFrame:
    """`per_class` random rows of every label (all rows if None), shuffled with `seed`."""
    if per_class is not None:
        short = frame["label"].value_counts().min()
        if per_class > short:
            raise ValueError(f"per_class={per_class} but the rarest label has only {short} rows")
        frame = frame.groupby("label", group_keys=False).sample(n=per_class, random_state=seed)
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def majority_baseline(train_labels: Sequence[int], n_test: int) -> np.ndarray:
    """Predict the most frequent training label for every test example."""
    return np.full(n_test, pd.Series(train_labels).mode().min())


def tfidf_baseline(train: pd.DataFrame, test_texts: Sequence[str], analyzer: str = "word",
                   seed: int = 0) -> np.ndarray:
    """TF-IDF (word 1–2-grams, or char 1–3-grams for Chinese) + logistic regression, trained on `train`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    ngrams = (1, 2) if analyzer == "word" else (1, 3)
    model = make_pipeline(TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, min_df=1, sublinear_tf=True),
                          LogisticRegression(max_iter=2000, C=2.0, random_state=seed))
    model.fit(list(train["text"]), list(train["label"]))
    return model.predict(list(test_texts))


def classification_loader(frame: pd.DataFrame, tokenizer: PreTrainedTokenizerBase, max_length: int,
                          max_tokens: int, max_batch: int, seed: int = 0) -> DataLoader:
    """Shuffled, length-bucketed training batches (`input_ids`, `attention_mask`, `labels`) from `frame`."""
    # Tokenized directly rather than by Dataset.map, which would hash (pickle) the 262k-entry tokenizer.
    encoded = tokenizer(list(frame["text"]), truncation=True, max_length=max_length)
    dataset = Dataset.from_dict({"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"],
                                 "labels": [int(label) for label in frame["label"]]})
    return padded_loader(dataset, tokenizer, max_tokens, max_batch, seed)


def predict_logits(model, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str], max_length: int,
                   max_tokens: int = 4096, bottom=None) -> np.ndarray:
    """Class logits for `texts` (in input order), batched by length; with `bottom` (`xlw.frozen_classifier`),
    through the top layers only, from the texts' kept bottom states."""
    if bottom is not None:
        from xlw.frozen_classifier import top_class_logits

        return top_class_logits(model, bottom, texts, max_length, max_tokens)
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    def batch_logits(inputs: dict) -> np.ndarray:
        return model(**inputs).logits.float().cpu().numpy()

    return np.stack(in_input_order(model, tokenizer, encoded, batch_logits, max_tokens, desc="classify"))


def label_word_head(model, tokenizer: PreTrainedTokenizerBase, words: Sequence[str]) -> None:
    """Set the classifier's rows to the input embeddings of `words` (one token each, with a leading space).

    Gemma's output layer is its input embedding (tied), so the head then starts as the language
    model's own next-word scores for the label words: a zero-shot classifier instead of a random one.
    """
    ids = []
    for word in words:
        pieces = tokenizer.encode(" " + word, add_special_tokens=False)
        if len(pieces) != 1:
            raise ValueError(f"label word {word!r} is {len(pieces)} tokens for this tokenizer; expected one")
        ids.append(pieces[0])
    head = model.score
    if head.weight.shape[0] != len(words):
        raise ValueError(f"the head has {head.weight.shape[0]} classes but {len(words)} label words were given")
    with torch.no_grad():
        head.weight.copy_(model.get_input_embeddings().weight[ids])


def fit_classifier(frame: pd.DataFrame, cfg: SimpleNamespace, seed: int = 0, label_words: bool = True,
                   bottom=None):
    """(model, tokenizer, TrainResult): `cfg.model` + LoRA fine-tuned on `frame`, head from `cfg.label_words`.

    With `cfg.frozen_layers` above 0, LoRA goes into the layers above them only and training runs those
    layers from the bottom's states (`xlw.frozen_classifier`), kept in `bottom` (made here if None) for
    the next classifier. With `label_words=False` the head starts random instead (the comparison in benchmarks/).
    """
    init_head = (lambda m, t: label_word_head(m, t, cfg.label_words)) if label_words else None
    if getattr(cfg, "frozen_layers", 0):
        from xlw.frozen_classifier import BottomStates, fit_top_classifier

        return fit_top_classifier(frame, cfg, bottom or BottomStates(cfg), seed, init_head)
    model, tokenizer = lora_model(AutoModelForSequenceClassification, cfg, "SEQ_CLS", seed=seed,
                                  init_head=init_head, num_labels=len(cfg.label_words))
    loader = classification_loader(frame, tokenizer, cfg.max_length, cfg.max_tokens, cfg.max_batch, seed=seed)
    result: TrainResult = fine_tune(model, loader, cfg, seed=seed)
    return model, tokenizer, result


def save_classifier(model, tokenizer: PreTrainedTokenizerBase, folder: Path) -> Path:
    """Save a (LoRA) classifier with its adapters merged into a copy of the weights: `load_classifier` reads it."""
    merged = copy.deepcopy(model)
    merged = merged.merge_and_unload() if hasattr(merged, "merge_and_unload") else merged
    merged.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return Path(folder)


def load_classifier(folder: str | Path) -> tuple[torch.nn.Module, PreTrainedTokenizerBase]:
    """(model in eval mode, right-padding tokenizer) of a folder written by `save_classifier`."""
    from xlw.pretrained import load_tokenizer

    model = AutoModelForSequenceClassification.from_pretrained(folder, dtype=torch.float32).eval()
    return model, load_tokenizer(str(folder))


def trained_classifier(entry) -> Path:
    """The folder of 04's classifier of a language (`entry`: `cache_entry(profile, "04_sentiment", lang, seed)`),
    trained here as 04 trains it (the first `train_size` balanced training tweets) when the cache lacks it."""
    from xlw.trained import reuse_or_train

    cfg, lang, seed = SimpleNamespace(**entry.recipe["settings"]), entry.recipe["name"], entry.recipe["seed"]

    def train_it(folder: Path) -> None:
        model, tokenizer, _ = fit_classifier(balanced_sample(load_umsab(lang, "train"), None, seed)[: cfg.train_size],
                                             cfg, seed=seed)
        save_classifier(model, tokenizer, folder)

    return reuse_or_train(entry, train_it)


def match_prior(logits: np.ndarray, prior: Sequence[float], steps: int = 200, tol: float = 1e-6) -> np.ndarray:
    """Class offsets `b` such that the mean of softmax(`logits` − b) over these (unlabelled) rows is `prior`.

    Zero-shot in labels: a head trained in English can put a whole language in one class because that
    language's representations sit elsewhere; shifting its biases until its mean prediction on the language's
    unlabelled text is the training prior undoes the shift without reading a label. It iterates
    b ← b + log(mean p_b / prior) to its fixed point; offsets are returned centred (only differences matter)."""
    prior = np.asarray(prior, dtype=np.float64)
    if logits.ndim != 2 or logits.shape[1] != len(prior) or not np.isclose(prior.sum(), 1.0) or (prior <= 0).any():
        raise ValueError(f"match_prior needs logits of shape (n, {len(prior)}) and a positive prior summing to 1; "
                         f"got logits {logits.shape} and prior {prior.tolist()}")
    z, offsets = logits.astype(np.float64), np.zeros(len(prior))
    for _ in range(steps):
        shifted = z - offsets
        p = np.exp(shifted - shifted.max(axis=1, keepdims=True))
        mean = (p / p.sum(axis=1, keepdims=True)).mean(axis=0)
        step = np.log(mean / prior)
        offsets += step
        if np.abs(step).max() < tol:
            break
    return offsets - offsets.mean()


def zero_shot_rows(model, tokenizer, tests: dict[str, pd.DataFrame], unlabelled: dict[str, Sequence[str]],
                   prior: Sequence[float], max_length: int,
                   bottom=None) -> tuple[pd.DataFrame, dict, dict[str, np.ndarray]]:
    """(rows, predictions, offsets) of a classifier applied to every language of `tests` unchanged
    (`zeroshot_raw`) and with its class biases re-fitted by `match_prior` on that language's `unlabelled`
    texts (`zeroshot`): one row per language and method with macro-F1, accuracy and the share of the most
    predicted class; predictions keyed by (lang, method); the offsets per language. `bottom`: as in
    `predict_logits`."""
    rows, predictions, offsets = [], {}, {}
    for lang, frame in tests.items():
        logits = predict_logits(model, tokenizer, list(frame.text), max_length, bottom=bottom)
        offsets[lang] = match_prior(predict_logits(model, tokenizer, list(unlabelled[lang]), max_length,
                                                   bottom=bottom), prior)
        y = frame.label.to_numpy()
        recentred = (logits - offsets[lang]).argmax(axis=1)
        for method, pred in (("zeroshot_raw", logits.argmax(axis=1)), ("zeroshot", recentred)):
            predictions[(lang, method)] = pred
            rows.append({"lang": lang, "method": method, "macro_f1": metrics.macro_f1(y, pred, labels=[0, 1, 2]),
                         "accuracy": metrics.accuracy(y, pred),
                         "top_share": np.bincount(pred, minlength=3).max() / len(pred)})
    return pd.DataFrame(rows), predictions, offsets


def polar_predictions(logits: np.ndarray) -> np.ndarray:
    """2-class predictions (0 negative, 1 positive) from 3-class UMSAB logits: neutral is left out."""
    if logits.ndim != 2 or logits.shape[1] != 3:
        raise ValueError(f"expected logits of shape (n, 3) over {UMSAB_LABELS}, got {logits.shape}")
    return (logits[:, 2] > logits[:, 0]).astype(int)
