"""The typed Snapshot: everything the automation needs from NetBox, read once, normalised.

Objects refer to each other by **natural keys**, never by nested NetBox JSON:

=====================  ==========================================  =============================
object                 key (``.key``)                              example
=====================  ==========================================  =============================
tenant, tenant group   slug                                        ``it-noc``
contact                name                                        ``Network Operations Centre``
region, site           slug                                        ``jinpenling``
location               ``site/slug``                               ``jinpenling/modular-room``
rack                   ``site/name``                               ``jinpenling/A01``
power panel            ``site/name``                               ``jinpenling/PP-A``
power feed             ``panel/name`` (panel = power panel name)   ``PP-A/A01-A``
device                 name                                        ``jpl-core-1``
interface & ports      ``device:name``                             ``jpl-core-1:10GE1/0/1``
cable                  NetBox id (cables have no natural name)     ``17``
VLAN group             slug                                        ``jinpenling-users``
VLAN                   ``<group slug | site slug | "global">:<vid>`` ``jinpenling-users:110``
VRF                    name (``None`` = global table)              ``mgmt``
prefix, IP address     ``<vrf | "global">:<cidr>``                 ``mgmt:10.254.0.0/24``
FHRP group             NetBox id (VRIDs repeat per LAN)            ``3``
ASN                    the number                                  ``65010``
provider               slug; circuit: ``provider/cid``             ``china-telecom/CT-0001``
L2VPN                  slug                                        ``vni-10100``
=====================  ==========================================  =============================

Every model is frozen and refuses unknown fields. Secrets (FHRP authentication keys) are never stored:
only ``has_auth_key`` says whether one is set. A :class:`Snapshot` round-trips through JSON
(:meth:`Snapshot.save` / :meth:`Snapshot.load`) and offers indexed lookups (:meth:`Snapshot.device`,
:meth:`Snapshot.interfaces_of`, ...), built lazily once per instance.
"""

from __future__ import annotations

import ipaddress
import json
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, JsonValue, SerializerFunctionWrapHandler, ValidationError, model_serializer

from campusnet.errors import DataError

SCHEMA_VERSION = 1

JsonDict = dict[str, JsonValue]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def iface_key(device: str, name: str) -> str:
    """The natural key of a device component: ``device:name``."""
    return f"{device}:{name}"


def vrf_key(vrf: str | None, cidr: str) -> str:
    return f"{vrf or 'global'}:{cidr}"


# --------------------------------------------------------------------------------------------------------
# Organisation
# --------------------------------------------------------------------------------------------------------
class TenantGroup(_Model):
    id: int
    slug: str
    name: str
    parent: str | None = None  # slug

    @property
    def key(self) -> str:
        return self.slug


class Tenant(_Model):
    id: int
    slug: str
    name: str
    group: str | None = None  # tenant group slug
    description: str = ""
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.slug


class Contact(_Model):
    id: int
    name: str
    groups: tuple[str, ...] = ()  # contact group names (NetBox 4.3+: a contact may be in several)
    title: str = ""
    email: str = ""
    phone: str = ""

    @property
    def key(self) -> str:
        return self.name


class ContactAssignment(_Model):
    """A contact's role on one object. ``object_key`` is the object's natural key in this snapshot."""

    id: int
    object_type: str  # "dcim.device", "ipam.prefix", "ipam.vlan", "circuits.circuit", "dcim.site", ...
    object_id: int
    object_key: str  # e.g. device name, "global:10.1.0.0/16", "jinpenling-users:110", "china-telecom/CT-0001"
    contact: str  # contact name
    role: str | None = None  # contact role slug, e.g. "owner"
    priority: str | None = None


# --------------------------------------------------------------------------------------------------------
# Places and power
# --------------------------------------------------------------------------------------------------------
class Region(_Model):
    id: int
    slug: str
    name: str
    parent: str | None = None

    @property
    def key(self) -> str:
        return self.slug


class Site(_Model):
    id: int
    slug: str
    name: str
    status: str
    region: str | None = None
    tenant: str | None = None
    facility: str = ""
    asns: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.slug


