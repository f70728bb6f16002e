"""PPO's losses and rules, against hand-computed cases."""

import numpy as np
import pytest
import torch

from rlcore.algos.ppo import PPO, PPOConfig, clipped_surrogate_loss, minibatch_indices, value_loss

EPS = 0.2
# a grid of ratios that avoids the kinks at 1 +- eps, where the derivative is one-sided
RATIOS = [0.5, 0.7, 0.79, 0.81, 0.95, 1.0, 1.05, 1.19, 1.21, 1.5, 2.5]


def hand_loss_and_grad(rho, A, eps):
    """Per-sample -min(rho A, clip(rho) A), and its derivative in rho, case by case."""
    if A > 0:
        return (-(1 + eps) * A, 0.0) if rho > 1 + eps else (-rho * A, -A)  # flat only above 1 + eps
    return (-(1 - eps) * A, 0.0) if rho < 1 - eps else (-rho * A, -A)  # flat only below 1 - eps


@pytest.mark.parametrize("A", [1.7, -0.6])
@pytest.mark.parametrize("rho", RATIOS)
def test_clipped_loss_value_and_gradient(rho, A):
    ratio = torch.tensor([rho], dtype=torch.float64, requires_grad=True)
    loss = clipped_surrogate_loss(ratio, torch.tensor([A], dtype=torch.float64), EPS)
    loss.backward()
    value, grad = hand_loss_and_grad(rho, A, EPS)
    assert loss.item() == pytest.approx(value, abs=1e-12)
    assert ratio.grad.item() == pytest.approx(grad, abs=1e-12)


def test_gradient_is_zero_only_on_the_improving_side():
    """Errata E0.21/E2.28/E3.14: outside [1-eps, 1+eps] the gradient vanishes only where moving further would help."""
    A = torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=torch.float64)
    rho = torch.tensor([1.5, 0.5, 0.5, 1.5], dtype=torch.float64, requires_grad=True)
    # per-sample losses: the mean's gradient is 1/4 of each sample's
    clipped_surrogate_loss(rho, A, EPS).backward()
    # A>0, rho>1+eps: clipped, 0 | A>0, rho<1-eps: full -A | A<0, rho<1-eps: clipped, 0 | A<0, rho>1+eps: full -A
    np.testing.assert_allclose(rho.grad.numpy() * 4, [0.0, -1.0, 0.0, 1.0])


def test_unclipped_surrogate_and_value_clipping():
    ratio, A = torch.tensor([0.5, 2.0]), torch.tensor([1.0, 1.0])
    assert clipped_surrogate_loss(ratio, A, None).item() == pytest.approx(-1.25)
    v, R, v_old = torch.tensor([3.0, 3.0]), torch.tensor([0.0, 4.0]), torch.tensor([2.0, 2.0])
    assert value_loss(v, R, v_old, None).item() == pytest.approx((9 + 1) / 2)
    # clipped V = 2 + clip(1, +-0.5) = 2.5: max((3-0)^2, (2.5-0)^2) = 9, max((3-4)^2, (2.5-4)^2) = 2.25
    assert value_loss(v, R, v_old, 0.5).item() == pytest.approx((9 + 2.25) / 2)


def fake_batch(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"obs": torch.randn(n, 3, generator=g), "actions": torch.randint(0, 2, (n,), generator=g),
            "log_probs": torch.full((n,), float(np.log(0.5))), "values": torch.zeros(n),
            "advantages": torch.randn(n, generator=g), "returns": torch.randn(n, generator=g)}


def run_update(lr, **cfg):
    learner = PPO(PPOConfig(progress=False, lr=lr, hidden=(16,), ortho_init=False, **cfg), 3, 2, True)
    with torch.no_grad():
        learner.net.actor.out.weight.zero_()
        learner.net.actor.out.bias.zero_()  # pi_old = uniform, matching the batch's log_probs
    stats = learner.update(fake_batch(), progress_remaining=1.0)
    return stats, learner


