"""Golden files: every device of every recorded snapshot, rendered, equals tests/golden/<case>/.

Layout: ``<case>/<host>.cfg`` for a device's main configuration (VRP, Comware), ``<case>/<host>/<file>``
for the rest (linux-frr ``frr.conf``/``ovs.sh``/``net.sh``; ``lab/…`` for the emulation of lab devices).
Secrets render as ``FAKE-<name>``. Regenerate with ``pytest tests/unit/test_render_golden.py --update-golden``
and review the diff.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from campusnet.pipeline import Pipeline
from campusnet.render import render_device
from campusnet.sot.models import Snapshot

HERE = Path(__file__).resolve().parent.parent
SNAPSHOTS = HERE / "fixtures" / "snapshots"
GOLDEN = HERE / "golden"
CASES = {"small": "small.json", "campus": "campus.json"}


def fake_secret(name: str) -> str:
    return f"FAKE-{name}"


def golden_files(snapshot: Snapshot) -> dict[str, str]:
    out: dict[str, str] = {}
    pipe = Pipeline.build(snapshot, strict=True)
    for host, intent in pipe.intents.items():
        for rel, text in render_device(intent, secrets=fake_secret, emulation=pipe.emulations.get(host)).items():
            out[rel if rel == f"{host}.cfg" else f"{host}/{rel}"] = text
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str, update_golden: bool) -> None:
    snap_file = SNAPSHOTS / CASES[case]
    if not snap_file.exists():
        pytest.skip(f"no recorded snapshot {snap_file.name} yet")
    rendered = golden_files(Snapshot.load(snap_file))
    root = GOLDEN / case
    on_disk = {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file()} if root.exists() else {}
    if update_golden:
        for rel, text in rendered.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        for rel in set(on_disk) - set(rendered):
            on_disk[rel].unlink()
        return
    problems: list[str] = []
    for rel in sorted(set(rendered) - set(on_disk)):
        problems.append(f"missing golden file {case}/{rel}")
    for rel in sorted(set(on_disk) - set(rendered)):
        problems.append(f"stale golden file {case}/{rel} (no longer rendered)")
    for rel in sorted(set(rendered) & set(on_disk)):
        expected = on_disk[rel].read_text(encoding="utf-8")
        if expected != rendered[rel]:
            diff = "".join(difflib.unified_diff(expected.splitlines(True), rendered[rel].splitlines(True),
                                                f"golden/{case}/{rel}", "rendered", n=2))
            problems.append(diff)
    assert not problems, "golden files differ (re-run with --update-golden and review):\n" + "\n".join(problems)
