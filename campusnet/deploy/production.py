"""Deploy targets for production devices (Huawei VRP, H3C Comware): what ``deploy --limit <device>`` pushes
to a device that is not a lab node.

A production target is the device itself: ``host`` is its management address (the intent's management
interface), ``driver`` its NetBox platform slug, ``files`` its rendered vendor configuration, and
``expected`` what the platform's driver checks after the push (cabled interfaces up) plus the routing
sessions the intent implies (OSPF neighbours on its non-passive OSPF interfaces, its BGP neighbours).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NoReturn

from campusnet.deploy.drivers import DeployTarget, Session, driver_for
from campusnet.errors import CampusnetError
from campusnet.render import SecretResolver, render_files, resolve_secret, resolve_secrets

if TYPE_CHECKING:
    from campusnet.intent.models import DeviceIntent
    from campusnet.pipeline import Pipeline

OSPF_DEAD_DEFAULT = 40  # VRP's and Comware's default dead interval on a P2P/broadcast link
BGP_HOLD_DEFAULT = 180


def management_address(intent: DeviceIntent) -> str:
    """The address deploy reaches the device on: its management interface's IPv4 address (E415 if none)."""
    for iface in intent.interfaces:
        v4 = getattr(iface, "ipv4", None)
        if iface.kind == "management" and v4 is not None:
            return str(v4.ip)
    raise CampusnetError("E415", "no management address: the device has no management interface with an IPv4 "
                         "address in NetBox, so deploy cannot reach it", obj=intent.hostname,
                         field="interfaces.management")


def production_sessions(intent: DeviceIntent, intents: dict[str, DeviceIntent]) -> list[Session]:
    """The routing sessions the intent implies: an OSPF neighbour per non-passive OSPF interface cabled to
    a device that runs OSPF (keyed by its router id), and each BGP neighbour (by address)."""
    out: list[Session] = []
    if intent.ospf:
        for iface in intent.interfaces:
            ospf = getattr(iface, "ospf", None)
            peer = getattr(iface, "peer", None)
            other = intents.get(peer.device) if peer is not None and peer.device else None
            if ospf is None or ospf.passive or other is None or other.ospf is None:
                continue
            rid = str(other.ospf.router_id)
            if not any(s.peer == rid for s in out):
                out.append(Session(proto="ospf", peer=rid, node=other.hostname, direct=True,
                                   hold=ospf.dead_interval or OSPF_DEAD_DEFAULT))
    if intent.bgp:
        hold = intent.bgp.timers.hold if intent.bgp.timers else BGP_HOLD_DEFAULT
        out.extend(Session(proto="bgp", peer=str(nb.address), direct=nb.interface is not None, hold=hold)
                   for nb in intent.bgp.neighbors)
    return out


def production_target(intent: DeviceIntent, intents: dict[str, DeviceIntent],
                      resolver: SecretResolver = resolve_secret) -> DeployTarget:
    """The target of one production device (E420 when its platform has no deploy driver)."""
    try:
        driver = driver_for(intent.platform)
    except CampusnetError as exc:
        raise CampusnetError(exc.code, exc.message, obj=intent.hostname, field="platform") from None
    files = render_files(resolve_secrets(intent, resolver))
    expected = driver.expected(intent, files, production_sessions(intent, intents))
    return DeployTarget(device=intent.hostname, host=management_address(intent), driver=intent.platform,
                        files=files, expected=expected)


def production_targets(intents: dict[str, DeviceIntent], names: Iterable[str],
                       resolver: SecretResolver = resolve_secret) -> dict[str, DeployTarget]:
    """Device name → target for the named devices that have an intent and are not lab-emulated
    (``linux-frr``); names without an intent are left out (the caller says which matched nothing)."""
    out: dict[str, DeployTarget] = {}
    for name in names:
        it = intents.get(name)
        if it is not None and it.platform != "linux-frr":
            out[name] = production_target(it, intents, resolver)
    return out


def production_for(pipe: Pipeline, limit: list[str] | None) -> dict[str, DeployTarget]:
    """The targets of ``deploy --production``/``--replay``: the named devices themselves (their management
    address, their platform's driver). ``--limit`` is required (E416); every name must be a production
    device with an intent (E417)."""
    if not limit:
        raise CampusnetError("E416", "a production deploy names its devices: add --limit DEVICE …",
                             obj="deploy", field="--limit")
    targets = production_targets(pipe.intents, limit)
    unknown = [n for n in limit if n not in targets]
    if unknown:
        raise CampusnetError("E417", f"not a production device with an intent: {' '.join(unknown)}",
                             obj="deploy", field="--limit")
    return targets


def not_in_lab(pipe: Pipeline, limit: list[str]) -> NoReturn:
    """A ``--limit`` that matches no lab node: E420 for a production device (pushing to it is an explicit
    choice: the message says how), E424 for a name nothing knows."""
    for name in limit:
        it = pipe.intents.get(name)
        if it is not None:
            raise CampusnetError(
                "E420", f"not a lab node: a {it.platform} device in production. `campusnet deploy --production "
                f"--limit {name}` diffs (and with --commit pushes to) the device itself over SSH, `--replay DIR` "
                "rehearses that against recorded sessions, and `campusnet check-change` shows the hier_config "
                "remediation of a change", obj=name, field="platform")
    raise CampusnetError("E424", f"--limit {' '.join(limit)} matches no lab node")


def is_production(targets: Iterable[DeployTarget]) -> bool:
    """Whether a run goes to production devices (it then runs through the thread pool, never Nornir's lab
    inventory)."""
    return any(t.driver != "linux-frr" for t in targets)
