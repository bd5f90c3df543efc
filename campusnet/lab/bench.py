"""Measure the lab engine: ``python -m campusnet.lab.bench --nodes 80 [--topology ring]`` (root).

Builds a generated chain/ring of FRR routers with OSPF in their day-0 (lab timers), measures the build
time, the time until every router has all its OSPF neighbours Full, the memory of everything running in
the lab's namespaces (RSS and PSS sums, and the drop of MemAvailable), and the teardown time. Uses its own
state directory (``<state>/bench-lab``) and management addresses 10.254.0.1.. — run it with no other lab up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

from campusnet import settings
from campusnet.lab.day0 import daemons_file
from campusnet.lab.plan import LabInterface, LabLink, LabNode, LabPlan, LinkEnd


def ring_plan(n: int, ring: bool = True) -> LabPlan:
    nodes, links = [], []
    for i in range(1, n + 1):
        ifs = [LabInterface(linux="eth1"), LabInterface(linux="eth2")]
        nodes.append(LabNode(name=f"b{i:03d}", kind="router", mgmt_ip=f"10.254.0.{i}/24", interfaces=tuple(ifs),
                             daemons=("zebra", "ospfd", "staticd")))
    last = n if ring else n - 1
    for i in range(1, last + 1):
        j = i % n + 1
        links.append(LabLink(a=LinkEnd(node=f"b{i:03d}", iface="eth2"), b=LinkEnd(node=f"b{j:03d}", iface="eth1")))
    return LabPlan(nodes=tuple(nodes), links=tuple(links))


def _link_index(plan: LabPlan) -> dict[tuple[str, str], int]:
    return {(e.node, e.iface): k for k, lk in enumerate(plan.links) for e in (lk.a, lk.b)}


def write_configs(plan: LabPlan, out: Path) -> None:
    idx = _link_index(plan)
    for i, node in enumerate(plan.nodes, start=1):
        d = out / node.name
        d.mkdir(parents=True, exist_ok=True)
        (d / "daemons").write_text(daemons_file(node))
        (d / "vtysh.conf").write_text(f"service integrated-vtysh-config\nhostname {node.name}\n")
        conf = ["frr defaults traditional", f"hostname {node.name}", "log file /var/log/frr/frr.log warnings",
                "service integrated-vtysh-config", "!", "interface lo", f" ip address 10.255.{i // 250}.{i % 250}/32",
                " ip ospf area 0", "exit", "!"]
        for itf in node.interfaces:
            k = idx.get((node.name, itf.linux))
            if k is None:
                continue
            lk = plan.links[k]
            host = 0 if (lk.a.node, lk.a.iface) == (node.name, itf.linux) else 1
            conf += [f"interface {itf.linux}", f" ip address 10.{100 + k // 128}.{(k % 128) * 2 // 256}."
                     f"{(k * 2) % 256 + host}/31", " ip ospf network point-to-point", " ip ospf area 0",
                     " ip ospf hello-interval 1", " ip ospf dead-interval 4", "exit", "!"]
        conf += ["router ospf", f" ospf router-id 10.255.{i // 250}.{i % 250}", " timers throttle spf 0 50 500",
                 " timers throttle lsa all 0", " timers lsa min-arrival 0", "exit", "!"]
        (d / "frr.conf").write_text("\n".join(conf) + "\n")


def mem_available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


def all_full(plan: LabPlan) -> bool:
    want: dict[str, int] = {}
    for lk in plan.links:
        want[lk.a.node] = want.get(lk.a.node, 0) + 1
        want[lk.b.node] = want.get(lk.b.node, 0) + 1
    for node, count in want.items():
        out = subprocess.run(["ip", "netns", "exec", f"cn-{node}", "vtysh", "-c", "show ip ospf neighbor json"],
                             capture_output=True, text=True, check=False).stdout
        try:
            nbrs = json.loads(out).get("neighbors", {})
        except ValueError:
            return False
        full = sum(1 for v in nbrs.values() for x in v if str(x.get("nbrState", "")).startswith("Full"))
        if full < count:
            return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=80)
    ap.add_argument("--topology", choices=("ring", "chain"), default="ring")
    ap.add_argument("--keep", action="store_true", help="leave the lab running")
    args = ap.parse_args()
    os.environ["CAMPUSNET_STATE"] = str(settings.state_dir() / "bench-lab")
    from campusnet.lab.engine import lab_dir, lab_down, lab_status, lab_up

    plan = ring_plan(args.nodes, args.topology == "ring")
    lab_down()
    cfg = lab_dir().parent / "bench-configs"
    write_configs(plan, cfg)
    mem0 = mem_available_kib()
    t0 = time.monotonic()
    res = lab_up(plan, cfg, wait_timeout=300)
    t_up = time.monotonic() - t0
    while not all_full(plan):
        if time.monotonic() - t0 > 300:
            raise SystemExit("OSPF did not converge in 300 s")
        time.sleep(0.5)
    t_conv = time.monotonic() - t0
    st = lab_status()
    mem1 = mem_available_kib()
    report = {"nodes": len(plan.nodes), "links": len(plan.links), "up_s": round(t_up, 2), "phases": res.seconds,
              "all_ospf_full_s": round(t_conv, 2), "rss_mib": st.rss_mib, "pss_mib": st.pss_mib,
              "mem_available_drop_mib": round((mem0 - mem1) / 1024, 1),
              "pss_per_node_mib": round(st.pss_mib / len(plan.nodes), 1),
              "healthy": st.summary()["healthy"], "links_up": st.summary()["links_up"]}
    if not args.keep:
        t1 = time.monotonic()
        lab_down()
        report["down_s"] = round(time.monotonic() - t1, 2)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
