"""Grading a synthetic class: every submission gets the grade it deserves, whatever it does, and the
reports (grade table, feedback, summary, Gradescope results.json) are complete and well formed."""

import csv
import json
import zipfile
from pathlib import Path

import pytest
from synthetic_class import make_class

from rlcore.exercises import ch01, ch02
from rlcore.grading import reports
from rlcore.grading.__main__ import main, read_assignment
from rlcore.grading.assignment import load
from rlcore.grading.grade import grade_folder

ROOT = Path(__file__).resolve().parents[1]

CLASSES = {
    "ch01": dict(notebook="ch01_rl_problem.ipynb", module=ch01, n=200,
                 exercises={"rewards_to_go": 2, "evaluate_policy_exact": 3, "occupancy": 3},
                 questions={"1.2": ("b", "a"), "1.3": ({"a", "b", "d"}, {"a", "b", "c", "d"})}),
    "ch02": dict(notebook="ch02_dynamic_programming.ipynb", module=ch02, n=60,
                 exercises={"greedy": 1, "policy_iteration": 3, "value_iteration": 3},
                 questions={"2.1": (0.099, 0.001)}),
}


def write_assignment(tmp: Path, spec: dict) -> Path:
    questions = "{" + ", ".join(f'"{q}": 1' for q in spec["questions"]) + "}"
    exercises = "{" + ", ".join(f"{k}: {v}" for k, v in spec["exercises"].items()) + "}"
    path = tmp / "assignment.yml"
    path.write_text(f"name: Synthetic {spec['notebook'][:4]}\nhidden_seed: 4242\ncase_time_limit: 2\n"
                    f"submission_time_limit: 60\nmemory_mb: 400\nchapters:\n"
                    f"  - notebook: {ROOT / 'book' / spec['notebook']}\n    exercises: {exercises}\n"
                    f"    questions: {questions}\n")
    return path


@pytest.mark.parametrize("name", list(CLASSES))
def test_a_synthetic_class_gets_the_grades_it_deserves(name, tmp_path):
    spec = CLASSES[name]
    assignment = load(write_assignment(tmp_path, spec))
    points = {**spec["exercises"], **{f"q{q}": 1.0 for q in spec["questions"]}}
    deserved = make_class(tmp_path / "submissions", ROOT / "book" / spec["notebook"], spec["module"],
                          list(spec["exercises"]), spec["questions"], points, spec["n"])
    results = grade_folder(assignment, tmp_path / "submissions", jobs=2)
    assert len(results) == spec["n"]
    wrong = [(r.student, r.total, deserved[r.student], [(i.name, i.status, i.message[:80]) for i in r.items])
             for r in results if r.total != deserved[r.student]]
    assert not wrong, f"{len(wrong)} submissions graded wrongly, e.g. {wrong[:3]}"
    statuses = {i.status for r in results for i in r.items}
    assert {"pass", "fail", "error", "timeout", "not attempted", "missing", "invalid"} <= statuses
    reports.write_all(results, assignment, tmp_path / "out")
    rows = list(csv.DictReader((tmp_path / "out" / "grades.csv").open()))
    assert len(rows) == spec["n"] and all(float(r["total"]) == deserved[r["student"]] for r in rows)
    assert len(list((tmp_path / "out" / "feedback").glob("*.md"))) == spec["n"]
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "most common failure" in summary and (tmp_path / "out" / "score_distribution.png").stat().st_size > 1000
    for result in json.loads((tmp_path / "out" / "results.json").read_text()).values():
        validate_gradescope(result)


def validate_gradescope(result: dict) -> None:
    """The fields and types of Gradescope's autograder results.json specification."""
    allowed = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
               "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
    assert set(result) <= allowed and isinstance(result["tests"], list)
    assert isinstance(result["score"], float) and isinstance(result["execution_time"], (int, float))
    visibilities = {"hidden", "after_due_date", "after_published", "visible"}
    assert result["visibility"] in visibilities and result["stdout_visibility"] in visibilities
    formats = {"text", "html", "simple_format", "md", "ansi"}
    assert result["output_format"] in formats
    for test in result["tests"]:
        assert set(test) <= {"score", "max_score", "status", "name", "name_format", "number", "output",
                             "output_format", "tags", "visibility", "extra_data"}
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"] and test["status"] in ("passed", "failed")
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert test["visibility"] in visibilities and test["output_format"] in formats
    assert abs(result["score"] - sum(t["score"] for t in result["tests"])) < 1e-9