class Location(_Model):
    id: int
    site: str
    slug: str
    name: str
    parent: str | None = None  # location slug
    status: str = "active"
    tenant: str | None = None

    @property
    def key(self) -> str:
        return f"{self.site}/{self.slug}"


class Rack(_Model):
    id: int
    name: str
    site: str
    location: str | None = None  # location slug
    status: str
    role: str | None = None
    tenant: str | None = None
    u_height: int
    starting_unit: int = 1
    desc_units: bool = False
    facility_id: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.site}/{self.name}"

    @property
    def units(self) -> range:
        return range(self.starting_unit, self.starting_unit + self.u_height)


class PowerPanel(_Model):
    id: int
    name: str
    site: str
    location: str | None = None

    @property
    def key(self) -> str:
        return f"{self.site}/{self.name}"


class PowerFeed(_Model):
    id: int
    name: str
    power_panel: str  # panel name
    site: str
    rack: str | None = None  # rack key "site/name"
    status: str
    type: str  # primary | redundant
    supply: str  # ac | dc
    phase: str  # single-phase | three-phase
    voltage: int
    amperage: int
    max_utilization: int  # percent
    available_power: int | None = None  # W, as NetBox computed it
    tenant: str | None = None
    cable: int | None = None
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.power_panel}/{self.name}"

    @property
    def capacity_w(self) -> float:
        """Usable power: voltage * amperage * max_utilization % (* 1.732 on three phases, as NetBox does)."""
        kva = abs(self.voltage) * self.amperage * self.max_utilization / 100
        return kva * 1.732 if self.phase == "three-phase" else kva


class PowerPort(_Model):
    id: int
    device: str
    name: str
    type: str | None = None
    allocated_draw: int | None = None  # W
    maximum_draw: int | None = None  # W
    cable: int | None = None
    feed: str | None = None  # power feed key when the port's path ends on a feed
    link_peer: str | None = None  # "device:outlet" when cabled to a PDU outlet, or feed key

    @property
    def key(self) -> str:
        return iface_key(self.device, self.name)


class PowerOutlet(_Model):
    id: int
    device: str
    name: str
    power_port: str | None = None  # the device's own power port feeding this outlet (name)
    feed_leg: str | None = None
    cable: int | None = None
    link_peer: str | None = None  # "device:power port" cabled to this outlet

    @property
    def key(self) -> str:
        return iface_key(self.device, self.name)


# --------------------------------------------------------------------------------------------------------
# Devices and components
# --------------------------------------------------------------------------------------------------------
class DeviceType(_Model):
    manufacturer: str  # manufacturer slug
    model: str
    slug: str
    u_height: float = 1.0
    is_full_depth: bool = True


class VirtualChassis(_Model):
    id: int
    name: str
    domain: str = ""
    master: str | None = None  # device name
    members: tuple[str, ...] = ()  # device names, by vc_position

    @property
    def key(self) -> str:
        return self.name


class Device(_Model):
    id: int
    name: str
    role: str  # device role slug
    device_type: DeviceType
    platform: str | None = None  # platform slug
    site: str
    location: str | None = None  # location slug
    rack: str | None = None  # rack key "site/name"
    position: float | None = None  # lowest U
    face: str | None = None  # front | rear
    status: str
    tenant: str | None = None
    owner: str | None = None  # NetBox 4.5+ native owner (users.Owner name)
    virtual_chassis: str | None = None
    vc_position: int | None = None
    vc_master: bool = False
    primary_ip4: str | None = None  # "10.255.0.1/32"
    primary_ip6: str | None = None
    oob_ip: str | None = None
    serial: str = ""
    asset_tag: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    custom_fields: JsonDict = {}
    bgp_asn: int | None = None  # custom field bgp_asn, as the integer ASN
    config_context: JsonDict = {}  # the rendered per-device config context

    @property
    def key(self) -> str:
        return self.name

    @property
    def manufacturer(self) -> str:
        return self.device_type.manufacturer

    @property
    def units(self) -> tuple[float, ...]:
        """The rack units this device occupies (empty when unracked, zero-U or child)."""
        if self.position is None or self.device_type.u_height <= 0:
            return ()
        n = int(self.device_type.u_height * 2)  # half-U steps
        return tuple(self.position + i / 2 for i in range(n))


