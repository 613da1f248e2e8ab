import numpy as np
import pytest
import torch

from xlw.batching import TokenBudgetSampler, token_budget_batches


def test_batches_cover_every_index_once_and_respect_the_budget():
    lengths = np.random.default_rng(0).integers(1, 40, size=500)
    batches = token_budget_batches(lengths, max_tokens=200)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(500))
    assert all(len(b) * max(lengths[b]) <= 200 for b in batches)


def test_bucketing_wastes_little_padding():
    lengths = np.random.default_rng(1).integers(5, 60, size=2000)
    batches = token_budget_batches(lengths, max_tokens=1000)
    padded = sum(len(b) * max(lengths[b]) for b in batches)
    assert padded / lengths.sum() < 1.1  # a random batching of these lengths pads ~1.6x


def test_shuffling_is_seeded_and_sorting_is_stable():
    lengths = [3, 1, 2, 3, 1, 2, 5]
    assert token_budget_batches(lengths, 6, seed=1) == token_budget_batches(lengths, 6, seed=1)
    assert token_budget_batches(lengths, 6, shuffle=False) == [[1, 4, 2], [5, 0], [3], [6]]


def test_max_sentences_caps_batch_size():
    assert max(map(len, token_budget_batches([1] * 10, 100, max_sentences=3))) == 3


def test_sampler_changes_batches_with_the_epoch():
    lengths = list(np.random.default_rng(2).integers(1, 30, size=300))
    sampler = TokenBudgetSampler(lengths, 120, seed=0)
    first = list(sampler)
    sampler.set_epoch(1)
    assert list(sampler) != first and len(sampler) == len(list(sampler))


@pytest.mark.parametrize("lengths,message", [
    ([0, 2], "positive"), ([[1, 2]], "1-D"), ([500], "smaller than the longest")])
def test_bad_lengths(lengths, message):
    with pytest.raises(ValueError, match=message):
        token_budget_batches(lengths, 100)


def test_seq2seq_loader_pads_labels_and_shifts_decoder_inputs():
    from datasets import Dataset

    from xlw.batching import seq2seq_loader
    from xlw.models import new_marian
    from xlw.tokenization import train_tokenizer

    pairs = {"src": ["a dog", "two dogs run fast", "a cat"] * 4, "tgt": ["ein hund", "zwei hunde", "eine katze"] * 4}
    tokenizer = train_tokenizer(pairs["src"] + pairs["tgt"], vocab_size=300)
    model = new_marian(tokenizer, d_model=16, layers=1, heads=2, ffn_dim=32)
    loader = seq2seq_loader(Dataset.from_dict(pairs), tokenizer, model, max_tokens=40, seed=0)
    batches = list(loader)
    assert sum(len(b["input_ids"]) for b in batches) == 12
    for b in batches:
        assert b["input_ids"].numel() <= 40  # the token budget holds for the padded source
        # decoder input = labels shifted right behind the start token (pad), -100 shown as pad
        assert (b["decoder_input_ids"][:, 0] == tokenizer.pad_token_id).all()
        shifted = b["labels"][:, :-1].clone()
        shifted[shifted == -100] = tokenizer.pad_token_id
        assert torch.equal(b["decoder_input_ids"][:, 1:], shifted)
    with pytest.raises(ValueError, match="needs columns 'src' and 'tgt'"):
        seq2seq_loader(Dataset.from_dict({"text": ["x"]}), tokenizer, model, max_tokens=40)


def test_in_input_order_returns_one_item_per_example_in_input_order(tiny_gemma):
    from xlw.batching import in_input_order
    from xlw.pretrained import load_tokenizer

    tokenizer = load_tokenizer(tiny_gemma)
    input_ids = [[2, 5, 6, 7], [2, 5], [2, 9, 9, 9, 9, 9], [2, 8, 8]]
    model = torch.nn.Linear(2, 2)
    model.train()
    seen = []

    def lengths(inputs):
        seen.append((model.training, torch.is_grad_enabled(), inputs["input_ids"].shape[0]))
        return inputs["attention_mask"].sum(dim=1).tolist()

    assert in_input_order(model, tokenizer, input_ids, lengths, max_tokens=8, progress=False) == [4, 2, 6, 3]
    assert len(seen) > 1 and all(not training and not grad for training, grad, _ in seen)  # batched, eval, no grad
    assert model.training  # the mode is restored
