"""Demonstration branches for ``campusnet check-change``: one function (and one command) each.

``campusnet check-change --make-demo expansion|bad-trunk|bad-uplink`` creates (or re-creates) the NetBox
branch ``demo-<name>`` from main and writes the change into it through REST with ``X-NetBox-Branch``;
main is never written. Then ``campusnet check-change --branch demo-<name>`` checks it.

* ``expansion`` — the data-centre expansion lands: every object tagged ``expansion`` (leaves
  ``yt-dc-leaf5/6``, racks ``E01`` to ``E04``, their power feeds and PDUs, the fabric and power cables) goes
  from ``planned`` to ``active`` / ``connected``, and the two leaves get tag ``lab`` so the lab builds them.
  Their loopbacks, management addresses, ASNs and fabric /31s are already in main (docs/campus.md), so the
  intent derives the new spine-leaf eBGP/EVPN sessions from the now-connected cables.
* ``bad-trunk`` — ``yt-b01-as1 Bridge-Aggregation1`` stops carrying the wireless VLAN 401 while the core's
  ``Eth-Trunk1`` still does: rule ``trunk-vlans-consistent``.
* ``bad-uplink`` — ``yt-b02-as1``'s second uplink is re-cabled from the core to the building's other
  access switch ``yt-b02-as2`` (a daisy chain): rule ``no-aggregation-layer``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from campusnet.branching import Branch, create_branch
from campusnet.errors import CampusnetError
from campusnet.settings import NetBoxTarget
from campusnet.sot.reader import Fetcher

Log = Callable[[str], None]
PREFIX = "demo-"


def _nolog(_: str) -> None:
    return None


class BranchRest:
    """A small REST client that writes into one branch (never main)."""

    def __init__(self, target: NetBoxTarget, branch: Branch):
        if not branch.schema_id:
            raise CampusnetError("E150", "branch has no schema id", obj=branch.name, field="schema_id")
        t = target.with_branch(branch.schema_id)
        self.branch = branch
        self.client = Fetcher(t, timeout=60).__enter__()  # the reader's client and its retry policy

    def close(self) -> None:
        self.client.__exit__()

    def _send(self, method: str, url: str, *, params: dict[str, Any] | None = None, json: Any = None
              ) -> httpx.Response:
        try:
            return self.client.request(method, url, params=params, json=json)
        except CampusnetError as exc:  # NetBox down or unreachable: a coded error, not a traceback
            if exc.code != "E110":
                raise
            raise CampusnetError("E118", f"{method} {url}: NetBox did not answer ({exc.message}): "
                                 "is it running?", obj=self.branch.name) from None

    def _check(self, r: httpx.Response, what: str) -> Any:
        if r.status_code >= 400:
            raise CampusnetError("E152", f"{what}: NetBox answered {r.status_code}: {r.text[:600]}",
                                 obj=self.branch.name)
        return r.json() if r.content else None

    def all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        url: str | None = path
        q: dict[str, Any] | None = {"limit": 1000, **params}
        while url:
            data = self._check(self._send("GET", url, params=q), f"GET {path}")
            out.extend(data["results"])
            url, q = data.get("next"), None
        return out

    def one(self, path: str, **params: Any) -> dict[str, Any]:
        rows = self.all(path, **params)
        if len(rows) != 1:
            raise CampusnetError("E153", f"expected one object at {path} for {params}, found {len(rows)}",
                                 obj=self.branch.name)
        return rows[0]

    def patch(self, path: str, rows: list[dict[str, Any]]) -> int:
        if rows:
            self._check(self._send("PATCH", path, json=rows), f"PATCH {path}")
        return len(rows)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._check(self._send("POST", path, json=body), f"POST {path}"))

    def delete(self, path: str) -> None:
        self._check(self._send("DELETE", path), f"DELETE {path}")


@dataclass
class DemoResult:
    name: str
    branch: Branch
    description: str
    writes: list[str] = field(default_factory=list)


def _tags(obj: dict[str, Any], add: set[str] = frozenset()) -> list[dict[str, str]]:  # type: ignore[assignment]
    return [{"slug": s} for s in sorted({t["slug"] for t in obj.get("tags", [])} | set(add))]


def _status(obj: dict[str, Any]) -> str:
    st = obj.get("status")
    return str(st["value"] if isinstance(st, dict) else st)


def _cable_name(cable: dict[str, Any]) -> str:
    """``a-device a-port <-> b-device b-port`` from a cable's terminations (empty for other objects)."""
    ends = []
    for side in ("a_terminations", "b_terminations"):
        terms = cable.get(side)
        if not terms:
            return ""
        parts = []
        for t in terms:
            obj = t.get("object") or {}
            dev = (obj.get("device") or {}).get("name") or (obj.get("power_panel") or {}).get("name") or ""
            parts.append(f"{dev} {obj.get('name') or obj.get('display') or ''}".strip())
        ends.append("+".join(parts))
    return " <-> ".join(ends)


