"""Checkers for the exercises of Chapter 5 (the probability toolkit: score functions, importance sampling).

Every answer is a deterministic function of the samples it is given, so it is compared with the
reference to a relative tolerance of 1e-9 (float64 rounding of sums of up to 10^5 terms is below
1e-12; every conceptual error the tests know moves the answer by more than 1e-3). Properties follow:
a score-function estimate must be within 4 standard errors of the exact gradient, and an effective
sample size between 1 and N.
"""

from __future__ import annotations

import numpy as np

from ..estimators import importance, score
from .framework import Case, CheckResult, array_problem, run_exercise
from .quiz import MULTIPLE, NUMBER, SINGLE, Question, make_quiz

RTOL = 1e-9


def _close(got, expected, name: str) -> str | None:
    scale = max(1.0, float(np.max(np.abs(expected))))
    return array_problem(got, expected, RTOL * scale, name)


def check_score_function_grad(fn, seed: int = 51) -> CheckResult:
    """Exercise 5.1 (Chapter 5, §5.2): ``score_function_grad(f_values, x, mu, sigma)``.

    The score-function estimate of the gradient of ``E_{x ~ N(mu, sigma^2)}[f(x)]`` with respect to
    ``(mu, log sigma)``, eq. (eq-score-gradient) with the scores of eq. (eq-gaussian-score).
    """
    rng = np.random.default_rng(seed)
    cases = [
        Case("one sample", dict(f_values=np.array([2.0]), x=np.array([1.5]), mu=1.0, sigma=0.5),
             "with one sample the estimate is f(x) times the score: (x - mu)/sigma^2 for mu and "
             "(x - mu)^2/sigma^2 - 1 for log sigma."),
        Case("sigma = 1, f = 1", dict(f_values=np.ones(4), x=np.array([-1.0, 0.0, 1.0, 2.0]), mu=0.5, sigma=1.0),
             "f = 1 everywhere: the estimate is the mean of the scores themselves."),
        Case("sigma = 3", dict(f_values=np.array([1.0, -2.0, 0.5]), x=np.array([0.0, 6.0, -3.0]), mu=1.0,
                               sigma=3.0),
             "the score of mu divides by sigma squared, and the log sigma component is dimensionless."),
        Case("negative mean, integer samples", dict(f_values=np.array([3, 1, 4, 1, 5]),
                                                    x=np.array([-2, 0, -1, -3, 1]), mu=-1.0, sigma=2.0),
             "f and x may be integer arrays: compute in floating point."),
    ]
    for i in range(4):
        mu, sigma = float(rng.normal()), float(rng.uniform(0.3, 3.0))
        x = rng.normal(mu, sigma, size=int(rng.integers(100, 2000)))
        cases.append(Case(f"random, f = x^2 #{i + 1}", dict(f_values=x**2, x=x, mu=mu, sigma=sigma)))

    def compare(got, case):
        problem = _close(got, case.expected, "the gradient estimate")
        if problem is None and case.label.startswith("random"):
            k = case.kwargs  # property: within 4 SE of the exact gradient of E[x^2] = mu^2 + sigma^2
            f, x, mu, sigma = k["f_values"], k["x"], k["mu"], k["sigma"]
            terms = np.stack([f * (x - mu) / sigma**2, f * ((x - mu) ** 2 / sigma**2 - 1)])
            se = terms.std(axis=1, ddof=1) / np.sqrt(len(x))
            z = np.abs(np.asarray(got, dtype=float) - np.array([2 * mu, 2 * sigma**2])) / se
            if np.any(z > 6):  # 6 SE: a correct estimate is this far with probability ~1e-9
                problem = f"the estimate is {z.max():.1f} standard errors from the exact gradient (2 mu, 2 sigma^2)"
        return problem

    return run_exercise("Exercise 5.1 (score_function_grad)", fn, cases, score.gaussian_score_gradient, compare,
                        "rlcore.estimators.score.gaussian_score_gradient")


def check_importance_estimate(fn, seed: int = 52) -> CheckResult:
    """Exercise 5.2 (Chapter 5, §5.3): ``importance_estimate(f_values, logp_target, logp_proposal)``.

    The ordinary importance-sampling estimate of eq. (eq-is-estimator), with weights formed in log space.
    """
    rng = np.random.default_rng(seed)
    cases = [
        Case("equal distributions", dict(f_values=np.array([1.0, 2.0, 3.0]), logp_target=np.log([0.2, 0.3, 0.5]),
                                         logp_proposal=np.log([0.2, 0.3, 0.5])),
             "when p = q every weight is 1 and the estimate is the plain mean of f."),
        Case("weights matter", dict(f_values=np.array([1.0, 1.0]), logp_target=np.log([0.9, 0.1]),
                                    logp_proposal=np.log([0.5, 0.5])),
             "the ordinary estimator averages w f over the N samples; it does not divide by the sum of the "
             "weights (that is the self-normalised estimator, a different one)."),
        Case("the target gives probability 0", dict(f_values=np.array([5.0, 1.0]),
                                                    logp_target=np.array([-np.inf, 0.0]),
                                                    logp_proposal=np.log([0.5, 0.5])),
             "log p = -inf means p = 0: that sample's weight is exactly 0."),
        Case("tiny probabilities", dict(f_values=np.array([1.0, 2.0]), logp_target=np.array([-800.0, -801.0]),
                                        logp_proposal=np.array([-801.0, -800.0])),
             "exp(-800) is 0 in floating point: form the weights as exp(log p - log q), never exp(log p) / "
             "exp(log q)."),
    ]
    for i in range(4):
        n = int(rng.integers(50, 500))
        x = rng.normal(0.5, 1.2, size=n)
        cases.append(Case(f"random Gaussians #{i + 1}", dict(
            f_values=np.sin(x) + x, logp_target=-0.5 * x**2,
            logp_proposal=-0.5 * ((x - 0.5) / 1.2) ** 2 - np.log(1.2))))

    return run_exercise("Exercise 5.2 (importance_estimate)", fn, cases, importance.importance_estimate,
                        lambda got, case: _close(got, case.expected, "the estimate"),
                        "rlcore.estimators.importance.importance_estimate")


