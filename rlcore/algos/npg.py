"""The natural policy gradient with a linear softmax policy, against vanilla gradient ascent (Chapter 11, §11.6;
A-33).

The policy is ``pi(a|s) = softmax(W phi(s))_a`` with features ``phi(s) = [s, 1]``, so the score of a step is
``(e_a - pi(.|s)) phi(s)^T`` in closed form and everything runs in numpy. Each iteration collects complete
episodes, estimates the gradient with standardised rewards-to-go, and either steps ``eta g`` (vanilla) or the
natural step ``sqrt(2 delta / g^T x) x`` with ``x = (F + damping I)^{-1} g``, where ``F`` is the average outer
product of the batch's scores (the sample version of eq. (eq-policy-fisher)).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..base import validate
from ..estimators.returns import rewards_to_go
from ..tabular.natural import natural_gradient_step


def features(obs: np.ndarray) -> np.ndarray:
    """``phi(s) = [s, 1]`` for a batch of observations (Chapter 11, §11.6)."""
    obs = np.atleast_2d(np.asarray(obs, dtype=np.float64))
    return np.concatenate([obs, np.ones((obs.shape[0], 1))], axis=1)


def linear_softmax(W: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """``pi(.|s) = softmax(W phi(s))`` for every row of ``phi`` (Chapter 11, §11.6)."""
    z = phi @ W.T
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def linear_scores(W: np.ndarray, phi: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """``grad_W log pi(a_t|s_t) = (e_{a_t} - pi(.|s_t)) phi(s_t)^T``, flattened, one row per step
    (Chapter 11, §11.6)."""
    pi = linear_softmax(W, phi)
    pi[np.arange(len(actions)), actions] -= 1.0
    return -(pi[:, :, None] * phi[:, None, :]).reshape(len(actions), -1)


@dataclass
class LinearPGConfig:
    """Settings of :func:`train_linear_pg` (Chapter 11, §11.6)."""

    env_id: str = "CartPole-v1"
    method: str = "natural"  #: "natural" or "vanilla"
    iterations: int = 40
    batch_steps: int = 2_000  #: at least this many steps of complete episodes per iteration
    gamma: float = 0.99
    delta: float = 0.01  #: the natural step's KL radius
    damping: float = 1e-3
    step_size: float = 0.1  #: the vanilla step size
    seed: int = 0

    def __post_init__(self):
        validate.one_of(self.method, "method", ("natural", "vanilla"))
        validate.integer(self.iterations, "iterations", low=1)
        validate.integer(self.batch_steps, "batch_steps", low=1)
        validate.discount(self.gamma)
        validate.real(self.delta, "delta", low=0.0, low_open=True)
        validate.real(self.damping, "damping", low=0.0)
        validate.real(self.step_size, "step_size", low=0.0, low_open=True)
        validate.integer(self.seed, "seed", low=0)


@dataclass
class LinearPGResult:
    """What :func:`train_linear_pg` returns: the weights and the learning history (Chapter 11, §11.6)."""

    W: np.ndarray
    steps: list[int] = field(default_factory=list)  #: environment steps after each iteration
    mean_return: list[float] = field(default_factory=list)  #: mean return of the iteration's episodes
    kl: list[float] = field(default_factory=list)  #: mean KL(pi_old || pi_new) over the batch's states


def collect_episodes(env, W: np.ndarray, rng: np.random.Generator, min_steps: int) -> dict:
    """Complete episodes of the linear softmax policy until at least ``min_steps`` steps (Chapter 11, §11.6)."""
    obs_list, act_list, rew_list, done_list, returns = [], [], [], [], []
    while len(obs_list) < min_steps:
        obs, _ = env.reset(seed=int(rng.integers(2**31)))
        total, finished = 0.0, False
        while not finished:
            pi = linear_softmax(W, features(obs))[0]
            action = int(rng.choice(len(pi), p=pi))
            obs_list.append(obs)
            act_list.append(action)
            obs, reward, terminated, truncated, _ = env.step(action)
            finished = terminated or truncated
            rew_list.append(float(reward))
            done_list.append(finished)
            total += float(reward)
        returns.append(total)
    return {"phi": features(np.array(obs_list)), "actions": np.array(act_list), "rewards": np.array(rew_list),
            "dones": np.array(done_list), "returns": returns}


def linear_pg_update(W: np.ndarray, batch: dict, cfg: LinearPGConfig) -> tuple[np.ndarray, float]:
    """One vanilla or natural step from a batch; returns the new weights and the KL of the step (Chapter 11, §11.6).
    """
    scores = linear_scores(W, batch["phi"], batch["actions"])
    G = rewards_to_go(batch["rewards"], batch["dones"], cfg.gamma)
    advantages = (G - G.mean()) / (G.std() + 1e-8)  # standardised rewards-to-go
    g = scores.T @ advantages / len(advantages)  # the policy-gradient estimate
    if cfg.method == "natural":
        F = scores.T @ scores / len(scores)  # the sample Fisher matrix
        step = natural_gradient_step(g, F, cfg.delta, cfg.damping)
    else:
        step = cfg.step_size * g
    W_new = W + step.reshape(W.shape)
    old, new = linear_softmax(W, batch["phi"]), linear_softmax(W_new, batch["phi"])
    kl = float(np.mean(np.sum(old * (np.log(old) - np.log(new)), axis=1)))
    return W_new, kl


def train_linear_pg(cfg: LinearPGConfig | None = None, **overrides) -> LinearPGResult:
    """Train a linear softmax policy with natural or vanilla policy-gradient steps (Chapter 11, §11.6)."""
    import gymnasium as gym

    cfg = LinearPGConfig(**overrides) if cfg is None else cfg
    env = gym.make(cfg.env_id)
    if not hasattr(env.action_space, "n"):
        raise ValueError(f"env_id={cfg.env_id!r} must have discrete actions, got {env.action_space}")
    rng = np.random.default_rng(cfg.seed)
    W = np.zeros((env.action_space.n, env.observation_space.shape[0] + 1))
    result, steps = LinearPGResult(W), 0
    for _ in range(cfg.iterations):
        batch = collect_episodes(env, W, rng, cfg.batch_steps)
        W, kl = linear_pg_update(W, batch, cfg)
        steps += len(batch["actions"])
        result.steps.append(steps)
        result.mean_return.append(float(np.mean(batch["returns"])))
        result.kl.append(kl)
    result.W = W
    env.close()
    return result
