"""How long grading a class takes: 200 synthetic submissions of Chapter 1 (and 60 of Chapter 2), graded with
one process per core, timed over three repetitions. Run: .venv/bin/python bench/grading.py [--students 200]

The synthetic class is tests/synthetic_class.py's: right answers, every plausible wrong answer the checker
tests know, answers hard-coded to the visible cases, exceptions, endless loops, sys.exit and os._exit, output
floods, memory hogs, missing cells, renamed functions, missing and malformed notebooks. The result goes to
bench/results/grading.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from synthetic_class import make_class  # noqa: E402
from test_grading import CLASSES, write_assignment  # noqa: E402

from rlcore.grading.assignment import load  # noqa: E402
from rlcore.grading.grade import grade_folder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    lines = ["# Grading time", "", f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}; one grading process per core.", "",
             "| chapter | submissions | run | seconds | per submission | all graded as deserved |",
             "|---|---|---|---|---|---|"]
    for name, spec in CLASSES.items():
        n = args.students if name == "ch01" else max(1, args.students * 3 // 10)
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            assignment = load(write_assignment(tmp, spec))
            points = {**spec["exercises"], **{f"q{q}": 1.0 for q in spec["questions"]}}
            deserved = make_class(tmp / "subs", ROOT / "book" / spec["notebook"], spec["module"],
                                  list(spec["exercises"]), spec["questions"], points, n)
            for run in range(1, args.repeats + 1):
                start = time.perf_counter()
                results = grade_folder(assignment, tmp / "subs")
                seconds = time.perf_counter() - start
                exact = all(r.total == deserved[r.student] for r in results)
                lines.append(f"| {name} | {n} | {run} | {seconds:.1f} | {seconds / n:.2f} | {exact} |")
                print(lines[-1], flush=True)
    out = ROOT / "bench" / "results" / "grading.md"
    out.write_text("\n".join(lines) + "\n")
    print(f"-> {out}")


if __name__ == "__main__":
    main()
