"""Names in the lab: NetBox interface names → Linux names (≤ 15 characters), namespaces, host-side links.

Pure functions, deterministic: the same NetBox name always gives the same Linux name, on every run.
The base mapping is the ``linux-frr`` platform's (:func:`campusnet.platforms.linux_frr.linux_ifname`), so the
veths the lab makes carry exactly the names the rendered ``frr.conf`` / ``ovs.sh`` / ``net.sh`` use. On top
of it: a hashed fallback for names it cannot map, and per-node collision handling with a reverse map.

>>> linux_ifname("10GE1/0/1")
'xe1-0-1'
>>> linux_ifname("Ten-GigabitEthernet1/0/49")
'xge1-0-49'
>>> linux_ifname("GigabitEthernet2/0/3")
'ge2-0-3'
>>> linux_ifname("eth1")
'eth1'
>>> linux_ifname("HundredGigE1/0/1/3:2/extra-long")
'hund594f8819'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from campusnet.errors import CampusnetError

IFNAMSIZ = 15  # usable characters of a Linux interface name
NS_PREFIX = "cn-"
MGMT_BRIDGE = "cnmgmt"
MGMT_IFNAME = "mgmt0"

_VALID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")


def valid_linux_ifname(name: str) -> bool:
    """A name the kernel accepts and that needs no quoting in the lab (≤ 15 characters, no ``/`` or ``:``)."""
    return bool(_VALID.match(name)) and name not in {".", ".."}


def _hashed(prefix: str, key: str) -> str:
    return f"{prefix[:4] or 'if'}{hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:8]}"


def linux_ifname(netbox_name: str, *, device: str = "") -> str:
    """The Linux name for one NetBox (physical) interface name, without collision handling.

    The linux-frr platform's mapping (``10GE1/0/1`` → ``xe1-0-1``, ``Ten-GigabitEthernet1/0/49`` →
    ``xge1-0-49``); where it cannot map, ``<its prefix><8 hex of sha1(device:name)>``.
    """
    from campusnet.platforms.linux_frr import linux_ifname as platform_ifname

    try:
        name = platform_ifname(netbox_name)
    except CampusnetError:
        name = ""
    if valid_linux_ifname(name):
        return name
    prefix = re.match(r"[A-Za-z]*", netbox_name)
    return _hashed((prefix.group(0) if prefix else "").lower(), f"{device}:{netbox_name}")


def ifname_map(names: Iterable[tuple[str, str]], *, node: str) -> dict[tuple[str, str], str]:
    """Map ``(device, netbox name)`` pairs of one lab node to unique Linux names.

    Where two NetBox names would map to the same short name (e.g. ``GE1/0/1`` on both members of a
    virtual chassis modelled without chassis numbers), *each* of them gets the hashed form of
    ``device:name``, so the result does not depend on the order of the input.
    """
    pairs = sorted(set(names))
    first = {p: linux_ifname(p[1], device=p[0]) for p in pairs}
    count: dict[str, int] = {}
    for v in first.values():
        count[v] = count.get(v, 0) + 1
    out: dict[tuple[str, str], str] = {}
    for p, v in first.items():
        if count[v] > 1:
            abbr = re.match(r"[A-Za-z]*", v)
            v = _hashed(abbr.group(0) if abbr else "if", f"{p[0]}:{p[1]}")
        out[p] = v
    seen: dict[str, tuple[str, str]] = {}
    for p, v in out.items():
        if v in seen:
            raise CampusnetError("E403", f"interfaces {seen[v][0]}:{seen[v][1]} and {p[0]}:{p[1]} both map "
                                 f"to Linux name {v!r}", obj=node)
        seen[v] = p
    return out


def ns_name(node: str) -> str:
    """The network namespace of a lab node: ``cn-<node>``."""
    return NS_PREFIX + node


def node_slug(name: str) -> str:
    """A NetBox device/VC name as a lab node name (lowercase, ``[a-z0-9-]``)."""
    s = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return s or "node"


def mgmt_peer_name(node: str) -> str:
    """Host-side end of a node's ``mgmt0`` veth (on bridge ``cnmgmt``): ``cnm`` + 8 hex."""
    return "cnm" + hashlib.sha1(node.encode(), usedforsecurity=False).hexdigest()[:8]


HOST_LINK_RE = re.compile(r"^cnm[0-9a-f]{8}$")
