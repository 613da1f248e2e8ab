"""The training loop on a tiny Marian model learning to copy random token sequences."""

import math

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader
from transformers import MarianConfig, MarianMTModel

from xlw.batching import TokenBudgetSampler
from xlw.train import TrainConfig, seq2seq_loss, train

VOCAB, PAD = 24, 0


def tiny_marian(seed=0, dropout=0.1):
    torch.manual_seed(seed)
    cfg = MarianConfig(vocab_size=VOCAB, d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                       decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64,
                       pad_token_id=PAD, eos_token_id=1, decoder_start_token_id=PAD, dropout=dropout)
    return MarianMTModel(cfg)


def copy_task(n=160, seed=0):
    rng = np.random.default_rng(seed)
    seqs = [list(rng.integers(2, VOCAB, size=rng.integers(3, 9))) + [1] for _ in range(n)]
    return [{"input_ids": s, "labels": s} for s in seqs]


def collate(examples):
    longest_src = max(len(e["input_ids"]) for e in examples)
    longest_tgt = max(len(e["labels"]) for e in examples)
    ids = torch.tensor([e["input_ids"] + [PAD] * (longest_src - len(e["input_ids"])) for e in examples])
    labels = torch.tensor([e["labels"] + [-100] * (longest_tgt - len(e["labels"])) for e in examples])
    decoder_inputs = torch.cat([torch.full((len(examples), 1), PAD), labels[:, :-1].clamp(min=PAD)], dim=1)
    return {"input_ids": ids, "attention_mask": (ids != PAD).long(), "decoder_input_ids": decoder_inputs,
            "labels": labels}


def loader(data, seed=0):
    sampler = TokenBudgetSampler([len(e["input_ids"]) for e in data], max_tokens=160, seed=seed)
    return DataLoader(data, batch_sampler=sampler, collate_fn=collate)


def val_loss(data):
    batch = collate(data)
    loss_fn = seq2seq_loss(0.0)
    return lambda model: {"loss": loss_fn(model, batch).item()}


def test_training_learns_to_copy_and_keeps_the_best():
    model, data, val = tiny_marian(dropout=0.0), copy_task(400), copy_task(40, seed=1)
    cfg = TrainConfig(lr=1e-2, warmup_steps=10, max_steps=100, eval_every=25)
    result = train(model, loader(data), cfg, loss_fn=seq2seq_loss(0.0), evaluate=val_loss(val))
    assert result.steps == 100 and result.target_tokens > 0 and result.tokens_per_s > 0
    # Targets are uniform over 22 tokens: without looking at the source no model beats ln 22 = 3.09 nats.
    assert result.best_score < math.log(VOCAB - 2) - 0.2
    assert list(result.history["step"]) == [25, 50, 75, 100]
    assert {"train_loss", "val_loss", "lr"} <= set(result.history.columns)
    # the returned model holds the best weights, not the last ones
    assert val_loss(val)(model)["loss"] == pytest.approx(result.best_score, abs=1e-6)


def test_early_stopping_and_best_checkpoint(tmp_path):
    scores = iter([3.0, 2.0, 2.5, 2.6, 1.0])
    cfg = TrainConfig(lr=1e-3, warmup_steps=1, max_steps=50, eval_every=2, patience=2)
    result = train(tiny_marian(), loader(copy_task()), cfg, loss_fn=seq2seq_loss(),
                   evaluate=lambda m: {"bleu": next(scores)}, metric="bleu", mode="max", output_dir=tmp_path)
    # bleu 3.0 at step 2 is best; 2.0 and 2.5 do not improve on it -> stop after the 3rd validation
    assert (result.steps, result.best_step, result.best_score) == (6, 2, 3.0)
    assert (tmp_path / "best" / "config.json").exists() and (tmp_path / "last" / "trainer_state.json").exists()


def test_resume_continues_exactly_where_training_stopped(tmp_path):
    data, val = copy_task(), copy_task(40, seed=1)
    full = tiny_marian()
    cfg = TrainConfig(lr=2e-3, warmup_steps=2, max_steps=6, eval_every=1)
    train(full, loader(data), cfg, loss_fn=seq2seq_loss(0.1), evaluate=lambda m: {"step_score": 0.0})

    interrupted = tiny_marian()
    stop_early = TrainConfig(lr=2e-3, warmup_steps=2, max_steps=6, eval_every=1, max_minutes=0)  # stops at step 1
    first = train(interrupted, loader(data), stop_early, loss_fn=seq2seq_loss(0.1),
                  evaluate=lambda m: {"step_score": 0.0}, output_dir=tmp_path)
    assert first.steps == 1
    resumed = tiny_marian(seed=123)  # different init: everything must come from the checkpoint
    rest = train(resumed, loader(data), cfg, loss_fn=seq2seq_loss(0.1),
                 evaluate=lambda m: {"step_score": 0.0}, output_dir=tmp_path, resume=True)
    assert rest.steps == 6
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6, msg=name)
    assert val_loss(val)(full) == pytest.approx(val_loss(val)(resumed))


def test_bad_config_is_named():
    with pytest.raises(ValueError, match="schedule 'warm' is unknown"):
        TrainConfig(schedule="warm")
    with pytest.raises(ValueError, match="TrainConfig.lr must be positive"):
        TrainConfig(lr=0)
