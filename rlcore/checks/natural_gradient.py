"""Derivation checks of syllabus §3.7, the natural policy gradient (Chapter 11): DC-42, DC-52 ... DC-55.

The closed-form step is compared with the optimality conditions and with random search over the trust region;
invariance under a change of coordinates with automatic differentiation of the exact objective in both
coordinate systems; the sigmoid example with exact KLs.
"""

from __future__ import annotations

import numpy as np
import torch

from ..tabular import exact
from ..tabular import information as info
from ..tabular.builders import two_state_mdp
from ..tabular.natural import natural_direction, natural_gradient_step
from ..tabular.policy_gradient import softmax_fisher, softmax_policy
from .information import AD64
from .registry import BOUND_SLACK, EXACT64, Check, register


def random_spd(rng: np.random.Generator, n: int, condition: float = 100.0) -> np.ndarray:
    """A random symmetric positive-definite ``n x n`` matrix with eigenvalues from 1 to ``condition``
    (Chapter 11, §11.2)."""
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return Q @ np.diag(np.geomspace(1.0, condition, n)) @ Q.T


@register("DC-42", chapters=(11,))
def dc42_singular_softmax_fisher(seed: int = 42):
    """DC-42 (Chapter 11, §11.3): ``F = diag(p) - p p^T`` has the null vector ``1`` and rank ``K - 1``; the damped
    direction ``(F + lam I)^{-1} g`` tends to the pseudo-inverse direction ``F^+ g`` as ``lam -> 0``
    (Chapter 10, §10.7, eq. (eq-softmax-fisher))."""
    rng = np.random.default_rng(seed)
    p = softmax_policy(rng.normal(size=(1, 6)))[0]
    F = softmax_fisher(p)
    eigenvalues, eigenvectors = np.linalg.eigh(F)
    null = eigenvectors[:, np.argmin(np.abs(eigenvalues))]
    g = F @ rng.normal(size=6)  # a gradient of a softmax objective lies in the range of F
    pinv = natural_direction(g, F)
    gaps = [np.max(np.abs(natural_direction(g, F, lam) - pinv)) for lam in (1e-4, 1e-6, 1e-8)]
    return [
        Check("DC-42", "F 1 = 0", "(diag(p) − ppᵀ) 1", "0", float(np.max(np.abs(F @ np.ones(6)))), EXACT64),
        Check("DC-42", "rank K − 1: one zero eigenvalue, its eigenvector ∝ 1", "eigen-decomposition", "1/√K",
              float(max(np.sort(np.abs(eigenvalues))[0], np.max(np.abs(np.abs(null) - 1 / np.sqrt(6))))), EXACT64),
        Check("DC-42", "the other K − 1 eigenvalues are positive", "smallest nonzero eigenvalue", "> 0",
              float(-np.sort(np.abs(eigenvalues))[1]), 0.0, "violation"),
        # the damped direction differs from F^+ g by O(lam): 1e-8 damping leaves ~1e-7 on this F
        Check("DC-42", "(F + λI)⁻¹g → F⁺g as λ → 0 (λ = 1e-8)", "damped solve", "pseudo-inverse", float(gaps[-1]),
              1e-6),
        Check("DC-42", "… and the gap shrinks with λ (1e-4, 1e-6, 1e-8)", "successive gaps", "decreasing",
              float(max(gaps[1] - gaps[0], gaps[2] - gaps[1])), 0.0, "violation"),
    ]


@register("DC-52", chapters=(11,))
def dc52_npg_closed_form(seed: int = 52, n_random: int = 200_000):
    """DC-52 (Chapter 11, §11.2): ``argmax g^T Delta`` subject to ``1/2 Delta^T F Delta <= delta`` is eq.
    (eq-npg-step), with multiplier ``lam = sqrt(g^T F^{-1} g / (2 delta))`` and value ``sqrt(2 delta g^T F^{-1} g)``;
    checked by the optimality conditions and by random search."""
    rng = np.random.default_rng(seed)
    n, delta = 4, 0.01
    F, g = random_spd(rng, n), rng.normal(size=n)
    step = natural_gradient_step(g, F, delta)
    gFg = g @ np.linalg.solve(F, g)
    lam = np.sqrt(gFg / (2 * delta))
    # random points spread evenly over the boundary 1/2 u^T F u = delta (a linear objective peaks there): unit
    # vectors mapped through F^{-1/2}, from an eigen-decomposition
    eigenvalues, Q = np.linalg.eigh(F)
    z = rng.normal(size=(n_random, n))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    u = np.sqrt(2 * delta) * z @ (Q / np.sqrt(eigenvalues)).T
    best = float(np.max(u @ g))
    without_half = natural_gradient_step(g, 2 * F, delta)  # source 004: Delta^T F Delta <= delta
    return [
        Check("DC-52", "the constraint is active: ½ΔᵀFΔ = δ", "½ΔᵀFΔ", "δ", abs(0.5 * step @ F @ step - delta),
              EXACT64),
        Check("DC-52", "stationarity: g = λ F Δ with λ = √(gᵀF⁻¹g / 2δ)", "g", "λ F Δ",
              float(np.max(np.abs(g - lam * F @ step))), EXACT64),
        Check("DC-52", "value gᵀΔ = √(2δ gᵀF⁻¹g)", "gᵀΔ", "closed form", abs(g @ step - np.sqrt(2 * delta * gFg)),
              EXACT64),
        Check("DC-52", f"no feasible point does better ({n_random:,} random points)", "max gᵀΔ over samples",
              "gᵀΔ*", best - float(g @ step), -BOUND_SLACK, "violation"),
        # 2e5 boundary points in 4 dimensions come within ~1e-3 relative of the optimum; 1e-2 rejects a wrong
        # closed form, which misses the optimum by more
        Check("DC-52", "… and random search comes close to it", "max over samples", "gᵀΔ*",
              1 - best / float(g @ step), 0.01),
        Check("DC-52", "dropping the ½ (source 004) gives KL ≈ δ/2", "½ΔᵀFΔ of that step", "δ/2",
              abs(0.5 * without_half @ F @ without_half - delta / 2), EXACT64),
    ]


