"""Fisher-vector products, conjugate gradient and line search, each against an independent route."""

import pytest
import torch

from rlcore.base.quadratic import conjugate_gradient
from rlcore.distributions import Categorical, DiagGaussian, backtracking_line_search, fisher_vector_product
from rlcore.nets import PolicyNet


def test_fisher_vector_product_equals_the_covariance_of_the_score():
    """Hessian of KL(pi_old || pi) at theta_old (double backward) = E_s E_a[score score^T] (by enumeration)."""
    torch.manual_seed(0)
    actor = PolicyNet(3, 4, discrete=True, hidden=(5,), ortho_init=False).double()
    params = list(actor.parameters())
    obs = torch.randn(6, 3, dtype=torch.float64)
    old_logits = actor(obs)[0].detach()

    def kl():
        return Categorical.kl(old_logits, actor(obs)[0]).mean()

    n = sum(p.numel() for p in params)
    fisher = torch.zeros(n, n, dtype=torch.float64)
    probs = torch.softmax(old_logits, -1)
    for s in range(len(obs)):  # F = mean_s sum_a pi(a|s) g g^T, g = grad log pi(a|s)
        for a in range(4):
            log_p = actor.log_prob(obs[s:s + 1], torch.tensor([a]))
            g = torch.cat([x.reshape(-1) for x in torch.autograd.grad(log_p.sum(), params)])
            fisher += probs[s, a] * torch.outer(g, g) / len(obs)
    v = torch.randn(n, dtype=torch.float64)
    torch.testing.assert_close(fisher_vector_product(kl, params, v), fisher @ v, atol=1e-10, rtol=1e-8)
    torch.testing.assert_close(fisher_vector_product(kl, params, v, damping=0.1), fisher @ v + 0.1 * v,
                               atol=1e-10, rtol=1e-8)  # float64 sums of a few hundred terms


def test_gaussian_fisher_of_the_mean_is_the_inverse_variance():
    """For N(mu, sigma^2) with mu a parameter, the Fisher information of mu is 1 / sigma^2."""
    mu, log_std = torch.zeros(2, dtype=torch.float64, requires_grad=True), torch.tensor([0.0, 0.7], dtype=torch.float64)

    def kl():
        return DiagGaussian.kl(mu.detach(), log_std, mu, log_std).sum()

    v = torch.tensor([1.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(fisher_vector_product(kl, [mu], v), torch.exp(-2 * log_std))


def test_conjugate_gradient_solves_a_positive_definite_system():
    g = torch.Generator().manual_seed(0)
    M = torch.randn(6, 6, generator=g, dtype=torch.float64)
    A = M @ M.T + 0.5 * torch.eye(6, dtype=torch.float64)
    b = torch.randn(6, generator=g, dtype=torch.float64)
    x = conjugate_gradient(lambda v: A @ v, b, iters=20)
    torch.testing.assert_close(x, torch.linalg.solve(A, b), atol=1e-8, rtol=1e-8)  # exact after n = 6 steps
    rough = conjugate_gradient(lambda v: A @ v, b, iters=1)  # one step: the steepest-descent point, not the solution
    assert (rough - torch.linalg.solve(A, b)).norm() > 1e-3
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float64  # iterates keep the type of b
    x_numpy = conjugate_gradient(lambda v: A.numpy() @ v, b.numpy(), iters=20)  # the same code on numpy arrays
    assert abs(x_numpy - x.numpy()).max() < 1e-12
    loose = conjugate_gradient(lambda v: A @ v, b, iters=20, tol=1e-3)  # stops once |r| <= tol
    assert (A @ loose - b).norm() <= 1e-3 < (A @ rough - b).norm()


def test_backtracking_line_search():
    x, step = torch.zeros(1), torch.ones(1)
    new, k = backtracking_line_search(lambda c: c.item() <= 0.3, x, step, shrink=0.5)
    assert k == 2 and new.item() == pytest.approx(0.25)  # 1, 0.5 rejected; 0.25 accepted
    same, k = backtracking_line_search(lambda c: False, x, step, max_iter=3)
    assert k is None and torch.equal(same, x)
