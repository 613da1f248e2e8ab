import json

import numpy as np
import pandas as pd
import pytest
from transformers import AutoModelForQuestionAnswering

from xlw.data import DataNotFoundError
from xlw.pretrained import load_tokenizer
from xlw.qa import (
    Gemma3TextForQuestionAnswering,
    article_split,
    best_spans,
    eval_features,
    label_alignment,
    load_xquad,
    overlap_baseline,
    train_features,
    translated_questions,
    xquad_languages,
)


def frame_of(context: str, question: str, answer: str) -> pd.DataFrame:
    return pd.DataFrame([{"id": "q1", "article": 0, "context": context, "question": question,
                          "answers": [answer], "answer_starts": [context.index(answer)]}])


def test_xquad_languages_share_ids_and_articles():
    en, zh = load_xquad("en"), load_xquad("zh")
    assert len(en) == len(zh) == 1190 and en.article.nunique() == 48
    assert (en.id == zh.id).all() and (en.article == zh.article).all()
    with pytest.raises(ValueError, match=r"expected one of .*de, en, es.*zh \(the files xquad.<lang>.json in .*xquad"):
        load_xquad("fr")


def test_xquad_missing_offline_names_the_local_path(data_dir, offline_hub):
    with pytest.raises(DataNotFoundError, match="xquad.en.json does not exist"):
        load_xquad("en")


def test_xquad_finds_a_language_by_its_file(data_dir):
    (data_dir / "xquad").mkdir()
    squad = {"data": [{"paragraphs": [{"context": "Hà Nội là thủ đô.", "qas": [
        {"id": "q1", "question": "Thủ đô?", "answers": [{"text": "Hà Nội", "answer_start": 0}]}]}]}]}
    (data_dir / "xquad" / "xquad.vi.json").write_text(json.dumps(squad), encoding="utf-8")
    assert xquad_languages() == ["vi"]
    assert load_xquad("vi").answers.tolist() == [["Hà Nội"]]
    with pytest.raises(ValueError, match=r"'en' is not in XQuAD: expected one of vi .*add xquad\.en\.json"):
        load_xquad("en")


def test_xquad_languages_without_local_files_are_the_hub_copys(data_dir):
    from xlw.qa import XQUAD_HUB_LANGS

    assert xquad_languages() == list(XQUAD_HUB_LANGS)


def test_xquad_bad_json_names_the_file(data_dir):
    (data_dir / "xquad").mkdir()
    (data_dir / "xquad" / "xquad.en.json").write_text('{"data": [{"paragraphs": [{"qas": [{"id": "x"}]}]}]}')
    with pytest.raises(ValueError, match=r"xquad\.en\.json: not SQuAD-format JSON \(missing field 'context'\)"):
        load_xquad("en")


def test_article_split_is_disjoint_seeded_and_sized():
    articles = list(range(48)) * 3
    train, test = article_split(articles, 0.75, seed=0)
    assert len(train) == 36 and len(test) == 12 and not train & test and train | test == set(range(48))
    assert article_split(articles, 0.75, seed=0) == (train, test)
    assert article_split(articles, 0.75, seed=1) != (train, test)
    with pytest.raises(ValueError, match=r"train_fraction must be in \(0, 1\)"):
        article_split(articles, 1.0)


def test_labels_recover_chinese_answers_from_offsets(tiny_gemma):
    tokenizer = load_tokenizer(tiny_gemma)
    zh = load_xquad("zh").head(150)
    aligned = label_alignment(tokenizer, zh, max_length=384, stride=128)
    assert aligned.labelled.notna().all()
    assert (aligned.answer == aligned.labelled).mean() > 0.95
    # where a token also holds the next character, the label is the smallest covering span
    assert all(a in lab for a, lab in zip(aligned.answer, aligned.labelled))


def test_long_context_makes_windows_and_cut_off_answers_point_at_token_zero(tiny_gemma):
    tokenizer = load_tokenizer(tiny_gemma)
    context = " ".join(f"word{i}" for i in range(200)) + " The answer is Paris ."
    frame = frame_of(context, "What is the answer?", "Paris")
    features = train_features(tokenizer, frame, max_length=64, stride=16)
    assert len(features) > 3
    labelled = [(s, e) for s, e in zip(features["start_positions"], features["end_positions"]) if s]
    assert len(labelled) >= 1 and features["start_positions"][0] == 0
    window = features[[i for i, s in enumerate(features["start_positions"]) if s][0]]
    span = tokenizer.decode(window["input_ids"][window["start_positions"]:window["end_positions"] + 1])
    assert span.strip() == "Paris"


def test_answer_start_that_misses_the_answer_is_reported(tiny_gemma):
    frame = frame_of("Berlin is big.", "Which city?", "Berlin").assign(answer_starts=[[3]])
    with pytest.raises(ValueError, match="question q1: answer_start 3 does not point at 'Berlin'"):
        train_features(load_tokenizer(tiny_gemma), frame, max_length=64, stride=16)


