"""The Nornir inventory, built from the project's Snapshot (one bulk read of NetBox, or a snapshot file).

Registered as the Nornir inventory plugin ``campusnet.NetBoxSnapshotInventory`` (entry point in
``pyproject.toml``; configured in ``inventory/nornir.yml``). The same host model feeds the Ansible
inventory plugin (``inventory/plugins/campusnet_inventory.py``), so both tools see the same hosts, the same
groups and the same addresses:

- **hosts** are the devices the intent stage configures (:func:`campusnet.intent.configured_devices`:
  registry platform, configured status); a virtual chassis is one host, named after its master;
- **hostname** is the management address (the device's ``oob_ip``, without its prefix length);
- **platform** is the netmiko name netutils gives the registry entry (``hp_comware``, ``huawei_vrpv8``,
  ``linux``), and per-connection platforms for napalm / scrapli where netutils knows them — never typed
  by hand;
- **groups**: ``site_<slug>``, ``role_<slug>``, ``platform_<slug>``, ``tag_<slug>`` (``-`` → ``_``, the
  spelling Ansible accepts, so a group name means the same thing in both tools);
- **data**: what NetBox says about the host (site, role, status, addresses, VC members), and ``intent``:
  its :class:`~campusnet.intent.models.DeviceIntent`, computed on first access for all hosts at once
  (``Pipeline.build`` over the whole snapshot, once, under a lock: the threaded runner asks from
  many threads); a device that cannot be built fails alone, with its own error. ``emulation``: a lab
  host's linux-frr twin (``Pipeline.emulations``, built in the same pass; None outside the lab).

>>> group_name("site", "jinpenling-east")
'site_jinpenling_east'
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nornir.core.inventory import (
    ConnectionOptions,
    Defaults,
    Group,
    Groups,
    Host,
    Hosts,
    Inventory,
    ParentGroups,
)

from campusnet.errors import CampusnetError
from campusnet.platforms import get_platform
from campusnet.sot import Snapshot
from campusnet.sot.limit import Limit
from campusnet.sot.models import Device

if TYPE_CHECKING:
    from campusnet.intent.models import DeviceIntent

#: connection plugins whose platform name netutils maps for us (connection name → netutils library name)
CONNECTION_LIBRARIES: tuple[tuple[str, str], ...] = (("netmiko", "netmiko"), ("napalm", "napalm"),
                                                     ("scrapli", "scrapli"))


# --------------------------------------------------------------------------------------------------------
# The host model (shared with the Ansible inventory plugin)
# --------------------------------------------------------------------------------------------------------
def group_name(kind: str, slug: str) -> str:
    """A group name both Nornir and Ansible accept: ``<kind>_<slug>`` with ``-`` and ``.`` as ``_``."""
    return f"{kind}_{slug}".replace("-", "_").replace(".", "_")


def managed_devices(snapshot: Snapshot, limit: Limit | None = None) -> list[Device]:
    """The devices that are hosts: exactly those the intent stage configures (registry platform, a
    configured status, one per virtual chassis: its master), selected by ``limit``, by name."""
    from campusnet.intent import configured_devices
    from campusnet.sot.limit import selected

    if limit is not None:
        selected(snapshot, limit)  # E206 when it matches no device
    return sorted((d for d in configured_devices(snapshot) if limit is None or limit.matches(d)),
                  key=lambda d: d.name)


def host_groups(device: Device) -> tuple[str, ...]:
    """The groups of a host, in the order Nornir resolves inherited attributes (site, role, platform, tags)."""
    groups = [group_name("site", device.site), group_name("role", device.role)]
    if device.platform:
        groups.append(group_name("platform", device.platform))
    groups += [group_name("tag", t) for t in sorted(device.tags)]
    return tuple(groups)


def _address(cidr: str | None) -> str | None:
    return cidr.split("/", 1)[0] if cidr else None


def host_vars(snapshot: Snapshot, device: Device) -> dict[str, Any]:
    """Plain (JSON-able) facts about a host, as NetBox holds them. The same keys in Nornir and Ansible."""
    members = [m.name for m in snapshot.vc_members(device.virtual_chassis)] if device.virtual_chassis else []
    return {
        "netbox_id": device.id,
        "device": device.name,
        "site": device.site,
        "role": device.role,
        "platform": device.platform,
        "status": device.status,
        "tenant": device.tenant,
        "tags": list(device.tags),
        "virtual_chassis": device.virtual_chassis,
        "vc_members": members,
        "oob_ip": _address(device.oob_ip),
        "primary_ip4": _address(device.primary_ip4),
        "lab": "lab" in device.tags,
    }


def connection_platforms(platform_slug: str, *, obj: str | None = None) -> dict[str, str]:
    """``{connection plugin: platform name}`` for the registry entry, from netutils' table (never by hand)."""
    p = get_platform(platform_slug, obj=obj)
    names = {conn: p.lib_name(lib) for conn, lib in CONNECTION_LIBRARIES}
    return {conn: name for conn, name in names.items() if name}