class Endpoint(_Model):
    """The far end of a cable or cable path, by natural key."""

    kind: Literal["interface", "frontport", "rearport", "circuittermination", "powerfeed", "powerport",
                  "poweroutlet", "consoleport", "consoleserverport", "providernetwork", "other"]
    device: str | None = None  # device components
    name: str | None = None  # component name, or power feed name, or provider network name
    circuit: str | None = None  # circuit key "provider/cid" for circuit terminations
    term_side: str | None = None  # "A" | "Z"

    @property
    def key(self) -> str:
        if self.device is not None and self.name is not None:
            return iface_key(self.device, self.name)
        if self.circuit is not None:
            return f"{self.circuit}:{self.term_side}"
        return f"{self.kind}:{self.name}"


class FhrpAssignment(_Model):
    group: int  # FHRP group id (its key)
    protocol: str
    group_id: int
    priority: int


class Interface(_Model):
    id: int
    device: str
    name: str
    label: str = ""
    type: str
    enabled: bool = True
    mtu: int | None = None
    speed: int | None = None
    mode: str | None = None  # access | tagged | tagged-all | q-in-q
    untagged_vid: int | None = None
    untagged_vlan: str | None = None  # VLAN key
    tagged_vids: tuple[int, ...] = ()
    tagged_vlans: tuple[str, ...] = ()  # VLAN keys
    lag: str | None = None  # parent LAG interface name (same device or VC)
    parent: str | None = None  # parent interface name (subinterfaces)
    vrf: str | None = None
    mgmt_only: bool = False
    description: str = ""
    mac_address: str | None = None
    tags: tuple[str, ...] = ()
    ip_addresses: tuple[str, ...] = ()  # "10.0.0.0/31", in NetBox order
    cable: int | None = None
    link_peers: tuple[Endpoint, ...] = ()  # the other end of this interface's cable
    connected_endpoints: tuple[Endpoint, ...] = ()  # the far end of the cable path (through patch/circuit)
    connected_reachable: bool | None = None
    fhrp: tuple[FhrpAssignment, ...] = ()

    @property
    def key(self) -> str:
        return iface_key(self.device, self.name)

    @property
    def peer(self) -> Endpoint | None:
        """The single connected endpoint, or None (not cabled, or the path fans out)."""
        return self.connected_endpoints[0] if len(self.connected_endpoints) == 1 else None

    @property
    def is_lag(self) -> bool:
        return self.type == "lag"


class FrontPort(_Model):
    id: int
    device: str
    name: str
    type: str
    rear_port: str | None = None  # rear port name
    rear_port_position: int | None = None
    cable: int | None = None
    link_peers: tuple[Endpoint, ...] = ()

    @property
    def key(self) -> str:
        return iface_key(self.device, self.name)


class RearPort(_Model):
    id: int
    device: str
    name: str
    type: str
    positions: int = 1
    cable: int | None = None
    link_peers: tuple[Endpoint, ...] = ()

    @property
    def key(self) -> str:
        return iface_key(self.device, self.name)


