"""Loading the shipped design and the errors a bad design gives (no NetBox)."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from campusnet.design.load import Design, load_design
from campusnet.design.models import (
    VLAN,
    Circuit,
    ContactAssignment,
    Device,
    IPAddress,
    PowerFeed,
    PowerPortTemplate,
    Prefix,
)
from campusnet.errors import DataError

CAMPUS = Path(__file__).resolve().parents[2] / "inventory" / "campus"


@pytest.fixture(scope="module")
def design() -> Design:
    return load_design(CAMPUS)


def test_shipped_design_shape(design: Design) -> None:
    devices = {d.name: d for d in design.of("dcim.devices") if isinstance(d, Device)}
    assert len([d for d in devices.values() if d.role == "access-switch"]) == 40
    assert {"jpl-core-1", "jpl-core-2", "yt-core-1", "yt-core-2", "yt-dmz-vpn1"} <= set(devices)
    assert devices["yt-dc-leaf5"].status == "planned" and "expansion" in devices["yt-dc-leaf5"].tags
    lab = [d for d in devices.values() if "lab" in d.tags]
    assert 15 <= len(lab) <= 30
    for d in lab:  # every lab device: platform, role, primary IP and oob_ip
        assert d.platform and d.role and d.primary_ip4 and d.oob_ip, d.name
    assert {d.name for d in lab if d.role == "test-host"} == {"jpl-b01-user1", "yt-dc-testsrv1", "vpn-user1"}
    addrs = {o.address for o in design.of("ipam.ip-addresses") if isinstance(o, IPAddress)}
    assert {"203.0.113.201/32", "203.0.113.202/32", "203.0.113.203/32", "198.51.100.10/32"} <= addrs
    assert not any(a.startswith("192.0.2.") for a in addrs)  # the host machine's own range


def test_every_owned_object_has_tenant_and_owner(design: Design) -> None:
    assigned = {(o.object_type, o.object) for o in design.of("tenancy.contact-assignments")
                if isinstance(o, ContactAssignment) and o.role == "owner"}
    for kind, ot in (("dcim.devices", "dcim.device"), ("ipam.prefixes", "ipam.prefix"),
                     ("circuits.circuits", "circuits.circuit")):
        for o in design.of(kind):
            assert getattr(o, "tenant", None), o.describe()
            assert (ot, o.key()) in assigned, o.describe()
    for v in design.of("ipam.vlans"):
        assert isinstance(v, VLAN) and v.tenant and v.owner_contact, v.describe()
    card = [o for o in design.of("ipam.prefixes") if isinstance(o, Prefix) and o.role == "campus-card"]
    assert {o.tenant for o in card} == {"bank-a", "bank-b"}
    assert all(isinstance(c, Circuit) and c.tenant for c in design.of("circuits.circuits"))


def test_no_rack_over_budget(design: Design) -> None:
    draw = {(t.device_type, t.name): t.allocated_draw or 0 for t in design.of("dcim.power-port-templates")
            if isinstance(t, PowerPortTemplate)}
    per_rack: dict[tuple[str, str], int] = defaultdict(int)
    for d in design.of("dcim.devices"):
        if isinstance(d, Device) and d.rack and d.role != "pdu":
            per_rack[(d.site, d.rack)] += sum(v for (dt, _), v in draw.items() if dt == d.device_type)
    for f in design.of("dcim.power-feeds"):
        assert isinstance(f, PowerFeed)
        budget = f.voltage * f.amperage * f.max_utilization / 100  # one feed carries the rack alone
        assert per_rack[(f.site, f.rack or "")] <= budget, f.describe()
    assert max(per_rack.values()) > 1000  # real numbers, not zeros


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "campus"
    shutil.copytree(CAMPUS, dst)
    return dst


def test_bad_field_names_file_object_and_field(tmp_path: Path) -> None:
    src = _copy(tmp_path)
    f = src / "organisation.yml"
    f.write_text(f.read_text().replace("{name: Yuntang, slug: yuntang,", "{name: Yuntang, slug: yuntang, colour: red,"))
    with pytest.raises(DataError) as exc:
        load_design(src)
    msg = str(exc.value)
    assert "organisation.yml" in msg and "Yuntang" in msg and "colour" in msg


def test_unknown_reference_is_named(tmp_path: Path) -> None:
    src = _copy(tmp_path)
    f = src / "datacentre.yml"
    f.write_text(f.read_text().replace("rack: D04, position: 22,", "rack: Z99, position: 22,"))
    with pytest.raises(DataError) as exc:
        load_design(src)
    assert "yt-dc-stor1" in str(exc.value) and "'rack'" in str(exc.value) and "Z99" in str(exc.value)


def test_conflict_and_unknown_section(tmp_path: Path) -> None:
    src = _copy(tmp_path)
    (src / "zz.yml").write_text("dcim.sites:\n  - {name: Yuntang, slug: yuntang, time_zone: UTC}\n")
    with pytest.raises(DataError, match="time_zone"):
        load_design(src)
    (src / "zz.yml").write_text("dcim.sitez: []\n")
    with pytest.raises(DataError, match="unknown section"):
        load_design(src)
    (src / "zz.yml").write_text("dcim.sites: [\n")
    with pytest.raises(DataError, match=r"zz\.yml"):
        load_design(src)
