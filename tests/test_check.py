"""Each checker passes the reference, fails plausible wrong answers with the right message,
and never crashes on stubs, exceptions, NaN, wrong shapes or endless loops."""

import os
import sys
import time

import numpy as np
import pytest

from rlcore.estimators import baselines, importance, returns, score
from rlcore.exercises import (
    ERROR,
    FAIL,
    NOT_ATTEMPTED,
    PASS,
    TIMEOUT,
    Case,
    ch01,
    ch02,
    ch05,
    ch06,
    ch07,
    ch08,
    ch09,
    ch10,
    ch11,
    ch12,
    ch13,
    ch14,
    framework,
    run_exercise,
)
from rlcore.tabular import dp, exact
from rlcore.tabular import information as info
from rlcore.tabular import policy_gradient as pg
from rlcore.tabular.mdp import FiniteMDP


def _mdp(P, r, gamma, rho0=None):
    P = np.asarray(P, float)
    P = P / P.sum(axis=-1, keepdims=True)
    S = P.shape[0]
    r = np.zeros(P.shape[:2]) if r is None else r
    return FiniteMDP(P, r, np.full(S, 1 / S) if rho0 is None else rho0, gamma)


# ---------------------------------------------------------------- references (rlcore's own code)
def ref_rtg(rewards, dones, gamma):
    return returns.rewards_to_go(np.asarray(rewards, float), np.asarray(dones, bool), gamma)


def ref_eval(P, r, pi, gamma):
    P, r, pi = (np.asarray(x, float) for x in (P, r, pi))
    m = _mdp(P, r, gamma)
    V = exact.evaluate_policy(m, pi)
    return V, exact.q_from_v(m, V)


def ref_occ(P, rho0, pi, gamma):
    P, rho0, pi = (np.asarray(x, float) for x in (P, rho0, pi))
    return exact.occupancy(_mdp(P, None, gamma, rho0), pi)


def ref_vi(P, r, gamma, tol):
    return dp.value_iteration(_mdp(P, np.asarray(r, float), gamma), tol).V


def ref_pi(P, r, gamma):
    res = dp.policy_iteration(_mdp(P, np.asarray(r, float), gamma))
    return res.policy, res.values


# ---------------------------------------------------------------- plausible wrong answers
def rtg_off_by_one(rewards, dones, gamma):  # discounts the first reward too
    return gamma * returns.rewards_to_go(np.asarray(rewards, float), np.asarray(dones, bool), gamma)


def rtg_through_terminal(rewards, dones, gamma):  # bootstraps across episode ends
    return returns.rewards_to_go(np.asarray(rewards, float), np.zeros(len(dones), bool), gamma)


def rtg_integer_output(rewards, dones, gamma):  # np.zeros_like(rewards): integer returns for integer rewards
    G, running = np.zeros_like(rewards), 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running * (1 - dones[t])
        G[t] = running
    return G


def rtg_bitwise_not(rewards, dones, gamma):  # ~dones is -1/-2 on 0/1 integers
    G, running = np.zeros(len(rewards)), 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * running * ~dones[t]
        G[t] = running
    return G


def rtg_in_place(rewards, dones, gamma):  # overwrites the caller's rewards
    rewards = np.asarray(rewards, float) if rewards.dtype.kind != "f" else rewards
    for t in reversed(range(len(rewards) - 1)):
        if not dones[t]:
            rewards[t] += gamma * rewards[t + 1]
    return rewards


def eval_no_gamma_in_q(P, r, pi, gamma):
    V, _ = ref_eval(P, r, pi, gamma)
    return V, r + P @ V


def eval_transposed(P, r, pi, gamma):
    P_pi = np.einsum("sa,sat->st", pi, P)
    V = np.linalg.solve(np.eye(len(P_pi)) - gamma * P_pi.T, np.sum(pi * r, axis=1))
    return V, r + gamma * P @ V


def eval_inverse(P, r, pi, gamma):  # an explicit inverse: inaccurate when gamma is near 1
    P_pi = np.einsum("sa,sat->st", pi, P)
    V = np.linalg.inv(np.eye(len(P_pi)) - gamma * P_pi) @ np.sum(pi * r, axis=1)
    return V, r + gamma * P @ V


def eval_integer(P, r, pi, gamma):  # iterates in an integer array made with zeros_like
    V = np.zeros_like(r[:, 0])
    for _ in range(3000):
        V[:] = np.sum(pi * (r + gamma * P @ V), axis=1)
    return V, r + gamma * P @ V


def eval_float32(P, r, pi, gamma):  # correct code that works in the inputs' own precision
    dtype = np.result_type(P, r, pi, np.float32)
    P_pi = np.einsum("sa,sat->st", pi, P).astype(dtype)
    V = np.linalg.solve(np.eye(len(P_pi), dtype=dtype) - dtype.type(gamma) * P_pi, np.sum(pi * r, axis=1).astype(dtype))
    return V, (r + dtype.type(gamma) * P @ V).astype(dtype)


def occ_unnormalised(P, rho0, pi, gamma):  # forgets the (1 - gamma): sums to 1/(1 - gamma)
    return ref_occ(P, rho0, pi, gamma) / (1 - gamma) if gamma < 1 else ref_occ(P, rho0, pi, gamma)


def occ_backwards(P, rho0, pi, gamma):  # propagates along P_pi instead of P_pi^T
    P_pi = np.einsum("sa,sat->st", pi, P)
    return np.linalg.solve(np.eye(len(rho0)) - gamma * P_pi, (1 - gamma) * rho0)


def occ_ignores_policy(P, rho0, pi, gamma):  # averages P over actions instead of weighting by pi
    P_mean = np.asarray(P, float).mean(axis=1)
    return np.linalg.solve(np.eye(len(rho0)) - gamma * P_mean.T, (1 - gamma) * np.asarray(rho0, float))


def occ_truncated(P, rho0, pi, gamma):  # sums only 50 steps of the series
    P_pi = np.einsum("sa,sat->st", pi, P)
    d, p = np.zeros(len(rho0)), np.asarray(rho0, float)
    for t in range(50):
        d += (1 - gamma) * gamma**t * p
        p = P_pi.T @ p
    return d


def _backup(P, r, gamma, V):
    return (r + gamma * P @ V).max(axis=1)


def vi_naive_stop(P, r, gamma, tol):  # stops when ||V_{k+1} - V_k|| < tol
    V = np.zeros(P.shape[0])
    while True:
        V_next = _backup(P, r, gamma, V)
        if np.max(np.abs(V_next - V)) < tol:
            return V_next
        V = V_next


def vi_sum_not_max(P, r, gamma, tol):  # evaluates the uniform policy instead of optimising
    V = np.zeros(P.shape[0])
    for _ in range(2000):
        V = (r + gamma * P @ V).mean(axis=1)
    return V


def vi_fixed_sweeps(P, r, gamma, tol):  # ignores tol: 1000 backups
    V = np.zeros(P.shape[0])
    for _ in range(1000):
        V = _backup(P, r, gamma, V)
    return V


def vi_no_abs(P, r, gamma, tol):  # the stopping test forgets the absolute value
    V = np.zeros(P.shape[0])
    threshold = tol * (1 - gamma) / (2 * gamma) if gamma > 0 else np.inf
    while True:
        V_next = _backup(P, r, gamma, V)
        if np.max(V_next - V) < threshold:
            return V_next
        V = V_next


def vi_integer(P, r, gamma, tol):  # V made with zeros_like(r[:, 0]) stays integer
    V = np.zeros_like(r[:, 0])
    threshold = tol * (1 - gamma) / (2 * gamma) if gamma > 0 else np.inf
    while True:
        V_next = np.zeros_like(V)
        V_next[:] = _backup(P, r, gamma, V)
        if np.max(np.abs(V_next - V)) < threshold:
            return V_next
        V = V_next


def vi_divides_by_gamma(P, r, gamma, tol):  # the threshold divides by zero at gamma = 0
    V, threshold = np.zeros(P.shape[0]), tol * (1 - gamma) / (2 * gamma)
    while True:
        V_next = _backup(P, r, gamma, V)
        if np.max(np.abs(V_next - V)) < threshold:
            return V_next
        V = V_next


