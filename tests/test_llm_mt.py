import io
from functools import partial
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset
from transformers import AutoModelForCausalLM

from xlw.augment import back_translate
from xlw.llm_mt import (
    KeptRows,
    coverage,
    encode_pairs,
    few_shot_prompt,
    fit_translator,
    kept_ids,
    language_name,
    load_translator,
    pair_loader,
    prompted_translate,
    save_translator,
    stop_ids,
    target_loss,
    target_vocabulary,
    translator_model,
)
from xlw.pretrained import load_tokenizer
from xlw.train import default_loss
from xlw.translate import main

PAIRS = Dataset.from_dict({
    "src": ["A dog runs.", "Two children play in the snow near a house.", "A man."],
    "tgt": ["Ein Hund rennt.", "Zwei Kinder spielen im Schnee neben einem Haus.", "Ein Mann."],
})


def tiny_cfg(tiny_gemma, **overrides) -> SimpleNamespace:
    cfg = dict(model="gemma-3-270m", model_source="tiny", lora_r=4, lora_alpha=8, lora_targets="all-linear",
               max_length=64, max_tokens=512, max_batch=8, lr=1e-2, warmup_steps=1, mixed_precision="no",
               label_smoothing=0.0)
    return SimpleNamespace(**{**cfg, **overrides})


@pytest.fixture(scope="module")
def gemma(tiny_gemma):
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_pretrained(tiny_gemma).eval(), load_tokenizer(tiny_gemma)


def test_language_names_come_from_cldr():
    assert [language_name(c) for c in ("de", "zh", "th")] == ["German", "Chinese", "Thai"]
    assert language_name("qxx") == "qxx"  # a code CLDR does not know names itself
    with pytest.raises(ValueError, match="not a valid BCP-47 tag"):
        language_name("not a code")


def test_few_shot_prompt_layout():
    prompt = few_shot_prompt("A dog.", [("A cat.", "Eine Katze.")], "en", "de")
    assert prompt == "Translate English to German.\n\nEnglish: A cat.\nGerman: Eine Katze.\n\nEnglish: A dog.\nGerman:"
    assert few_shot_prompt("A dog.", [], "en", "fr").endswith("English: A dog.\nFrench:")


