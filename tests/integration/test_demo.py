"""The main job's stages up to the report, on the session's NetBox (the lab stages are covered end to end
in test_e2e_lab.py): a fresh state must render without any secret prepared by hand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from campusnet.settings import NetBoxTarget

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def test_demo_without_lab_renders_and_reports(netbox: NetBoxTarget, tmp_path: Path) -> None:
    from campusnet.demo import run_demo

    rep = run_demo(out=tmp_path, log=lambda m: None, lab=False)
    stages = {s.name: s for s in rep.stages}
    assert [s.name for s in rep.stages][:4] == ["netbox up", "seed", "validate", "render"]
    assert all(s.ok for s in rep.stages), [(s.name, s.detail) for s in rep.stages if not s.ok]
    assert "writes" in stages["seed"].detail
    rendered = list((tmp_path / "rendered").rglob("*.cfg"))
    assert len(rendered) >= 40
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["ok"] is True
    assert (tmp_path / "report.md").read_text().startswith("# campusnet main job")


def _demo(env_extra: dict[str, str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETBOX_", "CAMPUSNET_SECRET_"))}
    env.update({"CAMPUSNET_STATE": str(tmp_path / "state"), **env_extra})
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "campusnet", "demo", "--no-lab", "--out", str(out)], cwd=REPO,
                       env=env, capture_output=True, text=True, timeout=900, check=False)
    return r, out


def test_demo_uses_the_netbox_named_in_the_environment(netbox: NetBoxTarget, tmp_path: Path) -> None:
    """A user's own NetBox (here: the session's, reached only through NETBOX_URL/NETBOX_TOKEN and a state
    directory of its own): no local NetBox is started, no lab secret is generated, the user's are used."""
    nb = {"NETBOX_URL": netbox.url, "NETBOX_TOKEN": netbox.token}
    secrets = {"CAMPUSNET_SECRET_SNMP_COMMUNITY": "user-snmp-7f3a", "CAMPUSNET_SECRET_TACACS_KEY": "user-tac-91c2"}
    r, out = _demo({**nb, **secrets}, tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    stages = {s["name"]: s for s in json.loads((out / "report.json").read_text())["stages"]}
    assert stages["netbox up"]["detail"] == f"using {netbox.url}"
    assert not (tmp_path / "state" / "netbox").exists()  # nothing local was installed or started
    assert not (tmp_path / "state" / "secrets").exists()  # the user's secrets, none generated
    rendered = "".join(p.read_text() for p in (out / "rendered").rglob("*.cfg"))
    assert "user-snmp-7f3a" in rendered
    assert "user-snmp-7f3a" not in r.stdout + r.stderr  # never printed

    # without the user's secrets: a clear error naming the secret and where it is needed, no traceback
    r2, _ = _demo(nb, tmp_path / "no-secrets")
    assert r2.returncode != 0
    text = r2.stdout + r2.stderr
    assert "E304" in text and "CAMPUSNET_SECRET_" in text and "Traceback" not in text