def pi_one_step(P, r, gamma):  # a single improvement, no iteration
    m = _mdp(P, np.asarray(r, float), gamma)
    pi0 = np.zeros(P.shape[0], dtype=int)
    return dp.greedy(exact.action_values(m, pi0)), [exact.evaluate_policy(m, pi0)]


def pi_argmin(P, r, gamma):
    m = _mdp(P, np.asarray(r, float), gamma)
    pi = np.zeros(P.shape[0], dtype=int)
    for _ in range(20):
        pi = exact.action_values(m, pi).argmin(axis=1)
    return pi, [exact.evaluate_policy(m, pi)]


def pi_made_up_values(P, r, gamma):  # the right policy, but values that were never computed
    policy, values = ref_pi(P, r, gamma)
    return policy, [values[0], (values[0] + values[-1]) / 2, values[-1]]


def pi_only_final_value(P, r, gamma):  # a list holding just V*, not V^{pi_0}, V^{pi_1}, ...
    policy, values = ref_pi(P, r, gamma)
    return policy, [values[-1]]


def pi_plain_argmax(P, r, gamma):  # plain argmax: cycles between tied actions on FrozenLake, gamma = 0.99
    m = _mdp(P, np.asarray(r, float), gamma)
    pi, values = np.zeros(P.shape[0], dtype=int), []
    while True:
        values.append(exact.evaluate_policy(m, pi))
        new = exact.action_values(m, pi).argmax(axis=1)
        if np.array_equal(new, pi):
            return pi, values
        pi = new


def greedy_last_tie(Q):
    return Q.shape[1] - 1 - np.argmax(Q[:, ::-1], axis=1)


def greedy_float(Q):
    return np.argmax(Q, axis=1).astype(float)


def greedy_tolerant(Q):  # treats values within 1e-2 as tied
    best = Q.max(axis=1, keepdims=True)
    return np.argmax(Q >= best - 1e-2, axis=1)


def greedy_in_place(Q):  # subtracts the row maximum from the caller's Q
    Q -= Q.max(axis=1, keepdims=True)
    return np.argmax(Q == 0, axis=1)


def greedy_wrong_axis(Q):
    return np.argmax(Q, axis=0)


def score_sigma_not_squared(f_values, x, mu, sigma):  # the score of mu divided by sigma once
    z = (np.asarray(x, float) - mu) / sigma
    f = np.asarray(f_values, float)
    return np.array([np.mean(f * z), np.mean(f * (z**2 - 1))])


def score_wrt_sigma(f_values, x, mu, sigma):  # differentiates by sigma, not by log sigma
    z = (np.asarray(x, float) - mu) / sigma
    f = np.asarray(f_values, float)
    return np.array([np.mean(f * z / sigma), np.mean(f * (z**2 - 1) / sigma)])


def score_summed(f_values, x, mu, sigma):  # sums over the samples instead of averaging
    z = (np.asarray(x, float) - mu) / sigma
    f = np.asarray(f_values, float)
    return np.array([np.sum(f * z / sigma), np.sum(f * (z**2 - 1))])


def is_self_normalized(f_values, logp_target, logp_proposal):  # a different (biased) estimator
    w = np.exp(np.asarray(logp_target) - np.asarray(logp_proposal))
    return float(np.sum(w * f_values) / np.sum(w))


def is_inverted_ratio(f_values, logp_target, logp_proposal):  # Q/P instead of P/Q
    return float(np.mean(np.exp(np.asarray(logp_proposal) - np.asarray(logp_target)) * f_values))


def is_exp_then_divide(f_values, logp_target, logp_proposal):  # exp(-800) / exp(-801) is 0/0
    with np.errstate(all="ignore"):
        return float(np.mean(np.exp(logp_target) / np.exp(logp_proposal) * f_values))


def ess_inverted(logp_target, logp_proposal):
    w = np.exp(np.asarray(logp_target) - np.asarray(logp_proposal))
    return float(np.sum(w**2) / np.sum(w) ** 2)


def ess_overflows(logp_target, logp_proposal):  # no shift by the largest log-weight
    with np.errstate(all="ignore"):
        w = np.exp(np.asarray(logp_target) - np.asarray(logp_proposal))
        return float(np.sum(w) ** 2 / np.sum(w**2))


def ess_assumes_normalised(logp_target, logp_proposal):  # 1 / sum w^2 is Kish's ESS only when sum w = 1
    w = np.exp(np.asarray(logp_target) - np.asarray(logp_proposal))
    return float(1.0 / np.sum(w**2))


