"""Lab secrets for the embedded default: generated once, 0600, never overwritten; the environment wins."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from campusnet.errors import CampusnetError
from campusnet.render import generate_missing_secrets, resolve_secret, secret_env_name


def test_generated_once_private_and_resolvable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path))
    monkeypatch.setenv("CAMPUSNET_SECRET_TACACS_KEY", "from-env")
    made = generate_missing_secrets(["snmp_community", "tacacs_key"])
    assert made == ["snmp_community"]  # the environment's secret is not shadowed by a file
    f = tmp_path / "secrets" / "snmp_community"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    first = resolve_secret("snmp_community")
    assert len(first) >= 20
    assert generate_missing_secrets(["snmp_community"]) == []  # never overwritten
    assert resolve_secret("snmp_community") == first
    assert resolve_secret("tacacs_key") == "from-env"


# -- hostile secret references (issue 9, section 3) ---------------------------------------------------------
@pytest.mark.parametrize("ref", ["../secrets2/x", "../../../../etc/shadow", "/etc/shadow", "a/b", "", ".", "..",
                                 "a b", "x\n", "snmp.community"])
def test_secret_ref_outside_the_pattern_is_e320(ref: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path))
    monkeypatch.setenv(secret_env_name(ref), "from-env")  # even a value in the environment does not make it fine
    (tmp_path / "secrets").mkdir()
    (tmp_path / "shadow").write_text("outside\n")
    with pytest.raises(CampusnetError, match="E320") as exc:
        resolve_secret(ref)
    assert exc.value.field == "secret_ref" and "outside" not in str(exc.value)
    with pytest.raises(CampusnetError, match="E320"):
        generate_missing_secrets([ref])


def test_symlink_out_of_the_secrets_dir_is_e321(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path / "state"))
    monkeypatch.delenv("CAMPUSNET_SECRET_SNMP_COMMUNITY", raising=False)
    d = tmp_path / "state" / "secrets"
    d.mkdir(parents=True, mode=0o700)
    outside = tmp_path / "host-key"
    outside.write_text("not a campus secret\n")
    outside.chmod(0o600)
    (d / "snmp_community").symlink_to(outside)
    with pytest.raises(CampusnetError, match="E321") as exc:
        resolve_secret("snmp_community")
    assert "not a campus secret" not in str(exc.value)
    # a dangling link out of the directory: generating must not write through it
    (d / "tacacs_key").symlink_to(tmp_path / "created-outside")
    with pytest.raises(CampusnetError, match="E321"):
        generate_missing_secrets(["tacacs_key"])
    assert not (tmp_path / "created-outside").exists()
    # a link to a directory (or anything not a file) is refused too
    (d / "dir_ref").symlink_to(d)
    with pytest.raises(CampusnetError, match="E321"):
        resolve_secret("dir_ref")


def test_symlink_inside_the_secrets_dir_is_fine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path))
    monkeypatch.delenv("CAMPUSNET_SECRET_SNMP_COMMUNITY", raising=False)
    d = tmp_path / "secrets"
    d.mkdir(mode=0o700)
    (d / "real").write_text("inside\n")
    (d / "real").chmod(0o600)
    (d / "snmp_community").symlink_to(d / "real")
    assert resolve_secret("snmp_community") == "inside"


def test_secret_value_with_a_newline_is_e324_and_never_shown(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPUSNET_STATE", str(tmp_path))
    monkeypatch.setenv("CAMPUSNET_SECRET_SNMP_COMMUNITY", "s3cret\nsnmp-agent community write s3cret")
    with pytest.raises(CampusnetError, match="E324") as exc:
        resolve_secret("snmp_community")
    assert "s3cret" not in str(exc.value)
    monkeypatch.delenv("CAMPUSNET_SECRET_SNMP_COMMUNITY")
    d = tmp_path / "secrets"
    d.mkdir(mode=0o700)
    (d / "snmp_community").write_text("s3cret\x1b[2Jx\n")
    (d / "snmp_community").chmod(0o600)
    with pytest.raises(CampusnetError, match="E324") as exc:
        resolve_secret("snmp_community")
    assert "s3cret" not in str(exc.value)
