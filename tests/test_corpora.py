import gzip
from pathlib import Path

import datasets
import huggingface_hub
import pytest

from xlw import corpora
from xlw.corpora import (
    CorpusFormatError,
    load_multi30k,
    load_pair,
    load_parallel,
    load_tatoeba,
    load_wmt22,
    pair_corpus,
    pair_test_key,
    read_tatoeba,
    tatoeba_languages,
    tatoeba_split_sizes,
    tatoeba_splits,
)
from xlw.data import DataNotFoundError, data_path


def write(path: Path, lines: list[str], end: str = "\n") -> Path:
    """Write `lines` to `path` (gzip if it ends in .gz), each followed by `end`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(line + end for line in lines)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_multi30k(root: Path, split: str = "train", **langs: list[str]) -> None:
    for lang, lines in langs.items():
        write(root / "multi30k" / f"{split}.{lang}.gz", lines)


# --- Multi30k ---------------------------------------------------------------------------------

def test_multi30k_pairs_lines_and_strips_trailing_whitespace_only(data_dir):
    write_multi30k(data_dir, en=["a dog runs .  ", "  two cats\t", "a stray\rreturn"],
                   de=["ein Hund läuft .", "zwei Katzen\r", "drei"])
    ds = load_multi30k("train", "en", "de")
    assert ds.column_names == ["src", "tgt"]
    assert ds["src"] == ["a dog runs .", "  two cats", "a stray\rreturn"]
    assert ds["tgt"] == ["ein Hund läuft .", "zwei Katzen", "drei"]
    assert load_multi30k("train", "de", "en")["src"] == ds["tgt"]


@pytest.mark.parametrize("args, named", [
    (("dev", "en", "de"), "test_2016_flickr"),
    (("train", "cs", "de"), r"expected one of de, en \(the files train.<lang>.gz in .*multi30k; add train.cs.gz"),
    (("train", "en", "en"), "both 'en'"),
])
def test_multi30k_rejects_unknown_choices(data_dir, args, named):
    write_multi30k(data_dir, en=["a"], de=["b"])
    with pytest.raises(ValueError, match=named):
        load_multi30k(*args)


def test_multi30k_finds_a_language_by_its_files(data_dir):
    write_multi30k(data_dir, en=["a dog", "a cat"], de=["ein Hund", "eine Katze"], cs=["pes", "kočka"])
    write_multi30k(data_dir, "val", en=["x"], cs=["y"])
    assert corpora.multi30k_languages() == ["cs", "de", "en"] and corpora.multi30k_languages("val") == ["cs", "en"]
    assert load_multi30k("train", "cs", "de")["src"] == ["pes", "kočka"]
    with pytest.raises(ValueError, match="unknown target language 'de': expected one of cs, en"):
        load_multi30k("val", "en", "de")


def test_multi30k_mismatched_line_counts_name_both_files(data_dir):
    write_multi30k(data_dir, "val", en=["one", "two", "three"], fr=["un", "deux"])
    with pytest.raises(CorpusFormatError, match=r"val\.en\.gz has 3.*val\.fr\.gz has 2"):
        load_multi30k("val", "en", "fr")


def test_multi30k_empty_line_names_file_and_line(data_dir):
    write_multi30k(data_dir, en=["one", "two", "three"], de=["eins", "  ", "drei"])
    with pytest.raises(CorpusFormatError, match=r"train\.de\.gz:2: empty line"):
        load_multi30k()


def test_multi30k_missing_offline_names_the_local_path(data_dir, monkeypatch):
    # Offline mode is read at import time, so set it where datasets and the hub client look.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(DataNotFoundError, match=str(data_dir / "multi30k" / "train.en.gz")):
        load_multi30k("train", "en", "de")


@pytest.mark.parametrize("split, src, tgt", [("train", "en", "fr"), ("test_2018_flickr", "en", "de")])
def test_multi30k_missing_without_hub_copy_does_not_try_the_hub(data_dir, monkeypatch, split, src, tgt):
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("asked the hub"))
    with pytest.raises(DataNotFoundError, match=f"{split}.{src}.gz does not exist"):
        load_multi30k(split, src, tgt)


# --- Tatoeba ----------------------------------------------------------------------------------

def write_tatoeba(root: Path, lines: list[str]) -> Path:
    return write(root / "tatoeba-cmn" / "cmn.txt", lines)


def test_tatoeba_reads_bom_and_trailing_blank_line(data_dir):
    path = write_tatoeba(data_dir, ["\ufeffBlue kite.\t蓝风筝。\tCC-BY #1", "Jump twice!\t跳两次！\tCC-BY #2\r", ""])
    assert read_tatoeba(path) == [("Blue kite.", "蓝风筝。"), ("Jump twice!", "跳两次！")]


@pytest.mark.parametrize("line, expected", [
    ("Blue kite.\t蓝风筝。", r"cmn\.txt:2: 2 tab-separated fields; expected 3"),
    ("Blue kite.\t蓝风筝。\tx\ty", r"cmn\.txt:2: 4 tab-separated fields"),
    (" \t蓝风筝。\tx", r"cmn\.txt:2: empty English \(1st\) field"),
    ("Blue kite.\t\tx", r"cmn\.txt:2: empty translation \(2nd\) field"),
])
def test_tatoeba_malformed_line_names_file_and_line(data_dir, line, expected):
    write_tatoeba(data_dir, ["Red cup.\t红杯子。\tx", line, "Green hat.\t绿帽子。\tx"])
    with pytest.raises(CorpusFormatError, match=expected):
        load_tatoeba("train")


def synthetic_pairs(n: int) -> list[tuple[str, str]]:
    """n pairs in which each English sentence has two Chinese translations."""
    return [(f"sentence {i // 2}", f"句子{i}") for i in range(n)]


def test_tatoeba_split_is_deterministic_and_seeded(monkeypatch):
    monkeypatch.setattr(corpora, "TATOEBA_HELD_OUT", {"test": 50, "val": 50})
    pairs = synthetic_pairs(1200)
    first = tatoeba_splits(pairs, seed=0)
    assert first == tatoeba_splits(list(pairs), seed=0)
    assert first != tatoeba_splits(pairs, seed=1)
    assert sorted(sum(first.values(), [])) == list(range(len(pairs)))
    assert len(first["test"]) == len(first["val"]) == 50  # whole groups of two


def test_tatoeba_split_keeps_linked_sentences_together(monkeypatch):
    monkeypatch.setattr(corpora, "TATOEBA_HELD_OUT", {"test": 5, "val": 5})
    # each pair shares its English with one neighbour and its Chinese with the other: one group
    chain = [(f"chain {i // 2}", f"链{(i + 1) // 2}") for i in range(30)]
    pairs = chain + synthetic_pairs(40)
    for seed in range(5):
        where = {i: name for name, indices in tatoeba_splits(pairs, seed).items() for i in indices}
        assert len({where[i] for i in range(len(chain))}) == 1
        for side in (0, 1):
            homes = {}
            for i, pair in enumerate(pairs):
                assert homes.setdefault(pair[side], where[i]) == where[i]


def test_tatoeba_loader_directions_and_split_sizes(data_dir, monkeypatch):
    monkeypatch.setattr(corpora, "TATOEBA_HELD_OUT", {"test": 3, "val": 3})
    write_tatoeba(data_dir, [f"{en}\t{zh}\tCC-BY" for en, zh in synthetic_pairs(20)])
    zh_en = load_tatoeba("test")
    assert zh_en.column_names == ["src", "tgt"] and zh_en["src"][0].startswith("句子")
    assert load_tatoeba("test", "en", "zh")["tgt"] == zh_en["src"]
    assert tatoeba_split_sizes() == {"train": 12, "val": 4, "test": 4}
    with pytest.raises(ValueError, match="train, val, test"):
        load_tatoeba("dev")


def test_tatoeba_split_check_catches_leakage(data_dir, monkeypatch):
    write_tatoeba(data_dir, ["Blue kite.\t蓝风筝。\tx", "Blue kite.\t蓝色风筝。\tx"])
    monkeypatch.setattr(corpora, "tatoeba_splits", lambda pairs, seed: {"train": [0], "val": [], "test": [1]})
    with pytest.raises(AssertionError, match=r"English sentence 'Blue kite\.' is in both train and test"):
        tatoeba_split_sizes()


def test_tatoeba_pairs_english_with_any_language_by_its_file(data_dir, monkeypatch):
    monkeypatch.setattr(corpora, "TATOEBA_HELD_OUT", {"test": 2, "val": 2})
    write_tatoeba(data_dir, ["Red cup.\t红杯子。\tx"])
    write(data_dir / "tatoeba-deu" / "deu.txt", [f"Cup {i}.\tTasse {i}.\tCC-BY" for i in range(8)])
    assert list(tatoeba_languages()) == ["zh", "de"]  # cmn.txt is Mandarin: the macrolanguage code zh
    de_en = load_tatoeba("test", "de", "en")
    assert len(de_en) == 2 and de_en["src"][0].startswith("Tasse") and de_en["tgt"][0].startswith("Cup")
    assert tatoeba_split_sizes("de") == {"train": 4, "val": 2, "test": 2}
    with pytest.raises(ValueError, match=r"no Tatoeba file pairs English with 'fr': found zh, de .*"
                                         r"tatoeba-<iso639-3>/<iso639-3>\.txt"):
        load_tatoeba("train", "fr", "en")
    with pytest.raises(ValueError, match="Tatoeba pairs English with one other language: got 'de'-'zh'"):
        load_tatoeba("train", "de", "zh")


# --- a user's own parallel corpus ----------------------------------------------------------------

def test_parallel_corpus_from_tsv_and_jsonl(tmp_path):
    tsv = write(tmp_path / "mine.tsv.gz", ["Ein Hund.\tA dog.", "Zwei Katzen. \t Two cats."])
    assert load_parallel(tsv).to_dict() == {"src": ["Ein Hund.", "Zwei Katzen."], "tgt": ["A dog.", "Two cats."]}
    jsonl = write(tmp_path / "mine.jsonl", ['{"src": "Hallo", "tgt": "Hello", "id": 7}'])
    assert load_parallel(jsonl).to_dict() == {"src": ["Hallo"], "tgt": ["Hello"]}


@pytest.mark.parametrize("name, lines, expected", [
    ("a.tsv", ["Hund\tdog", "Katze"], r"a\.tsv:2: 1 tab-separated fields; expected 2 \(src, tgt\)"),
    ("a.tsv", ["Hund\t "], r"a\.tsv:1: empty tgt"),
    ("a.jsonl", ['{"src": "x", "tgt": "y"}', "{src: 1}"], r"a\.jsonl:2: not JSON"),
    ("a.jsonl", ['{"src": "x", "target": "y"}'], r'a\.jsonl:1: expected an object with string fields "src" and "tgt"'),
    ("a.tsv", [], r"a\.tsv: no sentence pairs"),
])
def test_parallel_corpus_errors_name_file_and_line(tmp_path, name, lines, expected):
    with pytest.raises(CorpusFormatError, match=expected):
        load_parallel(write(tmp_path / name, lines))


def test_parallel_corpus_refuses_unknown_formats_and_missing_files(tmp_path):
    with pytest.raises(ValueError, match=r"expected a \.tsv, \.txt or \.jsonl file .*not \.csv"):
        load_parallel(tmp_path / "a.csv")
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_parallel(tmp_path / "a.tsv")


# --- any pair by name ---------------------------------------------------------------------------

def test_load_pair_prefers_own_files_then_multi30k_then_tatoeba(data_dir, monkeypatch):
    monkeypatch.setattr(corpora, "TATOEBA_HELD_OUT", {"test": 2, "val": 2})
    for split in ("train", "val", "test_2016_flickr"):
        write_multi30k(data_dir, split, en=[f"a {split}"], de=[f"ein {split}"], fr=[f"un {split}"])
    write(data_dir / "tatoeba-ces" / "ces.txt", [f"Cup {i}.\tHrnek {i}.\tCC-BY" for i in range(8)])
    write(data_dir / "parallel" / "en-fr" / "train.tsv", ["mine\tà moi"])
    assert [pair_corpus(p) for p in ("de-en", "en-fr", "fr-en", "cs-en")] == ["multi30k", "parallel", "parallel",
                                                                            "tatoeba"]
    assert load_pair("de-en", "test").to_dict() == {"src": ["ein test_2016_flickr"], "tgt": ["a test_2016_flickr"]}
    assert load_pair("fr-en", "train").to_dict() == {"src": ["à moi"], "tgt": ["mine"]}  # en-fr read backwards
    assert load_pair("en-cs", "test")["tgt"][0].startswith("Hrnek")
    assert [pair_test_key(p) for p in ("en-de", "cs-en")] == ["multi30k.en-de.test2016", "tatoeba.cs-en.test"]
    with pytest.raises(DataNotFoundError, match=r"no val file for 'en-fr': expected .*parallel/en-fr/val\.tsv"):
        load_pair("en-fr", "val")


@pytest.mark.parametrize("pair, expected", [
    ("en-xx", r"no corpus for 'en-xx' .*Multi30k has de, en, fr, Tatoeba pairs English with none; "
              r"put your own pairs in parallel/en-xx/train\.tsv"),
    ("en", r"direction 'en' must look like 'src-tgt'"),
    ("de-de", r"direction 'de-de' must look like 'src-tgt' with two different languages"),
])
def test_load_pair_errors_say_what_was_found_and_expected(data_dir, pair, expected):
    write_multi30k(data_dir, en=["a"], de=["ein"], fr=["un"])
    with pytest.raises(ValueError, match=expected):
        load_pair(pair)


# --- WMT22 ------------------------------------------------------------------------------------

def test_wmt22_keeps_empty_segments_and_checks_counts(data_dir):
    stem = data_dir / "wmt22" / "generaltest2022.zh-en"
    write(Path(f"{stem}.src.zh"), ["第一段。", "", "第三段。"])
    write(Path(f"{stem}.ref.A.en"), ["First.", "", "Third."])
    write(Path(f"{stem}.ref.B.en"), ["The first.", "Second.", "The third."])
    ds = load_wmt22("zh-en")
    assert ds.column_names == ["src", "tgt", "tgt_b"] and ds["tgt"][1] == "" and ds["tgt_b"][1] == "Second."
    write(Path(f"{stem}.ref.B.en"), ["The first."])
    with pytest.raises(CorpusFormatError, match=r"ref\.A\.en has 3, .*ref\.B\.en has 1"):
        load_wmt22("zh-en")
    with pytest.raises(ValueError, match="en-de, de-en, en-zh, zh-en"):
        load_wmt22("en-fr")


# --- the real shared data (read only) ----------------------------------------------------------

def test_real_multi30k_sizes():
    assert load_multi30k("train", "de", "en").num_rows == 29_000
    assert load_multi30k("test_2018_flickr", "en", "fr").num_rows == 1_071


def test_real_tatoeba_split_has_no_leakage():
    sizes = tatoeba_split_sizes()
    assert sizes["test"] >= 1000 and 1000 <= sizes["val"] <= 1100
    assert sum(sizes.values()) == 29_155  # 29,156 lines, the last one blank
    pairs = read_tatoeba(data_path("tatoeba-cmn", "cmn.txt"))
    splits = tatoeba_splits(pairs)
    for side in (0, 1):  # English, Chinese: checked here without the checker under test
        texts = {name: {pairs[i][side] for i in indices} for name, indices in splits.items()}
        assert not texts["train"] & texts["test"] and not texts["train"] & texts["val"]
        assert not texts["val"] & texts["test"]
    assert load_tatoeba("test")["src"] == [pairs[i][1] for i in splits["test"]]


def test_real_wmt22_counts_match():
    ds = load_wmt22("zh-en")
    assert ds.num_rows == 1875 and all(ds["tgt"]) and all(ds["tgt_b"])


def test_head_takes_the_first_items_of_lists_and_datasets():
    from datasets import Dataset

    from xlw.corpora import head

    rows = Dataset.from_dict({"src": ["a", "b", "c"]})
    assert list(head(rows, 2)["src"]) == ["a", "b"] and len(head(rows, 10)) == 3 and head(rows, None) is rows
    assert head(("x", "y", "z"), 1) == ["x"] and head([1, 2], None) == [1, 2]


def test_disjoint_slices_do_not_overlap_and_check_their_total():
    from xlw.corpora import disjoint_slices

    slices = disjoint_slices(10, {"a": 3, "b": 4}, seed=1)
    assert len(slices["a"]) == 3 and len(slices["b"]) == 4 and not set(slices["a"]) & set(slices["b"])
    assert disjoint_slices(10, {"a": 3, "b": 4}, seed=1) == slices
    with pytest.raises(ValueError, match="need 11"):
        disjoint_slices(10, {"a": 5, "b": 6})
