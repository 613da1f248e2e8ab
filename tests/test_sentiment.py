import numpy as np
import pandas as pd
import pytest
import torch
from transformers import AutoModelForSequenceClassification

from xlw.data import DataNotFoundError
from xlw.pretrained import load_tokenizer
from xlw.sentiment import (
    balanced_sample,
    classification_loader,
    clean_tweet,
    label_word_head,
    load_chnsenticorp,
    load_umsab,
    majority_baseline,
    polar_predictions,
    predict_logits,
    tfidf_baseline,
    umsab_languages,
)


@pytest.mark.parametrize("raw, clean", [
    (r"i\u2019m fine\u002c thanks ", "i’m fine, thanks"),
    ('"He said ""no"" twice"', 'He said "no" twice'),
    ('"', '"'),
    ("plain @user #tag 12", "plain @user #tag 12"),
    ("nachtiii&lt;3 &amp; so", "nachtiii<3 & so"),
])
def test_clean_tweet_undoes_escaping(raw, clean):
    assert clean_tweet(raw) == clean


def test_umsab_local_files_are_complete_and_balanced():
    test = load_umsab("de", "test")
    assert len(test) == 870 and test.label.value_counts().to_dict() == {0: 290, 1: 290, 2: 290}
    assert not test.text.str.contains(r"\\u[0-9a-f]{4}").any()


def test_umsab_bad_arguments_name_the_choices():
    with pytest.raises(ValueError, match=r"'xx' is not in UMSAB here: expected one of .*de.*en.*es.*fr"):
        load_umsab("xx")
    with pytest.raises(ValueError, match="split 'dev'"):
        load_umsab("en", "dev")


def write_umsab(root, texts, labels, folder_name="english"):
    folder = root / "xlm-t-sentiment" / folder_name
    folder.mkdir(parents=True)
    (folder / "train_text.txt").write_text("\n".join(texts) + "\n")
    (folder / "train_labels.txt").write_text("\n".join(labels) + "\n")


def test_umsab_finds_languages_by_folder_name_or_code(data_dir):
    write_umsab(data_dir, ["dobrý den", "hrozné"], ["2", "0"], folder_name="cs")
    write_umsab(data_dir, ["guten Tag"], ["1"], folder_name="german")
    assert umsab_languages() == {"cs": "cs", "de": "german"}
    assert load_umsab("cs").label.tolist() == [2, 0]
    with pytest.raises(ValueError, match=r"'en' is not in UMSAB here: expected one of cs, de \(language folders"):
        load_umsab("en")
    (data_dir / "xlm-t-sentiment" / "not a language").mkdir()
    (data_dir / "xlm-t-sentiment" / "not a language" / "train_text.txt").write_text("x\n")
    with pytest.raises(ValueError, match="must be named by a language"):
        umsab_languages()


def test_umsab_length_mismatch_names_both_files(data_dir):
    write_umsab(data_dir, ["a", "b"], ["0"])
    with pytest.raises(ValueError, match=r"train_text\.txt has 2 lines but .*train_labels\.txt has 1"):
        load_umsab("en", "train")


def test_umsab_bad_label_names_file_and_line(data_dir):
    write_umsab(data_dir, ["a", "b"], ["0", "positive"])
    with pytest.raises(ValueError, match=r"train_labels\.txt line 2: label 'positive'"):
        load_umsab("en", "train")


def test_umsab_missing_offline_names_the_local_path(data_dir, offline_hub):
    with pytest.raises(DataNotFoundError, match="train_text.txt does not exist"):
        load_umsab("en", "train")


def test_chnsenticorp_reads_labels_and_rejects_bad_columns(data_dir):
    folder = data_dir / "chnsenticorp"
    folder.mkdir()
    (folder / "ok.csv").write_text('label,review\n1,"好,很好"\n0,差\n1,\n')
    frame = load_chnsenticorp("ok.csv")
    assert frame.to_dict("list") == {"text": ["好,很好", "差"], "label": [1, 0]}
    (folder / "bad.csv").write_text("review,label\n好,1\n")
    with pytest.raises(ValueError, match="bad.csv: expected columns 'label,review'"):
        load_chnsenticorp("bad.csv")
    (folder / "bad_label.csv").write_text("label,review\n2,好\n")
    with pytest.raises(ValueError, match="'label' must hold 0 or 1"):
        load_chnsenticorp("bad_label.csv")


