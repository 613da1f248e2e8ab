"""Closed-form gradients and hand-written optimizer updates, checked against torch.autograd.

Notebook 01 derives each formula in LaTeX and compares it with autograd in float64. Losses
use PyTorch's default mean reduction, so every gradient carries the 1/n of that mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor

LossFn = Callable[..., Tensor]


def max_abs_err(a: Tensor, b: Tensor) -> float:
    """The largest absolute elementwise difference between `a` and `b`, as a float."""
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    return (a.detach() - b.detach()).abs().max().item()


# --- Empirical risk -------------------------------------------------------------------------

def logistic_loss(theta: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """Mean binary cross-entropy of the linear model x @ theta; works on one example or a batch."""
    return F.binary_cross_entropy_with_logits(x @ theta, y)


def empirical_risk(loss_per_example: Tensor) -> Tensor:
    """R(theta) = 1/n sum_i l_i(theta), the mean of the per-example losses."""
    return loss_per_example.mean()


def per_example_grads(loss_fn: LossFn, theta: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """The n gradients of loss_fn(theta, x_i, y_i) w.r.t. theta, stacked as (n, *theta.shape)."""
    # vmap over the example axis only: theta is shared, (x_i, y_i) are mapped.
    return torch.func.vmap(torch.func.grad(loss_fn), in_dims=(None, 0, 0))(theta, x, y)


# --- Cross-entropy gradients w.r.t. logits --------------------------------------------------

def bce_grad_logits(z: Tensor, y: Tensor) -> Tensor:
    """d/dz of mean binary_cross_entropy_with_logits(z, y): (sigmoid(z) - y) / n."""
    return (torch.sigmoid(z) - y) / z.numel()


def softmax_ce_grad_logits(z: Tensor, y: Tensor) -> Tensor:
    """d/dz of mean cross_entropy(z, y) for z of shape (n, K): (softmax(z) - onehot(y)) / n."""
    onehot = F.one_hot(y, z.shape[-1]).to(z.dtype)
    return (torch.softmax(z, dim=-1) - onehot) / z.shape[0]


# --- Token-level NLL for seq2seq ------------------------------------------------------------

def _check_seq(logits: Tensor, targets: Tensor, pad_id: int, label_smoothing: float) -> Tensor:
    """The non-pad mask of `targets`, after checking shapes and arguments."""
    if logits.ndim != 3 or targets.shape != logits.shape[:2]:
        raise ValueError(
            f"logits must be (batch, time, vocab) and targets (batch, time): got logits "
            f"{tuple(logits.shape)} and targets {tuple(targets.shape)}"
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing}")
    mask = targets != pad_id
    if not mask.any():
        # PyTorch returns nan here (0/0); a batch of padding only is a bug upstream.
        raise ValueError("targets hold no non-pad token: the token mean is undefined")
    return mask


def smoothed_targets(targets: Tensor, num_classes: int, label_smoothing: float,
                     dtype: torch.dtype = torch.float64) -> Tensor:
    """PyTorch's smoothed target q = (1 - eps) onehot(y) + eps / K, spread over all K classes."""
    onehot = F.one_hot(targets, num_classes).to(dtype)
    return (1.0 - label_smoothing) * onehot + label_smoothing / num_classes


def token_nll(logits: Tensor, targets: Tensor, pad_id: int,
              label_smoothing: float = 0.0) -> Tensor:
    """Per-token cross-entropy -sum_k q_k log p_k, shape (batch, time), 0 at pad positions."""
    mask = _check_seq(logits, targets, pad_id, label_smoothing)
    # pad_id may be -100 (PyTorch's default ignore_index), so one-hot a safe id at pad positions.
    safe = targets.masked_fill(~mask, 0)
    q = smoothed_targets(safe, logits.shape[-1], label_smoothing, logits.dtype)
    per_token = -(q * torch.log_softmax(logits, dim=-1)).sum(-1)
    return per_token * mask


def seq_nll(logits: Tensor, targets: Tensor, pad_id: int, label_smoothing: float = 0.0) -> Tensor:
    """Mean token NLL over non-pad tokens; equals cross_entropy(ignore_index=pad_id, ...)."""
    n_tokens = (targets != pad_id).sum()
    return token_nll(logits, targets, pad_id, label_smoothing).sum() / n_tokens


def seq_nll_grad_logits(logits: Tensor, targets: Tensor, pad_id: int,
                        label_smoothing: float = 0.0) -> Tensor:
    """d seq_nll / d logits = mask * (softmax(logits) - q) / N_tokens."""
    mask = _check_seq(logits, targets, pad_id, label_smoothing)
    safe = targets.masked_fill(~mask, 0)
    q = smoothed_targets(safe, logits.shape[-1], label_smoothing, logits.dtype)
    grad = (torch.softmax(logits, dim=-1) - q) * mask.unsqueeze(-1)
    return grad / mask.sum()


# --- Weight decay and AdamW -----------------------------------------------------------------

def l2_penalty(theta: Tensor, weight_decay: float) -> Tensor:
    """(lambda / 2) ||theta||^2, whose gradient is lambda * theta."""
    return 0.5 * weight_decay * (theta * theta).sum()


def sgd_weight_decay_step(theta: Tensor, grad: Tensor, lr: float, weight_decay: float) -> Tensor:
    """One SGD step with decoupled weight decay: theta - lr * grad - lr * lambda * theta."""
    return theta - lr * grad - lr * weight_decay * theta


