import pytest

from xlw.transfer import translate_texts, translator_pairs


def test_translators_are_the_pairs_03b_fine_tunes_not_every_corpus(data_dir):
    (data_dir / "parallel" / "en-fr").mkdir(parents=True)
    (data_dir / "parallel" / "en-fr" / "train.tsv").write_text("dog\tchien\n")  # a corpus, but no 03b model
    assert translator_pairs("smoke") == ["en-de", "zh-en"]  # 03b's smoke pairs (their corpora: hub copies)


def test_translate_texts_names_the_pairs_it_has(data_dir):
    with pytest.raises(ValueError, match=r"pair 'en-fr' has no translator under profile 'smoke': 03b fine-tunes "
                                         r"en-de, zh-en"):
        translate_texts("smoke", "en-fr", ["a dog"])