@register("DC-53", chapters=(11, 13))
def dc53_euclidean_and_x_form(seed: int = 53, n_random: int = 200_000):
    """DC-53 (Chapter 11, §11.2): ``max g^T Delta`` subject to ``|Delta|^2 <= eps`` is ``sqrt(eps) g / |g|``;
    ``sqrt(2 delta / (x^T F x)) x = sqrt(2 delta / (g^T F^{-1} g)) F^{-1} g`` for ``x = F^{-1} g``."""
    rng = np.random.default_rng(seed)
    n, eps, delta = 4, 0.04, 0.01
    g, F = rng.normal(size=n), random_spd(rng, n)
    euclid = np.sqrt(eps) * g / np.linalg.norm(g)
    u = rng.normal(size=(n_random, n))
    u *= np.sqrt(eps) / np.linalg.norm(u, axis=1, keepdims=True)
    x = np.linalg.solve(F, g)
    return [
        Check("DC-53", "Euclidean step √ε g/‖g‖: no point of the ball does better", "max over 2e5 boundary points",
              "gᵀΔ*", float(np.max(u @ g) - g @ euclid), -BOUND_SLACK, "violation"),
        Check("DC-53", "x-form of the step equals the g-form", "√(2δ/xᵀFx) x", "√(2δ/gᵀF⁻¹g) F⁻¹g",
              float(np.max(np.abs(np.sqrt(2 * delta / (x @ F @ x)) * x - natural_gradient_step(g, F, delta)))),
              EXACT64),
    ]


def _two_logit_objective(mdp, theta: torch.Tensor) -> torch.Tensor:
    """``J`` of ``pi(a=1|s) = sigmoid(theta_s)`` on a two-action MDP, differentiable (a linear solve in torch)."""
    P, r, rho0 = (torch.tensor(x) for x in (mdp.P, mdp.r, mdp.rho0))  # copies: the MDP's arrays are read-only
    u = torch.sigmoid(theta)
    pi = torch.stack([1 - u, u], dim=1)
    P_pi = torch.einsum("sa,sat->st", pi, P)
    V = torch.linalg.solve(torch.eye(len(theta), dtype=P.dtype) - mdp.gamma * P_pi, (pi * r).sum(1))
    return rho0 @ V


def _two_logit_mean_kl(mdp, theta_old: np.ndarray):
    """``theta -> sum_s d^old(s) KL(pi_old(.|s) || pi_theta(.|s))`` in torch, for ``pi(a=1|s) = sigmoid(theta_s)``."""
    u_old = 1 / (1 + np.exp(-theta_old))
    pi_old = torch.from_numpy(np.stack([1 - u_old, u_old], axis=1))
    d = torch.from_numpy(exact.occupancy(mdp, pi_old.numpy()))

    def kl(theta):
        u = torch.sigmoid(theta)
        log_pi = torch.log(torch.stack([1 - u, u], dim=1))
        return (d * (pi_old * (pi_old.log() - log_pi)).sum(1)).sum()
    return kl


def reparametrised_steps(mdp, theta: np.ndarray, A: np.ndarray, step_size: float, delta: float) -> dict:
    """Vanilla and natural steps taken in ``theta`` and in ``phi = A theta``, mapped back to ``theta``, with
    gradients and Fisher matrices from automatic differentiation in each coordinate system (Chapter 11, §11.4)."""
    A_inv = np.linalg.inv(A)
    A_inv_t = torch.from_numpy(A_inv)
    out = {}
    for name, to_theta, coords in (("theta", lambda z: z, theta), ("phi", lambda z: A_inv_t @ z, A @ theta)):
        z = torch.from_numpy(np.asarray(coords, float))
        grad = torch.autograd.functional.jacobian(lambda v: _two_logit_objective(mdp, to_theta(v)), z).numpy()
        kl = _two_logit_mean_kl(mdp, theta)
        fisher = torch.autograd.functional.hessian(lambda v: kl(to_theta(v)), z).numpy()
        back = A_inv if name == "phi" else np.eye(len(theta))
        out[f"vanilla_{name}"] = back @ (step_size * grad)
        out[f"natural_{name}"] = back @ natural_gradient_step(grad, fisher, delta)
    return out


