"""A synthetic class: notebooks handed in by students who solve, err, cheat, crash and hang, each with
the grade it deserves. Used by tests/test_grading.py and bench/grading.py."""

from __future__ import annotations

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
    "memory hog": ("import numpy as np\n\ndef {name}({args}):\n    return np.ones((10**6, 10**5))\n", False),
    "stub": ("def {name}({args}):\n    raise NotImplementedError\n", False),
    "floods its output": ("{solution}\nprint('x' * 5_000_000)\n_inner = {name}\n\ndef {name}({args}):\n"
                          "    print('y' * 1_000_000)\n    return _inner({kwargs})\n", True),
    "hard-coded visible cases": ("import numpy as np\n_ANSWERS = {visible}\n\ndef {name}({args}):\n"
                                 "    return _ANSWERS[_key({args})]\n\ndef _key(*arrays):\n"
                                 "    return repr([round(float(np.sum(np.asarray(a, dtype=float))), 6) "
                                 "for a in arrays])\n", False),
}

WRONG = {
    "rewards_to_go": {
        "off by one": "def rewards_to_go(rewards, dones, gamma):\n    G = np.zeros(len(rewards))\n    running = 0.0\n"
                      "    for t in reversed(range(len(rewards))):\n"
                      "        running = rewards[t] + (0.0 if dones[t] else gamma * running)\n"
                      "        G[t] = gamma * running\n    return G\n",
        "ignores episode ends": "def rewards_to_go(rewards, dones, gamma):\n    G = np.zeros(len(rewards))\n"
                                "    running = 0.0\n    for t in reversed(range(len(rewards))):\n"
                                "        running = rewards[t] + gamma * running\n"
                                "        G[t] = running\n    return G\n",
        "integer output": "def rewards_to_go(rewards, dones, gamma):\n    G = np.zeros_like(rewards)\n"
                          "    running = 0.0\n"
                          "    for t in reversed(range(len(rewards))):\n"
                          "        running = rewards[t] + (0.0 if dones[t] else gamma * running)\n"
                          "        G[t] = running\n    return G\n",
    },
    "evaluate_policy_exact": {
        "no discount in Q": "def evaluate_policy_exact(P, r, pi, gamma):\n"
                            "    P_pi = np.einsum('sa,sat->st', pi, P)\n"
                            "    V = np.linalg.solve(np.eye(len(P_pi)) - gamma * P_pi, np.sum(pi * r, axis=1))\n"
                            "    return V, r + P @ V\n",
        "explicit inverse": "def evaluate_policy_exact(P, r, pi, gamma):\n"
                            "    P_pi = np.einsum('sa,sat->st', pi, P)\n"
                            "    V = np.linalg.inv(np.eye(len(P_pi)) - gamma * P_pi) @ np.sum(pi * r, axis=1)\n"
                            "    return V, r + gamma * P @ V\n",
        "transposed chain": "def evaluate_policy_exact(P, r, pi, gamma):\n"
                            "    P_pi = np.einsum('sa,sat->st', pi, P)\n"
                            "    V = np.linalg.solve(np.eye(len(P_pi)) - gamma * P_pi.T, np.sum(pi * r, axis=1))\n"
                            "    return V, r + gamma * P @ V\n",
    },
    "occupancy": {
        "unnormalised": "def occupancy(P, rho0, pi, gamma):\n    P_pi = np.einsum('sa,sat->st', pi, P)\n"
                        "    return np.linalg.solve(np.eye(len(rho0)) - gamma * P_pi.T, np.asarray(rho0, float))\n",
        "backwards": "def occupancy(P, rho0, pi, gamma):\n    P_pi = np.einsum('sa,sat->st', pi, P)\n"
                     "    rho0 = np.asarray(rho0, float)\n"
                     "    return np.linalg.solve(np.eye(len(rho0)) - gamma * P_pi, (1 - gamma) * rho0)\n",
        "truncated series": "def occupancy(P, rho0, pi, gamma):\n    P_pi = np.einsum('sa,sat->st', pi, P)\n"
                            "    d, p = np.zeros(len(rho0)), np.asarray(rho0, float)\n    for t in range(50):\n"
                            "        d += (1 - gamma) * gamma**t * p\n        p = P_pi.T @ p\n    return d\n",
    },
    "greedy": {
        "last of ties": "def greedy(Q):\n    Q = np.asarray(Q)\n"
                        "    return Q.shape[1] - 1 - np.argmax(Q[:, ::-1], axis=1)\n",
        "tolerant ties": "def greedy(Q):\n    best = np.max(Q, axis=1, keepdims=True)\n"
                         "    return np.argmax(Q >= best - 1e-2, axis=1)\n",
        "float actions": "def greedy(Q):\n    return np.argmax(Q, axis=1).astype(float)\n",
    },
    "value_iteration": {
        "naive stop": "def value_iteration(P, r, gamma, tol):\n    V = np.zeros(P.shape[0])\n    while True:\n"
                      "        V_next = (r + gamma * P @ V).max(axis=1)\n"
                      "        if np.max(np.abs(V_next - V)) < tol:\n            return V_next\n        V = V_next\n",
        "fixed sweeps": "def value_iteration(P, r, gamma, tol):\n    V = np.zeros(P.shape[0])\n"
                        "    for _ in range(1000):\n"
                        "        V = (r + gamma * P @ V).max(axis=1)\n    return V\n",
        "mean not max": "def value_iteration(P, r, gamma, tol):\n    V = np.zeros(P.shape[0])\n"
                        "    for _ in range(3000):\n"
                        "        V = (r + gamma * P @ V).mean(axis=1)\n    return V\n",
    },
    "policy_iteration": {
        "one step": "def policy_iteration(P, r, gamma):\n    P, r = np.asarray(P, float), np.asarray(r, float)\n"
                    "    S = P.shape[0]\n    pi = np.zeros(S, dtype=int)\n"
                    "    V = np.linalg.solve(np.eye(S) - gamma * P[np.arange(S), pi], r[np.arange(S), pi])\n"
                    "    return (r + gamma * P @ V).argmax(axis=1), [V]\n",
        "made-up values": "{solution}\n_inner = policy_iteration\n\ndef policy_iteration(P, r, gamma):\n"
                          "    policy, values = _inner(P, r, gamma)\n"
                          "    return policy, [values[0], (values[0] + values[-1]) / 2, values[-1]]\n",
    },
}
ARGS = {"rewards_to_go": "rewards, dones, gamma", "evaluate_policy_exact": "P, r, pi, gamma",
        "occupancy": "P, rho0, pi, gamma", "greedy": "Q", "value_iteration": "P, r, gamma, tol",
        "policy_iteration": "P, r, gamma"}
QUIZ_VARIANTS = ("right", "wrong", "not a literal", "unanswered")


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

    checker = {"rewards_to_go": "check_rewards_to_go", "evaluate_policy_exact": "check_evaluate_policy",
               "occupancy": "check_occupancy", "greedy": "check_greedy", "value_iteration": "check_value_iteration",
               "policy_iteration": "check_policy_iteration"}[name]
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
    variants = {name: ["correct"] * 3 + list(WRONG.get(name, {})) + list(COMMON) for name in exercises}
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
            elif choice in WRONG.get(name, {}):
                code, earns = WRONG[name][choice], False
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
        for k, (qid, (right, wrong)) in enumerate(questions.items()):
            choice = QUIZ_VARIANTS[(i + k) % len(QUIZ_VARIANTS)]
            answer = {"right": repr(right), "wrong": repr(wrong), "not a literal": "my_answer",
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
