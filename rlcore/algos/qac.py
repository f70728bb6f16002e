"""QAC: an online actor-critic with linear features, the actor weighted by the critic's Q (Chapter 8, §8.6; A-26).

After every step ``(s, a, r, s', a')``:

    delta = r + gamma Q(s', a') - Q(s, a)          (0 in place of Q(s', a') after a termination)
    theta <- theta + eta_theta grad log pi_theta(a|s) Q(s, a)
    omega <- omega + eta_omega delta x(s, a)

with ``Q(s, a) = omega . x(s, a)``, ``x(s, a)`` the tile features of ``s`` in the block of action ``a``, and a
softmax policy over ``theta . x(s, a)``. ``advantage=True`` weights the actor by ``Q(s, a) - sum_b pi(b|s) Q(s, b)``:
the same critic used as a baseline as well. numpy only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..base import validate
from ..nets.tiles import TileCoder
from ..training.config import Config, configure


@dataclass
class QACConfig(Config):
    """QAC's settings (Chapter 8, §8.6). Defaults: MountainCar-v0 with 8 tilings of 8 x 8 tiles."""

    env_id: str = "MountainCar-v0"
    """Gymnasium id (a Box observation space with finite bounds, Discrete actions)."""
    episodes: int = 300
    """Episodes to train for."""
    gamma: float = 1.0
    """Discount factor (MountainCar's episodes end, by the goal or the time limit)."""
    actor_lr: float = 0.02
    """eta_theta, divided by the number of tilings (each state has that many active features)."""
    critic_lr: float = 0.5
    """eta_omega, divided by the number of tilings."""
    tilings: int = 8
    """Number of tilings of the tile coder."""
    tiles: int = 8
    """Tiles per dimension in each tiling."""
    advantage: bool = False
    """Weight the actor by Q(s, a) - sum_b pi(b|s) Q(s, b) instead of Q(s, a)."""
    seed: int = 0
    """Seeds the episodes' start states and the action sampling."""
    progress: bool = False
    """Show a tqdm progress bar over episodes."""

    def __post_init__(self):
        self.require(isinstance(self.env_id, str) and bool(self.env_id), "env_id", "a Gymnasium id")
        for name in ("episodes", "tilings", "tiles"):
            self.require_int(name)
        self.require_int("seed", low=0)
        self.require_real("gamma", 0.0, 1.0)
        self.require_real("actor_lr", 0.0, low_open=True)
        self.require_real("critic_lr", 0.0, low_open=True)
        self.require(isinstance(self.advantage, bool), "advantage", "True or False")


class QAC:
    """QAC's learner: actor weights ``theta`` and critic weights ``omega``, one row per action (Chapter 8, §8.6)."""

    def __init__(self, config: QACConfig, coder: TileCoder, n_actions: int):
        if not isinstance(config, QACConfig):
            raise TypeError(f"config must be a QACConfig, got {type(config).__name__}")
        self.config, self.coder = config, coder
        self.n_actions = validate.integer(n_actions, "n_actions", low=2)
        self.theta = np.zeros((self.n_actions, coder.n_features))
        self.omega = np.zeros((self.n_actions, coder.n_features))  # Q = 0 is optimistic for rewards of -1
        self.rng = np.random.default_rng(config.seed)
        self.history: dict[str, list] = {}  #: per-episode ``episode_return`` and ``episode_length``

    def policy(self, features: np.ndarray) -> np.ndarray:
        """``pi(.|s)``, the softmax of ``theta . x(s, a)`` over actions (Chapter 8, §8.6)."""
        preferences = self.theta[:, features].sum(axis=1)
        z = np.exp(preferences - preferences.max())
        return z / z.sum()

    def act(self, features: np.ndarray) -> tuple[int, np.ndarray]:
        """A sampled action and the policy it was sampled from (Chapter 8, §8.6)."""
        pi = self.policy(features)
        action = int(np.count_nonzero(np.cumsum(pi) < self.rng.random()))  # inverse CDF: a ~ pi
        return min(action, self.n_actions - 1), pi

    def update(self, features, action: int, reward: float, next_features, next_action: int,
               terminated: bool, pi: np.ndarray) -> float:
        """One QAC step on the transition ``(s, a, r, s', a')``; returns the TD error (Chapter 8, §8.6)."""
        cfg = self.config
        eta_theta, eta_omega = cfg.actor_lr / cfg.tilings, cfg.critic_lr / cfg.tilings
        q_all = self.omega[:, features].sum(axis=1)  # Q_w(s, b) for every action b
        q = q_all[action]
        target = reward if terminated else reward + cfg.gamma * self.omega[next_action, next_features].sum()
        weight = q - pi @ q_all if cfg.advantage else q
        # grad log pi(a|s) = x(s, a) - sum_b pi(b|s) x(s, b): +1 in row a, -pi(b) in every row b
        self.theta[:, features] -= eta_theta * weight * pi[:, None]
        self.theta[action, features] += eta_theta * weight
        delta = target - q
        self.omega[action, features] += eta_omega * delta  # semi-gradient TD(0) on Q (Sarsa's update)
        return float(delta)

    def save(self, path) -> None:
        """Write the weights and the config to ``path`` (a ``.npz`` file) (Chapter 8, §8.6)."""
        np.savez(path, theta=self.theta, omega=self.omega, config=np.array(repr(asdict(self.config))),
                 low=self.coder.low, high=self.coder.high, n_actions=self.n_actions)

    @classmethod
    def load(cls, path) -> QAC:
        """Read a learner written by :meth:`save` (Chapter 8, §8.6)."""
        import ast

        data = np.load(path, allow_pickle=False)
        config = QACConfig(**ast.literal_eval(str(data["config"])))
        coder = TileCoder(data["low"], data["high"], config.tilings, config.tiles)
        learner = cls(config, coder, int(data["n_actions"]))
        learner.theta, learner.omega = data["theta"].copy(), data["omega"].copy()
        return learner


def train_qac(config: QACConfig | None = None, **overrides) -> QAC:
    """Train QAC online, one update per step; ``learner.history`` holds the per-episode returns and lengths
    (Chapter 8, §8.6)."""
    import gymnasium as gym

    config = configure(QACConfig, config, overrides)
    env = gym.make(config.env_id)
    space = env.observation_space
    if not hasattr(env.action_space, "n") or not np.all(np.isfinite(space.low)) or not np.all(np.isfinite(space.high)):
        raise ValueError(f"QAC needs Discrete actions and bounded Box observations; {config.env_id} has "
                         f"{env.action_space} and {space}")
    learner = QAC(config, TileCoder(space.low, space.high, config.tilings, config.tiles), int(env.action_space.n))
    episodes = range(config.episodes)
    if config.progress:
        from tqdm.auto import tqdm

        episodes = tqdm(episodes, unit="episode")
    for episode in episodes:
        obs, _ = env.reset(seed=config.seed * 1_000_003 + episode)
        features = learner.coder(obs)
        action, pi = learner.act(features)
        total, length = 0.0, 0
        while True:
            obs, reward, terminated, truncated, _ = env.step(action)
            next_features = learner.coder(obs)
            next_action, next_pi = learner.act(next_features)
            learner.update(features, action, float(reward), next_features, next_action, bool(terminated), pi)
            total, length = total + float(reward), length + 1
            if terminated or truncated:
                break
            features, action, pi = next_features, next_action, next_pi
        learner.history.setdefault("episode_return", []).append(total)
        learner.history.setdefault("episode_length", []).append(length)
    env.close()
    return learner
