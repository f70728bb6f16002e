"""Networks, heads and the optimiser, each against an independent implementation; the fast paths
against the plain path on the same inputs."""

import math

import numpy as np
import pytest
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from rlcore.distributions import Categorical, DiagGaussian, TanhGaussian
from rlcore.nets import (
    ActorCritic,
    ContinuousQNet,
    DeterministicActor,
    NumpyPolicy,
    QNet,
    SquashedGaussianActor,
    TorchPolicy,
    rollout_policy,
    use_fast_path,
)
from rlcore.nets.fused import FusedActorCritic, flatten_parameters, fused_evaluate_actions, gradient_layout
from rlcore.nets.mlp import linear_layers
from rlcore.training.optim import Adam, clip_grad_norm_, flat_view


def perturbed(net, scale=0.3, seed=0):
    """Move away from the initialisation so that every parameter matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(scale * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return net


@pytest.mark.parametrize("discrete", [True, False])
def test_hand_written_backprop_matches_autograd(discrete):
    """gradcheck: the fused kernel's backward against finite differences of its own forward (float64)."""
    torch.manual_seed(0)
    net = perturbed(ActorCritic(3, 2, discrete, hidden=(5, 4), log_std_init=-0.3)).double()
    obs = torch.randn(7, 3, dtype=torch.float64)
    actions = torch.randint(0, 2, (7,)) if discrete else torch.randn(7, 2, dtype=torch.float64)
    params = list(net.parameters())
    n_actor = len(list(net.actor.parameters()))
    actor = [p for m in linear_layers(net.actor.body) + [net.actor.out] for p in (m.weight, m.bias)]
    actor += [] if discrete else [net.actor.log_std]
    critic = [p for m in linear_layers(net.critic.body) + [net.critic.out] for p in (m.weight, m.bias)]
    assert len(actor) == n_actor and len(actor) + len(critic) == len(params)
    layout = gradient_layout(actor + critic)
    assert torch.autograd.gradcheck(lambda *p: FusedActorCritic.apply(obs, actions, discrete, n_actor,
                                                                      [q.detach().numpy() for q in p], layout, *p),
                                    actor + critic)
    # and its forward pass equals the plain modules'
    for got, want in zip(fused_evaluate_actions(net, obs, actions), net.evaluate_actions(obs, actions)):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("discrete", [True, False])
def test_fast_path_equals_plain_path(discrete):
    """Same network, same batch: the fused kernel gives the plain path's log-probs, values, loss and gradients."""
    torch.manual_seed(0)
    net = perturbed(ActorCritic(4, 3, discrete, log_std_init=-0.5))
    obs = torch.randn(64, 4)
    actions = torch.randint(0, 3, (64,)) if discrete else torch.randn(64, 3)

    def loss_and_grads():
        log_prob, entropy, value = net.evaluate_actions(obs, actions)
        loss = -(log_prob * torch.linspace(-1, 1, 64)).mean() + value.square().mean() - 0.01 * entropy.mean()
        grads = torch.autograd.grad(loss, list(net.parameters()))
        return log_prob, value, loss, grads

    assert not net.fused
    plain = loss_and_grads()
    assert use_fast_path(net) and net.fused
    fast = loss_and_grads()
    for a, b in zip(plain[:3], fast[:3]):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)  # float32, same arithmetic in another order
    for a, b in zip(plain[3], fast[3]):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_fast_path_is_chosen_only_where_valid():
    assert use_fast_path(ActorCritic(4, 2, True))
    assert not use_fast_path(ActorCritic(4, 2, True, activation="relu"))  # the kernel implements tanh
    assert not use_fast_path(ActorCritic(4, 2, True), enabled=False)
    with pytest.raises(ValueError, match="fast=True was asked for, but the fused kernel implements tanh"):
        use_fast_path(ActorCritic(4, 2, True, activation="relu"), enabled=True)
    # the kernel has no double backward: it says so instead of returning a wrong Hessian
    net = ActorCritic(4, 2, True)
    use_fast_path(net)
    log_prob, _, _ = net.evaluate_actions(torch.randn(5, 4), torch.zeros(5, dtype=torch.long))
    first = linear_layers(net.actor.body)[0].weight
    (grad,) = torch.autograd.grad(log_prob.sum(), [first], create_graph=True)
    with pytest.raises(RuntimeError):  # raised, never a silently wrong second derivative
        torch.autograd.grad(grad.square().sum(), [first])


