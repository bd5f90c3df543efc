"""P1 incremental: a one-device change re-read vs. the full read vs. nb_inventory with its cache, one run.

``python -m benchmarks.incremental [--skip nb_inventory,check_change]`` against the scale NetBox (the
2,000-device campus, loaded with ``python -m campusnet.scale load``). Prints ``BENCH <json>`` and a table.

- **full**: :func:`campusnet.sot.incremental.full_read` (the bulk reader plus the watermark).
- **one-device change**: one device's description and status and one of its interfaces' description
  changed through REST in the scale NetBox's main (it is this benchmark's own NetBox), then the
  incremental read from the full read's state, in memory; the cache written and read back is timed apart
  (what a new process pays first). The change is undone afterwards (and read incrementally again).
- **nb_inventory cached**: ``ansible-inventory --list`` with ``cache: true`` (jsonfile cache plugin), run
  twice: the second run answers from the cache.
- **check-change, one device** (:func:`benchmarks.change_one.measure`): in a branch of the scale NetBox.

Nothing asserts on times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from campusnet.settings import REPO_ROOT, NetBoxTarget

INCREMENTAL_MAX_S = 2.0


def pick_device(target: NetBoxTarget) -> dict[str, Any]:
    """An access switch with cabled interfaces (the common one-device change)."""
    with httpx.Client(base_url=target.url, headers=target.headers(), timeout=60) as c:
        d = c.get("/api/dcim/devices/", params={"limit": 1, "role": "access-switch", "offset": 17,
                                                 "fields": "id,name,status,description"}).json().get("results")
        if not d:
            d = c.get("/api/dcim/devices/", params={"limit": 1, "fields": "id,name,status,description"}
                      ).json()["results"]
        dev: dict[str, Any] = d[0]
        ifs = c.get("/api/dcim/interfaces/", params={"device_id": dev["id"], "limit": 1, "cabled": "true",
                                                      "fields": "id,name,description"}).json()["results"]
        dev["interface"] = ifs[0] if ifs else None
    return dev


def edit_device(target: NetBoxTarget, dev: dict[str, Any], *, undo: bool = False) -> None:
    with httpx.Client(base_url=target.url, headers=target.headers(), timeout=60) as c:
        body = ({"description": dev["description"], "status": dev["status"]["value"]} if undo else
                {"description": "bench: one-device change", "status": "planned"})
        c.patch(f"/api/dcim/devices/{dev['id']}/", json=body).raise_for_status()
        if dev.get("interface"):
            i = dev["interface"]
            c.patch(f"/api/dcim/interfaces/{i['id']}/",
                    json={"description": i["description"] if undo else "bench: moved"}).raise_for_status()


def incremental(target: NetBoxTarget) -> dict[str, Any]:
    from campusnet.sot import incremental as inc

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    snap, state = inc.full_read(target)
    out["full_s"] = round(time.perf_counter() - t0, 3)
    out["full_requests"] = snap.source.requests
    out["interfaces"] = len(snap.interfaces)
    out["devices"] = len(snap.devices)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = state.save(Path(tmp) / "cache.json")
        out["cache_save_s"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        state = inc.State.load(path, target.url)
        out["cache_load_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    _, state = inc.read_incremental(target, state=state, save=False)
    out["no_change_s"] = round(time.perf_counter() - t0, 3)
    dev = pick_device(target)
    out["device"] = dev["name"]
    edit_device(target, dev)
    try:
        t0 = time.perf_counter()
        snap1, state1 = inc.read_incremental(target, state=state, save=False)
        out["one_device_s"] = round(time.perf_counter() - t0, 3)
    finally:
        edit_device(target, dev, undo=True)
    mark = snap1.source.changelog
    out["one_device"] = mark.model_dump() if mark else None
    out["one_device_requests"] = snap1.source.requests
    d1 = snap1.device(dev["name"])
    out["seen"] = d1.status == "planned" and d1.description == "bench: one-device change"
    t0 = time.perf_counter()
    snap2, state2 = inc.read_incremental(target, state=state1, save=False)
    out["undo_s"] = round(time.perf_counter() - t0, 3)
    state2.save(inc.cache_path(target))  # main's cache: check-change (change_one) starts from it
    out["undone"] = snap2.device(dev["name"]).status == dev["status"]["value"]
    return out


def nb_inventory_cached(target: NetBoxTarget, timeout: float = 1800.0) -> dict[str, Any]:
    """nb_inventory (interfaces on) with ``cache: true``: first run fills the jsonfile cache, second reads it."""
    cfg = (REPO_ROOT / "inventory" / "netbox.yml").read_text(encoding="utf-8")
    lines = [ln for ln in cfg.splitlines() if not ln.startswith(("interfaces:", "config_context:"))]
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        text = "\n".join(lines) + (f"\ninterfaces: true\nconfig_context: false\ncache: true\n"
                                   f"cache_plugin: ansible.builtin.jsonfile\ncache_connection: {tmp}/cache\n"
                                   "cache_timeout: 86400\n")
        inv = Path(tmp) / "netbox.yml"
        inv.write_text(text, encoding="utf-8")
        env = os.environ.copy() | {"NETBOX_API": target.url, "NETBOX_TOKEN": target.token,
                                   "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
        exe = str(Path(sys.executable).with_name("ansible-inventory"))
        for run in ("first", "cached"):
            t0 = time.perf_counter()
            r = subprocess.run([exe, "-i", str(inv), "--list", "--output", str(Path(tmp) / "out.json")],
                               capture_output=True, text=True, env=env, timeout=timeout, check=False)
            out[f"{run}_s"] = round(time.perf_counter() - t0, 3)
            if r.returncode != 0:
                out["error"] = (r.stderr or r.stdout)[-600:]
                return out
            data = json.loads((Path(tmp) / "out.json").read_text())
            out[f"{run}_hosts"] = len(data.get("_meta", {}).get("hostvars", {}))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.incremental")
    ap.add_argument("--skip", default="", help="comma list: nb_inventory,check_change")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "out" / "bench" / "incremental.json")
    args = ap.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    from campusnet.scale.loader import scale_env
    from campusnet.settings import netbox_target

    res: dict[str, Any] = {}
    with scale_env():
        target = netbox_target()
        res["incremental"] = incremental(target)
        if "check_change" not in skip:
            from benchmarks import change_one

            res["check_change"] = change_one.measure(target)
        if "nb_inventory" not in skip:
            res["nb_inventory_cached"] = nb_inventory_cached(target)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print("BENCH " + json.dumps(res))
    print_table(res)
    return 0


def print_table(res: dict[str, Any]) -> None:
    i = res["incremental"]
    one = i.get("one_device_s")
    rows = [("P1 full read (+ watermark)", i["full_s"], f"{i['devices']} devices, {i['interfaces']} interfaces"),
            ("P1 incremental, one-device change", one,
             f"target ≤ {INCREMENTAL_MAX_S} s: {'meets' if one is not None and one <= INCREMENTAL_MAX_S else 'MISSES'}"
             f"; full/incremental = {i['full_s'] / one:.0f}x" if one else ""),
            ("P1 incremental, nothing changed", i["no_change_s"], "changelog + count check"),
            ("cache write / read (new process)", i["cache_save_s"], f"read back {i['cache_load_s']} s")]
    n = res.get("nb_inventory_cached")
    if n and n.get("cached_s") is not None:
        rows.append(("nb_inventory, cache filled (1st run)", n["first_s"], f"{n.get('first_hosts')} hosts"))
        rows.append(("nb_inventory from its cache (2nd run)", n["cached_s"],
                     f"nb_inventory-cached/incremental = {n['cached_s'] / one:.1f}x" if one else ""))
    c = res.get("check_change")
    if c and c.get("total_s") is not None:
        rows.append(("check-change, one device (no lab proof)", c["total_s"], c.get("note", "")))
    for name, fig, note in rows:
        print(f"{name:<42} {fig if fig is not None else '—':>10}  {note}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
