"""The shape of campusnet/: short functions, no import circle, runtime never importing tooling.

docs/design.md ("Runtime and tooling", "No import circle") states the rules these tests enforce.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "campusnet"
MAX_LINES = 120

# (file relative to the repo, function): why it is still longer than MAX_LINES. Empty is the goal; an
# entry that is no longer too long fails the test, so the list only shrinks.
LONG_ALLOWED: dict[tuple[str, str], str] = {
    ("campusnet/change/report.py", "render_summary"): "issue 10: change/ is another helper's (H3) this round",
    ("campusnet/scale/orm_load.py", "insert"): "issue 10: scale/ is another helper's this round",
}

# Installed on a controller: reads NetBox, builds intents, renders, deploys, verifies, reports.
RUNTIME = ("campusnet.sot", "campusnet.pipeline", "campusnet.intent", "campusnet.render", "campusnet.rules",
           "campusnet.compare", "campusnet.deploy", "campusnet.verify", "campusnet.report", "campusnet.change")
# In the repository for the demo, the tests and the figures: never needed to import the runtime.
TOOLING = ("campusnet.localnb", "campusnet.scale", "campusnet.lab.engine", "campusnet.lab.day0",
           "campusnet.lab.bench", "campusnet.lab.run", "benchmarks")


def long_functions(root: Path, limit: int = MAX_LINES) -> dict[tuple[str, str], int]:
    """``{(file, qualified function name): lines}`` of every function longer than ``limit`` under ``root``."""
    out: dict[tuple[str, str], int] = {}
    for path in sorted(root.rglob("*.py")):
        rel = str(path.relative_to(root.parent))

        def visit(node: ast.AST, prefix: str, rel: str = rel) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    name = f"{prefix}{child.name}"
                    lines = (child.end_lineno or child.lineno) - child.lineno + 1
                    if lines > limit:
                        out[(rel, name)] = lines
                    visit(child, f"{name}.")
                elif isinstance(child, ast.ClassDef):
                    visit(child, f"{prefix}{child.name}.")

        visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return out


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module → the package modules it imports when it is imported (module level; not under
    ``if TYPE_CHECKING:``, not inside functions)."""
    files = {_module_name(root, p): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()

        def visit(body: list[ast.stmt], pkg: str = pkg, found: set[str] = found) -> None:
            for node in body:
                if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                    visit(node.orelse)
                elif isinstance(node, ast.If):
                    visit(node.body)
                    visit(node.orelse)
                elif isinstance(node, ast.Try):
                    visit(node.body)
                    for handler in node.handlers:
                        visit(handler.body)
                    visit(node.orelse)
                    visit(node.finalbody)
                elif isinstance(node, ast.Import):
                    found.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        up = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                        base = ".".join(up + ([node.module] if node.module else []))
                    found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names)

        visit(ast.parse(path.read_text(encoding="utf-8")).body)
        graph[name] = {m for m in found if m in files and m != name}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    cycles.append(sorted(comp))
    return cycles


# ---- the checks -----------------------------------------------------------------------------------------
def test_no_function_over_the_limit() -> None:
    found = long_functions(PACKAGE)
    over = {k: v for k, v in found.items() if k not in LONG_ALLOWED}
    assert not over, "functions over 120 lines (split them): " + ", ".join(
        f"{f}:{n} ({v})" for (f, n), v in over.items())
    fixed = sorted(k for k in LONG_ALLOWED if k not in found)
    assert not fixed, f"no longer over {MAX_LINES} lines: take them off LONG_ALLOWED: {fixed}"


def test_no_import_cycle() -> None:
    assert import_cycles(import_graph(PACKAGE)) == []


def test_runtime_never_imports_tooling() -> None:
    """Importing every runtime module (each package walked) loads no tooling module."""
    code = f"""
import importlib, json, pkgutil, sys
for r in {RUNTIME!r}:
    m = importlib.import_module(r)
    for info in pkgutil.walk_packages(getattr(m, "__path__", []), r + "."):
        importlib.import_module(info.name)
print(json.dumps(sorted(m for m in sys.modules if m.startswith({TOOLING!r}))))
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout.strip().splitlines()[-1]) == [], "runtime modules import tooling at import time"


# ---- the checkers themselves fail on what they must catch -------------------------------------------------
@pytest.fixture
def pkg(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    return root


def test_checker_sees_a_long_method(pkg: Path) -> None:
    body = "\n".join(f"        x{n} = {n}" for n in range(MAX_LINES))
    (pkg / "m.py").write_text(f"class C:\n    def f(self):\n{body}\n\n\ndef short():\n    pass\n")
    assert long_functions(pkg) == {("pkg/m.py", "C.f"): MAX_LINES + 1}


def test_checker_sees_a_cycle_but_not_a_lazy_import(pkg: Path) -> None:
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nfrom . import c\n"
                              "if TYPE_CHECKING:\n    import pkg.a\n")
    (pkg / "c.py").write_text("def f():\n    from pkg import a\n")
    assert import_cycles(import_graph(pkg)) == []
    (pkg / "c.py").write_text("from .a import x\n")
    assert import_cycles(import_graph(pkg)) == [["pkg.a", "pkg.b", "pkg.c"]]
