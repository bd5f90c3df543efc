"""Topology: the flattened core (网络核心扁平化) has no aggregation layer."""

from __future__ import annotations

from collections.abc import Iterator

from campusnet.rules.registry import Violation, rule
from campusnet.rules.roles import is_access, is_core, is_end
from campusnet.sot.models import Interface, Snapshot

RULE = "no-aggregation-layer"


def _v(name: str, field: str, msg: str, otype: str = "dcim.device") -> Violation:
    return Violation(rule=RULE, object_type=otype, object_name=name, field=field, message=msg)


@rule(RULE, "topology")
def no_aggregation_layer(snap: Snapshot) -> Iterator[Violation]:
    """Every access switch uplinks straight to its campus core cluster with one LAG spread over both chassis.

    An *uplink* is a cabled interface of an access switch whose far end (NetBox cable path, through patch
    panels) is a network device rather than an end host, PDU or patch panel. All uplinks must:
    end on a core device (role ``core-switch``, a member of a virtual chassis); be members of one LAG on
    the access switch; end on members of one LAG on the core; and the far ends must cover at least two
    chassis of the one virtual chassis, so the loss of a chassis never cuts a building off.
    Anything else (a daisy-chained access switch, an uplink to a distribution switch, a single-homed
    building) is an aggregation layer or a single point of failure that the flattened design removed."""
    for dev in snap.devices:
        if not is_access(dev) or dev.status not in ("active", "staged"):
            continue
        uplinks: list[tuple[Interface, Interface]] = []
        for i in snap.interfaces_of(dev.name):
            ep = i.peer
            if i.is_lag or ep is None or ep.kind != "interface" or ep.device is None:
                continue
            if not snap.has_device(ep.device):
                continue  # far end cut away by --limit
            far_dev = snap.device(ep.device)
            if is_end(far_dev):
                continue
            far = snap.find_interface(ep.key)
            if far is not None:
                uplinks.append((i, far))
        if not uplinks:
            yield _v(dev.name, "interfaces", "no uplink to the core cluster")
            continue
        for i, far in uplinks:
            far_dev = snap.device(far.device)
            if not is_core(far_dev):
                yield _v(i.key, "connected_endpoints",
                         f"uplink ends on {far.key} (role {far_dev.role}), not on the core cluster "
                         "(an aggregation layer or daisy chain)", "dcim.interface")
        lags = {i.lag for i, _ in uplinks}
        if None in lags:
            for i, _ in uplinks:
                if i.lag is None:
                    yield _v(i.key, "lag", "uplink is not a member of the uplink LAG", "dcim.interface")
        named = sorted(x for x in lags if x is not None)
        if len(named) > 1:
            yield _v(dev.name, "lag", f"uplinks are split over several LAGs: {', '.join(named)}")
        core_ends = [(i, far) for i, far in uplinks if is_core(snap.device(far.device))]
        if not core_ends:
            continue
        vcs = {snap.device(far.device).virtual_chassis for _, far in core_ends}
        chassis = {far.device for _, far in core_ends}
        if len(vcs) > 1 or None in vcs:
            yield _v(dev.name, "connected_endpoints",
                     f"uplinks end on more than one core cluster: {', '.join(sorted(map(str, vcs)))}")
        elif len(chassis) < 2:
            yield _v(dev.name, "connected_endpoints",
                     f"all uplinks end on one chassis ({', '.join(sorted(chassis))}): the LAG must have a member "
                     "on each chassis of the core cluster")
        far_lags = {far.lag for _, far in core_ends}
        if None in far_lags or len(far_lags) > 1:
            yield _v(dev.name, "connected_endpoints",
                     "the core ends of the uplinks are not members of one LAG on the core "
                     f"(core LAGs: {', '.join(sorted(str(x) for x in far_lags))})")
