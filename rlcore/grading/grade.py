"""Grade a folder of submitted notebooks, each in its own process, in parallel (Introduction).

Only what grading needs runs: the import statements of the notebook, the cell that defines each
exercise's function, and the literal answers written into ``quiz("N.k", answer=...)`` calls; the
chapter's experiments and training runs do not. Each submission runs in a forked child process with
a memory limit and a wall-clock limit; inside it every checker runs with its hidden seed and its
own per-case limit (``rlcore.exercises.framework``). A submission that is not valid JSON, misses a
cell, renames a function, loops forever, exits or floods its output gets zero for what failed,
with the reason, and the run goes on.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import json
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..exercises import framework
from ..exercises.framework import ERROR, NOT_ATTEMPTED, PASS, TIMEOUT, CheckTimeout
from .assignment import Assignment, Item

MISSING, INVALID = "missing", "invalid"


@dataclass
class ItemResult:
    """The grade of one item of one submission (Introduction)."""

    chapter: str
    name: str
    kind: str
    points: float
    max_points: float
    status: str
    message: str
    details: list[str] = field(default_factory=list)


@dataclass
class SubmissionResult:
    """All grades of one student (Introduction)."""

    student: str
    items: list[ItemResult]
    seconds: float = 0.0

    @property
    def total(self) -> float:
        """The student's points (Introduction)."""
        return sum(item.points for item in self.items)


def _all_items(assignment: Assignment):
    for chapter in assignment.chapters:
        for item in chapter.items:
            yield chapter.notebook, item


def _zero(chapter: str, item: Item, status: str, message: str) -> ItemResult:
    return ItemResult(chapter, item.name, item.kind, 0.0, item.points, status, message)


def _code_cells(notebook: dict) -> list[str]:
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError("it has no list of cells")
    out = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            out.append("".join(source) if isinstance(source, list) else str(source))
    return out


def _parse(source: str):
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _imports(cells: list[str]) -> list[str]:
    """Every top-level import statement of the notebook, in order (they are what exercise cells depend on)."""
    found = []
    for source in cells:
        tree = _parse(source)
        for node in tree.body if tree else []:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                found.append(ast.unparse(node))
    return found


def _defining_cell(cells: list[str], name: str) -> str | None:
    """The last code cell that defines ``def name(...)`` at top level."""
    chosen = None
    for source in cells:
        tree = _parse(source)
        if tree and any(isinstance(n, ast.FunctionDef) and n.name == name for n in tree.body):
            chosen = source
    return chosen


def _quiz_answer(cells: list[str], qid: str):
    """The literal ``answer=`` of the last ``quiz("qid", answer=...)`` call: (found, value, problem)."""
    result = (False, None, "")
    for source in cells:
        tree = _parse(source)
        for node in ast.walk(tree) if tree else []:
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "quiz"
                    and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == qid):
                answer = next((k.value for k in node.keywords if k.arg == "answer"), None)
                if answer is None:
                    result = (True, None, "")
                    continue
                try:
                    result = (True, ast.literal_eval(answer), "")
                except ValueError:
                    result = (True, None, f"the answer must be written as a literal (\"b\", {{\"a\", \"c\"}} or 0.5), "
                                          f"got {ast.unparse(answer)}")
    return result


def _run_cell(source: str, namespace: dict, seconds: float) -> str:
    """Execute one cell under a time limit; return '' or the reason it failed."""
    def on_alarm(signum, frame):
        raise CheckTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        exec(compile(source, "<cell>", "exec"), namespace)  # noqa: S102 - isolated child process, limits set
        return ""
    except CheckTimeout:
        return f"the cell ran longer than {seconds:g} s"
    except SystemExit as exc:
        return f"the cell called sys.exit({exc.code!r})"
    except BaseException as exc:  # noqa: BLE001 - the student's code: report anything
        return f"the cell raised {type(exc).__name__}: {exc}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def grade_chapter(chapter: str, items: list[Item], path: Path, assignment: Assignment, send) -> None:
    """Grade one chapter of one submission, sending each result as it is decided, in the child (Introduction)."""
    if not path.is_file():
        for item in items:
            send(_zero(chapter, item, MISSING, f"no notebook {path.name} was handed in"))
        return
    try:
        cells = _code_cells(json.loads(path.read_text(encoding="utf-8", errors="replace")))
    except (ValueError, TypeError) as exc:
        for item in items:
            send(_zero(chapter, item, INVALID, f"{path.name} is not a readable notebook ({exc})"))
        return
    namespace: dict = {"__name__": "__submission__"}
    failed_imports = [f"{line}: {problem}" for line in _imports(cells)
                      if (problem := _run_cell(line, namespace, assignment.case_time_limit))]
    for item in items:
        module = importlib.import_module(item.module)
        if item.kind == "question":
            found, answer, problem = _quiz_answer(cells, item.name)
            if problem:
                send(_zero(chapter, item, ERROR, problem))
                continue
            if not found:
                send(_zero(chapter, item, MISSING, f"no cell asks quiz(\"{item.name}\")"))
                continue
            result = module.QUESTIONS[item.name].grade(answer)
        else:
            source = _defining_cell(cells, item.name)
            if source is None:
                send(_zero(chapter, item, MISSING, f"no cell defines a function named {item.name} (renamed, or the "
                                                   "cell is missing or has a syntax error)"))
                continue
            problem = _run_cell(source, namespace, assignment.case_time_limit)
            fn = namespace.get(item.name)
            if problem or not callable(fn):
                reason = problem or f"{item.name} is not a function"
                extra = f" (imports that failed: {'; '.join(failed_imports)})" if failed_imports else ""
                send(_zero(chapter, item, ERROR, f"the cell defining {item.name}: {reason}{extra}"))
                continue
            result = getattr(module, item.checker)(fn, seed=assignment.hidden_seed)
        points = item.points if result.status == PASS else 0.0
        send(ItemResult(chapter, item.name, item.kind, points, item.points, result.status, result.message,
                        [d[:2000] for d in result.details]))


