import numpy as np
import pandas as pd
import pytest
import torch

from xlw.config import settings
from xlw.frozen_bottom import pad_states
from xlw.frozen_classifier import (
    BottomStates,
    bottom_for,
    fit_top_classifier,
    top_class_logits,
    top_class_scores,
    top_classifier,
)
from xlw.sentiment import fit_classifier, predict_logits

TEXTS = ["short", "a considerably longer tweet with many more tokens in it", "mid size text"]


def smoke_cfg(**overrides):
    return settings("smoke", "04_sentiment", {"frozen_layers": 1, **overrides})


def with_random_adapters(model):
    """LoRA's B is zero at the start; random B makes the top layers' adapters change the function."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    return model


def test_top_scores_from_kept_states_equal_the_whole_models_logits_and_gradients():
    cfg = smoke_cfg()
    model, tok = top_classifier(cfg, seed=0)
    with_random_adapters(model)
    assert not any("layers.0." in n for n, _ in model.named_parameters() if "lora_" in n)  # bottom: no adapters
    inputs = tok(TEXTS, padding=True, return_tensors="pt")
    labels = torch.tensor([0, 2, 1])
    whole = model(**inputs, labels=labels)
    whole.loss.backward()
    expected = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()

    bottom = BottomStates(cfg)
    scores = top_class_scores(model, pad_states(bottom(TEXTS, cfg.max_length)), cut=1)
    torch.nn.functional.cross_entropy(scores, labels).backward()
    torch.testing.assert_close(scores, whole.logits, rtol=1e-4, atol=1e-5)
    assert expected
    for name, p in model.named_parameters():
        if name in expected:
            torch.testing.assert_close(p.grad, expected[name], rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(top_class_logits(model, bottom, TEXTS, cfg.max_length),
                               predict_logits(model, tok, TEXTS, cfg.max_length), rtol=1e-4, atol=1e-5)


def test_bottom_states_are_computed_once_per_text():
    bottom = BottomStates(smoke_cfg())
    first = bottom(TEXTS, 16)
    again = bottom([TEXTS[1], TEXTS[0], TEXTS[1]], 16)
    assert again[0] is first[1] and again[1] is first[0] and again[2] is first[1]
    assert len(bottom.kept) == 3
    assert len(bottom(["short"], 2)[0]) == 2  # another max_length is another state
    assert bottom_for(smoke_cfg(frozen_layers=0)) is None


def test_a_frozen_classifier_trains_and_reads_out_as_the_whole_model():
    cfg = smoke_cfg()
    frame = pd.DataFrame({"text": TEXTS * 8, "label": [0, 2, 1] * 8})
    bottom = BottomStates(cfg)
    model, tok, result = fit_classifier(frame, cfg, seed=0, bottom=bottom)
    assert result.steps > 0 and np.isfinite(result.history.train_loss.dropna()).all()
    assert any(p.abs().sum() > 0 for n, p in model.named_parameters() if "lora_B" in n)  # the top was trained
    np.testing.assert_allclose(predict_logits(model, tok, TEXTS, cfg.max_length, bottom=bottom),
                               predict_logits(model, tok, TEXTS, cfg.max_length), rtol=1e-4, atol=1e-5)


def test_bottom_states_of_another_cut_are_refused():
    frame = pd.DataFrame({"text": TEXTS, "label": [0, 2, 1]})
    with pytest.raises(ValueError, match="cut at layer 1, but frozen_layers is 0"):
        fit_top_classifier(frame, smoke_cfg(frozen_layers=0), BottomStates(smoke_cfg()))
