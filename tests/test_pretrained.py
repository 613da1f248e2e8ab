from types import SimpleNamespace

import pytest
import torch
from peft import get_peft_model
from transformers import AutoModelForSequenceClassification

from xlw.pretrained import ModelNotInstalledError, load_tokenizer, lora_config, resolve, trainable_parameters


def test_resolve_maps_one_name_to_each_source(tiny_gemma):
    assert resolve("gemma-3-270m", "hub") == "google/gemma-3-270m"
    assert resolve("gemma-3-270m", "tiny") == tiny_gemma
    assert resolve("xlm-roberta-base", "hub") == "FacebookAI/xlm-roberta-base"
    with pytest.raises(ModelNotInstalledError, match="xlm-roberta-base has no offline source here"):
        resolve("xlm-roberta-base", "offline")
    with pytest.raises(KeyError, match="unknown pretrained model 'gemma-9b': expected one of gemma-3-270m"):
        resolve("gemma-9b", "hub")
    with pytest.raises(ValueError, match="model source 'web' is unknown: expected one of offline, hub, tiny"):
        resolve("gemma-3-270m", "web")


def test_missing_offline_copy_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("XLW_MODELS", str(tmp_path))
    with pytest.raises(ModelNotInstalledError, match="`python -m xlw.pretrained install gemma-3-270m`"):
        resolve("gemma-3-270m", "offline")


def test_tiny_twin_has_the_real_architecture_and_tokenizer(tiny_gemma):
    from transformers import AutoConfig

    real, tiny = AutoConfig.from_pretrained(resolve("gemma-3-270m", "offline")), AutoConfig.from_pretrained(tiny_gemma)
    assert tiny.model_type == real.model_type and tiny.vocab_size == real.vocab_size
    assert tiny.num_hidden_layers < real.num_hidden_layers
    assert load_tokenizer(tiny_gemma).padding_side == "right"


def test_tokenizer_copies_keep_their_own_padding_side(tiny_gemma):
    left, right = load_tokenizer(tiny_gemma, "left"), load_tokenizer(tiny_gemma, "right")
    assert left.padding_side == "left" and right.padding_side == "right"
    texts = ["a", "a longer text"]
    assert left(texts, padding=True)["input_ids"][0][0] == left.pad_token_id
    assert right(texts, padding=True)["input_ids"][0][-1] == right.pad_token_id


def test_lora_starts_as_the_base_model_and_trains_few_parameters(tiny_gemma):
    tokenizer = load_tokenizer(tiny_gemma)
    torch.manual_seed(0)
    base = AutoModelForSequenceClassification.from_pretrained(tiny_gemma, num_labels=3)
    base.config.pad_token_id = tokenizer.pad_token_id
    inputs = tokenizer(["ein kleiner Test", "a test"], padding=True, return_tensors="pt")
    base.eval()
    with torch.no_grad():
        before = base(**inputs).logits
    cfg = SimpleNamespace(lora_r=4, lora_alpha=8, lora_targets=["q_proj", "v_proj"])
    model = get_peft_model(base, lora_config(cfg, "SEQ_CLS"))
    model.eval()
    with torch.no_grad():
        after = model(**inputs).logits
    torch.testing.assert_close(before, after)  # B = 0 at initialisation
    trainable, total = trainable_parameters(model)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable < 0.01 * total
    assert any("lora_A" in n for n in names) and any("score" in n for n in names)
    assert not any("embed_tokens" in n for n in names)


def test_install_command_reports_models_without_an_offline_source(capsys):
    from xlw.pretrained import main

    assert main(["install", "xlm-roberta-base"]) == 2
    assert "xlm-roberta-base has no offline source here" in capsys.readouterr().err


def test_a_new_head_is_named_in_one_line_not_a_load_report(tiny_gemma, capfd):
    from xlw.pretrained import load_with_new_head

    model = load_with_new_head(AutoModelForSequenceClassification, resolve("gemma-3-270m", "tiny"), num_labels=3)
    out, err = capfd.readouterr()
    assert "new weights, initialised here: score.weight" in out
    assert "LOAD REPORT" not in out + err and model.score.weight.shape[0] == 3
