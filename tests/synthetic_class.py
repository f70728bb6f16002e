"""A synthetic class: notebooks handed in by students who solve, err, cheat, crash and hang, each with
the grade it deserves. Used by tests/test_grading.py and bench/grading.py."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

# Each exercise: variant -> (code of the cell that defines the function, does it deserve the points?).
# "{visible}" is replaced by a table of the visible cases' answers (a student who hard-codes them).
COMMON = {
    "raises": ("def {name}({args}):\n    raise ValueError('oops')\n", False),
    "endless loop": ("def {name}({args}):\n    while True:\n        try:\n            pass\n"
                     "        except Exception:\n            pass\n", False),
    "exits": ("import sys\n\ndef {name}({args}):\n    sys.exit(0)\n", False),
    "exits at top level": ("import sys\nsys.exit(1)\n\ndef {name}({args}):\n    return None\n", False),
    "hard exit": ("import os\n\ndef {name}({args}):\n    os._exit(3)\n", False),
    "renamed": ("def {name}_v2({args}):\n    return None\n", False),
    "missing cell": (None, False),
    "imports a missing module": ("import no_such_module_anywhere\n\n{solution}", False),
    "imports torch": ("import torch\n\n{solution}", True),  # a heavy import must not count against its memory
    "memory hog": ("import numpy as np\n\ndef {name}({args}):\n    return np.ones((10**6, 10**5))\n", False),
    "stub": ("def {name}({args}):\n    raise NotImplementedError\n", False),
    "floods its output": ("{solution}\nprint('x' * 5_000_000)\n_inner = {name}\n\ndef {name}({args}):\n"
                          "    print('y' * 1_000_000)\n    return _inner({kwargs})\n", True),
    "hard-coded visible cases": ("import numpy as np\n_ANSWERS = {visible}\n\ndef {name}({args}):\n"
                                 "    return _ANSWERS[_key({args})]\n\ndef _key(*arrays):\n"
                                 "    return repr([round(float(np.sum(np.asarray(a, dtype=float))), 6) "
                                 "for a in arrays])\n", False),
}

ARGS = {"rewards_to_go": "rewards, dones, gamma", "evaluate_policy_exact": "P, r, pi, gamma",
        "occupancy": "P, rho0, pi, gamma", "greedy": "Q", "value_iteration": "P, r, gamma, tol",
        "policy_iteration": "P, r, gamma", "score_function_grad": "f_values, x, mu, sigma",
        "importance_estimate": "f_values, logp_target, logp_proposal",
        "effective_sample_size": "logp_target, logp_proposal", "trajectory_score": "theta, states, actions",
        "softmax_policy_gradient": "P, r, rho0, theta, gamma",
        "reinforce_loss": "log_prob, rewards, dones, gamma, baseline, gamma_t",
        "optimal_baseline": "scores, returns, weights", "leave_one_out_baseline": "returns",
        "compute_gae": "rewards, values, next_values, terminated, truncated, gamma, lam",
        "critic_loss": "values, targets", "per_decision_weights": "logp_pi, logp_beta, dones",
        "off_policy_pg": "scores, log_ratios, rewards, gamma, mode", "categorical_kl": "p_logits, q_logits",
        "diag_gaussian_kl": "mu1, log_std1, mu2, log_std2", "policy_fisher": "P, rho0, theta, gamma",
        "maximal_coupling": "p, q", "natural_gradient_step": "g, F, delta, damping",
        "natural_step_in_new_coordinates": "g_theta, F_theta, A, delta",
        "performance_difference": "P, r, rho0, pi, pi_new, gamma", "cpi_step": "P, r, rho0, pi, gamma",
        "trpo_lower_bound": "P, r, rho0, pi, pi_new, gamma", "conjugate_gradient": "Avp, b, iters, tol",
        "fisher_vector_product": "policy, obs, v, damping",
        "backtracking_line_search": "theta, full_step, kl_fn, surr_fn, delta, coef, max_iter",
        "ppo_clip_loss": "logp_new, logp_old, adv, eps", "value_loss": "v_new, v_old, returns, clip_eps=None",
        "adaptive_kl_beta": "beta, kl, target"}
QUIZ_VARIANTS = ("right", "wrong", "not a literal", "unanswered")
CHECKED_BY = {"check_rewards_to_go": "rewards_to_go", "check_evaluate_policy": "evaluate_policy_exact",
              "check_occupancy": "occupancy", "check_greedy": "greedy", "check_value_iteration": "value_iteration",
              "check_policy_iteration": "policy_iteration", "check_score_function_grad": "score_function_grad",
              "check_importance_estimate": "importance_estimate",
              "check_effective_sample_size": "effective_sample_size", "check_trajectory_score": "trajectory_score",
              "check_softmax_policy_gradient": "softmax_policy_gradient", "check_reinforce_loss": "reinforce_loss",
              "check_optimal_baseline": "optimal_baseline", "check_leave_one_out_baseline": "leave_one_out_baseline",
              "check_compute_gae": "compute_gae", "check_critic_loss": "critic_loss",
              "check_per_decision_weights": "per_decision_weights", "check_off_policy_pg": "off_policy_pg",
              "check_categorical_kl": "categorical_kl", "check_diag_gaussian_kl": "diag_gaussian_kl",
              "check_policy_fisher": "policy_fisher", "check_maximal_coupling": "maximal_coupling",
              "check_natural_gradient_step": "natural_gradient_step",
              "check_natural_step_in_new_coordinates": "natural_step_in_new_coordinates",
              "check_performance_difference": "performance_difference", "check_cpi_step": "cpi_step",
              "check_trpo_lower_bound": "trpo_lower_bound", "check_conjugate_gradient": "conjugate_gradient",
              "check_fisher_vector_product": "fisher_vector_product",
              "check_backtracking_line_search": "backtracking_line_search",
              "check_ppo_clip_loss": "ppo_clip_loss", "check_value_loss": "value_loss",
              "check_adaptive_kl_beta": "adaptive_kl_beta"}


def known_answers() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """The plausible wrong answers that tests/test_check.py proves each checker rejects, and the unusual
    right ones it proves each accepts, as cells a student could hand in: (wrong, right), each
    exercise name -> {variant: code}. One source: the checker tests themselves."""
    import test_check as tc

    helpers = "\n\n".join(inspect.getsource(getattr(tc, n)) for n in
                           ("_mdp", "ref_rtg", "ref_eval", "ref_occ", "ref_vi", "ref_pi", "_backup", "_softmax",
                            "_pg_parts", "_rtg_tensor", "_gae_loop", "_pdw", "_opg", "_log_softmax",
                            "_fisher", "_npg", "_nsc", "_pd_terms", "_cpi", "_trpo", "_cg", "_fvp", "_ls",
                            "_clip", "_vloss", "_beta"))
    header = ("import numpy as np\nfrom rlcore.estimators import returns\nfrom rlcore.tabular import dp, exact\n"
              "from rlcore.tabular.mdp import FiniteMDP\n\n" + helpers + "\n\n")

    def cell(name: str, fn) -> str:
        call = ", ".join(f"{a}={a}" for a in ARGS[name].split(", "))
        return header + inspect.getsource(fn) + f"\n\ndef {name}({ARGS[name]}):\n    return {fn.__name__}({call})\n"

    wrong: dict[str, dict[str, str]] = {name: {} for name in ARGS}
    for checker, _, wrongs in tc.CASES:
        name = CHECKED_BY[checker.__name__]
        for fn, _ in wrongs:
            wrong[name][fn.__name__] = cell(name, fn)
    wrong["policy_iteration"]["pi_plain_argmax"] = cell("policy_iteration", tc.pi_plain_argmax)  # cycles: timeout
    wrong["value_iteration"]["vi_divides_by_gamma"] = cell("value_iteration", tc.vi_divides_by_gamma)
    right = {name: {} for name in ARGS}
    right["evaluate_policy_exact"]["eval_float32"] = cell("evaluate_policy_exact", tc.eval_float32)
    return wrong, right


def chapter(path: Path) -> tuple[dict, dict[str, str]]:
    """The published notebook and the worked solution of each exercise (function name -> code)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    solutions = {}
    for cell in nb["cells"]:
        if "solution" in cell.get("metadata", {}).get("tags", []):
            code = re.search(r"```python\n(.*?)```", "".join(cell["source"]), re.S)
            if code:
                solutions[re.search(r"^def (\w+)\(", code.group(1), re.M).group(1)] = code.group(1)
    return nb, solutions


