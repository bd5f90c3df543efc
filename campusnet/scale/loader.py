"""Load a generated campus into the scale NetBox through NetBox's own ORM (``netbox shell``).

The scale NetBox is a separate local NetBox (``CAMPUSNET_STATE=<repo>/.campusnet/scale``): its own
PostgreSQL cluster, Redis and gunicorn. :func:`scale_env` points campusnet's settings at it for the
duration of a block, so :func:`campusnet.settings.netbox_target` answers with its URL and token.

A load is: generate (design constructs) → plan (ids, rows; JSON file in the state directory) →
reset the scale NetBox when it holds anything → pipe ``orm_load.py`` into ``netbox shell``. The
marker ``<state>/scale-loaded.json`` records what is loaded (devices, seed, counts, timings) so that
the benchmarks load only when needed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campusnet import settings
from campusnet.errors import CampusnetError
from campusnet.scale import SCALE_STATE

Log = Callable[[str], None]
ALL_PHASES = ("insert", "paths", "counters", "prefixes", "contexts", "search")
_SCRIPT = Path(__file__).with_name("orm_load.py")


def scale_state_dir() -> Path:
    """``<repo>/.campusnet/scale`` unless ``CAMPUSNET_SCALE_STATE`` says otherwise."""
    return Path(os.environ.get("CAMPUSNET_SCALE_STATE", settings.REPO_ROOT / ".campusnet" / SCALE_STATE)).resolve()


@contextmanager
def scale_env() -> Iterator[Path]:
    """Point campusnet (state dir, hence NetBox target) at the scale NetBox inside the block."""
    state = scale_state_dir()
    saved = {k: os.environ.get(k) for k in ("CAMPUSNET_STATE", "NETBOX_URL", "NETBOX_TOKEN")}
    os.environ["CAMPUSNET_STATE"] = str(state)
    os.environ.pop("NETBOX_URL", None)
    os.environ.pop("NETBOX_TOKEN", None)
    try:
        yield state
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def marker_file() -> Path:
    return scale_state_dir() / "scale-loaded.json"


def loaded() -> dict[str, Any] | None:
    f = marker_file()
    if not f.exists():
        return None
    try:
        data: dict[str, Any] = json.loads(f.read_text())
    except (OSError, ValueError):
        return None
    return data


@dataclass
class LoadResult:
    devices: int
    seed: int
    generate_s: float
    plan_s: float
    reset_s: float
    netbox: dict[str, Any]  # phases, counts, seconds (from inside NetBox)
    total_s: float

    def as_dict(self) -> dict[str, Any]:
        return {"devices": self.devices, "seed": self.seed, "generate_s": self.generate_s, "plan_s": self.plan_s,
                "reset_s": self.reset_s, "netbox": self.netbox, "total_s": self.total_s}


def up(log: Log = print) -> float:
    """Bring the scale NetBox up (idempotent). Returns seconds."""
    from campusnet.localnb import LocalNetBox

    t = time.monotonic()
    with scale_env():
        LocalNetBox.load().up(log=log)
    return time.monotonic() - t


def down() -> list[str]:
    from campusnet.localnb import LocalNetBox

    with scale_env():
        return LocalNetBox.load().down()


def _empty(nb: Any) -> bool:
    out = nb.server.manage("shell", "--no-imports", stdin=(
        "from dcim.models import Device, Site\nfrom extras.models import Tag\n"
        "print('CAMPUSNET-EMPTY', not (Device.objects.exists() or Site.objects.exists() or Tag.objects.exists()))\n"))
    return "CAMPUSNET-EMPTY True" in out


def load(devices: int = 2000, seed: int = 1, *, phases: tuple[str, ...] = ALL_PHASES, log: Log = print) -> LoadResult:
    """Generate, plan and load a campus of ``devices`` devices into the (running) scale NetBox."""
    from campusnet.localnb import LocalNetBox
    from campusnet.scale.generate import generate
    from campusnet.scale.plan import build_plan

    unknown = set(phases) - set(ALL_PHASES)
    if unknown:
        raise CampusnetError("E701", f"unknown load phase(s) {sorted(unknown)}; known: {', '.join(ALL_PHASES)}",
                             obj="scale load", field="phases")
    t0 = time.monotonic()
    design = generate(devices, seed)
    t_gen = time.monotonic() - t0
    t = time.monotonic()
    plan = build_plan(design)
    with scale_env() as state:
        path = plan.write(state / "scale-plan.json")
        t_plan = time.monotonic() - t
        log(f"generated {len(design.of('dcim.devices'))} devices, "
            f"{len(plan.rows.get('dcim.interfaces', []))} interfaces, {len(plan.rows.get('dcim.cables', []))} cables "
            f"in {t_gen:.1f} s (+ plan {t_plan:.1f} s)")
        nb = LocalNetBox.load()
        t = time.monotonic()
        marker_file().unlink(missing_ok=True)
        if "insert" in phases and not _empty(nb):
            log("the scale NetBox holds data: resetting it (drop + restore the empty schema)")
            nb.reset(log=log)
        t_reset = time.monotonic() - t
        script = f"PLAN = {str(path)!r}\nPHASES = {list(phases)!r}\n" + _SCRIPT.read_text(encoding="utf-8")
        log(f"loading through the ORM inside `netbox shell` (phases: {', '.join(phases)})")
        out = nb.server.manage("shell", "--no-imports", stdin=script, timeout=3600)
        err = next((ln for ln in out.splitlines() if ln.startswith("CAMPUSNET-SCALE-ERROR ")), None)
        if err:
            raise CampusnetError("E702", err.split(" ", 1)[1], obj="scale load")
        line = next((ln for ln in out.splitlines() if ln.startswith("CAMPUSNET-SCALE ")), None)
        if line is None:
            raise CampusnetError("E703", f"the ORM loader printed no report; output ends with: {out[-800:]}",
                                 obj="scale load")
        report = json.loads(line.split(" ", 1)[1])
        result = LoadResult(devices=devices, seed=seed, generate_s=round(t_gen, 2), plan_s=round(t_plan, 2),
                            reset_s=round(t_reset, 2), netbox=report, total_s=round(time.monotonic() - t0, 2))
        if tuple(phases) == ALL_PHASES:
            from campusnet.scale.generate import SHAPE_VERSION

            marker_file().write_text(json.dumps(result.as_dict() | {"shape_version": SHAPE_VERSION,
                                                                    "expected": plan.counts()}, indent=1) + "\n")
        return result


def ensure_loaded(devices: int = 2000, seed: int = 1, log: Log = print) -> tuple[dict[str, Any], float | None]:
    """Up + load unless the marker says this exact campus is loaded. Returns (marker, load seconds or None)."""
    from campusnet.scale.generate import SHAPE_VERSION

    up(log=log)
    have = loaded()
    if have and (have.get("devices"), have.get("seed"), have.get("shape_version")) == (devices, seed, SHAPE_VERSION):
        return have, None
    res = load(devices, seed, log=log)
    marker = loaded()
    assert marker is not None
    return marker, res.total_s
