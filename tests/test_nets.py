"""Networks, heads and the optimiser, each against an independent implementation."""

import math

import numpy as np
import pytest
import torch

from rlcore.nets import ActorCritic, Categorical, DiagGaussian, NumpyPolicy, TwinTanhMLP
from rlcore.optim import Adam


def test_hand_written_backprop_matches_autograd():
    net = ActorCritic(3, 2, True, hidden=(5, 4)).double()
    obs = torch.randn(7, 3, dtype=torch.float64)
    params = list(net.weights) + list(net.biases)
    assert torch.autograd.gradcheck(lambda *p: TwinTanhMLP.apply(obs, *p), params)
    # and the forward pass equals two ordinary tanh MLPs
    for tower, out in enumerate(TwinTanhMLP.apply(obs, *params)):
        h = obs
        for w, b in zip(net.weights, net.biases):
            h = torch.tanh(h @ w[tower] + b[tower][0])
        torch.testing.assert_close(out, h)


@pytest.mark.parametrize("discrete", [True, False])
def test_numpy_policy_agrees_with_torch(discrete):
    torch.manual_seed(0)
    net = ActorCritic(4, 3, discrete, log_std_init=-0.5)
    with torch.no_grad():  # move away from the initialisation so every parameter matters
        for p in net.parameters():
            p.add_(0.3 * torch.randn_like(p))
    fast = NumpyPolicy(net, seed=0)
    obs = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    action, log_prob, value = fast.act(obs)
    ref_log_prob, _, ref_value = net.evaluate(torch.as_tensor(obs), torch.as_tensor(action))
    # float32 arithmetic in two libraries: agreement to a few ulps of values of order 1
    np.testing.assert_allclose(log_prob, ref_log_prob.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(value, ref_value.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(fast.greedy(obs), net.greedy(torch.as_tensor(obs)).numpy(), atol=1e-5)
    # the views follow in-place optimiser updates
    with torch.no_grad():
        net.value_out.bias.add_(1.0)
    np.testing.assert_allclose(fast.value(obs), ref_value.detach().numpy() + 1.0, atol=1e-5)


def test_categorical_head_against_torch_distributions():
    logits = torch.randn(5, 4)
    actions = torch.tensor([0, 1, 2, 3, 1])
    ref = torch.distributions.Categorical(logits=logits)
    torch.testing.assert_close(Categorical.log_prob(logits, actions), ref.log_prob(actions))
    torch.testing.assert_close(Categorical.entropy(logits), ref.entropy())
    # sampling frequencies: 200k draws, so each frequency is within 0.005 (> 4 standard errors) of its probability
    logits = torch.tensor([[0.0, 1.0, -1.0]]).expand(200_000, 3)
    samples = Categorical.sample(logits, torch.Generator().manual_seed(0))
    freq = torch.bincount(samples, minlength=3) / len(samples)
    torch.testing.assert_close(freq, torch.softmax(logits[0], -1), atol=5e-3, rtol=0)


def test_gaussian_head_against_torch_distributions():
    mean, log_std = torch.randn(6, 2), torch.tensor([0.3, -1.2])
    actions = torch.randn(6, 2)
    ref = torch.distributions.Normal(mean, log_std.exp())
    torch.testing.assert_close(DiagGaussian.log_prob(mean, log_std, actions), ref.log_prob(actions).sum(-1))
    torch.testing.assert_close(DiagGaussian.entropy(mean, log_std), ref.entropy().sum(-1))
    samples = DiagGaussian.sample(mean[:1].expand(100_000, 2), log_std, torch.Generator().manual_seed(0))
    # 100k draws: the sample std is within 1% (> 4 standard errors of about 0.22%) of exp(log_std)
    torch.testing.assert_close(samples.std(0), log_std.exp(), rtol=1e-2, atol=0)


def test_orthogonal_initialisation():
    net = ActorCritic(4, 2, True, hidden=(64, 64))
    w = net.weights[1][0]  # actor's second hidden layer, (in, out) = (64, 64)
    torch.testing.assert_close(w.T @ w, 2.0 * torch.eye(64), atol=1e-4, rtol=0)  # gain sqrt(2): W^T W = 2 I
    assert net.policy_out.weight.norm(dim=1).max().item() == pytest.approx(0.01, rel=1e-4)
    assert torch.all(net.biases[0] == 0)


def test_network_argument_errors():
    with pytest.raises(ValueError, match="hidden"):
        ActorCritic(4, 2, True, hidden=())
    with pytest.raises(ValueError, match="activation"):
        ActorCritic(4, 2, True, activation="gelu")
    with pytest.raises(ValueError, match="obs_dim"):
        ActorCritic(0, 2, True)


@pytest.mark.parametrize("fused", [True, False])
def test_adam_matches_torch_optim(fused):
    torch.manual_seed(0)
    a, b = torch.randn(5, 3, requires_grad=True), torch.randn(3, requires_grad=True)
    a_ref, b_ref = a.detach().clone().requires_grad_(), b.detach().clone().requires_grad_()
    ours = Adam([a, b], lr=0.01, eps=1e-5)
    ours.fused = fused and ours.fused
    ref = torch.optim.Adam([a_ref, b_ref], lr=0.01, eps=1e-5)
    x = torch.randn(10, 5)
    for step in range(20):
        for opt, (w, c) in ((ours, (a, b)), (ref, (a_ref, b_ref))):
            loss = ((x @ w + c).sin() ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if step == 10:  # learning-rate changes take effect like torch.optim's param_groups
            ours.param_groups[0]["lr"] = ref.param_groups[0]["lr"] = 0.003
    # float32, 20 steps: same arithmetic up to operation order
    torch.testing.assert_close(a, a_ref, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(b, b_ref, atol=1e-6, rtol=1e-5)


def test_log_2pi_constant():
    entropy = DiagGaussian.entropy(torch.zeros(1, 1), torch.zeros(1)).item()
    assert math.isclose(entropy, 0.5 * math.log(2 * math.pi * math.e), rel_tol=1e-6)  # N(0, 1)
