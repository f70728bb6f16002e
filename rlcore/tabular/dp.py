"""Dynamic programming: greedy policies, value iteration, policy iteration (Chapter 2, §2.3-§2.5)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from ..base import validate
from .exact import bellman_optimality, evaluate_policy, occupancy, q_from_v, require_mdp
from .mdp import FiniteMDP
from .montecarlo import sample_returns

#: Two action values closer than this (relative to their size) count as tied when policy iteration
#: decides whether its current action is still among the best. A linear solve can split a true tie
#: by a few ulps, and plain ``argmax`` then switches between tied actions forever (it does on the
#: 4×4 FrozenLake with gamma = 0.99); 1e-9 is far above that noise and far below any real gap.
TIE_RTOL = 1e-9


def greedy(Q: np.ndarray) -> np.ndarray:
    """``pi(s) = argmax_a Q(s, a)``, exact ties broken towards the lowest action index (Chapter 2, §2.3).

    Returns ``S`` integer actions. Policy iteration adds its own tolerance for ties
    (:data:`TIE_RTOL`); this function compares values exactly.
    """
    Q = validate.array(Q, "Q", ndim=2)
    if Q.shape[1] == 0:
        raise ValueError(f"Q must have at least one action (column), got shape {Q.shape}")
    return Q.argmax(axis=1)  # argmax returns the first of equal maxima


def _near_best(Q: np.ndarray) -> np.ndarray:
    """Mask of the actions whose value is within ``TIE_RTOL`` of their row's maximum."""
    best = Q.max(axis=1, keepdims=True)
    return Q >= best - TIE_RTOL * np.maximum(1.0, np.abs(best))


def _deterministic(mdp: FiniteMDP, pi0) -> np.ndarray:
    """``pi0`` as ``S`` integer actions (default: action 0 everywhere); non-integers are rejected, not truncated."""
    if pi0 is None:
        return np.zeros(mdp.n_states, dtype=np.int64)
    return validate.integer_array(pi0, "pi0", low=0, high=mdp.n_actions, shape=(mdp.n_states,))


@dataclass
class VIResult:
    """What :func:`value_iteration` returns (Chapter 2, §2.4)."""

    V: np.ndarray  #: the last iterate V_k, within ``tol / 2`` of V* (sup norm)
    Q: np.ndarray  #: one-step lookahead of V
    policy: np.ndarray  #: greedy(Q): a ``tol``-optimal deterministic policy
    iterations: int  #: number of Bellman backups applied
    deltas: list[float] = field(default_factory=list)  #: ||V_{k+1} - V_k||_inf per iteration
    iterates: list[np.ndarray] = field(default_factory=list, repr=False)  #: V_0, V_1, ... if recorded


def value_iteration(
    mdp: FiniteMDP, tol: float = 1e-8, V0: np.ndarray | None = None, max_iter: int = 100_000,
    record: bool = False,
) -> VIResult:
    """Value iteration ``V_{k+1} = T V_k`` with a stopping rule from the contraction (Chapter 2, §2.4).

    Stops at the first ``k`` with ``delta = ||V_{k+1} - V_k|| < tol (1 - gamma) / (2 gamma)``
    (eq. (eq-vi-stop)); then ``||V_{k+1} - V*|| <= gamma delta / (1 - gamma) < tol / 2``, and the policy
    greedy with respect to ``V_{k+1}`` is ``tol``-optimal because ``V_{k+1}`` also has a Bellman
    residual of at most ``gamma delta`` (Puterman, Theorem 6.3.1). Closeness to ``V*`` alone
    would not be enough: greedy policies of values within ``e`` of ``V*`` lose up to
    ``2 gamma e / (1 - gamma)``. With ``gamma = 0`` one backup is exact.
    """
    require_mdp(mdp).require_discounted("value iteration")
    tol = validate.real(tol, "tol", low=0.0, low_open=True)
    max_iter = validate.integer(max_iter, "max_iter", low=1)
    V = np.zeros(mdp.n_states) if V0 is None else validate.array(V0, "V0", shape=(mdp.n_states,), copy=True)
    threshold = tol * (1 - mdp.gamma) / (2 * mdp.gamma) if mdp.gamma > 0 else math.inf
    deltas: list[float] = []
    iterates = [V.copy()] if record else []
    while not deltas or deltas[-1] >= threshold:
        if len(deltas) == max_iter:
            raise RuntimeError(f"value iteration did not reach tol={tol} in {max_iter} iterations")
        V_next = bellman_optimality(mdp, V)  # V_{k+1} = T V_k
        deltas.append(float(np.max(np.abs(V_next - V))))
        V = V_next
        if record:
            iterates.append(V.copy())
    Q = q_from_v(mdp, V)
    return VIResult(V, Q, greedy(Q), len(deltas), deltas, iterates)


@dataclass
class PIResult:
    """What :func:`policy_iteration` returns (Chapter 2, §2.3)."""

    V: np.ndarray  #: V of the final (optimal) policy
    Q: np.ndarray
    policy: np.ndarray  #: the final deterministic policy
    iterations: int  #: number of improvement steps taken
    policies: list[np.ndarray] = field(default_factory=list)  #: pi_0, pi_1, ...
    values: list[np.ndarray] = field(default_factory=list)  #: V^{pi_0}, V^{pi_1}, ...


