"""Hostile strings cannot escape (issue 9, section 3): names refused with a code naming object and field,
descriptions made safe per platform, nothing from NetBox a command in a lab shell script, safe paths.

Every case corrupts a copy of a recorded snapshot (tests/fixtures/snapshots/small.json) or an intent built
from it; docs/reliability.md section 3 lists them with what the user sees."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from campusnet.errors import CampusnetError
from campusnet.intent import DeviceIntent, build_intents, build_intents_collect
from campusnet.intent.errors import IntentError
from campusnet.lab.day0 import frr_conf, host_script, provider_script
from campusnet.lab.plan import BgpPeer, LabInterface, LabNode, LabRoute
from campusnet.pipeline import Pipeline
from campusnet.render import render_all, render_device, render_files
from campusnet.safety import (
    name_problem,
    path_component,
    quote_description,
    shell_word,
    text_problem,
)
from campusnet.sot.models import Snapshot

SMALL = Path(__file__).resolve().parent.parent / "fixtures" / "snapshots" / "small.json"
HOSTILE = ["$(reboot)", "`reboot`", "x; rm -rf /", "x\nreboot", "x && reboot", "x|sh", "x'q", 'x"q', "-rf"]


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return Snapshot.load(SMALL)


@pytest.fixture(scope="module")
def intents(snap: Snapshot) -> dict[str, DeviceIntent]:
    return build_intents(snap)


@pytest.fixture(scope="module")
def emulations(snap: Snapshot) -> dict[str, DeviceIntent]:
    return Pipeline.build(snap, strict=True).emulations


def fake(name: str) -> str:
    return f"v-{name}"


def errors_of(snap: Snapshot, device: str) -> list[IntentError]:
    _, errors = build_intents_collect(snap)
    return [e for e in errors if e.device == device]


def rename_interface(snap: Snapshot, key: str, **update: object) -> Snapshot:
    return snap.model_copy(update={"interfaces": tuple(
        i.model_copy(update=update) if i.key == key else i for i in snap.interfaces)})


def with_device(snap: Snapshot, target: str, /, **update: object) -> Snapshot:
    return snap.model_copy(update={"devices": tuple(
        d.model_copy(update=update) if d.name == target else d for d in snap.devices)})


# -- the policy itself ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["jpl-core-1", "ytg-leaf-1", "a", "sw_1.b2"])
def test_benign_device_names(value: str) -> None:
    assert name_problem(value, "device") is None


@pytest.mark.parametrize(("value", "why"), [
    ("sw\nsysname x", "control character U+000A"), ("sw\x1b[2J", "control character U+001B"),
    ("a/b", "'/'"), ("..", "'..'"), ("a..b", "'..'"), ("-oProxyCommand=x", "'-' at position 0"),
    ("a b", "' ' at position 1"), ("$(reboot)", "'$' at position 0"), ("x;y", "';'"), ("", "empty"),
    ("x" * 65, "longer than 64"), ("sw\u2028x", "U+2028"),
])
def test_hostile_device_names(value: str, why: str) -> None:
    problem = name_problem(value, "device")
    assert problem is not None and why in problem


def test_interface_names_keep_vendor_slashes() -> None:
    for ok in ("GigabitEthernet0/0/1", "Ten-GigabitEthernet1/0/49", "Eth1/0/1:2", "GE0/0/1.100",
               "M-GigabitEthernet0/0/0"):
        assert name_problem(ok, "interface") is None, ok
    for bad in ("GE0/0/1\n shutdown", "GE0/0/../1", "GE 0/0/1", "GE0/0/1;reboot", "GE'1"):
        assert name_problem(bad, "interface") is not None, bad


def test_vlan_names() -> None:
    assert name_problem("Staff Wi-Fi", "vlan") is None
    for bad in ("a/b", "x\ny", "b..", "$(x)", "trailing ", " lead"):
        assert name_problem(bad, "vlan") is not None, bad


def test_text_is_single_line() -> None:
    assert text_problem("uplink to core (Bank A)") is None
    assert "U+000A" in (text_problem("a\nb") or "")
    assert "U+0085" in (text_problem("a\x85b") or "")


# -- the builder refuses unsafe names: a coded error naming object and field --------------------------------
def test_newline_in_interface_name_is_e221(snap: Snapshot) -> None:
    bad = rename_interface(snap, "jpl-acc-b01:GE1/0/1", name="GE1/0/1\nundo shutdown")
    errs = errors_of(bad, "jpl-acc-b01")
    assert [e.code for e in errs] == ["E221"]
    assert str(errs[0]).startswith("E221: interface jpl-acc-b01:'GE1/0/1\\nundo shutdown' field 'name': unsafe "
                                   "interface name, contains a control character U+000A")


def test_dotdot_in_interface_name_is_e221(snap: Snapshot) -> None:
    errs = errors_of(rename_interface(snap, "jpl-acc-b01:GE1/0/2", name="GE1/../../etc"), "jpl-acc-b01")
    assert errs and errs[0].code == "E221" and errs[0].field == "name" and "'..'" in str(errs[0])


@pytest.mark.parametrize("bad", ["jpl-acc/b01", "../../etc/cron.d/x", "acc\nb01", "$(reboot)", "-acc"])
def test_unsafe_device_name_is_e220(snap: Snapshot, bad: str) -> None:
    s = with_device(snap, "jpl-acc-b01", name=bad)
    s = s.model_copy(update={"interfaces": tuple(i.model_copy(update={"device": bad}) if i.device == "jpl-acc-b01"
                                                  else i for i in s.interfaces)})
    intents, errors = build_intents_collect(s)
    assert bad not in intents
    err = next(e for e in errors if e.device == bad)
    assert err.code == "E220" and err.field == "name" and err.obj == f"device {bad!r}"


def test_unsafe_vc_name_is_e220(snap: Snapshot) -> None:
    s = snap.model_copy(update={"devices": tuple(
        d.model_copy(update={"virtual_chassis": "jpl/core"}) if d.virtual_chassis == "jpl-core" else d
        for d in snap.devices)})
    errs = [e for e in build_intents_collect(s)[1] if e.code == "E220"]
    assert errs and "virtual chassis 'jpl/core'" in str(errs[0])


@pytest.mark.parametrize("bad", ["b01/teaching", "b01\nteaching", "$(reboot)", "x..y"])
def test_unsafe_vlan_name_is_e222(snap: Snapshot, bad: str) -> None:
    s = snap.model_copy(update={"vlans": tuple(v.model_copy(update={"name": bad}) if v.key == "jinpenling-users:110"
                                               else v for v in snap.vlans)})
    errs = errors_of(s, "jpl-acc-b01")
    assert errs and errs[0].code == "E222" and errs[0].obj == "vlan 110" and errs[0].field == "name"


def test_newline_in_config_context_is_e223(snap: Snapshot) -> None:
    dev = snap.device("ytg-core")
    ctx = dict(dev.config_context)
    ctx["services"] = {**ctx["services"], "snmp": {**ctx["services"]["snmp"], "location": "DC\nsnmp-agent sys-info "
                                                   "version all"}}
    errs = errors_of(with_device(snap, "ytg-core", config_context=ctx), "ytg-core")
    assert [e.code for e in errs] == ["E223"]
    assert errs[0].field == "config_context.services.snmp.location"


@pytest.mark.parametrize("ref", ["../../../etc/shadow", "/etc/shadow", "a b", "x\n"])
def test_hostile_secret_ref_in_config_context_is_e224(snap: Snapshot, ref: str) -> None:
    dev = snap.device("ytg-core")
    ctx = dict(dev.config_context)
    ctx["services"] = {**ctx["services"], "snmp": {**ctx["services"]["snmp"], "community": {"secret_ref": ref}}}
    errs = errors_of(with_device(snap, "ytg-core", config_context=ctx), "ytg-core")
    assert errs and errs[0].code in ({"E224"} if "\n" not in ref else {"E223"})
    assert errs[0].field == "config_context.services.snmp.community.secret_ref"


def test_newline_in_circuit_id_is_e225(snap: Snapshot) -> None:
    c = snap.circuits[0]
    bad = snap.model_copy(update={"circuits": (c.model_copy(update={"cid": "CT-1\nshutdown"}), *snap.circuits[1:])})
    errs = [e for e in build_intents_collect(bad)[1] if e.code == "E225"]
    assert errs, "a circuit id reaches descriptions only, but a name-like use of it must be refused"


# -- descriptions are quoted per platform -----------------------------------------------------------------
def test_description_newline_cannot_add_a_line(snap: Snapshot) -> None:
    hostile = "to core\nreturn\nsysname pwned\r\n\x1b[2J"
    benign = build_intents(snap)
    s = rename_interface(snap, "jpl-acc-b01:GE1/0/1", description=hostile)
    s = rename_interface(s, "jpl-core-1:10GE1/0/1", description=hostile)
    s = rename_interface(s, "ytg-vpn-1:eth1", description=hostile)
    intents = build_intents(s)  # descriptions are free text: made safe when rendered, not refused
    for host in ("jpl-acc-b01", "jpl-core-1", "ytg-vpn-1"):
        before = render_device(benign[host], secrets=fake)
        for name, text in render_device(intents[host], secrets=fake).items():
            assert "\x1b" not in text and "\r" not in text, name
            lines = text.splitlines()
            assert not any(x.strip().startswith("sysname pwned") for x in lines), name
            assert len(lines) == len(before[name].splitlines()), name  # no line added
            assert sum(x.strip() == "return" for x in lines) == sum(
                x.strip() == "return" for x in before[name].splitlines()), name
        assert any(" description to core return sysname pwned" in t for t in render_device(
            intents[host], secrets=fake).values()), host


def test_description_quoting_per_platform() -> None:
    assert quote_description("a\tb\nc\x00d", "huawei_vrp") == "a b c d"
    assert len(quote_description("x" * 500, "huawei_vrp")) == 242
    assert len(quote_description("x" * 500, "huawei_vrp", "static_route")) == 35
    assert len(quote_description("x" * 500, "h3c_comware", "bgp_peer")) == 79
    assert len(quote_description("x" * 500, "linux_frr", "bgp_peer")) == 80
    assert len(quote_description("x" * 500, "linux-frr", "bgp_peer")) == 80  # NetBox slugs work too
    assert quote_description("  uplink (Bank A); 10GE  ", "linux_frr") == "uplink (Bank A); 10GE"


def test_long_description_is_capped_in_rendered_vrp(snap: Snapshot) -> None:
    s = rename_interface(snap, "jpl-core-1:10GE1/0/1", description="d" * 400)
    text = render_device(build_intents(s)["jpl-core-1"], secrets=fake)["jpl-core-1.cfg"]
    assert f" description {'d' * 242}\n" in text and "d" * 243 not in text
    leaf = build_intents(snap)["ytg-leaf-1"]
    emu = Pipeline.build(snap, strict=True).emulations["ytg-leaf-1"]
    for intent, name, cap in ((leaf, "ytg-leaf-1.cfg", 255), (emu, "frr.conf", 80)):
        assert intent.bgp is not None and intent.bgp.neighbors, name
        n0 = intent.bgp.neighbors[0].model_copy(update={"description": "n" * 400})
        bad = intent.model_copy(update={"bgp": intent.bgp.model_copy(update={"neighbors": (
            n0, *intent.bgp.neighbors[1:])})})
        text = render_files(bad)[name]
        assert f" description {'n' * cap}\n" in text and "n" * (cap + 1) not in text, name


# -- nothing from NetBox becomes a command in a lab shell script ------------------------------------------------
@pytest.mark.parametrize("hostile", HOSTILE)
def test_shell_word_refuses_or_quotes(hostile: str) -> None:
    with pytest.raises(CampusnetError, match="E323"):
        shell_word(hostile)
    assert shell_word("10.0.0.1/31") == "10.0.0.1/31" and shell_word("xe1-0-1") == "xe1-0-1"
    assert shell_word("10,20") == "10,20"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_net_sh_refuses_hostile_linux_names(emulations: dict[str, DeviceIntent], hostile: str) -> None:
    emu = emulations["ytg-leaf-1"]
    assert emu is not None
    eth = next(i for i in emu.interfaces if i.kind == "ethernet")
    bad = emu.model_copy(update={"interfaces": tuple(i.model_copy(update={"name": hostile}) if i is eth else i
                                                     for i in emu.interfaces)})
    with pytest.raises(CampusnetError, match="E323"):
        render_files(bad)


def test_ovs_sh_refuses_hostile_port_and_bridge(emulations: dict[str, DeviceIntent]) -> None:
    emu = emulations["jpl-acc-b01"]
    assert emu is not None
    port = next(i for i in emu.interfaces if i.kind in ("ethernet", "lag") and i.switchport is not None)
    bad = emu.model_copy(update={"interfaces": tuple(i.model_copy(update={"name": "p1 -- del-br br0"}) if i is port
                                                     else i for i in emu.interfaces)})
    with pytest.raises(CampusnetError, match="E323"):
        render_files(bad)


def test_hostname_in_script_comment_stays_a_comment(emulations: dict[str, DeviceIntent]) -> None:
    emu = emulations["ytg-leaf-1"]
    assert emu is not None
    bad = emu.model_copy(update={"system": emu.system.model_copy(update={"hostname": "leaf\nreboot"})})
    files = render_files(bad)
    for name in ("net.sh", "ovs.sh"):
        assert "\nreboot" not in files[name] and "# Lab emulation of leaf reboot" in files[name]


def test_rendered_scripts_parse_as_plain_words(emulations: dict[str, DeviceIntent]) -> None:
    """Every word of every rendered lab script is a plain shell word: no substitution, no second command."""
    for emulation in emulations.values():
        for name, text in render_files(emulation).items():
            if not name.endswith(".sh"):
                continue
            for line in text.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                assert "$(" not in line and "`" not in line, line
                shlex.split(line)  # quoting balanced
            subprocess.run(["sh", "-n"], input=text.encode(), check=True)


def test_host_and_provider_day0_scripts_refuse_hostile_words() -> None:
    node = LabNode(name="h1", kind="host", mgmt_ip="10.254.0.5/24",
                   interfaces=(LabInterface(linux="eth1", address="10.9.0.2/24"),), gateway="10.9.0.1",
                   gateway_iface="eth1")
    assert host_script(node) == ("set -e\nip link set eth1 up\nip addr replace 10.9.0.2/24 dev eth1\n"
                                 "ip route replace default via 10.9.0.1 dev eth1\n")
    for field, value in (("gateway", "10.9.0.1; reboot"), ("gateway_iface", "eth1`reboot`")):
        with pytest.raises(CampusnetError, match="E323"):
            host_script(node.model_copy(update={field: value}))
    bad_if = LabInterface(linux="eth1", address="10.9.0.2/24 dev eth1; reboot #")
    with pytest.raises(CampusnetError, match="E323"):
        host_script(node.model_copy(update={"interfaces": (bad_if,)}))
    prov = LabNode(name="prov", kind="provider", mgmt_ip="10.254.0.6/24", customer_ifaces=("eth2",),
                   routes=(LabRoute(prefix="10.0.0.0/8", via="10.9.0.2"),))
    assert "ip rule add iif eth2 to 10.0.0.0/8 prohibit priority 100" in provider_script(prov)
    with pytest.raises(CampusnetError, match="E323"):
        provider_script(prov.model_copy(update={"routes": (LabRoute(prefix="$(reboot)", via="x"),)}))


def test_day0_frr_conf_descriptions_are_single_line() -> None:
    node = LabNode(name="prov", kind="provider", mgmt_ip="10.254.0.6/24", asn=64496,
                   interfaces=(LabInterface(linux="eth1", netbox="ct/CT-1\ninterface lo", address="10.9.0.1/31"),),
                   bgp_peers=(BgpPeer(address="10.9.0.0", asn=65000, description="core\nrouter bgp 1"),))
    text = frr_conf(node)
    assert "\ninterface lo\n" not in text and "\nrouter bgp 1\n" not in text
    assert " description ct/CT-1 interface lo\n" in text


# -- paths --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["..", "../etc", "a/b", "/etc", "x\ny", ".hidden", "-x", ""])
def test_path_component_refuses(bad: str) -> None:
    with pytest.raises(CampusnetError, match="E322"):
        path_component(bad)
    assert path_component("jpl-core-1") == "jpl-core-1"


def test_render_out_refuses_an_unsafe_hostname(intents: dict[str, DeviceIntent], tmp_path: Path) -> None:
    core = intents["ytg-core"]
    bad = core.model_copy(update={"system": core.system.model_copy(update={"hostname": "../../escape"})})
    with pytest.raises(CampusnetError, match="E322"):
        render_all([bad], tmp_path / "out", secrets=fake)
    assert not (tmp_path / "escape").exists() and not any(tmp_path.rglob("*.cfg"))


def test_run_records_use_safe_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path))
    from campusnet.deploy.store import Run, save_backup

    run = Run.new(commit=False)
    with pytest.raises(CampusnetError, match="E322"):
        run.record_device("../../../pwned", {"status": "ok"})
    with pytest.raises(CampusnetError, match="E322"):
        save_backup("../x", "text", platform="huawei-vrp", run_id=None)
    assert not list(tmp_path.rglob("pwned*")) and not (tmp_path / "x").exists()


@pytest.mark.parametrize("netbox_name", ["Eth1/0/1:2", "GE0/0/1.100", "GigabitEthernet0/0/1", "Port-Channel1",
                                         "xe-0/0/0", "Ten-GigabitEthernet1/0/49", "HundredGigE1/0/1/3:2-extra-long",
                                         "a1", "9/9"])
def test_every_allowed_interface_name_maps_to_a_safe_lab_word(netbox_name: str) -> None:
    """The lab's Linux names (emulation intent and veths) are plain shell words for every name E221 lets in."""
    from campusnet.lab.names import linux_ifname, valid_linux_ifname
    from campusnet.platforms import LAB_PLATFORM

    assert name_problem(netbox_name, "interface") is None
    lab = linux_ifname(netbox_name, device="d")
    assert valid_linux_ifname(lab) and shell_word(lab) == lab
    try:
        emu = LAB_PLATFORM.ethernet_name(netbox_name)
    except CampusnetError as exc:  # a name the platform cannot shorten: refused with its own code, never unsafe
        assert exc.code == "E302"
    else:
        assert shell_word(emu) == emu


