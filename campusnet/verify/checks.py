"""Verification as pairs (netlab's habit): ``show_*`` names the command, ``valid_*`` judges its output.

Every ``valid_*`` is a pure function of the expectation and the recorded output, so each has unit tests
on recorded device output (tests/fixtures/linux_frr/<command>/…). A result names the node, what was
expected and what was found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from campusnet.verify.expect import Expectation


@dataclass(frozen=True)
class CheckResult:
    check: str
    device: str
    subject: str
    expected: str
    found: str
    passed: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "device": self.device, "subject": self.subject, "expected": self.expected,
                "found": self.found, "passed": self.passed, "message": self.message}


def _result(e: Expectation, passed: bool, expected: str, found: str, message: str) -> CheckResult:
    return CheckResult(e.check, e.node, e.subject, expected, found, passed, message)


# -- commands -----------------------------------------------------------------------------------------------
def show_command(e: Expectation) -> str:
    return {
        "link-up": "ip -j link show",
        "lag-bundled": f"ovs-appctl bond/show {e.subject}",
        "ospf-neighbors": "vtysh -c 'show ip ospf neighbor json'",
        "bgp-sessions": "vtysh -c 'show bgp summary json'",
        "evpn-vnis": "vtysh -c 'show evpn vni json'",
        # a deadline (-w): done after 3 replies (~0.4 s) or 3 s, whichever comes first
        "reachability": "ping -n -c 3 -i 0.2 -W 1 -w 3 " + (f"-I {e.detail['dev']} " if e.detail.get("dev") else "")
                        + e.subject,
    }[e.check]


# -- judges -------------------------------------------------------------------------------------------------
def valid_link_up(e: Expectation, output: str) -> CheckResult:
    links = {str(x.get("ifname")): x for x in json.loads(output or "[]")}
    x = links.get(e.subject)
    peer = e.detail.get("peer", "?")
    if x is None:
        return _result(e, False, "UP", "absent", f"{e.node}: interface {e.subject} (to {peer}) does not exist")
    flags = x.get("flags") or []
    state = str(x.get("operstate", "UNKNOWN"))
    up = "UP" in flags and "LOWER_UP" in flags
    return _result(e, up, "UP", state if not up else "UP",
                   f"{e.node}: {e.subject} (to {peer}) is {'up' if up else 'down: ' + state + ' ' + ','.join(flags)}")


def valid_lag_bundled(e: Expectation, output: str) -> CheckResult:
    lacp = re.search(r"lacp_status:\s*(\S+)", output)
    status = lacp.group(1) if lacp else "absent"
    enabled = sorted(m.group(1) for m in re.finditer(r"^(?:member|slave) (\S+): enabled", output, re.M))
    want = sorted(e.expected)
    ok = status == "negotiated" and enabled == want
    return _result(e, ok, f"lacp negotiated, members {','.join(want)}",
                   f"lacp {status}, members enabled {','.join(enabled) or 'none'}",
                   f"{e.node}: LAG {e.subject} " + ("bundled" if ok else "not bundled as NetBox says"))


def _ospf_neighbors(output: str) -> dict[str, str]:
    data = json.loads(output or "{}")
    out: dict[str, str] = {}
    for rid, entries in (data.get("neighbors") or {}).items():
        for n in entries if isinstance(entries, list) else [entries]:
            out[rid] = str(n.get("nbrState") or n.get("state") or "")
    return out


def _exact_sessions(e: Expectation, found: dict[str, str], up: str, proto: str) -> CheckResult:
    """Exactly the expected peers, each in state ``up`` (a prefix: ``Full/DR`` is Full), none other."""
    ready = sorted(p for p, s in found.items() if s.startswith(up))
    want = sorted(e.expected)
    ok = ready == want and set(found) == set(want)
    missing = sorted(set(want) - set(ready))
    extra = sorted(set(found) - set(want))
    msg = "as NetBox says" if ok else f"missing/not {up}: {missing or '-'}; unexpected: {extra or '-'}"
    return _result(e, ok, ",".join(want) or "none",
                   ",".join(f"{p}({s})" for p, s in sorted(found.items())) or "none", f"{e.node}: {proto} {msg}")


def valid_ospf_neighbors(e: Expectation, output: str) -> CheckResult:
    return _exact_sessions(e, _ospf_neighbors(output), "Full", "OSPF")


def _bgp_peers(output: str) -> dict[str, str]:
    data = json.loads(output or "{}")
    peers: dict[str, str] = {}
    for af in data.values():
        if isinstance(af, dict):
            for addr, p in (af.get("peers") or {}).items():
                st = str(p.get("state", ""))
                if peers.get(addr) != "Established":
                    peers[addr] = st
    return peers


def valid_bgp_sessions(e: Expectation, output: str) -> CheckResult:
    return _exact_sessions(e, _bgp_peers(output), "Established", "BGP")


def valid_evpn_vnis(e: Expectation, output: str) -> CheckResult:
    data = json.loads(output or "{}")
    found = sorted(str(k) for k in data)
    want = sorted(e.expected)
    missing = sorted(set(want) - set(found))
    ok = not missing
    return _result(e, ok, ",".join(want), ",".join(found) or "none",
                   f"{e.node}: " + ("every VNI present" if ok else f"VNIs missing: {','.join(missing)}"))


def valid_reachability(e: Expectation, output: str) -> CheckResult:
    m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", output)
    sent, recv = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    ok = recv > 0
    to = e.detail.get("to", "")
    via = f" via {e.detail['via']} ({e.detail.get('dev', '')})" if e.detail.get("via") else ""
    return _result(e, ok, "reply", f"{recv}/{sent} replies",
                   f"{e.node} → {e.subject} ({to}){via}: " + ("reachable" if ok else "unreachable"))


JUDGES: dict[str, Callable[[Expectation, str], CheckResult]] = {
    "link-up": valid_link_up,
    "lag-bundled": valid_lag_bundled,
    "ospf-neighbors": valid_ospf_neighbors,
    "bgp-sessions": valid_bgp_sessions,
    "evpn-vnis": valid_evpn_vnis,
    "reachability": valid_reachability,
}