class Cable(_Model):
    id: int
    label: str = ""
    type: str | None = None
    status: str
    tenant: str | None = None
    color: str = ""
    length: float | None = None
    length_unit: str | None = None
    a_terminations: tuple[Endpoint, ...] = ()
    b_terminations: tuple[Endpoint, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return str(self.id)


# --------------------------------------------------------------------------------------------------------
# IPAM
# --------------------------------------------------------------------------------------------------------
class VLANGroup(_Model):
    id: int
    slug: str
    name: str
    scope_type: str | None = None  # "dcim.site", "dcim.location", ...
    scope: str | None = None  # natural key of the scope object
    vid_ranges: tuple[tuple[int, int], ...] = ()
    tenant: str | None = None

    @property
    def key(self) -> str:
        return self.slug


class VLAN(_Model):
    id: int
    vid: int
    name: str
    site: str | None = None
    group: str | None = None  # VLAN group slug
    tenant: str | None = None
    owner: str | None = None  # NetBox native owner (users.Owner name)
    owner_contact: str | None = None  # custom field owner_contact (a contact): VLANs take no contact assignments
    custom_fields: JsonDict = {}
    role: str | None = None
    status: str
    description: str = ""
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.group or self.site or 'global'}:{self.vid}"


class VRF(_Model):
    id: int
    name: str
    rd: str | None = None
    tenant: str | None = None
    enforce_unique: bool = True

    @property
    def key(self) -> str:
        return self.name


class Prefix(_Model):
    id: int
    prefix: str
    vrf: str | None = None
    scope_type: str | None = None
    scope: str | None = None  # natural key of the scope object
    site: str | None = None  # the scope's site (NetBox's cached _site)
    vlan: str | None = None  # VLAN key
    tenant: str | None = None
    owner: str | None = None
    role: str | None = None
    status: str
    is_pool: bool = False
    mark_utilized: bool = False
    description: str = ""
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return vrf_key(self.vrf, self.prefix)

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.prefix, strict=False)


class IPAddress(_Model):
    id: int
    address: str  # "10.0.0.1/31"
    vrf: str | None = None
    tenant: str | None = None
    role: str | None = None  # loopback | vip | vrrp | anycast | ...
    status: str
    dns_name: str = ""
    description: str = ""
    assigned_type: str | None = None  # "dcim.interface", "virtualization.vminterface", "ipam.fhrpgroup"
    device: str | None = None
    interface: str | None = None
    fhrp_group: int | None = None
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return vrf_key(self.vrf, self.address)

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        return ipaddress.ip_interface(self.address).ip

    @property
    def iface(self) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
        return ipaddress.ip_interface(self.address)


class FHRPGroup(_Model):
    id: int
    protocol: str  # vrrp2 | vrrp3 | hsrp | carp | ...
    group_id: int
    name: str = ""
    auth_type: str | None = None
    has_auth_key: bool = False  # the key itself is a secret and never stored
    vips: tuple[str, ...] = ()  # addresses assigned to the group
    description: str = ""

    @property
    def key(self) -> int:
        return self.id


class ASN(_Model):
    id: int
    asn: int
    rir: str | None = None
    tenant: str | None = None
    description: str = ""

    @property
    def key(self) -> int:
        return self.asn


# --------------------------------------------------------------------------------------------------------
# Circuits and overlays
# --------------------------------------------------------------------------------------------------------
class Provider(_Model):
    id: int
    slug: str
    name: str
    asns: tuple[int, ...] = ()
    description: str = ""

    @property
    def key(self) -> str:
        return self.slug


class ProviderNetwork(_Model):
    id: int
    name: str
    provider: str

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.name}"


class CircuitTermination(_Model):
    id: int
    term_side: Literal["A", "Z"]
    site: str | None = None
    location: str | None = None
    provider_network: str | None = None  # provider network key
    port_speed: int | None = None
    xconnect_id: str = ""
    cable: int | None = None
    link_peers: tuple[Endpoint, ...] = ()  # the campus device port (or patch panel) it is cabled to
    connected_endpoints: tuple[Endpoint, ...] = ()  # the campus interface at the end of the path

    @property
    def interface(self) -> Endpoint | None:
        """The device interface this end is cabled to (through patch panels), if any."""
        for ep in (*self.connected_endpoints, *self.link_peers):
            if ep.kind == "interface":
                return ep
        return None


class Circuit(_Model):
    id: int
    cid: str
    provider: str
    type: str  # circuit type slug
    status: str
    tenant: str | None = None
    owner: str | None = None
    commit_rate: int | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    termination_a: CircuitTermination | None = None
    termination_z: CircuitTermination | None = None

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.cid}"

    @property
    def terminations(self) -> tuple[CircuitTermination, ...]:
        return tuple(t for t in (self.termination_a, self.termination_z) if t is not None)


