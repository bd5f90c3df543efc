"""Intent → emulation: how a lab node running Linux, FRR and Open vSwitch stands in for a device.

Two steps, both here:

* :func:`emulate` — the device's *linux-frr view*: the same derivation as its production intent, for
  platform ``linux-frr``, with only the interfaces towards lab devices (or ``lab`` circuits), Linux
  interface names and the lab timers; :func:`build_emulations_collect` makes it for every lab device that
  built, kept apart from the production intents (``Pipeline.emulations``: device name → its twin);
* :func:`plumbing` — what a Linux node must build to *be* a linux-frr intent: the OVS bridge and its
  ports, a bridge/vxlan/veth set per VNI, the veth pair behind each SVI, the FRR daemons to start. A pure
  function of the intent, computed here and nowhere else; the linux-frr templates (``ovs.sh``,
  ``net.sh``), the linux-frr driver's expected state and ``verify`` read it.

A production intent (VRP, Comware, or a real linux-frr box) carries no lab names and no lab twin.

Naming (Linux names ≤ 15 characters): VLAN ``vid`` → SVI veth peer ``vlan<vid>o``; VNI ``vni`` on VLAN
``vid`` → bridge ``vlan<vid>``, vxlan ``vxlan<vni>``, bridge-side veth ``vlan<vid>b``, OVS-side veth
``vlan<vid>o`` (an SVI of a VLAN carried by a VNI has no veth: its gateway lives on the VNI's bridge).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from campusnet.intent.build import SnapshotIndex, configured_devices, guarded
from campusnet.intent.build.device import build_device
from campusnet.intent.build.view import DeviceView
from campusnet.intent.errors import IntentError
from campusnet.intent.models import DeviceIntent, EthernetInterface, LagInterface, SviInterface
from campusnet.platforms import LAB_PLATFORM

if TYPE_CHECKING:
    from campusnet.sot.models import Device, Snapshot

OVS_BRIDGE = "br0"
BASE_DAEMONS = ("zebra", "staticd")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OvsPort(_Model):
    name: str
    tag: int | None = None
    trunks: str = ""  # "10,20"
    bond_members: tuple[str, ...] = ()
    lacp_fast: bool = True


class LabVni(_Model):
    """The Linux devices of one L2VNI: a bridge holding the vxlan device and a veth to an OVS access port."""

    vni: int
    vlan_id: int
    bridge: str  # also the gateway's interface when the node holds the VLAN's gateway
    vxlan: str
    bridge_port: str  # veth end on the bridge
    port: str  # its peer: an OVS access port tag=<vid>


class Plumbing(_Model):
    """What the emulation node needs beyond the FRR view: OVS bridge and ports, VNI devices, SVI veths."""

    ovs_bridge: str | None = None  # None: no L2 on this node
    ovs_ports: tuple[OvsPort, ...] = ()
    vnis: tuple[LabVni, ...] = ()  # in the order of ``intent.evpn.vnis``
    svi_ports: dict[str, str] = {}  # SVI name → its OVS-side veth (SVIs of VNI-carried VLANs have none)
    frr_daemons: tuple[str, ...] = ()  # zebra, staticd, bgpd, ospfd, vrrpd


def svi_port(vid: int) -> str:
    return f"vlan{vid}o"


def lab_vni(vni: int, vid: int) -> LabVni:
    return LabVni(vni=vni, vlan_id=vid, bridge=f"vlan{vid}", vxlan=f"vxlan{vni}", bridge_port=f"vlan{vid}b",
                  port=svi_port(vid))


def _switch_port(x: EthernetInterface | LagInterface) -> OvsPort:
    sp = x.switchport
    assert sp is not None
    trunks = sp.allowed_csv if sp.mode == "trunk" else ""
    if isinstance(x, LagInterface):
        return OvsPort(name=x.name, tag=sp.access_vlan, trunks=trunks, bond_members=x.members, lacp_fast=x.lacp_fast)
    return OvsPort(name=x.name, tag=sp.access_vlan, trunks=trunks)


def plumbing(intent: DeviceIntent) -> Plumbing:
    """The Linux/OVS plumbing of a linux-frr intent (an emulation, or a real linux-frr device)."""
    vnis = tuple(lab_vni(v.vni, v.vlan_id) for v in intent.evpn.vnis) if intent.evpn else ()
    vni_vids = {v.vlan_id for v in vnis}
    ports: list[OvsPort] = []
    svi_ports: dict[str, str] = {}
    for x in intent.interfaces:
        if isinstance(x, LagInterface | EthernetInterface) and x.switchport is not None and (
                isinstance(x, LagInterface) or x.lag is None):
            ports.append(_switch_port(x))
        elif isinstance(x, SviInterface) and x.vlan_id not in vni_vids:
            svi_ports[x.name] = svi_port(x.vlan_id)
            ports.append(OvsPort(name=svi_ports[x.name], tag=x.vlan_id))
    ports.extend(OvsPort(name=v.port, tag=v.vlan_id) for v in vnis)
    daemons = list(BASE_DAEMONS)
    if intent.bgp is not None:
        daemons.append("bgpd")
    if intent.ospf is not None:
        daemons.append("ospfd")
    if any(isinstance(x, SviInterface) and x.vrrp for x in intent.interfaces):
        daemons.append("vrrpd")
    return Plumbing(ovs_bridge=OVS_BRIDGE if ports else None, ovs_ports=tuple(ports), vnis=vnis,
                    svi_ports=svi_ports, frr_daemons=tuple(daemons))


def emulate(idx: SnapshotIndex, dev: Device) -> DeviceIntent:
    """The linux-frr view of lab device ``dev`` (a virtual chassis: its master) from the indexed snapshot."""
    return build_device(DeviceView(idx, dev, LAB_PLATFORM, emulation=True))


def build_emulations_collect(snapshot: Snapshot, devices: Iterable[str]
                             ) -> tuple[dict[str, DeviceIntent], list[IntentError]]:
    """The emulation step: the linux-frr twin of each lab device among ``devices`` (those whose production
    intent built), its strings checked; a device whose twin cannot be built gets an :class:`IntentError`."""
    idx = SnapshotIndex.build(snapshot)
    wanted = set(devices)
    out: dict[str, DeviceIntent] = {}
    errors: list[IntentError] = []
    for dev in configured_devices(snapshot, idx):
        if dev.name in wanted and dev.name in idx.lab:
            try:
                out[dev.name] = guarded(dev, partial(emulate, idx, dev))
            except IntentError as exc:
                errors.append(exc)
    return out, errors