@register("DC-54", chapters=(11,))
def dc54_reparametrisation(seed: int = 54):
    """DC-54 (Chapter 11, §11.4): with ``phi = A theta`` the vanilla step changes (``alpha (A^T A)^{-1} grad``
    in ``theta``-coordinates) while the natural step does not (eq. (eq-npg-invariance))."""
    rng = np.random.default_rng(seed)
    mdp = two_state_mdp(0.9)
    theta = rng.normal(size=2)
    A = rng.normal(size=(2, 2)) + 2 * np.eye(2)
    steps = reparametrised_steps(mdp, theta, A, 0.5, 1e-3)
    grad = torch.autograd.functional.jacobian(lambda v: _two_logit_objective(mdp, v), torch.from_numpy(theta)).numpy()
    predicted = 0.5 * np.linalg.solve(A.T @ A, grad)
    return [
        Check("DC-54", "natural steps agree: A⁻¹Δφ_nat = Δθ_nat", "step in φ, mapped back", "step in θ",
              float(np.max(np.abs(steps["natural_phi"] - steps["natural_theta"]))), AD64),
        Check("DC-54", "vanilla steps differ (by more than 10%)", "step in φ, mapped back", "step in θ",
              0.1 - float(np.linalg.norm(steps["vanilla_phi"] - steps["vanilla_theta"])
                          / np.linalg.norm(steps["vanilla_theta"])), 0.0, "violation"),
        Check("DC-54", "the vanilla step in φ is α(AᵀA)⁻¹∇θJ in θ", "autograd in φ, mapped back", "closed form",
              float(np.max(np.abs(steps["vanilla_phi"] - predicted))), AD64),
    ]


def sigmoid_kl(theta, step) -> np.ndarray:
    """``KL(pi_theta || pi_{theta + step})`` for ``pi(a=1) = sigmoid(theta)``, exactly (Chapter 11, §11.1)."""
    theta, step = np.broadcast_arrays(np.asarray(theta, float), np.asarray(step, float))
    u, v = 1 / (1 + np.exp(-theta)), 1 / (1 + np.exp(-(theta + step)))
    return info.kl_divergence(np.stack([1 - u, u], -1), np.stack([1 - v, v], -1))


@register("DC-55", chapters=(11,))
def dc55_sigmoid_example():
    """DC-55 (Chapter 11, §11.1): for ``pi(a=1) = sigmoid(theta)`` the KL of a step ``Delta = 0.5`` is close to
    ``1/2 u (1 - u) Delta^2`` and varies 40-fold over ``theta``; the natural step ``sqrt(2 delta / F)`` keeps the KL
    near ``delta`` everywhere."""
    thetas = np.linspace(-6, 6, 241)
    u = 1 / (1 + np.exp(-thetas))
    fisher = u * (1 - u)
    kl_fixed = sigmoid_kl(thetas, 0.5)
    delta = 1e-4
    kl_natural = sigmoid_kl(thetas, np.sqrt(2 * delta / fisher))
    at0, at5 = sigmoid_kl(0.0, 0.5), sigmoid_kl(5.0, 0.5)
    u5 = 1 / (1 + np.exp(-5.0))
    return [
        # the cubic remainder: relative error ~|Delta| |F'''| / F ~ 1e-2 at theta = 0, larger where F is tiny
        Check("DC-55", "θ = 0, Δ = 0.5: KL = 0.0309 vs ½F Δ² = 0.03125", "exact KL", "quadratic model",
              abs(at0 - 0.125 * 0.25) / at0, 0.02),
        Check("DC-55", "θ = 5, Δ = 0.5: KL = 7.1e-4 vs ½F Δ² = 8.3e-4, a worse model where F is small",
              "relative error at θ = 5", "relative error at θ = 0",
              abs(at0 - 0.125 * 0.25) / at0 - abs(at5 - 0.5 * u5 * (1 - u5) * 0.25) / at5, 0.0, "violation"),
        Check("DC-55", "fixed Δ = 0.5: the KL varies more than 40-fold over θ ∈ [−6, 6]", "max KL / min KL", "40",
              40 - float(kl_fixed.max() / kl_fixed.min()), 0.0, "violation"),
        # with delta = 1e-4 the natural step is at most 0.4 long; the cubic term moves the KL by < 15%
        Check("DC-55", "natural step √(2δ/F): KL within 15% of δ for every θ", "exact KL of the step", "δ = 1e-4",
              float(np.max(np.abs(kl_natural / delta - 1))), 0.15),
    ]
