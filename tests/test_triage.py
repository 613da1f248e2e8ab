import numpy as np
import pandas as pd
import pytest
import torch

from xlw.triage import (
    NEGATIVE,
    KnowledgeBase,
    TriageParts,
    feedback_stream,
    first_sentence,
    fit_language_id,
    language_id_data,
    sentiment_offsets,
    stage_accuracy,
    triage,
    triage_batch,
)

WORDS = {"en": "the dog is happy and the cat is sad", "de": "der Hund ist froh und die Katze ist traurig",
         "xx": "ŋa ŋo ŋu ŧa ŧo ŧu ŋaŧ ŧuŋ"}


def toy_language_id():
    texts = [f"{w} {i}" for lang, w in WORDS.items() for i in range(20)]
    langs = [lang for lang in WORDS for _ in range(20)]
    return fit_language_id(texts, langs)


class ToyKB(KnowledgeBase):
    """BM25 as the real one for english_first; the multilingual design's embedding search always says passage 1."""

    def search(self, queries, langs, design):
        return super().search(queries, langs, design) if design == "english_first" else np.ones(len(queries), int)


def toy_parts(polar=()):
    """A classifier that calls a text negative when it holds 'sad' (or its translation), neutral otherwise."""

    def classify(texts):
        return np.array([[2.0, 1.0, 0.0] if ("sad" in t or "traurig" in t) else [0.0, 1.0, 0.5] for t in texts])

    def translate(texts, src, tgt):
        return [f"<{src}>{tgt}> {t}" for t in texts]

    kb = ToyKB(["Refunds take five days. Then more.", "Dogs are welcome."], torch.zeros(2, 4), {}, None, None)
    return TriageParts(toy_language_id(), classify, translate, kb, polar_languages=set(polar))


def test_language_id_learns_the_languages_it_is_given():
    lid = toy_language_id()
    assert list(lid.predict(["die Katze ist froh", "the cat is happy", "ŋo ŧu"])) == ["de", "en", "xx"]


def test_english_first_translates_into_english_and_replies_in_the_identified_language():
    texts = ["der Hund ist traurig", "the dog is happy", "the cat is sad, refunds please"]
    multi = triage_batch(toy_parts(), texts, "multilingual")
    first = triage_batch(toy_parts(), texts, "english_first")
    assert list(multi.english) == texts  # read as it is
    assert list(multi.passage) == [1, -1, 1] and "Dogs are welcome." in multi.reply[2]
    assert first.english[0] == "<de>en> der Hund ist traurig" and first.english[1] == texts[1]
    assert list(first.routed) == [True, False, True] and list(first.sentiment_pred) == [NEGATIVE, 1, NEGATIVE]
    assert first.reply[0].startswith("<en>de> We are sorry") and first.reply[1] == ""
    assert first.reply[2].startswith("We are sorry") and "Refunds take five days." in first.reply[2]  # English
    assert first.passage[2] == 0 and first.passage[1] == -1  # BM25 on the English text: the refund passage


def test_polar_languages_never_get_neutral():
    out = triage_batch(toy_parts(polar={"en"}), ["the dog is happy"], "multilingual")
    assert out.sentiment_pred[0] == 2  # neutral is left out: positive wins over negative


def test_triage_batches_and_times_every_row():
    out = triage(toy_parts(), ["the dog is happy"] * 5, "multilingual", batch_size=2)
    assert len(out) == 5 and (out.seconds > 0).all() and out.seconds.nunique() <= 3


def test_unknown_design_is_refused():
    with pytest.raises(ValueError, match="expected one of multilingual, english_first"):
        triage_batch(toy_parts(), ["x"], "pivot")


def test_stage_accuracy_counts_each_stage_and_the_whole():
    stream = pd.DataFrame({"lang": ["de", "en", "en", "de"], "label": [NEGATIVE, 2, NEGATIVE, 1]})
    handled = pd.DataFrame({"lang_pred": ["de", "en", "en", "en"], "sentiment_pred": [NEGATIVE, 2, 1, NEGATIVE],
                            "routed": [True, False, False, True],
                            "reply": ["der Hund ist froh", "", "", "the dog is happy"]})
    acc = stage_accuracy(stream, handled, toy_language_id())
    assert acc["language_id"] == 0.75 and acc["sentiment"] == 0.5 and acc["routing"] == 0.5
    assert acc["reply_language"] == 0.5  # the second reply is English to a German customer
    assert acc["end_to_end"] == 0.5  # item 0 (routed, German reply) and item 1 (not routed, rightly)


def test_first_sentence_is_quoted_short():
    assert first_sentence("Refunds take five days. Then more.") == "Refunds take five days."
    assert first_sentence("a " * 40, max_words=3) == "a a a …"


