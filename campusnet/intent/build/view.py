"""The shared read-only view of one device that every area builder reads (AVD's shared context).

It holds the device, its platform, its config context and the snapshot index, answers lookups
(peers, addresses, cabling) and caches what several areas need: the interfaces by kind, the routed
links, the interfaces that run OSPF.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from ipaddress import IPv4Address, IPv4Interface, ip_interface

from campusnet.intent.build.common import (
    CONNECTED_CABLE_STATUSES,
    DIGITS,
    LAB_TAG,
    LOOPBACK_NAME,
    OSPF_TAG,
    SECONDARY_IP_ROLES,
    other_host,
    v4,
)
from campusnet.intent.build.index import SnapshotIndex
from campusnet.intent.context import Context
from campusnet.intent.errors import IntentError
from campusnet.platforms import LAB_PLATFORM, REGISTRY, Platform
from campusnet.sot.models import Circuit, Device, Snapshot, iface_key
from campusnet.sot.models import Interface as NbIf


@dataclass
class Link:
    """A routed link seen from this device."""

    local: NbIf
    local_ip: IPv4Interface
    peer_device: str | None  # logical name (None: provider circuit)
    peer_ip: IPv4Address | None
    peer_iface: NbIf | None
    circuit: Circuit | None


class DeviceView:
    """One device as the area builders see it; ``emulation`` builds its lab twin (linux-frr)."""

    def __init__(self, idx: SnapshotIndex, dev: Device, platform: Platform, *, emulation: bool):
        self.idx = idx
        self.dev = dev
        self.name = dev.name
        self.p = platform
        self.emulation = emulation
        self.ctx = Context(dev.name, dev.config_context)
        self.members = idx.members.get(dev.name, [dev])
        self.ifaces = idx.ifaces_by_logical.get(dev.name, [])
        self.lag_ids: dict[str, int] = {}  # memo of lag_id()

    @classmethod
    def of(cls, snapshot: Snapshot | SnapshotIndex, name: str, *, emulation: bool = False) -> DeviceView:
        """The view of device ``name`` (its registry platform, or the lab's for ``emulation``)."""
        idx = snapshot if isinstance(snapshot, SnapshotIndex) else SnapshotIndex.build(snapshot)
        dev = idx.devices[name]
        return cls(idx, dev, LAB_PLATFORM if emulation else REGISTRY[dev.platform or ""], emulation=emulation)

    def err(self, message: str, field: str | None = None) -> IntentError:
        return IntentError(message, device=self.name, field=field)

    def eth_name(self, netbox_name: str) -> str:
        key = (self.p.slug, netbox_name)
        name = self.idx.names.get(key)
        if name is None:
            name = self.idx.names[key] = self.p.ethernet_name(netbox_name)
        return name

    # -- lookups -----------------------------------------------------------------------------------------
    def asn_of(self, logical: str) -> int | None:
        d = self.idx.devices.get(logical)
        return d.bgp_asn if d else None

    def evpn_of(self, logical: str) -> bool:
        d = self.idx.devices.get(logical)
        return bool(d and isinstance(d.config_context.get("evpn"), dict)
                    and d.config_context["evpn"].get("enabled") is True)  # type: ignore[union-attr]

    def iface_ips(self, i: NbIf) -> list[IPv4Interface]:
        return v4(ip.address for ip in self.idx.ips.get(i.key, ()) if ip.role not in ("vrrp", *SECONDARY_IP_ROLES))

    def secondary_ips(self, i: NbIf) -> list[IPv4Interface]:
        return v4(ip.address for ip in self.idx.ips.get(i.key, ()) if ip.role in SECONDARY_IP_ROLES)

    def cabled(self, i: NbIf) -> bool:
        cable = i.cable
        return cable is not None and self.idx.cable_status.get(cable, "connected") in CONNECTED_CABLE_STATUSES

    def peer_iface(self, i: NbIf) -> NbIf | None:
        """The interface at the far end of the cable path, if it is one interface of a configured device."""
        if not self.cabled(i):
            return None
        eps = [e for e in i.connected_endpoints if e.kind == "interface"]
        if len(eps) != 1 or not eps[0].device or not eps[0].name:
            return None
        return self.idx.iface.get(iface_key(eps[0].device, eps[0].name))

    def peer_logical(self, peer: NbIf | None) -> str | None:
        return self.idx.logical.get(peer.device) if peer is not None else None

    def in_lab(self, i: NbIf) -> bool:
        """In the emulation, only interfaces towards lab devices (or lab circuits) exist."""
        peer = self.peer_iface(i)
        if peer is not None:
            return self.peer_logical(peer) in self.idx.lab
        circuit = self.idx.circuit_by_iface.get(i.key)
        return circuit is not None and LAB_TAG in circuit.tags and self.cabled(i)

    def kind_of(self, i: NbIf) -> str:
        name: str = i.name
        if i.mgmt_only or name == "mgmt0":
            return "management"
        if i.type == "lag":
            return "lag"
        if i.type == "virtual":
            if i.untagged_vid is not None or name.lower().startswith(("vlan", "vlanif", "vlan-interface")):
                return "svi"
            if LOOPBACK_NAME.match(name) or any(ip.role == "loopback" for ip in self.idx.ips.get(i.key, ())):
                return "loopback"
            return "other"
        return "ethernet"

    def lag_id(self, lag_name: str, field: str) -> int:
        if lag_name not in self.lag_ids:
            m = DIGITS.search(lag_name)
            if not m:
                raise self.err(f"LAG {lag_name!r} has no number in its name", field)
            self.lag_ids[lag_name] = int(m.group(1))
        return self.lag_ids[lag_name]

    # -- what several areas need, computed once ------------------------------------------------------------
    @cached_property
    def router_id(self) -> IPv4Address | None:
        rid = ip_interface(self.dev.primary_ip4).ip if self.dev.primary_ip4 else None
        return rid if isinstance(rid, IPv4Address) else None

    @cached_property
    def by_kind(self) -> dict[str, list[NbIf]]:
        """The device's interfaces by kind (management, loopback, lag, ethernet, svi, other); in the
        emulation only the ethernet interfaces towards the lab."""
        out: dict[str, list[NbIf]] = defaultdict(list)
        for i in self.ifaces:
            kind = self.kind_of(i)
            if self.emulation and kind == "ethernet" and not self.in_lab(i):
                continue
            out[kind].append(i)
        return out

    @cached_property
    def lag_members(self) -> dict[str, list[NbIf]]:
        out: dict[str, list[NbIf]] = defaultdict(list)
        for i in self.by_kind["ethernet"]:
            if i.lag:
                out[i.lag].append(i)
        return out

    @cached_property
    def links(self) -> dict[str, Link]:
        """Routed links by local interface key: ethernet interfaces first, then LAGs."""
        out: dict[str, Link] = {}
        for i in [*self.by_kind["ethernet"], *self.by_kind["lag"]]:
            link = self._link(i, self.iface_ips(i))
            if link is not None:
                out[i.key] = link
        return out

    def _link(self, i: NbIf, ips: list[IPv4Interface]) -> Link | None:
        if not ips:
            return None
        local_ip = ips[0]
        peer = self.peer_iface(i)
        if i.type == "lag":
            # the peer LAG: the LAG of the peer of any member
            peer = None
            for m in self.lag_members.get(i.name, ()):
                mp = self.peer_iface(m)
                if mp is not None and mp.lag:
                    peer = self.idx.lag_iface.get((self.peer_logical(mp) or "", mp.lag))
                    break
        circuit = self.idx.circuit_by_iface.get(i.key)
        if peer is not None:
            peer_ips = [x for x in self.iface_ips(peer) if x.network == local_ip.network]
            return Link(i, local_ip, self.peer_logical(peer), peer_ips[0].ip if peer_ips else None, peer, circuit)
        if circuit is not None and self.idx.circuit_campus_ends.get(circuit.key, 0) == 1 and self.cabled(i):
            return Link(i, local_ip, None, other_host(local_ip), None, circuit)
        return None

    @cached_property
    def ospf_local(self) -> frozenset[str]:
        """Keys of the interfaces with an OSPF adjacency (tag ``ospf`` on both ends of a routed link)."""
        return frozenset(key for key, link in self.links.items()
                         if link.peer_iface is not None and OSPF_TAG in link.local.tags
                         and OSPF_TAG in link.peer_iface.tags)

    @property
    def runs_ospf(self) -> bool:
        return bool(self.ospf_local)

    @cached_property
    def evpn_on(self) -> bool:
        return self.evpn_of(self.name)
