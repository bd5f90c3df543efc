"""``--limit``: cut a snapshot down to some devices (by site, role, tag, name), after the bulk read.

Text form: ``site=jinpenling,role=access-switch`` (conditions AND-ed), ``tag=lab``, ``name=jpl-*``
(shell globs), several values of one key with ``|`` (``role=leaf|spine``); a bare word is a name glob.
A virtual chassis is one logical switch: selecting one member selects them all.
Objects that belong to no device (VLANs, prefixes, circuits, tenants, ...) are kept whole.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict

from campusnet.errors import DataError
from campusnet.sot.models import Device, Endpoint, Snapshot

_KEYS = ("site", "role", "tag", "name", "platform", "status", "tenant")


class Limit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    site: tuple[str, ...] = ()
    role: tuple[str, ...] = ()
    tag: tuple[str, ...] = ()
    name: tuple[str, ...] = ()
    platform: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    tenant: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | list[str] | tuple[str, ...] | None) -> Limit | None:
        if not text:
            return None
        parts = [text] if isinstance(text, str) else list(text)
        acc: dict[str, list[str]] = {}
        for part in parts:
            for cond in part.split(","):
                cond = cond.strip()
                if not cond:
                    continue
                key, sep, value = cond.partition("=")
                if not sep:
                    key, value = "name", cond
                key = key.strip()
                if key not in _KEYS:
                    raise DataError(f"unknown limit key {key!r}; use one of {', '.join(_KEYS)}",
                                    obj=cond, field="--limit", code="E203")
                acc.setdefault(key, []).extend(v.strip() for v in value.split("|") if v.strip())
        return cls(**{k: tuple(v) for k, v in acc.items()}) if acc else None

    def __str__(self) -> str:
        return ",".join(f"{k}={'|'.join(getattr(self, k))}" for k in _KEYS if getattr(self, k))

    def matches(self, d: Device) -> bool:
        def any_glob(values: tuple[str, ...], actual: str | None) -> bool:
            return not values or (actual is not None and any(fnmatchcase(actual, v) for v in values))

        return (any_glob(self.site, d.site) and any_glob(self.role, d.role) and any_glob(self.name, d.name)
                and any_glob(self.platform, d.platform) and any_glob(self.status, d.status)
                and any_glob(self.tenant, d.tenant)
                and (not self.tag or any(fnmatchcase(t, v) for t in d.tags for v in self.tag)))


def selected(snap: Snapshot, limit: Limit) -> set[str]:
    """The names of the devices ``limit`` selects (a virtual chassis whole).

    A limit that selects no device is an error (E206), never an empty run that looks green: a typo in
    ``--limit`` must not report "0 devices, all good". Every verb with ``--limit`` goes through here."""
    chosen = {d.name for d in snap.devices if limit.matches(d)}
    if not chosen:
        raise DataError(f"matches no device ({len(snap.devices)} devices read"
                        f"{' from ' + snap.source.url if snap.source.url else ''}); check the spelling "
                        "(name globs are case-sensitive)", obj=f"--limit {limit}", code="E206")
    vcs = {d.virtual_chassis for d in snap.devices if d.name in chosen and d.virtual_chassis}
    return chosen | {d.name for d in snap.devices if d.virtual_chassis in vcs}


def apply_limit(snap: Snapshot, limit: Limit | None) -> Snapshot:
    """The snapshot with only the devices ``limit`` selects (and their components, cables, addresses).
    E206 when it selects none."""
    if limit is None:
        return snap
    chosen = selected(snap, limit)
    vcs = {d.virtual_chassis for d in snap.devices if d.name in chosen and d.virtual_chassis}

    def on(eps: tuple[Endpoint, ...]) -> bool:
        return any(e.device in chosen for e in eps)

    return snap.model_copy(update={
        "source": snap.source.model_copy(update={"limit": str(limit)}),
        "devices": tuple(d for d in snap.devices if d.name in chosen),
        "virtual_chassis": tuple(v for v in snap.virtual_chassis if v.name in vcs),
        "interfaces": tuple(i for i in snap.interfaces if i.device in chosen),
        "front_ports": tuple(p for p in snap.front_ports if p.device in chosen),
        "rear_ports": tuple(p for p in snap.rear_ports if p.device in chosen),
        "power_ports": tuple(p for p in snap.power_ports if p.device in chosen),
        "power_outlets": tuple(p for p in snap.power_outlets if p.device in chosen),
        "cables": tuple(c for c in snap.cables if on(c.a_terminations) or on(c.b_terminations)),
        "ip_addresses": tuple(ip for ip in snap.ip_addresses if ip.device is None or ip.device in chosen),
        "contact_assignments": tuple(a for a in snap.contact_assignments
                                     if a.object_type != "dcim.device" or a.object_key in chosen),
    })