def test_plain_network_supports_double_backward_and_torch_func():
    torch.manual_seed(0)
    net = perturbed(ActorCritic(3, 2, True, hidden=(8, 8))).double()
    obs, actions = torch.randn(6, 3, dtype=torch.float64), torch.randint(0, 2, (6,))
    params = list(net.actor.parameters())
    # double backward: a Hessian-vector product of the log-likelihood equals finite differences of its gradient
    v = torch.randn(sum(p.numel() for p in params), dtype=torch.float64)

    def grad_at(vec):
        vector_to_parameters(vec, params)
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(net.actor.log_prob(obs, actions).sum(), params,
                                                                    create_graph=True)])

    theta = parameters_to_vector(params).detach().clone()
    g = grad_at(theta)
    hvp = torch.cat([h.reshape(-1) for h in torch.autograd.grad(g @ v, params)])
    eps = 1e-6
    finite_diff = (grad_at(theta + eps * v) - grad_at(theta - eps * v)).detach() / (2 * eps)
    vector_to_parameters(theta, params)
    torch.testing.assert_close(hvp, finite_diff, atol=1e-6, rtol=1e-5)  # central differences: O(eps^2) error
    # torch.func: per-sample gradients by vmap(grad) equal a loop of ordinary backward passes
    named = {k: p.detach() for k, p in net.actor.named_parameters()}

    def log_prob_one(p, o, a):
        logits = torch.func.functional_call(net.actor, p, (o.unsqueeze(0),))[0]
        return Categorical.log_prob(logits, a.unsqueeze(0))[0]

    per_sample = torch.func.vmap(torch.func.grad(log_prob_one), in_dims=(None, 0, 0))(named, obs, actions)
    for i in range(len(obs)):
        loop = torch.autograd.grad(net.actor.log_prob(obs[i:i + 1], actions[i:i + 1]).sum(),
                                   list(net.actor.parameters()))
        for (name, _), g_loop in zip(net.actor.named_parameters(), loop):
            torch.testing.assert_close(per_sample[name][i], g_loop)


def test_actor_and_critic_are_separate_modules():
    net = ActorCritic(4, 2, True)
    actor_params, critic_params = set(map(id, net.actor.parameters())), set(map(id, net.critic.parameters()))
    assert actor_params and critic_params and not actor_params & critic_params
    assert actor_params | critic_params == set(map(id, net.parameters()))
    n_actor = sum(p.numel() for p in net.actor.parameters())
    assert parameters_to_vector(net.actor.parameters()).numel() == n_actor == 4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2
    # one optimiser per part: stepping the critic's leaves the actor alone
    before = parameters_to_vector(net.actor.parameters()).clone()
    critic_opt = Adam(net.critic.parameters(), lr=0.1)
    net.critic(torch.randn(8, 4)).sum().backward()
    critic_opt.step()
    assert torch.equal(before, parameters_to_vector(net.actor.parameters()))


