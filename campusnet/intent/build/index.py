"""The per-snapshot index: everything the area builders look up, built once (linear in the snapshot)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from ipaddress import IPv4Network

from campusnet.intent.build.common import L2VPN_VXLAN_TYPES, LAB_TAG, POOL_PREFIX_ROLE, PUBLIC_PREFIX_ROLE
from campusnet.intent.models import Services, Switchport
from campusnet.sot.models import (
    L2VPN,
    VLAN,
    Circuit,
    Device,
    FHRPGroup,
    IPAddress,
    Provider,
    Snapshot,
    iface_key,
)
from campusnet.sot.models import (
    Interface as NbIf,
)


@dataclass
class SnapshotIndex:
    snap: Snapshot
    devices: dict[str, Device] = field(default_factory=dict)
    logical: dict[str, str] = field(default_factory=dict)  # device → its logical device (VC master)
    members: dict[str, list[Device]] = field(default_factory=dict)  # logical → member devices
    lab: set[str] = field(default_factory=set)  # logical devices tagged lab
    ifaces_by_logical: dict[str, list[NbIf]] = field(default_factory=lambda: defaultdict(list))
    iface: dict[str, NbIf] = field(default_factory=dict)
    ips: dict[str, list[IPAddress]] = field(default_factory=lambda: defaultdict(list))
    vlans: dict[str, VLAN] = field(default_factory=dict)
    fhrp: dict[int, FHRPGroup] = field(default_factory=dict)
    l2vpn_by_vlan: dict[str, L2VPN] = field(default_factory=dict)
    circuit_by_iface: dict[str, Circuit] = field(default_factory=dict)
    circuit_campus_ends: dict[str, int] = field(default_factory=dict)
    providers: dict[str, Provider] = field(default_factory=dict)
    cable_status: dict[int, str] = field(default_factory=dict)
    lag_iface: dict[tuple[str, str], NbIf] = field(default_factory=dict)  # (logical, lag name) → Interface
    # memo tables: identical values are shared (the models are frozen), names mapped once per platform
    switchports: dict[tuple[object, ...], Switchport] = field(default_factory=dict)
    names: dict[tuple[str, str], str] = field(default_factory=dict)
    services: dict[tuple[str, str | None], Services] = field(default_factory=dict)
    pools_by_site: dict[str, list[IPv4Network]] = field(default_factory=lambda: defaultdict(list))
    public: list[IPv4Network] = field(default_factory=list)

    @classmethod
    def build(cls, snap: Snapshot) -> SnapshotIndex:
        idx = cls(snap)
        idx.devices = {d.name: d for d in snap.devices}
        idx._chassis()
        for d in snap.devices:
            if LAB_TAG in d.tags:
                idx.lab.add(idx.logical[d.name])
        for i in snap.interfaces:
            logical = idx.logical.get(i.device, i.device)
            idx.ifaces_by_logical[logical].append(i)
            idx.iface[i.key] = i
            if i.type == "lag":
                idx.lag_iface[(logical, i.name)] = i
        for ip in snap.ip_addresses:
            if ip.device and ip.interface:
                idx.ips[iface_key(ip.device, ip.interface)].append(ip)
        idx.vlans = {v.key: v for v in snap.vlans}
        idx.fhrp = {g.id: g for g in snap.fhrp_groups}
        for l2 in snap.l2vpns:
            if l2.type not in L2VPN_VXLAN_TYPES or l2.identifier is None:
                continue
            for lt in l2.terminations:
                if lt.kind == "vlan" and lt.vlan:
                    idx.l2vpn_by_vlan[lt.vlan] = l2
        idx._circuits()
        idx.providers = {p.slug: p for p in snap.providers}
        idx.cable_status = {c.id: c.status for c in snap.cables}
        for pfx in snap.prefixes:
            net = pfx.network
            if not isinstance(net, IPv4Network) or pfx.vrf is not None:
                continue
            if pfx.role == POOL_PREFIX_ROLE and pfx.site:
                idx.pools_by_site[pfx.site].append(net)
            elif pfx.role == PUBLIC_PREFIX_ROLE:
                idx.public.append(net)
        return idx

    def _chassis(self) -> None:
        """A virtual chassis is one logical device, its master, carrying every member."""
        vc_members: dict[str, list[Device]] = defaultdict(list)
        for d in self.snap.devices:
            if d.virtual_chassis:
                vc_members[d.virtual_chassis].append(d)
        for vc in self.snap.virtual_chassis:
            members = sorted(vc_members.get(vc.name, ()), key=lambda d: (d.vc_position or 0, d.name))
            master = vc.master or next((d.name for d in members if d.vc_master), None) or (
                members[0].name if members else None)
            if master is None:
                continue
            self.members[master] = members
            for d in members:
                self.logical[d.name] = master
        for d in self.snap.devices:
            if d.name not in self.logical:
                self.logical[d.name] = d.name
                self.members[d.name] = [d]

    def _circuits(self) -> None:
        for c in self.snap.circuits:
            ends = 0
            for t in c.terminations:
                ep = t.interface
                if ep is not None and ep.device and ep.name:
                    self.circuit_by_iface[iface_key(ep.device, ep.name)] = c
                    ends += 1
            self.circuit_campus_ends[c.key] = ends

    def vlan_of(self, key: str | None) -> VLAN | None:
        return self.vlans.get(key) if key else None
