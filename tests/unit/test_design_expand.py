"""Expansion constructs and design passes (pure, no NetBox)."""

from __future__ import annotations

import pytest

from campusnet.design import expand as ex
from campusnet.design.models import (
    VLAN,
    Cable,
    ContactAssignment,
    Device,
    FrontPortTemplate,
    Interface,
    IPAddress,
    Prefix,
    RearPortTemplate,
)


def test_expand_range_and_addresses() -> None:
    assert ex.expand_range("E[01-03]") == ["E01", "E02", "E03"]
    assert ex.expand_range("p[1-2]/[0-1]") == ["p1/0", "p1/1", "p2/0", "p2/1"]
    assert ex.subnet("10.255.2.0/24", 0, 31) == "10.255.2.0/31"
    assert ex.nth_address("10.30.10.0/24", 1) == "10.30.10.1/24"
    assert ex.offset_address("10.255.0.101/32", 19) == "10.255.0.120/32"
    with pytest.raises(ValueError):
        ex.subnet("10.20.0.0/16", 256, 24)


def _campus(buildings: int, switches: int = 2, panels: bool = True) -> ex.Campus:
    return ex.Campus.model_validate({
        "site": "s", "prefix": "x", "supernet": "10.20.0.0/16",
        "core": {"name": "x-core", "site": "s", "location": "room", "device_type": "core", "platform": "huawei-vrp",
                 "role": "core-switch", "tenant": "t", "owner_contact": "NOC",
                 "ports": [{"name": "25GE{m}/0/[1-4]", "type": "25gbase-x-sfp28"}],
                 "members": [{"name": "x-core-1", "rack": "A01"}, {"name": "x-core-2", "rack": "B01"}]},
        "access": {"device_type": "acc", "platform": "h3c-comware", "tenant": "t", "owner_contact": "NOC",
                   "uplinks": ["Te1", "Te2"], "loopback_first": "10.255.0.100/32", "mgmt_first": "10.254.0.100/24"},
        "uses": {"teaching": {"vid_base": 100, "octet_base": 0, "tenant": "t", "owner_contact": "USC"},
                 "wireless": {"vid_base": 400, "octet_base": 120, "tenant": "w", "owner_contact": "W"}},
        "patch_panels": {"device_type": "pp", "racks": ["A01", "B01"], "ports": 24} if panels else None,
        "buildings": [{"number": n, "name": f"B{n}", "uses": ["teaching", "wireless"], "switches": switches,
                       "tags": {1: ["lab"]}} for n in range(1, buildings + 1)],
    })


def test_campus_shape() -> None:
    objs = _campus(3).expand()
    devices = {o.name: o for o in objs if isinstance(o, Device)}
    access = [d for d in devices.values() if d.role == "access-switch"]
    assert len(access) == 6
    assert devices["x-b01-as1"].tags == ["lab"] and devices["x-b01-as2"].tags == []
    vlans = {o.name: o for o in objs if isinstance(o, VLAN)}
    assert vlans["x-b03-wireless"].vid == 403 and vlans["x-b03-wireless"].tenant == "w"
    prefixes = {o.vlan: o.prefix for o in objs if isinstance(o, Prefix)}
    assert prefixes["x-b02-teaching"] == "10.20.2.0/24" and prefixes["x-b02-wireless"] == "10.20.122.0/24"
    ifs = {(o.device, o.name): o for o in objs if isinstance(o, Interface)}
    # switch 4 = building 2, switch 2: Eth-Trunk4 on the master, one member per chassis
    assert ifs[("x-core-1", "Eth-Trunk4")].type == "lag"
    member = ifs[("x-core-2", "25GE2/0/4")]
    assert member.lag == "Eth-Trunk4" and member.lag_device == "x-core-1"
    assert ifs[("x-b02-as2", "Bridge-Aggregation1")].tagged_vlans == ["x-b02-teaching", "x-b02-wireless"]
    assert ifs[("x-core-1", "Vlanif101")].untagged_vlan == "x-b01-teaching"
    ips = {o.address for o in objs if isinstance(o, IPAddress)}
    assert "10.20.121.1/24" in ips
    # through patch panels: two cables per uplink
    assert len([o for o in objs if isinstance(o, Cable)]) == 6 * 2 * 2
    assert "x-a01-odf1" in devices and "x-b01-odf1" in devices