def test_balanced_sample_takes_equal_counts_and_is_seeded():
    frame = pd.DataFrame({"text": [str(i) for i in range(30)], "label": [0] * 20 + [1] * 10})
    sample = balanced_sample(frame, 5, seed=1)
    assert sample.label.value_counts().to_dict() == {0: 5, 1: 5}
    assert sample.equals(balanced_sample(frame, 5, seed=1))
    assert not sample.equals(balanced_sample(frame, 5, seed=2))
    with pytest.raises(ValueError, match="rarest label has only 10"):
        balanced_sample(frame, 11)


def test_majority_and_tfidf_baselines():
    assert majority_baseline([2, 1, 1, 0], 3).tolist() == [1, 1, 1]
    train = pd.DataFrame({"text": ["good great", "great fun", "bad awful", "awful sad"] * 5, "label": [1, 1, 0, 0] * 5})
    assert tfidf_baseline(train, ["so great", "so awful"]).tolist() == [1, 0]
    chinese = train.assign(text=["好极了", "很好", "太差", "差劲"] * 5)
    assert tfidf_baseline(chinese, ["好", "差"], "char").tolist() == [1, 0]


def test_polar_predictions_ignore_neutral():
    logits = np.array([[2.0, 9.0, 1.0], [0.0, 9.0, 0.5], [3.0, 0.0, 3.5]])
    assert polar_predictions(logits).tolist() == [0, 1, 1]
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        polar_predictions(np.zeros((2, 2)))


def test_classification_loader_pads_right_with_labels(tiny_gemma):
    tokenizer = load_tokenizer(tiny_gemma)
    frame = pd.DataFrame({"text": ["a", "a much longer tweet than the first one", "mid length"], "label": [0, 2, 1]})
    batches = list(classification_loader(frame, tokenizer, max_length=64, max_tokens=1000, max_batch=8))
    assert len(batches) == 1
    batch = batches[0]
    assert set(batch) == {"input_ids", "attention_mask", "labels"}
    assert sorted(batch["labels"].tolist()) == [0, 1, 2]
    assert (batch["attention_mask"][:, 0] == 1).all()  # right padding: every row starts with a real token


def test_predict_logits_keeps_input_order_and_ignores_padding(tiny_gemma):
    tokenizer = load_tokenizer(tiny_gemma)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_gemma, num_labels=3)
    model.config.pad_token_id = tokenizer.pad_token_id
    texts = ["short", "a considerably longer sentence with many more tokens in it", "mid size text"]
    batched = predict_logits(model, tokenizer, texts, max_length=64)
    alone = np.stack([predict_logits(model, tokenizer, [t], max_length=64)[0] for t in texts])
    np.testing.assert_allclose(batched, alone, atol=1e-5)


def test_label_word_head_equals_the_language_models_word_scores(tiny_gemma):
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(tiny_gemma)
    words = ["negative", "neutral", "positive"]
    classifier = AutoModelForSequenceClassification.from_pretrained(tiny_gemma, num_labels=3)
    classifier.config.pad_token_id = tokenizer.pad_token_id
    label_word_head(classifier, tokenizer, words)
    lm = AutoModelForCausalLM.from_pretrained(tiny_gemma).eval()
    ids = [tokenizer.encode(" " + w, add_special_tokens=False)[0] for w in words]
    inputs = tokenizer(["what a lovely day"], return_tensors="pt")
    with torch.no_grad():
        expected = lm(**inputs).logits[0, -1, ids]
        got = classifier.eval()(**inputs).logits[0]
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="label word 'antidisestablishmentarianism' is"):
        label_word_head(classifier, tokenizer, ["negative", "neutral", "antidisestablishmentarianism"])
    with pytest.raises(ValueError, match="the head has 3 classes but 2 label words"):
        label_word_head(classifier, tokenizer, ["negative", "positive"])


