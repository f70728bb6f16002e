"""The package's architecture: layers import only layers below them, algorithms never import each
other, no import circle, and the numpy layers load neither torch, Gymnasium nor matplotlib."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "rlcore"

#: Layer of each top-level part of rlcore, lowest first. The README's layout table shows the same.
LAYERS = {
    "base": 0,
    "tabular": 1, "estimators": 1,
    "fixtures": 2, "envs": 2,
    "distributions": 3,
    "nets": 4,
    "data": 5,
    "training": 6,
    "algos": 7,
    "checks": 8, "exercises": 8,
    "book": 9,
    "grading": 10,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every rlcore module that ``path`` imports, at module level or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "rlcore"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "rlcore":
                continue
            for alias in node.names:  # "from . import dp" imports the module rlcore.tabular.dp
                candidate = f"{target}.{alias.name}"
                found.add(candidate if GRAPH_MODULES.get(candidate) else target)
    return found


GRAPH_MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: imports_of(path) for name, path in GRAPH_MODULES.items()}


def part(module: str) -> str | None:
    """The top-level part of rlcore a module belongs to (None for the package's own __init__)."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else None


def test_every_part_has_a_layer():
    parts = {part(m) for m in GRAPH} - {None}
    assert parts == set(LAYERS), f"parts without a layer: {parts - set(LAYERS)}; layers without a part: " \
                                 f"{set(LAYERS) - parts}"


def test_layers_import_only_layers_below():
    bad = []
    for module, targets in GRAPH.items():
        if part(module) is None:
            continue
        for target in targets:
            if part(target) is None:
                bad.append(f"{module} imports the package root")
            elif part(target) != part(module) and LAYERS[part(target)] >= LAYERS[part(module)]:
                bad.append(f"{module} (layer {LAYERS[part(module)]}) imports {target} (layer {LAYERS[part(target)]})")
    assert not bad, "\n".join(bad)


def test_algorithms_never_import_each_other():
    algos = {m for m in GRAPH if part(m) == "algos" and m != "rlcore.algos"}
    assert algos, "no algorithm modules found"
    for module in algos:
        others = GRAPH[module] & (algos - {module})
        assert not others, f"{module} imports {sorted(others)}"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the import graph as a list of modules, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_circle():
    # a package's __init__ re-exports its own modules; that edge is not a dependency between parts
    graph = {m: {t for t in targets if not (GRAPH_MODULES[m].name == "__init__.py" and t.startswith(m + "."))}
             for m, targets in GRAPH.items()}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_can_fail():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("modules", [
    "rlcore",
    "rlcore.tabular, rlcore.estimators, rlcore.fixtures, rlcore.base.validate",
    "rlcore.checks, rlcore.checks.mdp_values, rlcore.checks.monte_carlo",
    "rlcore.exercises.ch01, rlcore.exercises.ch02",
])
def test_numpy_layers_load_no_heavy_library(modules):
    """Chapters 1-2 and every tabular tool run without importing torch, Gymnasium or matplotlib."""
    code = (f"import sys, {modules}\n"
            "heavy = [m for m in ('torch', 'gymnasium', 'matplotlib') if m in sys.modules]\n"
            "print(','.join(heavy))")
    if "exercises" in modules:  # the chapter-1 checker converts FrozenLake, so Gymnasium is expected there
        code = code.replace("'gymnasium', ", "")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"importing {modules} loaded {out}"


def test_the_import_graph_resolves_relative_imports():
    assert "rlcore.training.onpolicy" in GRAPH["rlcore.algos.ppo"]
    assert "rlcore.tabular.dp" in GRAPH["rlcore.tabular"]  # "from . import dp"
    assert "rlcore.base.validate" in GRAPH["rlcore.tabular.mdp"]
