"""What deploy pushes to each lab node, computed from the same intent that rendering used.

For a lab node: the linux-frr emulation intent of its device (a virtual chassis: its master) rendered
to ``frr.conf``/``net.sh``/``ovs.sh``, plus the state the node must show afterwards — the driver's
:meth:`~campusnet.deploy.drivers.base.Driver.expected` (OVS ports, lab-made links, addresses, the VPN
server, in the same canonical form its reader makes of the node) and the routing sessions the intent implies
(:func:`expected_adjacencies`, platform-neutral: the same set ``verify`` expects). A VPN gateway's expected
state names its key material by *local path* (``vpn_material``, from the state directory's PKI, made on
first use): the text never enters the target's files or a run's evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import ip_interface
from typing import TYPE_CHECKING

from campusnet.deploy.drivers import DeployTarget, Session, driver_for
from campusnet.platforms import LAB_PLATFORM
from campusnet.render import render_files, resolve_secrets

if TYPE_CHECKING:
    from campusnet.intent.models import DeviceIntent
    from campusnet.lab.plan import LabPlan


OSPF_DEAD_DEFAULT = 40  # FRR's defaults, when the intent sets no timers
BGP_HOLD_DEFAULT = 180


def expected_adjacencies(node: str, plan: LabPlan, intents: dict[str, DeviceIntent]) -> list[Session]:
    """The routing sessions the intent implies for a node — the same set ``verify`` expects
    (:func:`campusnet.verify.expect.expectations`) — each with its peer node, whether the peer is directly
    connected, and whether it is a lab-made node (no intent: ``lab up`` configured it, a provider stub),
    as :class:`~campusnet.deploy.drivers.base.Session`; the engine decides which its post-check waits for."""
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
    out: list[Session] = []
    if it.ospf:
        for iface in it.interfaces:
            ospf = getattr(iface, "ospf", None)
            peer = getattr(iface, "peer", None)
            if ospf is None or peer is None or ospf.passive or not peer.device:
                continue
            pnode = node_of_device.get(peer.device)
            if pnode and pnode in by_node and by_node[pnode].ospf:
                rid = str(by_node[pnode].ospf.router_id)  # type: ignore[union-attr]
                if rid_node.get(rid) == pnode and not any(o.peer == rid for o in out):
                    out.append(Session(proto="ospf", peer=rid, node=pnode, direct=True, stub=False,
                                       hold=ospf.dead_interval or OSPF_DEAD_DEFAULT))
    if it.bgp:
        for nb in it.bgp.neighbors:
            addr = str(nb.address)
            pnode = addr_node.get(addr)
            if nb.kind != "provider" and pnode is None:
                continue  # not in the lab: verify does not expect it either
            out.append(Session(proto="bgp", peer=addr, node=pnode,
                               direct=nb.interface is not None or any(nb.address in net for net in connected),
                               stub=pnode is not None and pnode not in by_node,
                               hold=it.bgp.timers.hold if it.bgp.timers else BGP_HOLD_DEFAULT))
    return out


def lab_target(node: str, host: str, intent: DeviceIntent, adjacencies: list[Session] | None = None
               ) -> DeployTarget:
    emu = intent.emulation or intent
    if emu.platform != LAB_PLATFORM.slug:
        raise ValueError(f"{intent.hostname}: no lab emulation intent")
    files = render_files(resolve_secrets(emu))
    expected = driver_for(LAB_PLATFORM.slug).expected(emu, files, adjacencies or ())
    return DeployTarget(device=node, host=host, driver=LAB_PLATFORM.slug, files=files, expected=expected)


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