def visible_answers(name: str, module) -> str:
    """A literal dict from a key of the visible cases' inputs to their expected outputs."""
    captured = {}

    def spy(**kwargs):
        raise NotImplementedError

    checker = {exercise: check for check, exercise in CHECKED_BY.items()}[name]
    from rlcore.exercises import framework

    original = framework.run_exercise

    def capture(exercise, fn, cases, reference, *args, **kwargs):
        for case in cases:
            value = reference(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.kwargs.items()})
            key = repr([round(float(np.sum(np.asarray(v, dtype=float))), 6) for v in case.kwargs.values()])
            captured[key] = value
        return original(exercise, fn, cases[:1], reference, *args, **kwargs)

    module.run_exercise = capture
    try:
        getattr(module, checker)(spy)
    finally:
        module.run_exercise = original

    def literal(value):
        if isinstance(value, tuple):
            return "(" + ", ".join(literal(v) for v in value) + ",)"
        if isinstance(value, list):
            return "[" + ", ".join(literal(v) for v in value) + "]"
        arr = np.asarray(value)
        return f"np.array({arr.tolist()!r})"

    return "{" + ", ".join(f"{k!r}: {literal(v)}" for k, v in captured.items()) + "}"


def make_class(out: Path, chapter_path: Path, module, exercises: list[str], questions: dict[str, tuple],
               points: dict[str, float], n_students: int) -> dict[str, float]:
    """Write ``n_students`` submissions into ``out``; return each student's deserved total."""
    from rlcore.book.student_edition import student_notebook

    nb, solutions = chapter(chapter_path)
    student_nb = student_notebook(nb)
    wrong, right = known_answers()
    variants = {name: ["correct"] * 3 + list(right[name]) + list(wrong[name]) + list(COMMON) for name in exercises}
    tables = {name: visible_answers(name, module) for name in exercises}
    out.mkdir(parents=True, exist_ok=True)
    deserved = {}
    for i in range(n_students):
        student = f"student{i:03d}"
        if i % 50 == 7:  # malformed notebook: nothing can be graded
            (out / f"{student}.ipynb").write_text("{ this is not json", encoding="utf-8")
            deserved[student] = 0.0
            continue
        if i % 50 == 8:  # a folder without the chapter's notebook
            (out / student).mkdir(exist_ok=True)
            (out / student / "notes.txt").write_text("forgot to attach it")
            deserved[student] = 0.0
            continue
        submission = json.loads(json.dumps(student_nb))
        total = 0.0
        for k, name in enumerate(exercises):
            choice = variants[name][(i + 5 * k) % len(variants[name])]
            if choice == "correct":
                code, earns = solutions[name], True
            elif choice in right[name]:
                code, earns = right[name][choice], True
            elif choice in wrong[name]:
                code, earns = wrong[name][choice], False
            else:
                code, earns = COMMON[choice]
            if code is not None:
                code = (code.replace("{solution}", solutions[name]).replace("{name}", name)
                        .replace("{args}", ARGS[name]).replace("{visible}", tables[name])
                        .replace("{kwargs}", ", ".join(f"{a}={a}" for a in ARGS[name].split(", "))))
            cells = submission["cells"]
            index = next(j for j, c in enumerate(cells) if c["cell_type"] == "code"
                         and re.search(rf"^def {name}\(", "".join(c["source"]), re.M))
            if code is None:
                del cells[index]
            else:
                cells[index]["source"] = code
            total += points[name] if earns else 0.0
        for k, (qid, (key, mistake)) in enumerate(questions.items()):
            choice = QUIZ_VARIANTS[(i + k) % len(QUIZ_VARIANTS)]
            answer = {"right": repr(key), "wrong": repr(mistake), "not a literal": "my_answer",
                      "unanswered": None}[choice]
            call = f'{module.__name__.rsplit(".", 1)[-1]}.quiz("{qid}"'
            for cell in submission["cells"]:
                source = "".join(cell["source"])
                if cell["cell_type"] == "code" and call in source and answer is not None:
                    cell["source"] = source.replace(f'{call})', f'{call}, answer={answer})')
            total += points[f"q{qid}"] if choice == "right" else 0.0
        (out / f"{student}.ipynb").write_text(json.dumps(submission), encoding="utf-8")
        deserved[student] = total
    return deserved