def test_a_trained_classifier_is_saved_merged_cached_and_reused(tmp_path, monkeypatch):
    import xlw.trained
    from xlw.sentiment import load_classifier, trained_classifier
    from xlw.trained import cache_entry

    monkeypatch.setattr(xlw.trained, "project_root", lambda: tmp_path)
    entry = cache_entry("smoke", "04_sentiment", "en", seed=0)
    folder = trained_classifier(entry)
    assert entry.ready and not (folder / "adapter_config.json").exists()  # LoRA merged into the weights
    model, tokenizer = load_classifier(folder)
    texts = ["good day", "awful service, never again"]
    first = predict_logits(model, tokenizer, texts, 32)
    calls = []
    monkeypatch.setattr("xlw.sentiment.fit_classifier", lambda *a, **k: calls.append(1))
    assert trained_classifier(entry) == folder and not calls  # reused, not trained again
    np.testing.assert_allclose(predict_logits(*load_classifier(folder), texts, 32), first, atol=1e-6)


def test_match_prior_recentres_a_shifted_head_without_labels():
    from xlw.sentiment import match_prior

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 200)
    clean = np.eye(3)[labels] * 3.0 + rng.normal(0, 1.0, (600, 3))  # separable around a balanced prior
    shifted = clean + np.array([0.0, 4.0, 0.0])  # a language whose every text leans neutral
    assert (shifted.argmax(axis=1) == 1).mean() > 0.8
    offsets = match_prior(shifted, [1 / 3] * 3)
    fixed = shifted - offsets
    probs = np.exp(fixed) / np.exp(fixed).sum(axis=1, keepdims=True)
    assert np.allclose(probs.mean(axis=0), 1 / 3, atol=1e-4)
    assert (fixed.argmax(axis=1) == labels).mean() == pytest.approx((clean.argmax(axis=1) == labels).mean(), abs=0.02)
    with pytest.raises(ValueError, match="positive prior summing to 1"):
        match_prior(shifted, [0.5, 0.5])


def test_zero_shot_rows_report_raw_and_recentred_heads(monkeypatch):
    import xlw.sentiment as sentiment

    rng = np.random.default_rng(1)
    labels = np.repeat([0, 1, 2], 40)

    def logits_of(texts):  # a text "<lang> <label> <i>": English separable, German shifted towards neutral by 4
        lang, label = zip(*[(t.split()[0], int(t.split()[1])) for t in texts])
        out = np.eye(3)[list(label)] * 3.0 + rng.normal(0, 0.8, (len(texts), 3))
        return out + np.array([0.0, 4.0, 0.0]) * (np.array(lang) == "de")[:, None]

    monkeypatch.setattr(sentiment, "predict_logits", lambda model, tok, texts, max_length, **_: logits_of(texts))
    tests = {lang: pd.DataFrame({"text": [f"{lang} {y} {i}" for i, y in enumerate(labels)], "label": labels})
             for lang in ("en", "de")}
    unlabelled = {lang: list(frame.text) for lang, frame in tests.items()}  # labels are inside the fake text only
    rows, predictions, offsets = sentiment.zero_shot_rows(None, None, tests, unlabelled, [1 / 3] * 3, 64)
    table = rows.set_index(["lang", "method"])
    assert table.loc[("de", "zeroshot_raw"), "top_share"] > 0.8  # collapsed into neutral
    assert table.loc[("de", "zeroshot"), "macro_f1"] > table.loc[("de", "zeroshot_raw"), "macro_f1"] + 0.4
    assert table.loc[("de", "zeroshot"), "top_share"] < 0.45
    assert abs(offsets["en"]).max() < 0.5 < offsets["de"][1] - offsets["de"][0]
    assert set(predictions) == {(lang, m) for lang in ("en", "de") for m in ("zeroshot_raw", "zeroshot")}
