"""CTranslate2 for xlw's Marian models: its own converter takes them as they are saved (OPUS-MT's layout)."""

import io
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from datasets import Dataset

from xlw.batching import seq2seq_loader
from xlw.engines import CT2PromptedTranslator, CT2Translator, llm_to_ctranslate2, to_ctranslate2
from xlw.generation import generate
from xlw.isolated import engine_run, in_fresh_process
from xlw.llm_mt import load_translator, prompted_translate, save_translator, target_vocabulary, translator_model
from xlw.models import new_marian
from xlw.pretrained import load_tokenizer
from xlw.tokenization import train_tokenizer
from xlw.train import TrainConfig, seq2seq_loss, train
from xlw.translate import main

SENTENCES = ["a dog runs in the snow", "zwei männer spielen fußball", "a woman", "kinder essen eis",
             "the small red ball is on the grass", "ein hund läuft im park"]


@pytest.fixture(scope="module")
def marian(tmp_path_factory):
    """A tiny Marian trained to copy SENTENCES (so it ends them with </s>), saved as notebooks save theirs."""
    folder = tmp_path_factory.mktemp("marian")
    tokenizer = train_tokenizer(SENTENCES * 5, vocab_size=300)
    torch.manual_seed(0)
    model = new_marian(tokenizer, d_model=32, layers=1, heads=2, ffn_dim=64, dropout=0.0, max_positions=64)
    data = Dataset.from_dict({"src": SENTENCES, "tgt": SENTENCES})
    train(model, seq2seq_loader(data, tokenizer, model, max_tokens=400), TrainConfig(
        lr=1e-2, warmup_steps=10, max_steps=150, eval_every=150), loss_fn=seq2seq_loss())
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder, model.eval(), tokenizer


def test_float32_ctranslate2_writes_what_transformers_writes(marian, tmp_path):
    folder, model, tokenizer = marian
    engine = CT2Translator(to_ctranslate2(folder, tmp_path / "ct2", "float32"), tokenizer)
    expected = generate(model, tokenizer, SENTENCES, max_new_tokens=40, progress=False)
    assert sum(a == b for a, b in zip(expected, SENTENCES)) >= 3  # it has learned to copy, </s> included
    assert engine.translate(SENTENCES, max_new_tokens=40) == expected
    assert engine.translate(SENTENCES, max_new_tokens=40, max_tokens=1) == expected  # one sentence a batch
    # beam search: both keep 3 hypotheses, but stop and normalise by length in their own ways
    assert len(engine.translate(SENTENCES, beams=3)) == len(SENTENCES)
    assert engine.translate([]) == []


def test_int8_is_smaller_and_translates_every_sentence(marian, tmp_path):
    folder, _, tokenizer = marian
    sizes = {q: (to_ctranslate2(folder, tmp_path / q, q) / "model.bin").stat().st_size for q in ("float32", "int8")}
    assert sizes["int8"] < 0.5 * sizes["float32"]
    out = CT2Translator(tmp_path / "int8", tokenizer, compute_type="int8").translate(SENTENCES, beams=2)
    assert len(out) == len(SENTENCES) and all(isinstance(t, str) for t in out)


def test_a_vocabulary_without_pad_last_is_refused_with_the_fix(marian, tmp_path):
    folder, model, tokenizer = marian
    tokenizer.pad_token = tokenizer.convert_ids_to_tokens(2)  # the layout before OPUS-MT's: <pad> not last
    model.save_pretrained(tmp_path / "old")
    tokenizer.save_pretrained(tmp_path / "old")
    with pytest.raises(ValueError, match="drops the last id .* as <pad>.*train it again"):
        to_ctranslate2(tmp_path / "old", tmp_path / "ct2")
    with pytest.raises(ValueError, match="quantization 'int4' is unknown"):
        to_ctranslate2(folder, tmp_path / "ct2", "int4")


