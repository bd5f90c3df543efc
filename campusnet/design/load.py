"""Read ``inventory/campus/*.yml`` into a checked :class:`Design`.

A file is a mapping of sections. A section is either a kind (``dcim.sites: [...]``, the model in
:mod:`campusnet.design.models`) or a construct (``campuses: [...]``, see
:data:`campusnet.design.expand.CONSTRUCTS`). ``defaults: {kind: {field: value}}`` fills fields of that
file's plain sections. The same object may come from several places (a template interface that a link
tags, a building LAG…): the pieces are merged field by field (lists are united; for ``description`` the
first piece wins); any other conflict is an error.

Every error is a :class:`~campusnet.errors.DataError` naming the file, the object and the field.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from campusnet.design import expand as ex
from campusnet.design.models import (
    KIND_MODELS,
    KINDS,
    TEMPLATE_COMPONENTS,
    Device,
    DeviceType,
    Interface,
    Key,
    Obj,
    Spec,
    key_str,
)
from campusnet.errors import DataError

_SOFT = {"description"}  # merged pieces may disagree: the first one wins
_NAME_FIELDS = ("name", "slug", "cid", "prefix", "address", "asn", "host")


@dataclass
class Design:
    """The expanded design: objects per kind, by natural key, with where each came from."""

    objects: dict[str, dict[Key, Obj]] = field(default_factory=lambda: defaultdict(dict))
    sources: dict[tuple[str, Key], str] = field(default_factory=dict)
    implied: set[tuple[str, Key]] = field(default_factory=set)  # components NetBox makes from templates

    def add(self, obj: Obj, source: str, *, replace: bool = False) -> None:
        key = obj.key()
        have = self.objects[obj.KIND].get(key)
        if have is not None and not replace:
            obj = _merge(have, obj, source, self.sources[(obj.KIND, key)])
        self.objects[obj.KIND][key] = obj
        self.sources.setdefault((obj.KIND, key), source)

    def of(self, kind: str) -> list[Obj]:
        return list(self.objects.get(kind, {}).values())

    def all(self) -> list[Obj]:
        return [o for m in KINDS for o in self.objects.get(m.KIND, {}).values()]

    def has(self, kind: str, key: Key) -> bool:
        return key in self.objects.get(kind, {}) or (kind, key) in self.implied

    def counts(self) -> dict[str, int]:
        return {m.KIND: len(self.objects[m.KIND]) for m in KINDS if self.objects.get(m.KIND)}

    def where(self, obj: Obj) -> str:
        return self.sources.get((obj.KIND, obj.key()), "?")


def _merge(a: Obj, b: Obj, source_b: str, source_a: str) -> Obj:
    data: dict[str, Any] = {f: getattr(a, f) for f in a.model_fields_set}
    for f in b.model_fields_set:
        bv = getattr(b, f)
        if f not in data or data[f] == bv:
            data[f] = bv
        elif f in _SOFT:
            continue
        elif isinstance(data[f], list) and isinstance(bv, list):
            data[f] = data[f] + [x for x in bv if x not in data[f]]
        else:
            raise DataError(f"conflicting values {data[f]!r} ({source_a}) and {bv!r} ({source_b})",
                            obj=a.describe(), field=f)
    return type(a).model_validate(data)


def _name_of(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for f in _NAME_FIELDS:
            if f in item:
                return f"[{index}] {item[f]}"
    return f"[{index}]"


def _validate(model: type[Spec], item: Any, where: str) -> Spec:
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(x) for x in e["loc"]) or None
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise DataError(f"{e['msg']}{more}", obj=where, field=loc) from None


def load_files(src: Path) -> list[tuple[str, Obj]]:
    """(source, object) for every plain object and construct output, in file order."""
    if not src.is_dir():
        raise DataError(f"design directory {src} does not exist", code="E202")
    files = sorted([*src.glob("*.yml"), *src.glob("*.yaml")])
    if not files:
        raise DataError(f"no *.yml files in {src}", code="E202")
    out: list[tuple[str, Obj]] = []
    for path in files:
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise DataError(f"not valid YAML: {exc}", obj=path.name) from None
        if not isinstance(data, dict):
            raise DataError("a design file is a mapping of sections", obj=path.name)
        defaults = data.pop("defaults", {}) or {}
        if not isinstance(defaults, dict) or any(k not in KIND_MODELS for k in defaults):
            bad = [k for k in defaults if k not in KIND_MODELS] if isinstance(defaults, dict) else ["?"]
            raise DataError(f"defaults for unknown kinds {bad}", obj=f"{path.name}: defaults")
        for section, items in data.items():
            if not isinstance(items, list):
                raise DataError("a section is a list", obj=f"{path.name}: {section}")
            if section in KIND_MODELS:
                model: type[Spec] = KIND_MODELS[section]
            elif section in ex.CONSTRUCTS:
                model = ex.CONSTRUCTS[section]
            else:
                known = ", ".join([*KIND_MODELS, *ex.CONSTRUCTS])
                raise DataError(f"unknown section (known: {known})", obj=f"{path.name}: {section}")
            for i, item in enumerate(items):
                where = f"{path.name}: {section}{_name_of(item, i)}"
                if section in KIND_MODELS and isinstance(item, dict):
                    item = {**defaults.get(section, {}), **item}
                spec = _validate(model, item, where)
                if isinstance(spec, Obj):
                    out.append((where, spec))
                    continue
                try:
                    out += [(where, o) for o in spec.expand()]  # type: ignore[attr-defined]
                except (ValueError, KeyError) as exc:
                    raise DataError(f"cannot expand: {exc}", obj=where) from None
    return out


def build(pieces: list[tuple[str, Obj]]) -> Design:
    """Merge the pieces, run the design passes, compute template components, check references."""
    d = Design()
    for where, o in pieces:
        d.add(o, where)
    try:
        for o in ex.device_type_templates(d.of("dcim.device-types")):  # type: ignore[arg-type]
            d.add(o, "device type templates")
        for o in ex.addressing(d.all()):
            d.add(o, "addressing (loopback/mgmt)")
        for o in ex.power_cabling(d.all()):
            d.add(o, "power cabling (PSU -> PDU)")
        for o in ex.planned_cables(d.all()):
            d.add(o, "planned cables", replace=True)
        for o in ex.ownership(d.all()):
            d.add(o, "ownership (owner_contact)")
    except ValueError as exc:
        raise DataError(str(exc)) from None
    _implied(d)
    check(d)
    return d


def _implied(d: Design) -> None:
    by_type: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for tkind, ckind in TEMPLATE_COMPONENTS.items():
        for t in d.of(tkind):
            by_type[t.device_type].append((ckind, t.name))  # type: ignore[attr-defined]
    for dev in d.of("dcim.devices"):
        assert isinstance(dev, Device)
        for ckind, name in by_type.get(dev.device_type, []):
            d.implied.add((ckind, (dev.name, name)))


def check(d: Design) -> None:
    """Every reference points at an object of the design; created interfaces have a type."""
    errors: list[DataError] = []
    for o in d.all():
        for fld, kind, key in o.refs():
            if not d.has(kind, key):
                errors.append(DataError(f"unknown {kind} '{key_str(key)}' ({d.where(o)})", obj=o.describe(),
                                        field=fld))
        if isinstance(o, Interface) and o.type is None and ("dcim.interfaces", o.key()) not in d.implied:
            errors.append(DataError(f"not in the device type's templates, so it needs a type ({d.where(o)})",
                                    obj=o.describe(), field="type"))
    types = {t.slug for t in d.of("dcim.device-types") if isinstance(t, DeviceType)}
    errors += [DataError(f"unknown device type ({d.where(dev)})", obj=dev.describe(), field="device_type")
               for dev in d.of("dcim.devices") if isinstance(dev, Device) and dev.device_type not in types]
    if errors:
        more = ""
        if len(errors) > 1:
            more = f" (and {len(errors) - 1} more: " + "; ".join(str(e) for e in errors[1:6]) + ")"
        first = errors[0]
        raise DataError(first.message + more, obj=first.obj, field=first.field)


def load_design(src: Path) -> Design:
    """Load, expand and check the design in ``src`` (a directory of YAML files)."""
    return build(load_files(src))
