import numpy as np
import pandas as pd
import pytest

import xlw.trained
from xlw.playground import Playground, not_trained, playground_ui, show
from xlw.sentiment import trained_classifier
from xlw.trained import cache_entry
from xlw.translation import trained_translation


@pytest.fixture
def playground(tmp_path, monkeypatch):
    monkeypatch.setattr(xlw.trained, "project_root", lambda: tmp_path)  # an empty model cache
    return Playground("smoke", index_size=4, max_new_tokens=4, embed_layers=1, embed_source="tiny")


def test_missing_models_are_named_with_the_command_that_trains_them(playground):
    found = playground.explore("A dog runs in the snow.", "de", beams=2, k=3)
    assert found["language"].index[0] == "en" and found["language"].is_monotonic_decreasing
    assert found["translations"].empty and found["sentiment"] is None
    assert not_trained("03_translation", "en-de", "smoke") in found["notes"]
    assert "`make reports PROFILE=smoke ONLY=03b FORCE=1`" in " ".join(found["notes"])
    assert "ONLY=04 FORCE=1`" in " ".join(found["notes"])
    neighbours = found["neighbours"]
    assert len(neighbours) == 3 and neighbours.cosine.is_monotonic_decreasing and set(neighbours.lang) <= {
        "en", "de", "fr"}
    assert "no translator for de-en" in " ".join(playground.explore("Zwei Hunde.", "en")["notes"])


def test_train_missing_trains_every_model_the_playground_shows(tmp_path, monkeypatch):
    monkeypatch.setattr(xlw.trained, "project_root", lambda: tmp_path)  # an empty model cache
    pg = Playground("smoke", index_size=4, max_new_tokens=4, embed_layers=1, embed_source="tiny", train_missing=True)
    english = pg.explore("A dog runs in the snow.", "de", beams=2, k=3)
    assert not english["notes"] and english["sentiment"] is not None
    assert set(english["translations"].system) == {"Marian from scratch (03)", "Gemma-3-270M + LoRA (03b)"}
    assert all(cache_entry("smoke", nb, name).ready for nb, name in [
        ("03_translation", "en-de"), ("03b_llm_translation", "en-de"), ("04_sentiment", "en")])


def test_a_trained_translator_shows_every_beam_with_its_score(playground):
    trained_translation(cache_entry("smoke", "03_translation", "en-de"))
    table = playground.translations("A dog runs in the snow.", "en", "de", beams=3)
    marian = table[table.system == "Marian from scratch (03)"]
    assert list(marian["rank"]) == [1, 2, 3]
    assert marian["log-prob / token"].is_monotonic_decreasing and (marian["log-prob / token"] < 0).all()
    greedy = playground.translations("A dog runs in the snow.", "en", "de", beams=1)
    assert greedy[greedy.system == "Marian from scratch (03)"]["rank"].tolist() == [1]


def test_sentiment_is_shown_as_read_and_re_centred_for_a_language_with_tweets(playground):
    trained_classifier(cache_entry("smoke", "04_sentiment", "en"))
    english = playground.sentiment("The dog is happy.")
    assert list(english.index) == ["negative", "neutral", "positive"]
    assert list(english.columns) == ["as read", "re-centred for en"]
    assert np.allclose(english.sum(), 1.0) and not np.allclose(english["as read"], english["re-centred for en"])
    chinese = playground.sentiment("这家酒店的房间太小了，服务也很差。")
    assert list(chinese.columns) == ["as read"]  # ChnSentiCorp has no neutral class to re-centre on


def test_the_widget_button_runs_explore_and_shows_its_tables(playground, monkeypatch, capsys):
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    ui = playground_ui(playground, ["Zwei Hunde spielen im Schnee."], ["en", "de"])
    ui.children[0].value = "Zwei Hunde spielen im Schnee."  # the examples picker fills the text box
    assert ui.children[1].value == "Zwei Hunde spielen im Schnee."
    ui.run()
    printed = capsys.readouterr().out
    assert "language" in printed and "neighbours" in printed and "note: no translator for de-en" in printed
    assert any(isinstance(s, pd.DataFrame) and "cosine" in s for s in shown)


def test_show_skips_what_is_missing(capsys):
    show({"language": pd.Series({"en": 1.0}), "sentiment": None, "translations": pd.DataFrame(), "notes": ["x"]})
    out = capsys.readouterr().out
    assert "sentiment" not in out and "translations" not in out and "note: x" in out
