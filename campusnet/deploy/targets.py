"""What deploy pushes to each lab node, computed from the same intent that rendering used.

For a lab node: the linux-frr emulation intent of its device (a virtual chassis: its master) rendered
to ``frr.conf``/``net.sh``/``ovs.sh``, plus the canonical state the node must show afterwards (OVS ports,
lab-made links, addresses, the VPN server) — the same canonical form the driver reads from the node.
A VPN gateway's target also names its key material by *local path* (``vpn_material``, from the state
directory's PKI, made on first use): the text never enters the target's files or a run's evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import ip_interface
from typing import TYPE_CHECKING

from campusnet import vpn as vpn_pki
from campusnet.deploy.drivers.linux_frr import canonical_vpn
from campusnet.deploy.engine import DeployTarget
from campusnet.platforms import LAB_PLATFORM
from campusnet.render import render_files, resolve_secrets

if TYPE_CHECKING:
    from campusnet.intent.models import DeviceIntent
    from campusnet.lab.plan import LabPlan


def expected_ovs(intent: DeviceIntent) -> str:
    lab = intent.lab
    if lab is None or lab.ovs_bridge is None:
        return ""
    lines = [f"bridge {lab.ovs_bridge}"]
    for p in sorted(lab.ovs_ports, key=lambda p: p.name):
        parts = [f" port {p.name}"]
        if p.tag is not None:
            parts.append(f"tag={p.tag}")
        else:
            trunks = sorted(int(t) for t in p.trunks.split(",") if t.strip())
            if trunks:
                parts.append("trunks=" + ",".join(map(str, trunks)))
        if p.bond_members:
            parts += ["bond=" + ",".join(sorted(p.bond_members)), "bond_mode=balance-tcp", "lacp=active",
                      f"lacp-time={'fast' if p.lacp_fast else 'slow'}"]
        lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"


def expected_links(intent: DeviceIntent) -> str:
    lines: list[str] = []
    if intent.evpn:
        for vni in intent.evpn.vnis:
            lines += [f"{vni.lab_bridge} bridge", f"{vni.lab_vxlan} vxlan vni={vni.vni} master={vni.lab_bridge}",
                      f"{vni.lab_bridge_port} veth master={vni.lab_bridge}", f"{vni.lab_port} veth"]
    for i in intent.interfaces:
        if i.kind == "svi":
            if i.lab_port is not None:
                lines += [f"{i.name} veth", f"{i.lab_port} veth"]
            for v in i.vrrp:
                lines.append(f"{v.macvlan} macvlan link={i.name} mac={v.virtual_mac}")
    return "\n".join(sorted(set(lines))) + ("\n" if lines else "")


def expected_addrs(intent: DeviceIntent) -> str:
    lines: list[str] = []
    for i in intent.interfaces:
        if i.kind == "management":
            continue
        v4 = getattr(i, "ipv4", None)
        if v4 is not None:
            dev = "lo" if i.kind == "loopback" else i.name
            lines.append(f"{dev} {v4}")
        if i.kind == "loopback":  # anycast/service addresses (the VPN's public address): net.sh puts them on lo
            lines += [f"lo {a}" for a in i.secondary]
        if i.kind == "svi" and i.ipv4 is not None:
            for v in i.vrrp:
                lines.append(f"{v.macvlan} {v.virtual_ip}/{i.ipv4.network.prefixlen}")
    if intent.vpn is not None:  # OpenVPN puts the pool's first address on its tun device
        lines.append(f"{intent.vpn.device} {intent.vpn.server_address}")
    return "\n".join(sorted(lines)) + ("\n" if lines else "")


def expected_vpn(intent: DeviceIntent, files: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The ``vpn`` section the node must show, and ``{remote name: local path}`` of its key material."""
    if intent.vpn is None or "openvpn.conf" not in files:
        return "", {}
    mat = vpn_pki.material(intent.vpn.common_name, "server")
    return (canonical_vpn(files["openvpn.conf"], True, vpn_pki.material_digest(mat)),
            {k: str(v) for k, v in mat.items()})


def expected_up(intent: DeviceIntent) -> list[str]:
    return [i.name for i in intent.interfaces if i.kind == "ethernet" and i.enabled]


OSPF_DEAD_DEFAULT = 40  # FRR's defaults, when the intent sets no timers
BGP_HOLD_DEFAULT = 180