def policy_iteration(mdp: FiniteMDP, pi0: np.ndarray | None = None, max_iter: int = 10_000) -> PIResult:
    """Policy iteration: exact evaluation, then greedy improvement, until stable (Chapter 2, §2.3).

    ``pi_{t+1}(s) = argmax_a Q^{pi_t}(s, a)``. Ties keep the current action when it is among the
    best, so the loop stops exactly when no state can improve.
    """
    require_mdp(mdp).require_discounted("policy iteration")
    max_iter = validate.integer(max_iter, "max_iter", low=1)
    pi = _deterministic(mdp, pi0)
    policies, values = [], []
    for t in range(max_iter):
        V = evaluate_policy(mdp, pi)
        Q = q_from_v(mdp, V)
        policies.append(pi.copy())
        values.append(V)
        keep = _near_best(Q)[np.arange(mdp.n_states), pi]  # the current action is among the best
        new_pi = np.where(keep, pi, greedy(Q))
        if np.array_equal(new_pi, pi):
            return PIResult(V, Q, pi, t, policies, values)
        pi = new_pi
    raise RuntimeError(f"policy iteration did not stabilise in {max_iter} iterations")


def deterministic_policies(mdp: FiniteMDP, limit: int = 200_000) -> np.ndarray:
    """All ``A^S`` deterministic policies as an array of shape ``(A^S, S)`` (Chapter 2, §2.1)."""
    require_mdp(mdp)
    limit = validate.integer(limit, "limit", low=1)
    count = mdp.n_actions ** mdp.n_states
    if count > limit:
        raise ValueError(f"{mdp.n_actions}^{mdp.n_states} = {count} policies exceeds limit={limit}")
    return np.array(list(itertools.product(range(mdp.n_actions), repeat=mdp.n_states)), dtype=np.int64)


def brute_force_optimum(mdp: FiniteMDP) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate every deterministic policy; return (per-state max of V, the values of all policies).

    An independent route to ``V*`` that uses no Bellman optimality at all (Chapter 2, §2.1; DC-04).
    """
    require_mdp(mdp).require_discounted("brute-force optimum")
    policies = deterministic_policies(mdp)
    S, idx = mdp.n_states, np.arange(mdp.n_states)
    P_pi = mdp.P[idx, policies]  # (K, S, S)
    r_pi = mdp.r[idx, policies]  # (K, S)
    values = np.linalg.solve(np.eye(S) - mdp.gamma * P_pi, r_pi[..., None])[..., 0]
    return values.max(axis=0), values


def approximate_policy_iteration(
    mdp: FiniteMDP, rng: np.random.Generator, n_rollouts: int = 400, iterations: int = 15, horizon: int = 100,
    pi0: np.ndarray | None = None, starts: str = "occupancy",
) -> PIResult:
    """Policy iteration with Monte Carlo estimates of ``Q^{pi_t}`` (Chapter 2, §2.5).

    Each step draws ``n_rollouts`` start pairs: ``s ~ d^{pi_t}`` (``starts="occupancy"``, the data a
    policy collects by running) or ``s`` uniform (``starts="uniform"``), and ``a`` uniform. It
    estimates ``Q^{pi_t}(s, a)`` by the mean return of one rollout per pair (pairs never drawn keep
    the estimate 0) and improves greedily. ``values`` holds the *exact* value of each iterate, for
    plotting. The estimates are noisy, and the greedy step can make the policy worse.
    """
    require_mdp(mdp).require_discounted("approximate policy iteration")
    validate.generator(rng)
    n_rollouts = validate.integer(n_rollouts, "n_rollouts", low=1)
    iterations = validate.integer(iterations, "iterations", low=1)
    if starts not in ("occupancy", "uniform"):
        raise ValueError(f"starts must be 'occupancy' or 'uniform', got {starts!r}")
    S, A = mdp.n_states, mdp.n_actions
    pi = _deterministic(mdp, pi0)
    policies, values = [], []
    for _ in range(iterations):
        policies.append(pi.copy())
        values.append(evaluate_policy(mdp, pi))
        if starts == "occupancy":
            d = occupancy(mdp, pi)
            states = rng.choice(S, size=n_rollouts, p=d / d.sum())
        else:
            states = rng.integers(0, S, size=n_rollouts)
        actions = rng.integers(0, A, size=n_rollouts)
        G = sample_returns(mdp, pi, states, rng, horizon=horizon, first_actions=actions)
        totals, counts = np.zeros((S, A)), np.zeros((S, A))
        np.add.at(totals, (states, actions), G)
        np.add.at(counts, (states, actions), 1)
        Q_hat = totals / np.maximum(counts, 1)
        pi = greedy(Q_hat)
    return PIResult(values[-1], q_from_v(mdp, values[-1]), policies[-1], iterations, policies, values)


def noisy_policy_iteration(
    mdp: FiniteMDP, rng: np.random.Generator, noise_std: float, iterations: int = 15,
    pi0: np.ndarray | None = None,
) -> PIResult:
    """Policy iteration whose greedy step sees ``Q^{pi_t} + noise``, Gaussian with std ``noise_std`` (Chapter 2, §2.5).

    The controlled version of :func:`approximate_policy_iteration`: the exact action values plus
    independent noise of a chosen size, so the size of the estimation error is the only thing that
    varies. ``noise_std = 0`` is exact policy iteration without its tie rule.
    """
    require_mdp(mdp).require_discounted("noisy policy iteration")
    validate.generator(rng)
    noise_std = validate.real(noise_std, "noise_std", low=0.0)
    iterations = validate.integer(iterations, "iterations", low=1)
    pi = _deterministic(mdp, pi0)
    policies, values = [], []
    for _ in range(iterations):
        policies.append(pi.copy())
        values.append(evaluate_policy(mdp, pi))
        Q = q_from_v(mdp, values[-1])
        pi = greedy(Q + noise_std * rng.normal(size=Q.shape))
    return PIResult(values[-1], q_from_v(mdp, values[-1]), policies[-1], iterations, policies, values)
