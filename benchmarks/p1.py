"""P1: all intent from NetBox — ours vs. nb_inventory vs. nornir-netbox (+ pynetbox per device) vs. the floor.

Every measurement runs against the running scale NetBox (:func:`campusnet.scale.loader.scale_env`).
Ours runs in a fresh subprocess (``python -m benchmarks.ours``) so that its peak memory is its own.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from campusnet.settings import REPO_ROOT, NetBoxTarget
from campusnet.sot.reader import ENDPOINTS

NB_INVENTORY_TIMEOUT = 1800.0


def ours(save: Path | None = None, runs: int = 1) -> dict[str, Any]:
    """Bulk reader + build_intents, in a fresh interpreter; the best of ``runs`` (the snapshot is saved to
    ``save`` for P2)."""
    best: dict[str, Any] | None = None
    extra = ["--save", str(save)] if save is not None else []
    for _ in range(runs):
        r = subprocess.run([sys.executable, "-m", "benchmarks.ours", *extra], capture_output=True, text=True,
                           cwd=REPO_ROOT, env=os.environ.copy(), check=False)
        line = next((ln for ln in r.stdout.splitlines() if ln.startswith("BENCH ")), None)
        if r.returncode != 0 or line is None:
            raise RuntimeError(f"benchmarks.ours failed: {(r.stderr or r.stdout)[-1500:]}")
        res: dict[str, Any] = json.loads(line[6:])
        if best is None or res["total_s"] < best["total_s"]:
            best = res
    assert best is not None
    return best


def floor(target: NetBoxTarget, workers: int = 8) -> dict[str, Any]:
    """One raw bulk fetch of the same endpoints and fields: first pages in parallel, then every remaining
    page in parallel; bodies are only decoded where the count is needed (first pages)."""
    t0 = time.perf_counter()
    nbytes = 0
    requests = 0
    with httpx.Client(base_url=target.url, headers=target.headers(), timeout=600) as client:

        def get(path: str, params: dict[str, Any]) -> httpx.Response:
            r = client.get(f"/api/{path}/", params=params)
            r.raise_for_status()
            return r

        with ThreadPoolExecutor(workers) as pool:
            firsts = list(pool.map(lambda ep: (ep, get(ep[0], {"limit": 0, "fields": ep[1], "ordering": "id"})),
                                   ENDPOINTS.values()))
            rest: list[tuple[str, dict[str, Any]]] = []
            for (path, fields), r in firsts:
                requests += 1
                nbytes += len(r.content)
                js = r.json()
                page = len(js["results"])
                if js["next"] and page:
                    rest += [(path, {"limit": page, "offset": off, "fields": fields, "ordering": "id"})
                             for off in range(page, js["count"], page)]
            for r in pool.map(lambda a: get(*a), rest):
                requests += 1
                nbytes += len(r.content)
    return {"total_s": round(time.perf_counter() - t0, 3), "requests": requests, "bytes": nbytes}


def nb_inventory(target: NetBoxTarget, timeout: float = NB_INVENTORY_TIMEOUT) -> dict[str, Any]:
    """``ansible-inventory --list`` with netbox.netbox.nb_inventory, interfaces on (and their IPs)."""
    cfg = (REPO_ROOT / "inventory" / "netbox.yml")
    base = cfg.read_text(encoding="utf-8") if cfg.exists() else "plugin: netbox.netbox.nb_inventory\n"
    lines = [ln for ln in base.splitlines() if not ln.startswith(("interfaces:", "config_context:"))]
    text = "\n".join(lines) + "\ninterfaces: true\nconfig_context: false\n"
    with tempfile.TemporaryDirectory() as tmp:
        inv = Path(tmp) / "netbox.yml"
        inv.write_text(text, encoding="utf-8")
        env = os.environ.copy() | {"NETBOX_API": target.url, "NETBOX_TOKEN": target.token,
                                   "ANSIBLE_INVENTORY_CACHE": "False", "ANSIBLE_PYTHON_INTERPRETER": sys.executable}
        exe = str(Path(sys.executable).with_name("ansible-inventory"))
        t0 = time.perf_counter()
        try:
            r = subprocess.run([exe, "-i", str(inv), "--list", "--output", str(Path(tmp) / "out.json")],
                               capture_output=True, text=True, env=env, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return {"total_s": None, "timed_out_after_s": timeout,
                    "note": f"did not finish within {timeout:.0f} s"}
        secs = time.perf_counter() - t0
        if r.returncode != 0:
            return {"total_s": None, "error": (r.stderr or r.stdout)[-600:]}
        data = json.loads((Path(tmp) / "out.json").read_text())
        hosts = len(data.get("_meta", {}).get("hostvars", {}))
        if not hosts:
            return {"total_s": None, "error": "no hosts: " + " ".join(r.stderr.split())[-400:]}
        ifaces = sum(len(v.get("interfaces", []) or []) for v in data.get("_meta", {}).get("hostvars", {}).values())
    return {"total_s": round(secs, 3), "hosts": hosts, "interfaces": ifaces}


def nornir_netbox(target: NetBoxTarget, devices: int, sample: int = 40, seed: int = 7) -> dict[str, Any]:
    """NetBoxInventory2 (all hosts) + per-device pynetbox calls (interfaces, IP addresses) for a sample,
    extrapolated to every host (say so)."""
    import pynetbox
    from nornir import InitNornir

    t0 = time.perf_counter()
    nr = InitNornir(inventory={"plugin": "NetBoxInventory2", "options": {
        "nb_url": target.url, "nb_token": target.token, "use_platform_slug": True}},
        runner={"plugin": "serial"}, logging={"enabled": False})
    inv_s = time.perf_counter() - t0
    hosts = list(nr.inventory.hosts.values())
    nb = pynetbox.api(target.url, token=target.token)
    rng = random.Random(seed)  # noqa: S311 - a sample, not a secret
    picked = rng.sample(hosts, min(sample, len(hosts)))
    t1 = time.perf_counter()
    n_if = n_ip = 0
    for h in picked:
        dev_id = h.data["id"]
        n_if += len(list(nb.dcim.interfaces.filter(device_id=dev_id)))
        n_ip += len(list(nb.ipam.ip_addresses.filter(device_id=dev_id)))
    per_device = (time.perf_counter() - t1) / max(1, len(picked))
    total = inv_s + per_device * len(hosts)
    return {"total_s": round(total, 3), "inventory_s": round(inv_s, 3), "hosts": len(hosts),
            "sampled_devices": len(picked), "per_device_s": round(per_device, 4), "extrapolated": True,
            "sample_interfaces": n_if, "sample_ips": n_ip}
