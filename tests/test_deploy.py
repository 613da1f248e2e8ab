"""Deployment helpers: int8 dynamic quantization, size on disk, throughput; the translate command."""

import io

import pytest
import torch

from xlw.deploy import batches, int8_dynamic, sentences_per_s, size_on_disk_mb
from xlw.generation import generate
from xlw.translate import language_pairs, main, seq2seq_batches, source_prefix, translate_lines
from xlw.translation import declare_pairs


def test_int8_dynamic_quantizes_linear_layers_of_a_copy_and_shrinks_them(tiny_marian):
    model, _ = tiny_marian
    quantized = int8_dynamic(model)
    dynamic = torch.ao.nn.quantized.dynamic.Linear
    assert not any(isinstance(m, dynamic) for m in model.modules())  # the original is untouched
    assert sum(isinstance(m, dynamic) for m in quantized.modules()) == sum(
        isinstance(m, torch.nn.Linear) for m in model.modules())
    linear = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.Linear(256, 256))
    assert size_on_disk_mb(int8_dynamic(linear)) < 0.35 * size_on_disk_mb(linear)


def test_int8_outputs_stay_close_to_float(tiny_marian):
    model, tok = tiny_marian
    inputs = tok(["a dog runs", "ein mann"], return_tensors="pt", padding=True)
    start = torch.full((2, 1), model.config.decoder_start_token_id)
    with torch.no_grad():
        exact = model(**inputs, decoder_input_ids=start).logits
        approx = int8_dynamic(model)(**inputs, decoder_input_ids=start).logits
    assert torch.allclose(exact, approx, atol=0.05 * exact.abs().max().item())


def test_batches_and_throughput():
    assert batches([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    with pytest.raises(ValueError, match="batch_size"):
        batches([1], 0)
    seen = []
    speed = sentences_per_s(lambda b: seen.append(len(b)), ["x"] * 10, 4, repeats=2)
    assert seen == [4] + [4, 4, 2] * 2 and speed > 0  # one warm-up batch, then every batch per repeat
    with pytest.raises(ValueError, match="empty"):
        sentences_per_s(len, [], 4)
    with pytest.raises(ValueError, match="repeats"):
        sentences_per_s(len, ["x"], 4, repeats=0)


@pytest.fixture
def saved_model(tiny_marian, tmp_path):
    model, tok = tiny_marian
    declare_pairs(model, ["en-de", "en-fr"], target_tags=True)
    model.save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    return tmp_path / "m"


def test_declared_pairs_and_opus_mt_names(tiny_marian):
    model, _ = tiny_marian
    declare_pairs(model, ["en-de"])
    assert language_pairs(model.config, "anything") == ["en-de"]
    assert source_prefix(model.config, "en-de", "m") == ""
    with pytest.raises(ValueError, match="translates en-de, not de-en"):
        source_prefix(model.config, "de-en", "m")
    with pytest.raises(ValueError, match="src-tgt"):
        declare_pairs(model, ["en"])
    model.config.language_pairs = None
    assert language_pairs(model.config, "Helsinki-NLP/opus-mt-en-de") == ["en-de"]
    assert language_pairs(model.config, "cache/my-model") is None


def test_translate_lines_keeps_order_and_blank_lines(tiny_marian):
    model, tok = tiny_marian
    lines = ["a dog runs\n", "\n", "ein mann\n", "un chien court\n"]
    out = list(translate_lines(seq2seq_batches(model, tok, ">>de<< "), lines, batch_size=2))
    assert len(out) == 4 and out[1] == ""
    one_by_one = [generate(model, tok, [">>de<< " + s.strip()], progress=False)[0] for s in (lines[0], lines[2])]
    assert [out[0], out[2]] == one_by_one


def test_cli_translates_stdin_to_stdout(saved_model):
    stdout = io.StringIO()
    rc = main([str(saved_model), "--pair", "en-fr", "--batch-size", "2"], stdin=io.StringIO("a dog runs\n\nein mann\n"),
              stdout=stdout)
    assert rc == 0 and len(stdout.getvalue().splitlines()) == 3


def test_cli_reads_and_writes_files_and_quantizes(saved_model, tmp_path):
    src, out = tmp_path / "in.txt", tmp_path / "out.txt"
    src.write_text("a dog runs\nthe small red ball\n", encoding="utf-8")
    assert main([str(saved_model), "--pair", "en-de", "--input", str(src), "--output", str(out), "--int8"]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


def test_cli_errors_are_one_clear_line(saved_model, tmp_path, capsys):
    assert main([str(tmp_path / "nowhere"), "--pair", "en-de"], stdin=io.StringIO("x\n")) == 2
    assert "holds no saved model" in capsys.readouterr().err
    assert main([str(saved_model), "--pair", "de-en"], stdin=io.StringIO("x\n")) == 2
    assert "translates en-de, en-fr, not de-en" in capsys.readouterr().err
    for bad in (["--pair", "english-german"], ["--pair", "en-de", "--input", str(tmp_path / "no.txt")],
                ["--pair", "en-de", "--batch-size", "0"]):
        with pytest.raises(SystemExit) as exit_info:
            main([str(saved_model), *bad])
        assert exit_info.value.code == 2
