"""The book's notebooks: one repository URL everywhere, solutions that pass their checkers,
and a student edition in which every exercise is a stub the checker reports as not attempted."""

import json
import re
from pathlib import Path

import pytest
import tomllib
import yaml

from rlcore.book.student_edition import BEGIN, END, main
from rlcore.exercises import NOT_ATTEMPTED, PASS

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("ch*.ipynb"))


def cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(c["cell_type"], "".join(c["source"]), c.get("metadata", {}).get("tags", [])) for c in nb["cells"]]


def repo_url():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]


def test_there_are_chapters():
    assert len(CHAPTERS) >= 2


def test_repository_url_agrees_everywhere():
    url = repo_url()
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == url
    assert config["launch_buttons"]["colab_url"] and config["launch_buttons"]["binderhub_url"]
    for path in CHAPTERS:
        first_code = next(src for kind, src, _ in cells(path) if kind == "code")
        assert f'REPO_URL = "{url}"' in first_code, path.name
        assert "find_spec(\"rlcore\") is None" in first_code, path.name  # installs only where missing


def test_notebooks_are_committed_without_outputs():
    for path in CHAPTERS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, path.name


def exercise_pairs(path):
    """(solution cell, checker cell) pairs: each exercise cell is followed by its checker call."""
    cs = [c for c in cells(path) if c[0] == "code"]
    return [(src, cs[i + 1][1]) for i, (_, src, _) in enumerate(cs) if BEGIN in src]


def run_pair(solution: str, checker: str):
    namespace: dict = {}
    exec("import numpy as np\nfrom rlcore.exercises import ch01, ch02", namespace)
    exec(solution, namespace)
    return eval(checker.strip(), namespace)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_solution_passes_its_checker(path):
    pairs = exercise_pairs(path)
    assert 2 <= len(pairs) <= 4, "a chapter has 2-4 exercises"
    for solution, checker in pairs:
        assert checker.strip().startswith("ch0") and "check_" in checker
        result = run_pair(solution, checker)
        assert result.status == PASS, str(result)


def test_student_edition(tmp_path, capsys):
    assert main([str(p) for p in CHAPTERS] + ["--out", str(tmp_path)]) == 0
    assert "stubbed" in capsys.readouterr().out
    for path in CHAPTERS:
        original, student = cells(path), cells(tmp_path / path.name)
        assert len(original) == len(student)
        for (_, src, tags), (_, new_src, new_tags) in zip(original, student, strict=True):
            if BEGIN in src:
                assert BEGIN not in new_src and END not in new_src
                assert "raise NotImplementedError" in new_src and "hide-input" not in new_tags
                signature = re.search(r"^def .*$", src, re.M).group(0)
                assert signature in new_src  # the reader keeps the signature and docstring
            else:
                assert new_src == src and new_tags == tags
        stubs = [src for kind, src, _ in student if kind == "code" and "raise NotImplementedError" in src]
        checkers = [c for _, c in exercise_pairs(path)]
        assert len(stubs) == len(checkers)
        for stub, checker in zip(stubs, checkers, strict=True):
            assert run_pair(stub, checker).status == NOT_ATTEMPTED


def test_student_edition_rejects_non_notebooks(tmp_path):
    with pytest.raises(SystemExit):
        main([str(ROOT / "README.md"), "--out", str(tmp_path)])