class L2VPNTermination(_Model):
    id: int
    kind: Literal["vlan", "interface", "vminterface", "other"]
    vlan: str | None = None  # VLAN key
    vid: int | None = None
    device: str | None = None
    interface: str | None = None


class L2VPN(_Model):
    id: int
    slug: str
    name: str
    type: str  # vxlan-evpn, vxlan, vpls, ...
    identifier: int | None = None  # the VNI for VXLAN
    status: str = "active"
    tenant: str | None = None
    tags: tuple[str, ...] = ()
    terminations: tuple[L2VPNTermination, ...] = ()

    @property
    def key(self) -> str:
        return self.slug


# --------------------------------------------------------------------------------------------------------
# Catalogue
# --------------------------------------------------------------------------------------------------------
class Tag(_Model):
    id: int
    slug: str
    name: str
    color: str = ""

    @property
    def key(self) -> str:
        return self.slug


class Platform(_Model):
    id: int
    slug: str
    name: str
    manufacturer: str | None = None

    @property
    def key(self) -> str:
        return self.slug


class DeviceRole(_Model):
    id: int
    slug: str
    name: str

    @property
    def key(self) -> str:
        return self.slug


class ConfigContext(_Model):
    """A config context as defined (the rendered per-device result is :attr:`Device.config_context`)."""

    id: int
    name: str
    weight: int = 1000
    is_active: bool = True
    data: JsonDict = {}


# --------------------------------------------------------------------------------------------------------
# The root
# --------------------------------------------------------------------------------------------------------
class ChangelogMark(_Model):
    """Where a snapshot stands in NetBox's changelog: the base of the next incremental read."""

    change_id: int  # the highest ObjectChange id (main's) the snapshot reflects; 0: none recorded
    time: str | None = None  # NetBox's time of that change
    mode: Literal["full", "incremental"] = "full"
    changes: int = 0  # changelog entries applied (incremental)
    reread: int = 0  # objects re-read by id (incremental)
    fallback: str | None = None  # why a full read was made instead of an incremental one ("E23x: ...")


