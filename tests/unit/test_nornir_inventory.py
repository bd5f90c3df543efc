"""The Nornir inventory plugin on a recorded snapshot: hosts, addresses, platforms, groups, lazy intent."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from nornir.core.inventory import Inventory

from campusnet import intent as intent_pkg
from campusnet.errors import CampusnetError
from campusnet.intent import DeviceIntent, IntentError, build_intents, configured_devices
from campusnet.nornir_inventory import (
    IntentSource,
    NetBoxSnapshotInventory,
    build_inventory,
    emulation_of,
    group_name,
    host_groups,
    managed_devices,
)
from campusnet.pipeline import Pipeline
from campusnet.platforms import get_platform
from campusnet.sot import Snapshot
from nornir_tasks import init_nornir

SNAPSHOTS = Path(__file__).resolve().parent.parent / "fixtures" / "snapshots"


def _snapshot_file() -> Path:
    """The recorded campus when helper tooling has recorded it, else the small hand-made campus."""
    campus = SNAPSHOTS / "campus.json"
    return campus if campus.exists() else SNAPSHOTS / "small.json"


@pytest.fixture(scope="module")
def snap_file() -> Path:
    return _snapshot_file()


@pytest.fixture(scope="module")
def snap(snap_file: Path) -> Snapshot:
    return Snapshot.load(snap_file)


@pytest.fixture
def inv(snap: Snapshot) -> Inventory:
    return build_inventory(snap)


def test_hosts_are_the_configured_devices_one_per_virtual_chassis(snap: Snapshot, inv: Inventory) -> None:
    assert set(inv.hosts) == {d.name for d in configured_devices(snap)}
    assert inv.hosts, "the snapshot has configured devices"
    for vc in snap.virtual_chassis:
        members = [m.name for m in snap.vc_members(vc.name)]
        in_inventory = [m for m in members if m in inv.hosts]
        assert len(in_inventory) <= 1, f"{vc.name}: one host per virtual chassis, got {in_inventory}"
        if vc.master and in_inventory:
            assert in_inventory == [vc.master]
    for d in snap.devices:
        if d.platform is None:
            assert d.name not in inv.hosts


def test_hostname_is_the_oob_address_and_platform_comes_from_netutils(snap: Snapshot, inv: Inventory) -> None:
    for name, host in inv.hosts.items():
        d = snap.device(name)
        assert host.hostname == (d.oob_ip.split("/")[0] if d.oob_ip else None)
        p = get_platform(d.platform)
        assert host.platform == (p.netmiko or p.netutils_name)
        assert host.connection_options["netmiko"].platform == p.netmiko
        if p.napalm is None:
            assert "napalm" not in host.connection_options


def test_groups_per_site_role_platform_tag(snap: Snapshot, inv: Inventory) -> None:
    for name, host in inv.hosts.items():
        d = snap.device(name)
        names = [g.name for g in host.groups]
        assert names == list(host_groups(d))
        assert group_name("site", d.site) in names
        assert group_name("role", d.role) in names
        assert d.platform and group_name("platform", d.platform) in names
        for g in names:
            assert g in inv.groups
            assert "-" not in g
    site = snap.devices[0].site
    assert {h.name for h in inv.filter(filter_func=lambda h: h.has_parent_group(group_name("site", site))).hosts
            .values()} == {d.name for d in managed_devices(snap) if d.site == site}


def test_data_holds_netbox_facts(snap: Snapshot, inv: Inventory) -> None:
    for name, host in inv.hosts.items():
        d = snap.device(name)
        assert host["site"] == d.site
        assert host["role"] == d.role
        assert host["platform"] == d.platform
        assert host["status"] == d.status
        assert host["tags"] == list(d.tags)
        if d.virtual_chassis:
            assert name in host["vc_members"] and len(host["vc_members"]) >= 2


def test_intent_is_lazy_built_once_and_thread_safe(snap: Snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = intent_pkg.build_intents_collect

    def counting(s: Snapshot, **kw: Any) -> tuple[dict[str, DeviceIntent], list[IntentError]]:
        calls.append(1)
        return real(s, **kw)

    monkeypatch.setattr(intent_pkg, "build_intents_collect", counting)
    inv = build_inventory(snap)
    assert calls == []
    assert all("intent" not in h.data for h in inv.hosts.values())  # not built by loading the inventory

    got: dict[str, DeviceIntent] = {}

    def fetch(name: str) -> None:
        got[name] = inv.hosts[name]["intent"]

    threads = [threading.Thread(target=fetch, args=(n,)) for n in inv.hosts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]
    for name, intent in got.items():
        assert isinstance(intent, DeviceIntent)
        assert intent.hostname == name
        assert inv.hosts[name].get("intent") is intent


def test_emulation_is_its_own_host_key(snap: Snapshot) -> None:
    """A lab host's twin is ``host["emulation"]`` (Pipeline.emulations), not part of its intent."""
    inv = build_inventory(snap)
    pipe = Pipeline.build(snap)
    assert pipe.emulations
    for name, host in inv.hosts.items():
        if name in pipe.intents:
            assert emulation_of(host) == pipe.emulations.get(name)
            assert "emulation" not in host["intent"].model_dump()


