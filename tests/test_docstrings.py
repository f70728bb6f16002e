"""The book is the library: every public function and class names the chapter and section that
derive it, a section named for a chapter that exists is one of that chapter's headings, and an
equation it cites by label, ``(eq-...)``, is labelled in the book."""

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "rlcore"
CHAPTER_REF = re.compile(r"Chapters? (\d+)")
#: Parts of the book that are not chapters but do define things (conventions, the instructors' notes)
OTHER_REF = re.compile(r"Appendix [A-Z]\b|Introduction\b")
SECTION_REF = re.compile(r"§(\d+)\.(\d+)")
EQUATION_REF = re.compile(r"\beq(?:uation)?\.? ?\(?(\d+\.\d+)\)?")
LABEL_REF = re.compile(r"\beq-[a-z0-9]+(?:-[a-z0-9]+)*")


def book_labels() -> set[str]:
    """Every equation label the book defines: ``$$ ... $$ (eq-name)`` or ``:label: eq-name``."""
    labels = set()
    for path in (ROOT / "book").rglob("*"):
        if path.suffix == ".ipynb":
            nb = json.loads(path.read_text(encoding="utf-8"))
            text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        elif path.suffix == ".md":
            text = path.read_text(encoding="utf-8")
        else:
            continue
        labels |= set(re.findall(r"\$\$\s*\((eq-[a-z0-9-]+)\)", text))
        labels |= set(re.findall(r":label:\s*(eq-[a-z0-9-]+)", text))
    return labels


LABELS = book_labels()


def chapter_sections() -> dict[int, set[str]]:
    """Chapter number -> the section numbers of its notebook's headings ("1.3", ...)."""
    out = {}
    for path in (ROOT / "book").glob("ch[0-9][0-9]_*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        out[int(path.name[2:4])] = set(re.findall(r"^##+ (\d+\.\d+)\b", text, re.M))
    return out


SECTIONS = chapter_sections()


def public_definitions():
    """(qualified name, docstring) of every public function, class and method of a public class."""
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                yield f"{module}.{node.name}", ast.get_docstring(node), node
                if isinstance(node, ast.ClassDef):
                    for item in node.body:
                        if isinstance(item, ast.FunctionDef) and not item.name.startswith("_"):
                            yield f"{module}.{node.name}.{item.name}", ast.get_docstring(item), item


def problems(name: str, doc: str | None) -> list[str]:
    if not doc:
        return [f"{name}: no docstring"]
    found = []
    chapters = [int(c) for c in CHAPTER_REF.findall(doc)]
    if not chapters and not OTHER_REF.search(doc):
        found.append(f"{name}: the docstring names no chapter ('Chapter N, §N.k')")
    for chapter in chapters:
        if chapter in SECTIONS and not any(int(c) == chapter for c, _ in SECTION_REF.findall(doc)):
            found.append(f"{name}: Chapter {chapter} exists, so name the section (§{chapter}.k)")
    for c, k in SECTION_REF.findall(doc):
        if int(c) in SECTIONS and f"{c}.{k}" not in SECTIONS[int(c)]:
            found.append(f"{name}: §{c}.{k} is not a section of Chapter {c} ({sorted(SECTIONS[int(c)])})")
    for label in EQUATION_REF.findall(doc):
        found.append(f"{name}: cites eq. {label} by number; cite the book's label instead, eq. (eq-name)")
    for label in LABEL_REF.findall(doc):
        if label not in LABELS:
            found.append(f"{name}: cites ({label}), which no chapter labels")
    return found


# Methods whose meaning is their class's (the chapter reference of the class covers them):
# magic-free accessors and dataclass/validation plumbing.
EXEMPT_METHODS = {"forward", "head", "sample", "log_prob", "mode", "entropy", "kl", "passed", "all_passed",
                  "n_states", "n_actions", "device", "next_values", "final_obs", "num_transitions"}


def test_every_public_definition_names_its_chapter():
    bad = []
    for name, doc, _ in public_definitions():
        if name.rsplit(".", 1)[-1] in EXEMPT_METHODS and doc is None:
            continue
        bad += problems(name, doc)
    assert not bad, f"{len(bad)} docstrings to fix:\n" + "\n".join(bad)


@pytest.mark.parametrize("doc, expected", [
    ("A function (Chapter 1, §1.3).", []),
    ("A function.", ["names no chapter"]),
    ("A function (Chapter 1).", ["name the section"]),
    ("A function (Chapter 1, §1.9).", ["not a section of Chapter 1"]),
    ("A function (Chapter 1, §1.3, eq. 1.8).", ["cites eq. 1.8"]),
    ("A function (Chapter 1, §1.3, eq. (eq-no-such-label)).", ["which no chapter labels"]),
    ("A later chapter's function (Chapter 19).", []),
    ("A convention (Appendix A).", []),
])
def test_the_docstring_rule_can_fail(doc, expected):
    found = problems("f", doc)
    assert len(found) == len(expected) and all(e in f for e, f in zip(expected, found)), found


def test_the_book_labels_equations():
    assert len(LABELS) >= 10, sorted(LABELS)
