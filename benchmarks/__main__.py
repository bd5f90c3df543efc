"""``python -m benchmarks``: bring up the scale NetBox, load the generated campus if needed, measure P1/P2.

Prints a table of figures and ratios against the targets, writes ``out/bench/results.json``. Nothing
here asserts on times: the targets are printed next to the figures.

Also the issue-12 table: P1 full, P1 incremental (a one-device change; vs. nb_inventory with its cache),
check-change for one device, verify per check (read from the last recorded run), each beside its anchor.

Options: ``--devices N`` (2000), ``--seed S`` (1), ``--skip nb_inventory,nornir,ansible`` (any of them),
``--nornir-sample K`` (40), ``--ansible-sample K`` (60), ``--reload`` (force a fresh load).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from campusnet.scale import loader
from campusnet.settings import REPO_ROOT, netbox_target

P1_VS_NB_INVENTORY = 20.0  # ours at least 20x faster than nb_inventory
P1_VS_FLOOR = 2.0  # ours within 2x of the floor
P2_MAX_S = 5.0  # all configs of 2,000 devices in at most 5 s


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip", default="", help="comma list: nb_inventory,nornir,ansible,pool,incremental,"
                                                 "check_change,nb_inventory_cache")
    ap.add_argument("--nornir-sample", type=int, default=40)
    ap.add_argument("--ansible-sample", type=int, default=60)
    ap.add_argument("--reload", action="store_true", help="load again even if the marker matches")
    ap.add_argument("--use-loaded", action="store_true",
                    help="measure whatever campus is loaded (even of an older shape version); say so")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "out" / "bench" / "results.json")
    args = ap.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    from benchmarks import p1, p2, summary

    results: dict[str, Any] = {"started": datetime.now(UTC).isoformat(timespec="seconds"),
                               "devices": args.devices, "seed": args.seed}
    say = print
    t = time.perf_counter()
    results["netbox_up_s"] = round(loader.up(log=lambda m: say(f"  · {m}")), 1)
    if args.reload:
        loader.marker_file().unlink(missing_ok=True)
    have = loader.loaded()
    if args.use_loaded and have:
        marker, load_s = have, None
        say(f"  · measuring the loaded campus as is: {have.get('devices')} devices, seed {have.get('seed')}, "
            f"shape version {have.get('shape_version', 1)}")
    else:
        marker, load_s = loader.ensure_loaded(args.devices, args.seed, log=lambda m: say(f"  · {m}"))
    results["shape_version"] = marker.get("shape_version", 1)
    results["load"] = {"this_run_s": load_s, "recorded": {k: marker.get(k) for k in
                                                           ("total_s", "generate_s", "plan_s", "reset_s")},
                       "netbox_phases_s": marker.get("netbox", {}).get("phases"),
                       "counts": marker.get("netbox", {}).get("counts")}
    say(f"scale NetBox ready ({time.perf_counter() - t:.0f} s; campus of {args.devices} devices, seed {args.seed})")

    snap_path = REPO_ROOT / "out" / "bench" / "snapshot.json"
    snap_path.parent.mkdir(parents=True, exist_ok=True)
    with loader.scale_env():
        target = netbox_target()
        say("P1 ours (bulk reader + build_intents, fresh interpreter) …")
        p1_ours = p1.ours(save=snap_path)
        say("P1 floor (raw parallel paged GETs) …")
        p1_floor = p1.floor(target)
        p1_nbi: dict[str, Any] = {"skipped": True}
        if "nb_inventory" not in skip:
            say("P1 ansible-inventory with nb_inventory (interfaces on) …")
            p1_nbi = p1.nb_inventory(target)
        p1_nr: dict[str, Any] = {"skipped": True}
        if "nornir" not in skip:
            say(f"P1 nornir-netbox NetBoxInventory2 + pynetbox per device (sample {args.nornir_sample}) …")
            p1_nr = p1.nornir_netbox(target, args.devices, sample=args.nornir_sample)
        issue12(results, target, skip, say)
    results["p1"] = {"ours": p1_ours, "floor": p1_floor, "nb_inventory": p1_nbi, "nornir_netbox": p1_nr}

    say("P2 render (in-process, pool of 2, ansible template loop) …")
    intents = p2.load_intents(snap_path)
    p2_in = p2.in_process(intents)
    p2_pool = {"skipped": True} if "pool" in skip else p2.pool(intents, 2)
    p2_ans = {"skipped": True} if "ansible" in skip else p2.ansible_loop(intents, sample=args.ansible_sample)
    results["p2"] = {"in_process": p2_in, "pool2": p2_pool, "ansible_template": p2_ans}

    ours_s = p1_ours["total_s"]
    results["ratios"] = {
        "nb_inventory_over_ours": _ratio(p1_nbi.get("total_s"), ours_s),
        "nornir_over_ours": _ratio(p1_nr.get("total_s"), ours_s),
        "ours_over_floor": _ratio(ours_s, p1_floor["total_s"]),
        "ansible_over_ours_render": _ratio(p2_ans.get("total_s"), p2_in["total_s"]),
    }
    results["targets"] = {"p1_vs_nb_inventory_min": P1_VS_NB_INVENTORY, "p1_vs_floor_max": P1_VS_FLOOR,
                          "p2_max_s": P2_MAX_S}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print_table(results)
    summary.print_rows(results)
    say(f"\nwritten: {args.out}")
    return 0


def issue12(results: dict[str, Any], target: Any, skip: set[str], say: Any) -> None:
    """P1 incremental (vs. full and nb_inventory's cache), one-device check-change, verify per check."""
    from benchmarks import change_one, incremental, summary

    if "incremental" not in skip:
        say("P1 incremental: full read + watermark, then a one-device change re-read …")
        results["incremental"] = incremental.incremental(target)
    if "check_change" not in skip:
        say("check-change for a one-device change in a branch (incremental, no lab proof) …")
        results["check_change"] = change_one.measure(target)
    if "nb_inventory_cache" not in skip:
        say("nb_inventory with cache: true (first run fills it, second run reads it) …")
        results["nb_inventory_cached"] = incremental.nb_inventory_cached(target)
    results["verify"] = summary.verify_per_check()


def _fmt(v: Any, unit: str = "s") -> str:
    if v is None:
        return "—"
    return f"{v:,.2f} {unit}" if isinstance(v, float | int) else str(v)


def _check(ok: bool | None) -> str:
    return "n/a" if ok is None else ("meets target" if ok else "MISSES target")


def print_table(r: dict[str, Any]) -> None:
    p1r, p2r, ra = r["p1"], r["p2"], r["ratios"]
    o = p1r["ours"]
    ofl = ra["ours_over_floor"]
    rows = [
        ("P1 ours: read + build_intents", _fmt(o["total_s"]),
         f"read {o['read_s']:.2f} s, build {o['build_s']:.2f} s, {o['requests']} requests, "
         f"{o['intents']} intents ({o['intent_errors']} errors), peak RSS {o['peak_rss_mib']} MiB"),
        ("P1 floor: raw parallel GETs", _fmt(p1r["floor"]["total_s"]),
         f"{p1r['floor']['requests']} requests, {p1r['floor']['bytes'] / 1e6:.1f} MB; ours/floor = "
         f"{_fmt(ra['ours_over_floor'], 'x')} (target ≤ {r['targets']['p1_vs_floor_max']}x: "
         f"{_check(None if ofl is None else ofl <= r['targets']['p1_vs_floor_max'])})"),
    ]
    n = p1r["nb_inventory"]
    if not n.get("skipped"):
        nr = ra["nb_inventory_over_ours"]
        detail = n.get("note") or n.get("error") or f"{n.get('hosts')} hosts, {n.get('interfaces')} interfaces"
        rows.append(("P1 ansible-inventory nb_inventory", _fmt(n.get("total_s")),
                     f"{detail}; nb_inventory/ours = {_fmt(nr, 'x')} (target ≥ "
                     f"{r['targets']['p1_vs_nb_inventory_min']}x: "
                     f"{_check(None if nr is None else nr >= r['targets']['p1_vs_nb_inventory_min'])})"))
    m = p1r["nornir_netbox"]
    if not m.get("skipped"):
        rows.append(("P1 nornir-netbox + pynetbox/device", _fmt(m["total_s"]),
                     f"EXTRAPOLATED: inventory {m['inventory_s']:.2f} s + {m['per_device_s'] * 1000:.0f} ms/device "
                     f"(sample {m['sampled_devices']}) x {m['hosts']} hosts; nornir/ours = "
                     f"{_fmt(ra['nornir_over_ours'], 'x')}"))
    pi = p2r["in_process"]
    rows.append(("P2 ours: render_device in-process", _fmt(pi["total_s"]),
                 f"{pi['devices']} devices, {pi['files']} files, {pi['bytes'] / 1e6:.1f} MB (target ≤ "
                 f"{r['targets']['p2_max_s']} s: {_check(pi['total_s'] <= r['targets']['p2_max_s'])})"))
    pp = p2r["pool2"]
    if not pp.get("skipped"):
        rows.append(("P2 ours: process pool of 2", _fmt(pp["total_s"]), "includes pool start and pickling"))
    a = p2r["ansible_template"]
    if not a.get("skipped"):
        rows.append(("P2 ansible-playbook template loop", _fmt(a["total_s"]),
                     f"EXTRAPOLATED from {a['sample_hosts']} hosts in {a['sample_s']} s (forks {a['forks']}, "
                     f"{a['failed']} failed); ansible/ours = {_fmt(ra['ansible_over_ours_render'], 'x')}"
                     + (f"; {a['note']}" if a.get("note") else "")))
    ld = r["load"]
    rows.append(("load (ORM, netbox shell)", _fmt(ld["recorded"].get("total_s")),
                 f"phases {ld['netbox_phases_s']}" + ("" if ld["this_run_s"] else " (recorded earlier)")))
    w = max(len(x[0]) for x in rows)
    print(f"\n{'measure'.ljust(w)}  {'figure':>12}  notes")
    print(f"{'-' * w}  {'-' * 12}  {'-' * 40}")
    for name, fig, note in rows:
        print(f"{name.ljust(w)}  {fig:>12}  {note}")


if __name__ == "__main__":
    raise SystemExit(main())
