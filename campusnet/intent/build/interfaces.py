"""Interfaces and switchports: management, loopbacks, Ethernet ports and LAGs (docs/intent.md)."""

from __future__ import annotations

from functools import cached_property

from campusnet.intent.build.common import LOOPBACK_NAME, v4, vlan_ranges
from campusnet.intent.build.ospf import OspfBuilder
from campusnet.intent.build.view import DeviceView
from campusnet.intent.build.vlans import VlanTable
from campusnet.intent.models import (
    EthernetInterface,
    LagInterface,
    LoopbackInterface,
    ManagementInterface,
    PeerRef,
    Switchport,
)
from campusnet.platforms import natural_key
from campusnet.sot.models import Circuit
from campusnet.sot.models import Interface as NbIf


def description(i: NbIf, peer: NbIf | None, circuit: Circuit | None) -> str:
    """NetBox's description, else the far end (device and interface, circuit) of the cable."""
    if i.description:
        return str(i.description)
    if peer is not None:
        text = f"{peer.device} {peer.name}"
        return f"{text} via {circuit.cid}" if circuit is not None else text
    if circuit is not None:
        return f"{circuit.provider} {circuit.cid}"
    return ""


class InterfaceBuilder:
    """The physical and logical interfaces of one device; switchports note their VLANs in ``table``."""

    def __init__(self, view: DeviceView, table: VlanTable, ospf: OspfBuilder):
        self.view, self.table, self.ospf = view, table, ospf

    def management(self) -> list[ManagementInterface]:
        view, dev, p = self.view, self.view.dev, self.view.p
        out: list[ManagementInterface] = []
        for i in view.by_kind["management"]:
            if i.device != dev.name:
                continue  # a virtual chassis is managed through its master
            name = p.management_name if view.emulation else view.eth_name(i.name)
            mgmt_ip = v4([dev.oob_ip] if dev.oob_ip and i.device == dev.name else [])
            candidates = mgmt_ip or v4(x.address for x in view.idx.ips.get(i.key, ()))
            if not candidates:
                continue
            out.append(ManagementInterface(
                name=name, netbox_name=i.name, netbox_device=i.device,
                description=i.description or "management",
                vrf=i.vrf if p.capabilities.mgmt_vrf else None, ipv4=candidates[0],
                gateway=view.ctx.addresses("mgmt.gateway")[0] if view.ctx.has("mgmt.gateway") else None))
        return out

    def loopbacks(self) -> list[LoopbackInterface]:
        view = self.view
        out: list[LoopbackInterface] = []
        for n, i in enumerate(sorted(view.by_kind["loopback"], key=lambda x: x.name)):
            ips = view.iface_ips(i)
            if not ips:
                continue
            m = LOOPBACK_NAME.match(i.name)
            index = int(m.group(2)) if m and m.group(2) else n
            out.append(LoopbackInterface(
                name=view.p.loopback_name(index), netbox_name=i.name, netbox_device=i.device,
                description=i.description or "loopback",
                ipv4=ips[0], secondary=tuple(view.secondary_ips(i)),
                ospf=self.ospf.interface(passive=True, p2p=False) if view.runs_ospf else None))
        return out

    @cached_property
    def lag_names(self) -> dict[str, str]:
        """NetBox LAG name → platform name; a member of a LAG this device does not have is an error."""
        view = self.view
        names: dict[str, str] = {}
        for i in view.by_kind["lag"]:
            if view.emulation and not view.lag_members.get(i.name):
                continue
            names[i.name] = view.p.lag_name(view.lag_id(i.name, f"{i.name}.name"))
        for i in view.by_kind["ethernet"]:
            if i.lag and i.lag not in names and not view.emulation:
                raise view.err(f"member of LAG {i.lag!r}, which is not an interface of this device", f"{i.name}.lag")
        return names

    def switchport(self, i: NbIf) -> Switchport | None:
        """The port's 802.1Q mode; identical switchports are one shared (frozen) model."""
        view, mode = self.view, i.mode
        if mode == "access":
            self.table.note(i.untagged_vid, i.untagged_vlan)
            if i.untagged_vid is None:
                raise view.err(f"access port {i.name} has no untagged VLAN", f"{i.name}.untagged_vlan")
            key: tuple[object, ...] = ("access", i.untagged_vid)
            sp = view.idx.switchports.get(key)
            if sp is None:
                sp = view.idx.switchports[key] = Switchport(mode="access", access_vlan=i.untagged_vid)
            return sp
        if mode in ("tagged", "tagged-all"):
            for vid, vkey in zip(i.tagged_vids, i.tagged_vlans or (None,) * len(i.tagged_vids), strict=False):
                self.table.note(vid, vkey)
            self.table.note(i.untagged_vid, i.untagged_vlan)
            key = (mode, i.untagged_vid, i.tagged_vids)
            sp = view.idx.switchports.get(key)
            if sp is None:
                allowed = tuple(sorted(set(i.tagged_vids) | ({i.untagged_vid} if i.untagged_vid else set())))
                sp = view.idx.switchports[key] = Switchport(
                    mode="trunk", native_vlan=i.untagged_vid, allowed_vlans=allowed,
                    allowed_ranges=vlan_ranges(allowed), allowed_csv=",".join(map(str, allowed)),
                    allow_all=mode == "tagged-all")
            return sp
        return None

    def ethernet(self) -> list[EthernetInterface]:
        view = self.view
        lag_names = self.lag_names
        out: list[EthernetInterface] = []
        for i in view.by_kind["ethernet"]:
            peer = view.peer_iface(i)
            circuit = view.idx.circuit_by_iface.get(i.key)
            link = view.links.get(i.key)
            lag = i.lag
            if view.emulation and lag and lag not in lag_names:
                continue
            peer_ref = None
            if peer is not None:
                peer_ref = PeerRef(device=peer.device, interface=peer.name, circuit=circuit.key if circuit else None)
            elif circuit is not None:
                peer_ref = PeerRef(circuit=circuit.key)
            if view.emulation and not lag and not link and i.mode is None and not view.iface_ips(i):
                continue
            out.append(EthernetInterface(
                name=view.eth_name(i.name), netbox_name=i.name, netbox_device=i.device,
                description=description(i, peer, circuit), enabled=i.enabled, mtu=i.mtu,
                peer=peer_ref,
                switchport=None if lag else self.switchport(i),
                lag=lag_names.get(lag) if lag else None,
                lag_id=view.lag_ids.get(lag) if lag else None,
                lacp_fast=bool(lag),
                ipv4=link.local_ip if link else None,
                ospf=self.ospf.interface(passive=False, p2p=True) if i.key in view.ospf_local else None))
        return out

    def lags(self) -> list[LagInterface]:
        view = self.view
        out: list[LagInterface] = []
        for i in view.by_kind["lag"]:
            if i.name not in self.lag_names:
                continue
            members = view.lag_members.get(i.name, [])
            link = view.links.get(i.key)
            if view.emulation and link is not None:
                raise view.err("the lab cannot emulate a routed LAG (no bond driver)", f"{i.name}.ip_addresses")
            peer_dev = None
            for member in members:
                mp = view.peer_iface(member)
                if mp is not None:
                    peer_dev = view.peer_logical(mp)
                    break
            out.append(LagInterface(
                name=self.lag_names[i.name], netbox_name=i.name, netbox_device=i.device,
                description=i.description or (f"{peer_dev} LAG" if peer_dev else ""), enabled=i.enabled,
                mtu=i.mtu, lag_id=view.lag_ids[i.name],
                members=tuple(sorted((view.eth_name(m.name) for m in members), key=natural_key)),
                switchport=self.switchport(i), ipv4=link.local_ip if link else None,
                ospf=self.ospf.interface(passive=False, p2p=True) if i.key in view.ospf_local else None,
                peer_device=peer_dev))
        return out
