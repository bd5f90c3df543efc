"""``python -m benchmarks.lab_growth``: how deploy time grows from the reference lab to a larger one (root).

The larger lab is generated the way a network team would grow its lab: in NetBox. A branch of the local
NetBox (``bench-lab-growth``, created afresh; main is never written) tags more of the reference campus's
access switches ``lab`` — by default every one of the 40, which makes the lab ~3.6x the reference's
deployed devices. Each size is then measured with the real verbs, each in its own process, over one
snapshot file per size (so every step of a size sees the same data):

1. ``campusnet snapshot [--branch SCHEMA]``        the lab's data (main, or the branch);
2. ``campusnet lab down`` then ``lab up --snapshot``  a lab at day 0, built from that data's cables;
3. ``campusnet deploy --commit --snapshot``        the first deploy (day 0 → campus): backups, diffs,
                                                   pushes and post-checks on every device, 8 in parallel;
4. the same again                                  the re-run: every device "unchanged";
5. ``campusnet verify --snapshot``                 the checks the data implies (and seconds per check).

With no ``NETBOX_URL`` set, the local NetBox is brought up and seeded first (both idempotent).
``./run bench_lab`` runs this module. Prints a table per size and the ratios against the reference measured
in the same run (and the machine's CPU use during each deploy); writes ``out/bench/lab_growth.json``.
Nothing asserts on times. The lab is left down at the end (the reference lab comes back with ``campusnet lab
up``); the branch is deleted unless ``--keep-branch``.

Options: ``--add N[,N...]`` access switches added per size (``all`` = every access switch; default ``all``),
``--workers W`` (deploy parallelism, 8), ``--skip-verify``, ``--keep-branch``, ``--out FILE``.
Refuses to start when a lab is running and ``--replace-lab`` is not given (it tears the lab down).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from campusnet.errors import CampusnetError
from campusnet.settings import REPO_ROOT, netbox_target

BRANCH = "bench-lab-growth"
ACCESS_ROLE = "access-switch"


def _cn(*args: str, timeout: float = 1800) -> tuple[float, subprocess.CompletedProcess[str]]:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "campusnet", *args], capture_output=True, text=True,
                       timeout=timeout, cwd=REPO_ROOT)
    return time.perf_counter() - t, r


def _must(what: str, r: subprocess.CompletedProcess[str]) -> None:
    if r.returncode != 0:
        tail = (r.stderr.strip() or r.stdout.strip())[-1500:]
        raise SystemExit(f"lab growth: `campusnet {what}` exited {r.returncode}:\n{tail}")


def _mem_available_mib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_busy_s() -> float:
    """Machine-wide CPU seconds spent busy so far (/proc/stat: everything but idle and iowait)."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(f[:8]) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")


def _timed_deploy(args: list[str]) -> dict[str, Any]:
    c0 = _cpu_busy_s()
    s, r = _cn("deploy", *args)
    fig = _deploy_figures(s, r)
    busy = _cpu_busy_s() - c0
    fig["cpu_busy_s"] = round(busy, 1)
    fig["cpu_utilisation"] = round(busy / (s * (os.cpu_count() or 1)), 2) if s else None
    return fig