def check_effective_sample_size(fn, seed: int = 53) -> CheckResult:
    """Exercise 5.3 (Chapter 5, §5.4): ``effective_sample_size(logp_target, logp_proposal)``, eq. (eq-ess)."""
    rng = np.random.default_rng(seed)
    cases = [
        Case("equal weights", dict(logp_target=np.log([0.25] * 4), logp_proposal=np.log([0.25] * 4)),
             "all weights equal: every sample counts, ESS = N."),
        Case("one weight dominates", dict(logp_target=np.array([0.0, -50.0, -50.0]), logp_proposal=np.zeros(3)),
             "one huge weight: ESS is close to 1."),
        Case("weights that do not average to 1", dict(logp_target=np.log([0.9, 0.9]),
                                                      logp_proposal=np.log([0.1, 0.1])),
             "ESS does not depend on the scale of the weights: (sum w)^2 / sum w^2 is the same for w and 9 w."),
        Case("huge log-ratios", dict(logp_target=np.array([700.0, 701.0, 699.0]), logp_proposal=np.zeros(3)),
             "exp(700) overflows in the square: subtract the largest log-weight before exponentiating."),
    ]
    for i in range(4):
        n = int(rng.integers(20, 400))
        x = rng.normal(0.0, 2.0, size=n)
        cases.append(Case(f"random Gaussians #{i + 1}", dict(logp_target=-0.5 * (x - i) ** 2,
                                                             logp_proposal=-0.5 * (x / 2.0) ** 2 - np.log(2.0))))

    def compare(got, case):
        problem = _close(got, case.expected, "ESS")
        n = len(case.kwargs["logp_target"])
        if problem is None and not 1 - 1e-9 <= float(got) <= n + 1e-9:
            problem = f"ESS = {float(got):.4g} lies outside [1, N = {n}]"
        return problem

    return run_exercise("Exercise 5.3 (effective_sample_size)", fn, cases, importance.effective_sample_size,
                        compare, "rlcore.estimators.importance.effective_sample_size")


QUESTIONS = {q.id: q for q in [
    Question(
        "5.1", "Samples come from \\(q = \\mathcal N(1, 1)\\) and the target is \\(p = \\mathcal N(0, 1)\\). "
        "What is the second moment of the weights, \\(\\mathbb E_q[(p/q)^2]\\)?", NUMBER, float(np.e),
        "E_q[w^2] = e^{mu^2} = e for a shift of mu = 1: the variance of the IS estimator of E_p[1] is (e - 1)/N, "
        "1.7 times that of sampling from p itself, and the factor grows like e^{mu^2}.", rtol=1e-3),
    Question(
        "5.2", "The proposal \\(q\\) is 0 on a region where the target \\(p\\) is positive, but \\(f = 0\\) "
        "there. Is the importance-sampling estimate of \\(\\mathbb E_p[f]\\) unbiased?", SINGLE, "a",
        "The support condition asks q > 0 only where p f != 0: where f = 0 the missing samples would contribute 0 "
        "anyway.",
        choices=("yes", "no: q must be positive wherever p is",
                 "only if the region has probability below 1/2 under p"),
        hints={"b": "look at what the missing samples would have contributed: w f with f = 0."}),
    Question(
        "5.3", "Which statements about the effective sample size \\((\\sum_i w_i)^2 / \\sum_i w_i^2\\) of \\(N\\) "
        "positive weights are true? Select all that apply.", MULTIPLE, frozenset("acd"),
        "By Cauchy-Schwarz (sum w)^2 <= N sum w^2, with equality iff all weights are equal; and "
        "(sum w)^2 >= sum w^2 for positive weights. Scaling every weight by c changes neither side's ratio.",
        choices=("it lies between 1 and N", "it equals N exactly when the estimator is unbiased",
                 "it equals N exactly when all weights are equal",
                 "multiplying every weight by 10 leaves it unchanged"),
        hints={"abcd": "unbiasedness is about the expectation of the estimator, not about how equal the weights are."}),
]}

#: ``quiz("5.1")`` shows question 5.1; ``quiz("5.1", answer=2.718)`` grades an answer (Chapter 5, §5.3).
quiz = make_quiz(QUESTIONS)
