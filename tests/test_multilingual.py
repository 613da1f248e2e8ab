"""Multilingual building blocks: tags, temperature mixes, pivoting, language ID, prompting; back-translation."""

from functools import partial

import pytest
from datasets import Dataset

from xlw.augment import back_translate
from xlw.corpora import load_multi30k
from xlw.generation import generate
from xlw.multilingual import (
    direction,
    language_shares,
    mix_counts,
    off_target_rate,
    pivot_translate,
    tagged,
    temperature_mix,
    train_language_id,
    translate_to,
)

SENTENCES = ["a dog runs", "zwei hunde laufen im park", "un chien court", "the small red ball is on the grass",
             "ein mann", "les enfants jouent dehors dans la neige"]


def pairs(n: int, name: str = "x") -> Dataset:
    return Dataset.from_dict({"src": [f"{name}{i}" for i in range(n)], "tgt": [f"t{i}" for i in range(n)]})


def test_direction_parses_and_rejects():
    assert direction("de-fr") == ("de", "fr")
    for bad in ("de", "de-de", "de-fr-en", "-fr"):
        with pytest.raises(ValueError, match="must look like 'src-tgt'"):
            direction(bad)


def test_tagged_puts_the_target_tag_in_front():
    assert list(tagged(pairs(2), "fr")["src"]) == [">>fr<< x0", ">>fr<< x1"]


def test_mix_counts_follow_the_temperature():
    sizes = {"big": 900, "small": 100}
    assert mix_counts(sizes, 1.0) == sizes  # T = 1: proportional, i.e. every example once
    flat = mix_counts(sizes, 1e6)
    assert flat["big"] == flat["small"] == 500  # T → ∞: uniform over directions
    at5 = mix_counts(sizes, 5.0)
    assert 100 < at5["small"] < 500 and sum(at5.values()) == 1000
    assert mix_counts(sizes, 5.0, total=100)["small"] == round(100 * (100 ** 0.2) / (100 ** 0.2 + 900 ** 0.2))


def test_temperature_mix_keeps_whole_copies_and_is_seeded():
    sets = {"big": pairs(90, "b"), "small": pairs(10, "s")}
    same = temperature_mix(sets, 1.0, seed=0)
    assert sorted(same["src"]) == sorted([*sets["big"]["src"], *sets["small"]["src"]])
    mixed = temperature_mix(sets, 5.0, seed=0)
    counts = {name: list(mixed["direction"]).count(name) for name in sets}
    assert counts == mix_counts({"big": 90, "small": 10}, 5.0)
    small_rows = [s for s, d in zip(mixed["src"], mixed["direction"]) if d == "small"]
    assert all(small_rows.count(f"s{i}") >= counts["small"] // 10 for i in range(10))  # whole copies first
    assert list(mixed["src"]) == list(temperature_mix(sets, 5.0, seed=0)["src"])
    assert list(mixed["src"]) != list(temperature_mix(sets, 5.0, seed=1)["src"])


def test_language_id_and_off_target_rate():
    train = {lang: list(load_multi30k("val", "en", lang)["tgt"][:300]) for lang in ("de", "fr")}
    train["en"] = list(load_multi30k("val", "en", "de")["src"][:300])
    language_id = train_language_id(train)
    test = {lang: list(load_multi30k("test_2016_flickr", "en", lang)["tgt"][:100]) for lang in ("de", "fr")}
    assert off_target_rate(language_id, test["de"], "de") < 0.05
    assert off_target_rate(language_id, test["de"], "fr") > 0.95
    shares = language_shares(language_id, test["fr"][:10] + ["", "  "])
    assert shares["(empty)"] == pytest.approx(2 / 12) and shares.sum() == pytest.approx(1.0)
    assert off_target_rate(language_id, ["", ""], "fr") == 1.0  # an empty output is in no language
    with pytest.raises(ValueError, match="at least two languages"):
        train_language_id({"en": ["a"]})


def test_translate_to_and_pivot_keep_order_and_length(tiny_marian):
    model, tokenizer = tiny_marian
    out = translate_to(model, tokenizer, SENTENCES, "fr")
    assert len(out) == len(SENTENCES)
    middle, final = pivot_translate(lambda s, src, tgt: translate_to(model, tokenizer, s, tgt), SENTENCES, "de", "fr")
    assert middle == translate_to(model, tokenizer, SENTENCES, "en")
    assert final == translate_to(model, tokenizer, middle, "fr")


def test_back_translate_methods(tiny_marian):
    translate = partial(generate, *tiny_marian, progress=False)
    beam = back_translate(translate, SENTENCES, "beam", num_beams=2)
    assert list(beam["tgt"]) == SENTENCES
    assert list(beam["src"]) == list(back_translate(translate, SENTENCES, "beam", 2)["src"])
    sampled = [list(back_translate(translate, SENTENCES, "sample", seed=s)["src"]) for s in (0, 0, 1)]
    assert sampled[0] == sampled[1] and sampled[0] != sampled[2]
    with pytest.raises(ValueError, match="method 'greedy' is unknown: expected one of beam, sample"):
        back_translate(translate, SENTENCES, "greedy")


