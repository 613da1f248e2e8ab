import json

import pytest

import xlw.trained as trained
from xlw.trained import RECIPE, cache_entry, remember, reuse_or_train


@pytest.fixture
def cache_root(tmp_path, monkeypatch):
    monkeypatch.setattr(trained, "project_root", lambda: tmp_path)
    return tmp_path


def test_the_key_follows_settings_overrides_and_seed(cache_root):
    base = cache_entry("smoke", "03_translation", "en-de", seed=0)
    assert base.folder.parent == cache_root / "cache" / "smoke" / "03_translation"
    assert base == cache_entry("smoke", "03_translation", "en-de", seed=0)  # same recipe, same folder
    others = [cache_entry("smoke", "03_translation", "en-de", seed=1),
              cache_entry("smoke", "03_translation", "en-de", seed=0, overrides={"max_steps": {"*": 3}}),
              cache_entry("smoke", "03_translation", "zh-en", seed=0),
              cache_entry("cpu", "03_translation", "en-de", seed=0)]
    assert len({base.folder, *(e.folder for e in others)}) == 5  # a user's own run never lands on the default's
    assert base.recipe["settings"]["max_steps"] == {"*": 20}


def test_a_model_is_trained_once_then_reused(cache_root):
    calls = []

    def train(folder):
        calls.append(folder)
        folder.mkdir(parents=True)
        (folder / "weights").write_text("w")

    entry = cache_entry("smoke", "03_translation", "en-de")
    assert not entry.ready
    assert reuse_or_train(entry, train) == entry.folder and entry.ready
    assert reuse_or_train(entry, train) == entry.folder
    assert len(calls) == 1
    assert json.loads((entry.folder / RECIPE).read_text())["name"] == "en-de"


def test_an_unfinished_or_foreign_folder_is_trained_again(cache_root):
    entry = cache_entry("smoke", "03_translation", "en-de")
    entry.folder.mkdir(parents=True)  # a run stopped before it finished: no recipe
    (entry.folder / "partial").write_text("")
    calls = []
    reuse_or_train(entry, lambda folder: calls.append(folder))
    (entry.folder / RECIPE).write_text(json.dumps({"name": "something else"}))
    reuse_or_train(entry, lambda folder: calls.append(folder))
    assert len(calls) == 2


def test_a_failed_training_leaves_no_finished_model(cache_root):
    entry = cache_entry("smoke", "03_translation", "en-de")
    remember(entry)

    def broken(folder):
        raise RuntimeError("out of memory")

    stale = cache_entry("smoke", "03_translation", "en-de", seed=3)
    with pytest.raises(RuntimeError):
        reuse_or_train(stale, broken)
    assert not stale.ready and entry.ready


def test_a_format_bump_retires_only_that_notebooks_models(cache_root, monkeypatch):
    before = {nb: cache_entry("smoke", nb, "x") for nb in ("03_translation", "04_sentiment")}
    monkeypatch.setitem(trained.FORMATS, "03", trained.FORMATS["03"] + 1)
    assert cache_entry("smoke", "03_translation", "x").folder != before["03_translation"].folder
    assert cache_entry("smoke", "04_sentiment", "x") == before["04_sentiment"]
