"""The packages form layers that point one way, read from the code's own imports (every `import`,
including those inside functions):

    app                      the composition: CLI, `aios up`, Rasa process, evaluations, benchmarks
    channels, actions        the gateway and the action server
    knowledge, workflows     the knowledge service and the Temporal worker (and their clients)
    assistant                the ground floor: settings, errors, db, directory, tokens, catalog, audit

A package imports only from the floors below it, never from a sibling on its own floor, never from
`tests`; and no module takes part in an import cycle at import time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS = [["app"], ["channels", "actions"], ["knowledge", "workflows"], ["assistant"]]
FLOOR = {pkg: level for level, pkgs in enumerate(FLOORS) for pkg in pkgs}
ADDONS = ROOT / "app" / "rasa" / "addons"  # loaded by Rasa in its own environment


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in FLOOR:
        for path in (ROOT / pkg).rglob("*.py"):
            if ADDONS in path.parents:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()


def _imports(path: Path, *, top_level_only: bool = False) -> list[tuple[int, str]]:
    """(line, imported module) for every absolute import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from channels import metrics` depends on the module channels.metrics (the package
            # itself is then already importing or imported: no cycle through it).
            submodules = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES]
            if len(submodules) < len(node.names):
                found.append((node.lineno, node.module))
            found += [(node.lineno, m) for m in submodules]
    return found


def test_every_import_points_down_the_layers():
    wrong = []
    for module, path in MODULES.items():
        here = module.split(".")[0]
        for line, imported in _imports(path):
            there = imported.split(".")[0]
            if there == "tests":
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {imported} (test code)")
            elif there in FLOOR and there != here and FLOOR[there] <= FLOOR[here]:
                kind = "a sibling" if FLOOR[there] == FLOOR[here] else "a floor above"
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {imported} ({kind})")
    assert not wrong, "\n".join(wrong)


def test_the_rasa_add_ons_import_nothing_of_the_product():
    """They run inside Rasa's environment, where the product packages are not installed."""
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {imported}"
             for path in ADDONS.rglob("*.py") for line, imported in _imports(path)
             if imported.split(".")[0] in FLOOR or imported.split(".")[0] == "tests"]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_at_import_time():
    """Module-level imports only: an import inside a function runs later and cannot deadlock start-up."""
    graph = {m: {i for _, i in _imports(p, top_level_only=True) if i in MODULES and i != m}
             for m, p in MODULES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize("floor", ["app", "channels", "actions", "knowledge", "workflows", "assistant"])
def test_the_check_sees_each_package(floor):
    """A check over nothing would pass: every floor has modules, and each has imports to check."""
    modules = [m for m in MODULES if m.split(".")[0] == floor]
    assert len(modules) >= 3 and sum(len(_imports(MODULES[m])) for m in modules) > 10
