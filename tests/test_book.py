"""The book's notebooks: one repository URL everywhere, stub exercises that report "not attempted",
worked solutions that pass their checkers, graded questions whose keys are right, and a student
edition that differs from the chapter only by the solution cells it removes."""

import importlib.util
import json
import re
from pathlib import Path

import pytest
import tomllib
import yaml

from rlcore.book.student_edition import is_solution, main
from rlcore.exercises import (
    NOT_ATTEMPTED,
    PASS,
    ch01,
    ch02,
    ch05,
    ch06,
    ch07,
    ch08,
    ch09,
    ch10,
    ch11,
    ch12,
    ch13,
    ch14,
)

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("ch*.ipynb"))
MODULES = {"ch01": ch01, "ch02": ch02, "ch05": ch05, "ch06": ch06, "ch07": ch07, "ch08": ch08, "ch09": ch09,
           "ch10": ch10, "ch11": ch11, "ch12": ch12, "ch13": ch13, "ch14": ch14}
CHECKER = re.compile(r"^(ex\d+_\d+) = (ch\d\d)\.(check_\w+)\((\w+)\)\s*$", re.M)
QUIZ = re.compile(r"\b(ch\d\d)\.quiz\(\"([\d.]+)\"")


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell) -> str:
    return "".join(cell["source"])


def repo_url():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]


def exercises(path):
    """(stub source, checker module, checker name, function name, solution code) for each coding exercise.

    The pattern of the style guide: stub cell, checker cell, then a markdown cell tagged
    ``solution`` holding the worked solution in a python code block.
    """
    cs, out = cells(path), []
    for i, cell in enumerate(cs):
        m = CHECKER.search(source(cell)) if cell["cell_type"] == "code" else None
        if not m:
            continue
        stub = source(cs[i - 1])
        solution = source(cs[i + 1]) if i + 1 < len(cs) and is_solution(cs[i + 1]) else ""
        code = re.search(r"```python\n(.*?)```", solution, re.S)
        out.append((stub, m.group(2), m.group(3), m.group(4), code.group(1) if code else None))
    return out


def run(code: str, module: str, checker: str, name: str):
    namespace: dict = {}
    exec("import numpy as np\nimport torch", namespace)
    exec(code, namespace)
    return getattr(MODULES[module], checker)(namespace[name])


def test_there_are_chapters():
    assert len(CHAPTERS) >= 2


def test_repository_url_agrees_everywhere():
    url = repo_url()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == url
    assert config["launch_buttons"]["colab_url"] and config["launch_buttons"]["binderhub_url"]
    for path in CHAPTERS:
        first_code = next(source(c) for c in cells(path) if c["cell_type"] == "code")
        assert f'REPO_URL = "{url}"' in first_code, path.name
        assert "find_spec(\"rlcore\") is None" in first_code, path.name  # installs only where missing


def test_notebooks_are_committed_without_outputs():
    for path in CHAPTERS:
        for cell in cells(path):
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, path.name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_stubs_are_not_attempted_and_solutions_pass(path):
    found = exercises(path)
    assert 2 <= len(found) <= 5, "a chapter has 2-5 coding exercises"
    for stub, module, checker, name, solution in found:
        assert "raise NotImplementedError" in stub and f"def {name}(" in stub, stub
        assert run(stub, module, checker, name).status == NOT_ATTEMPTED
        assert solution is not None, f"{checker}: no worked solution (a markdown cell tagged 'solution') after it"
        result = run(solution, module, checker, name)
        assert result.status == PASS, str(result)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_feeds_a_later_cell(path):
    cs = [source(c) for c in cells(path) if c["cell_type"] == "code"]
    for i, src in enumerate(cs):
        m = CHECKER.search(src)
        if m:
            assert any(f"{m.group(1)}.use()" in later for later in cs[i + 1:]), f"{m.group(1)} is never used"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_quiz_questions_exist_and_their_keys_are_right(path):
    asked = QUIZ.findall("\n".join(source(c) for c in cells(path) if c["cell_type"] == "code"))
    assert asked, "a chapter has at least one graded question"
    for module, qid in asked:
        question = MODULES[module].QUESTIONS[qid]
        key = set(question.answer) if question.kind == "multiple" else question.answer
        assert question.grade(key).status == PASS
        if question.kind == "single":
            wrong = next(c for c in "abcd" if c != question.answer)
        elif question.kind == "number":
            wrong = question.answer * 2 + 1
        else:
            wrong = set(question.answer) ^ {"a"}  # one choice too many or too few
        assert question.grade(wrong).status != PASS
        assert question.grade(None).status == NOT_ATTEMPTED


def test_student_edition(tmp_path, capsys):
    assert main([str(p) for p in CHAPTERS] + ["--out", str(tmp_path)]) == 0
    assert "solution cells removed" in capsys.readouterr().out
    for path in CHAPTERS:
        original, student = cells(path), cells(tmp_path / path.name)
        kept = [c for c in original if not is_solution(c)]
        assert len(student) == len(kept) < len(original)
        assert not any(is_solution(c) for c in student)
        # the code the student runs is exactly the code the book runs (and nbval executes)
        assert [source(c) for c in student if c["cell_type"] == "code"] == \
               [source(c) for c in original if c["cell_type"] == "code"]
        assert all(not c.get("outputs") for c in student if c["cell_type"] == "code")
        text = "\n".join(source(c) for c in student)
        assert "A solution" not in text and "{solution}" not in text


def test_student_edition_rejects_non_notebooks(tmp_path):
    with pytest.raises(SystemExit):
        main([str(ROOT / "README.md"), "--out", str(tmp_path)])


def test_pen_and_paper_problems_are_never_called_exercises():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert config["numfig_format"]["exercise"] == "Problem %s"  # coding exercises are "Exercise N.k"
    assert config["exercise_style"] == "solution_follow_exercise"  # else solutions say "Solution to Exercise N.k"



def test_appendix_numbers_carry_their_letter():
    spec = importlib.util.spec_from_file_location("appendix_numbers", ROOT / "book/_ext/appendix_numbers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class Env:  # the part of Sphinx's build environment the extension reads
        toc_fignumbers = {"book/app_c_conjugate_gradient": {"figure": {"f": (3,)},
                                                            "displaymath": {"a": (5,), "b": (4,)}},
                          "book/ch10_distances": {"figure": {"g": (10, 1)}}}

    module._renumber(None, Env)
    assert Env.toc_fignumbers["book/app_c_conjugate_gradient"] == {"figure": {"f": ("C", 1)},
                                                                    "displaymath": {"b": ("C", 1), "a": ("C", 2)}}
    assert Env.toc_fignumbers["book/ch10_distances"]["figure"]["g"] == (10, 1)  # chapters keep Sphinx's numbers