def test_adaptive_kl_coefficient_doubles_and_halves():
    big, learner = run_update(0.05, epochs=10, batch_size=16, clip_range=None, kl_coef=0.1, kl_target=1e-3)
    assert big["approx_kl"] > 1.5e-3 and learner.kl_coef == pytest.approx(0.2)
    small, learner = run_update(1e-7, epochs=1, batch_size=64, clip_range=None, kl_coef=0.1, kl_target=1e-3)
    assert small["approx_kl"] < 1e-3 / 1.5 and learner.kl_coef == pytest.approx(0.05)


def test_kl_early_stopping_ends_the_update():
    stats, _ = run_update(0.05, epochs=10, batch_size=16, target_kl=1e-4)
    # one step already pushes the KL past 1e-4, so the second minibatch is not stepped on
    assert stats["epochs"] == 0 and stats["minibatch_steps"] == 1
    full, _ = run_update(0.05, epochs=10, batch_size=16)
    assert full["epochs"] == 10 and full["minibatch_steps"] == 40 and full["approx_kl"] > stats["approx_kl"]


def test_minibatches_cover_every_index_once_per_epoch():
    batches = list(minibatch_indices(10, 4, 3, torch.Generator().manual_seed(0)))
    assert [len(b) for b in batches] == [4, 4, 2] * 3
    for epoch in range(3):
        assert sorted(torch.cat(batches[3 * epoch:3 * epoch + 3]).tolist()) == list(range(10))


@pytest.mark.parametrize("batch_size", [16, 64])
def test_fast_and_plain_paths_give_the_same_update(batch_size):
    """The fused kernel and fused Adam are the plain path's arithmetic: the same update to float32 rounding."""
    nets = []
    for fast in (None, False):
        stats, learner = run_update(0.01, epochs=4, batch_size=batch_size, fast=fast)
        assert learner.net.fused == (fast is None) and learner.optimizer.fused == (fast is None)
        nets.append((stats, torch.nn.utils.parameters_to_vector(learner.net.parameters()).detach()))
    (fast_stats, fast_params), (plain_stats, plain_params) = nets
    torch.testing.assert_close(fast_params, plain_params, atol=1e-6, rtol=1e-5)
    for key in ("policy_loss", "value_loss", "approx_kl"):
        assert fast_stats[key] == pytest.approx(plain_stats[key], rel=1e-4, abs=1e-6), key


LOSS_SETTINGS = [dict(), dict(clip_range=None, kl_coef=0.3), dict(clip_range_vf=0.05, ent_coef=0.01),
                 dict(normalize_advantages=False, ent_coef=0.1, kl_coef=1.0, clip_range_vf=10.0)]