def _softmax(theta):
    z = np.exp(theta - np.max(theta, axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def traj_counts_only(theta, states, actions):  # forgets the - pi(.|s) of the softmax score
    score = np.zeros(np.shape(theta))
    np.add.at(score, (np.asarray(states), np.asarray(actions)), 1.0)
    return score


def traj_last_step(theta, states, actions):  # only the last step's score
    theta = np.asarray(theta, float)
    score = np.zeros(theta.shape)
    s, a = states[-1], actions[-1]
    score[s] = np.eye(theta.shape[1])[a] - _softmax(theta)[s]
    return score


def traj_no_shift(theta, states, actions):  # exp(1000) overflows
    with np.errstate(all="ignore"):
        theta = np.asarray(theta, float)
        pi = np.exp(theta) / np.exp(theta).sum(axis=1, keepdims=True)
    score = np.zeros(theta.shape)
    for s, a in zip(states, actions, strict=True):
        score[s] += np.eye(theta.shape[1])[a] - pi[s]
    return score


def _pg_parts(P, r, rho0, theta, gamma):
    mdp = FiniteMDP(np.asarray(P, float), np.asarray(r, float), np.asarray(rho0, float), gamma)
    pi = _softmax(np.asarray(theta, float))
    return mdp, pi, exact.occupancy(mdp, pi), exact.advantages(mdp, pi)


def pg_times_one_minus_gamma(P, r, rho0, theta, gamma):  # the source notes' erratum E0.8
    mdp, pi, d, A = _pg_parts(P, r, rho0, theta, gamma)
    return d[:, None] * pi * A * (1 - gamma)


def pg_q_not_a(P, r, rho0, theta, gamma):  # Q in place of the advantage
    mdp, pi, d, A = _pg_parts(P, r, rho0, theta, gamma)
    return d[:, None] * pi * exact.action_values(mdp, pi) / (1 - gamma)


def pg_start_distribution(P, r, rho0, theta, gamma):  # rho0 in place of the occupancy
    mdp, pi, d, A = _pg_parts(P, r, rho0, theta, gamma)
    return np.asarray(rho0, float)[:, None] * pi * A / (1 - gamma)


def _rtg_tensor(rewards, dones, gamma, reset=True):
    import torch

    G, running = [], 0.0
    for t in reversed(range(len(rewards))):
        running = rewards[t] + gamma * (0.0 if (reset and bool(dones[t])) else running)
        G.append(running)
    return torch.stack(G[::-1]) if G else torch.zeros(0)


def loss_no_reset(log_prob, rewards, dones, gamma, baseline=None, gamma_t=True):  # returns run across episodes
    import torch

    G = _rtg_tensor(rewards, dones, gamma, reset=False)
    b = torch.zeros_like(G) if baseline is None else baseline.detach()
    start = torch.cat([torch.ones(1, dtype=torch.bool), dones[:-1]])
    k = torch.arange(len(G)) - torch.cummax(torch.where(start, torch.arange(len(G)), 0), 0).values
    c = gamma ** k if gamma_t else torch.ones_like(G)
    return -(c * (G - b) * log_prob).sum() / int(dones.sum())


def loss_global_t(log_prob, rewards, dones, gamma, baseline=None, gamma_t=True):  # gamma^t over the whole batch
    import torch

    G = _rtg_tensor(rewards, dones, gamma)
    b = torch.zeros_like(G) if baseline is None else baseline.detach()
    c = gamma ** torch.arange(len(G)) if gamma_t else torch.ones_like(G)
    return -(c * (G - b) * log_prob).sum() / int(dones.sum())


def loss_mean_over_steps(log_prob, rewards, dones, gamma, baseline=None, gamma_t=True):  # divides by T, not E
    import torch

    G = _rtg_tensor(rewards, dones, gamma)
    b = torch.zeros_like(G) if baseline is None else baseline.detach()
    start = torch.cat([torch.ones(1, dtype=torch.bool), dones[:-1]])
    k = torch.arange(len(G)) - torch.cummax(torch.where(start, torch.arange(len(G)), 0), 0).values
    c = gamma ** k if gamma_t else torch.ones_like(G)
    return -(c * (G - b) * log_prob).mean()


def loss_baseline_attached(log_prob, rewards, dones, gamma, baseline=None, gamma_t=True):  # no .detach()
    import torch

    G = _rtg_tensor(rewards, dones, gamma)
    b = torch.zeros_like(G) if baseline is None else baseline
    start = torch.cat([torch.ones(1, dtype=torch.bool), dones[:-1]])
    k = torch.arange(len(G)) - torch.cummax(torch.where(start, torch.arange(len(G)), 0), 0).values
    c = gamma ** k if gamma_t else torch.ones_like(G)
    return -(c * (G - b) * log_prob).sum() / int(dones.sum())


def loss_plus_sign(log_prob, rewards, dones, gamma, baseline=None, gamma_t=True):  # ascends by minimising +J
    from rlcore.exercises import ch07

    return -ch07.reinforce_loss(log_prob, rewards, dones, gamma, baseline, gamma_t)


def loss_detached(log_prob, rewards, dones, gamma, baseline=None, gamma_t=True):  # goes through numpy
    import torch

    from rlcore.exercises import ch07

    return torch.tensor(float(ch07.reinforce_loss(log_prob, rewards, dones, gamma, baseline, gamma_t)))


def loss_full_return(log_prob, rewards, dones, gamma, baseline=None, gamma_t=True):  # gamma^t G_0 for every t
    import torch

    G = _rtg_tensor(rewards, dones, gamma)
    start = torch.cat([torch.ones(1, dtype=torch.bool), dones[:-1]])
    first = torch.cummax(torch.where(start, torch.arange(len(G)), 0), 0).values
    b = torch.zeros_like(G) if baseline is None else baseline.detach()
    return -((G[first] - b) * log_prob).sum() / int(dones.sum())


def ob_erratum(scores, returns, weights):  # the source's E[s^2 G] / E[s]^2: E[s] is 0 for exact weights
    w = np.asarray(weights, float) / np.sum(weights)
    s, G = np.asarray(scores, float), np.asarray(returns, float)
    return (w * G) @ s**2 / (w @ s) ** 2


def ob_no_squares(scores, returns, weights):  # E[s G] / E[s]
    w = np.asarray(weights, float) / np.sum(weights)
    s, G = np.asarray(scores, float), np.asarray(returns, float)
    return (w * G) @ s / (w @ s)


def ob_value(scores, returns, weights):  # b = V = E[G] for every component
    w = np.asarray(weights, float) / np.sum(weights)
    return np.full(np.shape(scores)[1], w @ np.asarray(returns, float))


def ob_trace(scores, returns, weights):  # one scalar baseline for the whole vector (sum of squared norms)
    w = np.asarray(weights, float) / np.sum(weights)
    s, G = np.asarray(scores, float), np.asarray(returns, float)
    norms = (s**2).sum(axis=1)
    return np.full(s.shape[1], (w * norms) @ G / (w @ norms))


def ob_ignores_weights(scores, returns, weights):  # treats the outcomes as equally likely
    s, G = np.asarray(scores, float), np.asarray(returns, float)
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(G @ s**2 / (s**2).sum(axis=0))


def loo_with_own(returns):  # the batch mean, own return included
    return np.full(len(returns), np.mean(returns))


def loo_divides_by_n(returns):
    r = np.asarray(returns, float)
    return (r.sum() - r) / len(r)


def loo_integer(returns):  # integer division for integer returns
    r = np.asarray(returns)
    return (r.sum() - r) // (len(r) - 1) if r.dtype.kind == "i" else (r.sum() - r) / (len(r) - 1)


def _gae_loop(rewards, values, next_values, terminated, truncated, gamma, lam, bootstrap_terminal=False,
              stop_at_truncation=True, truncation_bootstraps=True, carry_gamma=True, reset=True):
    r, v, nv = (np.asarray(x, float) for x in (rewards, values, next_values))
    term, trunc = np.asarray(terminated, bool), np.asarray(truncated, bool)
    ends_bootstrap = ~term if not bootstrap_terminal else np.ones_like(term)
    if not truncation_bootstraps:
        ends_bootstrap = ends_bootstrap & ~trunc
    delta = r + gamma * ends_bootstrap * nv - v
    stop = (term | trunc) if stop_at_truncation else term
    out, running = np.zeros_like(delta), np.zeros_like(delta[0])
    for t in reversed(range(len(r))):
        carry = (gamma if carry_gamma else 1.0) * lam * (1.0 - stop[t] if reset else 1.0)
        running = delta[t] + carry * running
        out[t] = running
    return out


def gae_no_reset(rewards, values, next_values, terminated, truncated, gamma, lam):  # sums across episode ends
    return _gae_loop(rewards, values, next_values, terminated, truncated, gamma, lam, reset=False)


def gae_bootstraps_terminal(rewards, values, next_values, terminated, truncated, gamma, lam):
    return _gae_loop(rewards, values, next_values, terminated, truncated, gamma, lam, bootstrap_terminal=True)


def gae_truncation_as_termination(rewards, values, next_values, terminated, truncated, gamma, lam):
    return _gae_loop(rewards, values, next_values, terminated, truncated, gamma, lam, truncation_bootstraps=False)


def gae_no_gamma_in_carry(rewards, values, next_values, terminated, truncated, gamma, lam):  # lam^l only
    return _gae_loop(rewards, values, next_values, terminated, truncated, gamma, lam, carry_gamma=False)


def gae_erratum_index(rewards, values, next_values, terminated, truncated, gamma, lam):  # delta_t for delta_l
    r, v, nv = (np.asarray(x, float) for x in (rewards, values, next_values))
    term, trunc = np.asarray(terminated, bool), np.asarray(truncated, bool)
    delta = r + gamma * ~term * nv - v
    out, weight = np.zeros_like(delta), np.zeros_like(delta[0])
    for t in reversed(range(len(r))):
        weight = 1.0 + gamma * lam * (1.0 - (term[t] | trunc[t])) * weight  # sum of (gamma lam)^l to the end
        out[t] = delta[t] * weight
    return out


def cl_ascends(values, targets):  # the source's erratum: + instead of -
    return -(values - targets.detach()).square().mean()


def cl_not_detached(values, targets):
    return (values - targets).square().mean()


def cl_sum(values, targets):
    return (values - targets.detach()).square().sum()


def cl_absolute(values, targets):
    return (values - targets.detach()).abs().mean()


def _pdw(logp_pi, logp_beta, dones, reset=True, shift=0, current_only=False, in_log_space=True):
    log_w = np.asarray(logp_pi, float) - np.asarray(logp_beta, float)
    ratio = np.exp(np.asarray(logp_pi, float)) / np.exp(np.asarray(logp_beta, float))
    out, running = np.zeros(len(log_w)), 0.0 if in_log_space else 1.0
    for t in range(len(log_w)):
        previous = running
        if in_log_space:
            running = log_w[t] if current_only else running + log_w[t]
        else:
            running = running * ratio[t]
        out[t] = np.exp(previous if shift else running) if in_log_space else (previous if shift else running)
        if reset and dones[t]:
            running = 0.0 if in_log_space else 1.0
    return out


def pdw_no_reset(logp_pi, logp_beta, dones):  # one product across episode boundaries
    return _pdw(logp_pi, logp_beta, dones, reset=False)


def pdw_exclusive(logp_pi, logp_beta, dones):  # the product up to t - 1
    return _pdw(logp_pi, logp_beta, dones, shift=1)


def pdw_current_only(logp_pi, logp_beta, dones):  # the ratio of step t alone
    return _pdw(logp_pi, logp_beta, dones, current_only=True)


def pdw_probabilities(logp_pi, logp_beta, dones):  # exponentiates first: exp(-800) / exp(-801) = 0 / 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return _pdw(logp_pi, logp_beta, dones, in_log_space=False)


def _opg(scores, log_ratios, rewards, gamma, mode, discount_from_t=False, per_decision_dropped=False,
         single_cumulative=False, exp_first=False):
    scores, log_ratios, rewards = (np.asarray(x, float) for x in (scores, log_ratios, rewards))
    N, H = log_ratios.shape
    if exp_first:
        with np.errstate(over="ignore", invalid="ignore"):
            W = np.cumprod(np.exp(log_ratios), axis=1)
    else:
        W = np.exp(np.cumsum(log_ratios, axis=1))
    out = np.zeros((N, scores.shape[2]))
    for i in range(N):
        for t in range(H):
            for j in range(t, H):
                R = (gamma ** (j - t) if discount_from_t else gamma**j) * rewards[i, j]
                if mode == "trajectory":
                    continue
                if mode == "per_decision":
                    weight = W[i, t] if per_decision_dropped else W[i, j]
                else:
                    weight = W[i, t] if single_cumulative else np.exp(log_ratios[i, t])
                with np.errstate(invalid="ignore"):
                    out[i] += weight * R * scores[i, t]
        if mode == "trajectory":
            R = sum(gamma**j * rewards[i, j] for j in range(H))
            out[i] = W[i, -1] * R * scores[i].sum(axis=0)
    return out


def opg_per_decision_dropped(scores, log_ratios, rewards, gamma, mode):  # W_{0:t} for every later reward
    return _opg(scores, log_ratios, rewards, gamma, mode, per_decision_dropped=True)


def opg_discount_from_t(scores, log_ratios, rewards, gamma, mode):  # gamma^(l - t): the gamma^t factor lost
    return _opg(scores, log_ratios, rewards, gamma, mode, discount_from_t=True)


def opg_single_cumulative(scores, log_ratios, rewards, gamma, mode):  # W_{0:t} instead of w_t
    return _opg(scores, log_ratios, rewards, gamma, mode, single_cumulative=True)


def opg_exp_first(scores, log_ratios, rewards, gamma, mode):  # products of exponentials: 0 * inf
    return _opg(scores, log_ratios, rewards, gamma, mode, exp_first=True)


def opg_batch_mean(scores, log_ratios, rewards, gamma, mode):  # the mean over episodes, not one row each
    return _opg(scores, log_ratios, rewards, gamma, mode).mean(axis=0)


def _log_softmax(z):
    z = np.asarray(z, dtype=float)
    m = np.max(z, axis=-1, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))


def ckl_reversed(p_logits, q_logits):  # KL(q || p)
    lp, lq = _log_softmax(p_logits), _log_softmax(q_logits)
    return np.sum(np.exp(lq) * (lq - lp), axis=-1)


def ckl_logits_as_log_probs(p_logits, q_logits):  # no log-sum-exp: softmax(p) (p - q)
    lp = _log_softmax(p_logits)
    return np.sum(np.exp(lp) * (np.asarray(p_logits, float) - np.asarray(q_logits, float)), axis=-1)


def ckl_naive_softmax(p_logits, q_logits):  # exp of raw logits: overflows at 1000
    p = np.exp(p_logits) / np.sum(np.exp(p_logits), axis=-1, keepdims=True)
    q = np.exp(q_logits) / np.sum(np.exp(q_logits), axis=-1, keepdims=True)
    return np.sum(p * np.log(p / q), axis=-1)


def ckl_total(p_logits, q_logits):  # one number for the whole batch
    lp, lq = _log_softmax(p_logits), _log_softmax(q_logits)
    return np.sum(np.exp(lp) * (lp - lq))


def dgk_seed_factor(mu1, log_std1, mu2, log_std2):  # erratum E4.1: (mu1 - mu2)^2 / s2^2, no 1/2
    v1, v2 = np.exp(2 * np.asarray(log_std1)), np.exp(2 * np.asarray(log_std2))
    return np.sum(log_std2 - log_std1 + v1 / (2 * v2) + (np.asarray(mu1) - mu2) ** 2 / v2 - 0.5, axis=-1)


def dgk_std_as_log_std(mu1, log_std1, mu2, log_std2):  # uses log_std as if it were the std
    s1, s2 = np.asarray(log_std1, float), np.asarray(log_std2, float)
    with np.errstate(all="ignore"):
        return np.sum(np.log(s2 / s1) + (s1**2 + (np.asarray(mu1) - mu2) ** 2) / (2 * s2**2) - 0.5, axis=-1)


def dgk_reversed(mu1, log_std1, mu2, log_std2):  # KL(q || p)
    v1, v2 = np.exp(2 * np.asarray(log_std1)), np.exp(2 * np.asarray(log_std2))
    return np.sum(log_std1 - log_std2 + (v2 + (np.asarray(mu1) - mu2) ** 2) / (2 * v1) - 0.5, axis=-1)


def dgk_no_minus_half(mu1, log_std1, mu2, log_std2):  # forgets the -1/2 of every dimension
    v1, v2 = np.exp(2 * np.asarray(log_std1)), np.exp(2 * np.asarray(log_std2))
    return np.sum(log_std2 - log_std1 + (v1 + (np.asarray(mu1) - mu2) ** 2) / (2 * v2), axis=-1)


def dgk_per_dimension(mu1, log_std1, mu2, log_std2):  # does not sum over the action dimensions
    v1, v2 = np.exp(2 * np.asarray(log_std1)), np.exp(2 * np.asarray(log_std2))
    return log_std2 - log_std1 + (v1 + (np.asarray(mu1) - mu2) ** 2) / (2 * v2) - 0.5


def _fisher(P, rho0, theta, gamma, weights="occupancy", centred=True, order="C"):
    P, theta = np.asarray(P, float), np.asarray(theta, float)
    S, A = theta.shape
    pi = _softmax(theta)
    P_pi = np.einsum("sa,sat->st", pi, P)
    d = np.linalg.solve(np.eye(S) - gamma * P_pi.T, (1 - gamma) * np.asarray(rho0, float))
    w = {"occupancy": d, "uniform": np.full(S, 1 / S), "start": np.asarray(rho0, float),
         "unnormalised": d / (1 - gamma)}[weights]
    F = np.zeros((S * A, S * A))
    for s in range(S):
        block = np.diag(pi[s]) - (np.outer(pi[s], pi[s]) if centred else 0.0)
        F[s * A:(s + 1) * A, s * A:(s + 1) * A] = w[s] * block
    if order == "F":  # index a * S + s
        idx = np.arange(S * A).reshape(S, A).T.ravel()
        F = F[np.ix_(idx, idx)]
    return F


def pf_uniform_states(P, rho0, theta, gamma):  # every state weighted 1/S
    return _fisher(P, rho0, theta, gamma, weights="uniform")


def pf_start_states(P, rho0, theta, gamma):  # rho0 instead of d^pi
    return _fisher(P, rho0, theta, gamma, weights="start")


def pf_unnormalised(P, rho0, theta, gamma):  # sum_t gamma^t Pr(s_t = s), without (1 - gamma)
    return _fisher(P, rho0, theta, gamma, weights="unnormalised")


def pf_not_centred(P, rho0, theta, gamma):  # E[e_a e_a^T] = diag(pi): forgets the - pi pi^T
    return _fisher(P, rho0, theta, gamma, centred=False)


def pf_column_major(P, rho0, theta, gamma):  # index a * S + s
    return _fisher(P, rho0, theta, gamma, order="F")


def mc_independent(p, q):  # the product coupling: right marginals, Pr(X != Y) too large
    return np.outer(p, q)


def mc_diagonal_only(p, q):  # min(p, q) on the diagonal and nothing else
    return np.diag(np.minimum(p, q))


def mc_transposed(p, q):  # rows are q, columns are p
    overlap = np.minimum(p, q)
    tv = 1 - overlap.sum()
    excess = np.outer(q - overlap, p - overlap) / tv if tv > 0 else 0.0
    return np.diag(overlap) + excess


def mc_unnormalised_excess(p, q):  # forgets to divide the product of the excesses by TV
    overlap = np.minimum(p, q)
    return np.diag(overlap) + np.outer(p - overlap, q - overlap)


def _npg(g, F, delta, damping=0.0, half=True, direction="natural", guard=True):
    g, F = np.asarray(g, float), np.asarray(F, float) + damping * np.eye(len(g))
    if direction == "natural":
        x = np.linalg.pinv(F) @ g
    elif direction == "euclidean":
        x = g
    else:  # F^{-1/2} g, the direction source 004 writes
        w, Q = np.linalg.eigh(F)
        x = Q @ (np.where(w > 1e-12, 1 / np.sqrt(np.clip(w, 1e-12, None)), 0.0) * (Q.T @ g))
    scale = x @ F @ x
    if guard and scale <= 0:
        return np.zeros_like(g)
    return np.sqrt((2 if half else 1) * delta / scale) * x


def ngs_no_half(g, F, delta, damping=0.0):  # source 004: Delta^T F Delta <= delta
    return _npg(g, F, delta, damping, half=False)


def ngs_euclidean(g, F, delta, damping=0.0):  # a step along g, scaled to the trust region
    return _npg(g, F, delta, damping, direction="euclidean")


def ngs_sqrt_direction(g, F, delta, damping=0.0):  # F^{-1/2} g instead of F^{-1} g
    return _npg(g, F, delta, damping, direction="sqrt")


def ngs_ignores_damping(g, F, delta, damping=0.0):
    return _npg(g, F, delta, 0.0)


def ngs_no_guard(g, F, delta, damping=0.0):  # 0/0 at a zero gradient
    with np.errstate(all="ignore"):
        return _npg(g, F, delta, damping, guard=False)


def _nsc(g_theta, F_theta, A, delta, gradient="inverse_transpose", fisher="both_sides"):
    A = np.asarray(A, float)
    A_inv = np.linalg.inv(A)
    g = {"inverse_transpose": A_inv.T, "A": A, "none": np.eye(len(A))}[gradient] @ np.asarray(g_theta, float)
    F = np.asarray(F_theta, float)
    F = {"both_sides": A_inv.T @ F @ A_inv, "A": A @ F @ A.T, "none": F}[fisher]
    x = np.linalg.solve((F + F.T) / 2, g)
    return np.sqrt(2 * delta / (g @ x)) * x


def nsc_gradient_times_A(g_theta, F_theta, A, delta):  # dJ/dphi = A g: the chain rule the wrong way round
    return _nsc(g_theta, F_theta, A, delta, gradient="A")


def nsc_fisher_untransformed(g_theta, F_theta, A, delta):  # F_phi = F_theta
    return _nsc(g_theta, F_theta, A, delta, fisher="none")


def nsc_fisher_wrong_sides(g_theta, F_theta, A, delta):  # F_phi = A F A^T
    return _nsc(g_theta, F_theta, A, delta, fisher="A")


def nsc_step_in_theta(g_theta, F_theta, A, delta):  # the natural step in theta, not in phi
    return _nsc(g_theta, F_theta, np.eye(len(g_theta)), delta)


def _pd_terms(P, r, rho0, pi, pi_new, gamma):
    mdp = _mdp(P, r, gamma, rho0)
    pi, pi_new = np.asarray(pi, float), np.asarray(pi_new, float)
    A = exact.advantages(mdp, pi)
    return mdp, pi, pi_new, A, np.sum(pi_new * A, axis=1)


def pd_old_states(P, r, rho0, pi, pi_new, gamma):  # the surrogate: d^pi instead of d^{pi_new}
    mdp, pi, pi_new, A, a_bar = _pd_terms(P, r, rho0, pi, pi_new, gamma)
    return float(exact.occupancy(mdp, pi) @ a_bar / (1 - gamma))


def pd_no_factor(P, r, rho0, pi, pi_new, gamma):  # forgets 1/(1 - gamma)
    mdp, pi, pi_new, A, a_bar = _pd_terms(P, r, rho0, pi, pi_new, gamma)
    return float(exact.occupancy(mdp, pi_new) @ a_bar)


def pd_new_advantage(P, r, rho0, pi, pi_new, gamma):  # the advantage of the new policy over itself: always 0
    mdp, pi, pi_new, A, a_bar = _pd_terms(P, r, rho0, pi, pi_new, gamma)
    A_new = exact.advantages(mdp, pi_new)
    return float(exact.occupancy(mdp, pi_new) @ np.sum(pi_new * A_new, axis=1) / (1 - gamma))


def _cpi(P, r, rho0, pi, gamma, alpha_rule="book", reverse=False):
    mdp = _mdp(P, r, gamma, rho0)
    pi = np.asarray(pi, float)
    A = exact.advantages(mdp, pi)
    greedy = np.eye(A.shape[1])[np.argmax(A, axis=1)]
    a_bar = np.sum(greedy * A, axis=1)
    mean = exact.occupancy(mdp, pi) @ a_bar
    eps = np.max(np.abs(A)) if alpha_rule == "eps_sa" else np.max(np.abs(a_bar))
    if mean <= 0:
        alpha = 0.0
    elif alpha_rule == "one":
        alpha = 1.0
    elif alpha_rule == "no_factor":
        alpha = min(1.0, mean / (4 * gamma * eps))
    else:
        alpha = min(1.0, (1 - gamma) * mean / (4 * gamma * eps))
    mixed = (1 - alpha) * greedy + alpha * pi if reverse else (1 - alpha) * pi + alpha * greedy
    return mixed, alpha


def cpi_policy_iteration(P, r, rho0, pi, gamma):  # alpha = 1: plain policy iteration
    return _cpi(P, r, rho0, pi, gamma, alpha_rule="one")


def cpi_eps_over_actions(P, r, rho0, pi, gamma):  # eps = max_{s,a} |A| instead of max_s |sum_a pi' A|
    return _cpi(P, r, rho0, pi, gamma, alpha_rule="eps_sa")


def cpi_no_discount_factor(P, r, rho0, pi, gamma):  # the source's bound without 1/(1 - gamma) (erratum E0.16)
    return _cpi(P, r, rho0, pi, gamma, alpha_rule="no_factor")


def cpi_reversed_mixture(P, r, rho0, pi, gamma):  # (1 - alpha) pi' + alpha pi
    return _cpi(P, r, rho0, pi, gamma, reverse=True)


def _trpo(P, r, rho0, pi, pi_new, gamma, square=True, divergence="tv", with_J=True, power=2):
    mdp, pi, pi_new, A, a_bar = _pd_terms(P, r, rho0, pi, pi_new, gamma)
    gain = exact.occupancy(mdp, pi) @ a_bar / (1 - gamma)
    if divergence == "tv":
        D = np.max(0.5 * np.abs(pi - pi_new).sum(axis=1)) ** (2 if square else 1)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            D = np.max(np.sum(np.where(pi > 0, pi * np.log(pi / pi_new), 0.0), axis=1))
    J = exact.expected_return(mdp, pi) if with_J else 0.0
    return float(J + gain - 4 * np.max(np.abs(A)) * gamma / (1 - gamma) ** power * D)


def trpo_no_square(P, r, rho0, pi, pi_new, gamma):  # max TV, not its square
    return _trpo(P, r, rho0, pi, pi_new, gamma, square=False)


def trpo_kl(P, r, rho0, pi, pi_new, gamma):  # the KL form: also a bound, but not the one asked for
    return _trpo(P, r, rho0, pi, pi_new, gamma, divergence="kl")


def trpo_gain_only(P, r, rho0, pi, pi_new, gamma):  # forgets J(pi)
    return _trpo(P, r, rho0, pi, pi_new, gamma, with_J=False)


def trpo_one_power(P, r, rho0, pi, pi_new, gamma):  # (1 - gamma) instead of (1 - gamma)^2
    return _trpo(P, r, rho0, pi, pi_new, gamma, power=1)


def _cg(Avp, b, iters, tol, beta_rule="ratio", alpha_rule="p", use_tol=True):
    b = np.asarray(b, float)
    x, r = np.zeros_like(b), b.copy()
    p = r.copy()
    for _ in range(iters):
        if use_tol and np.linalg.norm(r) <= tol or r @ r == 0:
            break
        Ap = np.asarray(Avp(p), float)
        alpha = (r @ r) / (p @ Ap) if alpha_rule == "p" else (r @ r) / (r @ np.asarray(Avp(r), float))
        x = x + alpha * p
        r_new = r - alpha * Ap
        if beta_rule == "ratio":
            beta = (r_new @ r_new) / (r @ r)
        elif beta_rule == "plus_conjugacy":  # the source's b.22 without its minus sign (erratum E2.52)
            beta = (r_new @ Ap) / (p @ Ap)
        else:
            beta = 0.0
        p, r = r_new + beta * p, r_new
    return x


def cg_conjugacy_sign(Avp, b, iters, tol):
    return _cg(Avp, b, iters, tol, beta_rule="plus_conjugacy")


def cg_steepest_directions(Avp, b, iters, tol):  # p = r: steepest descent with exact steps
    return _cg(Avp, b, iters, tol, beta_rule="none")


def cg_ignores_tol(Avp, b, iters, tol):
    return _cg(Avp, b, iters, tol, use_tol=False)


def cg_extra_product(Avp, b, iters, tol):  # right answer, plus a product to report the final residual
    x = _cg(Avp, b, iters, tol)
    _ = np.asarray(b, float) - np.asarray(Avp(x), float)
    return x


def cg_forms_the_matrix(Avp, b, iters, tol):  # n products to build A, then a dense solve
    b = np.asarray(b, float)
    A = np.column_stack([Avp(e) for e in np.eye(len(b))])
    return np.linalg.solve(A, b)


def _fvp(policy, obs, v, damping, reduce="mean", detach=True, use_damping=True):
    import torch

    params = list(policy.parameters())
    old = policy(obs)
    old = old.detach() if detach else old
    log_old, log_new = torch.log_softmax(old, -1), torch.log_softmax(policy(obs), -1)
    kl = (log_old.exp() * (log_old - log_new)).sum(-1)
    kl = kl.mean() if reduce == "mean" else kl.sum()
    grads = torch.autograd.grad(kl, params, create_graph=True, allow_unused=True)
    g = torch.cat([(torch.zeros_like(p) if q is None else q).reshape(-1) for q, p in zip(grads, params)])
    if not g.requires_grad:
        return damping * v if use_damping else torch.zeros_like(v)
    hv = torch.autograd.grad(g @ v.detach(), params, allow_unused=True)
    out = torch.cat([(torch.zeros_like(p) if q is None else q).reshape(-1) for q, p in zip(hv, params)])
    return out + (damping * v if use_damping else 0.0)


def fvp_no_damping(policy, obs, v, damping):
    return _fvp(policy, obs, v, damping, use_damping=False)


def fvp_sum_over_states(policy, obs, v, damping):  # the KL summed over the batch, not averaged
    return _fvp(policy, obs, v, damping, reduce="sum")


def fvp_old_not_detached(policy, obs, v, damping):  # KL(pi_theta || pi_theta) is 0 for every theta: F v = 0
    return _fvp(policy, obs, v, damping, detach=False)


def _ls(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter, first=0, use_kl=True, use_gain=True, strict=True,
        baseline=True, kl_strict=False, tries=None):
    theta, full_step = np.asarray(theta, float), np.asarray(full_step, float)
    before = surr_fn(theta) if baseline else 0.0
    for j in range(first, max_iter if tries is None else tries):
        candidate = theta + coef**j * full_step
        kl = kl_fn(candidate)
        kl_ok = (kl < delta if kl_strict else kl <= delta) if use_kl else True
        gain = surr_fn(candidate) - before
        gain_ok = (gain > 0 if strict else gain >= 0) if use_gain else True
        if kl_ok and gain_ok:
            return j
    return None


def ls_kl_only(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter):  # erratum E3.13: KL alone
    return _ls(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter, use_gain=False)


def ls_starts_at_one(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter):  # erratum E0.19: "positive j"
    return _ls(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter, first=1)


def ls_gain_not_strict(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter):
    return _ls(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter, strict=False)


def ls_gain_above_zero(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter):  # surr > 0, not surr > surr(theta)
    return _ls(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter, baseline=False)


def ls_kl_strict(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter):
    return _ls(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter, kl_strict=True)


def ls_one_more_try(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter):  # j = 0, ..., max_iter
    return _ls(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter, tries=max_iter + 1)


def ls_halves(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter):  # 0.5 whatever coef says
    return _ls(theta, full_step, kl_fn, surr_fn, delta, 0.5, max_iter)


def ls_returns_parameters(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter):
    j = _ls(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter)
    return theta if j is None else np.asarray(theta) + coef**j * np.asarray(full_step)


def _clip(logp_new, logp_old, adv, eps, mode="right"):
    import torch

    log_ratio = logp_new - (logp_old if mode == "old not detached" else logp_old.detach())
    ratio = logp_new / logp_old.detach() if mode == "quotient" else torch.exp(log_ratio)
    clipped = torch.clamp(ratio, 1 - eps, 1 + eps)
    if mode == "clip only":
        return -(clipped * adv).mean()
    if mode == "max":
        return -torch.max(ratio * adv, clipped * adv).mean()
    if mode == "objective":
        return torch.min(ratio * adv, clipped * adv).mean()
    if mode == "clip log ratio":
        return -torch.min(ratio * adv, torch.exp(torch.clamp(log_ratio, -eps, eps)) * adv).mean()
    return -torch.min(ratio * adv, clipped * adv).mean()


def clip_only(logp_new, logp_old, adv, eps):  # the clipped term alone: no gradient outside the band on both sides
    return _clip(logp_new, logp_old, adv, eps, "clip only")


def clip_max(logp_new, logp_old, adv, eps):
    return _clip(logp_new, logp_old, adv, eps, "max")


def clip_quotient(logp_new, logp_old, adv, eps):  # ratio as a quotient of log-probabilities
    return _clip(logp_new, logp_old, adv, eps, "quotient")


def clip_objective_not_loss(logp_new, logp_old, adv, eps):
    return _clip(logp_new, logp_old, adv, eps, "objective")


def clip_log_ratio(logp_new, logp_old, adv, eps):  # clips log(rho) to [-eps, eps]: kinks at e^+-eps
    return _clip(logp_new, logp_old, adv, eps, "clip log ratio")


def clip_old_attached(logp_new, logp_old, adv, eps):
    return _clip(logp_new, logp_old, adv, eps, "old not detached")


def _vloss(v_new, v_old, returns, clip_eps=None, mode="right"):
    import torch

    old = v_old if mode == "old attached" else v_old.detach()
    unclipped = (v_new - returns).square()
    if clip_eps is None or mode == "ignores clip":
        return (0.5 if mode == "half" else 1.0) * unclipped.mean()
    if mode == "around returns":
        clipped = returns + (v_new - returns).clamp(-clip_eps, clip_eps)
    else:
        clipped = old + (v_new - old).clamp(-clip_eps, clip_eps)
    pick = torch.min if mode == "min" else torch.max
    return (0.5 if mode == "half" else 1.0) * pick(unclipped, (clipped - returns).square()).mean()


def vloss_min(v_new, v_old, returns, clip_eps=None):
    return _vloss(v_new, v_old, returns, clip_eps, "min")


def vloss_half(v_new, v_old, returns, clip_eps=None):
    return _vloss(v_new, v_old, returns, clip_eps, "half")


def vloss_ignores_clip(v_new, v_old, returns, clip_eps=None):
    return _vloss(v_new, v_old, returns, clip_eps, "ignores clip")


def vloss_around_returns(v_new, v_old, returns, clip_eps=None):
    return _vloss(v_new, v_old, returns, clip_eps, "around returns")


def vloss_old_attached(v_new, v_old, returns, clip_eps=None):
    return _vloss(v_new, v_old, returns, clip_eps, "old attached")


def _beta(beta, kl, target, up=2.0, band=1.5, strict=True, swapped=False):
    high, low = (kl > band * target, kl < target / band) if strict else (kl >= band * target, kl <= target / band)
    if swapped:
        high, low = low, high
    return beta * up if high else beta / up if low else beta


def beta_swapped(beta, kl, target):  # halves the penalty when the KL is too large
    return _beta(beta, kl, target, swapped=True)


def beta_factor_one_and_a_half(beta, kl, target):
    return _beta(beta, kl, target, up=1.5)


def beta_not_strict(beta, kl, target):
    return _beta(beta, kl, target, strict=False)


def beta_band_two(beta, kl, target):
    return _beta(beta, kl, target, band=2.0)


CASES = [
    (ch01.check_rewards_to_go, ref_rtg, [
        (rtg_off_by_one, "one step"), (rtg_through_terminal, "episode boundary"),
        (rtg_integer_output, "integer rewards"), (rtg_bitwise_not, "integer rewards"),
        (rtg_in_place, "changed its input `rewards`")]),
    (ch01.check_evaluate_policy, ref_eval, [
        (eval_no_gamma_in_q, "Q"), (eval_transposed, "V"), (eval_inverse, "solve the linear system"),
        (eval_integer, "integer inputs")]),
    (ch01.check_occupancy, ref_occ, [
        (occ_unnormalised, "a distribution sums to 1"), (occ_backwards, "wrong on case"),
        (occ_ignores_policy, "wrong on case"), (occ_truncated, "sums to")]),
    (ch02.check_value_iteration, ref_vi, [
        (vi_naive_stop, "gamma/(1-gamma)"), (vi_sum_not_max, "wrong on case"), (vi_fixed_sweeps, "gamma = 0.99"),
        (vi_no_abs, "negative rewards"), (vi_integer, "integer inputs")]),
    (ch02.check_policy_iteration, ref_pi, [
        (pi_one_step, "values[-1]"), (pi_argmin, "wrong on case"),
        (pi_made_up_values, "not the value of any deterministic policy"), (pi_only_final_value, "values[0]")]),
    (ch05.check_score_function_grad, score.gaussian_score_gradient, [
        (score_sigma_not_squared, "wrong on case"), (score_wrt_sigma, "wrong on case"),
        (score_summed, "wrong on case")]),
    (ch05.check_importance_estimate, importance.importance_estimate, [
        (is_self_normalized, "wrong on case"), (is_inverted_ratio, "wrong on case"),
        (is_exp_then_divide, "tiny probabilities")]),
    (ch05.check_effective_sample_size, importance.effective_sample_size, [
        (ess_inverted, "wrong on case"), (ess_overflows, "huge log-ratios"),
        (ess_assumes_normalised, "wrong on case")]),
    (ch06.check_trajectory_score, pg.trajectory_score, [
        (traj_counts_only, "wrong on case"), (traj_last_step, "a state visited twice"),
        (traj_no_shift, "large logits")]),
    (ch06.check_softmax_policy_gradient, ch06._gradient_reference, [
        (pg_times_one_minus_gamma, "wrong on case"), (pg_q_not_a, "wrong on case"),
        (pg_start_distribution, "wrong on case")]),
    (ch07.check_reinforce_loss, ch07.reinforce_loss, [
        (loss_no_reset, "two episodes"), (loss_global_t, "two episodes"), (loss_mean_over_steps, "one episode"),
        (loss_baseline_attached, "detach"), (loss_plus_sign, "one episode"), (loss_detached, "no gradient"),
        (loss_full_return, "one episode")]),
    (ch07.check_optimal_baseline, baselines.optimal_baseline, [
        (ob_erratum, "wrong on case"), (ob_no_squares, "wrong on case"), (ob_value, "wrong on case"),
        (ob_trace, "a bandit"), (ob_ignores_weights, "wrong on case")]),
    (ch07.check_leave_one_out_baseline, baselines.leave_one_out_baseline, [
        (loo_with_own, "three returns"), (loo_divides_by_n, "three returns"), (loo_integer, "integer returns")]),
    (ch08.check_compute_gae, ch08.compute_gae, [
        (gae_no_reset, "two episodes"), (gae_bootstraps_terminal, "one step, terminated"),
        (gae_truncation_as_termination, "one step, truncated"), (gae_no_gamma_in_carry, "lam = 1"),
        (gae_erratum_index, "lam = 1")]),
    (ch08.check_critic_loss, ch08.critic_loss, [
        (cl_ascends, "the sign is wrong"), (cl_not_detached, "targets.detach()"), (cl_sum, "values above and below"),
        (cl_absolute, "one value")]),
    (ch09.check_per_decision_weights, importance.per_decision_weights, [
        (pdw_no_reset, "two episodes"), (pdw_exclusive, "one step"), (pdw_current_only, "one episode"),
        (pdw_probabilities, "tiny probabilities")]),
    (ch09.check_off_policy_pg, ch09.off_policy_pg, [
        (opg_per_decision_dropped, "per_decision"), (opg_discount_from_t, "per_decision"),
        (opg_single_cumulative, "single_ratio"), (opg_exp_first, "extreme ratios"), (opg_batch_mean, "shape")]),
    (ch10.check_categorical_kl, ch10.categorical_kl, [
        (ckl_reversed, "two outcomes"), (ckl_logits_as_log_probs, "shifted by a constant"),
        (ckl_naive_softmax, "large logits"), (ckl_total, "a batch of rows")]),
    (ch10.check_diag_gaussian_kl, ch10.diag_gaussian_kl, [
        (dgk_seed_factor, "E4.1"), (dgk_std_as_log_std, "wrong on case"), (dgk_reversed, "wrong on case"),
        (dgk_no_minus_half, "equal Gaussians"), (dgk_per_dimension, "has shape")]),
    (ch10.check_policy_fisher, ch10.policy_fisher, [
        (pf_uniform_states, "two-state"), (pf_start_states, "two-state"), (pf_unnormalised, "two-state"),
        (pf_not_centred, "two-state"), (pf_column_major, "wrong on case")]),
    (ch10.check_maximal_coupling, info.maximal_coupling, [
        (mc_independent, "not a maximal one"), (mc_diagonal_only, "row sums"), (mc_transposed, "(X ~ p)"),
        (mc_unnormalised_excess, "row sums")]),
    (ch11.check_natural_gradient_step, ch11.natural_gradient_step, [
        (ngs_no_half, "mind the 1/2"), (ngs_euclidean, "diagonal F"), (ngs_sqrt_direction, "diagonal F"),
        (ngs_ignores_damping, "damping"), (ngs_no_guard, "zero gradient")]),
    (ch11.check_natural_step_in_new_coordinates, ch11.natural_step_in_new_coordinates, [
        (nsc_gradient_times_A, "a diagonal A"), (nsc_fisher_untransformed, "A = 2 I"),
        (nsc_fisher_wrong_sides, "A = 2 I"), (nsc_step_in_theta, "A = 2 I")]),
    (ch12.check_performance_difference, ch12.performance_difference, [
        (pd_old_states, "two-state"), (pd_no_factor, "two-state"), (pd_new_advantage, "two-state")]),
    (ch12.check_cpi_step, ch12.cpi_step, [
        (cpi_policy_iteration, "alpha"), (cpi_eps_over_actions, "alpha"), (cpi_no_discount_factor, "alpha"),
        (cpi_reversed_mixture, "pi_next")]),
    (ch12.check_trpo_lower_bound, ch12.trpo_lower_bound, [
        (trpo_no_square, "the bound"), (trpo_kl, "the bound"), (trpo_gain_only, "the bound"),
        (trpo_one_power, "the bound")]),
    (ch13.check_conjugate_gradient, ch13.conjugate_gradient, [
        (cg_conjugacy_sign, "three steps"), (cg_steepest_directions, "three steps"),
        (cg_ignores_tol, "already good enough"), (cg_forms_the_matrix, "one iteration only"),
        (cg_extra_product, "called Avp")]),
    (ch13.check_fisher_vector_product, ch13.fisher_vector_product, [
        (fvp_no_damping, "damping 0.1"), (fvp_sum_over_states, "5 states"), (fvp_old_not_detached, "wrong on case")]),
    (ch13.check_backtracking_line_search, ch13.backtracking_line_search, [
        (ls_kl_only, "comes back to its old value"), (ls_starts_at_one, "the full step fits"),
        (ls_gain_not_strict, "comes back to its old value"), (ls_gain_above_zero, "starts at 1"),
        (ls_kl_strict, "exactly δ"), (ls_one_more_try, "is max_iter"), (ls_halves, "coef 0.8"),
        (ls_returns_parameters, "return an integer j")]),
    (ch14.check_ppo_clip_loss, ch14.ppo_clip_loss, [
        (clip_only, "ratios from 0.5"), (clip_max, "ratios from 0.5"), (clip_quotient, "the new policy is the old one"),
        (clip_objective_not_loss, "the new policy is the old one"), (clip_log_ratio, "ratios from 0.5"),
        (clip_old_attached, "gradient flows into the logp_old")]),
    (ch14.check_value_loss, ch14.value_loss, [
        (vloss_min, "clipping that binds"), (vloss_half, "no clipping"), (vloss_ignores_clip, "clipping that binds"),
        (vloss_around_returns, "clipping that binds"), (vloss_old_attached, "gradient flows into the v_old")]),
    (ch14.check_adaptive_kl_beta, ch14.adaptive_kl_beta, [
        (beta_swapped, "far above"), (beta_factor_one_and_a_half, "far above"), (beta_not_strict, "exactly 1.5"),
        (beta_band_two, "just above")]),
    (ch02.check_greedy, dp.greedy, [
        (greedy_last_tie, "lowest index"), (greedy_float, "must be integers"), (greedy_tolerant, "not a tie"),
        (greedy_in_place, "changed its input `Q`"), (greedy_wrong_axis, "one per state")]),
]


@pytest.mark.parametrize("checker, reference, wrongs", CASES, ids=lambda x: getattr(x, "__name__", ""))
def test_reference_passes_and_wrong_answers_fail(checker, reference, wrongs):
    result = checker(reference)
    assert result.status == PASS, str(result)
    assert "pass" in result._repr_html_()
    for wrong, phrase in wrongs:
        result = checker(wrong)
        assert result.status == FAIL, f"{wrong.__name__}: {result}"
        assert phrase in str(result), f"{wrong.__name__}: expected {phrase!r} in\n{result}"
        if "changed its input" not in result.message:
            assert "expected" in str(result) and "got" in str(result)


@pytest.mark.parametrize("checker", [c for c, _, _ in CASES], ids=lambda c: c.__name__)
def test_stub_is_reported_not_attempted(checker):
    def stub(*args, **kwargs):
        raise NotImplementedError

    result = checker(stub)
    assert result.status == NOT_ATTEMPTED and "rlcore." in result.message


@pytest.mark.parametrize("checker", [c for c, _, _ in CASES], ids=lambda c: c.__name__)
def test_exceptions_and_nan_are_reported(checker):
    def raises(*args, **kwargs):
        return 1 / 0

    result = checker(raises)
    assert result.status == ERROR and "ZeroDivisionError" in result.message

    def nan(*args, **kwargs):
        return np.full(3, np.nan)

    result = checker(nan)
    assert result.status == FAIL


def test_wrong_shape_and_nan_messages():
    case = Case("c", dict(x=np.arange(3.0)))
    ident = lambda x: x  # noqa: E731
    assert "shape (2,)" in str(run_exercise("E", lambda x: x[:2], [case], ident, _cmp, "ref"))
    assert "NaN" in str(run_exercise("E", lambda x: x * np.nan, [case], ident, _cmp, "ref"))
    assert "numeric" in str(run_exercise("E", lambda x: "abc", [case], ident, _cmp, "ref"))
    assert run_exercise("E", 3, [case], ident, _cmp, "ref").status == ERROR


def _cmp(got, case):
    from rlcore.exercises import array_problem
    return array_problem(got, case.expected, 1e-9)


def test_endless_loop_is_stopped():
    def forever(x):
        while True:
            pass

    result = run_exercise("E", forever, [Case("c", dict(x=1.0))], lambda x: x, _cmp, "ref", time_limit=0.3)
    assert result.status == TIMEOUT and "longer than 0.3 s" in result.message


SWALLOWERS = {
    "except Exception": "while True:\n    try:\n        x = 1\n    except Exception:\n        pass",
    "bare except": "while True:\n    try:\n        x = 1\n    except:  # noqa\n        pass",
    "except BaseException": "while True:\n    try:\n        x = 1\n    except BaseException:\n        pass",
}


@pytest.mark.parametrize("isolate", [True, False], ids=["forked", "in-process"])
@pytest.mark.parametrize("kind", list(SWALLOWERS))
def test_a_loop_that_swallows_exceptions_still_times_out(kind, isolate, monkeypatch):
    if isolate is False and kind != "except Exception":
        pytest.skip("only a forked child can stop a loop that catches BaseException")
    namespace: dict = {}
    exec("def f(x):\n" + "\n".join("    " + line for line in SWALLOWERS[kind].splitlines()), namespace)
    start = time.monotonic()
    result = run_exercise("E", namespace["f"], [Case("c", dict(x=1.0))], lambda x: x, _cmp, "ref",
                          time_limit=0.5, isolate=isolate)
    assert result.status == TIMEOUT, str(result)
    assert time.monotonic() - start < 5  # the limit (0.5 s) plus a fork; far from "forever"


def _run(fn, isolate=True):
    return run_exercise("E", fn, [Case("c", dict(x=np.arange(3.0)))], lambda x: x, _cmp, "ref",
                        time_limit=2, isolate=isolate)


def test_exits_recursion_memory_and_floods_are_the_readers_errors():
    def exits(x):
        sys.exit(3)

    def hard_exit(x):
        os._exit(0)

    def recurse(x):
        return recurse(x)

    def hog(x):
        return np.ones((10**6, 10**5))

    def flood(x):
        print("y" * 5_000_000)
        return x

    assert "sys.exit(3)" in _run(exits).message and _run(exits).status == ERROR
    assert _run(exits, isolate=False).status == ERROR
    assert "ended the process" in _run(hard_exit).message
    assert "recursed too deeply" in _run(recurse).message
    assert "ran out of memory" in _run(hog).message
    flooded = _run(flood)
    assert flooded.status == PASS and "more characters not shown" in str(flooded) and len(str(flooded)) < 10_000


def test_plain_argmax_policy_iteration_cycles_and_times_out(monkeypatch):
    monkeypatch.setattr(framework, "TIME_LIMIT", 1.0)
    result = ch02.check_policy_iteration(pi_plain_argmax)
    assert result.status == TIMEOUT and "FrozenLake 4x4" in result.message and "cycle" in str(result)


def test_correct_float32_code_passes():
    assert ch01.check_evaluate_policy(eval_float32).status == PASS


def test_gamma_zero_division_is_reported():
    result = ch02.check_value_iteration(vi_divides_by_gamma)
    assert result.status in (ERROR, FAIL) and "gamma = 0" in result.message


def test_use_hands_on_the_readers_function_only_when_it_passes(capsys):
    good = ch02.check_greedy(dp.greedy)
    assert good.use() is dp.greedy and "Using your greedy" in capsys.readouterr().out
    bad = ch02.check_greedy(greedy_last_tie)
    assert bad.use() is dp.greedy and "rlcore.tabular.dp.greedy, the reference" in capsys.readouterr().out
    stub = ch02.check_value_iteration(lambda P, r, gamma, tol: (_ for _ in ()).throw(NotImplementedError))
    fallback = stub.use(quiet=True)
    P, r = np.ones((1, 1, 1)), np.ones((1, 1))
    assert abs(fallback(P=P, r=r, gamma=0.5, tol=1e-9)[0] - 2.0) < 1e-8


def test_a_torch_checker_does_not_hang_in_a_forked_child_with_many_threads():
    """Readers on Colab run torch with several threads; a forked child must not reuse the parent's thread pool."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    code = ("from rlcore.exercises import ch13\n"
            "print(ch13.check_fisher_vector_product(ch13.fisher_vector_product).status)")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == PASS, done.stdout + done.stderr

