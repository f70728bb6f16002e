"""An assignment: chapters, the exercises and graded questions in them, and their points (Introduction).

Written by the instructor as YAML::

    name: Homework 1
    hidden_seed: 2027          # the checkers' random cases differ from the ones the notebook shows
    case_time_limit: 5         # seconds each checker case may run
    submission_time_limit: 120 # seconds a whole submission may run
    memory_mb: 600             # memory a submission may allocate
    chapters:
      - notebook: book/ch01_rl_problem.ipynb      # relative to this file
        exercises: {rewards_to_go: 2, evaluate_policy_exact: 3, occupancy: 3}
        questions: {"1.2": 1, "1.3": 1}

Exercises are named by the function the student completes; the chapter's checker cell
(``ex1_1 = ch01.check_rewards_to_go(rewards_to_go)``) says which checker grades it.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

CHECKER_CELL = re.compile(r"^\w+ = (ch\d\d)\.(check_\w+)\((\w+)\)\s*$", re.M)


@dataclass
class Item:
    """One graded item: a coding exercise or a question (Introduction)."""

    kind: str  #: "exercise" or "question"
    name: str  #: the function name, or the question id
    points: float
    module: str  #: the checker module, e.g. "rlcore.exercises.ch01"
    checker: str = ""  #: the checker function (exercises only)


@dataclass
class Chapter:
    """One chapter of an assignment: its notebook's file name and its items (Introduction)."""

    notebook: str  #: file name, e.g. ch01_rl_problem.ipynb
    items: list[Item]


@dataclass
class Assignment:
    """A resolved assignment, as grading needs it (Introduction)."""

    name: str
    chapters: list[Chapter]
    hidden_seed: int = 2027
    case_time_limit: float = 5.0
    submission_time_limit: float = 120.0
    memory_mb: int = 600
    sources: dict = field(default_factory=dict)  #: notebook file name -> path of the published chapter

    @property
    def max_points(self) -> float:
        """The points of all items (Introduction)."""
        return sum(item.points for chapter in self.chapters for item in chapter.items)

    def to_json(self) -> str:
        """The assignment as JSON, as ``make`` writes it for grading (Introduction)."""
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Assignment:
        """The inverse of :meth:`to_json` (Introduction)."""
        data = json.loads(text)
        data["chapters"] = [Chapter(c["notebook"], [Item(**i) for i in c["items"]]) for c in data["chapters"]]
        return cls(**data)


def _number(value, name: str, low: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= low:
        raise ValueError(f"{name} must be a number >= {low}, got {value!r}")
    return float(value)


def load(path: str | Path) -> Assignment:
    """Read and check an assignment YAML file against the chapters it names (Introduction)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"assignment {path}: cannot read it as YAML ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("chapters"), list) or not data["chapters"]:
        raise ValueError(f"assignment {path}: expected a mapping with a non-empty list 'chapters'")
    chapters, sources = [], {}
    for entry in data["chapters"]:
        if not isinstance(entry, dict) or "notebook" not in entry:
            raise ValueError(f"assignment {path}: each chapter needs 'notebook', got {entry!r}")
        notebook = (path.parent / entry["notebook"]).resolve()
        if not notebook.is_file():
            raise ValueError(f"assignment {path}: notebook {entry['notebook']} not found at {notebook}")
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        checkers = {fn: (module, checker) for module, checker, fn in CHECKER_CELL.findall(code)}
        items = []
        for name, points in (entry.get("exercises") or {}).items():
            if name not in checkers:
                raise ValueError(f"assignment {path}: {notebook.name} has no exercise {name!r}; "
                                 f"its exercises are {sorted(checkers)}")
            module, checker = checkers[name]
            items.append(Item("exercise", name, _number(points, f"points of {name}", 0), f"rlcore.exercises.{module}",
                              checker))
        module_name = f"rlcore.exercises.{notebook.name[:4]}"
        questions = getattr(importlib.import_module(module_name), "QUESTIONS", {})
        asked = sorted(q for q in questions if 'quiz("' + q + '"' in code)
        for qid, points in (entry.get("questions") or {}).items():
            qid = str(qid)
            if qid not in asked:
                raise ValueError(f"assignment {path}: {notebook.name} asks no question {qid!r}; it asks {asked}")
            items.append(Item("question", qid, _number(points, f"points of question {qid}", 0), module_name))
        if not items:
            raise ValueError(f"assignment {path}: chapter {notebook.name} names no exercises or questions")
        chapters.append(Chapter(notebook.name, items))
        sources[notebook.name] = str(notebook)
    return Assignment(
        name=str(data.get("name", path.stem)), chapters=chapters,
        hidden_seed=int(_number(data.get("hidden_seed", 2027), "hidden_seed", 0)),
        case_time_limit=_number(data.get("case_time_limit", 5.0), "case_time_limit", 0.1),
        submission_time_limit=_number(data.get("submission_time_limit", 120.0), "submission_time_limit", 1),
        memory_mb=int(_number(data.get("memory_mb", 600), "memory_mb", 64)), sources=sources)