def adamw_step(theta: Tensor, grad: Tensor, m: Tensor, v: Tensor, t: int, *, lr: float,
               betas: tuple[float, float], eps: float,
               weight_decay: float) -> tuple[Tensor, Tensor, Tensor]:
    """One AdamW step (t counts from 1), as torch.optim.AdamW; returns (theta, m, v)."""
    beta1, beta2 = betas
    theta = theta * (1.0 - lr * weight_decay)  # decoupled decay first, not scaled by 1/sqrt(v)
    m = beta1 * m + (1.0 - beta1) * grad
    v = beta2 * v + (1.0 - beta2) * grad * grad
    m_hat = m / (1.0 - beta1**t)
    v_hat = v / (1.0 - beta2**t)
    # eps is added to sqrt(v_hat), after the bias correction, as PyTorch does.
    theta = theta - lr * m_hat / (v_hat.sqrt() + eps)
    return theta, m, v


def adam_l2_step(theta: Tensor, grad: Tensor, m: Tensor, v: Tensor, t: int, *, lr: float,
                 betas: tuple[float, float], eps: float,
                 weight_decay: float) -> tuple[Tensor, Tensor, Tensor]:
    """One Adam step on L + (lambda/2)||theta||^2: the decay goes through m and 1/sqrt(v)."""
    return adamw_step(theta, grad + weight_decay * theta, m, v, t, lr=lr, betas=betas, eps=eps,
                      weight_decay=0.0)


def adam_trajectory(loss_fn: Callable[[Tensor], Tensor], theta0: Tensor, steps: int, *,
                    lr: float, betas: tuple[float, float], eps: float, weight_decay: float,
                    decoupled: bool = True) -> Tensor:
    """Parameters after 0..steps hand-written AdamW (or Adam+L2) steps, shape (steps+1, *theta)."""
    step = adamw_step if decoupled else adam_l2_step
    theta, m, v = theta0.detach().clone(), torch.zeros_like(theta0), torch.zeros_like(theta0)
    path = [theta]
    for t in range(1, steps + 1):
        grad = torch.func.grad(loss_fn)(theta)
        theta, m, v = step(theta, grad, m, v, t, lr=lr, betas=betas, eps=eps,
                           weight_decay=weight_decay)
        path.append(theta)
    return torch.stack(path)


def torch_adamw_trajectory(loss_fn: Callable[[Tensor], Tensor], theta0: Tensor, steps: int, *,
                           lr: float, betas: tuple[float, float], eps: float,
                           weight_decay: float) -> Tensor:
    """Parameters after 0..steps of torch.optim.AdamW, shape (steps+1, *theta), for comparison."""
    theta = theta0.detach().clone().requires_grad_(True)
    opt = torch.optim.AdamW([theta], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                            amsgrad=False)
    path = [theta.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(theta).backward()
        opt.step()
        path.append(theta.detach().clone())
    return torch.stack(path)


# --- Multilingual joint loss ----------------------------------------------------------------

def joint_loss(losses: Sequence[Tensor], weights: Sequence[float]) -> Tensor:
    """sum_L w_L * losses[L]; linear, so it also combines per-language gradients the same way."""
    if len(losses) != len(weights) or not losses:
        raise ValueError(f"need one weight per loss: got {len(losses)} losses, "
                         f"{len(weights)} weights")
    return sum(w * loss for w, loss in zip(weights, losses, strict=True))


def temperature_weights(sizes: Sequence[float], temperature: float) -> np.ndarray:
    """Sampling probabilities p_L proportional to n_L^(1/T); T=1 proportional, T=inf uniform."""
    n = np.asarray(sizes, dtype=np.float64)
    if n.ndim != 1 or n.size == 0 or (n <= 0).any():
        raise ValueError(f"sizes must be a non-empty list of positive numbers, got {sizes!r}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    # Work in log space so that large corpora and small T do not overflow n^(1/T).
    logits = np.log(n) / temperature
    p = np.exp(logits - logits.max())
    return p / p.sum()


# --- Over-parameterised logistic regression, with and without decay -------------------------

def weight_decay_fit(n_train: int, n_features: int, n_test: int, steps: int, lr: float,
                     weight_decays: Sequence[float], seed: int = 0) -> pd.DataFrame:
    """Full-batch GD on logistic regression per decay; history of losses and ||w|| per step."""
    gen = torch.Generator().manual_seed(seed)
    w_true = torch.randn(n_features, generator=gen, dtype=torch.float64) / math.sqrt(n_features)
    x = torch.randn(n_train + n_test, n_features, generator=gen, dtype=torch.float64)
    # Labels are noisy draws from the true model, so a perfect training fit is overfitting.
    y = torch.bernoulli(torch.sigmoid(2.0 * x @ w_true), generator=gen)
    x_tr, y_tr, x_te, y_te = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    rows = []
    for wd in weight_decays:
        w = torch.zeros(n_features, dtype=torch.float64)
        for step in range(steps + 1):
            rows.append({
                "step": step, "train loss": logistic_loss(w, x_tr, y_tr).item(),
                "test loss": logistic_loss(w, x_te, y_te).item(),
                "weight norm": w.norm().item(), "setting": f"weight decay {wd:g}",
            })
            if step < steps:
                # Chain rule through z = x w: the BCE logit gradient of section 2, mapped by x^T.
                grad = x_tr.T @ bce_grad_logits(x_tr @ w, y_tr)
                w = sgd_weight_decay_step(w, grad, lr, wd)
    return pd.DataFrame(rows)
