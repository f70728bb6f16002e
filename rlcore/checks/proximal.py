"""Derivation checks of syllabus §3.9, PPO (Chapter 14): the clipped objective's case analysis (DC-69), the KL
estimators (DC-70), the KL penalty as a cross-entropy (DC-71) and the adaptive penalty coefficient (DC-72).

The clipped loss is compared with its closed form case by case and its autograd gradient with the predicted zero set;
the estimators' Monte Carlo means with the exact categorical KL; the two penalty gradients by automatic
differentiation of two different expressions; the adaptive rule on a simulated policy whose KL responds to the
coefficient.
"""

from __future__ import annotations

import numpy as np
import torch

from ..algos.ppo import adaptive_kl_coef, clipped_surrogate_loss
from ..tabular.information import kl_divergence
from .registry import MC_Z, Check, register

AD64 = 1e-10  # two float64 autograd routes to one gradient differ by rounding only


def clip_objective(ratio: np.ndarray, advantages: np.ndarray, clip_range: float) -> np.ndarray:
    """The case form of the per-sample clipped objective: ``min(rho, 1 + eps) A`` for ``A > 0`` and
    ``max(rho, 1 - eps) A`` for ``A < 0`` (Chapter 14, §14.1, eq. (eq-clip-cases))."""
    return np.where(advantages > 0, np.minimum(ratio, 1 + clip_range), np.maximum(ratio, 1 - clip_range)) * advantages


@register("DC-69", chapters=(14,))
def dc69_clip_case_analysis(clip_range: float = 0.2):
    """DC-69 (Chapter 14, §14.1): the clipped objective per sample equals its case form; its derivative in ``rho`` is
    zero exactly on ``{A > 0, rho > 1 + eps}`` and ``{A < 0, rho < 1 - eps}`` and ``A`` elsewhere; it is at most ``rho
    A`` and equals it on ``[1 - eps, 1 + eps]``; at ``rho = 1`` its gradient is the plain surrogate's."""
    grid = np.linspace(0.0, 2.0, 401)[1:]  # rho > 0, with the kinks 1 +- eps on the grid
    grid = grid[np.abs(np.abs(grid - 1) - clip_range) > 1e-9]  # the derivative is undefined at the kinks
    advantages = np.array([-2.0, -0.5, 0.7, 3.0])
    rho, A = (x.ravel() for x in np.meshgrid(grid, advantages))
    ratio = torch.tensor(rho, dtype=torch.float64, requires_grad=True)
    A_t = torch.tensor(A, dtype=torch.float64)
    per_sample = torch.stack([-clipped_surrogate_loss(ratio[i:i + 1], A_t[i:i + 1], clip_range)
                              for i in range(len(rho))])
    (grad,) = torch.autograd.grad(per_sample.sum(), ratio)
    grad = grad.numpy()
    values = per_sample.detach().numpy()
    flat = ((A > 0) & (rho > 1 + clip_range)) | ((A < 0) & (rho < 1 - clip_range))
    inside = np.abs(rho - 1) < clip_range
    # first order at rho = 1: a tiny softmax policy, both losses differentiated in the logits
    logits = torch.tensor([0.3, -0.2, 0.5], dtype=torch.float64, requires_grad=True)
    old = torch.log_softmax(logits, -1).detach()
    actions = torch.tensor([0, 1, 2, 2, 0])
    adv = torch.tensor([1.0, -0.5, 2.0, -1.0, 0.3], dtype=torch.float64)
    ratio_1 = torch.exp(torch.log_softmax(logits, -1)[actions] - old[actions])
    (g_clip,) = torch.autograd.grad(clipped_surrogate_loss(ratio_1, adv, clip_range), logits)
    ratio_1 = torch.exp(torch.log_softmax(logits, -1)[actions] - old[actions])
    (g_cpi,) = torch.autograd.grad(-(ratio_1 * adv).mean(), logits)
    return [
        Check("DC-69", "min(wA, clip(w)A) = min(w, 1+ε_clip)A for A > 0, max(w, 1−ε_clip)A for A < 0",
              "rlcore clipped_surrogate_loss", "case form", float(np.max(np.abs(values - clip_objective(rho, A,
                                                                                                 clip_range)))),
              AD64),
        Check("DC-69", "∂ℓ/∂w = 0 exactly on {A>0, w>1+ε_clip} ∪ {A<0, w<1−ε_clip}", "autograd", "0 there",
              float(np.max(np.abs(grad[flat]))), 0.0),
        Check("DC-69", "… and ∂ℓ/∂w = A everywhere else (also for w < 1−ε_clip when A > 0)", "autograd", "A",
              float(np.max(np.abs(grad[~flat] - A[~flat]))), AD64),
        Check("DC-69", "ℓ ≤ wA (pessimism)", "ℓ − wA", "≤ 0", float(np.max(values - rho * A)), 0.0, "violation"),
        Check("DC-69", "ℓ = wA on (1−ε_clip, 1+ε_clip)", "ℓ", "wA",
              float(np.max(np.abs(values[inside] - (rho * A)[inside]))), AD64),
        Check("DC-69", "at w = 1 the clipped loss has the plain surrogate's gradient", "∇ of L^CLIP", "∇ of L^CPI",
              float(torch.max(torch.abs(g_clip - g_cpi))), AD64),
    ]