def test_campus_direct_uplinks_and_more_panels() -> None:
    assert len([o for o in _campus(2, panels=False).expand() if isinstance(o, Cable)]) == 4 * 2
    devices = [o.name for o in _campus(13).expand() if isinstance(o, Device)]  # 26 switches > 24 ports
    assert "x-a01-odf2" in devices


def test_fabric_and_planned_cables() -> None:
    fab = ex.Fabric(spines=["s1", "s2"], leaves=["l1", "l2"], pool="10.255.2.0/24")
    objs = fab.expand()
    addrs = sorted(o.address for o in objs if isinstance(o, IPAddress))
    assert addrs[:2] == ["10.255.2.0/31", "10.255.2.1/31"] and len(addrs) == 8
    planned = Device(name="l2", device_type="t", role="dc-leaf", site="s", status="planned", tags=["expansion"])
    out = ex.planned_cables([*objs, planned])
    assert len(out) == 2
    assert all(isinstance(c, Cable) and c.status == "planned" and c.tags == ["expansion"] for c in out)


def test_power_cabling_alternates_pdus() -> None:
    rr = ex.RackRoom(site="s", location="room", device_prefix="x", tenant="t", owner_contact="GO", pdu_type="pdu",
                     racks=[ex.RackGroup(names="A01")])
    objs = rr.expand()
    from campusnet.design.models import PowerOutletTemplate, PowerPortTemplate

    objs += [PowerOutletTemplate(device_type="pdu", name=f"O{i}", power_port="INPUT") for i in (1, 2)]
    objs += [PowerPortTemplate(device_type="srv", name=p, allocated_draw=300) for p in ("PSU1", "PSU2")]
    objs.append(Device(name="srv1", device_type="srv", role="server", site="s", rack="A01", position=10))
    cables = [c for c in ex.power_cabling(objs) if isinstance(c, Cable)]
    ends = sorted((c.a[0].power_port, c.b[0].device, c.b[0].power_outlet) for c in cables)
    assert ends == [("PSU1", "x-a01-pdu-a", "O1"), ("PSU2", "x-a01-pdu-b", "O1")]


def test_server_vlan_and_templates() -> None:
    sv = ex.ServerVlan(name="dc-web", vid=2010, vni=12010, prefix="10.30.10.0/24", site="s",
                       gateways=["l1", "l2"], vrrp_group=10, tenant="t", owner_contact="IMC")
    objs = sv.expand()
    vip = [o for o in objs if isinstance(o, IPAddress) and o.fhrp_group]
    assert vip[0].address == "10.30.10.1/24" and vip[0].role == "vrrp"
    assert {o.address for o in objs if isinstance(o, IPAddress) and o.device} == {"10.30.10.2/24", "10.30.10.3/24"}
    from campusnet.design.models import DeviceType

    dt = DeviceType.model_validate({"manufacturer": "g", "model": "p", "slug": "p",
                                    "ports": [{"name": "F[1-2]", "rear": "R{}"}]})
    tpl = ex.device_type_templates([dt])
    assert {o.name for o in tpl if isinstance(o, RearPortTemplate)} == {"R1", "R2"}
    assert {o.rear_port for o in tpl if isinstance(o, FrontPortTemplate)} == {"R1", "R2"}


def test_ownership_skips_vlans() -> None:
    objs = [VLAN(name="v", vid=10, owner_contact="NOC"), Prefix(prefix="10.0.0.0/24", owner_contact="NOC")]
    out = ex.ownership(objs)
    assert len(out) == 1 and isinstance(out[0], ContactAssignment) and out[0].object_type == "ipam.prefix"
