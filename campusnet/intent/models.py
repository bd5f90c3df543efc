"""The typed intended configuration of one device: what NetBox says, computed, before any template.

Every value a template prints is here, already derived (names normalised for the platform, VLAN
ranges compacted, route distinguishers and wildcard masks computable by attribute access only).
Templates loop over these models and test what is defined; they never compute.

One class per area (AVD's structured-config spirit). :class:`DeviceIntent` is the root. No model here
holds a lab name or a lab twin: the linux-frr emulation of a lab device is a separate intent, built by
:mod:`campusnet.intent.emulation` (``Pipeline.emulations``), and the Linux/OVS plumbing of a linux-frr
intent is computed from it by :func:`campusnet.intent.emulation.plumbing`.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------------------------------------
# Secrets: never in the intent as values, only as references resolved at render time
# --------------------------------------------------------------------------------------------------------
class SecretRef(_Model):
    """A secret named in a config context as ``{"secret_ref": NAME}``; resolved by the renderer."""

    secret_ref: str


Secret = str | SecretRef


# --------------------------------------------------------------------------------------------------------
# System and services
# --------------------------------------------------------------------------------------------------------
class System(_Model):
    hostname: str
    site: str
    role: str
    platform: str  # NetBox platform slug this intent is for
    tenant: str | None = None
    description: str = ""
    router_id: IPv4Address | None = None
    ip_forwarding: bool = True
    ipv6_forwarding: bool = False
    lab: bool = False  # device is tagged `lab`
    vc_members: tuple[str, ...] = ()  # NetBox member devices when this is a virtual chassis


class Ntp(_Model):
    servers: tuple[IPv4Address, ...]
    source_interface: str | None = None


class Syslog(_Model):
    hosts: tuple[IPv4Address, ...]
    source_interface: str | None = None
    level: str = "informational"
    facility: str | None = None


class Snmp(_Model):
    community: Secret
    location: str = ""
    contact: str = ""
    trap_hosts: tuple[IPv4Address, ...] = ()
    source_interface: str | None = None


class Aaa(_Model):
    scheme: str  # HWTACACS scheme / template name
    servers: tuple[IPv4Address, ...]
    key: Secret
    source_interface: str | None = None


class Services(_Model):
    domain: str | None = None
    dns_servers: tuple[IPv4Address, ...] = ()
    ntp: Ntp | None = None
    syslog: Syslog | None = None
    snmp: Snmp | None = None
    aaa: Aaa | None = None
    dhcp_relay: bool = False  # any SVI relays DHCP (global `dhcp enable`)


# --------------------------------------------------------------------------------------------------------
# VLANs
# --------------------------------------------------------------------------------------------------------
class VlanRange(_Model):
    """``start`` to ``end`` inclusive; ``end == start`` for a single VLAN."""

    start: int
    end: int


class Vlan(_Model):
    vid: int
    name: str
    description: str = ""


class Vlans(_Model):
    vlans: tuple[Vlan, ...] = ()
    ranges: tuple[VlanRange, ...] = ()  # all vids, compacted (`vlan batch`)
    vids_csv: str = ""  # "10,20,30" (OVS syntax)


# --------------------------------------------------------------------------------------------------------
# Interfaces
# --------------------------------------------------------------------------------------------------------
class Switchport(_Model):
    mode: Literal["access", "trunk"]
    access_vlan: int | None = None
    native_vlan: int | None = None
    allowed_vlans: tuple[int, ...] = ()
    allowed_ranges: tuple[VlanRange, ...] = ()
    allowed_csv: str = ""  # OVS `trunks=` syntax
    allow_all: bool = False  # NetBox mode tagged-all


class OspfInterface(_Model):
    process_id: int
    area: str  # dotted, "0.0.0.0"
    network_type: Literal["p2p", "broadcast"] | None = None
    passive: bool = False
    cost: int | None = None
    hello_interval: int | None = None
    dead_interval: int | None = None


class Vrrp(_Model):
    vrid: int
    version: Literal[2, 3]
    virtual_ip: IPv4Address
    priority: int
    preempt: bool = True
    virtual_mac: str  # 00:00:5e:00:01:<vrid>
    macvlan: str  # Linux macvlan name for FRR vrrpd in the lab (vrrp4-<vrid>...)


class PeerRef(_Model):
    """Where this interface's cable path ends (for descriptions and the lab)."""

    device: str | None = None
    interface: str | None = None
    circuit: str | None = None  # "provider/cid"