def test_the_commands_make_grade_and_run_as_gradescope(tmp_path, capsys):
    spec = CLASSES["ch01"]
    yml = write_assignment(tmp_path, spec)
    assert main(["make", str(yml), "--out", str(tmp_path / "hw")]) == 0
    student = json.loads((tmp_path / "hw" / "student" / spec["notebook"]).read_text())
    assert not any("solution" in c.get("metadata", {}).get("tags", []) for c in student["cells"])
    with zipfile.ZipFile(tmp_path / "hw" / "gradescope" / "autograder.zip") as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "requirements.txt", "assignment.json"} <= names
        assert "src/rlcore/exercises/ch01.py" in names and f"chapters/{spec['notebook']}" in names
        assert z.getinfo("run_autograder").external_attr >> 16 & 0o111  # executable
        assert "numpy==" in z.read("requirements.txt").decode()
    points = {**spec["exercises"], **{f"q{q}": 1.0 for q in spec["questions"]}}
    deserved = make_class(tmp_path / "subs", ROOT / "book" / spec["notebook"], ch01, list(spec["exercises"]),
                          spec["questions"], points, 6)
    assignment_json = tmp_path / "hw" / "grading" / "assignment.json"
    assert read_assignment(assignment_json).max_points == 10
    assert main(["grade", str(assignment_json), str(tmp_path / "subs"), "--out", str(tmp_path / "res")]) == 0
    assert "graded 6 submissions" in capsys.readouterr().out
    first = min(deserved)
    results_json = tmp_path / "gs" / "results.json"
    assert main(["gradescope", "--assignment", str(assignment_json), "--submission",
                 str(tmp_path / "subs" / f"{first}.ipynb"), "--results", str(results_json)]) == 0
    result = json.loads(results_json.read_text())
    validate_gradescope(result)
    assert result["score"] == deserved[first]


@pytest.mark.parametrize("text, message", [
    ("chapters: []", "non-empty list"),
    ("chapters:\n  - notebook: nowhere.ipynb\n    exercises: {x: 1}", "not found"),
    (f"chapters:\n  - notebook: {ROOT}/book/ch01_rl_problem.ipynb\n    exercises: {{no_such: 1}}", "no exercise"),
    (f"chapters:\n  - notebook: {ROOT}/book/ch01_rl_problem.ipynb\n    questions: {{'9.9': 1}}", "asks no question"),
    (f"chapters:\n  - notebook: {ROOT}/book/ch01_rl_problem.ipynb\n    exercises: {{occupancy: -1}}", "points"),
])
def test_bad_assignments_are_refused_with_a_reason(tmp_path, text, message):
    path = tmp_path / "a.yml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load(path)


@pytest.mark.parametrize("name, module", [("rewards_to_go", ch01), ("evaluate_policy_exact", ch01),
                                          ("occupancy", ch01), ("greedy", ch02), ("value_iteration", ch02)])
def test_answers_hard_coded_to_the_visible_cases_pass_the_notebook_and_fail_the_hidden_cases(name, module):
    from synthetic_class import ARGS, COMMON, visible_answers

    code = COMMON["hard-coded visible cases"][0].replace("{name}", name).replace("{args}", ARGS[name]) \
        .replace("{visible}", visible_answers(name, module))
    namespace: dict = {}
    exec(code, namespace)
    checker = {"rewards_to_go": ch01.check_rewards_to_go, "evaluate_policy_exact": ch01.check_evaluate_policy,
               "occupancy": ch01.check_occupancy, "greedy": ch02.check_greedy,
               "value_iteration": ch02.check_value_iteration}[name]
    assert checker(namespace[name]).status == "pass"  # it fools the cases the notebook shows
    assert checker(namespace[name], seed=4242).status != "pass"  # but not the hidden ones


def test_the_gradescope_bundle_runs_as_gradescope_would(tmp_path):
    """Unzip the bundle as /autograder/source, hand in a notebook, run run_autograder, read results.json."""
    import os
    import subprocess
    import sys

    spec = CLASSES["ch01"]
    assert main(["make", str(write_assignment(tmp_path, spec)), "--out", str(tmp_path / "hw")]) == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "hw" / "gradescope" / "autograder.zip") as z:
        z.extractall(root / "source")
    points = {**spec["exercises"], **{f"q{q}": 1.0 for q in spec["questions"]}}
    deserved = make_class(tmp_path / "subs", ROOT / "book" / spec["notebook"], ch01, list(spec["exercises"]),
                          spec["questions"], points, 3)
    student = max(deserved, key=deserved.get)
    (root / "submission").mkdir()
    (root / "submission" / "my homework.ipynb").write_bytes((tmp_path / "subs" / f"{student}.ipynb").read_bytes())
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads((root / "results" / "results.json").read_text())
    validate_gradescope(result)
    assert result["score"] == deserved[student] > 0
