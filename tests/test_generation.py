"""Model builder and batched generation on a tiny from-scratch Marian."""

import pytest
import torch

from xlw.generation import generate
from xlw.models import load_seq2seq, new_marian
from xlw.tokenization import train_tokenizer

SENTENCES = ["a dog runs", "zwei hunde laufen im park", "un chien", "the small red ball is on the grass",
             "ein mann", "die kinder spielen draußen im schnee und lachen laut"]


@pytest.fixture(scope="module")
def tiny():
    tokenizer = train_tokenizer(SENTENCES * 5, vocab_size=300)
    torch.manual_seed(0)
    model = new_marian(tokenizer, d_model=32, layers=1, heads=2, ffn_dim=64, dropout=0.0, max_positions=64)
    return model.eval(), tokenizer


def test_batched_generation_matches_one_at_a_time_in_input_order(tiny):
    model, tokenizer = tiny
    batched = generate(model, tokenizer, SENTENCES, max_tokens=40, max_new_tokens=6, progress=False)
    single = [generate(model, tokenizer, [s], max_new_tokens=6, progress=False)[0] for s in SENTENCES]
    assert batched == single and len(batched) == len(SENTENCES)


def test_beam_search_runs_and_keeps_order(tiny):
    model, tokenizer = tiny
    out = generate(model, tokenizer, SENTENCES[:3], num_beams=3, max_new_tokens=5, progress=False)
    assert len(out) == 3 and all(isinstance(s, str) for s in out)
    assert not model.training


def test_bad_inputs_to_generate(tiny):
    model, tokenizer = tiny
    assert generate(model, tokenizer, [], progress=False) == []
    with pytest.raises(ValueError, match="not a single string"):
        generate(model, tokenizer, "a dog", progress=False)


def test_saved_model_loads_back_by_path(tiny, tmp_path):
    model, tokenizer = tiny
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded, loaded_tok = load_seq2seq(tmp_path)
    kwargs = {"max_new_tokens": 6, "progress": False}
    assert generate(loaded, loaded_tok, SENTENCES, **kwargs) == generate(model, tokenizer, SENTENCES, **kwargs)


def test_missing_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no saved model"):
        load_seq2seq(tmp_path / "nothing-here")


def test_marian_size_must_fit_the_heads(tiny):
    with pytest.raises(ValueError, match="divisible by heads=3"):
        new_marian(tiny[1], d_model=32, heads=3)


def test_sources_longer_than_the_model_are_truncated(tiny):
    model, tokenizer = tiny
    tokenizer.model_max_length = 64  # the model's position limit
    out = generate(model, tokenizer, [" ".join(SENTENCES * 10)], max_new_tokens=4, progress=False)
    assert len(out) == 1