@register("DC-70", chapters=(14,))
def dc70_kl_estimators(seed: int = 70, samples: int = 1_000_000):
    """DC-70 (Chapter 14, §14.3, eq. (eq-kl-estimators)): with ``a ~ pi_old`` and ``r = pi_new(a) / pi_old(a)``, ``k1 =
    -log r`` and ``k3 = (r - 1) - log r`` are unbiased for ``KL(pi_old || pi_new)``; ``k3 >= 0`` always, while a batch
    mean of ``k1`` can be negative; near ``r = 1`` the variance of ``k3`` is far below that of ``k1``."""
    rng = np.random.default_rng(seed)
    rows = []
    variance_ratio = []
    for scale in (0.05, 0.5):  # a close and a far pair of categorical distributions
        old = rng.dirichlet(np.ones(5))
        new = np.exp(np.log(old) + scale * rng.normal(size=5))
        new /= new.sum()
        exact = float(kl_divergence(old, new))
        actions = rng.choice(5, size=samples, p=old)
        log_r = np.log(new[actions]) - np.log(old[actions])
        k1, k3 = -log_r, np.expm1(log_r) - log_r
        for name, k in (("k1", k1), ("k3", k3)):
            z = abs(k.mean() - exact) / (k.std(ddof=1) / np.sqrt(samples))
            rows.append(Check("DC-70", f"{name} is unbiased (log-ratio scale {scale})", f"mean of {name}, 1e6 samples",
                              f"exact KL {exact:.2e}", float(z), MC_Z, "z"))
        variance_ratio.append(k3.var() / k1.var())
        if scale == 0.05:
            small_batches = k1[: 1000 * 100].reshape(1000, 100).mean(axis=1)
            negative_share = float(np.mean(small_batches < 0))
            k3_min = float(k3.min())
    return rows + [
        Check("DC-70", "k3 ≥ 0 on every sample", "min k3", "≥ 0", -k3_min, 0.0, "violation"),
        Check("DC-70", "a mean of 100 k1 samples is often negative (close policies)", "share of negative means",
              "> 0.2", 0.2 - negative_share, 0.0, "violation"),
        Check("DC-70", "close policies: var k3 / var k1 < 0.1", "variance ratio", "< 0.1", variance_ratio[0] - 0.1,
              0.0, "violation"),
    ]


@register("DC-71", chapters=(14,))
def dc71_penalty_as_cross_entropy(seed: int = 71):
    """DC-71 (Chapter 14, §14.2, eq. (eq-kl-cross-entropy)): ``grad_theta KL(pi_old || pi_theta) = grad_theta E_{a ~
    pi_old}[-log pi_theta(a)]``: the old policy's entropy, the other part of the KL, does not depend on ``theta``."""
    generator = torch.Generator().manual_seed(seed)
    old = torch.softmax(torch.randn(4, 3, generator=generator, dtype=torch.float64), -1)
    logits = torch.randn(4, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    log_new = torch.log_softmax(logits, -1)
    (g_kl,) = torch.autograd.grad((old * (old.log() - log_new)).sum(-1).mean(), logits)
    log_new = torch.log_softmax(logits, -1)
    (g_ce,) = torch.autograd.grad(-(old * log_new).sum(-1).mean(), logits)
    return [Check("DC-71", "∇KL(π_old‖π_θ) = ∇ cross-entropy E_old[−log π_θ]", "autograd of the KL",
                  "autograd of the cross-entropy", float(torch.max(torch.abs(g_kl - g_ce))), AD64)]


def simulate_adaptive_penalty(power: int, seed: int = 72, iterations: int = 400, target: float = 0.01):
    """The adaptive rule on a simulated policy whose update has KL ``c / beta^power`` times log-normal noise, with
    ``c`` drifting over training; returns the KLs divided by the target after a burn-in of 50 (Chapter 14, §14.2)."""
    rng = np.random.default_rng(seed)
    beta, ratios = 1.0, []
    for k in range(iterations):
        c = target * 5**(power - 1) * (1 + 0.5 * np.sin(k / 50))  # the gradient's size drifts over training
        kl = c / beta**power * np.exp(0.3 * rng.normal())
        if k >= 50:
            ratios.append(kl / target)
        beta = adaptive_kl_coef(beta, kl, target)
    return np.array(ratios)


@register("DC-72", chapters=(14,))
def dc72_adaptive_penalty(seed: int = 72):
    """DC-72 (Chapter 14, §14.2): the adaptive rule (``beta`` doubles when the KL exceeds ``1.5 d_targ`` and halves
    below ``d_targ / 1.5``) keeps the median KL on target. When the update's KL halves as ``beta`` doubles (``KL ~ 1 /
    beta``, a few first-order steps), most iterations stay within ``[d_targ / 1.5, 1.5 d_targ]``; when the update
    reaches the penalised maximum (``KL ~ 1 / beta^2``) each change of ``beta`` moves the KL fourfold, past the band,
    and fewer do. Some iterations fall outside in both, as the PPO paper says."""
    inside = {}
    for power in (1, 2):
        ratios = simulate_adaptive_penalty(power, seed)
        inside[power] = float(np.mean((ratios >= 1 / 1.5) & (ratios <= 1.5)))
        median = abs(float(np.log(np.median(ratios))))
    return [
        Check("DC-72", "KL ~ 1/β_KL: most iterations after burn-in keep KL within [δ/1.5, 1.5 δ]", "share inside",
              "> 0.5", 0.5 - inside[1], 0.0, "violation"),
        Check("DC-72", "KL ~ 1/β_KL²: fewer do (the factor 2 on β_KL moves the KL fourfold)", "share inside",
              "< share for KL ~ 1/β_KL", inside[2] - inside[1], 0.0, "violation"),
        Check("DC-72", "… but not all (the rule reacts after the fact)", "share outside, KL ~ 1/β_KL", "> 0",
              inside[1] - 1.0 + 1e-12, 0.0, "violation"),
        Check("DC-72", "KL ~ 1/β_KL²: the median KL is still within a factor 1.5 of the target", "|log median(KL/δ)|",
              "≤ log 1.5", median - np.log(1.5), 0.0, "violation"),
    ]