@pytest.mark.parametrize("discrete", [True, False])
@pytest.mark.parametrize("settings", LOSS_SETTINGS)
def test_fused_loss_equals_plain_loss(settings, discrete):
    """PPO.loss through the fused kernel (LossHead) gives the plain path's loss, approx KL and gradients, with every
    term of eq-ppo-loss switched on somewhere, ratios on both sides of the clip and values on both sides of eps_vf."""
    torch.manual_seed(0)
    learner = PPO(PPOConfig(progress=False, hidden=(16, 16), **settings), 3, 2, discrete)
    n, g = 64, torch.Generator().manual_seed(1)
    with torch.no_grad():
        log_prob, _, value = learner.net.evaluate_actions(torch.zeros(1, 3), torch.zeros(1, dtype=torch.long)
                                                          if discrete else torch.zeros(1, 2))
        obs = torch.randn(n, 3, generator=g)
        actions = torch.randint(0, 2, (n,), generator=g) if discrete else torch.randn(n, 2, generator=g)
        current, _, values = learner.net.evaluate_actions(obs, actions)
    minibatch = {"obs": obs, "actions": actions,
                 "log_probs": current + 0.4 * torch.randn(n, generator=g),  # ratios from about 0.5 to 2
                 "values": values + 0.1 * torch.randn(n, generator=g), "advantages": torch.randn(n, generator=g),
                 "returns": torch.randn(n, generator=g)}
    results = []
    for fused in (True, False):
        learner.net.fused = fused
        loss, approx_kl = learner.loss(minibatch, learner.config.clip_range)
        grads = torch.autograd.grad(loss, list(learner.net.parameters()))
        results.append((loss.detach(), approx_kl.detach(), grads))
    (loss_f, kl_f, grads_f), (loss_p, kl_p, grads_p) = results
    # float32 arithmetic in another order: agreement to a few ulps of the loss's size
    torch.testing.assert_close(loss_f, loss_p, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(kl_f, kl_p, atol=1e-6, rtol=1e-5)
    for a, b in zip(grads_f, grads_p):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("settings", LOSS_SETTINGS)
def test_loss_head_gradients_equal_autograd(settings):
    """LossHead's hand-written gradients in (log_prob, entropy, value) against autograd of the plain loss on 20,000
    float32 samples: ratios at and beyond the clip, values inside and outside eps_vf, and values where
    ``V_old + (V - V_old)`` rounds away from ``V``, so that the clipped branch wins by one ulp."""
    from rlcore.algos.ppo import LossHead
    from rlcore.estimators.advantages import normalize_advantages

    cfg = PPOConfig(**settings)
    g = torch.Generator().manual_seed(0)
    n = 20_000
    old_log_prob = -torch.rand(n, generator=g) * 2
    log_prob = old_log_prob + 0.4 * torch.randn(n, generator=g)
    log_prob[:100] = old_log_prob[:100] + float(np.log1p(0.2))  # rho = 1 + eps up to rounding
    values = torch.randn(n, generator=g) * 3
    minibatch = {"log_probs": old_log_prob, "advantages": torch.randn(n, generator=g),
                 "returns": torch.randn(n, generator=g) * 3,
                 "values": values + torch.randn(n, generator=g) * 0.05}
    entropy = torch.rand(n, generator=g)
    head = LossHead(minibatch, cfg.clip_range, cfg.vf_coef, cfg.ent_coef, cfg.kl_coef, cfg.normalize_advantages,
                    cfg.clip_range_vf)
    loss, approx_kl, (g_log_prob, g_entropy, g_value) = head(log_prob.numpy(), entropy.numpy(), values.numpy())

    leaves = [t.clone().requires_grad_() for t in (log_prob, entropy, values)]
    log_ratio = leaves[0] - old_log_prob
    ratio = log_ratio.exp()
    kl = (ratio - 1 - log_ratio).mean()
    advantages = normalize_advantages(minibatch["advantages"]) if cfg.normalize_advantages else minibatch["advantages"]
    want = (clipped_surrogate_loss(ratio, advantages, cfg.clip_range)
            + cfg.vf_coef * value_loss(leaves[2], minibatch["returns"], minibatch["values"], cfg.clip_range_vf)
            - cfg.ent_coef * leaves[1].mean() + cfg.kl_coef * kl)
    want.backward()
    assert loss == pytest.approx(want.item(), rel=1e-5) and approx_kl == pytest.approx(kl.item(), rel=1e-5)
    # per-sample gradients are O(1/n): 1e-9 absolute is about 1e-5 of their size
    np.testing.assert_allclose(g_log_prob, leaves[0].grad.numpy(), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(g_value, leaves[2].grad.numpy(), rtol=1e-5, atol=1e-9)
    if cfg.ent_coef > 0:
        np.testing.assert_allclose(g_entropy, leaves[1].grad.numpy(), rtol=1e-5, atol=1e-9)
    else:
        assert g_entropy is None


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="clip_range"):
        PPOConfig(clip_range=1.5)
    with pytest.raises(ValueError, match="kl_coef"):
        PPOConfig(kl_target=0.01)
    with pytest.raises(ValueError, match="num_envs"):
        PPOConfig(num_envs=0)
    with pytest.raises(ValueError, match="gamma"):
        PPOConfig(gamma=1.5)
