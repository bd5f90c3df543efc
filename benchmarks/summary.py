"""The issue-12 figures of one ``python -m benchmarks`` run, each beside its anchor (the figure before) and its
target: P1 full, P1 incremental, check-change for one device, verify per check.

Verify is not run here (it needs the lab, one per machine): its per-check figure is read from the newest of
``out/bench/lab_growth.json`` (``./run bench_lab``), ``<state>/verify/latest.json`` (the last
``campusnet verify``) and ``out/demo/report.json`` (the demo's run record), and the table says which.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from campusnet import settings
from campusnet.settings import REPO_ROOT

#: the figures issue 12 was filed with (2 cores): P1 full read, check-change without lab proof, verify per check
ANCHORS = {"p1_full_s": 112.0, "check_change_s": 20.7, "verify_per_check_s": 0.38}
TARGETS = {"p1_incremental_s": 2.0, "check_change_s": 10.0, "verify_lab_s": 10.0}


def _mtime(p: Path) -> float:
    return p.stat().st_mtime if p.exists() else -1.0


def _from_lab_growth(p: Path) -> dict[str, Any] | None:
    d = json.loads(p.read_text(encoding="utf-8"))
    for size in d.get("sizes", []):
        v = size.get("verify") or {}
        checks = v.get("checks") or v.get("passed")
        if v.get("seconds") and checks:
            return {"per_check_s": round(v["seconds"] / checks, 4), "seconds": v["seconds"], "checks": checks,
                    "source": f"{p.relative_to(REPO_ROOT)} ({size.get('label')}, {d.get('started')})"}
    return None


def _from_latest(p: Path) -> dict[str, Any] | None:
    d = json.loads(p.read_text(encoding="utf-8"))
    checks = (d.get("passed") or 0) + (d.get("failed") or 0)
    if not d.get("seconds") or not checks:
        return None
    return {"per_check_s": round(d["seconds"] / checks, 4), "seconds": d["seconds"], "checks": checks,
            "source": f"{p} (campusnet verify, {d.get('finished')})"}


def _from_demo(p: Path) -> dict[str, Any] | None:
    d = json.loads(p.read_text(encoding="utf-8"))
    stages = d.get("stages") if isinstance(d, dict) else None
    for st in stages or []:
        if isinstance(st, dict) and st.get("name") == "verify" and st.get("seconds"):
            detail = str(st.get("detail", ""))
            n = int(detail.split()[0]) if detail.split() and detail.split()[0].isdigit() else 0
            if n:
                return {"per_check_s": round(st["seconds"] / n, 4), "seconds": st["seconds"], "checks": n,
                        "source": f"{p.relative_to(REPO_ROOT)} (demo run record)"}
    return None


def verify_per_check() -> dict[str, Any]:
    """The newest recorded verify figure, and where it comes from."""
    cands = [(REPO_ROOT / "out" / "bench" / "lab_growth.json", _from_lab_growth),
             (settings.state_dir() / "verify" / "latest.json", _from_latest),
             (REPO_ROOT / "out" / "demo" / "report.json", _from_demo)]
    for path, fn in sorted(cands, key=lambda c: -_mtime(c[0])):
        if not path.exists():
            continue
        try:
            got = fn(path)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if got:
            got["recorded"] = datetime.fromtimestamp(_mtime(path)).isoformat(timespec="seconds")
            return got
    return {"per_check_s": None, "source": "no verify record found (run ./run bench_lab or campusnet verify)"}


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, figure, anchor, target/verdict) for the issue-12 table."""
    inc = r.get("incremental") or {}
    cc = r.get("check_change") or {}
    ver = r.get("verify") or {}
    full = inc.get("full_s") or (r.get("p1", {}).get("ours") or {}).get("read_s")
    one = inc.get("one_device_s")

    def s(v: Any) -> str:
        return "—" if v is None else (f"{v:.3f} s" if v < 1 else f"{v:,.2f} s")

    def verdict(v: Any, t: float) -> str:
        return "—" if v is None else f"≤ {t:g} s: {'meets' if v <= t else 'MISSES'}"
    return [
        ("P1 full read (2,000 devices)", s(full), s(ANCHORS["p1_full_s"]), "the floor is REST itself"),
        ("P1 incremental (one-device change)", s(one), s(full),
         verdict(one, TARGETS["p1_incremental_s"]) + (f"; {full / one:.0f}x faster" if one and full else "")),
        ("check-change, one device, no lab proof", s(cc.get("total_s")), s(ANCHORS["check_change_s"]),
         verdict(cc.get("total_s"), TARGETS["check_change_s"])),
        ("verify per check", s(ver.get("per_check_s")), s(ANCHORS["verify_per_check_s"]),
         f"{ver.get('checks', '?')} checks in {float(ver.get('seconds') or 0):.1f} s; from {ver.get('source')}"),
    ]


def print_rows(r: dict[str, Any]) -> None:
    table = rows(r)
    w = max(len(x[0]) for x in table)
    print(f"\n{'issue 12'.ljust(w)}  {'figure':>11}  {'anchor':>11}  target")
    print(f"{'-' * w}  {'-' * 11}  {'-' * 11}  {'-' * 30}")
    for name, fig, anchor, note in table:
        print(f"{name.ljust(w)}  {fig:>11}  {anchor:>11}  {note}")
