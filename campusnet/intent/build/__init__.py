"""Snapshot → :class:`DeviceIntent` per configurable device. All derivation happens here, in Python, one
module per area (AVD's ``structured_config`` is the model):

* :mod:`.view` — :class:`DeviceView`, the shared read-only view of one device (its snapshot lookups,
  config context, routed links; what several areas need is cached there);
* :mod:`.system`, :mod:`.interfaces` (and switchports), :mod:`.vlans` (and SVIs), :mod:`.ospf`,
  :mod:`.bgp` (and EVPN), :mod:`.fhrp`, :mod:`.services`, :mod:`.vpn` — the areas;
* :mod:`.device` — one device's intent: the areas in the order their answers depend on each other;
* :mod:`.index` — everything indexed once per snapshot: building is linear in the number of interfaces.

Rules (docs/design.md, docs/intent.md):

* a device is configured when its platform is in the registry and its status is active/staged; a
  virtual chassis is one device, the master, carrying every member's interfaces;
* a *routed link* is a connected cable path between two interfaces holding IPv4 addresses of one subnet:
  OSPF when both interfaces carry tag ``ospf`` (area from config context ``ospf.area``), else eBGP when
  both devices have a ``bgp_asn`` and they differ; EVPN is activated on a BGP session when both devices
  have ``evpn.enabled``;
* a campus interface on a circuit whose far end is not a campus interface peers eBGP with the circuit's
  provider (first provider ASN; neighbor = the other address of the interface's subnet);
* VNIs: L2VPNs of type ``vxlan-evpn`` terminated on a VLAN that the device carries (port or SVI);
* the linux-frr twin of a lab device is not built here: the emulation step
  (:func:`campusnet.intent.emulation.build_emulations_collect`) builds it, apart from production intents.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError

from campusnet.intent.build.common import (
    CONFIGURED_STATUSES,
    UNCONFIGURED_ROLES,
    VPN_ROUTE_ROLES,
    ospf_area,
    other_host,
    vlan_ranges,
)
from campusnet.intent.build.device import build_device
from campusnet.intent.build.index import SnapshotIndex
from campusnet.intent.build.view import DeviceView
from campusnet.intent.errors import IntentError, IntentErrors
from campusnet.intent.models import DeviceIntent
from campusnet.platforms import REGISTRY
from campusnet.sot.models import Device, Snapshot

__all__ = ["CONFIGURED_STATUSES", "UNCONFIGURED_ROLES", "VPN_ROUTE_ROLES", "DeviceView", "SnapshotIndex",
           "build_device", "build_intents", "build_intents_collect", "configured_devices", "ospf_area",
           "other_host", "vlan_ranges"]


def configured_devices(snapshot: Snapshot, idx: SnapshotIndex | None = None) -> list[Device]:
    """Devices that get a configuration: registry platform, active/staged, VC masters only."""
    idx = idx or SnapshotIndex.build(snapshot)
    return [d for d in snapshot.devices
            if d.platform in REGISTRY and d.status in CONFIGURED_STATUSES and d.role not in UNCONFIGURED_ROLES
            and idx.logical.get(d.name) == d.name]


def guarded(dev: Device, build: Callable[[], DeviceIntent]) -> DeviceIntent:
    """``build()``, its strings checked; any failure is one :class:`IntentError` naming ``dev``."""
    from campusnet import safety  # hostile strings never reach a template (docs/reliability.md, 3)

    try:
        intent = build()
        safety.check_intent_strings(intent)
    except IntentError:
        raise
    except ValueError as exc:  # includes pydantic's ValidationError
        if not isinstance(exc, ValidationError):
            raise IntentError(str(exc), device=dev.name) from None
        first = exc.errors()[0]  # a config-context value of the wrong shape
        raise IntentError(f"{first['msg']} (input {first.get('input')!r})", device=dev.name,
                          field=".".join(str(x) for x in first["loc"])) from None
    return intent


def _build_one(idx: SnapshotIndex, dev: Device) -> DeviceIntent:
    """One device's intent, its strings checked; errors raise :class:`IntentError`."""
    from campusnet import safety

    def build() -> DeviceIntent:
        safety.check_device_strings(dev, idx.members.get(dev.name, [dev]), idx.ifaces_by_logical.get(dev.name, []))
        return build_device(DeviceView(idx, dev, REGISTRY[dev.platform or ""], emulation=False))

    return guarded(dev, build)


def build_intents_collect(snapshot: Snapshot, *, limit: Callable[[Device], bool] | None = None
                          ) -> tuple[dict[str, DeviceIntent], list[IntentError]]:
    """Build every device's intent; return the intents and the per-device errors (devices with an error
    have no intent)."""
    idx = SnapshotIndex.build(snapshot)
    intents: dict[str, DeviceIntent] = {}
    errors: list[IntentError] = []
    for dev in configured_devices(snapshot, idx):
        if limit is not None and not limit(dev):
            continue
        try:
            intents[dev.name] = _build_one(idx, dev)
        except IntentError as exc:
            errors.append(exc)
    return intents, errors


def build_intents(snapshot: Snapshot, *, limit: Callable[[Device], bool] | None = None
                  ) -> dict[str, DeviceIntent]:
    """Build every configured device's intent, keyed by device name; :class:`IntentErrors` if any fails."""
    intents, errors = build_intents_collect(snapshot, limit=limit)
    if errors:
        raise IntentErrors(errors)
    return intents
