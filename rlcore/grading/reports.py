"""What grading writes: the grade table, one feedback file per student, the instructor's summary and
Gradescope's ``results.json`` (Introduction)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from .assignment import Assignment
from .grade import STATUSES, SubmissionResult


def _column(chapter: str, name: str, kind: str) -> str:
    return f"{chapter[:4]} {'q' if kind == 'question' else ''}{name}"


def write_csv(results: list[SubmissionResult], path: Path) -> None:
    """Points per item and the total, one row per student (Introduction)."""
    if not results:
        path.write_text("student,total\n")
        return
    columns = [_column(i.chapter, i.name, i.kind) for i in results[0].items]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", *columns, "total", "max"])
        for result in results:
            writer.writerow([result.student, *(f"{i.points:g}" for i in result.items), f"{result.total:g}",
                             f"{sum(i.max_points for i in result.items):g}"])


def feedback(result: SubmissionResult, assignment: Assignment) -> str:
    """One student's feedback, in Markdown: each item's status, message and details (Introduction)."""
    lines = [f"# {assignment.name}: feedback for {result.student}", "",
             f"Total: **{result.total:g} / {assignment.max_points:g}** points.", ""]
    for item in result.items:
        title = f"question {item.name}" if item.kind == "question" else f"`{item.name}`"
        lines += [f"## {item.chapter[:4]}: {title}: {item.points:g} / {item.max_points:g} ({item.status})", "",
                  item.message, ""]
        if item.details:
            lines += ["```text", *item.details, "```", ""]
    return "\n".join(lines)


def summary(results: list[SubmissionResult], assignment: Assignment, plot_path: Path | None = None) -> str:
    """The instructor's summary: the score distribution and the most common failure of each item (Introduction)."""
    totals = sorted(r.total for r in results)
    lines = [f"# {assignment.name}: {len(results)} submissions graded", ""]
    if totals:
        mean = sum(totals) / len(totals)
        lines += [f"Scores out of {assignment.max_points:g}: mean {mean:.2f}, median {totals[len(totals) // 2]:g}, "
                  f"min {totals[0]:g}, max {totals[-1]:g}.", ""]
    lines += ["| item | full points | most common failure | how many |", "|---|---|---|---|"]
    for k, first in enumerate(results[0].items if results else []):
        items = [r.items[k] for r in results]
        full = sum(i.points == i.max_points for i in items)
        failures = Counter(f"{i.status}: {_case(i.message)}" for i in items if i.points < i.max_points)
        common, count = failures.most_common(1)[0] if failures else ("none", 0)
        lines.append(f"| {_column(first.chapter, first.name, first.kind)} | {full} | {common} | {count} |")
    lines += ["", "Statuses:", ""] + [f"* **{status}**: {meaning}" for status, meaning in STATUSES.items()]
    if plot_path is not None and totals:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3))
        ax.hist(totals, bins=min(20, max(5, len(set(totals)))), color="tab:blue")
        ax.set_xlabel(f"points (out of {assignment.max_points:g})")
        ax.set_ylabel("students")
        ax.set_title(assignment.name)
        fig.savefig(plot_path, dpi=100, bbox_inches="tight")
        plt.close(fig)
        lines += ["", f"![score distribution]({plot_path.name})"]
    return "\n".join(lines) + "\n"


def _case(message: str) -> str:
    """The part of a checker message that names what failed, without the student-specific numbers."""
    head = message.split(":")[0] if message.startswith("wrong on case") else message
    return head[:90]


def gradescope_results(result: SubmissionResult) -> dict:
    """Gradescope's ``results.json`` for one submission (Introduction).

    The format of Gradescope's autograder specification: a top-level ``score`` and ``tests``, each test
    with ``name``, ``score``, ``max_score``, ``status`` ("passed" or "failed"), ``output`` and
    ``visibility``.
    """
    tests = []
    for number, item in enumerate(result.items, start=1):
        output = "\n".join([item.message, *item.details])
        tests.append({"name": f"{item.chapter[:4]} {'question ' if item.kind == 'question' else ''}{item.name}",
                      "number": str(number), "score": float(item.points), "max_score": float(item.max_points),
                      "status": "passed" if item.points == item.max_points else "failed",
                      "output": output[:20_000], "output_format": "text", "visibility": "visible"})
    return {"score": float(result.total), "execution_time": round(result.seconds, 3), "output_format": "text",
            "output": f"{result.total:g} / {sum(i.max_points for i in result.items):g} points", "tests": tests,
            "visibility": "visible", "stdout_visibility": "hidden"}


def write_all(results: list[SubmissionResult], assignment: Assignment, out: Path) -> None:
    """grades.csv, feedback/<student>.md, summary.md and score_distribution.png in ``out`` (Introduction)."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(results, out / "grades.csv")
    (out / "feedback").mkdir(exist_ok=True)
    for result in results:
        (out / "feedback" / f"{result.student}.md").write_text(feedback(result, assignment), encoding="utf-8")
    (out / "summary.md").write_text(summary(results, assignment, out / "score_distribution.png"), encoding="utf-8")
    (out / "results.json").write_text(json.dumps({r.student: gradescope_results(r) for r in results}, indent=1))
