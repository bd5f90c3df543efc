"""Incremental snapshot == full read, field for field, after random API edits in a NetBox branch.

The edits (create/update/delete of interfaces, IP addresses, cables, VLANs — one of them deleted while an
interface uses it, so NetBox nulls the reference without a change record —, descriptions, device status) go
into a branch made for the test and deleted afterwards: main is never written. The base state is a full read
of **main** (the cached-main case check-change uses); each round applies more edits and compares the
branch's incremental read with a full read of the branch. The RNG seed is in the test id
(``CAMPUSNET_PROP_SEED`` picks it; otherwise a new one each run).
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from campusnet import settings
from campusnet.branching import create_branch, delete_branch, wait_ready
from campusnet.settings import NetBoxTarget
from campusnet.sot import incremental as inc
from campusnet.sot.models import Snapshot
from campusnet.sot.reader import read_snapshot

pytestmark = pytest.mark.integration

SEED = int(os.environ.get("CAMPUSNET_PROP_SEED") or random.SystemRandom().randrange(1, 10**6))
EDITS = int(os.environ.get("CAMPUSNET_PROP_EDITS", "24"))


class Editor:
    """Random REST edits inside one branch; every refused edit (HTTP 400) is skipped and counted."""

    def __init__(self, target: NetBoxTarget, rng: random.Random):
        self.c = httpx.Client(base_url=target.url, headers=target.headers(), timeout=60)
        self.rng = rng
        self.made: dict[str, list[int]] = {"interfaces": [], "ips": [], "cables": [], "vlans": []}
        self.log: list[str] = []

    def _list(self, path: str, **params: Any) -> list[dict[str, Any]]:
        r = self.c.get(f"/api/{path}/", params={"limit": 200, **params})
        r.raise_for_status()
        out: list[dict[str, Any]] = r.json()["results"]
        return out

    def _pick(self, path: str, **params: Any) -> dict[str, Any]:
        return self.rng.choice(self._list(path, **params))

    def _send(self, method: str, path: str, what: str, **data: Any) -> dict[str, Any] | None:
        r = self.c.request(method, f"/api/{path}", json=data or None)
        self.log.append(f"{what}: {method} {path} -> {r.status_code}")
        if r.status_code >= 400:
            return None
        return r.json() if r.content else {}

    # -- the edits ---------------------------------------------------------------------------------------
    def iface_description(self) -> None:
        i = self._pick("dcim/interfaces", cabled=self.rng.choice(["true", "false"]))
        self._send("PATCH", f"dcim/interfaces/{i['id']}/", "iface description", description=f"p{self.rng.random()}")

    def iface_enabled(self) -> None:
        i = self._pick("dcim/interfaces")
        self._send("PATCH", f"dcim/interfaces/{i['id']}/", "iface enabled", enabled=not i["enabled"],
                   mtu=self.rng.choice([None, 1500, 9000]))

    def iface_create(self) -> None:
        d = self._pick("dcim/devices")
        o = self._send("POST", "dcim/interfaces/", "iface create", device=d["id"], type="virtual",
                       name=f"prop{uuid.uuid4().hex[:6]}")
        if o:
            self.made["interfaces"].append(o["id"])

    def iface_delete(self) -> None:
        if self.made["interfaces"]:
            i = self.made["interfaces"].pop(self.rng.randrange(len(self.made["interfaces"])))
            self._send("DELETE", f"dcim/interfaces/{i}/", "iface delete")

    def ip_create(self) -> None:
        i = self._pick("dcim/interfaces")
        addr = f"10.{self.rng.randrange(200, 250)}.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}/32"
        o = self._send("POST", "ipam/ip-addresses/", "ip create", address=addr, status="active",
                       assigned_object_type="dcim.interface", assigned_object_id=i["id"])
        if o:
            self.made["ips"].append(o["id"])

    def ip_update(self) -> None:
        ip = self._pick("ipam/ip-addresses")
        self._send("PATCH", f"ipam/ip-addresses/{ip['id']}/", "ip description", description=f"p{self.rng.random()}")

    def ip_delete(self) -> None:
        if self.made["ips"]:
            ip = self.made["ips"].pop(self.rng.randrange(len(self.made["ips"])))
            self._send("DELETE", f"ipam/ip-addresses/{ip}/", "ip delete")

    def cable_create(self) -> None:
        free = self._list("dcim/interfaces", cabled="false", mgmt_only="false", type="1000base-t")
        free += self._list("dcim/interfaces", cabled="false", mgmt_only="false", type="10gbase-x-sfpp")
        if len(free) < 2:
            return
        a, b = self.rng.sample(free, 2)
        o = self._send("POST", "dcim/cables/", "cable create", status="connected",
                       a_terminations=[{"object_type": "dcim.interface", "object_id": a["id"]}],
                       b_terminations=[{"object_type": "dcim.interface", "object_id": b["id"]}])
        if o:
            self.made["cables"].append(o["id"])

    def cable_delete(self) -> None:
        pool = self.made["cables"] or [c["id"] for c in self._list("dcim/cables")]
        c = self.rng.choice(pool)
        if c in self.made["cables"]:
            self.made["cables"].remove(c)
        self._send("DELETE", f"dcim/cables/{c}/", "cable delete")

    def cable_status(self) -> None:
        c = self._pick("dcim/cables")
        self._send("PATCH", f"dcim/cables/{c['id']}/", "cable status",
                   status=self.rng.choice(["connected", "planned", "decommissioning"]))

    def vlan_create_and_use(self) -> None:
        o = self._send("POST", "ipam/vlans/", "vlan create", vid=self.rng.randrange(3000, 4000),
                       name=f"prop-{uuid.uuid4().hex[:6]}", status="active")
        if not o:
            return
        self.made["vlans"].append(o["id"])
        i = self._pick("dcim/interfaces", type="1000base-t")
        self._send("PATCH", f"dcim/interfaces/{i['id']}/", "vlan on iface", mode="access", untagged_vlan=o["id"])

    def vlan_update(self) -> None:
        v = self._pick("ipam/vlans")
        self._send("PATCH", f"ipam/vlans/{v['id']}/", "vlan description", description=f"p{self.rng.random()}")

    def vlan_delete(self) -> None:
        if self.made["vlans"]:
            v = self.made["vlans"].pop(self.rng.randrange(len(self.made["vlans"])))
            self._send("DELETE", f"ipam/vlans/{v}/", "vlan delete (interfaces keep a nulled reference)")

    def device_status(self) -> None:
        d = self._pick("dcim/devices")
        self._send("PATCH", f"dcim/devices/{d['id']}/", "device status",
                   status=self.rng.choice(["active", "planned", "offline"]), description=f"p{self.rng.random()}")

    def random_edit(self) -> None:
        ops: list[Callable[[], None]] = [
            self.iface_description, self.iface_enabled, self.iface_create, self.iface_delete, self.ip_create,
            self.ip_update, self.ip_delete, self.cable_create, self.cable_delete, self.cable_status,
            self.vlan_create_and_use, self.vlan_update, self.vlan_delete, self.device_status]
        self.rng.choice(ops)()


def _same(inc_snap: Snapshot, full: Snapshot) -> list[str]:
    a, b = inc_snap.model_dump(exclude={"source"}), full.model_dump(exclude={"source"})
    out = []
    for k in a:
        if a[k] != b[k]:
            ia = {o.get("id"): o for o in a[k]} if isinstance(a[k], list) else {}
            ib = {o.get("id"): o for o in b[k]} if isinstance(b[k], list) else {}
            diff = sorted(i for i in set(ia) | set(ib) if ia.get(i) != ib.get(i))
            out.append(f"{k}: ids {diff[:5]} e.g. incremental {ia.get(diff[0]) if diff else None} "
                       f"!= full {ib.get(diff[0]) if diff else None}")
    return out


@pytest.fixture(scope="module")
def target() -> NetBoxTarget:
    t = settings.netbox_target()
    try:
        httpx.get(f"{t.url}/api/status/", headers=t.headers(), timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.skip(f"no local NetBox: {exc}")
    return t


@pytest.fixture()
def branch(target: NetBoxTarget) -> Iterator[NetBoxTarget]:
    b = wait_ready(target, create_branch(target, f"prop-inc-{uuid.uuid4().hex[:6]}"))
    try:
        yield target.with_branch(b.schema_id)
    finally:
        delete_branch(target, b)


@pytest.mark.parametrize("seed", [SEED], ids=[f"seed{SEED}"])
def test_incremental_equals_full_after_random_edits(seed: int, target: NetBoxTarget,
                                                    branch: NetBoxTarget) -> None:
    rng = random.Random(seed)  # noqa: S311 - test data, not a secret
    _, main_state = inc.full_read(target)
    ed = Editor(branch, rng)
    state = main_state
    for rnd in range(2):
        for _ in range(EDITS // 2):
            ed.random_edit()
        snap, state = inc.read_incremental(branch, state=main_state if rnd == 0 else state, save=False)
        mark = snap.source.changelog
        assert mark is not None and mark.mode == "incremental", f"fell back: {mark}; edits {ed.log}"
        full = read_snapshot(branch)
        diffs = _same(snap, full)
        assert not diffs, f"seed {seed}, round {rnd}: {diffs}\nedits: {ed.log}"
