"""The Huawei VRP and H3C Comware drivers, driven through the session replayer (tests/fixtures/vendor/):
parsers on the recorded display output, the push script, commit-trial / commit-delay, confirm, the device's
own revert, restore to the named rollback point / archive file, and the replayer failing loudly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from campusnet.deploy.drivers import DeployTarget, driver_for
from campusnet.deploy.drivers.cli import (
    VendorCliDriver,
    ntc_parse,
    parse_comware_ospf_peer_brief,
    parse_ospf_peer_brief,
    push_script,
)
from campusnet.deploy.drivers.h3c_comware import delay_minutes
from campusnet.deploy.production import management_address, production_targets
from campusnet.deploy.replay import ReplayDevice, Replayer, ReplaySession, Transcript
from campusnet.errors import CampusnetError
from campusnet.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "tests" / "fixtures" / "vendor"
SNAPSHOT = ROOT / "tests" / "fixtures" / "snapshots" / "campus.json"
DEVICES = {"huawei-vrp": "jpl-core-1", "h3c-comware": "jpl-b01-as1"}


def fixture_secret(name: str) -> str:
    return "campusnet-fixture"  # what tests/fixtures/vendor/make_transcripts.py rendered the fixtures with


@pytest.fixture(scope="module")
def targets() -> dict[str, DeployTarget]:
    pipe = Pipeline.load(snapshot=SNAPSHOT)
    return production_targets(pipe.intents, list(DEVICES.values()), fixture_secret)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def replay(platform: str, clock: Callable[[], float] | None = None) -> tuple[ReplayDevice, ReplaySession]:
    dev = ReplayDevice(Transcript.load(VENDOR / platform), clock=clock or Clock())
    s = dev.session()
    s.open()
    return dev, s


def drv(platform: str) -> VendorCliDriver:
    d = driver_for(platform)
    assert isinstance(d, VendorCliDriver)
    return d


# -- parsers on the recorded output -----------------------------------------------------------------------------
def test_interface_brief_parsed_by_ntc_templates() -> None:
    vrp = drv("huawei-vrp").interfaces(replay("huawei-vrp")[1])
    assert vrp["25GE1/0/47"] == "up" and vrp["25GE1/0/21"] == "down" and vrp["LoopBack0"] == "up"
    cw = drv("h3c-comware").interfaces(replay("h3c-comware")[1])
    assert cw["XGE1/0/27"] == "up" and cw["BAGG1"] == "up" and cw["GE1/0/2"] == "down"


def test_ospf_and_bgp_peers() -> None:
    text = (VENDOR / "huawei-vrp" / "display_ospf_peer_brief.txt").read_text()
    assert parse_ospf_peer_brief(text) == {"10.255.0.2": "Full"}
    assert drv("huawei-vrp").adjacencies(replay("huawei-vrp")[1]) == {"ospf 10.255.0.2": "Full"}
    comware = ("          OSPF Process 1 with Router ID 10.255.0.101\n"
               "               Brief Information of Area 0.0.0.0\n"
               " Router ID       Address         Pri Dead-Time  State             Interface\n"
               " 10.255.0.1      10.255.2.1      1   37         Full/DR           Vlan900\n"
               " 10.255.0.9      10.255.2.9      1   31         Init/DROther      Vlan900\n")
    assert parse_comware_ospf_peer_brief(comware) == {"10.255.0.1": "Full/DR", "10.255.0.9": "Init/DROther"}
    bgp = ("  Peer          V    AS  MsgRcvd  MsgSent  OutQ  Up/Down       State PrefRcv\n"
           "  10.1.1.1       4   100        0        0     0 00:00:07        Idle       0\n"
           "  10.2.2.2       4   200       32       35     0 00:17:49 Established       0\n")
    rows = ntc_parse("huawei_vrp", "display bgp peer", bgp)
    assert [(r["peer"], r["state"]) for r in rows] == [("10.1.1.1", "Idle"), ("10.2.2.2", "Established")]


def test_push_script_leaves_each_view_with_quit() -> None:
    rem = ["undo vlan 999", "vlan 201", "  name staff", "bgp 65001", "  ipv4-family unicast", "    peer 1.1.1.1 enable",
           "sysname x"]
    assert push_script(rem) == ["undo vlan 999", "vlan 201", "name staff", "quit", "bgp 65001", "ipv4-family unicast",
                                "peer 1.1.1.1 enable", "quit", "quit", "sysname x"]


def test_comware_delay_is_rounded_up_to_minutes() -> None:
    assert [delay_minutes(s) for s in (1, 60, 61, 90, 120, 121)] == [1, 1, 2, 2, 2, 3]


# -- the lifecycle ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("platform", sorted(DEVICES))
def test_diff_shows_the_change_the_remediation_and_the_intent(targets: dict[str, DeployTarget],
                                                               platform: str) -> None:
    t = targets[DEVICES[platform]]
    d = drv(platform)
    _, s = replay(platform)
    diff = d.diff(s, t.files, d.running(s), t)
    assert "# hier_config remediation (" in diff and f"# intended configuration ({t.device}):" in diff
    undo = "undo interface LoopBack100" if platform == "huawei-vrp" else "undo vlan 999"
    assert f"    {undo}\n" in diff


@pytest.mark.parametrize("platform", sorted(DEVICES))
def test_apply_confirm_keeps_the_change(targets: dict[str, DeployTarget], platform: str) -> None:
    t = targets[DEVICES[platform]]
    d = drv(platform)
    clock = Clock()
    dev, s = replay(platform, clock)
    d.apply(s, t.files, t, confirm_timeout=120)
    assert dev.pending is not None and d.diff(s, t.files, d.running(s), t) == ""
    assert d.post_checks(s, t) == []
    d.confirm(s)
    clock.now += 3600
    dev.tick()
    assert dev.reverted == 0 and d.diff(s, t.files, d.running(s), t) == ""
    armed = "commit trial 120" if platform == "huawei-vrp" else "configuration commit delay 2"
    confirmed = "commit description campusnet" if platform == "huawei-vrp" else "configuration commit"
    assert dev.log.index(armed) < dev.log.index("display interface brief") < dev.log.index(confirmed)


@pytest.mark.parametrize("platform", sorted(DEVICES))
def test_unconfirmed_change_reverts_by_itself(targets: dict[str, DeployTarget], platform: str) -> None:
    t = targets[DEVICES[platform]]
    d = drv(platform)
    clock = Clock()
    dev, s = replay(platform, clock)
    backup = d.running(s)
    d.apply(s, t.files, t, confirm_timeout=90)
    s.drop()  # the controller is gone
    clock.now += 89
    assert d.normalise(dev.session().__enter__().send("display current-configuration")) != d.normalise(backup)
    clock.now += 60  # Comware: 90 s became 2 minutes
    dev.tick()
    assert dev.reverted == 1 and d.normalise(dev.running) == d.normalise(backup)


@pytest.mark.parametrize("platform", sorted(DEVICES))
def test_restore_cancels_a_pending_change(targets: dict[str, DeployTarget], platform: str) -> None:
    t = targets[DEVICES[platform]]
    d = drv(platform)
    dev, s = replay(platform)
    backup = d.running(s)
    d.apply(s, t.files, t, confirm_timeout=120)
    d.restore(s, backup)
    assert dev.pending is None and d.normalise(d.running(s)) == d.normalise(backup)
    cancel = "abort trial" if platform == "huawei-vrp" else "configuration replace file flash:/archive/campusnet_1.cfg"
    assert cancel in dev.log


def test_vrp_restore_after_a_confirmed_commit_goes_to_the_named_point(targets: dict[str, DeployTarget]) -> None:
    t = targets["jpl-core-1"]
    d = drv("huawei-vrp")
    dev, s = replay("huawei-vrp")
    backup = d.running(s)
    d.apply(s, t.files, t, confirm_timeout=0)
    label = s.commit_state["point"]
    assert label.startswith("campusnet-") and f"set configuration commit 1000000101 label {label}" in dev.log
    d.restore(s, backup)
    assert f"rollback configuration to label {label}" in dev.log
    assert d.normalise(d.running(s)) == d.normalise(backup)


def test_post_check_names_the_interface_that_is_down(targets: dict[str, DeployTarget]) -> None:
    t = targets["jpl-core-1"]
    d = drv("huawei-vrp")
    dev, s = replay("huawei-vrp")
    d.apply(s, t.files, t)
    brief = dev.transcript.replies["display interface brief"]
    dev.transcript.replies["display interface brief"] = brief.replace("25GE1/0/47                  up    up",
                                                                      "25GE1/0/47                  down  down")
    assert d.post_checks(s, t) == ["interface 25GE1/0/47 is down, not up"]


def test_a_refused_command_is_an_error_naming_it() -> None:
    _, s = replay("huawei-vrp")
    s.dev.transcript.replies["display bgp peer"] = "Error: Unrecognized command found at '^' position.\n"
    with pytest.raises(CampusnetError) as exc:
        drv("huawei-vrp").adjacencies(s)
    assert exc.value.code == "E482" and "display bgp peer" in exc.value.message


# -- the replayer fails loudly ------------------------------------------------------------------------------------
def test_replayer_refuses_an_unexpected_command() -> None:
    _, s = replay("huawei-vrp")
    with pytest.raises(CampusnetError) as exc:
        s.send("display version")
    assert exc.value.code == "E485" and "display version" in exc.value.message


def test_replayer_lost_and_unreachable_sessions(targets: dict[str, DeployTarget]) -> None:
    rp = Replayer(VENDOR, clock=Clock())
    t = targets["jpl-core-1"]
    dev = rp.device(t)
    dev.drop_after = "display interface brief"
    s = rp(t)
    s.open()
    s.send("display interface brief")
    with pytest.raises(CampusnetError) as lost:
        s.send("display current-configuration")
    assert lost.value.code == "E486"
    with pytest.raises(CampusnetError) as gone:
        rp(t).open()
    assert gone.value.code == "E487"


def test_replayer_transcript_errors(tmp_path: Path, targets: dict[str, DeployTarget]) -> None:
    with pytest.raises(CampusnetError) as bad:
        Transcript.load(tmp_path)
    assert bad.value.code == "E488"
    with pytest.raises(CampusnetError) as missing:
        Replayer(tmp_path)(targets["jpl-core-1"])
    assert missing.value.code == "E489" and missing.value.field == "--replay"


# -- production targets ---------------------------------------------------------------------------------------------
def test_production_target_reaches_the_management_address(targets: dict[str, DeployTarget]) -> None:
    t = targets["jpl-core-1"]
    assert (t.host, t.driver, list(t.files)) == ("10.254.0.1", "huawei-vrp", ["jpl-core-1.cfg"])
    assert "25GE1/0/47" in t.expected.up and "25GE1/0/21" not in t.expected.up
    assert [s.key for s in t.expected.sessions] == ["ospf 10.255.0.2"]
    assert targets["jpl-b01-as1"].host == "10.254.0.101"


def test_no_management_address_is_e415() -> None:
    pipe = Pipeline.load(snapshot=SNAPSHOT)
    it = pipe.intents["jpl-core-1"]
    bare = it.model_copy(update={"interfaces": tuple(i for i in it.interfaces if i.kind != "management")})
    with pytest.raises(CampusnetError) as exc:
        management_address(bare)
    assert exc.value.code == "E415" and exc.value.obj == "jpl-core-1"


def test_a_refused_line_drops_the_vrp_candidate(targets: dict[str, DeployTarget]) -> None:
    t = targets["jpl-core-1"]
    d = drv("huawei-vrp")
    dev, s = replay("huawei-vrp")
    backup = dev.running
    dev.refuse.add("snmp-agent sys-info location Jinpenling campus")
    with pytest.raises(CampusnetError) as exc:
        d.apply(s, t.files, t, confirm_timeout=120)
    assert exc.value.code == "E482" and "snmp-agent sys-info location" in exc.value.message
    assert dev.log[-2:] == ["return", "N"] and "commit trial 120" not in dev.log  # left without committing
    assert dev.pending is None and dev.running == backup


@pytest.mark.parametrize("platform", sorted(DEVICES))
def test_confirm_after_the_timer_fired_is_e418(targets: dict[str, DeployTarget], platform: str) -> None:
    t = targets[DEVICES[platform]]
    d = drv(platform)
    _, s = replay(platform)
    d.apply(s, t.files, t, confirm_timeout=60)
    s.commit_state["deadline"] = 0.0  # this host's clock says the device's timer has fired
    with pytest.raises(CampusnetError) as exc:
        d.confirm(s)
    assert exc.value.code == "E418" and exc.value.obj == t.device
