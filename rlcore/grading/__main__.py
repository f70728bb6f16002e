"""Instructors' commands (Introduction; the book's page "For instructors" walks through them)::

    python -m rlcore.grading make assignment.yml --out hw1            # student notebooks, grading files, Gradescope zip
    python -m rlcore.grading grade hw1/grading/assignment.json submissions/ --out hw1/results [--jobs 2]
    python -m rlcore.grading gradescope --assignment assignment.json --submission DIR --results results.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import zipfile
from pathlib import Path

from ..book.student_edition import student_notebook
from . import reports
from .assignment import Assignment, load
from .grade import grade_folder

ROOT = Path(__file__).resolve().parents[2]
#: What the Gradescope image installs (pinned as in requirements.txt); rlcore itself travels in the zip.
GRADESCOPE_PACKAGES = ("numpy", "gymnasium", "matplotlib", "ipywidgets", "pyyaml", "pygments")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image: Python 3.11 (the pinned numpy needs it;
# Ubuntu 22.04 ships 3.10) in a virtual environment with the pinned packages.
set -euo pipefail
cd /autograder/source
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  apt-get update -qq && apt-get install -y -qq python3.11 python3.11-venv > /dev/null
  PY=python3.11
else
  PY=python3
fi
"$PY" -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --quiet --no-cache-dir -r requirements.txt
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes results/results.json under the autograder root.
set -uo pipefail
ROOT=${AUTOGRADER_ROOT:-/autograder}
PYTHON=${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}
cd "$ROOT/source"
PYTHONPATH="$ROOT/source/src" "$PYTHON" -m rlcore.grading gradescope --assignment assignment.json \\
    --submission "$ROOT/submission" --results "$ROOT/results/results.json"
"""


def _pins() -> list[str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        name = line.split("==")[0].strip().lower()
        if "==" in line and name in GRADESCOPE_PACKAGES:
            pins[name] = line.split("#")[0].strip()
    return [pins.get(p, p) for p in GRADESCOPE_PACKAGES]


def make(yaml_path: Path, out: Path) -> Assignment:
    """Student notebooks, grading files and the Gradescope bundle for one assignment (Introduction)."""
    assignment = load(yaml_path)
    (out / "student").mkdir(parents=True, exist_ok=True)
    grading = out / "grading"
    (grading / "chapters").mkdir(parents=True, exist_ok=True)
    for name, source in assignment.sources.items():
        nb = json.loads(Path(source).read_text(encoding="utf-8"))
        text = json.dumps(student_notebook(nb), indent=1, ensure_ascii=False) + "\n"
        (out / "student" / name).write_text(text, encoding="utf-8")
        (grading / "chapters" / name).write_text(text, encoding="utf-8")
    portable = Assignment.from_json(assignment.to_json())
    portable.sources = {name: f"chapters/{name}" for name in assignment.sources}
    (grading / "assignment.json").write_text(portable.to_json(), encoding="utf-8")
    bundle = out / "gradescope" / "autograder.zip"
    bundle.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16  # executable, as Gradescope runs them directly
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
        z.writestr("requirements.txt", "\n".join(_pins()) + "\n")
        z.writestr("assignment.json", portable.to_json())
        for name in assignment.sources:
            z.write(grading / "chapters" / name, f"chapters/{name}")
        for path in sorted((ROOT / "rlcore").rglob("*.py")):
            z.write(path, f"src/{path.relative_to(ROOT).as_posix()}")
    return assignment


def read_assignment(path: Path) -> Assignment:
    """An assignment from its YAML or from the ``assignment.json`` that ``make`` wrote (Introduction)."""
    if path.suffix in (".yml", ".yaml"):
        return load(path)
    assignment = Assignment.from_json(path.read_text(encoding="utf-8"))
    assignment.sources = {name: str((path.parent / src).resolve()) for name, src in assignment.sources.items()}
    return assignment


def main(argv: list[str] | None = None) -> int:
    """The command line (Introduction)."""
    parser = argparse.ArgumentParser(prog="python -m rlcore.grading", description=__doc__.split("::")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("make", help="student notebooks, grading files and the Gradescope bundle")
    p.add_argument("assignment", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p = commands.add_parser("grade", help="grade a folder of submissions")
    p.add_argument("assignment", type=Path, help="assignment.yml or the assignment.json that make wrote")
    p.add_argument("submissions", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--jobs", type=int, default=None, help="parallel submissions (default: one per core)")
    p = commands.add_parser("gradescope", help="grade one submission inside Gradescope's autograder")
    p.add_argument("--assignment", type=Path, required=True)
    p.add_argument("--submission", type=Path, required=True)
    p.add_argument("--results", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "make":
            assignment = make(args.assignment, args.out)
            print(f"{assignment.name}: {len(assignment.chapters)} chapter(s), {assignment.max_points:g} points -> "
                  f"{args.out}/student (hand out), {args.out}/grading (keep), {args.out}/gradescope/autograder.zip")
        elif args.command == "grade":
            assignment = read_assignment(args.assignment)
            start = time.monotonic()
            results = grade_folder(assignment, args.submissions, jobs=args.jobs)
            reports.write_all(results, assignment, args.out)
            print(f"graded {len(results)} submissions in {time.monotonic() - start:.1f} s -> {args.out}/grades.csv, "
                  f"{args.out}/feedback/, {args.out}/summary.md")
        else:
            assignment = read_assignment(args.assignment)
            notebooks = sorted(args.submission.rglob("*.ipynb"))
            folder = args.submission
            if len(assignment.chapters) == 1 and notebooks:  # any file name: take the notebook handed in
                folder = next((n for n in notebooks if n.name == assignment.chapters[0].notebook), notebooks[0])
            result = _grade_one(assignment, folder)
            args.results.parent.mkdir(parents=True, exist_ok=True)
            args.results.write_text(json.dumps(reports.gradescope_results(result), indent=1))
    except ValueError as exc:
        parser.exit(2, f"error: {exc}\n")
    return 0


def _grade_one(assignment: Assignment, path: Path):
    """Grade one submission (a notebook, or a folder with the chapters' notebooks) in a scratch folder."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "student"
        if path.is_dir():
            shutil.copytree(path, target)
        else:
            target.mkdir()
            shutil.copy(path, target / assignment.chapters[0].notebook)
        return grade_folder(assignment, tmp, jobs=1)[0]


if __name__ == "__main__":
    sys.exit(main())