def _deploy_figures(seconds: float, r: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    try:
        d = json.loads(r.stdout[r.stdout.index("{"):])
    except ValueError:
        raise SystemExit(f"lab growth: deploy printed no JSON summary:\n{(r.stderr or r.stdout)[-1500:]}") from None
    per = [float(v.get("seconds") or 0.0) for v in d["devices"].values()]
    return {"seconds": round(seconds, 1), "exit": r.returncode, "counts": d["counts"], "devices": len(per),
            "device_seconds_median": round(statistics.median(per), 1) if per else None,
            "device_seconds_max": round(max(per), 1) if per else None,
            "device_seconds_sum": round(sum(per), 1)}


def _lab_shape(snapshot: Path) -> dict[str, int]:
    from campusnet.pipeline import Pipeline

    p = Pipeline.load(snapshot=snapshot)
    kinds: dict[str, int] = {}
    for n in p.plan.nodes:
        kinds[n.kind] = kinds.get(n.kind, 0) + 1
    from campusnet.deploy.targets import lab_targets

    deployed = len(lab_targets(p.plan, p.intents, p.emulations))
    return {"nodes": len(p.plan.nodes), "links": len(p.plan.links), "deployed": deployed,
            **{f"nodes_{k}": v for k, v in sorted(kinds.items())}}


def measure(label: str, snapshot: Path, *, workers: int, verify: bool, out_dir: Path) -> dict[str, Any]:
    say = print
    res: dict[str, Any] = {"label": label, "snapshot": str(snapshot), **_lab_shape(snapshot)}
    say(f"── {label}: {res['deployed']} deployed devices, {res['nodes']} nodes, {res['links']} links")
    _, r = _cn("lab", "down")
    _must("lab down", r)
    mem0 = _mem_available_mib()
    s, r = _cn("lab", "up", "--snapshot", str(snapshot))
    _must("lab up", r)
    res["lab_up_s"] = round(s, 1)
    say(f"   lab up          {s:7.1f} s")
    common = ["--snapshot", str(snapshot), "--workers", str(workers), "--no-diff", "--json"]
    for key, what in (("deploy_first", "deploy (first) "), ("deploy_rerun", "deploy (re-run)")):
        f = res[key] = _timed_deploy(["--commit", *common])
        say(f"   {what} {f['seconds']:7.1f} s  {f['counts']}  exit {f['exit']}  "
            f"(machine CPU busy {f['cpu_utilisation']:.0%})")
    res["mem_used_mib"] = round(mem0 - _mem_available_mib())
    if verify:
        vdir = out_dir / f"verify-{label}"
        s, r = _cn("verify", "--snapshot", str(snapshot), "--out", str(vdir))
        v = json.loads((vdir / "latest.json").read_text()) if (vdir / "latest.json").exists() else {}
        failed = [c["message"] for c in v.get("checks", []) if not c.get("passed")]
        checks = (v.get("passed") or 0) + (v.get("failed") or 0)
        res["verify"] = {"seconds": round(s, 1), "exit": r.returncode, "passed": v.get("passed"),
                         "failed": v.get("failed"), "failures": failed[:20],
                         # the whole command (NetBox-free: --snapshot) per check, and verify's own stages
                         "per_check_s": round(s / checks, 4) if checks else None,
                         "run_s": v.get("seconds"), "collect_s": v.get("collect_s")}
        say(f"   verify          {s:7.1f} s  {v.get('passed')} passed, {v.get('failed')} failed"
            f"  ({res['verify']['per_check_s']} s per check; collect {v.get('collect_s')} s)")
    _, r = _cn("lab", "down")
    _must("lab down", r)
    return res


def grow_branch(add: int | None, *, log: Any = print) -> tuple[Any, list[str]]:
    """Branch ``bench-lab-growth`` from main with ``add`` more access switches (None: all) tagged ``lab``.
    A branch left behind by a failure here is deleted before the error goes up."""
    from campusnet.branching import create_branch, delete_branch
    from campusnet.change.demo_branches import BranchRest, _tags

    target = netbox_target()
    branch = create_branch(target, BRANCH, "campusnet benchmark: a larger lab (more access switches tagged lab)",
                           replace=True)
    try:
        rest = BranchRest(target, branch)
        try:
            switches = [d for d in rest.all("/api/dcim/devices/", role=ACCESS_ROLE, status="active")
                        if "lab" not in {t["slug"] for t in d.get("tags", [])}]
            switches.sort(key=lambda d: d["name"])
            if add is not None and add > len(switches):
                raise CampusnetError("E706", f"only {len(switches)} active access switches are not in the lab yet",
                                     obj=f"--add {add}", field="--add")
            chosen = switches if add is None else switches[:add]
            rest.patch("/api/dcim/devices/", [{"id": d["id"], "tags": _tags(d, {"lab"})} for d in chosen])
        finally:
            rest.close()
    except BaseException:
        delete_branch(target, branch)
        raise
    log(f"branch {BRANCH}: {len(chosen)} access switches tagged lab")
    return branch, [d["name"] for d in chosen]


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "—"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.lab_growth", description=__doc__.splitlines()[0])
    ap.add_argument("--add", default="all", help="access switches to add per size: N[,N...] or 'all'")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--skip-verify", action="store_true")
    ap.add_argument("--keep-branch", action="store_true")
    ap.add_argument("--replace-lab", action="store_true", help="tear down a running lab first")
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "out" / "bench" / "lab_growth.json")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("lab growth: the lab needs root (network namespaces)")
    sizes: list[int | None] = []
    for a in (x.strip() for x in args.add.split(",")):
        if a == "all" or (a.isdigit() and int(a) > 0):
            sizes.append(None if a == "all" else int(a))
        elif a:
            raise SystemExit(f"lab growth: --add {args.add!r}: {a!r} is neither a positive number nor 'all'")

    from campusnet.lab import lab_status

    if lab_status().running and not args.replace_lab:
        raise SystemExit("lab growth: a lab is running; it would be torn down. Re-run with --replace-lab.")

    if not os.environ.get("NETBOX_URL"):  # the embedded default: the local NetBox with the reference campus
        for verb in (("netbox", "up"), ("netbox", "seed")):
            _, r = _cn(*verb)
            _must(" ".join(verb), r)

    out_dir = args.out.parent / "lab_growth"
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "workers": args.workers,
                               "cpus": os.cpu_count(), "sizes": []}
    ref_snap = out_dir / "reference.json"
    _, r = _cn("snapshot", "--out", str(ref_snap))
    _must("snapshot", r)
    results["sizes"].append(measure("reference", ref_snap, workers=args.workers, verify=not args.skip_verify,
                                    out_dir=out_dir))

    from campusnet.branching import delete_branch

    for add in sizes:
        branch, added = grow_branch(add)
        try:
            label = f"+{len(added)}-access"
            snap = out_dir / f"{label}.json"
            _, r = _cn("snapshot", "--branch", str(branch.schema_id), "--out", str(snap))
            _must("snapshot --branch", r)
            res = measure(label, snap, workers=args.workers, verify=not args.skip_verify, out_dir=out_dir)
            res["added"] = added
            results["sizes"].append(res)
        finally:
            if not args.keep_branch:
                delete_branch(netbox_target(), branch)
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.write_text(json.dumps(results, indent=2))

    ref = results["sizes"][0]
    print()
    print(f"{'lab':<16}{'devices':>8}{'nodes':>7}{'links':>7}{'lab up':>9}{'deploy':>9}{'re-run':>9}"
          f"{'verify':>9}{'checks':>8}{'s/check':>9}{'s/device':>10}{'mem MiB':>9}{'CPU busy':>10}")
    for s in results["sizes"]:
        v = s.get("verify") or {}
        print(f"{s['label']:<16}{s['deployed']:>8}{s['nodes']:>7}{s['links']:>7}{s['lab_up_s']:>9.1f}"
              f"{s['deploy_first']['seconds']:>9.1f}{s['deploy_rerun']['seconds']:>9.1f}"
              f"{v.get('seconds', 0):>9.1f}{(v.get('passed') or 0) + (v.get('failed') or 0):>8}"
              f"{v.get('per_check_s') or 0:>9.3f}"
              f"{s['deploy_first']['seconds'] / s['deployed']:>10.2f}{s['mem_used_mib']:>9}"
              f"{s['deploy_first']['cpu_utilisation']:>10.0%}")
    for s in results["sizes"][1:]:
        v, rv = s.get("verify") or {}, ref.get("verify") or {}
        print(f"{s['label']} vs reference: devices {_ratio(s['deployed'], ref['deployed'])}, "
              f"nodes {_ratio(s['nodes'], ref['nodes'])}, links {_ratio(s['links'], ref['links'])}; "
              f"first deploy {_ratio(s['deploy_first']['seconds'], ref['deploy_first']['seconds'])}, "
              f"re-run {_ratio(s['deploy_rerun']['seconds'], ref['deploy_rerun']['seconds'])}, "
              f"verify {_ratio(v.get('seconds'), rv.get('seconds'))} (per check "
              f"{_ratio(v.get('per_check_s'), rv.get('per_check_s'))}), "
              f"lab up {_ratio(s['lab_up_s'], ref['lab_up_s'])}")
    print(f"results: {args.out}")
    bad = [s["label"] for s in results["sizes"]
           if s["deploy_first"]["exit"] or s["deploy_rerun"]["exit"] or (s.get("verify") or {}).get("exit")]
    if bad:
        print(f"NOTE: not every step passed for {', '.join(bad)} (see {args.out}); the times above are still what"
              " was measured")
    return 1 if bad else 0


def _main() -> int:
    try:
        return main()
    except CampusnetError as exc:
        print(f"lab growth: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(_main())