def test_rollback_restore_script_refuses_hostile_state() -> None:
    """The lab rollback rebuilds OVS ports and links from state read back from the node: a word in it that is
    not a plain shell word (a tampered backup or run record) stops the restore, it never runs."""
    from campusnet.deploy.drivers.linux_frr import restore_script

    ovs = "bridge br0\n port po1 trunks=10,20 bond=eth1,eth2 bond_mode=balance-tcp lacp=active lacp-time=fast\n"
    links = "vlan10 bridge\nvlan10o veth master=vlan10\nvrrp4-1 macvlan link=vlan10 mac=00:00:5e:00:01:01\n"
    assert "ovs-vsctl --timeout=5 --may-exist add-br br0" in restore_script(ovs, links, "eth1 10.0.0.1/31\n")
    for bad_ovs, bad_links, bad_addrs in (
            ("bridge br0\n port p1;reboot\n", "", ""), ("bridge br0$(reboot)\n", "", ""),
            ("", "vlan10 bridge master=`reboot`\n", ""), ("", "", "eth1 10.0.0.1/31|sh\n"),
            ("bridge br0\n port po1 bond=eth1,?\n", "", ""), ("", "", "eth1 --help\n")):
        with pytest.raises(CampusnetError, match="E323"):
            restore_script(bad_ovs, bad_links, bad_addrs)
