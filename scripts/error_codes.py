#!/usr/bin/env python3
"""Write docs/errors.md: every error code campusnet raises, where, and its message (from the source).

    python scripts/error_codes.py          # rewrite docs/errors.md
    python scripts/error_codes.py --check  # exit 1 when docs/errors.md is stale (a unit test runs this)
"""

from __future__ import annotations

import ast
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
}


def _message(call: ast.Call) -> str:
    for arg in call.args[1:2]:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
        if isinstance(arg, ast.JoinedStr):
            parts = []
            for v in arg.values:
                parts.append(v.value if isinstance(v, ast.Constant) else "…")
            return "".join(parts)
    return ""


def collect() -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for base in ("campusnet", "nornir_tasks", "playbooks", "benchmarks"):
        for f in sorted((ROOT / base).rglob("*.py")):
            tree = ast.parse(f.read_text(), str(f))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                first = node.args[0]
                code = None
                if isinstance(first, ast.Constant) and isinstance(first.value, str) and len(first.value) == 4 \
                        and first.value[0] == "E" and first.value[1:].isdigit():
                    code = first.value
                for kw in node.keywords:
                    if kw.arg == "code" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                        code = kw.value.value
                if code:
                    msg = " ".join(_message(node).split())
                    found[code].append((str(f.relative_to(ROOT)), msg))
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
