"""Nornir and Ansible render the same bytes for every device of the seeded campus (and so does the library
called directly): the two automation paths call the same library code and cannot drift.

Both paths get one snapshot file taken once from the real NetBox, so concurrent writers cannot make the
comparison flaky; the inventories reading NetBox live are compared separately.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from campusnet.intent import configured_devices
from campusnet.nornir_inventory import build_inventory
from campusnet.pipeline import Pipeline
from campusnet.render import render_all, secret_env_name
from campusnet.settings import NetBoxTarget
from campusnet.sot import Snapshot
from campusnet.sot.reader import read_snapshot
from nornir_tasks import init_nornir
from nornir_tasks.render import render_config

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent


def _secret_names(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if set(value) == {"secret_ref"} and isinstance(value["secret_ref"], str):
            yield value["secret_ref"]
        for v in value.values():
            yield from _secret_names(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _secret_names(v)


@pytest.fixture(scope="module")
def snapshot_file(netbox: NetBoxTarget, tmp_path_factory: pytest.TempPathFactory) -> Path:
    snap = read_snapshot(netbox)
    assert configured_devices(snap), "the seeded campus has configured devices"
    return snap.save(tmp_path_factory.mktemp("snap") / "snapshot.json")


@pytest.fixture(scope="module")
def secrets_env(snapshot_file: Path) -> Iterator[dict[str, str]]:
    """Test values for every secret the campus references (rendering resolves them from the environment)."""
    snap = Snapshot.load(snapshot_file)
    names = {n for d in snap.devices for n in _secret_names(d.config_context)}
    env = {secret_env_name(n): f"test-{n.lower()}" for n in sorted(names)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield env
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _ansible_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    env.update(extra)
    return env


def test_nornir_ansible_and_direct_render_identical(snapshot_file: Path, secrets_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    snap = Snapshot.load(snapshot_file)
    expected_hosts = {d.name for d in configured_devices(snap)}

    # direct: the library, as `campusnet render` calls it
    direct = tmp_path / "direct"
    pipe = Pipeline.build(snap, strict=True)
    render_all(pipe.intents, direct, emulations=pipe.emulations)

    # Nornir: the inventory plugin (snapshot file) + the render_config task, threaded runner
    via_nornir = tmp_path / "nornir"
    nr = init_nornir(snapshot=snapshot_file)
    assert set(nr.inventory.hosts) == expected_hosts
    result = nr.run(task=render_config, out_dir=via_nornir)
    failures = {h: str(r[0].exception) for h, r in result.items() if r.failed}
    assert not failures, failures

    # Ansible: campusnet's inventory plugin on the same snapshot + playbooks/render.yml
    via_ansible = tmp_path / "ansible"
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "playbooks/render.yml", "-i", "inventory/campusnet.yml",
         "-e", json.dumps({"campusnet_out_dir": str(via_ansible), "campusnet_snapshot": str(snapshot_file)})],
        cwd=REPO, env=_ansible_env(CAMPUSNET_SNAPSHOT=str(snapshot_file)), capture_output=True, text=True,
        timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]

    trees = {name: _tree(root) for name, root in (("direct", direct), ("nornir", via_nornir),
                                                  ("ansible", via_ansible))}
    assert trees["direct"], "something was rendered"
    assert {Path(f).parts[0] for f in trees["direct"]} == expected_hosts  # <out>/<host>/<file>
    for name in ("nornir", "ansible"):
        assert set(trees[name]) == set(trees["direct"]), f"{name}: file set differs from the direct render"
        differ = sorted(f for f in trees["direct"] if trees[name][f] != trees["direct"][f])
        assert not differ, f"{name}: content differs in {differ[:10]}"


def test_live_inventories_list_the_same_hosts(netbox: NetBoxTarget) -> None:
    """Nornir's plugin and Ansible's campusnet_inventory, both reading the real NetBox, agree."""
    nornir = init_nornir()  # no snapshot: one bulk read of the configured NetBox
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", "inventory/campusnet.yml", "--list"],
                          cwd=REPO, env=_ansible_env(), capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    hostvars = json.loads(proc.stdout)["_meta"]["hostvars"]
    assert set(hostvars) == set(nornir.inventory.hosts)
    assert set(nornir.inventory.hosts) == set(build_inventory(read_snapshot(netbox)).hosts)


def test_nb_inventory_lists_the_configured_devices(netbox: NetBoxTarget) -> None:
    """inventory/netbox.yml (netbox.netbox.nb_inventory) lists the same devices, a chassis by its name."""
    snap = read_snapshot(netbox)
    expected = {d.virtual_chassis or d.name for d in configured_devices(snap)}
    env = _ansible_env(NETBOX_API=netbox.url, NETBOX_TOKEN=netbox.token, NETBOX_URL=netbox.url)
    proc = subprocess.run([str(BIN / "ansible-inventory"), "-i", "inventory/netbox.yml", "--list"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:].replace(netbox.token, "***")
    hostvars = json.loads(proc.stdout)["_meta"]["hostvars"]
    assert set(hostvars) == expected
