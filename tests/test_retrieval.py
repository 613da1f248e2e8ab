import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from xlw.embedding import embed, load_encoder, truncate_layers, unit
from xlw.retrieval import (
    bm25_scores,
    contrastive_loss,
    cosine_scores,
    info_nce,
    pair_loader,
    ranking_scores,
    tfidf_scores,
    xquad_retrieval,
)
from xlw.train import target_tokens

DOCS = ["A dog runs in the park.", "Two women sit on a bench.", "A man rides a red bicycle."]


def test_lexical_scores_find_shared_words_and_nothing_across_scripts():
    queries = ["the red bicycle", "women on a bench", "一个男人骑自行车"]
    for scores in (bm25_scores(queries, DOCS), tfidf_scores(queries, DOCS)):
        assert scores.shape == (3, 3)
        assert scores[0].argmax() == 2 and scores[1].argmax() == 1
        assert np.all(scores[2] == 0)  # no shared token: every document ties, so the ranking is worthless
    assert tfidf_scores(DOCS[:1], DOCS)[0, 0] == pytest.approx(1.0)


def test_ranking_scores_of_a_perfect_and_a_constant_scorer():
    perfect = ranking_scores(np.eye(4), np.arange(4))
    assert perfect == {"acc1": 1.0, "recall5": 1.0, "recall10": 1.0, "mrr": 1.0, "map": 1.0, "ndcg10": 1.0}
    constant = ranking_scores(np.zeros((4, 4)), np.arange(4))  # ties rank the gold last
    assert constant["acc1"] == 0.0 and constant["mrr"] == pytest.approx(0.25)


def test_truncated_decoder_returns_the_full_models_hidden_state(tiny_gemma):
    model, tokenizer = load_encoder("gemma-3-270m", "tiny")
    inputs = tokenizer(["ein Hund läuft", "a dog runs in the park"], padding=True, return_tensors="pt")
    with torch.no_grad():
        full = model(**inputs, output_hidden_states=True).hidden_states[1]
        truncate_layers(model, 1)
        assert len(model.layers) == 1
        torch.testing.assert_close(model(**inputs).last_hidden_state, full)
    with pytest.raises(ValueError, match="layers must be from 1 to 1"):
        truncate_layers(model, 2)


def test_embeddings_are_independent_of_batch_padding_and_skip_bos(tiny_gemma):
    model, tokenizer = load_encoder("gemma-3-270m", "tiny")
    texts = ["short", "a much longer sentence that forces padding of the short one", "mittel lang"]
    together = embed(model, tokenizer, texts, max_tokens=4096)
    alone = torch.cat([embed(model, tokenizer, [t]) for t in texts])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-4)
    inputs = tokenizer(texts[:1], return_tensors="pt")
    assert inputs["input_ids"][0, 0] == tokenizer.bos_token_id
    with torch.no_grad():
        hidden = model(**inputs).last_hidden_state[0]
    torch.testing.assert_close(together[0], hidden[1:].mean(dim=0))  # every token but <bos>
    layers = embed(model, tokenizer, texts, all_layers=True)
    assert layers.shape == (3, 3, model.config.hidden_size)  # embeddings + 2 layers
    torch.testing.assert_close(layers[:, -1], together)


def test_cosine_scores_centre_each_side_on_its_own_mean():
    torch.manual_seed(0)
    shared = torch.tensor([100.0, 0, 0, 0])  # a "massive" dimension every vector has
    queries, docs = torch.randn(5, 4) + shared, torch.randn(5, 4) + shared
    raw = cosine_scores(queries, docs)
    assert raw.min() > 0.99  # the shared offset makes all pairs look alike
    centred = cosine_scores(queries, docs, center=True)
    q, d = queries - queries.mean(0), docs - docs.mean(0)
    expected = (q / q.norm(dim=1, keepdim=True)) @ (d / d.norm(dim=1, keepdim=True)).T
    np.testing.assert_allclose(centred, expected.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(unit(queries).norm(dim=1).numpy(), np.ones(5), rtol=1e-6)


def test_minilm_embeddings_match_sentence_transformers():
    from sentence_transformers import SentenceTransformer

    from xlw.pretrained import resolve

    model, tokenizer = load_encoder("all-minilm-l6-v2", "offline")
    ours = unit(embed(model, tokenizer, DOCS))
    reference = SentenceTransformer(resolve("all-minilm-l6-v2", "offline"), device="cpu").encode(
        DOCS, convert_to_tensor=True, normalize_embeddings=True)
    torch.testing.assert_close(ours, reference.cpu(), atol=1e-5, rtol=1e-4)


def test_info_nce_is_the_mean_of_both_directions_cross_entropy():
    torch.manual_seed(0)
    q, d = torch.randn(4, 8), torch.randn(4, 8)
    logits = F.normalize(q, dim=-1) @ F.normalize(d, dim=-1).T / 0.1
    by_hand = -(logits.log_softmax(dim=1).diagonal().mean() + logits.log_softmax(dim=0).diagonal().mean()) / 2
    torch.testing.assert_close(info_nce(q, d, 0.1), by_hand)
    assert info_nce(q, q, 0.01) < 1e-3 < info_nce(q, q.roll(1, dims=0), 0.01)
    with pytest.raises(ValueError, match="must pair up row by row"):
        info_nce(q, d[:3], 0.1)


def test_pair_loader_and_contrastive_loss_train_the_encoder(tiny_gemma):
    model, tokenizer = load_encoder("gemma-3-270m", "tiny")
    pairs = pd.DataFrame({"src": ["ein Hund", "zwei Frauen", "ein Mann", "ein Kind", "extra"],
                          "tgt": ["a dog", "two women", "a man", "a child", "dropped"]})
    batches = list(pair_loader(pairs, tokenizer, batch_size=2, seed=0))
    assert len(batches) == 2  # the incomplete last batch is dropped: it would have fewer negatives
    assert set(batches[0]) == {"src_input_ids", "src_attention_mask", "tgt_input_ids", "tgt_attention_mask"}
    masks = batches[0]["src_attention_mask"].sum() + batches[0]["tgt_attention_mask"].sum()
    assert target_tokens(batches[0]) == int(masks)
    model.train()
    loss = contrastive_loss(0.05)(model, batches[0])
    loss.backward()
    assert torch.isfinite(loss) and model.layers[0].self_attn.q_proj.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="needs columns 'src' and 'tgt'"):
        pair_loader(pairs.rename(columns={"tgt": "en"}), tokenizer, 2)


def test_xquad_gold_is_the_paragraph_the_question_was_asked_about():
    questions, paragraphs, gold = xquad_retrieval("en", "en")
    assert len(paragraphs) == 240 and len(questions) == 1190
    from xlw.qa import load_xquad

    en = load_xquad("en").sort_values("id", kind="stable")
    assert all(paragraphs[g] == c for g, c in zip(gold, en["context"]))
    de_questions, de_docs, de_gold = xquad_retrieval("de", "en", n_questions=50, seed=1)
    zh_questions, _, zh_gold = xquad_retrieval("zh", "en", n_questions=50, seed=1)
    assert de_docs == paragraphs and len(de_questions) == 50
    np.testing.assert_array_equal(de_gold, zh_gold)  # the same question ids in every language