def test_intent_by_chassis_or_member_name_and_unknown_host(snap: Snapshot) -> None:
    src = IntentSource(snap)
    for vc in snap.virtual_chassis:
        master = next((d.name for d in managed_devices(snap) if d.virtual_chassis == vc.name), None)
        if master is None:
            continue
        assert src.intent_for(vc.name).hostname == master
        for m in snap.vc_members(vc.name):
            assert src.intent_for(m.name).hostname == master
    with pytest.raises(CampusnetError) as exc:
        src.intent_for("no-such-device")
    assert exc.value.code == "E310" and exc.value.obj == "no-such-device" and exc.value.field == "intent"


def test_a_device_that_cannot_be_built_fails_alone(snap: Snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    real = intent_pkg.build_intents_collect
    victim = managed_devices(snap)[0].name

    def one_broken(s: Snapshot, **kw: Any) -> tuple[dict[str, DeviceIntent], list[IntentError]]:
        intents, errors = real(s, **kw)
        intents.pop(victim)
        return intents, [*errors, IntentError("no loopback address", device=victim, field="primary_ip4")]

    monkeypatch.setattr(intent_pkg, "build_intents_collect", one_broken)
    inv = build_inventory(snap)
    with pytest.raises(IntentError) as exc:
        inv.hosts[victim]["intent"]
    assert exc.value.device == victim and exc.value.field == "primary_ip4"
    others = [h for h in inv.hosts if h != victim]
    assert all(isinstance(inv.hosts[h]["intent"], DeviceIntent) for h in others)


def test_plugin_options_limit_and_bad_defaults(snap_file: Path, snap: Snapshot) -> None:
    site = managed_devices(snap)[0].site
    inv = NetBoxSnapshotInventory(snapshot=str(snap_file), limit=f"site={site}").load()
    assert set(inv.hosts) == {d.name for d in managed_devices(snap) if d.site == site}
    # limit selects hosts; intents still derive from the whole campus (as `campusnet render --limit`)
    full = build_intents(snap)
    for name, host in inv.hosts.items():
        assert host["intent"] == full[name]
    inv = NetBoxSnapshotInventory(snapshot=snap, defaults={"username": "netops", "port": 2222}).load()
    host = next(iter(inv.hosts.values()))
    assert (host.username, host.port) == ("netops", 2222)
    with pytest.raises(CampusnetError) as exc:
        NetBoxSnapshotInventory(snapshot=snap, defaults={"usernme": "x"}).load()
    assert exc.value.code == "E311" and exc.value.field == "defaults"


def test_init_nornir_uses_the_registered_plugin_and_threaded_runner(snap_file: Path, snap: Snapshot) -> None:
    nr = init_nornir(snapshot=snap_file)
    assert nr.config.inventory.plugin == "campusnet.NetBoxSnapshotInventory"
    assert nr.config.runner.plugin == "threaded"
    assert set(nr.inventory.hosts) == {d.name for d in managed_devices(snap)}
    # a Snapshot already in memory is used as is (no second read)
    nr2 = init_nornir(snapshot=snap, num_workers=2)
    assert set(nr2.inventory.hosts) == set(nr.inventory.hosts)
    assert nr2.config.runner.options["num_workers"] == 2
