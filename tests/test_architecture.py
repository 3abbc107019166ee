"""The import contracts in pyproject.toml hold (core free of Qt and torch, core subjects
layered, training uses only app.spec and the fixed-point kernel), importing the core does not
pull in Qt or torch at run time either, no module imports itself round a cycle, and every
module stays small enough to read."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(exe), "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 9 kept, 0 broken" in proc.stdout


def test_core_and_cli_import_without_qt_or_torch():
    code = ("import sys, app.core.engine, app.core.jobs, app.cli.main, app.core.demo;"
            "bad = [m for m in ('PySide6', 'torch', 'app.gui') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def import_cycles(graph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), imports made only for
    type checkers left out."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycles():
    import grimp

    graph = grimp.build_graph("app", "training", exclude_type_checking_imports=True)
    assert import_cycles(graph) == []


def test_a_cycle_is_found():
    import grimp

    graph = grimp.ImportGraph()
    for a, b in [("x.a", "x.b"), ("x.b", "x.c"), ("x.c", "x.a"), ("x.c", "x.d")]:
        graph.add_import(importer=a, imported=b)
    assert import_cycles(graph) == [["x.a", "x.b", "x.c"]]


def test_modules_stay_under_400_lines():
    long = {str(p.relative_to(REPO)): n for folder in ("app", "training")
            for p in (REPO / folder).rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}
