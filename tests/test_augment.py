import functools
import random
import re

import pandas as pd
import pytest

import xlw.augment as augment
from xlw.augment import (
    EDA_OPS,
    augment_frame,
    eda,
    frequent_words,
    is_protected,
    lexnames_text,
    load_thesaurus,
    match_case,
    random_delete,
    random_insert,
    random_swap,
    read_mythes,
    synonym_replace,
    synonym_study,
    wordnet_reader,
)

THESAURUS = {"good": ["fine", "nice"], "movie": ["film"], "happy": ["glad", "content"], "day": ["date"],
             "bad": ["poor"], "awful": ["dreadful"], "okay": ["alright"], "today": ["now"]}
PROTECTED = ["@user", "2020", "#happy", "http://t.co/x", "😀"]
TWEET = "@user good movie 2020 , happy day #happy http://t.co/x so good 😀 today"


def all_ops(alpha: float = 0.3):
    """Every operation as op(text, rng), each EDA operation alone and mixed."""
    return {op: functools.partial(eda, thesaurus=THESAURUS, alpha=alpha, ops=(op,)) for op in EDA_OPS} | {
        "eda": functools.partial(eda, thesaurus=THESAURUS, alpha=alpha)}


@pytest.mark.parametrize("name", [*EDA_OPS, "eda"])
def test_ops_are_deterministic_under_a_seed_and_vary_across_seeds(name):
    op = all_ops()[name]
    assert op(TWEET, random.Random(3)) == op(TWEET, random.Random(3))
    outputs = {op(TWEET, random.Random(seed)) for seed in range(20)}
    assert len(outputs) > 2 and TWEET not in outputs


@pytest.mark.parametrize("token, protected", [
    ("2020", True), ("30€", True), ("@user", True), ("(@user)", True), ("#happy", True), ("http://t.co/x", True),
    ("?http://t.co/w6", True), ("www.example.org", True), ("http", True), ("😀😀", True), ("T___T", True),
    ("...", True), ("I", True), ("à", True),
    ("good", False), ("good!", False), ("Don't", False), ("self-driving", False), ("XD", False),
])
def test_is_protected(token, protected):
    assert is_protected(token) is protected


def test_protect_set_is_case_insensitive():
    assert is_protected("Movie", {"movie"}) and not is_protected("Movie")


@pytest.mark.parametrize("name", [*EDA_OPS, "eda"])
def test_protected_tokens_survive_every_op(name):
    op = all_ops(alpha=0.5)[name]
    for seed in range(50):
        out = op(TWEET, random.Random(seed)).split()
        assert [t for t in out if t in PROTECTED] == PROTECTED, (seed, out)


def test_words_in_protect_are_never_touched():
    for seed in range(30):
        rng = random.Random(seed)
        text = "good movie good movie"
        assert synonym_replace(text, THESAURUS, 4, rng, protect={"movie"}).split()[1::2] == ["movie", "movie"]
        assert random_delete(text, 1.0, rng, protect={"movie"}) == "movie movie"
        assert random_swap("good bad movie", 3, rng, protect={"movie"}).endswith(" movie")
        assert random_delete(text, 1.0, rng, protect={"Movie"}) == "movie movie"  # protect in any case
        assert synonym_replace(text, THESAURUS, 4, rng, protect={"MOVIE"}).split()[1::2] == ["movie", "movie"]


def test_synonym_replace_uses_thesaurus_synonyms_and_keeps_punctuation_and_case():
    for seed in range(20):
        first, second, third = synonym_replace("Good movie! (happy)", THESAURUS, 3, random.Random(seed)).split()
        assert first in ("Fine", "Nice") and second == "film!" and third in ("(glad)", "(content)")
    one = synonym_replace("good movie happy", THESAURUS, 1, random.Random(0)).split()
    assert sum(a != b for a, b in zip(one, ["good", "movie", "happy"])) == 1
    assert synonym_replace("GOOD day", THESAURUS, 1, random.Random(0)) in ("FINE day", "NICE day", "GOOD date")
    assert synonym_replace("unknown words only", THESAURUS, 2, random.Random(0)) == "unknown words only"


def test_match_case():
    assert [match_case("Good", "fine"), match_case("GOOD", "fine"), match_case("good", "Fine"),
            match_case("I", "me")] == ["Fine", "FINE", "Fine", "Me"]  # a capital, not capitals, for one letter


