from types import SimpleNamespace

import pandas as pd
import pytest
import torch

from xlw.config import settings
from xlw.measure import folder_mb, peak_memory, saved_size_mb
from xlw.peft_study import checkpoint_mb, method_config, run_method, summarize
from xlw.sentiment import balanced_sample, load_umsab


@pytest.fixture(scope="module")
def cfg(tiny_gemma):
    return settings("smoke", "07_peft")


@pytest.fixture(scope="module")
def tweets():
    train = balanced_sample(load_umsab("en", "train"), 4, seed=0)
    tests = {lang: balanced_sample(load_umsab(lang, "test"), 2, seed=0) for lang in ("en", "de")}
    return train, tests


def test_every_profile_method_has_a_config_and_a_learning_rate(cfg):
    for profile in ("smoke", "cpu", "gpu"):
        section = settings(profile, "07_peft")
        for method in section.main_methods + section.extra_methods:
            config = method_config(method, section, steps=12)
            assert (config is None) == (method == "full")
    with pytest.raises(ValueError, match="unknown PEFT method 'lora_r3'"):
        method_config("lora_r3", cfg, 12)
    with pytest.raises(ValueError, match="no learning rate for 'ia3'"):
        method_config("ia3", SimpleNamespace(**{**vars(cfg), "lrs": {}}), 12)
    with pytest.raises(ValueError, match="AdaLoRA needs at least 3 training steps .* got 2"):
        method_config("adalora", cfg, steps=2)


def test_methods_train_what_they_claim_and_report_their_costs(cfg, tweets):
    train, tests = tweets
    rows = {m: run_method(m, train, tests, cfg, seed=0)[0] for m in ("full", "lora_r8", "ia3", "prompt", "adalora")}
    for row in rows.values():
        assert 0 <= row["macro_f1.en"] <= 1 and 0 <= row["macro_f1.de"] <= 1
        assert row["s_per_step"] > 0 and row["checkpoint_mb"] > 0
    params = {m: row["trainable_params"] for m, row in rows.items()}
    assert params["prompt"] < params["ia3"] < params["lora_r8"] < params["full"]
    assert rows["full"]["trainable_pct"] == pytest.approx(100)
    # an adapter checkpoint holds the adapter and the head, not the model
    assert rows["lora_r8"]["checkpoint_mb"] < rows["full"]["checkpoint_mb"] / 20


def test_peak_memory_sees_an_allocation_inside_the_block():
    with peak_memory(torch.device("cpu")) as memory:
        block = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched so that it is resident, and freed at once
        del block
    assert memory["peak_mb"] > 48


def test_peak_memory_samples_where_the_kernel_peak_cannot_be_reset(monkeypatch, tmp_path):
    import time

    import xlw.measure

    monkeypatch.setattr(xlw.measure, "_CLEAR_REFS", tmp_path / "missing" / "clear_refs")
    with peak_memory(torch.device("cpu")) as memory:
        block = torch.ones(64 * 2**20 // 4)
        time.sleep(0.2)  # sampling sees what lasts longer than its interval
        del block
    assert memory["peak_mb"] > 48


def test_saved_size_is_what_save_pretrained_writes(tmp_path, tiny_gemma):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_gemma)
    model.save_pretrained(tmp_path)
    assert saved_size_mb(model) == pytest.approx(folder_mb(tmp_path), rel=0.01)
    params_mb = sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20
    assert saved_size_mb(model) == pytest.approx(params_mb, rel=0.1)


def test_checkpoint_size_is_quiet_about_ranks_pruned_to_zero(tiny_gemma):
    import warnings

    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_gemma), LoraConfig(r=2, target_modules=["q_proj"]))
    lora_a = next(m for name, m in model.named_modules() if name.endswith("q_proj.lora_A.default"))
    lora_a.weight = torch.nn.Parameter(lora_a.weight[:0])  # every rank pruned, as AdaLoRA may leave a matrix
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        saved_size_mb(model)
        assert any("invalid shape" in str(w.message) for w in caught)  # peft's DeepSpeed warning, out of place here
        caught.clear()
        assert checkpoint_mb(model) > 0
        assert not [w for w in caught if "invalid shape" in str(w.message)]


def test_summarize_averages_seeds_and_zero_shot_languages():
    rows = pd.DataFrame({"method": ["a", "a", "b"], "seed": [0, 1, 0], "trainable_params": [10, 10, 5],
                         "macro_f1.en": [0.5, 0.7, 0.4], "macro_f1.de": [0.2, 0.4, 0.1],
                         "macro_f1.fr": [0.4, 0.6, 0.3]})
    table = summarize(rows, ["de", "fr"])
    assert table.loc["a", "macro_f1.en"] == pytest.approx(0.6)
    assert table.loc["a", "std.en"] == pytest.approx(0.1414, abs=1e-4)
    assert table.loc["a", "macro_f1.zeroshot_mean"] == pytest.approx(0.4)
    assert table.loc["b", "seeds"] == 1 and pd.isna(table.loc["b", "std.en"])
