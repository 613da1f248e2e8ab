import numpy as np
import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers.models.gemma3.configuration_gemma3 import Gemma3TextConfig

from xlw.frozen_bottom import bottom_states, check_cut, state_loader, top_loss, top_outputs
from xlw.pretrained import load_tokenizer
from xlw.qa import Gemma3TextForQuestionAnswering

PATTERN = ["sliding_attention", "full_attention", "sliding_attention", "full_attention"]


def four_layers(tokenizer_path, cut: int):
    """A random 4-layer Gemma-3 span model with LoRA (random B, so it matters) in the layers from `cut` up."""
    torch.manual_seed(0)
    config = Gemma3TextConfig(vocab_size=262144, hidden_size=32, intermediate_size=64, num_hidden_layers=4,
                              num_attention_heads=2, num_key_value_heads=1, head_dim=16, layer_types=PATTERN,
                              sliding_window=4, pad_token_id=0)
    model = get_peft_model(Gemma3TextForQuestionAnswering(config),
                           LoraConfig(r=4, target_modules=["q_proj", "v_proj"], layers_to_transform=list(range(cut, 4)),
                                      task_type="QUESTION_ANS"))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    return model, load_tokenizer(str(tokenizer_path))


@pytest.mark.parametrize("cut", [1, 2])  # the top starts with a full-attention layer, then a sliding one
def test_cached_bottom_gives_the_whole_models_loss_gradients_and_logits(tiny_gemma, cut):
    model, tok = four_layers(tiny_gemma, cut)
    windows = [tok("who wrote it? " + text)["input_ids"][:9] for text in ("a long sentence here about a book",
                                                                        "another one, just as long as that")]
    labels = {"start_positions": [3, 5], "end_positions": [4, 7]}
    whole = model(input_ids=torch.tensor(windows), **{k: torch.tensor(v) for k, v in labels.items()}).loss
    whole.backward()
    expected = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()

    states = bottom_states(model, tok, windows, cut)
    batch = next(iter(state_loader(states, labels, max_tokens=100, seed=0)))
    cached = top_loss(cut)(model, batch)
    cached.backward()
    assert cached.item() == pytest.approx(whole.item(), rel=1e-5)
    assert expected
    for name, p in model.named_parameters():
        if name in expected:
            torch.testing.assert_close(p.grad, expected[name], rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        reference = model.eval()(input_ids=torch.tensor(windows)).start_logits.numpy()
    start_logits = [out[0] for out in top_outputs(model, states, cut)]
    np.testing.assert_allclose(np.stack(start_logits), reference, rtol=1e-5, atol=1e-5)
    assert len(model.base_model.model.model.layers) == 4  # the full stack is back after each call


def test_a_cut_outside_the_stack_is_refused(tiny_gemma):
    model, _ = four_layers(tiny_gemma, 1)
    check_cut(model, 0)
    with pytest.raises(ValueError, match="between 0 and 3 .* got 4"):
        check_cut(model, 4)


def test_a_bidirectional_top_lets_early_tokens_see_later_ones(tiny_gemma):
    model, tok = four_layers(tiny_gemma, 2)
    states = bottom_states(model, tok, [tok("where is the answer to this question")["input_ids"]], cut=2)
    changed = [states[0].clone()]
    changed[0][-1] += 1.0  # only the last token differs
    for bidirectional, first_token_moves in ((False, False), (True, True)):
        before, after = (top_outputs(model, s, 2, bidirectional)[0][0] for s in (states, changed))
        assert (abs(before[0] - after[0]) > 1e-4) == first_token_moves
        assert abs(before[-1] - after[-1]) > 1e-4
    assert not model.base_model.model.config.use_bidirectional_attention  # restored after the block
