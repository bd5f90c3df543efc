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
from typing import TYPE_CHECKING

from campusnet.deploy.drivers import DeployTarget, Session, driver_for
from campusnet.platforms import LAB_PLATFORM
from campusnet.render import render_files, resolve_secrets
from campusnet.verify.expect import LabRouting

if TYPE_CHECKING:
    from collections.abc import Mapping

    from campusnet.intent.models import DeviceIntent
    from campusnet.lab.plan import LabPlan


def expected_adjacencies(node: str, plan: LabPlan, intents: dict[str, DeviceIntent],
                         emulations: Mapping[str, DeviceIntent]) -> list[Session]:
    """The routing sessions the intent implies for a node — the same set ``verify`` expects (both come
    from :class:`campusnet.verify.expect.LabRouting`) — each with its peer node, whether the peer is
    directly connected, and whether it is a lab-made node (no intent: ``lab up`` configured it, a provider
    stub), as :class:`~campusnet.deploy.drivers.base.Session`; the engine decides which its post-check
    waits for."""
    return _sessions(LabRouting(plan, intents, emulations), node)


def _sessions(routing: LabRouting, node: str) -> list[Session]:
    return [Session(proto=p.proto, peer=p.peer, node=p.node, direct=p.direct, stub=p.stub, hold=p.hold)
            for p in routing.peers(node)]


def lab_target(node: str, host: str, intent: DeviceIntent, adjacencies: list[Session] | None = None
               ) -> DeployTarget:
    """``intent``: what the node runs, a linux-frr intent (a lab device's emulation, or a linux-frr device)."""
    if intent.platform != LAB_PLATFORM.slug:
        raise ValueError(f"{intent.hostname}: no lab emulation intent")
    files = render_files(resolve_secrets(intent))
    expected = driver_for(LAB_PLATFORM.slug).expected(intent, files, adjacencies or ())
    return DeployTarget(device=node, host=host, driver=LAB_PLATFORM.slug, files=files, expected=expected)


def lab_targets(plan: LabPlan, intents: dict[str, DeviceIntent], emulations: Mapping[str, DeviceIntent],
                only: Iterable[str] | None = None) -> dict[str, DeployTarget]:
    """Lab node name → target, for every node that stands for a NetBox device with an intent (``emulations``:
    the lab twins, ``Pipeline.emulations``)."""
    wanted = set(only) if only is not None else None
    routing = LabRouting(plan, intents, emulations)
    out: dict[str, DeployTarget] = {}
    for node in plan.nodes:
        if wanted is not None and node.name not in wanted and not (set(node.devices) & wanted):
            continue
        for dev in node.devices:
            it = emulations.get(dev) or intents.get(dev)
            if it is not None and it.platform == LAB_PLATFORM.slug:
                out[node.name] = lab_target(node.name, node.mgmt_address, it, _sessions(routing, node.name))
                break
    return out
