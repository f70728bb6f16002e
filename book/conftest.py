"""Share one execution of each chapter between the tests and the book build (scripts/nbcache.py).

nbval runs every code cell of a chapter as a test item, in one kernel. When all of a chapter's cells
pass, the outputs nbval collected are put back into the notebook, and the executed notebook goes into
the book build's execution cache, which the build then reuses instead of executing the chapter again.
The time each chapter took is printed at the end of the run (the budget is 90 s on one core).
"""

from __future__ import annotations

import copy
import importlib.util
import time
import warnings
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location("nbcache", Path(__file__).resolve().parents[1] / "scripts/nbcache.py")
nbcache = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(nbcache)

BUDGET_SECONDS = 90
_runs: dict = {}  # notebook path -> {"start", "passed", "outputs"}


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist): empty a stale cache once
        nbcache.sync()


def _is_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell"


def pytest_runtest_setup(item):
    if _is_cell(item):
        _runs.setdefault(str(item.parent.fspath), {"start": time.monotonic(), "passed": 0, "outputs": {}})


def pytest_runtest_makereport(item, call):
    if _is_cell(item) and call.when == "call" and call.excinfo is None:
        run = _runs[str(item.parent.fspath)]
        run["passed"] += 1
        run["outputs"][item.cell_num] = item.test_outputs


def pytest_runtest_teardown(item, nextitem):
    if not _is_cell(item) or (nextitem is not None and nextitem.parent is item.parent):
        return
    path = Path(str(item.parent.fspath))
    run = _runs.pop(str(path), None)
    code_cells = [c for c in item.parent.nb.cells if c.cell_type == "code"]
    if run is None or run["passed"] != len(code_cells):
        return  # a cell failed or was deselected: cache nothing
    seconds = time.monotonic() - run["start"]
    notebook = copy.deepcopy(item.parent.nb)
    count = 0
    for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        count += 1
        cell.execution_count = count
        cell.outputs = _without_widget_captures(run["outputs"].get(number) or [])
        for output in cell.outputs:
            if output.get("output_type") == "execute_result":
                output["execution_count"] = count
    try:
        nbcache.store(notebook, path, seconds)
    except Exception as exc:  # noqa: BLE001 - a cache write must never fail the tests; the build then executes
        warnings.warn(f"could not cache the executed {path.name}: {exc}", stacklevel=1)


def _without_widget_captures(outputs: list) -> list:
    """Drop what an explorer drew into its ipywidgets Output: Jupyter shows it inside the widget, but nbval
    records it as a separate output, which the book would print above the explorer's own snapshot."""
    explorer = any(o.get("output_type") == "execute_result"
                   and "application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    return [o for o in outputs if not (explorer and o.get("output_type") == "display_data")]


def pytest_terminal_summary(terminalreporter):
    """Report each cached chapter's execution time (read from the cache: xdist workers filled it)."""
    if not nbcache.CACHE.is_dir():
        return
    from jupyter_cache import get_cache

    latest = {}
    for record in get_cache(str(nbcache.CACHE)).list_cache_records():  # an edited chapter leaves older records
        if record.uri not in latest or record.created > latest[record.uri].created:
            latest[record.uri] = record
    for record in sorted(latest.values(), key=lambda r: r.uri):
        seconds = float(record.data.get("execution_seconds", float("nan")))
        flag = "" if seconds <= BUDGET_SECONDS else f"  OVER THE {BUDGET_SECONDS} s BUDGET"
        terminalreporter.write_line(f"{Path(record.uri).name}: executed in {seconds:.1f} s, in the build's cache{flag}")
