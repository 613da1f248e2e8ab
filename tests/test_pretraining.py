"""Denoising pretraining: span masking statistics, sentence permutation, batches, and a tiny run that learns."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from transformers import AutoModelForSeq2SeqLM

from xlw.models import new_marian
from xlw.pretraining import (
    MASK,
    DenoisingCollator,
    Document,
    EncoderClassifier,
    denoising_loader,
    documents,
    encode_documents,
    initialised,
    mask_share,
    mean_loss,
    pretrain,
    span_mask,
)
from xlw.tokenization import lang_tag, train_tokenizer
from xlw.train import seq2seq_loss

SENTENCES = {"en": ["a dog runs in the park", "two men are playing football", "a woman reads a book"],
             "de": ["ein hund rennt im park", "zwei männer spielen fußball", "eine frau liest ein buch"]}
MASK_ID = 99


@pytest.fixture(scope="module")
def tokenizer():
    texts = [s for v in SENTENCES.values() for s in v] * 5
    return train_tokenizer(texts, vocab_size=320, extra_special_tokens=[MASK], model_max_length=64)


def test_span_mask_hides_the_asked_share_on_average():
    rng = np.random.default_rng(0)
    ids = list(range(1000, 1040))
    shares = [mask_share(span_mask(ids, MASK_ID, rng, 0.35, 3.5), len(ids), MASK_ID) for _ in range(400)]
    assert np.mean(shares) == pytest.approx(0.35, abs=0.01)


def test_span_mask_keeps_order_and_collapses_spans():
    rng = np.random.default_rng(1)
    ids = list(range(1000, 1060))
    noised = span_mask(ids, MASK_ID, rng, 0.35, 3.5)
    kept = [t for t in noised if t != MASK_ID]
    assert kept == sorted(kept) and set(kept) <= set(ids)  # kept tokens stay in order
    assert all(not (a == b == MASK_ID) for a, b in zip(noised, noised[1:]))  # no two masks in a row
    assert noised.count(MASK_ID) < len(ids) - len(kept)  # spans longer than one token on average


def test_span_mask_zero_ratio_is_identity_and_bad_ratio_is_refused():
    rng = np.random.default_rng(0)
    assert span_mask([5, 6, 7], MASK_ID, rng, 0.0) == [5, 6, 7]
    with pytest.raises(ValueError, match="mask_ratio"):
        span_mask([5, 6, 7], MASK_ID, rng, 1.0)


def test_documents_groups_consecutive_sentences():
    assert documents(["a", "b", "c"], 2) == [["a", "b"], ["c"]]
    with pytest.raises(ValueError, match="sentences_per_doc"):
        documents(["a"], 0)


def test_encode_documents_needs_a_language_tag(tokenizer):
    docs = encode_documents(SENTENCES, tokenizer, sentences_per_doc=2, max_length=64)
    assert [d.lang for d in docs] == ["en", "en", "de", "de"]
    assert len(docs[0]) == sum(map(len, docs[0].sentences)) + 2
    with pytest.raises(ValueError, match="no tag >>xx<<"):
        encode_documents({"xx": ["a b"]}, tokenizer, 1, 64)


def test_collator_tags_noises_and_keeps_the_original_as_target(tokenizer):
    model = new_marian(tokenizer, d_model=32, layers=1, heads=2, ffn_dim=64, max_positions=64)
    collator = DenoisingCollator(tokenizer, model, mask_ratio=0.35, permute=True, seed=0)
    doc = encode_documents({"de": SENTENCES["de"][:2]}, tokenizer, 2, 64)[0]
    example = collator.example(doc)
    assert example["input_ids"][0] == tokenizer.convert_tokens_to_ids(lang_tag("de"))
    assert example["input_ids"][-1] == example["labels"][-1] == tokenizer.eos_token_id
    assert tokenizer.decode(example["labels"], skip_special_tokens=True) == " ".join(SENTENCES["de"][:2])
    assert tokenizer.convert_tokens_to_ids(MASK) in example["input_ids"]
    batch = collator([doc, doc])
    assert batch["decoder_input_ids"][0, 0] == model.config.decoder_start_token_id  # the decoder reads start + target
    assert torch.equal(batch["decoder_input_ids"][0, 1:], batch["labels"][0, :-1])


def test_permutation_reorders_sentences_only():
    class Tok:  # the two ids the collator reads from a tokenizer
        eos_token_id = 1

        def get_vocab(self):
            return {MASK: 3, ">>en<<": 4}

        def convert_tokens_to_ids(self, token):
            return self.get_vocab()[token]

    collator = DenoisingCollator(Tok(), model=None, mask_ratio=0.0, permute=True, seed=0)
    doc = Document([[10, 11], [20, 21], [30]], "en")
    sources = {tuple(collator.example(doc)["input_ids"]) for _ in range(30)}
    assert len(sources) > 1
    for source in sources:
        body = source[1:-1]
        assert sorted(body) == [10, 11, 20, 21, 30] and body.index(11) == body.index(10) + 1


def test_collator_needs_a_mask_token():
    tok = train_tokenizer(["a b c"] * 5, vocab_size=300)
    with pytest.raises(ValueError, match="<mask>"):
        DenoisingCollator(tok, model=None)


def test_pretraining_lowers_the_validation_loss_and_saves_a_loadable_model(tokenizer, tmp_path):
    torch.manual_seed(0)
    model = new_marian(tokenizer, d_model=32, layers=1, heads=2, ffn_dim=64, dropout=0.0, max_positions=64)
    docs = encode_documents(SENTENCES, tokenizer, 1, 64)
    cfg = SimpleNamespace(mask_ratio=0.35, poisson_lambda=3.5, permute=True, max_tokens=200, pretrain_lr=3e-3,
                          pretrain_warmup=5, pretrain_schedule="linear", pretrain_steps=60, pretrain_eval_every=20,
                          mixed_precision="no")
    collator = DenoisingCollator(tokenizer, model, seed=7)
    fixed = list(denoising_loader(docs, collator, 200, shuffle=False))
    before = mean_loss(model, fixed, seq2seq_loss(0.0))
    result = pretrain(model, tokenizer, docs, docs, cfg, tmp_path, seed=0)
    assert result.best_score < before - 1.0
    loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path / "best")
    assert torch.equal(loaded.get_encoder().embed_tokens.weight, model.get_encoder().embed_tokens.weight)
    assert (tmp_path / "best" / "tokenizer.json").exists()


def test_initialised_gives_pretrained_or_fresh_weights_of_one_architecture(tokenizer, tmp_path):
    torch.manual_seed(0)
    model = new_marian(tokenizer, d_model=32, layers=1, heads=2, ffn_dim=64, max_positions=64)
    model.save_pretrained(tmp_path)
    pretrained, scratch = initialised(tmp_path, "pretrained"), initialised(tmp_path, "scratch")
    weight = "model.encoder.layers.0.fc1.weight"
    assert torch.equal(pretrained.state_dict()[weight], model.state_dict()[weight])
    assert scratch.config.to_dict() == pretrained.config.to_dict()
    assert not torch.equal(scratch.state_dict()[weight], model.state_dict()[weight])
    with pytest.raises(ValueError, match="init"):
        initialised(tmp_path, "random")


def test_encoder_classifier_pools_real_tokens_only(tokenizer):
    torch.manual_seed(0)
    seq2seq = new_marian(tokenizer, d_model=32, layers=1, heads=2, ffn_dim=64, dropout=0.0, max_positions=64)
    clf = EncoderClassifier(seq2seq, num_labels=3).eval()
    alone = tokenizer(["a dog runs"], return_tensors="pt")
    padded = tokenizer(["a dog runs", "two men are playing football in the park"], return_tensors="pt", padding=True)
    out = clf(**padded, labels=torch.tensor([0, 2]))
    assert out.logits.shape == (2, 3) and out.loss.item() > 0
    assert torch.allclose(clf(**alone).logits[0], out.logits[0], atol=1e-5)  # padding changes nothing