def test_the_translate_command_serves_a_model_through_ctranslate2(marian):
    folder = str(marian[0])
    outputs = {}
    for engine in ("torch", "ct2"):
        stdout = io.StringIO()
        assert main([folder, "--pair", "en-de", "--engine", engine], stdin=io.StringIO("\n".join(SENTENCES) + "\n"),
                    stdout=stdout) == 0
        outputs[engine] = stdout.getvalue()
    assert outputs["ct2"] == outputs["torch"] and len(outputs["ct2"].splitlines()) == len(SENTENCES)
    stdout = io.StringIO()
    assert main([folder, "--pair", "en-de", "--engine", "ct2", "--int8"], stdin=io.StringIO("a woman\n"),
                stdout=stdout) == 0
    assert len(stdout.getvalue().splitlines()) == 1


@pytest.fixture(scope="module")
def llm_translator(tiny_gemma, tmp_path_factory):
    """A saved LoRA translator on the tiny Gemma twin, its adapter made non-trivial, with an output vocabulary."""
    cfg = SimpleNamespace(model="gemma-3-270m", model_source="tiny", lora_r=4, lora_alpha=8,
                          lora_targets="all-linear")
    model, _ = translator_model(cfg, "lora", seed=0)
    torch.manual_seed(0)
    for name, p in model.named_parameters():
        if "lora_B" in name:  # B starts at zero: the adapter would change nothing
            torch.nn.init.normal_(p, std=0.5)
    left = load_tokenizer(tiny_gemma, "left")
    vocabulary = target_vocabulary(left, ["Ein Hund rennt.", "Zwei Kinder spielen im Schnee."])
    return save_translator(model.eval(), left, tmp_path_factory.mktemp("llm") / "tr", ["en-de"], vocabulary)


def test_a_converted_llm_translator_writes_what_transformers_writes(llm_translator, tmp_path):
    model, tokenizer, meta = load_translator(llm_translator)
    sources = ["A dog runs.", "Two children play in the snow near a house."]
    for vocabulary in (None, meta["vocabulary"]):  # the whole output layer, and the translator's own
        expected = prompted_translate(model, tokenizer, sources, [], "en", "de", max_new_tokens=10,
                                      vocabulary=vocabulary, progress=False)
        folder = llm_to_ctranslate2(model, tokenizer, tmp_path / str(vocabulary is None), "float32",
                                    None if vocabulary is None else vocabulary.tolist())
        got = CT2PromptedTranslator(folder, tokenizer).translate(sources, "en", "de", max_new_tokens=10)
        assert got == expected
    assert any(p.requires_grad is False for p in model.parameters()) and hasattr(model, "peft_config")  # not merged
    outputs = {}
    for engine in ("torch", "ct2"):
        stdout = io.StringIO()
        assert main([str(llm_translator), "--pair", "en-de", "--engine", engine],
                    stdin=io.StringIO("A dog runs.\n"), stdout=stdout) == 0
        outputs[engine] = stdout.getvalue()
    assert outputs["ct2"] == outputs["torch"]


@pytest.mark.parametrize("first", ["", "import torch; "])
def test_ctranslate2_imported_after_torch_is_warned_about(first):
    """Loaded after torch's libgomp, CTranslate2 runs ~8x slower (benchmarks/ct2_import_order.py): `import xlw`
    loads it first, and an engine made in a process that imported torch first warns."""
    code = f"{first}import sys, warnings, xlw.engines; warnings.simplefilter('error'); xlw.engines._threads(None)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (run.returncode != 0) == bool(first)
    assert ("ctranslate2 was imported after torch" in run.stderr) == bool(first)


def test_an_engine_measured_in_a_fresh_process_writes_what_it_writes_here(marian, tmp_path):
    folder, _, tokenizer = marian
    converted = str(to_ctranslate2(folder, tmp_path / "int8", "int8"))
    run = in_fresh_process(engine_run, CT2Translator, converted, tokenizer, "int8", SENTENCES, SENTENCES[:4], [1, 2])
    assert run["outputs"] == CT2Translator(converted, tokenizer, compute_type="int8").translate(SENTENCES)
    assert set(run["sent_per_s"]) == {1, 2} and run["seconds"] > 0