def make_expansion(rest: BranchRest, log: Log) -> list[str]:
    writes: list[str] = []
    lab_leaves = {"yt-dc-leaf5", "yt-dc-leaf6"}
    for path, active in (("/api/dcim/racks/", "active"), ("/api/dcim/power-feeds/", "active"),
                         ("/api/dcim/devices/", "active"), ("/api/dcim/cables/", "connected")):
        objs = rest.all(path, tag="expansion")
        rows: list[dict[str, Any]] = []
        for o in objs:
            row: dict[str, Any] = {"id": o["id"]}
            if _status(o) != active:
                row["status"] = active
            name = o.get("name") or _cable_name(o) or str(o.get("display") or o["id"])
            if path == "/api/dcim/devices/" and name in lab_leaves:
                row["tags"] = _tags(o, {"lab"})
            if len(row) > 1:
                rows.append(row)
                writes.append(f"{path.strip('/').split('/')[-1]} {name}: "
                              + ", ".join(f"{k}={v if k != 'tags' else [t['slug'] for t in v]}"
                                          for k, v in row.items() if k != "id"))
        rest.patch(path, rows)
        log(f"{path}: {len(rows)} of {len(objs)} tagged expansion updated")
    if not writes:
        raise CampusnetError("E154", "no object tagged 'expansion' is planned in main: nothing to expand",
                             obj="tag expansion", field="status")
    return writes


def make_bad_trunk(rest: BranchRest, log: Log) -> list[str]:
    lag = rest.one("/api/dcim/interfaces/", device="yt-b01-as1", name="Bridge-Aggregation1")
    vlans = lag.get("tagged_vlans") or []
    keep = [v["id"] for v in vlans if v["vid"] != 401]
    if len(keep) == len(vlans):
        raise CampusnetError("E154", "VLAN 401 is not tagged on the LAG", obj="yt-b01-as1:Bridge-Aggregation1",
                             field="tagged_vlans")
    rest.patch("/api/dcim/interfaces/", [{"id": lag["id"], "tagged_vlans": keep}])
    log("yt-b01-as1 Bridge-Aggregation1: VLAN 401 removed from tagged_vlans")
    return ["interface yt-b01-as1:Bridge-Aggregation1: tagged_vlans without 401 (yt-b01-wireless)"]


def make_bad_uplink(rest: BranchRest, log: Log) -> list[str]:
    up = rest.one("/api/dcim/interfaces/", device="yt-b02-as1", name="Ten-GigabitEthernet1/0/28")
    if not up.get("cable"):
        raise CampusnetError("E154", "uplink is not cabled", obj="yt-b02-as1:Ten-GigabitEthernet1/0/28",
                             field="cable")
    far = rest.one("/api/dcim/interfaces/", device="yt-b02-as2", name="Ten-GigabitEthernet1/0/25")
    rest.delete(f"/api/dcim/cables/{up['cable']['id']}/")
    rest.post("/api/dcim/cables/", {
        "a_terminations": [{"object_type": "dcim.interface", "object_id": up["id"]}],
        "b_terminations": [{"object_type": "dcim.interface", "object_id": far["id"]}],
        "type": "smf", "status": "connected", "description": "demo: daisy-chained uplink"})
    log("yt-b02-as1 Ten-GigabitEthernet1/0/28 re-cabled to yt-b02-as2 Ten-GigabitEthernet1/0/25")
    return ["cable yt-b02-as1:Ten-GigabitEthernet1/0/28 -> yt-core-2 deleted",
            "cable yt-b02-as1:Ten-GigabitEthernet1/0/28 -> yt-b02-as2:Ten-GigabitEthernet1/0/25 created"]


DEMOS: dict[str, tuple[str, Callable[[BranchRest, Log], list[str]]]] = {
    "expansion": ("data-centre expansion: leaves yt-dc-leaf5/6, racks E01-E04 planned -> active, leaves in the lab",
                  make_expansion),
    "bad-trunk": ("broken: VLAN 401 missing on one end of the yt-b01-as1 uplink trunk", make_bad_trunk),
    "bad-uplink": ("broken: yt-b02-as1 uplinked to another access switch (aggregation layer)", make_bad_uplink),
}


def make_demo(target: NetBoxTarget, name: str, *, branch_name: str | None = None, log: Log = _nolog) -> DemoResult:
    """Create branch ``demo-<name>`` (or ``branch_name``) afresh (an unmerged one of that name is deleted
    first) and write the demonstration change into it."""
    if name not in DEMOS:
        raise CampusnetError("E155", f"unknown demo '{name}'; known: {', '.join(DEMOS)}", obj=name,
                             field="--make-demo")
    description, fn = DEMOS[name]
    bname = branch_name or PREFIX + name
    log(f"creating branch {bname} (provisioning is a background job)")
    branch = create_branch(target, bname, f"campusnet check-change demo: {description}", replace=True)
    rest = BranchRest(target, branch)
    try:
        writes = fn(rest, log)
    finally:
        rest.close()
    return DemoResult(bname, branch, description, writes)