class _IfBase(_Model):
    name: str  # platform name
    netbox_name: str  # NetBox name (on the VC member that owns it)
    netbox_device: str  # NetBox device (the VC member for a virtual chassis)
    description: str = ""
    enabled: bool = True
    mtu: int | None = None


class EthernetInterface(_IfBase):
    kind: Literal["ethernet"] = "ethernet"
    peer: PeerRef | None = None
    switchport: Switchport | None = None
    lag: str | None = None  # platform name of the parent LAG
    lag_id: int | None = None
    lacp_fast: bool = False
    ipv4: IPv4Interface | None = None
    ospf: OspfInterface | None = None


class LagInterface(_IfBase):
    kind: Literal["lag"] = "lag"
    lag_id: int
    lacp: Literal["active", "passive", "static"] = "active"
    lacp_fast: bool = True
    members: tuple[str, ...] = ()  # platform names
    switchport: Switchport | None = None
    ipv4: IPv4Interface | None = None
    ospf: OspfInterface | None = None
    peer_device: str | None = None


class LoopbackInterface(_IfBase):
    kind: Literal["loopback"] = "loopback"
    ipv4: IPv4Interface
    secondary: tuple[IPv4Interface, ...] = ()  # anycast / service addresses (e.g. the VPN's public address)
    ospf: OspfInterface | None = None


class ManagementInterface(_IfBase):
    kind: Literal["management"] = "management"
    vrf: str | None = None
    ipv4: IPv4Interface
    gateway: IPv4Address | None = None


class SviInterface(_IfBase):
    kind: Literal["svi"] = "svi"
    vlan_id: int
    ipv4: IPv4Interface | None = None
    vrrp: tuple[Vrrp, ...] = ()
    dhcp_relay: tuple[IPv4Address, ...] = ()
    ospf: OspfInterface | None = None