def test_random_insert_adds_synonyms_of_words_in_the_text():
    out = random_insert("good movie", THESAURUS, 3, random.Random(1)).split()
    assert len(out) == 5 and set(out) - {"good", "movie"} <= {"fine", "nice", "film"}
    assert random_insert("no synonyms here", THESAURUS, 3, random.Random(1)) == "no synonyms here"


def test_random_swap_keeps_the_words_and_punctuation_slots():
    out = random_swap("good movie, happy day!", 2, random.Random(0))
    assert sorted(out.replace(",", "").replace("!", "").split()) == ["day", "good", "happy", "movie"]
    assert out.split()[1].endswith(",") and out.endswith("!")


def test_random_delete_never_empties_a_text():
    for seed in range(50):
        rng = random.Random(seed)
        assert random_delete("good movie today", 1.0, rng) in ("good", "movie", "today")
        assert random_delete("word", 0.9, rng) == "word"
        assert random_delete("@user good movie", 1.0, rng) == "@user"
    assert random_delete("a b c", 0.0, random.Random(0)) == "a b c"


def test_eda_changes_max_one_or_alpha_share_of_the_words():
    syn = functools.partial(eda, thesaurus=THESAURUS, ops=("syn",))
    changed = [a != b for a, b in zip(syn("good movie happy day bad", random.Random(0), alpha=0.1).split(),
                                      "good movie happy day bad".split())]
    assert sum(changed) == 1  # max(1, round(0.5)) = 1
    assert len(syn("good movie happy day bad", random.Random(0), alpha=0.4).split()) == 5
    with pytest.raises(ValueError, match="ops must be"):
        eda("good", random.Random(0), THESAURUS, ops=("shuffle",))


def tiny_frame() -> pd.DataFrame:
    texts = ["good movie #r0", "bad day today #r1", "okay movie #r2", "happy day good #r3", "awful movie bad #r4",
             "@user 2020 #r5"]
    return pd.DataFrame({"text": texts, "label": [i % 3 for i in range(len(texts))], "extra": list("abcdef")})


def test_augment_frame_keeps_originals_and_labels():
    frame = tiny_frame()
    out = augment_frame(frame, all_ops()["eda"], n_aug=3, seed=0)
    assert list(out.columns) == ["text", "label", "extra", "augmented"]
    originals = out[~out.augmented]
    pd.testing.assert_frame_equal(originals.drop(columns="augmented"), frame)
    copies = out[out.augmented]
    assert 0 < len(copies) <= 3 * len(frame)
    for _, row in copies.iterrows():
        source = frame.iloc[int(re.search(r"#r(\d)", row.text).group(1))]  # the marker is a protected hashtag
        assert row.label == source.label and row.extra == source.extra and row.text != source.text
    assert not copies.text.str.contains("#r5").any()  # nothing editable: every copy equals its source, dropped


def test_augment_frame_is_deterministic_under_a_seed():
    op = all_ops()["eda"]
    pd.testing.assert_frame_equal(augment_frame(tiny_frame(), op, 2, seed=4), augment_frame(tiny_frame(), op, 2, 4))
    assert not augment_frame(tiny_frame(), op, 2, seed=4).equals(augment_frame(tiny_frame(), op, 2, seed=5))


def test_augment_frame_bad_arguments():
    assert not augment_frame(tiny_frame(), all_ops()["syn"], 0).augmented.any()
    with pytest.raises(ValueError, match="n_aug"):
        augment_frame(tiny_frame(), all_ops()["syn"], -1)
    with pytest.raises(ValueError, match="'text' and 'label'"):
        augment_frame(tiny_frame().rename(columns={"text": "review"}), all_ops()["syn"], 1)


def synthetic_sentiment(n: int, seed: int) -> pd.DataFrame:
    """Three-class tweets made of class words and shared filler words."""
    rng = random.Random(seed)
    words = [["bad", "awful", "poor"], ["okay", "today", "day"], ["good", "happy", "nice"]]
    rows = [(" ".join(rng.choices(words[i % 3], k=2) + rng.choices(["movie", "the", "was", "@user"], k=2)), i % 3)
            for i in range(n)]
    return pd.DataFrame(rows, columns=["text", "label"])


