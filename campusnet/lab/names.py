"""Names in the lab: NetBox interface names → Linux names (≤ 15 characters), namespaces, host-side links.

Pure functions, deterministic: the same NetBox name always gives the same Linux name, on every run.

>>> linux_ifname("10GE1/0/1")
'xe1-0-1'
>>> linux_ifname("Ten-GigabitEthernet1/0/49")
'xe1-0-49'
>>> linux_ifname("GigabitEthernet2/0/3")
'ge2-0-3'
>>> linux_ifname("Eth-Trunk10")
'ag10'
>>> linux_ifname("Bridge-Aggregation1")
'ag1'
>>> linux_ifname("Vlanif110")
'vlan110'
>>> linux_ifname("LoopBack0")
'lo'
>>> linux_ifname("eth1")
'eth1'
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

# NetBox/vendor prefix → short Linux prefix. Longest match wins; the remainder must start with a digit.
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("hundredgigabitethernet", "hu"), ("hundredgige", "hu"), ("100ge", "hu"),
    ("fortygigabitethernet", "fo"), ("fortygige", "fo"), ("40ge", "fo"),
    ("twentyfivegigabitethernet", "tf"), ("twentyfivegige", "tf"), ("25ge", "tf"),
    ("ten-gigabitethernet", "xe"), ("tengigabitethernet", "xe"), ("tengige", "xe"), ("10ge", "xe"),
    ("xgigabitethernet", "xe"), ("xge", "xe"),
    ("gigabitethernet", "ge"), ("gige", "ge"), ("ge", "ge"),
    ("fastethernet", "fe"),
    ("eth-trunk", "ag"), ("bridge-aggregation", "ag"), ("route-aggregation", "ag"), ("port-channel", "ag"),
    ("vlan-interface", "vlan"), ("vlanif", "vlan"),
    ("loopback", "lo"),
    ("m-gigabitethernet", "mgmt"), ("meth", "mgmt"),
    ("ethernet", "eth"),
)
_PREFIXES_SORTED = tuple(sorted(_PREFIXES, key=lambda p: -len(p[0])))
_VALID = re.compile(r"^[a-z][a-z0-9_.-]{0,14}$")
_SAFE = re.compile(r"[^a-z0-9_.-]+")


def valid_linux_ifname(name: str) -> bool:
    """A name the kernel accepts and that needs no quoting in the lab: lowercase, ≤ 15 characters."""
    return bool(_VALID.match(name)) and name not in {".", ".."}


def _hashed(prefix: str, key: str) -> str:
    return f"{prefix[:5] or 'if'}{hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:8]}"


def linux_ifname(netbox_name: str, *, device: str = "") -> str:
    """The Linux name for one NetBox interface name (without collision handling; see :func:`ifname_map`).

    Vendor prefixes are shortened (``10GE`` → ``xe``, ``GigabitEthernet`` → ``ge``, ``Eth-Trunk`` → ``ag``),
    ``/`` and ``:`` become ``-``. ``LoopBack0`` is ``lo``; other loopbacks ``lo<N>`` (their addresses
    go on ``lo`` in the lab). Names that are still too long become ``<prefix><8 hex of sha1>``.
    """
    if valid_linux_ifname(netbox_name):
        return netbox_name
    low = netbox_name.strip().lower().replace(" ", "")
    abbr, rest = "", low
    for long, short in _PREFIXES_SORTED:
        if low.startswith(long) and low[len(long):len(long) + 1].isdigit():
            abbr, rest = short, low[len(long):]
            break
    if abbr == "lo":
        return "lo" if rest in {"0", ""} else f"lo{_SAFE.sub('-', rest)}"
    cand = abbr + _SAFE.sub("-", rest.replace("/", "-").replace(":", "-")).strip("-")
    if not cand or not cand[0].isalpha():
        cand = "if" + cand
    if valid_linux_ifname(cand):
        return cand
    return _hashed(abbr or "if", f"{device}:{netbox_name}")


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
        if count[v] > 1 and v != "lo":
            abbr = re.match(r"[a-z]*", v)
            v = _hashed(abbr.group(0) if abbr else "if", f"{p[0]}:{p[1]}")
        out[p] = v
    seen: dict[str, tuple[str, str]] = {}
    for p, v in out.items():
        if v in seen and v != "lo" and not v.startswith("lo"):
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
