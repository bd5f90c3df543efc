"""The one redaction function: config lines, config-context data, change-log data, the leak check."""

from __future__ import annotations

from pathlib import Path

import pytest

from campusnet.report.redact import REDACTED, Redactor, redact, redact_text

SECRET_LINES = [
    ("snmp-agent community read cipher %^%#Xy7ZpQ%^%# acl 2000", "%^%#Xy7ZpQ%^%#"),
    ("snmp-agent community write simple Priv4teRW", "Priv4teRW"),
    (" shared-key cipher TacacsKey99", "TacacsKey99"),
    ("hwtacacs-server shared-key simple TacacsKey98", "TacacsKey98"),
    (" local-user admin password irreversible-cipher $1a$abcdefgh$", "$1a$abcdefgh$"),
    (" neighbor 10.0.0.1 password BgpSecret1", "BgpSecret1"),
    (" ip ospf message-digest-key 1 md5 OspfKey77", "OspfKey77"),
    ("key 7 0822455D0A16", "0822455D0A16"),
    (" ospf authentication-mode md5 1 cipher OspfCipher5", "OspfCipher5"),
    ("snmp-server community S3cretRO RO", "S3cretRO"),
    ("enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0", "$1$mERr$hx5rVt7rPNoS4wqbXKX7m0"),
    ("+ snmp-agent community read cipher NewSecret42", "NewSecret42"),  # a diff line
    ('  "community": "JsonSecret1",', "JsonSecret1"),
    ("snmp_community: YamlSecret1", "YamlSecret1"),
    ("tacacs_key = IniSecret11", "IniSecret11"),
]


@pytest.mark.parametrize(("line", "secret"), SECRET_LINES)
def test_secret_config_lines_are_redacted(line: str, secret: str) -> None:
    out = redact_text(line)
    assert secret not in out
    assert REDACTED in out


@pytest.mark.parametrize("line", [
    "interface GE1/0/1", " description uplink to key server", " ip address 10.0.0.1 255.255.255.254",
    "snmp-agent sys-info version v2c v3", "ssh user admin authentication-type password", "router ospf 1",
    ' "secret_ref": "snmp_ro"', "stelnet server enable",
])
def test_ordinary_lines_are_kept(line: str) -> None:
    assert redact_text(line) == line


def test_redaction_is_idempotent_and_keeps_the_rest_of_the_line() -> None:
    once = redact_text("snmp-agent community read cipher ABCDEF123 acl 2000")
    assert once == f"snmp-agent community read cipher {REDACTED} acl 2000"
    assert redact_text(once) == once


def test_config_context_secrets_are_redacted_but_refs_are_kept() -> None:
    ctx = {
        "services": {"ntp": ["10.20.0.10"], "snmp": {"community": "PlantedCommunity1", "location": "Yuntang"},
                     "aaa": {"tacacs": {"servers": ["10.20.0.30"], "key": {"secret_ref": "tacacs_key"}}}},
        "fhrp": {"auth_key": "FhrpKey123"},
        "users": [{"name": "ops", "password": "OpsPassw0rd"}],
        "snmp_v3": {"secret": {"auth": "NestedSecret9", "priv": "NestedSecret8"}},
        "note": "snmp-agent community read cipher TextInData7",
    }
    out = redact(ctx)
    text = str(out)
    for s in ("PlantedCommunity1", "FhrpKey123", "OpsPassw0rd", "NestedSecret9", "NestedSecret8", "TextInData7"):
        assert s not in text
    assert out["services"]["aaa"]["tacacs"]["key"] == {"secret_ref": "tacacs_key"}
    assert out["services"]["ntp"] == ["10.20.0.10"]
    assert out["services"]["snmp"]["location"] == "Yuntang"
    assert ctx["services"]["snmp"]["community"] == "PlantedCommunity1"  # the input is not mutated


def test_leak_check_finds_removed_literals_as_whole_tokens(tmp_path: Path) -> None:
    r = Redactor()
    r.data({"community": "LeakyCommunity"})
    r.text("hwtacacs-server shared-key cipher LeakyTacacs")
    clean = tmp_path / "clean.html"
    clean.write_text(f"community {REDACTED}; LeakyCommunityX is another word")
    dirty = tmp_path / "dirty.csv"
    dirty.write_text("a,LeakyTacacs,b\n")
    assert r.leaks([clean, dirty]) == [dirty]


def test_short_or_prose_values_do_not_feed_the_leak_check() -> None:
    r = Redactor()
    r.text(" description uplink to key server")
    r.text("key 7 abc")
    assert r.removed == set()
