"""One frozen pydantic model per NetBox object type ("kind"), written in YAML by natural key.

A model's fields are NetBox's own API field names; a reference to another object is written as that
object's natural key (a slug, a name, or a few fields that together name it: an interface is
``device`` + ``name``). The seed turns a model into an API payload with :meth:`Obj.payload`, replacing
references by ids through a resolver.

Class variables describe each kind to the generic seed engine:

- ``KIND``/``ENDPOINT``: ``dcim.devices`` / ``dcim/devices``;
- ``KEY``: the model fields that form the natural key (unique in the design data);
- ``XKEY``: how to read the same key back from NetBox's JSON (``"device>dcim.devices"`` = the id in
  field ``device`` is a ``dcim.devices`` object: use its natural key; ``"object_id>@object_type"`` = the
  kind comes from field ``object_type``);
- ``REFS``: references (API field, target kind, model fields forming the target key);
- ``LOCAL``: construct-only fields (never sent to NetBox, e.g. ``owner_contact``, ``loopback``);
- ``LATE``: API fields written in a second pass (they point at objects created later, e.g.
  ``primary_ip4``);
- ``IMMUTABLE``: API fields that belong to the identity and are not compared on update.

A field left out of the YAML (``None``) is not managed: the seed neither sends nor compares it.
List fields (``tags``…) default to empty and *are* managed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

Key = tuple[Any, ...]
#: resolve(kind, key, field) -> NetBox id; raises DataError naming the field when the target is unknown
Resolver = Callable[[str, Key, str], int]
#: lookup(kind, id) -> natural key of an existing NetBox object, or None
Lookup = Callable[[str, int], Key | None]


def key_str(key: Key) -> str:
    """A natural key as one readable string.

    >>> key_str(("jpl-core-1", "25GE1/0/1"))
    'jpl-core-1/25GE1/0/1'
    >>> key_str((None, "10.10.0.0/16"))
    '10.10.0.0/16'
    """
    parts: list[str] = []
    for k in key:
        if k is None:
            continue
        parts.append(key_str(k) if isinstance(k, tuple) else str(k))
    return "/".join(parts)


class Ref(NamedTuple):
    field: str  # the API field that receives the id (or list of ids)
    kind: str  # target kind
    key_from: tuple[str, ...]  # model fields forming the target's key, in order
    many: bool = False  # a list of single-field keys
    fallback: tuple[tuple[str, str], ...] = ()  # (field, field to use when it is None)


def _tags() -> Ref:
    return Ref("tags", "extras.tags", ("tags",), many=True)


def _tenant() -> Ref:
    return Ref("tenant", "tenancy.tenants", ("tenant",))


class Spec(BaseModel):
    """Base of every YAML model: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Obj(Spec):
    KIND: ClassVar[str] = ""
    ENDPOINT: ClassVar[str] = ""
    KEY: ClassVar[tuple[str, ...]] = ("slug",)
    XKEY: ClassVar[tuple[str, ...]] = ()
    REFS: ClassVar[tuple[Ref, ...]] = ()
    LOCAL: ClassVar[frozenset[str]] = frozenset()
    LATE: ClassVar[frozenset[str]] = frozenset()
    IMMUTABLE: ClassVar[frozenset[str]] = frozenset()
    OBJECT_TYPE: ClassVar[str] = ""  # content type, for generic references (contact assignments…)
    CONTACTS: ClassVar[bool] = True  # NetBox accepts contact assignments for this kind

    def key(self) -> Key:
        return tuple(getattr(self, f) for f in self.KEY)

    def describe(self) -> str:
        return f"{self.KIND} '{key_str(self.key())}'"

    def _ref_key(self, ref: Ref) -> Key:
        fb = dict(ref.fallback)
        vals = []
        for f in ref.key_from:
            v = getattr(self, f)
            if v is None and f in fb:
                v = getattr(self, fb[f])
            vals.append(v)
        return tuple(vals)

    def refs(self) -> list[tuple[str, str, Key]]:
        """Every (api field, kind, key) this object points at (for reference checks)."""
        found: list[tuple[str, str, Key]] = []
        for r in self.REFS:
            if r.many:
                for item in getattr(self, r.key_from[0]) or []:
                    found.append((r.field, r.kind, (item,)))
                continue
            key = self._ref_key(r)
            if key[-1] is not None:
                found.append((r.field, r.kind, key))
        return found

    def payload(self, resolve: Resolver, phase: str | None = None) -> dict[str, Any]:
        """The API payload: model fields minus construct fields, references replaced by ids.
        ``phase`` ``early``: without the LATE fields; ``late``: only them; None: everything."""
        skip = set(self.LOCAL)
        for r in self.REFS:
            skip.update(r.key_from)
            skip.update(f for _, f in r.fallback)
        data = {k: v for k, v in self.model_dump(mode="json", exclude=skip).items() if v is not None}
        for r in self.REFS:
            if phase is not None and (r.field in self.LATE) != (phase == "late"):
                continue
            if r.many:
                items = getattr(self, r.key_from[0])
                if items is None:
                    continue
                data[r.field] = sorted(resolve(r.kind, (x,), r.field) for x in items)
                continue
            key = self._ref_key(r)
            if key[-1] is None:
                continue
            data[r.field] = resolve(r.kind, key, r.field)
        data = self.adjust(data, resolve)
        if phase == "late":
            return {k: v for k, v in data.items() if k in self.LATE}
        if phase == "early":
            return {k: v for k, v in data.items() if k not in self.LATE}
        return data

    def adjust(self, data: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
        """Per-kind payload changes (generic foreign keys, custom fields…)."""
        return data

    @classmethod
    def xkey(cls) -> tuple[str, ...]:
        return cls.XKEY or cls.KEY

    @classmethod
    def key_fields(cls) -> list[str]:
        """API fields needed to read the natural key from NetBox's JSON."""
        return [x.split(">")[0] for x in cls.xkey()]

    @classmethod
    def existing_key(cls, js: dict[str, Any], lookup: Lookup) -> Key | None:
        """The natural key of an object as NetBox returned it (None: not expressible, e.g. dangling)."""
        out: list[Any] = []
        for spec in cls.xkey():
            if ">" not in spec:
                out.append(js.get(spec))
                continue
            field, kind = spec.split(">")
            raw = js.get(field)
            if isinstance(raw, dict):
                raw = raw.get("id")
            if kind.startswith("@"):
                kind = OBJECT_TYPE_KIND.get(str(js.get(kind[1:])), "")
                sub = lookup(kind, raw) if raw is not None and kind else None
                if sub is None:
                    return None
                out.append(sub)
                continue
            if raw is None:
                out.append(None)
                continue
            sub = lookup(kind, raw)
            if sub is None:
                return None
            out.extend(sub)
        return tuple(out)


# ------------------------------------------------------------------------------------------- extras
class Tag(Obj):
    KIND = "extras.tags"
    ENDPOINT = "extras/tags"
    name: str
    slug: str
    color: str = "9e9e9e"
    description: str | None = None


class CustomField(Obj):
    KIND = "extras.custom-fields"
    ENDPOINT = "extras/custom-fields"
    KEY = ("name",)
    name: str
    label: str | None = None
    type: str
    object_types: list[str]
    related_object_type: str | None = None
    description: str | None = None
    required: bool = False


class ConfigContext(Obj):
    KIND = "extras.config-contexts"
    ENDPOINT = "extras/config-contexts"
    KEY = ("name",)
    REFS = (
        Ref("regions", "dcim.regions", ("regions",), many=True),
        Ref("sites", "dcim.sites", ("sites",), many=True),
        Ref("roles", "dcim.device-roles", ("roles",), many=True),
        Ref("platforms", "dcim.platforms", ("platforms",), many=True),
        Ref("device_types", "dcim.device-types", ("device_types",), many=True),
        Ref("tenants", "tenancy.tenants", ("tenants",), many=True),
    )
    name: str
    weight: int = 1000
    description: str | None = None
    is_active: bool = True
    data: dict[str, Any]
    regions: list[str] = []
    sites: list[str] = []
    roles: list[str] = []
    platforms: list[str] = []
    device_types: list[str] = []
    tenants: list[str] = []
    tags: list[str] = []  # sent as slugs: the config-context API takes tag slugs, not ids

    def refs(self) -> list[tuple[str, str, Key]]:
        return [*super().refs(), *(("tags", "extras.tags", (t,)) for t in self.tags)]

    def adjust(self, data: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
        data["tags"] = sorted(self.tags)
        return data


# ------------------------------------------------------------------------------------------ tenancy
class TenantGroup(Obj):
    KIND = "tenancy.tenant-groups"
    ENDPOINT = "tenancy/tenant-groups"
    name: str
    slug: str
    description: str | None = None


class Tenant(Obj):
    KIND = "tenancy.tenants"
    ENDPOINT = "tenancy/tenants"
    REFS = (Ref("group", "tenancy.tenant-groups", ("group",)),)
    name: str
    slug: str
    group: str | None = None
    description: str | None = None


class ContactGroup(Obj):
    KIND = "tenancy.contact-groups"
    ENDPOINT = "tenancy/contact-groups"
    name: str
    slug: str
    description: str | None = None


class ContactRole(Obj):
    KIND = "tenancy.contact-roles"
    ENDPOINT = "tenancy/contact-roles"
    name: str
    slug: str
    description: str | None = None


class Contact(Obj):
    KIND = "tenancy.contacts"
    ENDPOINT = "tenancy/contacts"
    KEY = ("name",)
    REFS = (Ref("groups", "tenancy.contact-groups", ("groups",), many=True),)
    name: str
    groups: list[str] = []
    title: str | None = None
    phone: str | None = None
    email: str | None = None
    description: str | None = None


class ContactAssignment(Obj):
    """Generated from ``owner_contact`` on owned objects (role ``owner``); may also be written."""

    KIND = "tenancy.contact-assignments"
    ENDPOINT = "tenancy/contact-assignments"
    KEY = ("object_type", "object", "contact", "role")
    XKEY = ("object_type", "object_id>@object_type", "contact>tenancy.contacts", "role>tenancy.contact-roles")
    REFS = (
        Ref("contact", "tenancy.contacts", ("contact",)),
        Ref("role", "tenancy.contact-roles", ("role",)),
    )
    LOCAL = frozenset({"object"})
    IMMUTABLE = frozenset({"object_type", "object_id"})
    object_type: str  # e.g. dcim.device
    object: tuple[Any, ...]  # the natural key of the object
    contact: str
    role: str = "owner"
    priority: str | None = None

    def refs(self) -> list[tuple[str, str, Key]]:
        return [*super().refs(), ("object_id", OBJECT_TYPE_KIND.get(self.object_type, "?"), self.object)]

    def adjust(self, data: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
        data["object_id"] = resolve(OBJECT_TYPE_KIND[self.object_type], self.object, "object_id")
        return data


# ---------------------------------------------------------------------------------- organisation
class Region(Obj):
    KIND = "dcim.regions"
    ENDPOINT = "dcim/regions"
    name: str
    slug: str
    description: str | None = None


class Site(Obj):
    KIND = "dcim.sites"
    ENDPOINT = "dcim/sites"
    REFS = (Ref("region", "dcim.regions", ("region",)), _tenant(), _tags())
    name: str
    slug: str
    status: str = "active"
    region: str | None = None
    tenant: str | None = None
    facility: str | None = None
    time_zone: str | None = None
    description: str | None = None
    tags: list[str] = []


class Location(Obj):
    KIND = "dcim.locations"
    ENDPOINT = "dcim/locations"
    KEY = ("site", "slug")
    XKEY = ("site>dcim.sites", "slug")
    REFS = (
        Ref("site", "dcim.sites", ("site",)),
        Ref("parent", "dcim.locations", ("site", "parent")),
        _tenant(),
        _tags(),
    )
    LOCAL = frozenset({"owner_contact"})
    site: str
    name: str
    slug: str
    parent: str | None = None
    status: str = "active"
    tenant: str | None = None
    facility: str | None = None
    description: str | None = None
    tags: list[str] = []
    owner_contact: str | None = None


class RackRole(Obj):
    KIND = "dcim.rack-roles"
    ENDPOINT = "dcim/rack-roles"
    name: str
    slug: str
    color: str = "9e9e9e"
    description: str | None = None


class Rack(Obj):
    KIND = "dcim.racks"
    ENDPOINT = "dcim/racks"
    KEY = ("site", "name")
    XKEY = ("site>dcim.sites", "name")
    REFS = (
        Ref("site", "dcim.sites", ("site",)),
        Ref("location", "dcim.locations", ("site", "location")),
        Ref("role", "dcim.rack-roles", ("role",)),
        _tenant(),
        _tags(),
    )
    LOCAL = frozenset({"owner_contact"})
    site: str
    name: str
    location: str | None = None
    role: str | None = None
    tenant: str | None = None
    status: str = "active"
    u_height: int = 42
    width: int = 19
    form_factor: str | None = "4-post-cabinet"
    description: str | None = None
    tags: list[str] = []
    owner_contact: str | None = None


# ----------------------------------------------------------------------------------- device types
class Manufacturer(Obj):
    KIND = "dcim.manufacturers"
    ENDPOINT = "dcim/manufacturers"
    name: str
    slug: str
    description: str | None = None


class Platform(Obj):
    KIND = "dcim.platforms"
    ENDPOINT = "dcim/platforms"
    REFS = (Ref("manufacturer", "dcim.manufacturers", ("manufacturer",)),)
    LOCAL = frozenset({"loopback_interface"})
    name: str
    slug: str
    manufacturer: str | None = None
    description: str | None = None
    loopback_interface: str = "LoopBack0"  # construct: the loopback's name on this platform


class DeviceRole(Obj):
    KIND = "dcim.device-roles"
    ENDPOINT = "dcim/device-roles"
    name: str
    slug: str
    color: str = "9e9e9e"
    vm_role: bool = False
    description: str | None = None


class InterfaceTemplateSpec(Spec):
    """``name`` may hold one range, ``GigabitEthernet1/0/[1-24]``."""

    name: str
    type: str
    mgmt_only: bool = False
    description: str | None = None


class PowerPortTemplateSpec(Spec):
    name: str
    type: str = "iec-60320-c14"
    maximum_draw: int | None = None
    allocated_draw: int | None = None


class PowerOutletTemplateSpec(Spec):
    name: str
    type: str = "iec-60320-c13"
    power_port: str | None = None
    feed_leg: str | None = None


class PortTemplateSpec(Spec):
    """A front/rear port pair template per name: ``rear`` is the rear port's name (``{}`` = same number)."""

    name: str
    type: str = "lc"
    rear: str


class DeviceType(Obj):
    KIND = "dcim.device-types"
    ENDPOINT = "dcim/device-types"
    REFS = (Ref("manufacturer", "dcim.manufacturers", ("manufacturer",)),)
    LOCAL = frozenset({"interfaces", "power_ports", "power_outlets", "ports"})
    manufacturer: str
    model: str
    slug: str
    part_number: str | None = None
    u_height: float = 1
    is_full_depth: bool = True
    airflow: str | None = None
    description: str | None = None
    comments: str | None = None
    interfaces: list[InterfaceTemplateSpec] = []
    power_ports: list[PowerPortTemplateSpec] = []
    power_outlets: list[PowerOutletTemplateSpec] = []
    ports: list[PortTemplateSpec] = []


class _Template(Obj):
    KEY = ("device_type", "name")
    XKEY = ("device_type>dcim.device-types", "name")
    REFS: ClassVar[tuple[Ref, ...]] = (Ref("device_type", "dcim.device-types", ("device_type",)),)
    device_type: str
    name: str


class InterfaceTemplate(_Template):
    KIND = "dcim.interface-templates"
    ENDPOINT = "dcim/interface-templates"
    type: str
    mgmt_only: bool = False
    description: str | None = None


class PowerPortTemplate(_Template):
    KIND = "dcim.power-port-templates"
    ENDPOINT = "dcim/power-port-templates"
    type: str = "iec-60320-c14"
    maximum_draw: int | None = None
    allocated_draw: int | None = None


class PowerOutletTemplate(_Template):
    KIND = "dcim.power-outlet-templates"
    ENDPOINT = "dcim/power-outlet-templates"
    REFS = (
        Ref("device_type", "dcim.device-types", ("device_type",)),
        Ref("power_port", "dcim.power-port-templates", ("device_type", "power_port")),
    )
    type: str = "iec-60320-c13"
    power_port: str | None = None
    feed_leg: str | None = None


class RearPortTemplate(_Template):
    KIND = "dcim.rear-port-templates"
    ENDPOINT = "dcim/rear-port-templates"
    type: str = "lc"
    positions: int = 1


class FrontPortTemplate(_Template):
    KIND = "dcim.front-port-templates"
    ENDPOINT = "dcim/front-port-templates"
    REFS = (
        Ref("device_type", "dcim.device-types", ("device_type",)),
        Ref("rear_port", "dcim.rear-port-templates", ("device_type", "rear_port")),
    )
    type: str = "lc"
    rear_port: str

    def adjust(self, data: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
        data["rear_ports"] = [{"position": 1, "rear_port": data.pop("rear_port"), "rear_port_position": 1}]
        return data


# ------------------------------------------------------------------------------------------ power
class PowerPanel(Obj):
    KIND = "dcim.power-panels"
    ENDPOINT = "dcim/power-panels"
    KEY = ("site", "name")
    XKEY = ("site>dcim.sites", "name")
    REFS = (
        Ref("site", "dcim.sites", ("site",)),
        Ref("location", "dcim.locations", ("site", "location")),
        _tags(),
    )
    site: str
    name: str
    location: str | None = None
    description: str | None = None
    tags: list[str] = []


class PowerFeed(Obj):
    KIND = "dcim.power-feeds"
    ENDPOINT = "dcim/power-feeds"
    KEY = ("site", "power_panel", "name")
    XKEY = ("power_panel>dcim.power-panels", "name")
    REFS = (
        Ref("power_panel", "dcim.power-panels", ("site", "power_panel")),
        Ref("rack", "dcim.racks", ("site", "rack")),
        _tenant(),
        _tags(),
    )
    site: str
    power_panel: str
    name: str
    rack: str | None = None
    status: str = "active"
    type: str = "primary"
    supply: str = "ac"
    phase: str = "single-phase"
    voltage: int = 220
    amperage: int = 32
    max_utilization: int = 80
    tenant: str | None = None
    description: str | None = None
    tags: list[str] = []


# ------------------------------------------------------------------------------------------- ipam
class RIR(Obj):
    KIND = "ipam.rirs"
    ENDPOINT = "ipam/rirs"
    name: str
    slug: str
    is_private: bool = False
    description: str | None = None


class ASN(Obj):
    KIND = "ipam.asns"
    ENDPOINT = "ipam/asns"
    KEY = ("asn",)
    REFS = (Ref("rir", "ipam.rirs", ("rir",)), _tenant(), _tags())
    asn: int
    rir: str
    tenant: str | None = None
    description: str | None = None
    tags: list[str] = []


class VRF(Obj):
    KIND = "ipam.vrfs"
    ENDPOINT = "ipam/vrfs"
    KEY = ("name",)
    REFS = (_tenant(), _tags())
    name: str
    rd: str | None = None
    tenant: str | None = None
    enforce_unique: bool = True
    description: str | None = None
    tags: list[str] = []


class IpamRole(Obj):
    KIND = "ipam.roles"
    ENDPOINT = "ipam/roles"
    name: str
    slug: str
    weight: int | None = None
    description: str | None = None


class Aggregate(Obj):
    KIND = "ipam.aggregates"
    ENDPOINT = "ipam/aggregates"
    KEY = ("prefix",)
    REFS = (Ref("rir", "ipam.rirs", ("rir",)), _tenant(), _tags())
    prefix: str
    rir: str
    tenant: str | None = None
    description: str | None = None
    tags: list[str] = []


class VLAN(Obj):
    """VLAN names are unique in the design data (``jpl-b03-teaching``): they are the natural key.

    NetBox 4.7 refuses contact assignments on VLANs, so a VLAN's owner is the custom field
    ``owner_contact`` (object → tenancy.contact)."""

    KIND = "ipam.vlans"
    ENDPOINT = "ipam/vlans"
    KEY = ("name",)
    OBJECT_TYPE = "ipam.vlan"
    CONTACTS = False
    REFS = (
        Ref("site", "dcim.sites", ("site",)),
        Ref("role", "ipam.roles", ("role",)),
        _tenant(),
        _tags(),
    )
    LOCAL = frozenset({"owner_contact"})
    name: str
    vid: int = Field(ge=1, le=4094)
    site: str | None = None
    status: str = "active"
    role: str | None = None
    tenant: str | None = None
    description: str | None = None
    tags: list[str] = []
    owner_contact: str | None = None

    def refs(self) -> list[tuple[str, str, Key]]:
        if not self.owner_contact:
            return super().refs()
        return [*super().refs(), ("custom_fields.owner_contact", "tenancy.contacts", (self.owner_contact,))]

    def adjust(self, data: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
        if self.owner_contact:
            cid = resolve("tenancy.contacts", (self.owner_contact,), "custom_fields.owner_contact")
            data["custom_fields"] = {"owner_contact": cid}
        return data


class Prefix(Obj):
    """``site`` becomes NetBox's scope (``scope_type: dcim.site``, ``scope_id``)."""

    KIND = "ipam.prefixes"
    ENDPOINT = "ipam/prefixes"
    KEY = ("vrf", "prefix")
    XKEY = ("vrf>ipam.vrfs", "prefix")
    OBJECT_TYPE = "ipam.prefix"
    REFS = (
        Ref("vrf", "ipam.vrfs", ("vrf",)),
        Ref("scope_id", "dcim.sites", ("site",)),
        Ref("vlan", "ipam.vlans", ("vlan",)),
        Ref("role", "ipam.roles", ("role",)),
        _tenant(),
        _tags(),
    )
    LOCAL = frozenset({"owner_contact"})
    prefix: str
    vrf: str | None = None
    site: str | None = None
    vlan: str | None = None
    status: str = "active"
    role: str | None = None
    tenant: str | None = None
    is_pool: bool = False
    mark_utilized: bool | None = None
    description: str | None = None
    tags: list[str] = []
    owner_contact: str | None = None

    def adjust(self, data: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
        if "scope_id" in data:
            data["scope_type"] = "dcim.site"
        return data


# --------------------------------------------------------------------------------------- circuits
class Provider(Obj):
    KIND = "circuits.providers"
    ENDPOINT = "circuits/providers"
    REFS = (Ref("asns", "ipam.asns", ("asns",), many=True), _tags())
    name: str
    slug: str
    asns: list[int] = []
    description: str | None = None
    tags: list[str] = []


class CircuitType(Obj):
    KIND = "circuits.circuit-types"
    ENDPOINT = "circuits/circuit-types"
    name: str
    slug: str
    color: str | None = None
    description: str | None = None


class Circuit(Obj):
    """Circuit ids are unique in the design data (NetBox: per provider)."""

    KIND = "circuits.circuits"
    ENDPOINT = "circuits/circuits"
    KEY = ("cid",)
    OBJECT_TYPE = "circuits.circuit"
    REFS = (
        Ref("provider", "circuits.providers", ("provider",)),
        Ref("type", "circuits.circuit-types", ("type",)),
        _tenant(),
        _tags(),
    )
    LOCAL = frozenset({"owner_contact"})
    cid: str
    provider: str
    type: str
    status: str = "active"
    tenant: str | None = None
    commit_rate: int | None = None
    description: str | None = None
    tags: list[str] = []
    owner_contact: str | None = None


class CircuitTermination(Obj):
    """``site`` becomes ``termination_type: dcim.site`` + ``termination_id``."""

    KIND = "circuits.circuit-terminations"
    ENDPOINT = "circuits/circuit-terminations"
    KEY = ("circuit", "term_side")
    XKEY = ("circuit>circuits.circuits", "term_side")
    REFS = (
        Ref("circuit", "circuits.circuits", ("circuit",)),
        Ref("termination_id", "dcim.sites", ("site",)),
        _tags(),
    )
    circuit: str
    term_side: Literal["A", "Z"]
    site: str | None = None
    port_speed: int | None = None
    upstream_speed: int | None = None
    xconnect_id: str | None = None
    description: str | None = None
    tags: list[str] = []

    def adjust(self, data: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
        if "termination_id" in data:
            data["termination_type"] = "dcim.site"
        return data


# ---------------------------------------------------------------------------------------- devices
class VirtualChassis(Obj):
    KIND = "dcim.virtual-chassis"
    ENDPOINT = "dcim/virtual-chassis"
    KEY = ("name",)
    REFS = (Ref("master", "dcim.devices", ("master",)), _tags())
    LATE = frozenset({"master"})
    name: str
    domain: str | None = None
    master: str | None = None
    description: str | None = None
    tags: list[str] = []


class Device(Obj):
    """``loopback``/``mgmt`` are construct fields: they become the loopback and management interfaces,
    their IP addresses, ``primary_ip4`` and ``oob_ip`` (see :func:`campusnet.design.expand.addressing`)."""

    KIND = "dcim.devices"
    ENDPOINT = "dcim/devices"
    KEY = ("name",)
    OBJECT_TYPE = "dcim.device"
    REFS = (
        Ref("device_type", "dcim.device-types", ("device_type",)),
        Ref("role", "dcim.device-roles", ("role",)),
        Ref("platform", "dcim.platforms", ("platform",)),
        Ref("site", "dcim.sites", ("site",)),
        Ref("location", "dcim.locations", ("site", "location")),
        Ref("rack", "dcim.racks", ("site", "rack")),
        Ref("virtual_chassis", "dcim.virtual-chassis", ("virtual_chassis",)),
        Ref("primary_ip4", "ipam.ip-addresses", ("primary_ip4",)),
        Ref("oob_ip", "ipam.ip-addresses", ("oob_ip",)),
        _tenant(),
        _tags(),
    )
    LOCAL = frozenset({"owner_contact", "loopback", "mgmt", "bgp_asn"})
    LATE = frozenset({"primary_ip4", "oob_ip"})
    name: str
    device_type: str
    role: str
    site: str
    tenant: str | None = None
    platform: str | None = None
    location: str | None = None
    rack: str | None = None
    position: float | None = None
    face: str | None = None
    status: str = "active"
    airflow: str | None = None
    serial: str | None = None
    virtual_chassis: str | None = None
    vc_position: int | None = None
    vc_priority: int | None = None
    description: str | None = None
    comments: str | None = None
    tags: list[str] = []
    bgp_asn: int | None = None
    primary_ip4: str | None = None
    oob_ip: str | None = None
    owner_contact: str | None = None
    loopback: str | None = None  # construct: loopback address, e.g. 10.255.0.1/32
    mgmt: str | None = None  # construct: management address, e.g. 10.254.0.1/24

    @model_validator(mode="after")
    def _face_with_position(self) -> Device:
        if self.position is not None and self.face is None:
            object.__setattr__(self, "face", "front")
        return self

    def refs(self) -> list[tuple[str, str, Key]]:
        extra = [("custom_fields.bgp_asn", "ipam.asns", (self.bgp_asn,))] if self.bgp_asn is not None else []
        return [*super().refs(), *extra]

    def adjust(self, data: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
        if self.bgp_asn is not None:
            data["custom_fields"] = {"bgp_asn": resolve("ipam.asns", (self.bgp_asn,), "custom_fields.bgp_asn")}
        return data


class _Component(Obj):
    KEY = ("device", "name")
    XKEY = ("device>dcim.devices", "name")
    REFS: ClassVar[tuple[Ref, ...]] = (Ref("device", "dcim.devices", ("device",)), _tags())
    device: str
    name: str
    description: str | None = None
    tags: list[str] = []


class Interface(_Component):
    """``lag`` names a LAG on ``lag_device`` (default: the same device; on a virtual chassis the master)."""

    KIND = "dcim.interfaces"
    ENDPOINT = "dcim/interfaces"
    REFS = (
        Ref("device", "dcim.devices", ("device",)),
        Ref("lag", "dcim.interfaces", ("lag_device", "lag"), fallback=(("lag_device", "device"),)),
        Ref("untagged_vlan", "ipam.vlans", ("untagged_vlan",)),
        Ref("tagged_vlans", "ipam.vlans", ("tagged_vlans",), many=True),
        Ref("vrf", "ipam.vrfs", ("vrf",)),
        _tags(),
    )
    type: str | None = None
    label: str | None = None
    enabled: bool | None = None
    mgmt_only: bool | None = None
    mtu: int | None = None
    mode: Literal["access", "tagged", "tagged-all"] | None = None
    untagged_vlan: str | None = None
    tagged_vlans: list[str] | None = None
    lag: str | None = None
    lag_device: str | None = None
    vrf: str | None = None


class PowerPort(_Component):
    KIND = "dcim.power-ports"
    ENDPOINT = "dcim/power-ports"
    maximum_draw: int | None = None
    allocated_draw: int | None = None


class PowerOutlet(_Component):
    KIND = "dcim.power-outlets"
    ENDPOINT = "dcim/power-outlets"


class FrontPort(_Component):
    KIND = "dcim.front-ports"
    ENDPOINT = "dcim/front-ports"


class RearPort(_Component):
    KIND = "dcim.rear-ports"
    ENDPOINT = "dcim/rear-ports"


# ----------------------------------------------------------------------------------------- cables
TERM_KINDS: dict[str, tuple[str, str]] = {
    # YAML termination field -> (kind, NetBox object type)
    "interface": ("dcim.interfaces", "dcim.interface"),
    "power_port": ("dcim.power-ports", "dcim.powerport"),
    "power_outlet": ("dcim.power-outlets", "dcim.poweroutlet"),
    "front_port": ("dcim.front-ports", "dcim.frontport"),
    "rear_port": ("dcim.rear-ports", "dcim.rearport"),
}
OBJECT_TYPE_TERM_KIND = {ot: kind for kind, ot in TERM_KINDS.values()} | {
    "dcim.powerfeed": "dcim.power-feeds",
    "circuits.circuittermination": "circuits.circuit-terminations",
}


class Termination(Spec):
    """One cable end: ``device`` + one of interface/power_port/power_outlet/front_port/rear_port;
    or ``site`` + ``power_panel`` + ``power_feed``; or ``circuit`` + ``term_side``."""

    device: str | None = None
    interface: str | None = None
    power_port: str | None = None
    power_outlet: str | None = None
    front_port: str | None = None
    rear_port: str | None = None
    site: str | None = None
    power_panel: str | None = None
    power_feed: str | None = None
    circuit: str | None = None
    term_side: Literal["A", "Z"] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Termination:
        self.target()
        return self

    def target(self) -> tuple[str, str, Key]:
        """(kind, NetBox object type, natural key)."""
        if self.device:
            named = [(f, getattr(self, f)) for f in TERM_KINDS if getattr(self, f)]
            if len(named) != 1:
                raise ValueError("a device termination names exactly one of " + ", ".join(TERM_KINDS))
            f, name = named[0]
            kind, ot = TERM_KINDS[f]
            return kind, ot, (self.device, name)
        if self.power_feed:
            if not (self.site and self.power_panel):
                raise ValueError("a power feed termination needs site, power_panel and power_feed")
            return "dcim.power-feeds", "dcim.powerfeed", (self.site, self.power_panel, self.power_feed)
        if self.circuit and self.term_side:
            return "circuits.circuit-terminations", "circuits.circuittermination", (self.circuit, self.term_side)
        raise ValueError("a termination needs device+port, site+power_panel+power_feed, or circuit+term_side")


class Cable(Obj):
    """Identified by its terminations (both ends, in either order)."""

    KIND = "dcim.cables"
    ENDPOINT = "dcim/cables"
    KEY = ("a", "b")
    REFS = (_tenant(), _tags())
    LOCAL = frozenset({"a", "b"})
    IMMUTABLE = frozenset({"a_terminations", "b_terminations"})
    a: list[Termination] = Field(min_length=1)
    b: list[Termination] = Field(min_length=1)
    type: str | None = None
    status: str = "connected"
    label: str | None = None
    color: str | None = None
    length: float | None = None
    length_unit: str | None = None
    tenant: str | None = None
    description: str | None = None
    tags: list[str] = []

    def key(self) -> Key:
        ends = sorted(tuple(sorted(_term_key(t.target()) for t in side)) for side in (self.a, self.b))
        return tuple(ends)

    def describe(self) -> str:
        (a, b) = self.key()
        return f"dcim.cables '{' + '.join(key_str(t[1]) for t in a)} <> {' + '.join(key_str(t[1]) for t in b)}'"

    def refs(self) -> list[tuple[str, str, Key]]:
        out = super().refs()
        for side, terms in (("a_terminations", self.a), ("b_terminations", self.b)):
            out += [(side, kind, key) for kind, _, key in (t.target() for t in terms)]
        return out

    def adjust(self, data: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
        for side, terms in (("a_terminations", self.a), ("b_terminations", self.b)):
            data[side] = []
            for t in terms:
                kind, ot, key = t.target()
                data[side].append({"object_type": ot, "object_id": resolve(kind, key, side)})
        return data

    @classmethod
    def key_fields(cls) -> list[str]:
        return ["a_terminations", "b_terminations"]

    @classmethod
    def existing_key(cls, js: dict[str, Any], lookup: Lookup) -> Key | None:
        ends = []
        for side in ("a_terminations", "b_terminations"):
            terms = []
            for t in js.get(side) or []:
                kind = OBJECT_TYPE_TERM_KIND.get(t["object_type"])
                k = lookup(kind, t["object_id"]) if kind else None
                if k is None:
                    return None
                terms.append((kind, k))
            ends.append(tuple(sorted(terms)))
        return tuple(sorted(ends))


def _term_key(target: tuple[str, str, Key]) -> tuple[str, Key]:
    return target[0], target[2]


# ------------------------------------------------------------------------------ addresses, FHRP
class FHRPGroup(Obj):
    KIND = "ipam.fhrp-groups"
    ENDPOINT = "ipam/fhrp-groups"
    KEY = ("name",)
    REFS = (_tags(),)
    name: str
    protocol: str = "vrrp3"
    group_id: int
    auth_type: str | None = None
    description: str | None = None
    tags: list[str] = []


class IPAddress(Obj):
    """Addresses are unique in the design data (the key). Assigned to ``device``+``interface`` or to an
    ``fhrp_group`` (a virtual IP), or unassigned."""

    KIND = "ipam.ip-addresses"
    ENDPOINT = "ipam/ip-addresses"
    KEY = ("address",)
    REFS = (
        Ref("vrf", "ipam.vrfs", ("vrf",)),
        Ref("assigned_object_id", "dcim.interfaces", ("device", "interface")),
        Ref("fhrp_group", "ipam.fhrp-groups", ("fhrp_group",)),
        _tenant(),
        _tags(),
    )
    address: str
    vrf: str | None = None
    status: str = "active"
    role: str | None = None
    tenant: str | None = None
    dns_name: str | None = None
    description: str | None = None
    tags: list[str] = []
    device: str | None = None
    interface: str | None = None
    fhrp_group: str | None = None

    def adjust(self, data: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
        if "assigned_object_id" in data:
            data["assigned_object_type"] = "dcim.interface"
        if "fhrp_group" in data:
            data["assigned_object_type"] = "ipam.fhrpgroup"
            data["assigned_object_id"] = data.pop("fhrp_group")
        return data


class FHRPGroupAssignment(Obj):
    KIND = "ipam.fhrp-group-assignments"
    ENDPOINT = "ipam/fhrp-group-assignments"
    KEY = ("group", "device", "interface")
    XKEY = ("group>ipam.fhrp-groups", "interface_id>dcim.interfaces")
    REFS = (
        Ref("group", "ipam.fhrp-groups", ("group",)),
        Ref("interface_id", "dcim.interfaces", ("device", "interface")),
    )
    IMMUTABLE = frozenset({"interface_type", "interface_id", "group"})
    group: str
    device: str
    interface: str
    priority: int = 100

    def adjust(self, data: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
        data["interface_type"] = "dcim.interface"
        return data


# -------------------------------------------------------------------------------------------- vpn
class L2VPN(Obj):
    KIND = "vpn.l2vpns"
    ENDPOINT = "vpn/l2vpns"
    KEY = ("name",)
    REFS = (_tenant(), _tags())
    name: str
    slug: str
    type: str = "vxlan-evpn"
    identifier: int | None = None
    status: str = "active"
    tenant: str | None = None
    description: str | None = None
    tags: list[str] = []


class L2VPNTermination(Obj):
    KIND = "vpn.l2vpn-terminations"
    ENDPOINT = "vpn/l2vpn-terminations"
    KEY = ("l2vpn", "vlan")
    XKEY = ("l2vpn>vpn.l2vpns", "assigned_object_id>ipam.vlans")
    REFS = (
        Ref("l2vpn", "vpn.l2vpns", ("l2vpn",)),
        Ref("assigned_object_id", "ipam.vlans", ("vlan",)),
        _tags(),
    )
    IMMUTABLE = frozenset({"l2vpn", "assigned_object_type", "assigned_object_id"})
    l2vpn: str
    vlan: str
    tags: list[str] = []

    def adjust(self, data: dict[str, Any], resolve: Resolver) -> dict[str, Any]:
        data["assigned_object_type"] = "ipam.vlan"
        return data


# --------------------------------------------------------------------------------------- registry
#: Every kind, in seed (dependency) order.
KINDS: tuple[type[Obj], ...] = (
    Tag, CustomField,
    TenantGroup, Tenant, ContactGroup, ContactRole, Contact,
    Region, Site, Location, RackRole, Rack,
    Manufacturer, Platform, DeviceRole, DeviceType,
    InterfaceTemplate, PowerPortTemplate, PowerOutletTemplate, RearPortTemplate, FrontPortTemplate,
    PowerPanel, PowerFeed,
    RIR, ASN, VRF, IpamRole, Aggregate, VLAN, Prefix,
    Provider, CircuitType, Circuit, CircuitTermination,
    VirtualChassis, Device, Interface, PowerPort, PowerOutlet, RearPort, FrontPort,
    Cable, FHRPGroup, IPAddress, FHRPGroupAssignment,
    L2VPN, L2VPNTermination, ConfigContext, ContactAssignment,
)  # fmt: skip
KIND_MODELS: dict[str, type[Obj]] = {m.KIND: m for m in KINDS}
#: NetBox object type (content type) -> kind, for generic references
OBJECT_TYPE_KIND: dict[str, str] = {m.OBJECT_TYPE: m.KIND for m in KINDS if m.OBJECT_TYPE}
#: Component kinds NetBox creates from device-type templates when a device is created.
TEMPLATE_COMPONENTS: dict[str, str] = {
    "dcim.interface-templates": "dcim.interfaces",
    "dcim.power-port-templates": "dcim.power-ports",
    "dcim.power-outlet-templates": "dcim.power-outlets",
    "dcim.rear-port-templates": "dcim.rear-ports",
    "dcim.front-port-templates": "dcim.front-ports",
}