def test_best_spans_picks_the_top_context_span_within_limits(tiny_gemma):
    tokenizer = load_tokenizer(tiny_gemma)
    frame = frame_of("Alpha beta gamma delta epsilon.", "Which letter?", "gamma")
    feats = eval_features(tokenizer, frame, max_length=64, stride=16)
    offsets = feats["offsets"][0]
    context_tokens = [i for i, o in enumerate(offsets) if o is not None]
    n = len(offsets)
    gamma = next(i for i in context_tokens if "gamma" in frame.context[0][offsets[i][0]:offsets[i][1]])
    starts, ends = np.full(n, -10.0), np.full(n, -10.0)
    starts[1], ends[1] = 50.0, 50.0  # a question token scores highest but is not in the context
    starts[gamma], ends[gamma] = 10.0, 10.0
    assert best_spans(frame, feats, [starts], [ends]) == {"q1": "gamma"}
    ends[context_tokens[-1]] = 20.0  # a better end, two words further on
    assert best_spans(frame, feats, [starts], [ends]) == {"q1": "gamma delta epsilon."}
    assert best_spans(frame, feats, [starts], [ends], max_answer_tokens=1) == {"q1": "gamma"}


def test_overlap_baseline_returns_the_best_matching_sentence():
    frame = frame_of("Cats sleep a lot. The Eiffel tower is in Paris. Dogs bark.", "Where is the Eiffel tower?",
                     "Paris")
    assert overlap_baseline(frame) == {"q1": "The Eiffel tower is in Paris."}
    zh = frame_of("猫喜欢睡觉。埃菲尔铁塔在巴黎。狗会叫。", "埃菲尔铁塔在哪里？", "巴黎")
    assert overlap_baseline(zh) == {"q1": "埃菲尔铁塔在巴黎。"}


def test_overlap_baseline_splits_sentences_in_every_script():
    # Hindi ends a sentence with the danda, Arabic asks with ؟, Thai ends a sentence with a space
    hi = frame_of("बिल्ली सोती है। एफिल टॉवर पेरिस में है। कुत्ता भौंकता है।", "एफिल टॉवर कहाँ है?", "पेरिस")
    assert overlap_baseline(hi) == {"q1": "एफिल टॉवर पेरिस में है।"}
    ar = frame_of("أين القطة؟ برج إيفل في باريس.", "أين برج إيفل؟", "باريس")
    assert overlap_baseline(ar) == {"q1": "برج إيفل في باريس."}
    th = frame_of("แมวชอบนอน หอไอเฟลอยู่ที่ปารีส สุนัขเห่า", "หอไอเฟลอยู่ที่ไหน", "ปารีส")
    assert overlap_baseline(th) == {"q1": "หอไอเฟลอยู่ที่ปารีส"}


def test_translated_questions_translates_each_sentence_once_and_rejoins_the_context():
    context = "猫喜欢睡觉。埃菲尔铁塔在巴黎。"
    frame = pd.concat([frame_of(context, "埃菲尔铁塔在哪里？", "巴黎"),
                       frame_of(context, "谁喜欢睡觉？", "猫").assign(id="q2")], ignore_index=True)
    english = {"猫喜欢睡觉。": "Cats like to sleep.", "埃菲尔铁塔在巴黎。": "The Eiffel tower is in Paris.",
               "埃菲尔铁塔在哪里？": "Where is the Eiffel tower?", "谁喜欢睡觉？": "Who likes to sleep?"}
    asked = []

    def translate(texts: list[str]) -> list[str]:
        asked.extend(texts)
        return [english[t] for t in texts]

    out = translated_questions(frame, translate)
    assert sorted(asked) == sorted(english)  # the shared context's sentences are translated once
    assert list(out.question) == ["Where is the Eiffel tower?", "Who likes to sleep?"]
    assert set(out.context) == {"Cats like to sleep. The Eiffel tower is in Paris."}
    assert list(out.id) == ["q1", "q2"] and "answers" not in out  # the answers were Chinese: dropped
    with pytest.raises(ValueError, match="translate returned 1 texts for 4"):
        translated_questions(frame, lambda texts: texts[:1])


def test_auto_class_builds_the_gemma_span_head(tiny_gemma):
    model = AutoModelForQuestionAnswering.from_pretrained(tiny_gemma)
    assert isinstance(model, Gemma3TextForQuestionAnswering)
    tokenizer = load_tokenizer(tiny_gemma)
    out = model(**tokenizer(["Who?"], ["Ada wrote it."], return_tensors="pt"))
    assert out.start_logits.shape == out.end_logits.shape == (1, len(tokenizer("Who?", "Ada wrote it.")["input_ids"]))