def test_the_stream_is_balanced_and_the_identifier_never_sees_it():
    stream = feedback_stream(["en", "zh"], 6, seed=0)
    assert sorted(stream.groupby("lang").size()) == [6, 6]
    assert set(stream[stream.lang == "zh"].label) == {NEGATIVE, 2}  # ChnSentiCorp: no neutral
    assert stream[stream.lang == "en"].label.value_counts().tolist() == [2, 2, 2]
    lid = language_id_data(["en", "zh"], 200, seed=0)
    assert not set(lid.text) & set(stream.text)
    with pytest.raises(ValueError, match="UMSAB has .*ChnSentiCorp gives zh"):
        feedback_stream(["qaa"], 6)


def test_a_prompted_direction_keeps_the_target_languages_vocabulary(monkeypatch):
    import xlw.triage as triage_module
    from xlw.llm_mt import target_vocabulary

    seen = {}
    monkeypatch.setattr(triage_module, "prompted_translate",
                        lambda model, tok, texts, examples, src, tgt, vocabulary, **kw: seen.update(
                            {(src, tgt): (vocabulary, examples, tok)}) or list(texts))
    translators = triage_module.Translators("smoke", 0, shots=2, max_new_tokens=4, length_ratio=1.5,
                                            target_texts={"fr": ["Un chien court.", "Deux chats dorment."]})
    assert translators.kind("en", "fr") == "prompted k=2"  # Multi30k has en-fr; 03b does not fine-tune it
    assert translators(["A dog runs."], "en", "fr") == ["A dog runs."]
    vocabulary, examples, tokenizer = seen["en", "fr"]
    assert len(examples) == 2
    expected = target_vocabulary(tokenizer, ["Un chien court.", "Deux chats dorment."] + [t for _, t in examples])
    assert torch.equal(vocabulary, expected) and len(vocabulary) < len(tokenizer) // 2
    translators(["A cat."], "en", "fr")
    assert seen["en", "fr"][0] is vocabulary  # built once per direction
    translators(["Ein Hund."], "de", "fr")  # its own examples' targets join its ids, not en-fr's
    de_vocabulary, de_examples, _ = seen["de", "fr"]
    assert de_examples != examples and torch.equal(de_vocabulary, target_vocabulary(
        tokenizer, ["Un chien court.", "Deux chats dorment."] + [t for _, t in de_examples]))
    reverse = triage_module.Translators("smoke", 0, shots=2, max_new_tokens=4, length_ratio=1.5,
                                        target_texts={"fr": ["Un chien court.", "Deux chats dorment."]})
    reverse(["Ein Hund."], "de", "fr")
    reverse(["A dog runs."], "en", "fr")
    assert torch.equal(seen["en", "fr"][0], vocabulary)  # the same ids whichever direction into fr ran first
    translators(["Un chien."], "fr", "de")
    assert seen["fr", "de"][0] is None  # no German text given: the whole vocabulary


def test_sentiment_offsets_apply_to_the_language_the_classifier_reads():
    parts = toy_parts()
    parts.sentiment_offsets = {"de": np.array([0.0, 5.0, 0.0])}  # German leans neutral by 5: take it back
    texts = ["die Katze ist froh", "the cat is happy"]
    parts.classify = lambda batch: np.array([[0.0, 5.5, 1.0] if "Katze" in t else [0.0, 1.0, 0.5] for t in batch])
    multi = triage_batch(parts, texts, "multilingual")
    assert list(multi.sentiment_pred) == [2, 1]  # German recentred; English read as it is
    first = triage_batch(parts, texts, "english_first")
    assert first.sentiment_pred[0] == 1  # read in English after translation: German offsets do not apply


def test_sentiment_offsets_bring_each_languages_mean_prediction_to_the_prior():
    unlabelled = pd.DataFrame({"text": ["a", "b", "c", "d"], "lang": ["de", "de", "es", "es"]})
    lean = {"a": [0.0, 3.0, 0.0], "b": [1.0, 2.0, 0.0], "c": [0.0, 0.0, 2.0], "d": [0.5, 0.0, 1.0]}
    classify = lambda texts: np.array([lean[t] for t in texts])  # noqa: E731 — de leans neutral, es positive
    prior = np.array([0.3, 0.3, 0.4])
    offsets = sentiment_offsets(classify, unlabelled, prior)
    assert sorted(offsets) == ["de", "es"]
    for lang, group in unlabelled.groupby("lang"):
        z = torch.tensor(classify(list(group.text)) - offsets[lang])
        assert np.allclose(torch.softmax(z, dim=-1).mean(dim=0).numpy(), prior, atol=1e-5)