def _child(assignment: Assignment, student: str, folder: Path, write) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # output floods go nowhere, at the level of the file descriptors too
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = framework._CappedText(0)
    with contextlib.suppress(Exception):
        import resource

        used = framework._virtual_memory()
        if used:
            limit = used + assignment.memory_mb * 1024**2
            resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    framework.TIME_LIMIT = assignment.case_time_limit
    framework.MEMORY_LIMIT = assignment.memory_mb * 1024**2
    for chapter in assignment.chapters:
        path = folder / chapter.notebook if folder.is_dir() else folder
        grade_chapter(chapter.notebook, chapter.items, path, assignment, lambda r: write(("item", asdict(r))))


def submissions(assignment: Assignment, folder: Path) -> dict[str, Path]:
    """Student id -> their notebook (one chapter) or folder (several), from the submissions folder (Introduction).

    With one chapter, each ``<student>.ipynb`` is a submission (and so is ``<student>/<chapter>.ipynb``);
    with several, each subfolder ``<student>/`` holding the chapters' notebooks.
    """
    found: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found[entry.name] = entry
        elif len(assignment.chapters) == 1 and entry.suffix == ".ipynb":
            found[entry.stem] = entry
    return found


def grade_folder(assignment: Assignment, folder: str | Path, jobs: int | None = None,
                 progress=None) -> list[SubmissionResult]:
    """Grade every submission of ``folder``, ``jobs`` at a time (default: one per CPU core) (Introduction)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder {folder} is not a directory of submissions")
    for chapter in assignment.chapters:  # import the checkers and the chapters' own imports once, before forking
        for item in chapter.items:
            importlib.import_module(item.module)
        source = Path(assignment.sources.get(chapter.notebook, ""))
        if source.is_file():
            for line in _imports(_code_cells(json.loads(source.read_text(encoding="utf-8")))):
                with contextlib.suppress(Exception):
                    exec(line, {})  # noqa: S102 - the published chapter's own import statements
    with contextlib.suppress(ImportError):  # a submission may import torch (any reader might): not against its memory
        import torch  # noqa: F401
    todo = list(submissions(assignment, folder).items())
    jobs = max(1, jobs or os.cpu_count() or 1)
    running: dict[int, dict] = {}  # pid -> what is known of that child's submission
    results: list[SubmissionResult] = []
    while todo or running:
        while todo and len(running) < jobs:
            student, path = todo.pop(0)
            pid, state = _start(assignment, student, path)
            running[pid] = state
        for result in _collect(running, assignment):
            results.append(result)
            if progress:
                progress(result)
    return sorted(results, key=lambda r: r.student)


def _start(assignment: Assignment, student: str, path: Path) -> tuple[int, dict]:
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(read_fd)
            out = os.fdopen(write_fd, "wb", buffering=0)
            _child(assignment, student, path, lambda message: framework._send(out, message))
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    pipe = os.fdopen(read_fd, "rb")
    return pid, {"student": student, "pipe": pipe, "reader": framework._Reader(pipe), "items": [],
                 "start": time.monotonic()}


def _collect(running: dict[int, dict], assignment: Assignment) -> list[SubmissionResult]:
    """Wait a little for the running children; remove and return the submissions that finished."""
    import select

    done = []
    pipes = {state["pipe"]: pid for pid, state in running.items()}
    ready, _, _ = select.select(list(pipes), [], [], 0.2)
    for pipe in ready:
        pid = pipes[pipe]
        messages, closed = running[pid]["reader"].read_ready()
        running[pid]["items"].extend(ItemResult(**message[1]) for message in messages)
        if closed:
            status = framework._reap(pid)
            done.append(_finish(running.pop(pid), assignment, ERROR,
                                f"the submission ended the grading process ({status})"))
    for pid in list(running):
        if time.monotonic() - running[pid]["start"] > assignment.submission_time_limit:
            framework._kill(pid)
            done.append(_finish(running.pop(pid), assignment, TIMEOUT,
                                f"the submission ran longer than {assignment.submission_time_limit:g} s in all"))
    return done


def _finish(state: dict, assignment: Assignment, status: str, reason: str) -> SubmissionResult:
    """The submission's results, with ``status`` and ``reason`` for every item its child did not grade."""
    state["pipe"].close()
    graded = {(r.chapter, r.name, r.kind) for r in state["items"]}
    items = list(state["items"])
    for chapter, item in _all_items(assignment):
        if (chapter, item.name, item.kind) not in graded:
            items.append(_zero(chapter, item, status, reason))
    order = {(c, i.name, i.kind): k for k, (c, i) in enumerate(_all_items(assignment))}
    items.sort(key=lambda r: order[(r.chapter, r.name, r.kind)])
    return SubmissionResult(state["student"], items, time.monotonic() - state["start"])


STATUSES = {
    PASS: "all cases pass: full points",
    "fail": "the answer is wrong on the named case (the feedback shows it, with the expected output and a hint)",
    ERROR: "the code raised an exception, exited, recursed too deeply or ran out of memory",
    TIMEOUT: "a case (or the whole submission) ran past its time limit",
    NOT_ATTEMPTED: "the stub is untouched (raise NotImplementedError), or the question has no answer",
    MISSING: "the notebook, the cell or the function is not there (or was renamed)",
    INVALID: "the file is not a readable notebook",
}