Interface = Annotated[
    EthernetInterface | LagInterface | LoopbackInterface | ManagementInterface | SviInterface,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------------------------------------
# Routing
# --------------------------------------------------------------------------------------------------------
class OspfArea(_Model):
    area: str
    networks: tuple[IPv4Network, ...] = ()


class OspfTimers(_Model):
    spf_delay: int
    spf_initial_hold: int
    spf_max_hold: int
    lsa_all: int = 0
    lsa_min_arrival: int = 0


class Ospf(_Model):
    process_id: int
    router_id: IPv4Address
    areas: tuple[OspfArea, ...]
    passive_interfaces: tuple[str, ...] = ()  # platform names (VRP/Comware `silent-interface`)
    default_originate: Literal["always", "normal"] | None = None
    redistribute: tuple[Literal["connected", "static", "bgp"], ...] = ()
    timers: OspfTimers | None = None


class BgpTimers(_Model):
    keepalive: int
    hold: int


class PrefixListEntry(_Model):
    seq: int
    action: Literal["permit", "deny"]
    prefix: IPv4Network
    le: int | None = None


class PrefixList(_Model):
    name: str
    entries: tuple[PrefixListEntry, ...]


class BgpNeighbor(_Model):
    address: IPv4Address
    remote_as: int
    description: str
    kind: Literal["fabric", "core", "provider", "campus"]
    interface: str | None = None  # local interface (platform name) the session runs over
    update_source: str | None = None
    ebgp_multihop: int | None = None
    password: Secret | None = None
    address_families: tuple[Literal["ipv4", "evpn"], ...] = ("ipv4",)
    default_originate: bool = False
    prefix_list_out: str | None = None  # name of a :class:`PrefixList` applied outbound
    next_hop_unchanged: bool = False  # EVPN transit (spines)
    advertisement_interval: int | None = None
    connect_timer: int | None = None


class BgpIpv4(_Model):
    networks: tuple[IPv4Network, ...] = ()
    redistribute: tuple[Literal["connected", "static", "ospf"], ...] = ()
    ospf_process_id: int | None = None  # the OSPF process redistributed (set when "ospf" is)
    neighbors: tuple[IPv4Address, ...] = ()  # activated
    default_originate: tuple[IPv4Address, ...] = ()


class BgpEvpn(_Model):
    neighbors: tuple[IPv4Address, ...]
    advertise_all_vni: bool = True  # the device is a VTEP (has VNIs)
    retain_all: bool = False  # transit only (spine): keep every route, no local VNI import policy


class Bgp(_Model):
    asn: int
    router_id: IPv4Address
    neighbors: tuple[BgpNeighbor, ...]
    ipv4: BgpIpv4
    evpn: BgpEvpn | None = None
    timers: BgpTimers | None = None
    prefix_lists: tuple[PrefixList, ...] = ()


class Vni(_Model):
    vni: int
    vlan_id: int
    name: str
    bridge_domain: int
    rd: str  # "10.255.0.11:10100"
    route_target: str  # "65000:10100"
    gateway: IPv4Interface | None = None  # border leaf holds the VLAN's gateway


class Evpn(_Model):
    vtep_source: IPv4Address
    source_interface: str
    vnis: tuple[Vni, ...]


class StaticRoute(_Model):
    prefix: IPv4Network
    next_hop: IPv4Address | None = None  # None: blackhole / Null0
    distance: int | None = None
    description: str = ""


# --------------------------------------------------------------------------------------------------------
# Remote-access VPN (the staff VPN gateway)
# --------------------------------------------------------------------------------------------------------
class VpnRoute(_Model):
    """A route pushed to VPN clients, and the NetBox prefixes it stands for."""

    network: IPv4Network
    netmask: IPv4Address  # OpenVPN `push "route <network> <netmask>"`
    roles: tuple[str, ...] = ()  # NetBox prefix roles it covers


class Vpn(_Model):
    """OpenVPN in TLS mode with a tun device: a remote-access server for off-campus staff.

    Everything comes from NetBox: ``listen`` is the gateway's public (anycast) address on its loopback,
    ``pool`` the site's prefix of role ``vpn-pool``, ``routes`` the prefixes of the roles in
    :data:`~campusnet.intent.build.common.VPN_ROUTE_ROLES` (collapsed). Key material is referenced by path on the
    node (``key_dir``), never held here; deploy copies it from the state directory's PKI.
    """

    kind: Literal["openvpn"] = "openvpn"
    common_name: str  # the server certificate's CN (the gateway's NetBox name): clients verify it
    listen: IPv4Address
    dns_name: str = ""
    port: int = 1194
    proto: Literal["udp", "tcp"] = "udp"
    device: str = "tun0"
    topology: Literal["subnet"] = "subnet"
    pool: IPv4Network
    server_address: IPv4Interface  # the first host of the pool, on the tun device
    routes: tuple[VpnRoute, ...] = ()
    key_dir: str  # on the node
    keepalive: tuple[int, int] = (2, 10)
    data_ciphers: tuple[str, ...] = ("AES-256-GCM", "AES-128-GCM", "CHACHA20-POLY1305")


# --------------------------------------------------------------------------------------------------------
# The root
# --------------------------------------------------------------------------------------------------------
class DeviceIntent(_Model):
    system: System
    services: Services = Services()
    vlans: Vlans = Vlans()
    interfaces: tuple[Interface, ...] = ()  # in the platform's CLI order
    ospf: Ospf | None = None
    bgp: Bgp | None = None
    evpn: Evpn | None = None
    static_routes: tuple[StaticRoute, ...] = ()
    vpn: Vpn | None = None  # remote-access VPN server (role vpn-gateway)

    @property
    def hostname(self) -> str:
        return self.system.hostname

    @property
    def platform(self) -> str:
        return self.system.platform
