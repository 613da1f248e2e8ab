import pytest

import xlw.trained
from xlw.transfer import translate_texts, translator_pairs


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """No translator saved yet: the cache lives in an empty folder."""
    monkeypatch.setattr(xlw.trained, "project_root", lambda: tmp_path)


def test_translators_are_the_pairs_03b_fine_tunes_whose_corpus_is_here(data_dir, empty_cache):
    (data_dir / "parallel" / "en-de").mkdir(parents=True)
    (data_dir / "parallel" / "en-de" / "train.tsv").write_text("dog\tHund\n")
    (data_dir / "parallel" / "en-fr").mkdir(parents=True)
    (data_dir / "parallel" / "en-fr" / "train.tsv").write_text("dog\tchien\n")  # a corpus, but 03b has no en-fr
    # 03b's smoke pairs are en-de and zh-en; zh-en's corpus (Tatoeba's cmn.txt) is named but not here
    assert translator_pairs("smoke") == ["en-de"]


def test_translate_texts_names_the_pairs_it_has(data_dir, empty_cache):
    (data_dir / "parallel" / "en-de").mkdir(parents=True)
    (data_dir / "parallel" / "en-de" / "train.tsv").write_text("dog\tHund\n")
    with pytest.raises(ValueError, match=r"pair 'zh-en' has no translator under profile 'smoke': 03b fine-tunes "
                                         r"en-de here"):
        translate_texts("smoke", "zh-en", ["一只狗"])


def test_translate_texts_decodes_with_the_whole_output_layer_unless_asked(monkeypatch, tmp_path):
    import torch

    import xlw.transfer

    kept = torch.tensor([1, 2, 3])
    layers = []
    monkeypatch.setattr(xlw.transfer, "has_translator", lambda *args: True)
    monkeypatch.setattr(xlw.transfer, "trained_translator", lambda entry: tmp_path)
    monkeypatch.setattr(xlw.transfer, "load_translator", lambda folder: (None, None, {"vocabulary": kept}))
    monkeypatch.setattr(xlw.transfer, "prompted_translate",
                        lambda *args, vocabulary, **kwargs: layers.append(vocabulary) or ["Hund"])
    assert translate_texts("smoke", "en-de", ["dog"]) == ["Hund"]
    translate_texts("smoke", "en-de", ["dog"], restrict_output=True)
    assert layers[0] is None and layers[1] is kept
