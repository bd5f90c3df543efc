"""The merged design as ORM rows with pre-assigned ids: the input of the ``netbox shell`` loader.

Ids are assigned here, per model, from 1 (the loader refuses a NetBox that already holds campus
objects), so every reference — including the "late" ones such as ``primary_ip4`` and a virtual
chassis' ``master`` — is known before anything is written; PostgreSQL checks the foreign keys at commit.

A row is the design object's own API payload (:meth:`campusnet.design.models.Obj.payload`, references
resolved to the pre-assigned ids) plus ``id``. The loader maps API field names onto model fields by
introspection (a foreign key ``site`` → ``site_id``; ``tags`` → tagged items; ``custom_fields`` →
``custom_field_data``; ``"dcim.interface"`` in a type field → its content type).

Components that NetBox instantiates from device-type templates when a device is saved (interfaces here)
are instantiated by the plan, merged with what the design says about them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campusnet.design import models as m
from campusnet.design.load import Design
from campusnet.errors import DataError

#: design kind -> NetBox model label (app_label.ModelName)
MODEL_OF: dict[str, str] = {
    "extras.tags": "extras.Tag",
    "extras.custom-fields": "extras.CustomField",
    "extras.config-contexts": "extras.ConfigContext",
    "tenancy.tenant-groups": "tenancy.TenantGroup",
    "tenancy.tenants": "tenancy.Tenant",
    "tenancy.contact-groups": "tenancy.ContactGroup",
    "tenancy.contact-roles": "tenancy.ContactRole",
    "tenancy.contacts": "tenancy.Contact",
    "tenancy.contact-assignments": "tenancy.ContactAssignment",
    "dcim.regions": "dcim.Region",
    "dcim.sites": "dcim.Site",
    "dcim.locations": "dcim.Location",
    "dcim.rack-roles": "dcim.RackRole",
    "dcim.racks": "dcim.Rack",
    "dcim.manufacturers": "dcim.Manufacturer",
    "dcim.platforms": "dcim.Platform",
    "dcim.device-roles": "dcim.DeviceRole",
    "dcim.device-types": "dcim.DeviceType",
    "dcim.interface-templates": "dcim.InterfaceTemplate",
    "dcim.power-port-templates": "dcim.PowerPortTemplate",
    "dcim.power-outlet-templates": "dcim.PowerOutletTemplate",
    "dcim.rear-port-templates": "dcim.RearPortTemplate",
    "dcim.front-port-templates": "dcim.FrontPortTemplate",
    "dcim.power-panels": "dcim.PowerPanel",
    "dcim.power-feeds": "dcim.PowerFeed",
    "ipam.rirs": "ipam.RIR",
    "ipam.asns": "ipam.ASN",
    "ipam.vrfs": "ipam.VRF",
    "ipam.roles": "ipam.Role",
    "ipam.aggregates": "ipam.Aggregate",
    "ipam.vlans": "ipam.VLAN",
    "ipam.prefixes": "ipam.Prefix",
    "circuits.providers": "circuits.Provider",
    "circuits.circuit-types": "circuits.CircuitType",
    "circuits.circuits": "circuits.Circuit",
    "circuits.circuit-terminations": "circuits.CircuitTermination",
    "dcim.virtual-chassis": "dcim.VirtualChassis",
    "dcim.devices": "dcim.Device",
    "dcim.interfaces": "dcim.Interface",
    "dcim.power-ports": "dcim.PowerPort",
    "dcim.power-outlets": "dcim.PowerOutlet",
    "dcim.rear-ports": "dcim.RearPort",
    "dcim.front-ports": "dcim.FrontPort",
    "dcim.cables": "dcim.Cable",
    "ipam.fhrp-groups": "ipam.FHRPGroup",
    "ipam.ip-addresses": "ipam.IPAddress",
    "ipam.fhrp-group-assignments": "ipam.FHRPGroupAssignment",
    "vpn.l2vpns": "vpn.L2VPN",
    "vpn.l2vpn-terminations": "vpn.L2VPNTermination",
}

#: kinds the loader saves one by one through the model's save() (few objects, side effects worth having)
SAVE_KINDS = frozenset({"extras.custom-fields", "extras.config-contexts", "circuits.circuit-terminations"})


@dataclass
class Plan:
    """Rows per kind, in dependency order, each with ``id``; plus the counts the loader must reach."""

    kinds: list[str] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {k: len(self.rows[k]) for k in self.kinds}

    def to_json(self) -> dict[str, Any]:
        return {"kinds": [{"kind": k, "model": MODEL_OF[k], "save": k in SAVE_KINDS, "rows": self.rows[k]}
                          for k in self.kinds]}

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            json.dump(self.to_json(), fh, separators=(",", ":"))
        return path


def _components(design: Design) -> Iterator[tuple[str, m.Obj]]:
    """Every object of the design, components instantiated from templates merged with the design's."""
    templates: dict[str, list[m.InterfaceTemplate]] = defaultdict(list)
    for t in design.of("dcim.interface-templates"):
        assert isinstance(t, m.InterfaceTemplate)
        templates[t.device_type].append(t)
    for tkind in m.TEMPLATE_COMPONENTS:
        if tkind != "dcim.interface-templates" and design.of(tkind):
            raise DataError("the scale loader instantiates interface templates only", obj=tkind)
    for cls in m.KINDS:
        kind = cls.KIND
        if kind != "dcim.interfaces":
            for o in design.of(kind):
                yield kind, o
            continue
        explicit: dict[m.Key, m.Obj] = dict(design.objects.get(kind, {}))
        for dev in design.of("dcim.devices"):
            assert isinstance(dev, m.Device)
            for t in templates.get(dev.device_type, []):
                base: dict[str, Any] = {"device": dev.name, "name": t.name, "type": t.type,
                                        "mgmt_only": t.mgmt_only, "enabled": True}
                if t.description:
                    base["description"] = t.description
                have = explicit.pop((dev.name, t.name), None)
                if have is not None:
                    base |= {f: getattr(have, f) for f in have.model_fields_set}
                yield kind, m.Interface.model_validate(base)
        for o in explicit.values():
            yield kind, o


def build_plan(design: Design) -> Plan:
    """Assign ids, resolve references, and produce the rows."""
    objs: dict[str, list[m.Obj]] = defaultdict(list)
    ids: dict[str, dict[m.Key, int]] = defaultdict(dict)
    for kind, o in _components(design):
        if kind not in MODEL_OF:
            raise DataError("the scale loader has no NetBox model for this kind", obj=kind)
        objs[kind].append(o)
        ids[kind][o.key()] = len(objs[kind])

    def resolve(kind: str, key: m.Key, fld: str) -> int:
        try:
            return ids[kind][key]
        except KeyError:
            raise DataError(f"unknown {kind} '{m.key_str(key)}'", obj=kind, field=fld) from None

    plan = Plan()
    for cls in m.KINDS:
        kind = cls.KIND
        if not objs.get(kind):
            continue
        rows = []
        for i, o in enumerate(objs[kind], start=1):
            try:
                row = o.payload(resolve)
            except DataError as exc:
                raise DataError(exc.message, obj=o.describe(), field=exc.field) from None
            row["id"] = i
            rows.append(row)
        plan.kinds.append(kind)
        plan.rows[kind] = rows
    return plan