@pytest.mark.parametrize("hidden", [(64, 64), (16,), (16, 8, 5)])
@pytest.mark.parametrize("discrete", [True, False])
def test_numpy_policy_agrees_with_torch(discrete, hidden):
    """NumpyPolicy runs actor and critic as one block-diagonal MLP; any depth and widths give the network's numbers."""
    torch.manual_seed(0)
    net = perturbed(ActorCritic(4, 3, discrete, hidden=hidden, log_std_init=-0.5))
    fast = NumpyPolicy(net, seed=0)
    obs = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    action, log_prob, value = fast.act(obs)
    ref_log_prob, _, ref_value = net.evaluate_actions(torch.as_tensor(obs), torch.as_tensor(action))
    # float32 arithmetic in two libraries: agreement to a few ulps of values of order 1
    np.testing.assert_allclose(log_prob, ref_log_prob.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(value, ref_value.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(fast.greedy(obs), TorchPolicy(net).greedy(obs), atol=1e-5)
    # after vector_to_parameters replaces every parameter outright, sync() reads the new ones
    params = list(net.parameters())
    vector_to_parameters(parameters_to_vector(params).detach() * 0.5, params)
    stale = fast.value(obs)
    fast.sync()
    np.testing.assert_allclose(fast.value(obs), TorchPolicy(net).value(obs), atol=1e-5)
    assert np.abs(stale - fast.value(obs)).max() > 1e-3  # the test can fail: without sync the values differ


def test_numpy_and_torch_policies_sample_the_same_distribution():
    """Both implementations of act() draw from pi(.|s): action frequencies within 4 standard errors of each other."""
    torch.manual_seed(0)
    net = perturbed(ActorCritic(2, 3, True), scale=1.0)
    obs = np.tile(np.array([[0.3, -0.7]], dtype=np.float32), (20_000, 1))
    probs = torch.softmax(net.actor(torch.as_tensor(obs[:1]))[0], -1)[0].detach().numpy()
    for policy in (NumpyPolicy(net, seed=1), TorchPolicy(net, torch.Generator().manual_seed(1))):
        freq = np.bincount(policy.act(obs)[0], minlength=3) / len(obs)
        se = np.sqrt(probs * (1 - probs) / len(obs))
        assert np.all(np.abs(freq - probs) < 4 * se)


def test_rollout_policy_choice():
    assert isinstance(rollout_policy(ActorCritic(4, 2, True)), NumpyPolicy)
    assert isinstance(rollout_policy(ActorCritic(4, 2, True), fast=False), TorchPolicy)
    assert isinstance(rollout_policy(ActorCritic(4, 2, True, activation="relu")), TorchPolicy)
    with pytest.raises(ValueError, match="fast=True"):
        rollout_policy(ActorCritic(4, 2, True, activation="relu"), fast=True)


def test_categorical_head_against_torch_distributions():
    logits, other = torch.randn(5, 4), torch.randn(5, 4)
    actions = torch.tensor([0, 1, 2, 3, 1])
    ref = torch.distributions.Categorical(logits=logits)
    torch.testing.assert_close(Categorical.log_prob(logits, actions), ref.log_prob(actions))
    torch.testing.assert_close(Categorical.entropy(logits), ref.entropy())
    torch.testing.assert_close(Categorical.kl(logits, other),
                               torch.distributions.kl_divergence(ref, torch.distributions.Categorical(logits=other)))
    # sampling frequencies: 200k draws, so each frequency is within 0.005 (> 4 standard errors) of its probability
    logits = torch.tensor([[0.0, 1.0, -1.0]]).expand(200_000, 3)
    samples = Categorical.sample(logits, torch.Generator().manual_seed(0))
    freq = torch.bincount(samples, minlength=3) / len(samples)
    torch.testing.assert_close(freq, torch.softmax(logits[0], -1), atol=5e-3, rtol=0)


def test_gaussian_heads_against_torch_distributions():
    mean, log_std = torch.randn(6, 2), torch.tensor([0.3, -1.2])
    actions = torch.randn(6, 2)
    ref = torch.distributions.Normal(mean, log_std.exp())
    torch.testing.assert_close(DiagGaussian.log_prob(mean, log_std, actions), ref.log_prob(actions).sum(-1))
    torch.testing.assert_close(DiagGaussian.entropy(mean, log_std), ref.entropy().sum(-1))
    mean_q, log_std_q = torch.randn(6, 2), torch.tensor([-0.4, 0.5])
    ref_q = torch.distributions.Normal(mean_q, log_std_q.exp())
    torch.testing.assert_close(DiagGaussian.kl(mean, log_std, mean_q, log_std_q),
                               torch.distributions.kl_divergence(ref, ref_q).sum(-1))
    samples = DiagGaussian.sample(mean[:1].expand(100_000, 2), log_std, torch.Generator().manual_seed(0))
    # 100k draws: the sample std is within 1% (> 4 standard errors of about 0.22%) of exp(log_std)
    torch.testing.assert_close(samples.std(0), log_std.exp(), rtol=1e-2, atol=0)
    # tanh-squashed: torch's TransformedDistribution computes the same change of variables
    squashed = torch.distributions.TransformedDistribution(ref, [torch.distributions.TanhTransform(cache_size=1)])
    a = torch.tanh(torch.randn(6, 2, dtype=torch.float64)).float()
    torch.testing.assert_close(TanhGaussian.log_prob(mean, log_std, a), squashed.log_prob(a).sum(-1),
                               atol=1e-4, rtol=1e-4)  # float32 atanh near +-1 loses a few digits


def test_orthogonal_initialisation():
    net = ActorCritic(4, 2, True, hidden=(64, 64))
    w = linear_layers(net.actor.body)[1].weight  # (out, in) = (64, 64)
    torch.testing.assert_close(w @ w.T, 2.0 * torch.eye(64), atol=1e-4, rtol=0)  # gain sqrt(2): W W^T = 2 I
    assert net.actor.out.weight.norm(dim=1).max().item() == pytest.approx(0.01, rel=1e-4)
    assert torch.all(linear_layers(net.critic.body)[0].bias == 0)


def test_other_networks_shapes_and_bounds():
    obs = torch.randn(5, 3)
    assert QNet(3, 4)(obs).shape == (5, 4)
    assert ContinuousQNet(3, 2, hidden=(16,))(obs, torch.randn(5, 2)).shape == (5,)
    mu = DeterministicActor(3, low=[-2.0, 0.0], high=[2.0, 1.0], hidden=(16,))
    a = mu(100 * obs)  # saturated: still inside the box
    assert a.shape == (5, 2) and torch.all(a[:, 0].abs() <= 2) and torch.all((a[:, 1] >= 0) & (a[:, 1] <= 1))
    actor = SquashedGaussianActor(3, 2, hidden=(16,))
    action, log_prob = actor.sample(obs, torch.Generator().manual_seed(0))
    assert action.shape == (5, 2) and log_prob.shape == (5,) and torch.all(action.abs() < 1)
    mean, log_std = actor(obs)
    torch.testing.assert_close(log_prob, TanhGaussian.log_prob(mean, log_std, action), atol=1e-3, rtol=1e-3)
    with pytest.raises(ValueError, match="low < high"):
        DeterministicActor(3, low=[1.0], high=[0.0])


def test_network_argument_errors():
    with pytest.raises(ValueError, match="hidden"):
        ActorCritic(4, 2, True, hidden=())
    with pytest.raises(ValueError, match="activation"):
        ActorCritic(4, 2, True, activation="gelu")
    with pytest.raises(ValueError, match="obs_dim"):
        ActorCritic(0, 2, True)
    with pytest.raises(ValueError, match=r"obs must be a tensor of shape \(batch, 4\), got \(3, 5\)"):
        ActorCritic(4, 2, True).value(torch.zeros(3, 5))


@pytest.mark.parametrize("fused", [True, False])
def test_adam_matches_torch_optim_also_when_parameters_skip_steps(fused):
    torch.manual_seed(0)
    a, b = torch.randn(5, 3, requires_grad=True), torch.randn(3, requires_grad=True)
    a_ref, b_ref = a.detach().clone().requires_grad_(), b.detach().clone().requires_grad_()
    ours = Adam([a, b], lr=0.01, eps=1e-5, fused=fused)
    ref = torch.optim.Adam([a_ref, b_ref], lr=0.01, eps=1e-5)
    x = torch.randn(10, 5)
    for step in range(30):
        use_b = step % 3 != 1  # b is unused (grad None) every third step: its step count must not advance
        for opt, (w, c) in ((ours, (a, b)), (ref, (a_ref, b_ref))):
            out = x @ w + (c if use_b else 0)
            opt.zero_grad()
            (out.sin() ** 2).sum().backward()
            opt.step()
        if step == 10:  # learning-rate changes take effect like torch.optim's param_groups
            ours.param_groups[0]["lr"] = ref.param_groups[0]["lr"] = 0.003
    assert ours.step_counts == [30, 20] == [int(ref.state[p]["step"]) for p in (a_ref, b_ref)]
    # float32, 30 steps: same arithmetic up to operation order
    torch.testing.assert_close(a, a_ref, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(b, b_ref, atol=1e-6, rtol=1e-5)


def test_adam_argument_errors():
    with pytest.raises(ValueError, match="params"):
        Adam([], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        Adam([torch.zeros(1, requires_grad=True)], lr=-1)
    with pytest.raises(ValueError, match=r"betas\[1\]"):
        Adam([torch.zeros(1, requires_grad=True)], betas=(0.9, 1.0))


def test_log_2pi_constant():
    entropy = DiagGaussian.entropy(torch.zeros(1, 1), torch.zeros(1)).item()
    assert math.isclose(entropy, 0.5 * math.log(2 * math.pi * math.e), rel_tol=1e-6)  # N(0, 1)


@pytest.mark.parametrize("max_norm", [None, 0.5, 100.0])
def test_clip_grad_norm_matches_torch(max_norm):
    from rlcore.training.optim import clip_grad_norm_

    torch.manual_seed(0)
    ours = [torch.randn(5, 3, requires_grad=True), torch.randn(4, requires_grad=True)]
    ref = [p.detach().clone().requires_grad_() for p in ours]
    for ps in (ours, ref):
        (ps[0].sin().sum() * 3 + ps[1].square().sum()).backward()
    norm = clip_grad_norm_(ours, max_norm)
    ref_norm = torch.nn.utils.clip_grad_norm_(ref, max_norm if max_norm is not None else float("inf")).item()
    assert norm == pytest.approx(ref_norm, rel=1e-6)  # float32 sums in another order
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-6, atol=1e-7)


def test_flat_view_only_where_tensors_tile_one_buffer():
    buffer = torch.arange(10.0)
    a, b, c = buffer[:6].view(2, 3), buffer[6:8], buffer[8:]
    flat = flat_view([a, b, c])
    assert flat is not None and flat.data_ptr() == buffer.data_ptr() and flat.shape == (10,)
    flat.mul_(2)  # a view: writes reach the tensors
    assert torch.equal(c, torch.tensor([16.0, 18.0]))
    assert flat_view([b, c]).shape == (4,)
    assert flat_view([a, c]) is None  # a gap
    assert flat_view([b, a]) is None  # out of order
    assert flat_view([buffer[:6].view(3, 2).t(), b]) is None  # not contiguous
    assert flat_view([torch.zeros(3), torch.zeros(3)]) is None  # two allocations
    assert flat_view([]) is None


def test_flatten_parameters_keeps_values_and_parameters():
    torch.manual_seed(0)
    net = perturbed(ActorCritic(4, 2, False))
    params = list(net.parameters())
    before = [p.detach().clone() for p in params]
    state = {k: v.clone() for k, v in net.state_dict().items()}
    flatten_parameters(net)
    assert all(p is q for p, q in zip(params, net.parameters()))  # the same nn.Parameter objects
    assert all(torch.equal(p, b) and p.is_leaf and p.requires_grad for p, b in zip(params, before))
    assert flat_view(params) is not None  # now one buffer, in parameters() order
    fresh = ActorCritic(4, 2, False)
    fresh.load_state_dict(net.state_dict())
    assert all(torch.equal(v, fresh.state_dict()[k]) for k, v in state.items())


@pytest.mark.parametrize("discrete", [True, False])
def test_fused_gradients_lie_in_one_buffer_in_parameter_order(discrete):
    """The layout that lets clipping and Adam take one call: after backward, the gradients tile one buffer."""
    torch.manual_seed(0)
    net = ActorCritic(4, 2, discrete)
    assert use_fast_path(net)
    obs = torch.randn(32, 4)
    actions = torch.randint(0, 2, (32,)) if discrete else torch.randn(32, 2)
    log_prob, entropy, value = net.evaluate_actions(obs, actions)
    (log_prob.mean() + entropy.mean() + value.square().mean()).backward()
    grads = [p.grad for p in net.parameters()]
    assert flat_view(grads) is not None and flat_view(list(net.parameters())) is not None


def test_flat_clipping_equals_per_tensor_clipping():
    torch.manual_seed(0)
    nets = [perturbed(ActorCritic(4, 2, True)) for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    use_fast_path(nets[0])  # fused kernel: gradients in one buffer
    obs, actions = torch.randn(64, 4), torch.randint(0, 2, (64,))
    norms = []
    for net in nets:
        log_prob, _, value = net.evaluate_actions(obs, actions)
        (-(log_prob * torch.linspace(-3, 3, 64)).mean() + value.square().mean()).backward()
        norms.append(clip_grad_norm_(list(net.parameters()), 0.1))
    assert flat_view([p.grad for p in nets[0].parameters()]) is not None
    assert flat_view([p.grad for p in nets[1].parameters()]) is None
    assert norms[0] > 0.1 and norms[0] == pytest.approx(norms[1], rel=1e-5)  # the clip binds
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-7, rtol=1e-5)


def test_flat_adam_matches_torch_optim_also_when_a_parameter_skips_a_step():
    """Adam's one-call path (parameters, gradients and moments each in one buffer) against torch.optim.Adam; a
    step where one parameter has no gradient takes the per-tensor path and the step counts part."""
    torch.manual_seed(0)
    net = perturbed(ActorCritic(4, 2, True, hidden=(8,)))
    ref_net = ActorCritic(4, 2, True, hidden=(8,))
    ref_net.load_state_dict(net.state_dict())
    use_fast_path(net)
    ours = Adam(net.parameters(), lr=0.01, eps=1e-5)
    ref = torch.optim.Adam(ref_net.parameters(), lr=0.01, eps=1e-5)
    obs, actions = torch.randn(16, 4), torch.randint(0, 2, (16,))
    flat_steps = []
    one_call = ours._step_flat
    ours._step_flat = lambda: flat_steps.append(one_call()) or flat_steps[-1]
    for step in range(12):
        for model, opt in ((net, ours), (ref_net, ref)):
            log_prob, _, value = model.evaluate_actions(obs, actions)
            opt.zero_grad()
            (-log_prob.mean() + value.square().mean()).backward()
            if step == 5:
                model.critic.out.bias.grad = None  # skips this step: its count stays behind
            opt.step()
        if step == 3:
            ours.param_groups[0]["lr"] = ref.param_groups[0]["lr"] = 0.003
    # one call per step until a parameter skips one; then the step counts differ and each tensor is stepped alone
    assert flat_steps == [True] * 5 + [False] * 7
    assert ours.step_counts[-1] == 11 == int(ref.state[ref_net.critic.out.bias]["step"])
    for a, b in zip(net.parameters(), ref_net.parameters()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)  # float32, 12 steps, same arithmetic


def test_fused_kernel_follows_replaced_parameters_and_refuses_stale_backward():
    torch.manual_seed(0)
    net = ActorCritic(4, 2, True)
    use_fast_path(net)
    obs, actions = torch.randn(8, 4), torch.randint(0, 2, (8,))
    net.evaluate_actions(obs, actions)  # the kernel remembers its parameters
    net.actor.out = torch.nn.Linear(64, 2)  # a new module: its parameters must be read
    params = list(net.parameters())
    vector_to_parameters(parameters_to_vector(params).detach() * 0.9, params)  # new storage for every parameter
    fused = net.evaluate_actions(obs, actions)
    net.fused = False
    for got, want in zip(fused, net.evaluate_actions(obs, actions)):
        torch.testing.assert_close(got, want)
    net.fused = True
    log_prob, _, _ = net.evaluate_actions(obs, actions)
    with torch.no_grad():
        net.actor.out.bias.add_(1.0)  # modified between forward and backward
    with pytest.raises(RuntimeError, match="modified in place"):
        log_prob.sum().backward()


@pytest.mark.parametrize("flat", [True, False])
def test_divergence_check_names_the_parameter_that_is_not_finite(flat):
    from rlcore.training.divergence import TrainingDiverged, check_finite

    net = ActorCritic(4, 2, True)
    if flat:
        flatten_parameters(net)
    assert (flat_view(list(net.parameters())) is not None) == flat
    check_finite(net, {"policy_loss": 0.1}, 100, 1e6)  # finite: passes
    with torch.no_grad():
        net.critic.out.bias[0] = float("nan")
    with pytest.raises(TrainingDiverged, match=r"critic\.out\.bias became NaN/inf after 100 steps"):
        check_finite(net, {"policy_loss": 0.1}, 100, 1e6)
