"""Checkers for the exercises of Chapter 13 (TRPO): conjugate gradient from matrix-vector products (13.1), the
Fisher-vector product of a network (13.2) and the backtracking line search (13.3), and quiz 13.1.

Exercise 13.1:
Answers are compared with rlcore's matrix-free conjugate gradient to a relative 1e-8 (both run the same
recursion in float64; a different but valid floating-point order differs by < 1e-12 on these well-conditioned
systems, and the conceptual errors the tests know, such as the conjugacy form of beta with the wrong sign or
steepest-descent directions, miss by more than 1e-3). Each answer must also use at most ``iters`` products
``A v``: forming the matrix from ``n`` products defeats the purpose of the method, since TRPO's ``A`` is a Fisher
matrix that is never formed.
"""

from __future__ import annotations

import numpy as np

from ..base.quadratic import conjugate_gradient as _conjugate_gradient
from .framework import Case, CheckResult, array_problem, run_exercise
from .quiz import MULTIPLE, Question, make_quiz

RTOL = 1e-8


class _CountingProduct:
    """``v -> A v`` that counts its calls and refuses anything but a vector of the right length."""

    def __init__(self, A: np.ndarray):
        self.A, self.calls = A, 0

    def __call__(self, v):
        self.calls += 1
        v = np.asarray(v, dtype=float)
        if v.shape != (self.A.shape[0],):
            raise ValueError(f"Avp takes a vector of shape ({self.A.shape[0]},), got {v.shape}")
        return self.A @ v

    def __repr__(self) -> str:
        return f"<function v -> A v, A of shape {self.A.shape}>"


def _spd(rng: np.random.Generator, eigenvalues) -> np.ndarray:
    n = len(eigenvalues)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return Q @ np.diag(eigenvalues) @ Q.T


def conjugate_gradient(Avp, b, iters, tol):
    """Exercise 13.1's signature for :func:`rlcore.base.quadratic.conjugate_gradient` (Chapter 13, §13.1)."""
    return _conjugate_gradient(Avp, b, iters, tol)


def _reference(Avp, b, iters, tol):
    """The reference on the case's matrix, without touching the reader's call counter."""
    A = Avp.A
    return _conjugate_gradient(lambda v: A @ v, b, iters, tol)


def check_conjugate_gradient(fn, seed: int = 131) -> CheckResult:
    """Exercise 13.1 (Chapter 13, §13.1): ``conjugate_gradient(Avp, b, iters, tol)`` solves ``A x = b`` from
    ``x_0 = 0`` with at most ``iters`` products ``Avp(v) = A v``, stopping once ``|r|_2 <= tol``."""
    rng = np.random.default_rng(seed)

    def case(label, A, b, iters, tol, hint=""):
        return Case(label, dict(Avp=_CountingProduct(np.asarray(A, float)), b=np.asarray(b, float), iters=iters,
                                tol=tol), hint)

    cases = [
        case("the identity", np.eye(3), [1.0, 2.0, 3.0], 5, 0.0,
             "with A = I the first step already lands on x = b; the residual is then 0, so stop."),
        case("a diagonal matrix, three steps", np.diag([1.0, 4.0, 9.0]), [1.0, 1.0, 1.0], 3, 0.0,
             "three distinct eigenvalues: three iterations of x += alpha p, r -= alpha A p, p = r + beta p are exact."),
        case("one iteration only", np.diag([1.0, 4.0, 9.0]), [1.0, 1.0, 1.0], 1, 0.0,
             "after one iteration x = alpha b with alpha = b^T b / b^T A b: the first direction is the residual b."),
        case("already good enough", 2 * np.eye(2), [1e-3, 0.0], 10, 0.01,
             "|b| = 1e-3 <= tol: x_0 = 0 is accepted without a single product."),
        case("three distinct eigenvalues in 12 dimensions", _spd(rng, np.repeat([1.0, 3.0, 10.0], 4)),
             rng.normal(size=12), 3, 0.0, "CG is exact after as many steps as A has distinct eigenvalues."),
    ]
    for i in range(3):
        n = int(rng.integers(4, 10))
        cases.append(case(f"random SPD matrix #{i + 1}, n = {n}", _spd(rng, np.geomspace(1.0, 10.0 ** (i + 1), n)),
                          rng.normal(size=n), n, 1e-12))

    def compare(got, case_):
        problem = array_problem(got, case_.expected, RTOL * max(1.0, float(np.max(np.abs(case_.expected)))), "x")
        if problem is None and case_.kwargs["Avp"].calls > case_.kwargs["iters"]:
            problem = (f"your function called Avp {case_.kwargs['Avp'].calls} times for iters = "
                       f"{case_.kwargs['iters']}: one product A p per iteration, and none to form A")
        return problem

    return run_exercise("Exercise 13.1 (conjugate_gradient)", fn, cases, _reference, compare,
                        "rlcore.base.quadratic.conjugate_gradient", fallback_fn=conjugate_gradient)