class SnapshotSource(_Model):
    url: str
    read_at: datetime
    netbox_version: str
    branch: str | None = None
    limit: str | None = None  # the --limit filter the snapshot was cut with, if any
    requests: int = 0
    seconds: float = 0.0
    method: str = ""  # "rest", "graphql", ...
    changelog: ChangelogMark | None = None  # set by incremental reads (campusnet.sot.incremental)

    @model_serializer(mode="wrap")
    def _drop_unset_changelog(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # a snapshot read without the changelog serialises exactly as before the field existed
        out = cast(dict[str, Any], handler(self))
        if out.get("changelog") is None:
            out.pop("changelog", None)
        return out


class Snapshot(_Model):
    """Everything the automation reads from NetBox. Build with :func:`campusnet.sot.reader.read_snapshot`."""

    schema_version: int = SCHEMA_VERSION
    source: SnapshotSource

    tenant_groups: tuple[TenantGroup, ...] = ()
    tenants: tuple[Tenant, ...] = ()
    contacts: tuple[Contact, ...] = ()
    contact_assignments: tuple[ContactAssignment, ...] = ()
    regions: tuple[Region, ...] = ()
    sites: tuple[Site, ...] = ()
    locations: tuple[Location, ...] = ()
    racks: tuple[Rack, ...] = ()
    power_panels: tuple[PowerPanel, ...] = ()
    power_feeds: tuple[PowerFeed, ...] = ()
    power_ports: tuple[PowerPort, ...] = ()
    power_outlets: tuple[PowerOutlet, ...] = ()
    tags: tuple[Tag, ...] = ()
    platforms: tuple[Platform, ...] = ()
    device_roles: tuple[DeviceRole, ...] = ()
    virtual_chassis: tuple[VirtualChassis, ...] = ()
    devices: tuple[Device, ...] = ()
    interfaces: tuple[Interface, ...] = ()
    front_ports: tuple[FrontPort, ...] = ()
    rear_ports: tuple[RearPort, ...] = ()
    cables: tuple[Cable, ...] = ()
    vlan_groups: tuple[VLANGroup, ...] = ()
    vlans: tuple[VLAN, ...] = ()
    vrfs: tuple[VRF, ...] = ()
    prefixes: tuple[Prefix, ...] = ()
    ip_addresses: tuple[IPAddress, ...] = ()
    fhrp_groups: tuple[FHRPGroup, ...] = ()
    asns: tuple[ASN, ...] = ()
    providers: tuple[Provider, ...] = ()
    provider_networks: tuple[ProviderNetwork, ...] = ()
    circuits: tuple[Circuit, ...] = ()
    l2vpns: tuple[L2VPN, ...] = ()
    config_contexts: tuple[ConfigContext, ...] = ()

    # -- persistence -----------------------------------------------------------------------------------
    def save(self, path: Path | str) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.model_dump_json(indent=1) + "\n", encoding="utf-8")
        return p

    @classmethod
    def load(cls, path: Path | str) -> Snapshot:
        p = Path(path)
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError("snapshot file not found", obj=str(p), code="E202") from None
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(f"not a readable JSON snapshot ({exc})", obj=str(p), code="E202") from None
        version = raw.get("schema_version") if isinstance(raw, dict) else None
        if version != SCHEMA_VERSION:
            raise DataError(f"snapshot schema_version {version!r}, this campusnet reads {SCHEMA_VERSION}: "
                            "take a new snapshot", obj=str(p), field="schema_version", code="E202")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            raise DataError(f"{first['msg']} ({exc.error_count()} error(s))", obj=str(p), field=loc,
                            code="E202") from None

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Snapshot:
        """A copy with ``update`` applied; the lookup indexes are rebuilt for the copy, never inherited."""
        new = super().model_copy(update=update, deep=deep)
        for name in _INDEX_NAMES:
            new.__dict__.pop(name, None)
        return new

    # -- indexes (built lazily once per instance; a frozen model never changes under them) ---------------
    @cached_property
    def _devices(self) -> dict[str, Device]:
        return {d.name: d for d in self.devices}

    @cached_property
    def _interfaces(self) -> dict[str, Interface]:
        return {i.key: i for i in self.interfaces}

    @cached_property
    def _interfaces_by_device(self) -> dict[str, list[Interface]]:
        out: dict[str, list[Interface]] = defaultdict(list)
        for i in self.interfaces:
            out[i.device].append(i)
        return out

    @cached_property
    def _power_ports_by_device(self) -> dict[str, list[PowerPort]]:
        out: dict[str, list[PowerPort]] = defaultdict(list)
        for p in self.power_ports:
            out[p.device].append(p)
        return out

    @cached_property
    def _owners(self) -> dict[tuple[str, str], list[ContactAssignment]]:
        out: dict[tuple[str, str], list[ContactAssignment]] = defaultdict(list)
        for a in self.contact_assignments:
            out[(a.object_type, a.object_key)].append(a)
        return out

    @cached_property
    def _ips_by_interface(self) -> dict[str, list[IPAddress]]:
        out: dict[str, list[IPAddress]] = defaultdict(list)
        for ip in self.ip_addresses:
            if ip.device and ip.interface:
                out[iface_key(ip.device, ip.interface)].append(ip)
        return out

    @cached_property
    def _vlans(self) -> dict[str, VLAN]:
        return {v.key: v for v in self.vlans}

    @cached_property
    def _racks(self) -> dict[str, Rack]:
        return {r.key: r for r in self.racks}

    @cached_property
    def _feeds(self) -> dict[str, PowerFeed]:
        return {f.key: f for f in self.power_feeds}

    @cached_property
    def _cables(self) -> dict[int, Cable]:
        return {c.id: c for c in self.cables}

    @cached_property
    def _vc(self) -> dict[str, VirtualChassis]:
        return {v.name: v for v in self.virtual_chassis}

    @cached_property
    def _circuits(self) -> dict[str, Circuit]:
        return {c.key: c for c in self.circuits}

    @cached_property
    def _fhrp(self) -> dict[int, FHRPGroup]:
        return {g.id: g for g in self.fhrp_groups}

    @cached_property
    def _tenants(self) -> dict[str, Tenant]:
        return {t.slug: t for t in self.tenants}

    # -- lookups -----------------------------------------------------------------------------------------
    def device(self, name: str) -> Device:
        try:
            return self._devices[name]
        except KeyError:
            raise DataError("no such device in the snapshot", obj=name) from None

    def has_device(self, name: str) -> bool:
        return name in self._devices

    def interface(self, device: str, name: str | None = None) -> Interface:
        """``interface("sw1", "GE1/0/1")`` or ``interface("sw1:GE1/0/1")``."""
        key = device if name is None else iface_key(device, name)
        try:
            return self._interfaces[key]
        except KeyError:
            raise DataError("no such interface in the snapshot", obj=key) from None

    def find_interface(self, key: str) -> Interface | None:
        return self._interfaces.get(key)

    def interfaces_of(self, device: str) -> list[Interface]:
        return list(self._interfaces_by_device.get(device, ()))

    def lag_members(self, device: str, lag: str) -> list[Interface]:
        """Members of LAG ``device:lag``; for a virtual chassis, members on every chassis."""
        dev = self.device(device)
        devices = self.vc_members(dev.virtual_chassis) if dev.virtual_chassis else [dev]
        return [i for d in devices for i in self.interfaces_of(d.name) if i.lag == lag]

    def ips_of(self, device: str, interface: str | None = None) -> list[IPAddress]:
        if interface is not None:
            return list(self._ips_by_interface.get(iface_key(device, interface), ()))
        return [ip for ip in self.ip_addresses if ip.device == device]

    def power_ports_of(self, device: str) -> list[PowerPort]:
        return list(self._power_ports_by_device.get(device, ()))

    def devices_in_rack(self, rack_key: str) -> list[Device]:
        return [d for d in self.devices if d.rack == rack_key]

    def feeds_of_rack(self, rack_key: str) -> list[PowerFeed]:
        return [f for f in self.power_feeds if f.rack == rack_key]

    def rack(self, key: str) -> Rack:
        try:
            return self._racks[key]
        except KeyError:
            raise DataError("no such rack in the snapshot", obj=key) from None

    def feed(self, key: str) -> PowerFeed | None:
        return self._feeds.get(key)

    def vlan(self, key: str) -> VLAN | None:
        return self._vlans.get(key)

    def cable(self, cable_id: int) -> Cable | None:
        return self._cables.get(cable_id)

    def circuit(self, key: str) -> Circuit | None:
        return self._circuits.get(key)

    def fhrp_group(self, group: int) -> FHRPGroup | None:
        return self._fhrp.get(group)

    def tenant(self, slug: str) -> Tenant | None:
        return self._tenants.get(slug)

    def vc(self, name: str) -> VirtualChassis | None:
        return self._vc.get(name)

    def vc_members(self, name: str) -> list[Device]:
        return sorted((d for d in self.devices if d.virtual_chassis == name),
                      key=lambda d: (d.vc_position or 0, d.name))

    def assignments(self, object_type: str, key: str) -> list[ContactAssignment]:
        return list(self._owners.get((object_type, key), ()))

    def owners(self, object_type: str, key: str) -> list[str]:
        """Contact names assigned to the object with role ``owner``."""
        return [a.contact for a in self._owners.get((object_type, key), ()) if a.role == "owner"]

    def devices_tagged(self, tag: str) -> list[Device]:
        return [d for d in self.devices if tag in d.tags]


_INDEX_NAMES = tuple(n for n, v in vars(Snapshot).items() if isinstance(v, cached_property))
