"""Every rule: clean on the hand-built campus, fires (naming the object and field) when the data is broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_sot_models import cabled, itf, mini, patch
from typer.testing import CliRunner

from campusnet.errors import CampusnetError
from campusnet.rules import RULES, Violation, run_rules
from campusnet.sot.models import Endpoint, Snapshot


def fired(snap: Snapshot, rule: str) -> list[Violation]:
    return run_rules(snap, [rule])


def names(vs: list[Violation]) -> set[str]:
    return {v.object_name for v in vs}


def test_mini_campus_is_clean() -> None:
    assert run_rules(mini()) == []


def test_every_rule_is_documented_and_tested() -> None:
    src = "".join(p.read_text() for p in Path(__file__).parent.glob("test_rules*.py"))
    for name, r in RULES.items():
        assert r.summary and len(r.doc) > 80, name
        assert f'"{name}"' in src, f"rule {name} has no unit test"
    doc = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text()
    for name in RULES:
        assert f"`{name}`" in doc, f"rule {name} missing from docs/rules.md"


def test_unknown_rule_is_an_error() -> None:
    with pytest.raises(CampusnetError, match="unknown rule"):
        run_rules(mini(), ["nope"])


# -- ownership ----------------------------------------------------------------------------------------------
def test_tenant_set() -> None:
    s = patch(mini(), "devices", "yt-core-2", tenant=None)
    s = patch(s, "vlans", "yuntang-users:120", tenant=None)
    s = patch(s, "circuits", "china-telecom/CT-0001", tenant="nobody")
    vs = fired(s, "tenant-set")
    assert names(vs) == {"yt-core-2", "yuntang-users:120", "china-telecom/CT-0001"}
    assert all(v.field == "tenant" for v in vs)


def test_owner_assigned() -> None:
    s = mini()
    s = s.model_copy(update={"contact_assignments": tuple(
        a.model_copy(update={"role": "technical"}) if a.object_key == "global:10.0.0.0/24" else a
        for a in s.contact_assignments if a.object_key != "yt-srv-1")})
    vs = fired(s, "owner-assigned")
    assert names(vs) == {"yt-srv-1", "global:10.0.0.0/24"}
    assert any("technical" in v.message for v in vs)


def test_owner_assigned_vlan_native_owner() -> None:
    # NetBox 4.7 refuses contact assignments on VLANs: the native owner field counts for them
    s = mini()
    s = s.model_copy(update={"contact_assignments": tuple(
        a for a in s.contact_assignments if a.object_type != "ipam.vlan")})
    assert names(fired(s, "owner-assigned")) == {"yuntang-users:110", "yuntang-users:120"}
    s = patch(s, "vlans", "yuntang-users:110", owner="Network Operations Centre")
    assert names(fired(s, "owner-assigned")) == {"yuntang-users:120"}
    s = patch(s, "vlans", "yuntang-users:120", owner_contact="NOC")  # the campus's custom field
    assert fired(s, "owner-assigned") == []


# -- topology -----------------------------------------------------------------------------------------------
def test_no_aggregation_layer_single_chassis() -> None:
    s = mini()
    # move the second uplink from chassis 2 onto chassis 1
    a2 = s.interface("yt-b01-acc-1:XGE1/0/50")
    c3 = itf("yt-core-1", "10GE1/0/2", lag="Eth-Trunk11", mtu=9000)
    a2, c3 = cabled(a2, c3, 2)
    gone = ("yt-b01-acc-1:XGE1/0/50", "yt-core-2:10GE2/0/1")
    s = s.model_copy(update={"interfaces": (*(i for i in s.interfaces if i.key not in gone), a2, c3)})
    vs = fired(s, "no-aggregation-layer")
    assert [(v.object_name, v.field) for v in vs] == [("yt-b01-acc-1", "connected_endpoints")]
    assert "one chassis" in vs[0].message


def test_no_aggregation_layer_daisy_chain_and_lag() -> None:
    s = mini()
    # a second access switch hangs off the first one: an aggregation layer
    from test_sot_models import ACCESS, dev

    acc2 = dev("yt-b02-acc-1", "access-switch", ACCESS)
    up, down = cabled(itf(acc2.name, "XGE1/0/49"), itf("yt-b01-acc-1", "XGE1/0/48", lag="BAGG2"), 9)
    s = s.model_copy(update={"devices": (*s.devices, acc2), "interfaces": (*s.interfaces, up, down)})
    vs = fired(s, "no-aggregation-layer")
    keys = {(v.object_name, v.field) for v in vs}
    assert ("yt-b02-acc-1:XGE1/0/49", "connected_endpoints") in keys  # acc2 ends on an access switch
    assert ("yt-b02-acc-1:XGE1/0/49", "lag") in keys  # not in a LAG
    assert ("yt-b01-acc-1:XGE1/0/48", "connected_endpoints") in keys  # acc1 has a non-core uplink
    assert ("yt-b01-acc-1", "lag") in keys  # uplinks split over BAGG1 and BAGG2


def test_no_aggregation_layer_no_uplink() -> None:
    s = patch(mini(), "interfaces", "yt-b01-acc-1:XGE1/0/49", connected_endpoints=(), link_peers=(), cable=None)
    s = patch(s, "interfaces", "yt-b01-acc-1:XGE1/0/50", connected_endpoints=(), link_peers=(), cable=None)
    vs = fired(s, "no-aggregation-layer")
    assert [(v.object_name, v.message) for v in vs] == [("yt-b01-acc-1", "no uplink to the core cluster")]


def test_no_aggregation_layer_core_side_not_one_lag() -> None:
    s = patch(mini(), "interfaces", "yt-core-2:10GE2/0/1", lag=None)
    vs = fired(s, "no-aggregation-layer")
    assert names(vs) == {"yt-b01-acc-1"} and "not members of one LAG" in vs[0].message


# -- links --------------------------------------------------------------------------------------------------
def test_trunk_vlans_consistent() -> None:
    s = patch(mini(), "interfaces", "yt-core-1:Eth-Trunk11", tagged_vids=(110,))
    vs = fired(s, "trunk-vlans-consistent")
    assert len(vs) == 1 and vs[0].field == "tagged_vlans"
    assert vs[0].object_name == "yt-b01-acc-1:BAGG1 <-> yt-core-1:Eth-Trunk11"
    assert "120" in vs[0].message
    s = patch(mini(), "interfaces", "yt-srv-1:eth0", mode="tagged")
    assert [v.field for v in fired(s, "trunk-vlans-consistent")] == ["mode"]
    s = patch(mini(), "interfaces", "yt-srv-1:eth0", mode=None, untagged_vid=None)  # a host NIC: fine
    assert fired(s, "trunk-vlans-consistent") == []
    s = patch(s, "interfaces", "yt-b01-acc-1:GE1/0/1", mode="tagged")  # ... but not on a trunk
    assert [v.field for v in fired(s, "trunk-vlans-consistent")] == ["mode"]
    s = patch(mini(), "interfaces", "yt-srv-1:eth0", untagged_vid=120)
    assert [v.field for v in fired(s, "trunk-vlans-consistent")] == ["untagged_vlan"]


def test_mtu_consistent() -> None:
    s = patch(mini(), "interfaces", "yt-core-2:10GE2/0/1", mtu=1500)
    vs = fired(s, "mtu-consistent")
    assert {v.object_name for v in vs} == {"yt-b01-acc-1:XGE1/0/50 <-> yt-core-2:10GE2/0/1", "yt-core-2:10GE2/0/1"}
    s = patch(mini(), "interfaces", "yt-egress-1:100GE1/0/1", mtu=9216)
    assert [v.message for v in fired(s, "mtu-consistent")] == [
        "MTU unset on yt-border-1:100GE1/0/1 but 9216 on yt-egress-1:100GE1/0/1"]


def test_routed_link_subnet() -> None:
    s = patch(mini(), "interfaces", "yt-border-1:100GE1/0/1", ip_addresses=("10.0.0.3/31",))
    vs = fired(s, "routed-link-subnet")
    assert len(vs) == 1 and "no common subnet" in vs[0].message
    s = patch(mini(), "interfaces", "yt-border-1:100GE1/0/1", ip_addresses=())
    assert "has none" in fired(s, "routed-link-subnet")[0].message
    s = patch(mini(), "interfaces", "yt-border-1:100GE1/0/1", ip_addresses=("10.0.0.0/31",))
    assert "same address" in fired(s, "routed-link-subnet")[0].message
    s = patch(mini(), "interfaces", "yt-border-1:100GE1/0/1", ip_addresses=("10.0.0.1/24",))
    s = patch(s, "interfaces", "yt-egress-1:100GE1/0/1", ip_addresses=("10.0.0.0/24",))
    assert "use a /31" in fired(s, "routed-link-subnet")[0].message


def test_cabled_interfaces_enabled() -> None:
    s = patch(mini(), "interfaces", "yt-srv-1:eth0", enabled=False)
    vs = fired(s, "cabled-interfaces-enabled")
    assert [(v.object_name, v.field) for v in vs] == [("yt-srv-1:eth0", "enabled")]
    s = patch(s, "cables", "3", status="planned")
    assert fired(s, "cabled-interfaces-enabled") == []


# -- IPAM ---------------------------------------------------------------------------------------------------
def test_ip_unique_per_vrf() -> None:
    s = mini()
    dup = s.ip_addresses[2].model_copy(update={"id": 999, "address": "10.0.0.0/24", "interface": "100GE1/0/9"})
    s = s.model_copy(update={"ip_addresses": (*s.ip_addresses, dup)})
    vs = fired(s, "ip-unique-per-vrf")
    assert names(vs) == {"global:10.0.0.0/31", "global:10.0.0.0/24"}
    # the same address in another VRF is fine
    s2 = mini()
    other = s2.ip_addresses[2].model_copy(update={"id": 998, "vrf": "mgmt"})
    assert fired(s2.model_copy(update={"ip_addresses": (*s2.ip_addresses, other)}), "ip-unique-per-vrf") == []


def test_ip_in_prefix() -> None:
    s = patch(mini(), "ip_addresses", "global:10.0.0.1/31", address="172.16.0.1/31")
    vs = fired(s, "ip-in-prefix")
    assert names(vs) == {"global:172.16.0.1/31"} and "not inside any prefix" in vs[0].message
    s = patch(mini(), "ip_addresses", "mgmt:10.254.0.11/24", vrf=None)  # global has no 10.254.0.0/24
    assert names(fired(s, "ip-in-prefix")) == {"global:10.254.0.11/24"}
    s = patch(mini(), "ip_addresses", "global:10.0.0.1/31", address="10.0.0.1/16")
    assert "wider than its prefix" in fired(s, "ip-in-prefix")[0].message
    s = patch(mini(), "ip_addresses", "global:10.0.0.1/31", address="198.51.100.9/32", tags=("provider-test",))
    assert fired(s, "ip-in-prefix") == []


def test_fhrp_consistent() -> None:
    s = patch(mini(), "interfaces", "yt-core-2:Vlanif110", fhrp=())
    vs = fired(s, "fhrp-consistent")
    assert [(v.object_type, v.field) for v in vs] == [("ipam.fhrpgroup", "assignments")]
    s = patch(mini(), "fhrp_groups", 900, vips=("10.10.99.1/24",))
    vs = fired(s, "fhrp-consistent")
    assert names(vs) == {"yt-core-1:Vlanif110", "yt-core-2:Vlanif110"}
    s = patch(mini(), "fhrp_groups", 900, vips=())
    assert [v.message for v in fired(s, "fhrp-consistent")] == ["no virtual IP"]
    s = patch(mini(), "interfaces", "yt-core-2:Vlanif110",
              fhrp=(mini().interface("yt-core-1:Vlanif110").fhrp[0],))
    assert [v.field for v in fired(s, "fhrp-consistent")] == ["priority"]


# -- racks --------------------------------------------------------------------------------------------------
def test_rack_power_budget_feed_and_rack() -> None:
    # 230 V x 16 A x 80 % = 2944 W per feed
    s = patch(mini(), "power_ports", "yt-srv-1:PSU1", allocated_draw=2800)
    vs = fired(s, "rack-power-budget")
    assert {(v.object_type, v.object_name) for v in vs} == {("dcim.powerfeed", "PP-A/R01-A"),
                                                             ("dcim.rack", "yuntang/R01")}
    assert "3100 W exceeds feed capacity 2944 W" in vs[0].message


def test_rack_power_budget_rack_without_feed() -> None:
    s = mini().model_copy(update={"power_feeds": ()})
    vs = fired(s, "rack-power-budget")
    assert [(v.object_name, v.field) for v in vs] == [("yuntang/R01", "power_feeds")]
    s = mini()
    for f in ("PP-A/R01-A", "PP-B/R01-B"):
        s = patch(s, "power_feeds", f, status="planned")  # a planned (expansion) rack on planned feeds
    assert fired(s, "rack-power-budget") == []
    s = patch(s, "power_feeds", "PP-A/R01-A", status="offline")
    s = patch(s, "power_feeds", "PP-B/R01-B", status="failed")
    assert names(fired(s, "rack-power-budget")) == {"yuntang/R01"}


def test_rack_power_budget_three_phase_fits() -> None:
    s = patch(mini(), "power_ports", "yt-srv-1:PSU1", allocated_draw=2800)
    for f in ("PP-A/R01-A", "PP-B/R01-B"):
        s = patch(s, "power_feeds", f, phase="three-phase")
    assert fired(s, "rack-power-budget") == []


def test_rack_space() -> None:
    s = patch(mini(), "devices", "yt-border-1", position=30)  # on top of yt-egress-1
    vs = fired(s, "rack-space")
    assert names(vs) == {"yt-border-1", "yt-egress-1"} and all(v.field == "position" for v in vs)
    s = patch(mini(), "devices", "yt-srv-1", position=42)  # 2U at U42 of a 42U rack
    vs = fired(s, "rack-space")
    assert [(v.object_name, v.field) for v in vs] == [("yt-srv-1", "position")] and "does not fit" in vs[0].message


def test_rack_space_half_depth_back_to_back() -> None:
    from test_sot_models import ACCESS

    half = ACCESS.model_copy(update={"is_full_depth": False})
    s = patch(mini(), "devices", "yt-egress-1", device_type=half, face="front")
    s = patch(s, "devices", "yt-border-1", device_type=half, face="rear", position=30)
    assert fired(s, "rack-space") == []


# -- lab ----------------------------------------------------------------------------------------------------
def test_lab_device_complete() -> None:
    s = patch(mini(), "devices", "yt-b01-acc-1", platform=None, oob_ip=None)
    vs = fired(s, "lab-device-complete")
    assert {(v.object_name, v.field) for v in vs} == {("yt-b01-acc-1", "platform"), ("yt-b01-acc-1", "oob_ip")}
    s = patch(mini(), "devices", "yt-srv-1", tags=("lab",))  # a lab server without addresses
    assert {v.field for v in fired(s, "lab-device-complete")} == {"primary_ip4", "oob_ip"}


def test_oob_in_mgmt() -> None:
    s = patch(mini(), "devices", "yt-b01-acc-1", oob_ip="10.254.1.11/24")
    assert "outside 10.254.0.0/24" in fired(s, "oob-in-mgmt")[0].message
    s = patch(mini(), "ip_addresses", "mgmt:10.254.0.11/24", vrf=None)
    assert "not mgmt" in fired(s, "oob-in-mgmt")[0].message
    s = patch(mini(), "interfaces", "yt-b01-acc-1:mgmt0", mgmt_only=False)
    assert [v.field for v in fired(s, "oob-in-mgmt")] == ["mgmt_only"]
    s = patch(mini(), "devices", "yt-srv-1", oob_ip="10.254.0.11/24")
    assert names(fired(s, "oob-in-mgmt")) == {"yt-srv-1", "yt-b01-acc-1"}
    s = patch(mini(), "devices", "yt-srv-1", oob_ip="10.254.0.254/24")
    assert "reserved" in fired(s, "oob-in-mgmt")[0].message


# -- overlay ------------------------------------------------------------------------------------------------
def test_vni_unique() -> None:
    s = mini()
    twin = s.l2vpns[0].model_copy(update={"id": 2, "slug": "vni-dup", "name": "vni-dup"})
    vs = fired(s.model_copy(update={"l2vpns": (*s.l2vpns, twin)}), "vni-unique")
    assert {(v.object_type, v.object_name) for v in vs} == {
        ("vpn.l2vpn", "vni-10110"), ("vpn.l2vpn", "vni-dup"), ("ipam.vlan", "yuntang-users:110")}
    s = patch(mini(), "l2vpns", "vni-10110", identifier=None)
    assert [v.field for v in fired(s, "vni-unique")] == ["identifier"]


def test_bgp_asn_defined() -> None:
    s = patch(mini(), "devices", "yt-border-1", bgp_asn=65099)
    s = patch(s, "providers", "china-telecom", asns=())
    vs = fired(s, "bgp-asn-defined")
    assert {(v.object_name, v.field) for v in vs} == {("yt-border-1", "custom_fields.bgp_asn"),
                                                       ("china-telecom", "asns")}


def test_circuit_terminated() -> None:
    s = mini()
    ct = s.circuits[0]
    assert ct.termination_a is not None
    a = ct.termination_a.model_copy(update={"link_peers": (), "connected_endpoints": (), "cable": None})
    s = patch(s, "circuits", ct.key, termination_a=a, termination_z=None)
    vs = fired(s, "circuit-terminated")
    assert [(v.object_name, v.field) for v in vs] == [("china-telecom/CT-0001", "termination_a")]
    s = patch(mini(), "circuits", ct.key, termination_a=None)
    assert [v.message for v in fired(s, "circuit-terminated")] == ["no A termination"]
    # through a patch panel: the front port is the link peer, the interface the path end
    fp = Endpoint(kind="frontport", device="yt-odf-1", name="1")
    a2 = ct.termination_a.model_copy(update={"link_peers": (fp,)})
    assert fired(patch(mini(), "circuits", ct.key, termination_a=a2), "circuit-terminated") == []


# -- issue 9: the rules added for bad data (the corpus is tests/unit/test_rules_bad_data.py) ------------------
CAMPUS = Path(__file__).resolve().parents[1] / "fixtures" / "snapshots" / "campus.json"


def campus() -> Snapshot:
    return Snapshot.load(CAMPUS)


def test_prefix_hierarchy_is_not_an_overlap() -> None:
    s = campus()
    # an active aggregate (not a container, but bound to nothing) holding children is a parent, not an overlap
    s = patch(s, "prefixes", "global:10.10.0.0/16", status="active")
    assert fired(s, "prefix-no-overlap") == []
    # two containers of one network are a duplicate all the same
    twin = s.prefixes[0].model_copy(update={"id": 99999, "prefix": "10.20.0.0/16", "status": "container"})
    s = s.model_copy(update={"prefixes": (*s.prefixes, twin)})
    assert [v.object_name for v in fired(s, "prefix-no-overlap")] == ["global:10.20.0.0/16"]
    # the same network in another VRF is not a duplicate
    other = twin.model_copy(update={"id": 99998, "prefix": "10.10.1.0/24", "vrf": "mgmt", "vlan": None})
    assert "global:10.10.1.0/24" not in names(fired(s.model_copy(update={"prefixes": (*s.prefixes, other)}),
                                                     "prefix-no-overlap"))


def test_ebgp_asn_distinct_skips_ospf_and_chassis() -> None:
    s = campus()
    # core (65000) and egress (64500) run OSPF on their links: equal ASNs there derive no BGP and pass
    s = patch(s, "devices", "yt-egress-cernet", bgp_asn=65000)
    assert fired(s, "ebgp-asn-distinct") == []
    # without the ospf tag the same link is an eBGP link: now the collision counts
    s = patch(s, "interfaces", "yt-egress-cernet:10GE0/1/0", tags=())
    assert names(fired(s, "ebgp-asn-distinct")) == {"yt-core-1:25GE1/0/43 <-> yt-egress-cernet:10GE0/1/0"}


def test_platform_supported_templates_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from campusnet import settings

    (tmp_path / "huawei_vrp").mkdir()  # an empty template directory for one platform
    monkeypatch.setattr(settings, "templates_dir", lambda: tmp_path)
    vs = fired(campus(), "platform-supported")
    assert "yt-core-1" in names(vs) and "jpl-b01-as1" in names(vs)
    assert all("has no template" in v.message for v in vs)
    # end devices, patch panels, test hosts and planned devices are never configured: not reported
    assert not names(vs) & {"yt-dc-ntp1", "jpl-a01-odf1", "vpn-user1", "yt-dc-leaf5", "jpl-ups-a"}


def test_platform_supported_ignores_unconfigured_devices() -> None:
    s = patch(campus(), "devices", "yt-dc-leaf5", platform="cisco-ios")  # planned: not configured yet
    s = patch(s, "devices", "yt-dc-ntp1", platform="ubuntu")  # a server
    assert fired(s, "platform-supported") == []


def test_l2vpn_same_vid_in_two_sites_passes() -> None:
    from campusnet.sot.models import L2VPNTermination

    s = campus()
    l2 = next(x for x in s.l2vpns if x.slug == "dc-web")
    stretched = L2VPNTermination(id=99002, kind="vlan", vlan="jinpenling:2010", vid=2010)
    s = patch(s, "l2vpns", "dc-web", terminations=(*l2.terminations, stretched))
    assert fired(s, "l2vpn-one-vlan") == []


def test_no_self_cable_through_patch_panels() -> None:
    s = campus()
    me = Endpoint(kind="interface", device="jpl-b01-as1", name="Ten-GigabitEthernet1/0/28")
    s = patch(s, "interfaces", "jpl-b01-as1:Ten-GigabitEthernet1/0/27", connected_endpoints=(me,))
    vs = fired(s, "no-self-cable")
    assert [(v.object_name, v.field) for v in vs] == [("jpl-b01-as1:Ten-GigabitEthernet1/0/27", "cable")]
    assert "Ten-GigabitEthernet1/0/28, an interface of the same device" in vs[0].message


def test_trunk_vlan_identity_needs_keys() -> None:
    # a snapshot without VLAN keys (hand-built, or VLANs the token cannot see) compares nothing
    s = patch(campus(), "interfaces", "jpl-core-1:Eth-Trunk1", tagged_vlans=())
    assert fired(s, "trunk-vlan-identity") == []


# -- CLI ----------------------------------------------------------------------------------------------------
def test_cli_validate_snapshot(tmp_path: Path) -> None:
    from campusnet.cli import app

    runner = CliRunner()
    clean = mini().save(tmp_path / "clean.json")
    r = runner.invoke(app, ["validate", "--snapshot", str(clean)])
    assert r.exit_code == 0, r.output
    assert "clean" in r.output
    bad = patch(mini(), "devices", "yt-core-2", tenant=None).save(tmp_path / "bad.json")
    r = runner.invoke(app, ["validate", "--snapshot", str(bad), "--json"])
    assert r.exit_code == 1
    data = json.loads(r.output)
    assert data["violations"] == [{"rule": "tenant-set", "object_type": "dcim.device", "object_name": "yt-core-2",
                                   "field": "tenant", "message": "no tenant"}]
    r = runner.invoke(app, ["validate", "--snapshot", str(bad), "--rule", "mtu-consistent"])
    assert r.exit_code == 0
    r = runner.invoke(app, ["validate", "--snapshot", str(bad), "--limit", "role=access-switch"])
    assert r.exit_code == 0, r.output
