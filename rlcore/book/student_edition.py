"""Make the student edition of chapters: solutions replaced by stubs (exercise framework).

Usage::

    python -m rlcore.book.student_edition book/ch01_rl_problem.ipynb book/ch02_dynamic_programming.ipynb --out student

Every block between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers) becomes
``raise NotImplementedError`` at the same indentation; outputs are cleared, and the
``hide-input`` tag that hides solutions in the published book is dropped so students see the
stub. The checkers then report "not attempted" and the chapter still runs end to end.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_BLOCK = re.compile(rf"^([ \t]*){re.escape(BEGIN)}[^\n]*\n.*?^[ \t]*{re.escape(END)}[^\n]*(\n|$)", re.M | re.S)


def strip_solutions(source: str) -> str:
    """Replace each solution block in ``source`` by an indented ``raise NotImplementedError`` (Introduction)."""
    if source.count(BEGIN) != source.count(END):
        raise ValueError(f"unbalanced solution markers in cell:\n{source}")
    return _BLOCK.sub(lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}raise NotImplementedError\n", source)


def student_notebook(nb: dict) -> dict:
    """A copy of a notebook (as parsed JSON) with solutions stubbed and outputs cleared (Introduction)."""
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
            if BEGIN in source:
                source = strip_solutions(source)
                tags = cell.get("metadata", {}).get("tags", [])
                cell["metadata"]["tags"] = [t for t in tags if t != "hide-input"]
        cell["source"] = source
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
        n = sum(BEGIN in "".join(c["source"]) for c in original["cells"])
        target = args.out / path.name
        target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{path} -> {target} ({n} solution cell{'s' * (n != 1)} stubbed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