def test_encode_pairs_labels_only_the_target(gemma):
    _, tok = gemma
    row = encode_pairs(tok, PAIRS, "en", "de")[1]
    prompt = tok(few_shot_prompt(PAIRS[1]["src"], [], "en", "de"))["input_ids"]
    target = tok(" " + PAIRS[1]["tgt"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    assert row["input_ids"] == prompt + target
    assert row["labels"] == [-100] * len(prompt) + target
    assert tok.decode(target, skip_special_tokens=True) == " " + PAIRS[1]["tgt"]
    short = encode_pairs(tok, PAIRS, "en", "de", max_length=len(prompt) + 3)[1]
    assert len(short["input_ids"]) == len(prompt) + 3 and short["labels"][-1] == tok.eos_token_id
    with pytest.raises(ValueError, match="no room for its target"):
        encode_pairs(tok, PAIRS, "en", "de", max_length=5)
    with pytest.raises(ValueError, match="missing \\['tgt'\\]"):
        encode_pairs(tok, Dataset.from_dict({"src": ["x"]}), "en", "de")


def test_encode_pairs_reads_each_rows_direction(gemma):
    _, tok = gemma
    mixed = PAIRS.add_column("direction", ["en-de", "de-en", "en-fr"])
    rows = encode_pairs(tok, mixed, None, None)
    for i, (src, tgt) in enumerate([("en", "de"), ("de", "en"), ("en", "fr")]):
        assert rows[i]["input_ids"] == encode_pairs(tok, PAIRS.select([i]), src, tgt)[0]["input_ids"]
    with pytest.raises(ValueError, match=r"missing \['direction'\] \(or pass src_lang and tgt_lang\)"):
        encode_pairs(tok, PAIRS, None, None)


def test_pair_loader_pads_labels_with_ignore_index(gemma, tiny_gemma):
    _, tok = gemma
    batch = next(iter(pair_loader(encode_pairs(tok, PAIRS, "en", "de"), tok, max_tokens=512)))
    assert ((batch["attention_mask"] == 0) <= (batch["labels"] == -100)).all()  # padding never labelled
    assert (batch["labels"] != -100).sum() == sum(len(t) + 1 for t in
                                                  tok([" " + t for t in PAIRS["tgt"]], add_special_tokens=False)
                                                  ["input_ids"])
    with pytest.raises(ValueError, match="padding_side='right'"):
        pair_loader(encode_pairs(tok, PAIRS, "en", "de"), load_tokenizer(tiny_gemma, "left"), 512)


def test_target_loss_equals_the_full_models_loss_on_target_tokens(gemma):
    model, tok = gemma
    batch = next(iter(pair_loader(encode_pairs(tok, PAIRS, "en", "de"), tok, max_tokens=512)))
    with torch.no_grad():
        assert torch.allclose(target_loss()(model, batch), default_loss(model, batch), atol=1e-5)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    labels = batch["labels"][:, 1:]
    at = labels != -100
    by_hand = F.cross_entropy(logits[:, :-1][at], labels[at])  # target positions only: none on prompt or padding
    assert torch.allclose(target_loss()(model, batch), by_hand, atol=1e-5)


def test_restricted_loss_is_the_softmax_over_kept_ids(gemma):
    model, tok = gemma
    vocab = target_vocabulary(tok, PAIRS["tgt"])
    batch = next(iter(pair_loader(encode_pairs(tok, PAIRS, "en", "de"), tok, max_tokens=512)))
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        restricted = target_loss(vocab)(model, batch)
    labels = batch["labels"][:, 1:]
    at = labels != -100
    kept = logits[:, :-1][at][:, vocab]
    rows = torch.searchsorted(vocab, labels[at])
    assert torch.allclose(restricted, F.cross_entropy(kept, rows), atol=1e-5)
    assert restricted < target_loss()(model, batch)  # renormalised over fewer ids: never a larger loss
    with pytest.raises(ValueError, match="not in the restricted vocabulary"):
        target_loss(torch.tensor(stop_ids(tok)))(model, batch)


def test_target_vocabulary_covers_targets_bytes_and_stops(gemma):
    _, tok = gemma
    vocab = target_vocabulary(tok, PAIRS["tgt"])
    assert coverage(tok, PAIRS["tgt"], vocab) == 1.0
    assert set(stop_ids(tok)) <= set(vocab.tolist()) and tok.convert_tokens_to_ids("<0x41>") in vocab
    assert (vocab.diff() > 0).all() and len(vocab) < len(tok) // 100
    assert coverage(tok, ["Qwertz Xylophon"], vocab) < 1.0


def test_kept_ids_score_only_the_kept_rows_and_restore_the_model(gemma):
    model, tok = gemma
    vocab = target_vocabulary(tok, PAIRS["tgt"])
    inputs = tok(["English: A dog.\nGerman:"], return_tensors="pt")
    embedding = model.get_input_embeddings()
    with torch.no_grad():
        full = model(**inputs).logits
        with kept_ids(model, vocab, tok) as kept:
            assert isinstance(model.get_output_embeddings(), KeptRows)
            restricted = model(**inputs).logits
            assert kept.tokens(torch.tensor([0, len(vocab) - 1])).tolist() == [vocab[0], vocab[-1]]
            assert kept.index(stop_ids(tok)) == [vocab.tolist().index(i) for i in stop_ids(tok)]
    assert restricted.shape[-1] == len(vocab) and torch.allclose(restricted, full[..., vocab], atol=1e-5)
    assert model.get_input_embeddings() is embedding and not isinstance(model.get_output_embeddings(), KeptRows)
    with pytest.raises(ValueError, match="lacks the stop ids"), kept_ids(model, vocab[1:-1], tok):
        pass


@pytest.mark.parametrize("beams", [1, 2])
def test_kept_ids_decode_as_the_whole_layer_with_the_rest_suppressed(gemma, tiny_gemma, beams):
    model, _ = gemma
    left = load_tokenizer(tiny_gemma, "left")
    vocab = target_vocabulary(left, PAIRS["tgt"])
    others = sorted(set(range(model.get_output_embeddings().weight.shape[0])) - set(vocab.tolist()))
    sources = list(PAIRS["src"])
    kept = prompted_translate(model, left, sources, [], "en", "de", max_new_tokens=8, num_beams=beams,
                              vocabulary=vocab, progress=False)
    masked = prompted_translate(model, left, sources, [], "en", "de", max_new_tokens=8, num_beams=beams,
                                suppress_tokens=others, progress=False)
    assert kept == masked and any(kept)


def test_generation_stops_at_eos(gemma, tiny_gemma):
    model, _ = gemma
    left = load_tokenizer(tiny_gemma, "left")
    sources = ["A dog.", "Two children play in the snow near a house."]
    with pytest.raises(ValueError, match="padding_side='left'"):
        prompted_translate(model, load_tokenizer(tiny_gemma), sources, [], "en", "de")
    only_stops = torch.tensor(sorted(stop_ids(left)))
    assert prompted_translate(model, left, sources, [], "en", "de", vocabulary=only_stops, progress=False) == ["", ""]
    free = prompted_translate(model, left, sources, [("A cat.", "Eine Katze.")], "en", "de", max_new_tokens=6,
                              progress=False)
    assert len(free) == 2 and all(isinstance(o, str) and "\n" not in o for o in free)


def test_full_fine_tuning_freezes_only_the_tied_embedding(tiny_gemma):
    model, _ = translator_model(tiny_cfg(tiny_gemma), "full")
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert frozen == ["model.embed_tokens.weight"]
    with pytest.raises(ValueError, match="'lora' or 'full'"):
        translator_model(tiny_cfg(tiny_gemma), "prefix")


def test_fit_save_load_and_serve_a_lora_translator(tiny_gemma, tmp_path):
    cfg = tiny_cfg(tiny_gemma)
    model, tok = translator_model(cfg, "lora")
    vocab = target_vocabulary(tok, PAIRS["tgt"])
    batch = next(iter(pair_loader(encode_pairs(tok, PAIRS, "en", "de"), tok, 512)))
    before = target_loss(vocab)(model, batch).item()
    result = fit_translator(model, tok, PAIRS, "en", "de", cfg, max_steps=8, vocabulary=vocab)
    assert result.steps == 8 and target_loss(vocab)(model, batch).item() < before - 0.5
    left = load_tokenizer(tiny_gemma, "left")
    path = save_translator(model, left, tmp_path / "tr", ["en-de"], vocab)
    assert (path / "adapter_config.json").exists() and not (path / "model.safetensors").exists()
    loaded, loaded_tok, meta = load_translator(path)
    assert meta["language_pairs"] == ["en-de"] and torch.equal(meta["vocabulary"], vocab)
    expected = prompted_translate(model, left, ["A dog runs."], [], "en", "de", max_new_tokens=8,
                                  vocabulary=vocab, progress=False)
    assert prompted_translate(loaded, loaded_tok, ["A dog runs."], [], "en", "de", max_new_tokens=8,
                              vocabulary=vocab, progress=False) == expected
    out = io.StringIO()
    assert main([str(path), "--pair", "en-de"], stdin=io.StringIO("A dog runs.\n\n"), stdout=out) == 0
    assert out.getvalue().split("\n")[1] == "" and len(out.getvalue().split("\n")) == 3
    assert main([str(path), "--pair", "de-en"], stdin=io.StringIO("x\n"), stdout=io.StringIO()) == 2
    with pytest.raises(ValueError, match="src-tgt"):
        save_translator(model, left, tmp_path / "bad", ["en"], vocab)


def test_back_translation_by_sampling_is_seeded(gemma, tiny_gemma):
    model, _ = gemma
    left = load_tokenizer(tiny_gemma, "left")
    translate = partial(prompted_translate, model, left, examples=(), src_lang="de", tgt_lang="en",
                        max_new_tokens=6, vocabulary=target_vocabulary(left, PAIRS["src"]), progress=False)
    sampled = [list(back_translate(translate, PAIRS["tgt"], "sample", seed=s)["src"]) for s in (0, 0, 1)]
    assert sampled[0] == sampled[1] and sampled[0] != sampled[2]
    beam = back_translate(translate, PAIRS["tgt"], "beam", num_beams=2)
    assert list(beam["tgt"]) == list(PAIRS["tgt"]) and list(beam["src"]) != sampled[0]
