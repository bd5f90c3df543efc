#!/usr/bin/env python3
"""Write docs/errors.md: every error code campusnet raises, where, and its message (from the source).

    python scripts/error_codes.py          # rewrite docs/errors.md
    python scripts/error_codes.py --check  # exit 1 when docs/errors.md is stale (a unit test runs this)
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = {
    "1": "NetBox: configuration, connection, the local NetBox, branches",
    "2": "Data: design YAML, snapshot files, rules",
    "3": "Intent, platforms, render, inventories",
    "4": "Lab, deploy, verify",
    "5": "Auditor report and exports",
    "6": "The main job (demo)",
    "7": "University scale and benchmarks",
    "8": "Change validation (check-change)",
    "9": "Unexpected errors: the command line's catch-all (a bug; the traceback is in a file)",
}


def _message(call: ast.Call, index: int = 1) -> str:
    for arg in call.args[index:index + 1]:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
        if isinstance(arg, ast.JoinedStr):
            parts = []
            for v in arg.values:
                parts.append(v.value if isinstance(v, ast.Constant) else "…")
            return "".join(parts)
    return ""


CODE = re.compile(r"E\d{3}")


def _is_code(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.fullmatch(node.value):
        return node.value
    return None


def scan(tree: ast.AST, where: str, found: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str]]:
    """Codes in one module: a code as a call's first argument or ``code=`` keyword (with the message),
    and a code as the default of a ``code`` parameter (``DataError``'s E201, ``lab.run``'s E401). Returns
    the other code literals (assigned to a variable, passed on later), to list when nothing else names them."""
    used: set[int] = set()
    owner = {id(f): c.name for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for f in c.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            code = _is_code(node.args[0])
            index = 1  # CampusnetError(code, message)
            if code:
                used.add(id(node.args[0]))
            for kw in node.keywords:
                if kw.arg == "code" and _is_code(kw.value):
                    code = _is_code(kw.value)
                    used.add(id(kw.value))
                    index = 1 if _is_code(node.args[0]) else 0  # DataError(message, code=...)
            if code:
                found[code].append((where, " ".join(_message(node, index).split())))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            a = node.args
            pos = a.posonlyargs + a.args
            pairs = list(zip(pos[len(pos) - len(a.defaults):], a.defaults, strict=True))
            pairs += [(arg, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None]
            for arg, default in pairs:
                code = _is_code(default) if arg.arg == "code" else None
                if code:
                    used.add(id(default))
                    name = f"{owner[id(node)]}" if id(node) in owner else f"{node.name}()"
                    found[code].append((where, f"(the default code of {name}; the message varies)"))
    return [(c, where) for n in ast.walk(tree) if (c := _is_code(n)) and id(n) not in used]


def collect(root: Path = ROOT) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    loose: list[tuple[str, str]] = []
    for base in ("campusnet", "nornir_tasks", "playbooks", "benchmarks"):
        for f in sorted((root / base).rglob("*.py")):
            loose += scan(ast.parse(f.read_text(), str(f)), str(f.relative_to(root)), found)
    for code, where in loose:  # a code only ever held in a variable still belongs in the catalogue
        if code not in found:
            found[code].append((where, "(passed as a variable; the message varies)"))
    return found


def render() -> str:
    found = collect()
    out = ["# Error codes", "",
           "Every error campusnet reports to a person has a code; the CLI prints `code: object field 'x': message`",
           "and exits 2. This page is generated from the source by `python scripts/error_codes.py`; a unit test",
           "fails when it is stale.", ""]
    by_family: dict[str, list[str]] = defaultdict(list)
    for code in sorted(found):
        by_family[code[1]].append(code)
    for fam, codes in sorted(by_family.items()):
        out += [f"## E{fam}xx — {FAMILIES.get(fam, '')}", "", "| code | where | message |", "|---|---|---|"]
        for code in codes:
            seen = set()
            for where, msg in found[code]:
                if (where, msg) in seen:
                    continue
                seen.add((where, msg))
                out.append(f"| {code} | `{where}` | {msg.replace('|', '/')[:160]} |")
        out.append("")
    return "\n".join(out)


def main() -> int:
    path = ROOT / "docs" / "errors.md"
    text = render()
    if "--check" in sys.argv:
        if not path.exists() or path.read_text() != text:
            print("docs/errors.md is stale: run python scripts/error_codes.py", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