def expected_adjacencies(node: str, plan: LabPlan, intents: dict[str, DeviceIntent]) -> list[dict[str, object]]:
    """The routing sessions the intent implies for a node — the same set ``verify`` expects
    (:func:`campusnet.verify.expect.expectations`) — each with its peer node, whether the peer is directly
    connected, and whether it is a lab-made node (no intent: ``lab up`` configured it, a provider stub).

    ``[{"proto": "ospf"|"bgp", "peer": router-id|address, "node": peer node|None, "direct": bool,
    "stub": bool, "hold": seconds}]`` (``hold``: the OSPF dead interval or BGP hold time: how long a broken
    session can still look up); the engine decides which of them its post-check waits for."""
    from campusnet.verify.expect import node_intents

    by_node = node_intents(plan, intents)
    it = by_node.get(node)
    if it is None:
        return []
    node_of_device = {d: n.name for n in plan.nodes for d in n.devices}
    rid_node = {str(x.ospf.router_id): name for name, x in by_node.items() if x.ospf}
    addr_node: dict[str, str] = {}
    for name, x in by_node.items():
        for iface in x.interfaces:
            v4 = getattr(iface, "ipv4", None)
            if v4 is not None:
                addr_node[str(v4.ip)] = name
    for n in plan.nodes:
        for i in n.interfaces:
            if i.address:
                addr_node.setdefault(str(ip_interface(i.address).ip), n.name)
    connected = [v4.network for i in it.interfaces if i.kind not in ("loopback", "management")
                 for v4 in [getattr(i, "ipv4", None)] if v4 is not None]
    out: list[dict[str, object]] = []
    if it.ospf:
        for iface in it.interfaces:
            ospf = getattr(iface, "ospf", None)
            peer = getattr(iface, "peer", None)
            if ospf is None or peer is None or ospf.passive or not peer.device:
                continue
            pnode = node_of_device.get(peer.device)
            if pnode and pnode in by_node and by_node[pnode].ospf:
                rid = str(by_node[pnode].ospf.router_id)  # type: ignore[union-attr]
                if rid_node.get(rid) == pnode and not any(o["peer"] == rid for o in out):
                    out.append({"proto": "ospf", "peer": rid, "node": pnode, "direct": True, "stub": False,
                                "hold": ospf.dead_interval or OSPF_DEAD_DEFAULT})
    if it.bgp:
        for nb in it.bgp.neighbors:
            addr = str(nb.address)
            pnode = addr_node.get(addr)
            if nb.kind != "provider" and pnode is None:
                continue  # not in the lab: verify does not expect it either
            out.append({"proto": "bgp", "peer": addr, "node": pnode,
                        "direct": nb.interface is not None or any(nb.address in net for net in connected),
                        "stub": pnode is not None and pnode not in by_node,
                        "hold": it.bgp.timers.hold if it.bgp.timers else BGP_HOLD_DEFAULT})
    return out


def lab_target(node: str, host: str, intent: DeviceIntent,
               adjacencies: list[dict[str, object]] | None = None) -> DeployTarget:
    emu = intent.emulation or intent
    if emu.platform != LAB_PLATFORM.slug:
        raise ValueError(f"{intent.hostname}: no lab emulation intent")
    files = render_files(resolve_secrets(emu))
    daemons = list(emu.lab.frr_daemons) if emu.lab else []
    vpn_section, material = expected_vpn(emu, files)
    checks: dict[str, object] = {"ovs": expected_ovs(emu), "links": expected_links(emu),
                                 "addrs": expected_addrs(emu), "up": expected_up(emu), "daemons": daemons,
                                 "vpn": vpn_section, "adjacencies": list(adjacencies or [])}
    if emu.vpn is not None and material:
        checks.update(vpn_material=material, vpn_listen=f"{emu.vpn.listen}:{emu.vpn.port}/{emu.vpn.proto}",
                      vpn_address=f"{emu.vpn.device} {emu.vpn.server_address}")
    return DeployTarget(device=node, host=host, driver=LAB_PLATFORM.slug, files=files, checks=checks)


def lab_targets(plan: LabPlan, intents: dict[str, DeviceIntent], only: Iterable[str] | None = None
                ) -> dict[str, DeployTarget]:
    """Lab node name → target, for every node that stands for a NetBox device with an intent."""
    wanted = set(only) if only is not None else None
    out: dict[str, DeployTarget] = {}
    for node in plan.nodes:
        if wanted is not None and node.name not in wanted and not (set(node.devices) & wanted):
            continue
        for dev in node.devices:
            it = intents.get(dev)
            if it is not None and (it.emulation is not None or it.platform == LAB_PLATFORM.slug):
                out[node.name] = lab_target(node.name, node.mgmt_address, it,
                                            expected_adjacencies(node.name, plan, intents))
                break
    return out
