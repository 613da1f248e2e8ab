"""A language nobody named in code runs through the translation, sentiment and QA notebooks by parameters alone.

The made-up language `qaa` (ISO 639's private-use range) is English under ROT13: same lengths, so XQuAD's
answer offsets stay valid, and a script no tokenizer has seen as words. Its files sit beside links to the
real data in a temporary XLW_DATA, in each data set's own format.
"""

import codecs
import gzip
import json
import shutil

import pytest

from xlw.data import data_root
from xlw.report import main

FAKE = "qaa"


def rot13(text: str) -> str:
    return codecs.encode(text, "rot13")


def linked_copy(source, target):
    """`target` as a folder of links to everything in `source` (the real data stays untouched)."""
    target.mkdir(parents=True)
    for item in source.iterdir():
        (target / item.name).symlink_to(item)


@pytest.fixture(scope="module")
def data_with_a_new_language(tmp_path_factory):
    real, root = data_root(), tmp_path_factory.mktemp("data")
    for name in ("multi30k", "xquad", "xlm-t-sentiment", "chnsenticorp"):
        assert (real / name).is_dir(), f"this test builds on the shared data set {name} under {real}"
        linked_copy(real / name, root / name)
    for split in ("train", "test_2016_flickr"):
        with gzip.open(real / "multi30k" / f"{split}.en.gz", "rt", encoding="utf-8") as f:
            lines = f.read().splitlines()
        with gzip.open(root / "multi30k" / f"{split}.{FAKE}.gz", "wt", encoding="utf-8") as f:
            f.write("\n".join(map(rot13, lines)) + "\n")
    squad = json.loads((real / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))
    for article in squad["data"]:
        for paragraph in article["paragraphs"]:
            paragraph["context"] = rot13(paragraph["context"])
            for qa in paragraph["qas"]:
                qa["question"] = rot13(qa["question"])
                for answer in qa["answers"]:
                    answer["text"] = rot13(answer["text"])
    (root / "xquad" / f"xquad.{FAKE}.json").write_text(json.dumps(squad), encoding="utf-8")
    own = root / "parallel" / f"en-{FAKE}"  # a user's own corpus: English–qaa TSV files
    own.mkdir(parents=True)
    for split, source in (("train", "train"), ("val", "val"), ("test", "test_2016_flickr")):
        with gzip.open(real / "multi30k" / f"{source}.en.gz", "rt", encoding="utf-8") as f:
            lines = f.read().splitlines()[:3000]
        (own / f"{split}.tsv").write_text("".join(f"{en}\t{rot13(en)}\n" for en in lines), encoding="utf-8")
    tweets = root / "xlm-t-sentiment" / FAKE
    tweets.mkdir()
    for split in ("train", "val", "test"):
        english = (real / "xlm-t-sentiment" / "english" / f"{split}_text.txt").read_text(encoding="utf-8")
        (tweets / f"{split}_text.txt").write_text(rot13(english), encoding="utf-8")
        shutil.copy(real / "xlm-t-sentiment" / "english" / f"{split}_labels.txt", tweets)
    return root


@pytest.fixture
def run_smoke(data_with_a_new_language, tmp_path, monkeypatch):
    """Run notebooks under smoke with `-p` parameters on the extended data; their metrics."""
    monkeypatch.setenv("XLW_DATA", str(data_with_a_new_language))

    def run(notebooks, *params):
        args = ["--profile", "smoke", "--reports", str(tmp_path), "--only", *notebooks]
        assert main([*args, *(arg for p in params for arg in ("-p", p))]) == 0
        return json.loads((tmp_path / "smoke" / "metrics.json").read_text())
    return run


@pytest.mark.notebooks
def test_sentiment_and_qa_evaluate_a_new_language_by_parameter(run_smoke):
    metrics = run_smoke(["04", "05"], f'eval_languages=["en", "{FAKE}"]')
    assert {f"macro_f1.umsab.{FAKE}.zeroshot", f"macro_f1.umsab.{FAKE}.tfidf",
            f"macro_f1.umsab.{FAKE}.inlang"} <= set(metrics["04_sentiment"])
    assert {f"f1.xquad.{FAKE}", f"f1.xquad.{FAKE}.baseline"} <= set(metrics["05_qa"])
    assert "f1.xquad.de" not in metrics["05_qa"]  # the parameter chose the languages


@pytest.mark.notebooks
def test_multilingual_translation_trains_and_zero_shots_a_new_language_by_parameter(run_smoke):
    metrics = run_smoke(["09"], f'pair_sizes={{"en-de": 16, "en-{FAKE}": 8}}', f"zero_shot=de-{FAKE}")
    recorded = metrics["09_multilingual"]
    assert {f"bleu.joint.T1.en-{FAKE}", f"bleu.joint.T1.{FAKE}-en", f"bleu.de-{FAKE}.zeroshot",
            f"bleu.de-{FAKE}.pivot", f"bleu.de-{FAKE}.direct"} <= set(recorded)
    assert 0 <= recorded[f"offtarget.de-{FAKE}.zeroshot"] <= 1


@pytest.mark.notebooks
def test_translation_notebooks_train_a_new_pair_from_a_users_own_files_by_parameter(run_smoke):
    metrics = run_smoke(["03", "03b"], f'pairs=["en-{FAKE}"]')
    scratch, llm = metrics["03_translation"], metrics["03b_llm_translation"]
    assert {f"bleu.parallel.en-{FAKE}.test", f"bleu.parallel.en-{FAKE}.test.greedy",
            f"data.en-{FAKE}.train_pairs"} <= set(scratch)
    assert "bleu.multi30k.en-de.test2016" not in scratch and "bleu.tatoeba.zh-en.test" not in scratch
    new_pair = f"llm_mt.en-{FAKE}"
    assert {f"{new_pair}.bleu", f"{new_pair}.full_ft.bleu", f"{new_pair}.prompted_k0.bleu"} <= set(llm)
    assert not any(".zh-en." in key for key in llm)
