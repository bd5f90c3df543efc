"""Day-0 configuration of a lab node: FRR with its daemons enabled and nothing else.

The campus configuration arrives later through ``campusnet deploy`` (SSH to ``mgmt0``). Provider stubs
are not NetBox devices and are never deployed: their day 0 is their whole configuration (addresses on
the circuit interfaces, eBGP from the provider's ASN to the campus end, a default route offered).
"""

from __future__ import annotations

from pathlib import Path

from campusnet.lab.plan import FRR_DAEMONS, LabNode, LabPlan

ALL_DAEMONS = ("bgpd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd", "pim6d", "ldpd", "nhrpd",
               "eigrpd", "babeld", "sharpd", "pbrd", "bfdd", "fabricd", "vrrpd", "pathd")


def daemons_file(node: LabNode) -> str:
    lines = ["# campusnet lab day-0: FRR daemons of node " + node.name, "zebra=yes"]
    for d in ALL_DAEMONS:
        lines.append(f"{d}={'yes' if d in node.daemons else 'no'}")
    lines += [
        "vtysh_enable=yes",
        'zebra_options="  -A 127.0.0.1 -s 90000000"',
        *(f'{d}_options="-A 127.0.0.1"' for d in FRR_DAEMONS if d != "zebra"),
        "frr_profile=traditional",
    ]
    return "\n".join(lines) + "\n"


def frr_conf(node: LabNode) -> str:
    out = [
        "frr defaults traditional",
        f"hostname {node.name}",
        "log file /var/log/frr/frr.log informational",
        "log timestamp precision 3",
        "service integrated-vtysh-config",
        "!",
    ]
    if node.kind == "provider":
        for i in node.interfaces:
            if i.address:
                out += [f"interface {i.linux}", f" description {i.netbox}", f" ip address {i.address}", "exit",
                        "!"]
        if node.asn is not None and node.bgp_peers:
            out += [f"router bgp {node.asn}", " no bgp ebgp-requires-policy", " no bgp network import-check",
                    " timers bgp 1 3"]
            for p in node.bgp_peers:
                out += [f" neighbor {p.address} remote-as {p.asn}",
                        f" neighbor {p.address} description {p.description}"[:200],
                        f" neighbor {p.address} timers connect 1",
                        f" neighbor {p.address} advertisement-interval 0"]
            out += [" !", " address-family ipv4 unicast"]
            for p in node.bgp_peers:
                out.append(f"  neighbor {p.address} default-originate")
            out += [" exit-address-family", "exit", "!"]
    return "\n".join(out) + "\n"


def vtysh_conf(node: LabNode) -> str:
    # the hostname here makes `ip netns exec cn-X vtysh` (host UTS namespace) show the node's name
    return f"service integrated-vtysh-config\nhostname {node.name}\n"


def render_day0(plan: LabPlan, out_dir: Path) -> Path:
    """Write ``out_dir/<node>/{daemons,frr.conf,vtysh.conf}`` for every FRR node; return ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for node in plan.nodes:
        if not node.frr:
            continue
        d = out_dir / node.name
        d.mkdir(parents=True, exist_ok=True)
        (d / "daemons").write_text(daemons_file(node))
        (d / "frr.conf").write_text(frr_conf(node))
        (d / "vtysh.conf").write_text(vtysh_conf(node))
    return out_dir
