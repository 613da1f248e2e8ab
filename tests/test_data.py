import pytest

from xlw.data import DATA_ENV, DataNotFoundError, data_path, data_root, inventory, project_root


def test_default_root_is_shared_data_beside_the_project(monkeypatch):
    monkeypatch.delenv(DATA_ENV, raising=False)
    assert data_root() == project_root().parent / "shared" / "data"


def test_env_override_and_lookup(tmp_path, monkeypatch):
    (tmp_path / "multi30k").mkdir()
    (tmp_path / "multi30k" / "train.de.gz").write_bytes(b"")
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert data_path("multi30k", "train.de.gz") == tmp_path / "multi30k" / "train.de.gz"
    rows = {row["data set"]: row for row in inventory()}
    assert rows["multi30k"]["present"] and rows["multi30k"]["files"] == 1
    assert not rows["xquad"]["present"]


def test_missing_file_names_path_data_set_and_remedy(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    with pytest.raises(DataNotFoundError) as err:
        data_path("xquad", "xquad.de.json")
    message = str(err.value)
    assert str(tmp_path / "xquad" / "xquad.de.json") in message
    assert "XQuAD" in message and DATA_ENV in message and "google/xquad" in message


def test_override_that_is_not_a_directory(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError, match="XLW_DATA=.*is not a directory"):
        data_root()


def test_unknown_data_set():
    with pytest.raises(KeyError, match="unknown data set 'imagenet'"):
        data_path("imagenet")


def test_chosen_languages_default_to_all_found_and_check_the_rest():
    from xlw.data import chosen_languages

    assert chosen_languages(None, ["ar", "de", "en"], "UMSAB", first="en") == ["en", "ar", "de"]
    assert chosen_languages(["de", "de"], ["ar", "de", "en"], "UMSAB") == ["de"]
    with pytest.raises(ValueError, match=r"XQuAD has no language 'vi' here: found ar, de, en"):
        chosen_languages(["en", "vi"], ["ar", "de", "en"], "XQuAD")
    with pytest.raises(ValueError, match=r"XQuAD has no language 'en' here"):  # the training language too
        chosen_languages(["de"], ["de"], "XQuAD", first="en")
    with pytest.raises(ValueError, match=r"must be a list of codes such as \['de', 'th'\] or None, got 'de'"):
        chosen_languages("de", ["de"], "XQuAD")
