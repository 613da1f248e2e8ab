"""Closed forms in xlw.derivations against torch.autograd and torch.optim, in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from xlw import derivations as d

TOL = 1e-10
F64 = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _autograd(loss_fn, z: torch.Tensor) -> torch.Tensor:
    z = z.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss_fn(z), z)
    return grad


@pytest.mark.parametrize("seed,n,dim", [(0, 1, 1), (1, 7, 3), (2, 64, 10)])
def test_empirical_risk_gradient_is_mean_of_per_example_gradients(seed, n, dim):
    g = _gen(seed)
    theta = torch.randn(dim, generator=g, dtype=F64)
    x = torch.randn(n, dim, generator=g, dtype=F64)
    y = torch.randint(0, 2, (n,), generator=g).to(F64)
    per_example = d.per_example_grads(d.logistic_loss, theta, x, y)
    assert per_example.shape == (n, dim)
    per_loss = F.binary_cross_entropy_with_logits(x @ theta, y, reduction="none")
    assert torch.allclose(d.empirical_risk(per_loss), d.logistic_loss(theta, x, y), atol=TOL)
    expected = _autograd(lambda t: d.empirical_risk(
        F.binary_cross_entropy_with_logits(x @ t, y, reduction="none")), theta)
    assert d.max_abs_err(per_example.mean(0), expected) < TOL


@pytest.mark.parametrize("seed,shape", [(0, (1,)), (1, (13,)), (2, (4, 5))])
def test_bce_grad_logits(seed, shape):
    g = _gen(seed)
    z = 3 * torch.randn(shape, generator=g, dtype=F64)
    y = torch.rand(shape, generator=g, dtype=F64)  # soft labels are allowed too
    expected = _autograd(lambda t: F.binary_cross_entropy_with_logits(t, y), z)
    assert d.max_abs_err(d.bce_grad_logits(z, y), expected) < TOL


@pytest.mark.parametrize("seed,n,k", [(0, 1, 2), (1, 9, 5), (2, 50, 30)])
def test_softmax_ce_grad_logits(seed, n, k):
    g = _gen(seed)
    z = 3 * torch.randn(n, k, generator=g, dtype=F64)
    y = torch.randint(0, k, (n,), generator=g)
    expected = _autograd(lambda t: F.cross_entropy(t, y), z)
    assert d.max_abs_err(d.softmax_ce_grad_logits(z, y), expected) < TOL


def _seq_batch(seed: int, b: int, t: int, v: int, pad_id: int, keep: int | None = None):
    """Random logits and targets with random right-padding; `keep` = non-pad tokens in total."""
    g = _gen(seed)
    logits = 2 * torch.randn(b, t, v, generator=g, dtype=F64)
    targets = torch.randint(0, v, (b, t), generator=g)
    targets[targets == pad_id] = (pad_id + 1) % v  # pad only where we say so
    if keep is None:
        lengths = torch.randint(1, t + 1, (b,), generator=g)
        targets[torch.arange(t) >= lengths[:, None]] = pad_id
    else:
        flat = targets.view(-1)
        flat[keep:] = pad_id
    return logits, targets


SEQ_CASES = [
    # (seed, batch, time, vocab, pad_id, keep)
    (0, 3, 5, 7, 0, None),
    (1, 4, 8, 11, 1, None),
    (2, 2, 6, 9, 0, 1),  # all but one token is padding
    (3, 1, 1, 4, 0, 1),  # a single token
    (4, 3, 4, 6, -100, None),  # PyTorch's default ignore_index, outside the vocabulary
]


@pytest.mark.parametrize("eps", [0.0, 0.1])
@pytest.mark.parametrize("seed,b,t,v,pad_id,keep", SEQ_CASES)
def test_seq_nll_matches_cross_entropy(seed, b, t, v, pad_id, keep, eps):
    logits, targets = _seq_batch(seed, b, t, v, pad_id, keep)

    def reference(z):
        return F.cross_entropy(z.reshape(-1, v), targets.reshape(-1), ignore_index=pad_id,
                               label_smoothing=eps)

    value = d.seq_nll(logits, targets, pad_id, eps)
    assert abs(value.item() - reference(logits).item()) < TOL
    expected = _autograd(reference, logits)
    grad = d.seq_nll_grad_logits(logits, targets, pad_id, eps)
    assert d.max_abs_err(grad, expected) < TOL
    assert (grad[targets == pad_id] == 0).all()


def test_token_nll_is_zero_at_padding_and_sums_to_the_token_mean():
    logits, targets = _seq_batch(5, 4, 7, 10, 0)
    per_token = d.token_nll(logits, targets, 0, 0.1)
    assert (per_token[targets == 0] == 0).all()
    n_tokens = (targets != 0).sum()
    assert torch.allclose(per_token.sum() / n_tokens, d.seq_nll(logits, targets, 0, 0.1))


def test_smoothed_targets_is_a_distribution_with_pytorch_target_mass():
    q = d.smoothed_targets(torch.tensor([2, 0]), 5, 0.1)
    assert torch.allclose(q.sum(-1), torch.ones(2, dtype=F64))
    assert q[0, 2].item() == pytest.approx(1 - 0.1 + 0.1 / 5)
    assert q[0, 0].item() == pytest.approx(0.1 / 5)


def test_seq_nll_rejects_mismatched_shapes_naming_both():
    logits = torch.zeros(2, 3, 5, dtype=F64)
    targets = torch.zeros(2, 4, dtype=torch.long)
    with pytest.raises(ValueError, match=r"\(2, 3, 5\).*\(2, 4\)"):
        d.seq_nll(logits, targets, pad_id=0)
    with pytest.raises(ValueError, match=r"\(2, 3, 5\).*\(2, 4\)"):
        d.seq_nll_grad_logits(logits, targets, pad_id=0)


def test_seq_nll_rejects_all_padding_and_bad_smoothing():
    logits = torch.zeros(1, 2, 3, dtype=F64)
    with pytest.raises(ValueError, match="no non-pad token"):
        d.seq_nll(logits, torch.zeros(1, 2, dtype=torch.long), pad_id=0)
    with pytest.raises(ValueError, match="label_smoothing"):
        d.seq_nll(logits, torch.ones(1, 2, dtype=torch.long), pad_id=0, label_smoothing=1.5)


def test_max_abs_err_rejects_different_shapes():
    with pytest.raises(ValueError, match="shapes differ"):
        d.max_abs_err(torch.zeros(2), torch.zeros(3))


@pytest.mark.parametrize("seed", [0, 1])
def test_decoupled_decay_equals_l2_for_plain_sgd(seed):
    g = _gen(seed)
    x = torch.randn(20, 4, generator=g, dtype=F64)
    y = torch.randint(0, 2, (20,), generator=g).to(F64)
    theta = torch.randn(4, generator=g, dtype=F64)
    lr, wd = 0.3, 0.05
    grad = _autograd(lambda t: d.logistic_loss(t, x, y), theta)
    decoupled = d.sgd_weight_decay_step(theta, grad, lr, wd)
    grad_l2 = _autograd(lambda t: d.logistic_loss(t, x, y) + d.l2_penalty(t, wd), theta)
    assert d.max_abs_err(decoupled, theta - lr * grad_l2) < TOL
    p = theta.clone().requires_grad_(True)
    opt = torch.optim.SGD([p], lr=lr, weight_decay=wd)
    d.logistic_loss(p, x, y).backward()
    opt.step()
    assert d.max_abs_err(decoupled, p) < TOL


def _quadratic(seed: int, dim: int):
    g = _gen(seed)
    a = torch.randn(dim, dim, generator=g, dtype=F64)
    hessian = a @ a.T / dim + 0.1 * torch.eye(dim, dtype=F64)
    b = torch.randn(dim, generator=g, dtype=F64)
    theta0 = torch.randn(dim, generator=g, dtype=F64)
    return (lambda t: 0.5 * t @ hessian @ t - b @ t), theta0


HYPER = {"lr": 0.05, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.1}


@pytest.mark.parametrize("seed,dim,steps", [(0, 1, 3), (1, 6, 25), (2, 15, 40)])
def test_adamw_matches_torch_step_for_step(seed, dim, steps):
    loss_fn, theta0 = _quadratic(seed, dim)
    ours = d.adam_trajectory(loss_fn, theta0, steps, **HYPER)
    theirs = d.torch_adamw_trajectory(loss_fn, theta0, steps, **HYPER)
    assert ours.shape == (steps + 1, dim)
    assert d.max_abs_err(ours, theirs) < TOL


def test_adamw_matches_torch_on_logistic_regression():
    g = _gen(3)
    x = torch.randn(30, 5, generator=g, dtype=F64)
    y = torch.randint(0, 2, (30,), generator=g).to(F64)
    theta0 = torch.randn(5, generator=g, dtype=F64)
    hyper = {**HYPER, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.3}
    ours = d.adam_trajectory(lambda t: d.logistic_loss(t, x, y), theta0, 30, **hyper)
    theirs = d.torch_adamw_trajectory(lambda t: d.logistic_loss(t, x, y), theta0, 30, **hyper)
    assert d.max_abs_err(ours, theirs) < TOL


def test_adam_with_l2_differs_from_adamw():
    loss_fn, theta0 = _quadratic(4, 8)
    adamw = d.adam_trajectory(loss_fn, theta0, 20, **HYPER)
    adam_l2 = d.adam_trajectory(loss_fn, theta0, 20, **HYPER, decoupled=False)
    assert d.max_abs_err(adamw, adam_l2) > 1e-6
    # Without decay the two are the same algorithm.
    no_decay = {**HYPER, "weight_decay": 0.0}
    assert d.max_abs_err(d.adam_trajectory(loss_fn, theta0, 20, **no_decay),
                         d.adam_trajectory(loss_fn, theta0, 20, **no_decay, decoupled=False)) == 0


def test_adam_l2_matches_torch_adam_with_weight_decay():
    loss_fn, theta0 = _quadratic(5, 6)
    ours = d.adam_trajectory(loss_fn, theta0, 15, **HYPER, decoupled=False)
    p = theta0.clone().requires_grad_(True)
    opt = torch.optim.Adam([p], lr=HYPER["lr"], betas=HYPER["betas"], eps=HYPER["eps"],
                           weight_decay=HYPER["weight_decay"])
    for _ in range(15):
        opt.zero_grad()
        loss_fn(p).backward()
        opt.step()
    assert d.max_abs_err(ours[-1], p) < TOL


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_joint_loss_gradient_is_weighted_sum_of_gradients(seed):
    g = _gen(seed)
    theta = torch.randn(4, generator=g, dtype=F64)
    batches = [(torch.randn(n, 4, generator=g, dtype=F64),
                torch.randint(0, 2, (n,), generator=g).to(F64)) for n in (5, 17, 2)]
    weights = torch.rand(3, generator=g, dtype=F64).tolist()
    expected = _autograd(
        lambda t: d.joint_loss([d.logistic_loss(t, x, y) for x, y in batches], weights), theta)
    per_language = [_autograd(lambda t, x=x, y=y: d.logistic_loss(t, x, y), theta)
                    for x, y in batches]
    assert d.max_abs_err(d.joint_loss(per_language, weights), expected) < TOL


def test_joint_loss_needs_one_weight_per_loss():
    with pytest.raises(ValueError, match="2 losses, 3 weights"):
        d.joint_loss([torch.tensor(1.0), torch.tensor(2.0)], [1.0, 1.0, 1.0])


def test_temperature_weights():
    sizes = [29000, 29000, 2000, 500]
    for temperature in (0.5, 1.0, 3.3, 100.0):
        assert d.temperature_weights(sizes, temperature).sum() == pytest.approx(1.0)
    np.testing.assert_allclose(d.temperature_weights(sizes, 1.0), np.array(sizes) / sum(sizes))
    np.testing.assert_allclose(d.temperature_weights(sizes, float("inf")), np.full(4, 0.25))
    assert np.abs(d.temperature_weights(sizes, 1e6) - 0.25).max() < 1e-4
    # Raising T moves mass from the large languages to the small ones.
    assert d.temperature_weights(sizes, 5.0)[-1] > d.temperature_weights(sizes, 1.0)[-1]
    # Log-space: huge sizes with a small T do not overflow.
    assert np.isfinite(d.temperature_weights([1e12, 1e3], 0.01)).all()


@pytest.mark.parametrize("sizes,temperature", [([], 1.0), ([1, 0], 1.0), ([1, 2], 0.0)])
def test_temperature_weights_rejects_bad_input(sizes, temperature):
    with pytest.raises(ValueError):
        d.temperature_weights(sizes, temperature)


def test_weight_decay_fit_shrinks_the_weights():
    history = d.weight_decay_fit(n_train=30, n_features=20, n_test=200, steps=60, lr=0.5,
                                 weight_decays=(0.0, 0.05), seed=0)
    assert list(history.columns) == ["step", "train loss", "test loss", "weight norm", "setting"]
    assert len(history) == 2 * 61
    final = history.groupby("setting").tail(1).set_index("setting")["weight norm"]
    assert final["weight decay 0.05"] < final["weight decay 0"]
    no_decay = history[history.setting == "weight decay 0"]
    assert no_decay["train loss"].is_monotonic_decreasing
    assert no_decay["weight norm"].iloc[-1] > no_decay["weight norm"].iloc[1]
