"""Make the student edition of chapters: the worked solutions removed, outputs cleared (Introduction).

Usage::

    python -m rlcore.book.student_edition book/ch01_rl_problem.ipynb book/ch02_dynamic_programming.ipynb --out student

The chapters already ship every coding exercise as a stub, and the graded questions' keys live in
``rlcore``, not in the notebooks. What the student edition removes is every cell tagged
``solution``: the worked solutions of the coding exercises and the answers to the pen-and-paper
questions. Code cells are left exactly as they are, so the student edition runs top to bottom just
as the published chapter does, with every checker reporting "not attempted".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SOLUTION_TAG = "solution"


def is_solution(cell: dict) -> bool:
    """Whether a cell holds a worked solution, to be removed from the student edition (Introduction)."""
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def student_notebook(nb: dict) -> dict:
    """A copy of a notebook (as parsed JSON) without solution cells and with outputs cleared (Introduction)."""
    nb = json.loads(json.dumps(nb))
    cells = []
    for cell in nb["cells"]:
        if is_solution(cell):
            if cell["cell_type"] == "code":
                raise ValueError("a code cell is tagged 'solution'; solutions live in markdown cells so that the "
                                 "chapter never runs them")
            continue
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    nb["cells"] = cells
    return nb


def main(argv: list[str] | None = None) -> int:
    """The command line: write the student edition of the given chapters (Introduction)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="chapter notebooks to convert")
    parser.add_argument("--out", type=Path, default=Path("student"), help="output folder (default: student/)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"{path} is not a notebook file (.ipynb)")
        original = json.loads(path.read_text(encoding="utf-8"))
        nb = student_notebook(original)
        removed = len(original["cells"]) - len(nb["cells"])
        target = args.out / path.name
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{path} -> {target} ({removed} solution cell{'s' * (removed != 1)} removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
