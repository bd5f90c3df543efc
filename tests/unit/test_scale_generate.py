"""The university-scale generator: shape, determinism, counts (small scale, no NetBox)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest

from campusnet.design import models as m
from campusnet.errors import DataError
from campusnet.scale.generate import MIN_DEVICES, Sizing, generate, summary
from campusnet.scale.plan import MODEL_OF, build_plan

N = 80


@pytest.fixture(scope="module")
def design():  # type: ignore[no-untyped-def]
    return generate(N, seed=5)


@pytest.fixture(scope="module")
def plan(design):  # type: ignore[no-untyped-def]
    return build_plan(design)


def test_device_count_is_exact(design) -> None:  # type: ignore[no-untyped-def]
    assert len(design.of("dcim.devices")) == N
    size = Sizing.for_devices(N)
    roles = Counter(d.role for d in design.of("dcim.devices"))
    assert roles["access-switch"] == sum(size.access.values())
    assert roles["core-switch"] == 4 and roles["dc-spine"] == 2
    assert roles["dc-leaf"] + roles["dc-border-leaf"] == size.leaves and roles["dc-border-leaf"] == 2
    assert roles["server"] == size.servers and roles["egress-router"] == 2 and roles["vpn-gateway"] == 1


def test_too_small_is_a_named_error() -> None:
    with pytest.raises(DataError) as exc:
        Sizing.for_devices(MIN_DEVICES - 1)
    assert exc.value.field == "devices"


def test_deterministic_for_a_seed() -> None:
    a = json.dumps(build_plan(generate(60, seed=3)).to_json(), sort_keys=True)
    b = json.dumps(build_plan(generate(60, seed=3)).to_json(), sort_keys=True)
    c = json.dumps(build_plan(generate(60, seed=4)).to_json(), sort_keys=True)
    assert a == b
    assert a != c


def test_access_switches_have_48_ports_and_a_lag_to_both_chassis(design, plan) -> None:  # type: ignore[no-untyped-def]
    rows = plan.rows["dcim.interfaces"]
    dev_ids = {d.name: i for i, d in enumerate(design.of("dcim.devices"), start=1)}
    by_dev: dict[int, list[dict]] = defaultdict(list)  # type: ignore[type-arg]
    for r in rows:
        by_dev[r["device"]].append(r)
    cables = [c for c in design.of("dcim.cables") if isinstance(c, m.Cable)]
    ends: dict[tuple[str, str], str] = {}
    for c in cables:
        for x, y in ((c.a, c.b), (c.b, c.a)):
            for t in x:
                if t.device and t.interface and y[0].device:
                    ends[(t.device, t.interface)] = y[0].device
    core_members = {d.name for d in design.of("dcim.devices") if d.role == "core-switch"}
    for d in design.of("dcim.devices"):
        if d.role != "access-switch":
            continue
        ifs = by_dev[dev_ids[d.name]]
        physical = [i for i in ifs if i.get("type") not in ("lag", "virtual") and not i.get("mgmt_only")]
        assert len(physical) == 48, d.name
        lag_id = next(i["id"] for i in ifs if i.get("type") == "lag")
        members = [i["name"] for i in ifs if i.get("lag") == lag_id]
        assert len(members) == 2
        far = {ends[(d.name, name)] for name in members}
        assert far <= core_members and len(far) == 2, (d.name, far)  # one member per chassis, no aggregation


def test_every_owned_object_has_an_owner(design) -> None:  # type: ignore[no-untyped-def]
    owned = {(a.object_type, a.object) for a in design.of("tenancy.contact-assignments")}
    for v in design.of("ipam.vlans"):  # NetBox 4.7: a VLAN's owner is its custom field owner_contact
        assert getattr(v, "owner_contact", None) and v.tenant, v.key()
    for kind, ot in (("dcim.devices", "dcim.device"), ("ipam.prefixes", "ipam.prefix"),
                     ("circuits.circuits", "circuits.circuit")):
        for o in design.of(kind):
            assert (ot, o.key()) in owned, (kind, o.key())
            assert getattr(o, "tenant", None), (kind, o.key())


def test_plan_ids_are_dense_and_references_resolve(plan) -> None:  # type: ignore[no-untyped-def]
    for kind in plan.kinds:
        assert kind in MODEL_OF
        ids = [r["id"] for r in plan.rows[kind]]
        assert ids == list(range(1, len(ids) + 1)), kind
    n_dev = len(plan.rows["dcim.devices"])
    assert all(1 <= r["device"] <= n_dev for r in plan.rows["dcim.interfaces"])
    n_ip = len(plan.rows["ipam.ip-addresses"])
    assert all(1 <= r["primary_ip4"] <= n_ip for r in plan.rows["dcim.devices"] if "primary_ip4" in r)


def test_summary_counts_template_interfaces(design, plan) -> None:  # type: ignore[no-untyped-def]
    s = summary(design)
    assert s["interfaces (all)"] == len(plan.rows["dcim.interfaces"])
    assert s["interfaces (all)"] >= 48 * sum(Sizing.for_devices(N).access.values())