def _tiny_policy(seed: int, sizes: tuple[int, ...]):
    """A tanh MLP with logits as output, float64, seeded (Chapter 13)."""
    import torch

    torch.manual_seed(seed)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers[:-1]).double()


def fisher_vector_product(policy, obs, v, damping):
    """Exercise 13.2's reference: ``(F + damping I) v`` for a categorical policy whose ``policy(obs)`` are logits, with
    ``F`` the Hessian of the mean ``KL(pi_old || pi_theta)`` at ``theta = theta_old`` (Chapter 13,
    §13.2, eq. (eq-fvp)), by
    :func:`rlcore.distributions.geometry.fisher_vector_product`."""
    import torch

    from ..distributions import Categorical
    from ..distributions.geometry import fisher_vector_product as _fvp

    params = list(policy.parameters())
    old = policy(obs).detach()
    return _fvp(lambda: Categorical.kl(old, policy(obs)).mean(), params, torch.as_tensor(v), damping).detach()


def _explicit_fisher_times(policy, obs, v, damping) -> np.ndarray:
    """``(mean_s J_s^T (diag(p) - p p^T) J_s + damping I) v`` with the Jacobian of the logits: no double backward."""
    import torch
    from torch.func import functional_call

    names = [name for name, _ in policy.named_parameters()]
    shapes = [p.shape for p in policy.parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in policy.parameters()])

    def logits(f):
        pieces, start = {}, 0
        for name, shape in zip(names, shapes):
            size = int(np.prod(shape))
            pieces[name] = f[start:start + size].reshape(shape)
            start += size
        return functional_call(policy, pieces, (obs,))

    J = torch.autograd.functional.jacobian(logits, flat).numpy()  # (batch, actions, params)
    p = torch.softmax(logits(flat), -1).detach().numpy()
    v = np.asarray(v.detach() if hasattr(v, "detach") else v, float)
    out = np.zeros_like(v)
    for i in range(J.shape[0]):
        M = np.diag(p[i]) - np.outer(p[i], p[i])
        out += J[i].T @ (M @ (J[i] @ v))
    return out / J.shape[0] + damping * v


