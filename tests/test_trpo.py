"""TRPO's update (Chapter 13): a step inside the trust region that improves the surrogate, or no step; the critic's
regression; validation; save and load. Learning curves are measured in the chapter and in bench/, not here."""

import numpy as np
import pytest
import torch

from rlcore.algos.trpo import TRPO, TRPOConfig
from rlcore.training.agent import Agent


def _batch(discrete: bool, n: int = 256, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(n, 4, generator=g)
    if discrete:
        actions = torch.randint(0, 2, (n,), generator=g)
    else:
        actions = torch.randn(n, 1, generator=g)
    advantages = torch.randn(n, generator=g) + (actions.float().reshape(n, -1)[:, 0] - 0.5)
    return {"obs": obs, "actions": actions, "advantages": advantages, "returns": torch.randn(n, generator=g)}


@pytest.mark.parametrize("discrete", [True, False])
def test_the_step_respects_the_trust_region_and_improves_the_surrogate(discrete):
    cfg = TRPOConfig(target_kl=0.01, critic_epochs=2, seed=0, progress=False)
    learner = TRPO(cfg, obs_dim=4, action_dim=2 if discrete else 1, discrete=discrete)
    batch = _batch(discrete)
    before = [p.detach().clone() for p in learner.net.actor.parameters()]
    stats = learner.update(batch, 1.0)
    moved = any(not torch.equal(a, b) for a, b in zip(before, learner.net.actor.parameters()))
    if stats["step_accepted"]:
        assert moved and 0 < stats["kl"] <= cfg.target_kl and stats["policy_improvement"] > 0
    else:
        assert not moved


def test_a_tiny_trust_region_accepts_the_full_step():
    """With a tiny radius the quadratic model is accurate: the full step (j = 0) is accepted, with a KL at most delta
    and of its order (the damping makes the damped model's region a little smaller than the KL's) (Chapter 11)."""
    cfg = TRPOConfig(target_kl=1e-4, cg_iters=20, cg_damping=1e-3, critic_epochs=1, seed=1, progress=False)
    learner = TRPO(cfg, obs_dim=4, action_dim=3, discrete=True)
    batch = _batch(True, n=512, seed=1)
    batch["actions"] = torch.randint(0, 3, (512,), generator=torch.Generator().manual_seed(2))
    stats = learner.update(batch, 1.0)
    assert stats["step_accepted"] and stats["backtracks"] == 0
    assert cfg.target_kl / 4 < stats["kl"] <= cfg.target_kl


def test_the_critic_regression_lowers_the_value_error():
    cfg = TRPOConfig(critic_epochs=30, seed=0, progress=False)
    learner = TRPO(cfg, obs_dim=4, action_dim=2, discrete=True)
    batch = _batch(True)
    batch["returns"] = batch["obs"][:, 0] * 2.0  # a learnable target
    with torch.no_grad():
        before = float((learner.net.critic(batch["obs"]) - batch["returns"]).square().mean())
    learner.update(batch, 1.0)
    with torch.no_grad():
        after = float((learner.net.critic(batch["obs"]) - batch["returns"]).square().mean())
    assert after < 0.5 * before


@pytest.mark.parametrize("field, value", [("target_kl", 0.0), ("cg_iters", 0), ("line_search_shrink", 1.0),
                                          ("critic_batch_size", 0), ("cg_damping", -0.1)])
def test_bad_settings_are_named(field, value):
    with pytest.raises(ValueError, match=field):
        TRPOConfig(**{field: value})


def test_save_and_load_keep_the_policy(tmp_path):
    cfg = TRPOConfig(seed=3, progress=False)
    learner = TRPO(cfg, obs_dim=4, action_dim=2, discrete=True)
    agent = Agent(learner.net, cfg)
    agent.save(tmp_path / "trpo.pt")
    loaded = Agent.load(tmp_path / "trpo.pt")
    obs = torch.randn(5, 4)
    assert isinstance(loaded.config, TRPOConfig)
    assert np.allclose(loaded.net.actor(obs)[0].detach(), learner.net.actor(obs)[0].detach())
