"""The natural policy gradient, exactly, in numpy (Chapter 11).

The step that maximises the linearised objective ``g^T Delta`` inside the quadratic trust region
``1/2 Delta^T F Delta <= delta`` (the KL's second-order model of Chapter 10) has a closed form; this module
computes it for any ``g`` and ``F``, and runs exact natural and vanilla gradient ascent on the tabular softmax
policies of Chapter 6 and on the one-logit-per-state policies of §11.4, whose Fisher matrix is diagonal.
"""

from __future__ import annotations

import numpy as np

from ..base import validate
from .exact import advantages, expected_return, occupancy, require_mdp
from .improvement import surrogate_advantage, surrogate_logit_gradient
from .information import mean_kl
from .mdp import FiniteMDP
from .policy_gradient import policy_fisher, softmax_policy, softmax_policy_gradient


def _gradient_and_fisher(g, F) -> tuple[np.ndarray, np.ndarray]:
    g = validate.array(g, "g", ndim=1)
    return g, validate.symmetric_matrix(F, "F", g.size)


def natural_direction(g, F, damping: float = 0.0) -> np.ndarray:
    """``x = (F + damping I)^+ g``: the natural gradient direction (Chapter 11, §11.2, eq. (eq-natural-gradient)).

    With ``damping = 0`` the pseudo-inverse is used, which ignores the directions in which ``F`` vanishes (the
    softmax Fisher is singular, §11.3); the result is the limit of the damped directions as ``damping -> 0``.
    """
    g, F = _gradient_and_fisher(g, F)
    damping = validate.real(damping, "damping", low=0.0)
    if damping > 0:
        return np.linalg.solve(F + damping * np.eye(g.size), g)
    return np.linalg.pinv(F, rcond=1e-10, hermitian=True) @ g


def natural_gradient_step(g, F, delta: float, damping: float = 0.0) -> np.ndarray:
    """``Delta = sqrt(2 delta / (g^T x)) x`` with ``x = (F + damping I)^+ g`` (Chapter 11, §11.2, eq. (eq-npg-step)).

    The maximiser of ``g^T Delta`` subject to ``1/2 Delta^T (F + damping I) Delta <= delta``; the constraint is
    active. A zero gradient (``g^T x = 0``) gives a zero step.
    """
    delta = validate.real(delta, "delta", low=0.0, low_open=True)
    x = natural_direction(g, F, damping)
    gx = float(np.asarray(g, float) @ x)
    if gx <= 0:
        return np.zeros_like(x)
    return np.sqrt(2 * delta / gx) * x


def sigmoid_logits(theta) -> np.ndarray:
    """The ``(S, 2)`` logits ``[0, theta_s]`` of a policy with one parameter per state:
    ``pi(a=1|s) = sigmoid(theta_s)`` (Chapter 11, §11.4)."""
    theta = validate.array(theta, "theta", ndim=1)
    return np.stack([np.zeros_like(theta), theta], axis=1)


def sigmoid_policy_gradient(mdp: FiniteMDP, theta) -> np.ndarray:
    """``dJ/dtheta_s`` for ``pi(a=1|s) = sigmoid(theta_s)`` in a two-action MDP (Chapter 11, §11.4): the softmax
    gradient of Chapter 6, §6.4, with respect to the second logit of each state."""
    return softmax_policy_gradient(mdp, sigmoid_logits(theta))[:, 1]


def sigmoid_policy_fisher(mdp: FiniteMDP, theta) -> np.ndarray:
    """The state-averaged Fisher matrix of ``pi(a=1|s) = sigmoid(theta_s)``: diagonal, with entries
    ``d^pi(s) u_s (1 - u_s)``, ``u_s = sigmoid(theta_s)`` (Chapter 11, §11.4; Chapter 10, §10.7,
    eq. (eq-policy-fisher))."""
    full = policy_fisher(mdp, sigmoid_logits(theta))
    return full[1::2, 1::2]  # the rows and columns of the second logit of each state


def natural_ascent(mdp: FiniteMDP, theta0, delta: float, steps: int, damping: float = 1e-8,
                   parametrisation: str = "softmax") -> tuple[list[np.ndarray], list[float]]:
    """Exact natural gradient ascent, ``theta <- theta + natural_gradient_step(grad J, F, delta)``
    (Chapter 11, §11.4). ``parametrisation`` is ``"softmax"`` (``theta`` of shape ``(S, A)``) or ``"sigmoid"``
    (``theta`` of shape ``(S,)``, two actions). Returns the parameters and ``J`` after every step."""
    grad, fisher, policy = _parametrisation(mdp, parametrisation)
    theta = validate.array(theta0, "theta0", copy=True)
    steps = validate.integer(steps, "steps", low=0)
    thetas, returns = [theta.copy()], [expected_return(mdp, policy(theta))]
    for _ in range(steps):
        step = natural_gradient_step(grad(mdp, theta).ravel(), fisher(mdp, theta), delta, damping)
        theta = theta + step.reshape(theta.shape)
        thetas.append(theta.copy())
        returns.append(expected_return(mdp, policy(theta)))
    return thetas, returns


