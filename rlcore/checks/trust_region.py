"""Derivation checks of syllabus §3.7 for TRPO (Chapter 13): the Fisher matrix as ``J^T M J`` (DC-45), Pearlmutter's
Hessian-vector product (DC-46), steepest descent and conjugate gradient on quadratics (DC-56, DC-57) and the
backtracking line search (DC-58).

Fisher matrices are built three ways (score outer products summed exactly over actions, the autograd Hessian of the
mean KL, and ``J^T M J``); Hessian-vector products against explicit Hessians; the solvers against
``numpy.linalg.solve`` and their textbook properties.
"""

from __future__ import annotations

import numpy as np
import torch

from ..base.quadratic import conjugate_gradient, conjugate_gradient_history, steepest_descent
from ..distributions.geometry import backtracking_line_search, fisher_vector_product, flat_grad
from ..fixtures import line_search_setting
from ..tabular.natural import natural_gradient_step
from ..tabular.policy_gradient import softmax_fisher
from .information import AD64, TinyGaussianPolicy
from .natural_gradient import random_spd
from .registry import BOUND_SLACK, Check, register


def tiny_categorical_logits(flat: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """A 2-6-3 tanh network's logits for a batch of states, its 39 parameters given as one vector
    (Chapter 13, §13.2)."""
    w1, b1, w2, b2 = torch.split(flat, [12, 6, 18, 3])
    return torch.tanh(states @ w1.reshape(6, 2).T + b1) @ w2.reshape(3, 6).T + b2


@register("DC-45", chapters=(13,))
def dc45_fisher_three_ways(seed: int = 45):
    """DC-45 (Chapter 13, §13.2): ``F = E_s[J_s^T M_s J_s]`` with ``M = diag(p) - p p^T`` for softmax logits and
    ``M = diag(1/sigma^2, 2)`` for a Gaussian's ``(mu, log sigma)``, against score outer products and the Hessian of
    the mean KL."""
    generator = torch.Generator().manual_seed(seed)
    flat = torch.randn(39, generator=generator, dtype=torch.float64) * 0.5
    states = torch.randn(5, 2, generator=generator, dtype=torch.float64)
    old_logits = tiny_categorical_logits(flat, states).detach()
    old_p = torch.softmax(old_logits, -1)
    jac = torch.autograd.functional.jacobian(lambda f: tiny_categorical_logits(f, states), flat).numpy()  # (5, 3, 39)
    jmj = sum(jac[i].T @ softmax_fisher(old_p[i].numpy()) @ jac[i] for i in range(5)) / 5

    def mean_kl_of(f):
        log_new = torch.log_softmax(tiny_categorical_logits(f, states), -1)
        return (old_p * (old_p.log() - log_new)).sum(-1).mean()

    hessian = torch.autograd.functional.hessian(mean_kl_of, flat).numpy()
    scores = np.zeros((39, 39))
    for a in range(3):  # exact expectation over the three actions
        jac_a = torch.autograd.functional.jacobian(lambda f, a=a: torch.log_softmax(
            tiny_categorical_logits(f, states), -1)[:, a], flat).numpy()  # (5, 39)
        scores += np.einsum("i,ij,ik->jk", old_p[:, a].numpy(), jac_a, jac_a) / 5
    policy = TinyGaussianPolicy(seed)
    g_flat = policy.flat()
    g_states = torch.randn(4, 2, generator=generator, dtype=torch.float64)
    mean_jac = torch.autograd.functional.jacobian(lambda f: policy(g_states, f)[0], g_flat).numpy()  # (4, 33)
    log_std_jac = torch.autograd.functional.jacobian(lambda f: policy(g_states, f)[1], g_flat).numpy()
    sigma2 = float(policy.log_std.detach().exp() ** 2)
    gauss_jmj = sum(np.outer(mean_jac[i], mean_jac[i]) / sigma2 + 2 * np.outer(log_std_jac[i], log_std_jac[i])
                    for i in range(4)) / 4
    old_mean, old_log_std = (x.detach() for x in policy(g_states, g_flat))

    def gaussian_kl(f):
        mean, log_std = policy(g_states, f)
        return (log_std - old_log_std + ((2 * old_log_std).exp() + (old_mean - mean) ** 2)
                / (2 * (2 * log_std).exp()) - 0.5).mean()

    gauss_hessian = torch.autograd.functional.hessian(gaussian_kl, g_flat).numpy()
    return [
        Check("DC-45", "categorical MLP: JᵀMJ = Hessian of the mean KL", "JᵀMJ, M = diag(p) − ppᵀ",
              "autograd Hessian", float(np.max(np.abs(jmj - hessian))), AD64),
        Check("DC-45", "categorical MLP: JᵀMJ = E[score scoreᵀ]", "JᵀMJ", "exact sum over actions",
              float(np.max(np.abs(jmj - scores))), AD64),
        Check("DC-45", "Gaussian MLP: JᵀMJ with M = diag(1/σ², 2) = Hessian of the mean KL", "JᵀMJ",
              "autograd Hessian", float(np.max(np.abs(gauss_jmj - gauss_hessian))), AD64),
    ]


@register("DC-46", chapters=(13,))
def dc46_pearlmutter(seed: int = 46):
    """DC-46 (Chapter 13, §13.2): ``grad(grad f . v) = (Hessian f) v`` for a constant ``v``; the Fisher-vector product
    of the mean KL equals ``F v``; a ``v`` that depends on the parameters adds ``(dv/dtheta)^T grad f``."""
    generator = torch.Generator().manual_seed(seed)
    flat = torch.randn(39, generator=generator, dtype=torch.float64) * 0.5
    states = torch.randn(5, 2, generator=generator, dtype=torch.float64)
    v = torch.randn(39, generator=generator, dtype=torch.float64)

    def f(x):
        return torch.logsumexp(tiny_categorical_logits(x, states), -1).mean()  # any smooth scalar

    H = torch.autograd.functional.hessian(f, flat).numpy()
    x = flat.clone().requires_grad_(True)
    hvp = flat_grad(flat_grad(f(x), [x], create_graph=True) @ v, [x]).numpy()
    old_p = torch.softmax(tiny_categorical_logits(flat, states), -1).detach()

    def mean_kl_of(z):
        return (old_p * (old_p.log() - torch.log_softmax(tiny_categorical_logits(z, states), -1))).sum(-1).mean()

    y = flat.clone().requires_grad_(True)
    fvp = fisher_vector_product(lambda: mean_kl_of(y), [y], v).numpy()
    F = torch.autograd.functional.hessian(mean_kl_of, flat).numpy()
    z = flat.clone().requires_grad_(True)
    v_attached = torch.tanh(z) * v  # a vector that depends on the parameters
    g = flat_grad(f(z), [z], create_graph=True)
    wrong = flat_grad(g @ v_attached, [z]).numpy()
    grad_f = torch.autograd.functional.jacobian(f, flat).numpy()
    extra = (1 - np.tanh(flat.numpy()) ** 2) * v.numpy() * grad_f  # (dv/dtheta)^T grad f, dv/dtheta diagonal here
    right = H @ (np.tanh(flat.numpy()) * v.numpy())
    return [
        Check("DC-46", "∇(∇f·v) = H v for a constant v", "double backward", "explicit Hessian times v",
              float(np.max(np.abs(hvp - H @ v.numpy()))), AD64),
        Check("DC-46", "Fisher-vector product = F v (mean KL, 39 parameters)", "rlcore fisher_vector_product",
              "explicit Hessian of the KL times v", float(np.max(np.abs(fvp - F @ v.numpy()))), AD64),
        Check("DC-46", "v attached to the graph adds (∂v/∂θ)ᵀ∇f", "double backward", "H v + (∂v/∂θ)ᵀ∇f",
              float(np.max(np.abs(wrong - (right + extra)))), AD64),
        Check("DC-46", "… which is not H v (the extra term is > 1e-3)", "double backward", "H v",
              1e-3 - float(np.max(np.abs(wrong - right))), 0.0, "violation"),
    ]


@register("DC-56", chapters=(13,))
def dc56_steepest_descent(seed: int = 56):
    """DC-56 (Chapter 13, §13.1): steepest descent with exact line searches on ``1/2 x^T A x - b^T x`` converges to
    ``A^{-1} b``; successive residuals are orthogonal; the energy-norm error contracts by at most
    ``(kappa - 1)/(kappa + 1)`` per step."""
    rng = np.random.default_rng(seed)
    A, b = random_spd(rng, 8, condition=20.0), rng.normal(size=8)
    x_star = np.linalg.solve(A, b)
    run = steepest_descent(A, b, 400)
    errors = run["x"] - x_star
    energy = np.sqrt(np.einsum("ki,ij,kj->k", errors, A, errors))
    kappa = np.linalg.cond(A)
    rate = (kappa - 1) / (kappa + 1)
    r = run["r"]
    cosines = np.abs(np.sum(r[1:] * r[:-1], axis=1)) / (np.linalg.norm(r[1:], axis=1) * np.linalg.norm(r[:-1], axis=1)
                                                         + 1e-300)
    active = energy[:-1] > 1e-6 * energy[0]  # near rounding level the residuals' directions are noise
    return [
        Check("DC-56", "converges to A⁻¹b (400 steps, κ = 20)", "steepest descent", "numpy solve",
              float(np.max(np.abs(run["x"][-1] - x_star))), 1e-9),
        # a residual recomputed as b - A x carries rounding ~1e-16 |b|; at |r| >= 1e-6 |b| the cosine's error is < 1e-9
        Check("DC-56", "successive residuals are orthogonal (the zig-zag)", "|cos(r_k, r_k+1)|", "0",
              float(np.max(cosines[active[: len(cosines)]])), 1e-8),
        Check("DC-56", "energy error shrinks by ≤ (κ−1)/(κ+1) per step", "‖e_k+1‖_A / ‖e_k‖_A", "(κ−1)/(κ+1)",
              float(np.max(energy[1:][active] / energy[:-1][active] - rate)), -BOUND_SLACK, "violation"),
    ]


@register("DC-57", chapters=(13,))
def dc57_conjugate_gradient(seed: int = 57):
    """DC-57 (Chapter 13, §13.1): conjugate gradient's directions are ``A``-conjugate and its residuals orthogonal; it
    is exact after ``n`` steps, or after as many steps as ``A`` has distinct eigenvalues; its two ``beta`` formulas
    agree; it converges for a singular PSD ``A`` with ``b`` in its range."""
    rng = np.random.default_rng(seed)
    n = 20
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    # eigenvalues spread evenly over [1, 1e3]; geometric spacing makes floating-point CG lose orthogonality and
    # need more than n steps, a known effect of rounding that exact arithmetic does not have
    A, b = Q @ np.diag(np.linspace(1.0, 1e3, n)) @ Q.T, rng.normal(size=n)
    run = conjugate_gradient_history(A, b)
    p, r = run["p"], run["r"]
    conj = np.abs(p @ A @ p.T)
    conj_off = np.max((conj - np.diag(np.diag(conj))) / np.sqrt(np.outer(np.diag(conj), np.diag(conj))))
    rr = np.abs(r[:-1] @ r[:-1].T)
    norms = np.sqrt(np.diag(rr))
    orth_off = np.max((rr - np.diag(np.diag(rr))) / np.outer(norms, norms))
    three = Q @ np.diag(np.repeat([1.0, 5.0, 30.0], [7, 7, 6])) @ Q.T
    after3 = conjugate_gradient_history(three, b, iters=3)["x"][-1]
    torch_three = conjugate_gradient(lambda v: torch.from_numpy(three) @ v, torch.from_numpy(b), iters=3,
                                     tol=0.0).numpy()
    w = np.r_[np.zeros(3), np.geomspace(1, 100, n - 3)]
    singular = Q @ np.diag(w) @ Q.T
    b_range = singular @ rng.normal(size=n)
    x_singular = conjugate_gradient_history(singular, b_range, iters=n)["x"][-1]
    scale = np.linalg.norm(b)
    return [
        # directions and residuals lose orthogonality slowly in floating point; 1e-6 relative at kappa = 1e3, n = 20
        Check("DC-57", "directions are A-conjugate", "max |p_iᵀAp_j| / (‖p_i‖_A‖p_j‖_A), i ≠ j", "0",
              float(conj_off), 1e-6),
        Check("DC-57", "residuals are mutually orthogonal", "max |cos(r_i, r_j)|, i ≠ j", "0", float(orth_off), 1e-6),
        Check("DC-57", "exact after n = 20 steps (κ = 1e3)", "‖A x_n − b‖ / ‖b‖", "0",
              float(np.linalg.norm(A @ run["x"][-1] - b) / scale), 1e-10),
        Check("DC-57", "three distinct eigenvalues: exact after 3 steps", "‖A x_3 − b‖ / ‖b‖", "0",
              float(np.linalg.norm(three @ after3 - b) / scale), 1e-10),
        Check("DC-57", "… also TRPO's matrix-free solver", "rlcore conjugate_gradient, 3 iterations",
              "numpy solve", float(np.max(np.abs(torch_three - np.linalg.solve(three, b)))), 1e-10),
        # compared while the residual is far above rounding (the first 15 of 20 steps)
        Check("DC-57", "β = rᵀr/rᵀr_prev = −rᵀAp/pᵀAp", "the ratio form", "the conjugacy form",
              float(np.max(np.abs(run["beta"][:15] - run["beta_conjugacy"][:15]) / np.abs(run["beta"][:15]))), 1e-8),
        Check("DC-57", "singular PSD A, b in its range: converges", "‖A x − b‖ / ‖b‖ after n steps", "0",
              float(np.linalg.norm(singular @ x_singular - b_range) / np.linalg.norm(b_range)), 1e-8),
    ]


@register("DC-58", chapters=(13,))
def dc58_line_search(seed: int = 30):
    """DC-58 (Chapter 13, §13.3): with a large ``delta`` the full natural step breaks the exact KL constraint, and
    backtracking returns the first ``j`` whose step ``0.5^j Delta`` meets both ``KL <= delta`` and a positive
    surrogate gain; with a small ``delta`` the full step's KL is ``delta (1 + O(sqrt(delta)))`` and at most one
    halving is needed."""
    theta, g, F, kl, gain = line_search_setting(seed)
    rows = []
    for delta in (0.5, 1e-3, 1e-4):
        step = natural_gradient_step(g, F, delta, damping=1e-8)

        def accept(candidate, delta=delta):
            x = candidate.numpy()
            return kl(x) <= delta and gain(x) > 0

        _, j = backtracking_line_search(accept, torch.from_numpy(theta.ravel()), torch.from_numpy(step),
                                        max_iter=16)
        first = next(k for k in range(16) if kl(theta.ravel() + 0.5**k * step) <= delta
                     and gain(theta.ravel() + 0.5**k * step) > 0)
        rows.append((delta, kl(theta.ravel() + step), j, first))
    (big, kl_big, j_big, first_big), (small, kl_small, j_small, first_small), (tiny, kl_tiny, _, _) = rows
    return [
        Check("DC-58", f"δ = {big}: the full step violates KL ≤ δ", "exact mean KL of the full step", "δ",
              big - kl_big, 0.0, "violation"),
        Check("DC-58", "… and the line search returns the first acceptable j", "backtracking_line_search",
              "first j by enumeration", float(j_big != first_big or j_big == 0), 0.0),
        Check("DC-58", f"δ = {small}: at most one halving", "j", "≤ 1", float(j_small > 1 or j_small != first_small),
              0.0),
        # the model's error is third order: the relative KL error should shrink by ~sqrt(10) from 1e-3 to 1e-4
        Check("DC-58", "the full step's KL / δ − 1 shrinks like √δ", "at δ = 1e-4, times √10", "at δ = 1e-3",
              abs(kl_tiny / tiny - 1) * np.sqrt(10) - abs(kl_small / small - 1) * 1.2, 0.0, "violation"),
    ]