def test_synonym_study_rows_and_reproducibility(monkeypatch):
    monkeypatch.setenv("XLW_PROGRESS", "0")
    train, test = synthetic_sentiment(60, 0), synthetic_sentiment(30, 1)
    study = functools.partial(synonym_study, train, test, THESAURUS, sizes=(6, 12), seeds=(0, 1), n_aug=2,
                              alpha=0.3)
    result = study()
    assert list(result.columns) == ["size", "seed", "variant", "macro_f1", "n_train"]
    assert len(result) == 2 * 2 * 3 and set(result.variant) == {"base", "syn", "eda"}
    base = result[result.variant == "base"]
    assert (base.n_train == base["size"]).all()
    assert (result[result.variant != "base"].n_train > result[result.variant != "base"]["size"]).all()
    assert result.macro_f1.between(0, 1).all()
    pd.testing.assert_frame_equal(study(), result)
    with pytest.raises(ValueError, match="ops must be"):
        synonym_study(train, test, THESAURUS, sizes=(6,), seeds=(0,), ops=("back-translation",))


# --- The real thesauri ----------------------------------------------------------------------------

def test_lexnames_are_wordnet_30s_and_match_the_data_files():
    lines = lexnames_text().splitlines()
    assert len(lines) == 45 and lines[0] == "00\tadj.all\t3" and lines[3] == "03\tnoun.Tops\t1"
    assert lines[-1] == "44\tadj.ppl\t3"
    wn = wordnet_reader()
    names = [wn.synset(s).lexname() for s in ("entity.n.01", "dog.n.01", "run.v.01", "slowly.r.01", "good.a.01")]
    assert names == ["noun.Tops", "noun.animal", "verb.motion", "adv.all", "adj.all"]


def test_english_wordnet_synonyms():
    thesaurus = load_thesaurus("en")
    assert {"beneficial", "well", "honest"} <= set(thesaurus["good"])
    assert "good" not in thesaurus["good"] and thesaurus["Good"] == thesaurus["good"]
    assert "trade good" in thesaurus["good"]  # underscores as spaces
    assert "home" in thesaurus["houses"]  # WordNet's lemmatiser finds the base form
    assert "qwertzuiop" not in thesaurus and thesaurus.get("qwertzuiop") is None
    assert load_thesaurus("en") is thesaurus  # cached


def test_mythes_synonyms():
    german, french = load_thesaurus("de"), load_thesaurus("fr")
    assert {"Gebäude", "Eigenheim"} <= set(german["haus"])
    assert "Bude" in german["haus"] and "Bude (ugs.)" not in german["haus"]  # annotations are stripped
    assert "Haus" not in german["haus"] and not any("..." in s for s in german["haus"])
    assert {"bâtiment", "foyer"} <= set(french["maison"])


def test_unknown_language_names_the_choices():
    with pytest.raises(ValueError, match="expected one of en, de, fr"):
        load_thesaurus("xx")


@pytest.fixture
def no_cached_thesauri():
    load_thesaurus.cache_clear()
    yield
    load_thesaurus.cache_clear()


@pytest.mark.parametrize("lang", ["de", "fr"])
def test_missing_mythes_file_says_what_to_install(lang, tmp_path, monkeypatch, no_cached_thesauri):
    monkeypatch.setattr(augment, "MYTHES_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match=f"apt-get install mythes-{lang}") as error:
        load_thesaurus(lang)
    assert str(tmp_path) in str(error.value)


def test_missing_wordnet_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(augment, "WORDNET_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="apt-get install wordnet-base"):
        augment.wordnet_dir()


def test_read_mythes_honours_the_declared_encoding(tmp_path):
    path = tmp_path / "th_test.dat"
    path.write_bytes("ISO8859-1\nfête|2\n(Nom)|célébration (familier)|fête|gala\n(Nom)|réjouissance|gala\n"
                     "salle des fêtes|1\n(Nom)|foyer\nFête|1\n(Nom)|kermesse|Fête|...fest\n".encode("latin-1"))
    assert read_mythes(path) == {"fête": ["célébration", "gala", "réjouissance", "kermesse"]}
    path.write_bytes(b"UTF-8\nmaison|x\n")
    with pytest.raises(ValueError, match="line 2"):
        read_mythes(path)


def test_frequent_words_are_the_corpus_stop_words():
    texts = ["The cat and the dog.", "the DOG runs", "A cat, the end!"]
    assert frequent_words(texts, 2) == {"the", "cat"} or frequent_words(texts, 2) == {"the", "dog"}
    assert "the" in frequent_words(texts, 1) and "" not in frequent_words(["!! ..."], 5)