def vanilla_ascent(mdp: FiniteMDP, theta0, step_size: float, steps: int,
                   parametrisation: str = "softmax") -> tuple[list[np.ndarray], list[float]]:
    """Exact gradient ascent ``theta <- theta + step_size grad J`` with the same interface as
    :func:`natural_ascent` (Chapter 11, §11.4)."""
    grad, _, policy = _parametrisation(mdp, parametrisation)
    theta = validate.array(theta0, "theta0", copy=True)
    step_size = validate.real(step_size, "step_size", low=0.0, low_open=True)
    steps = validate.integer(steps, "steps", low=0)
    thetas, returns = [theta.copy()], [expected_return(mdp, policy(theta))]
    for _ in range(steps):
        theta = theta + step_size * grad(mdp, theta)
        thetas.append(theta.copy())
        returns.append(expected_return(mdp, policy(theta)))
    return thetas, returns


def _parametrisation(mdp, name):
    require_mdp(mdp)
    if name == "softmax":
        return softmax_policy_gradient, policy_fisher, softmax_policy
    if name == "sigmoid":
        if mdp.n_actions != 2:
            raise ValueError(f"the sigmoid parametrisation needs two actions, got an MDP with {mdp.n_actions}")
        return sigmoid_policy_gradient, sigmoid_policy_fisher, lambda t: softmax_policy(sigmoid_logits(t))
    raise ValueError(f"parametrisation must be 'softmax' or 'sigmoid', got {name!r}")


def surrogate(mdp: FiniteMDP, theta_old, theta) -> float:
    """``L(theta) = 1/(1 - gamma) E_{s ~ d^old, a ~ pi_theta}[A^old(s, a)]``, the surrogate of Chapter 9, §9.4, for
    tabular softmax logits (Chapter 11, §11.5)."""
    return surrogate_advantage(mdp, softmax_policy(theta_old), softmax_policy(theta))


def dual_ascent(mdp: FiniteMDP, theta_old, epsilon: float, iterations: int = 300, inner_steps: int = 20,
                step_size: float = 0.5, multiplier_rate: float = 50.0, multiplier: float = 1.0) -> dict:
    """Dual gradient ascent on ``max L(theta)`` subject to ``KL(pi_old || pi_theta) <= epsilon``, the KL averaged
    over ``d^old`` (Chapter 11, §11.5).

    Each iteration takes ``inner_steps`` gradient steps of size ``step_size / (1 + nu)`` on the Lagrangian
    ``L(theta) - nu (KL - epsilon)`` in ``theta``, then moves the multiplier,
    ``nu <- max(0, nu + multiplier_rate (KL - epsilon))``, eq. (eq-dual-ascent). Returns the histories of the
    surrogate, the KL and ``nu``, and the final ``theta``.
    """
    theta_old = validate.array(theta_old, "theta_old", shape=(mdp.n_states, mdp.n_actions))
    epsilon = validate.real(epsilon, "epsilon", low=0.0, low_open=True)
    pi_old = softmax_policy(theta_old)
    d, A = occupancy(mdp, pi_old), advantages(mdp, pi_old)
    theta, nu = theta_old.copy(), float(multiplier)
    history = {"surrogate": [], "kl": [], "multiplier": []}
    for _ in range(validate.integer(iterations, "iterations", low=1)):
        for _ in range(validate.integer(inner_steps, "inner_steps", low=1)):
            pi = softmax_policy(theta)
            grad_l = surrogate_logit_gradient(d, A, pi, mdp.gamma)
            # d/dtheta of sum_s d(s) KL(pi_old(.|s) || pi(.|s)) = d(s) (pi(.|s) - pi_old(.|s))
            grad_kl = d[:, None] * (pi - pi_old)
            # the Lagrangian's curvature grows with nu (the KL term's Hessian is nu F): shrink the step to match
            theta = theta + step_size / (1 + nu) * (grad_l - nu * grad_kl)
        kl = mean_kl(d, pi_old, softmax_policy(theta))
        nu = max(0.0, nu + multiplier_rate * (kl - epsilon))
        history["surrogate"].append(float(d @ np.sum(softmax_policy(theta) * A, axis=1)) / (1 - mdp.gamma))
        history["kl"].append(kl)
        history["multiplier"].append(nu)
    history["theta"] = theta
    return history