def nornir_platform(platform_slug: str, *, obj: str | None = None) -> str:
    """The host's ``platform``: netmiko's name for the registry entry, else netutils' normalised name."""
    p = get_platform(platform_slug, obj=obj)
    return p.netmiko or p.netutils_name


# --------------------------------------------------------------------------------------------------------
# Lazy intents
# --------------------------------------------------------------------------------------------------------
class IntentSource:
    """The intents of a snapshot, built once on first use (thread-safe), looked up by host name.

    Built like ``campusnet render`` builds them: from the whole snapshot (derivations see the whole campus),
    only for the devices ``limit`` selects; a device that cannot be built fails alone, with its own
    :class:`~campusnet.intent.IntentError` (device and field), when its intent is asked for."""

    def __init__(self, snapshot: Snapshot, limit: Limit | None = None) -> None:
        self.snapshot = snapshot
        self.limit = limit
        self._lock = threading.Lock()
        self._built: tuple[Mapping[str, DeviceIntent], Mapping[str, CampusnetError]] | None = None
        self._emulations: Mapping[str, DeviceIntent] = {}

    def _build(self) -> tuple[Mapping[str, DeviceIntent], Mapping[str, CampusnetError]]:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    from campusnet.pipeline import Pipeline

                    pipe = Pipeline.build(self.snapshot, limit=self.limit)
                    self._emulations = pipe.emulations
                    self._built = (pipe.intents, pipe.errors_by_device)
        return self._built

    @property
    def intents(self) -> Mapping[str, DeviceIntent]:
        return self._build()[0]

    @property
    def errors(self) -> Mapping[str, CampusnetError]:
        """Devices whose intent could not be built, with the error naming device and field."""
        return self._build()[1]

    def intent_for(self, host: str) -> DeviceIntent:
        """The intent of a host: by device name, else by virtual-chassis name or member name (the name
        ``nb_inventory`` gives a chassis with ``virtual_chassis_name: true``)."""
        intents, errors = self._build()
        key = host if host in intents or host in errors else self._aliases.get(host)
        if key is not None and key in errors:
            raise errors[key]
        if key is None or key not in intents:
            raise CampusnetError("E310", "no intent for this host: not a configured device (platform outside "
                                 "the registry, or a status the intent stage skips)", obj=host, field="intent")
        return intents[key]

    def emulation_for(self, host: str) -> DeviceIntent | None:
        """The linux-frr twin of a lab host (``Pipeline.emulations``); None for a device outside the lab."""
        name = self.intent_for(host).hostname  # first: it builds, and fills the emulations
        return self._emulations.get(name)

    @cached_property
    def _aliases(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in (*self.intents, *self.errors):
            vc = self.snapshot.device(name).virtual_chassis if self.snapshot.has_device(name) else None
            if vc:
                out[vc] = name
                out.update({m.name: name for m in self.snapshot.vc_members(vc)})
        return out


class HostData(dict[str, Any]):
    """A host's ``data``: plain facts, plus ``intent`` (and ``emulation``) resolved from the shared
    :class:`IntentSource` on first access (``task.host["intent"]``, ``host.data["intent"]``,
    ``host.get("intent")``)."""

    def __init__(self, name: str, source: IntentSource, facts: Mapping[str, Any]) -> None:
        super().__init__(facts)
        self._name = name
        self._source = source

    def __missing__(self, key: str) -> Any:
        if key in ("intent", "emulation"):
            src = self._source
            value = src.intent_for(self._name) if key == "intent" else src.emulation_for(self._name)
            self[key] = value
            return value
        raise KeyError(key)


def intent_of(host: Host) -> DeviceIntent:
    """The typed intent of a Nornir host built by this plugin."""
    intent: DeviceIntent = host.data["intent"]
    return intent


def emulation_of(host: Host) -> DeviceIntent | None:
    """The lab twin of a Nornir host built by this plugin (None outside the lab)."""
    emulation: DeviceIntent | None = host.data["emulation"]
    return emulation


# --------------------------------------------------------------------------------------------------------
# The inventory
# --------------------------------------------------------------------------------------------------------
def _defaults(raw: Mapping[str, Any] | None) -> Defaults:
    raw = dict(raw or {})
    conns = {name: ConnectionOptions(**opts) for name, opts in (raw.pop("connection_options", None) or {}).items()}
    unknown = set(raw) - {"hostname", "port", "username", "password", "platform", "data"}
    if unknown:
        raise CampusnetError("E311", f"unknown key(s) {', '.join(sorted(unknown))}", obj="nornir inventory",
                             field="defaults")
    return Defaults(connection_options=conns, **raw)


def build_inventory(snapshot: Snapshot, *, limit: Limit | str | None = None,
                    defaults: Mapping[str, Any] | None = None, groups: Iterable[str] = ()) -> Inventory:
    """A Nornir :class:`Inventory` of the snapshot's managed devices (see the module docstring).

    ``limit`` selects hosts (a virtual chassis by any member); the snapshot stays whole, so every
    derivation still sees the whole campus — the same intents ``campusnet render --limit`` builds."""
    lim = Limit.parse(limit) if isinstance(limit, str) else limit
    dflt = _defaults(defaults)
    source = IntentSource(snapshot, lim)
    all_groups = Groups()
    for g in groups:
        all_groups[g] = Group(name=g, defaults=dflt)
    hosts = Hosts()
    for d in managed_devices(snapshot, lim):
        assert d.platform is not None  # managed_devices keeps registry platforms only
        names = host_groups(d)
        for g in names:
            if g not in all_groups:
                all_groups[g] = Group(name=g, defaults=dflt)
        conns = {conn: ConnectionOptions(platform=name)
                 for conn, name in connection_platforms(d.platform, obj=d.name).items()}
        hosts[d.name] = Host(
            name=d.name,
            hostname=_address(d.oob_ip),
            platform=nornir_platform(d.platform, obj=d.name),
            groups=ParentGroups(all_groups[g] for g in names),
            data=HostData(d.name, source, host_vars(snapshot, d)),
            connection_options=conns,
            defaults=dflt,
        )
    return Inventory(hosts=hosts, groups=all_groups, defaults=dflt)


class NetBoxSnapshotInventory:
    """Nornir inventory plugin: NetBox through the project's reader (one bulk read), or a snapshot file.

    Options (``inventory.options`` in ``inventory/nornir.yml``):

    - ``snapshot``: a snapshot JSON file (``campusnet snapshot``); default: read the configured NetBox;
    - ``limit``: ``--limit`` text (``site=jinpenling,role=access-switch``) applied to the snapshot;
    - ``branch``: a NetBox branch schema id to read instead of main;
    - ``defaults``: Nornir defaults (``username``, ``port``, ``connection_options``, ``data``);
      connection settings only — design data lives in NetBox.
    """

    def __init__(self, snapshot: str | Path | Snapshot | None = None, limit: str | None = None,
                 branch: str | None = None, defaults: Mapping[str, Any] | None = None) -> None:
        self.snapshot = snapshot
        self.limit = limit
        self.branch = branch
        self.defaults = defaults

    def read(self) -> Snapshot:
        """The whole snapshot (``limit`` selects hosts in :meth:`load`, it does not cut the snapshot)."""
        from campusnet.pipeline import read_snapshot

        return read_snapshot(self.snapshot, branch=self.branch)

    def load(self) -> Inventory:
        return build_inventory(self.read(), limit=self.limit, defaults=self.defaults)
