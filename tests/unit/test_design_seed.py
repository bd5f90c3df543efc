"""Diff logic and the seed engine against a fake NetBox (no network)."""

from __future__ import annotations

from typing import Any

from campusnet.design.diff import changed, same
from campusnet.design.load import build
from campusnet.design.models import VLAN, Device, DeviceRole, DeviceType, Manufacturer, Site, Tag
from campusnet.design.seed import STEPS, NetBoxClient, Seeder, SeedReport, _item_errors


def test_same_and_changed() -> None:
    assert same(19, {"value": 19, "label": "19 inches"})
    assert same([{"position": 1, "rear_port": 7}], [{"position": 1, "rear_port": 7, "rear_port_position": 1}])
    assert not same(True, 1)
    assert same({"a": [1]}, {"a": [1]})
    assert changed({"custom_fields": {"bgp_asn": 3}}, {"custom_fields": {"bgp_asn": {"id": 3}, "other": 1}}) == {}
    assert changed({"a_terminations": [1]}, {}, frozenset({"a_terminations"})) == {}


class FakeClient:
    """Serves a fixed NetBox content and records writes."""

    def __init__(self, content: dict[str, list[dict[str, Any]]]) -> None:
        self.content = content
        self.writes: list[tuple[str, str, list[dict[str, Any]]]] = []
        self.next_id = 1000

        class _Pool:
            def map(self, f, items):  # type: ignore[no-untyped-def]
                return map(f, items)

        self.pool = _Pool()

    def get_all(self, endpoint: str, fields: Any) -> list[dict[str, Any]]:
        return self.content.get(endpoint, [])

    def write(self, method: str, endpoint: str, body: list[dict[str, Any]]) -> tuple[int, Any]:
        self.writes.append((method, endpoint, body))
        if method == "PATCH":
            return 200, body
        out = []
        for b in body:
            self.next_id += 1
            out.append({**b, "id": self.next_id})
        return 201, out


def _design() -> Any:
    objs = [
        Tag(name="lab", slug="lab"),
        Site(name="S", slug="s"),
        Manufacturer(name="M", slug="m"),
        DeviceRole(name="R", slug="r"),
        DeviceType(manufacturer="m", model="T", slug="t"),
        Device(name="d1", device_type="t", role="r", site="s", tags=["lab"], owner_contact=None),
        VLAN(name="v10", vid=10, site="s"),
    ]
    return build([("test", o) for o in objs])


NETBOX = {
    "extras/tags": [{"id": 1, "name": "lab", "slug": "lab", "color": "9e9e9e"}],
    "dcim/sites": [{"id": 2, "name": "S", "slug": "s", "status": {"value": "active", "label": "Active"}, "tags": []}],
    "dcim/manufacturers": [{"id": 3, "name": "M", "slug": "m"}],
    "dcim/device-roles": [{"id": 4, "name": "R", "slug": "r", "color": "9e9e9e", "vm_role": False}],
    "dcim/device-types": [{"id": 5, "manufacturer": {"id": 3}, "model": "T", "slug": "t", "u_height": 1.0,
                           "is_full_depth": True}],
    "dcim/devices": [{"id": 6, "name": "d1", "device_type": {"id": 5}, "role": {"id": 4}, "site": {"id": 2},
                      "status": {"value": "planned", "label": "Planned"}, "tags": [{"id": 1, "slug": "lab"}]}],
}


def _run(client: Any) -> SeedReport:
    report = SeedReport()
    seeder = Seeder(_design(), client, report)
    for step in STEPS:
        seeder.run(step)
    seeder.tally()
    return report


def test_minimal_update_and_creates() -> None:
    client = FakeClient(NETBOX)
    report = _run(client)
    assert not report.errors
    patches = [w for w in client.writes if w[0] == "PATCH"]
    assert patches == [("PATCH", "dcim/devices", [{"id": 6, "status": "active"}])]  # only the differing field
    posts = [(e, len(b)) for m, e, b in client.writes if m == "POST"]
    assert posts == [("ipam/vlans", 1)]
    assert report.stats["dcim.devices"].updated == 1 and report.stats["dcim.sites"].unchanged == 1


def test_no_changes_means_no_writes() -> None:
    content = {k: [dict(o) for o in v] for k, v in NETBOX.items()}
    content["dcim/devices"][0]["status"] = {"value": "active", "label": "Active"}
    content["ipam/vlans"] = [{"id": 9, "name": "v10", "vid": 10, "site": {"id": 2},
                              "status": {"value": "active"}, "tags": []}]
    client = FakeClient(content)
    report = _run(client)
    assert client.writes == [] and report.writes == 0 and not report.errors


def test_dry_run_without_netbox_plans_creates() -> None:
    report = SeedReport(dry_run=True)
    seeder = Seeder(_design(), None, report)
    for step in STEPS:
        seeder.run(step)
    seeder.tally()
    assert report.stats["dcim.devices"].created == 1 and not report.errors


def test_batch_errors_name_object_and_field() -> None:
    d = _design()
    items = [(o, {"name": "x"}) for o in d.of("extras.tags")]
    errs = _item_errors({"detail": "1 of 1", "errors": [{"index": 0, "errors": {"slug": ["taken"]}}]}, items)
    assert errs == {0: {"slug": ["taken"]}}

    class Refusing(FakeClient):
        def write(self, method: str, endpoint: str, body: list[dict[str, Any]]) -> tuple[int, Any]:
            if endpoint == "ipam/vlans":
                return 400, {"detail": "1 of 1", "errors": [{"index": 0, "errors": {"vid": ["bad vid"]}}]}
            return super().write(method, endpoint, body)

    report = _run(Refusing(NETBOX))
    assert any("ipam.vlans 'v10' field 'vid'" in e and "bad vid" in e for e in report.errors)
    assert NetBoxClient  # the real client is exercised by tests/integration/test_seed.py