def check_fisher_vector_product(fn, seed: int = 132) -> CheckResult:
    """Exercise 13.2 (Chapter 13, §13.2): ``fisher_vector_product(policy, obs, v, damping)`` returns
    ``(F + damping I) v`` as a flat tensor in the order of ``policy.parameters()``; ``F`` is the Hessian of the
    batch-mean ``KL(pi_old(.|s) || pi_theta(.|s))`` at the current parameters, ``policy(obs)`` the logits. Judged
    against rlcore's double backward and against ``J^T M J`` computed without it."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    cases = []
    for i, (sizes, batch, damping) in enumerate((((2, 3), 1, 0.0), ((3, 4, 2), 5, 0.0), ((2, 5, 3), 7, 0.1),
                                                  ((4, 8, 8, 2), 16, 0.01))):
        policy = _tiny_policy(seed + i, sizes)
        n = sum(p.numel() for p in policy.parameters())
        obs = torch.randn(batch, sizes[0], generator=generator, dtype=torch.float64)
        v = torch.randn(n, generator=generator, dtype=torch.float64)
        hint = {0: "one state, a linear policy: F = J^T (diag(p) - p p^T) J with J the derivative of the logits.",
                1: "average the KL over the batch (mean, not sum), and detach the old logits: the KL must be 0 "
                   "with zero gradient at the current parameters.",
                2: "damping: return F v + damping * v."}.get(i, "")
        cases.append(Case(f"a {'-'.join(map(str, sizes))} network, {batch} states, damping {damping}",
                          dict(policy=policy, obs=obs, v=v, damping=damping), hint))

    def compare(got, case):
        import torch

        if isinstance(got, torch.Tensor):
            got = got.detach().numpy()
        problem = array_problem(got, case.expected.numpy(), 1e-10 * max(1.0, float(case.expected.abs().max())),
                                "F v")
        if problem is None:  # property: the Gauss-Newton form, without double backward
            explicit = _explicit_fisher_times(**case.kwargs)
            if np.max(np.abs(np.asarray(got, float) - explicit)) > 1e-9 * max(1.0, np.max(np.abs(explicit))):
                problem = "F v disagrees with J^T M J v computed from the Jacobian of the logits"
        return problem

    return run_exercise("Exercise 13.2 (fisher_vector_product)", fn, cases, fisher_vector_product, compare,
                        "rlcore.distributions.geometry.fisher_vector_product")


class _Objective:
    """A function of the parameters handed to the reader's line search. It checks what it is given, says what it is,
    and pickles (a failing case travels back from the checker's child process): ``kind`` is ``"half_square"``
    (``|theta|^2 / 2``), ``"poly"`` (a polynomial in ``t = theta . d / |d|^2``, coefficients from the constant up) or
    ``"tabular_kl"``/``"tabular_gain"`` (the exact mean KL and surrogate of :func:`line_search_setting`)."""

    def __init__(self, name: str, kind: str, size: int, text: str, direction=None, coefficients=(), seed: int = 0):
        self.name, self.kind, self.size, self.text = name, kind, size, text
        self.direction, self.coefficients, self.seed = direction, tuple(coefficients), seed
        self._tabular = None

    def __getstate__(self):
        return {**self.__dict__, "_tabular": None}

    def __call__(self, theta) -> float:
        theta = np.asarray(theta.detach() if hasattr(theta, "detach") else theta, dtype=float)
        if theta.shape != (self.size,):
            raise ValueError(f"{self.name} takes parameters of shape ({self.size},), got {theta.shape}")
        if self.kind == "half_square":
            return float(0.5 * theta @ theta)
        if self.kind == "poly":
            t = theta @ self.direction / (self.direction @ self.direction)
            return float(sum(c * t**k for k, c in enumerate(self.coefficients)))
        if self._tabular is None:
            from ..fixtures import line_search_setting

            self._tabular = line_search_setting(self.seed)
        _, _, _, kl, gain = self._tabular
        return float(kl(theta) if self.kind == "tabular_kl" else gain(theta))

    def __repr__(self) -> str:
        return f"<{self.name}: {self.text}>"


def backtracking_line_search(theta, full_step, kl_fn, surr_fn, delta, coef, max_iter):
    """Exercise 13.3's signature for :func:`rlcore.distributions.geometry.backtracking_line_search` (Chapter 13,
    §13.3, eq. (eq-line-search)): the first ``j`` in ``0, ..., max_iter - 1`` whose ``theta + coef**j full_step``
    has ``kl_fn <= delta`` and ``surr_fn`` above ``surr_fn(theta)``, or ``None``."""
    from ..distributions.geometry import backtracking_line_search as _search

    before = surr_fn(theta)

    def accept(candidate) -> bool:  # both conditions: inside the trust region and an improvement
        return kl_fn(candidate) <= delta and surr_fn(candidate) > before

    return _search(accept, np.asarray(theta, float), np.asarray(full_step, float), max_iter, coef)[1]


def check_backtracking_line_search(fn, seed: int = 133) -> CheckResult:
    """Exercise 13.3 (Chapter 13, §13.3): ``backtracking_line_search(theta, full_step, kl_fn, surr_fn, delta, coef,
    max_iter)`` returns the first ``j`` in ``0, ..., max_iter - 1`` such that ``theta_j = theta + coef**j full_step``
    has ``kl_fn(theta_j) <= delta`` and ``surr_fn(theta_j) > surr_fn(theta)``, or ``None`` if there is none. Judged
    on quadratic models built to separate each condition, and on a tabular softmax policy's exact mean KL and
    surrogate."""
    from ..fixtures import line_search_setting
    from ..tabular.natural import natural_gradient_step

    def quadratic_kl(size):  # KL(theta_0 || theta) modelled as |theta - theta_0|^2 / 2 around theta_0 = 0
        return _Objective("kl_fn", "half_square", size, "|theta|^2 / 2")

    def along(direction, coefficients, text):  # a surrogate that depends on t = theta . d / |d|^2 only
        d = np.asarray(direction, float)
        return _Objective("surr_fn", "poly", d.size, f"{text}, t = theta . d / |d|^2 with d = {direction}", d,
                          coefficients)

    def case(label, full_step, kl_fn, surr_fn, delta, coef, max_iter, hint=""):
        full_step = np.asarray(full_step, float)
        return Case(label, dict(theta=np.zeros(full_step.size), full_step=full_step, kl_fn=kl_fn, surr_fn=surr_fn,
                                delta=delta, coef=coef, max_iter=max_iter), hint)

    cases = [
        case("the full step fits", [0.1, 0.0], quadratic_kl(2), along([0.1, 0.0], (0, 1), "t"), 0.01, 0.5, 10,
             "j = 0 is the full step, and it is accepted when it satisfies both conditions."),
        case("the full step is 4 δ long in KL, coef 0.8", [0.4, 0.0], quadratic_kl(2), along([0.4, 0.0], (0, 1), "t"),
             0.02, 0.8, 10,
             "candidate j is theta + coef**j * full_step with the given coef; the KL shrinks like coef**(2j)."),
        case("the KL is exactly δ", [0.5, 0.0], quadratic_kl(2), along([0.5, 0.0], (0, 1), "t"), 0.125, 0.5, 10,
             "the constraint is KL <= delta: a step on the boundary is feasible."),
        case("the surrogate comes back to its old value at the full step", [0.1, 0.1], quadratic_kl(2),
             along([0.1, 0.1], (0, 1, -1), "t - t^2"), 0.05, 0.5, 10,
             "the surrogate must strictly improve: at j = 0 it is back to surr_fn(theta), no gain."),
        case("the surrogate starts at 1", [0.1, 0.0, 0.0], quadratic_kl(3),
             along([0.1, 0.0, 0.0], (1, 1, -1.5), "1 + t - 1.5 t^2"), 0.05, 0.5, 10,
             "improvement means surr_fn(theta_j) > surr_fn(theta), not surr_fn(theta_j) > 0."),
        case("the surrogate falls along the step", [0.1, 0.0], quadratic_kl(2), along([0.1, 0.0], (0, -1), "-t"),
             0.05, 0.5, 10, "no candidate improves the surrogate: return None (TRPO then keeps theta)."),
        case("the first feasible j is max_iter", [0.4, 0.0], quadratic_kl(2), along([0.4, 0.0], (0, 1), "t"), 0.005,
             0.5, 3, "max_iter candidates: j = 0, 1, ..., max_iter - 1."),
    ]
    theta, g, F, _, _ = line_search_setting(seed)
    for delta in (0.5, 1e-3):
        step = natural_gradient_step(g, F, delta, damping=1e-8)
        cases.append(Case(
            f"a softmax policy on a 4-state MDP, δ = {delta}: the natural step, exact KL and surrogate",
            dict(theta=theta.ravel().copy(), full_step=step,
                 kl_fn=_Objective("kl_fn", "tabular_kl", theta.size, "the exact mean KL(pi_theta || pi) over "
                                  "d^pi_theta", seed=seed),
                 surr_fn=_Objective("surr_fn", "tabular_gain", theta.size, "the exact surrogate L_theta(pi)",
                                    seed=seed),
                 delta=delta, coef=0.5, max_iter=15)))

    def compare(got, case):
        expected = case.expected
        if isinstance(got, (bool, np.bool_)) or not (got is None or isinstance(got, (int, np.integer))):
            return f"return an integer j or None, got {type(got).__name__}: {got!r} (expected j = {expected})"
        if got != expected:
            want = "None (no candidate meets both conditions)" if expected is None else f"j = {expected}"
            return f"expected {want}, got {'None' if got is None else f'j = {got}'}"
        return None

    return run_exercise("Exercise 13.3 (backtracking_line_search)", fn, cases, backtracking_line_search, compare,
                        "rlcore.distributions.geometry.backtracking_line_search")


QUESTIONS = {q.id: q for q in [
    Question(
        "13.1", "One TRPO update of a policy network with n parameters. Which statements are true? Select all that "
        "apply.", MULTIPLE, frozenset("bcd"),
        "(a) is false: TRPO never forms the n × n Fisher matrix, let alone inverts it; conjugate gradient needs only "
        "products F v. (b) Each product is one double backward pass through the mean KL, a small multiple of a "
        "gradient's cost. (c) j = 0 is the full step, accepted whenever it passes both tests. (d) That is the "
        "rollback: with no candidate accepted, θ stays where it was. (e) is false: the acceptance test uses the "
        "exact mean KL of the candidate on the batch; the quadratic model only chooses the direction and length.",
        choices=("it forms the Fisher matrix and inverts it",
                 "each conjugate-gradient iteration costs one Fisher-vector product",
                 "the line search may accept the full step",
                 "if no candidate passes, the policy is left unchanged",
                 "the line search tests the quadratic model ½ΔᵀFΔ ≤ δ"),
        hints={"abcd": "(a): how does conjugate gradient use the matrix? §13.1",
               "bcde": "(e): which KL does the line search compute for a candidate? §13.3",
               "bc": "one more: what does TRPO do when the line search accepts nothing?"}),
]}

#: ``quiz("13.1")`` shows question 13.1 (Chapter 13, §13.3).
quiz = make_quiz(QUESTIONS)
