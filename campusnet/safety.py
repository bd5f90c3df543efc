"""Hostile strings cannot escape: the checks every NetBox string passes before it reaches a rendered file,
a path or a shell script. Pure functions, no I/O; the policy is documented in docs/reliability.md, section 3.

Policy per kind of string (why: where the string ends up):

* **device names** (and virtual-chassis names) become a hostname (``sysname``, FRR ``hostname``), a path
  component (``out/<device>/``, backups, run records), a lab node and an SSH target: ``[A-Za-z0-9._-]``,
  first character alphanumeric, at most 64 characters, no ``..``. So no ``/``, whitespace, quote, control
  character or shell metacharacter can get in, and no name can start with ``-`` (an option on a command line).
* **interface names** keep the ``/`` and ``:`` vendors use (``GigabitEthernet0/0/1``, ``Eth1/0/1:2``) and
  the ``.`` of a subinterface; nothing else beyond ``[A-Za-z0-9_-]``, first character alphanumeric, at most
  64 characters, no ``..``. They never become a path or a shell word as such: the lab maps them to Linux names
  (:mod:`campusnet.lab.names`, ``[A-Za-z][A-Za-z0-9_.-]{0,14}`` or a hash).
* **VLAN and L2VPN names** become ``name``/``description`` lines of VRP and Comware: ``[A-Za-z0-9 _.+-]``,
  first character alphanumeric or ``_``, no trailing space, at most 64 characters, no ``/``, no ``..``.
* **descriptions** are free text: they are not refused but made safe per platform when rendered
  (:func:`quote_description`: control characters become spaces, the platform's length cap applies); the
  ``safe-strings`` rule reports those that needed it, so the deploy gate stops them until fixed.
* **config-context strings** are single-line: a control character anywhere is refused.
* **secret references** are ``[A-Za-z0-9_-]+`` (a file name in the secrets directory).
* **shell words** (lab scripts) are validated against :data:`SHELL_WORD` and then ``shlex``-quoted.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from campusnet.errors import CampusnetError
from campusnet.intent.errors import IntentError

NameKind = Literal["device", "interface", "vlan"]

#: C0, DEL, C1 and the Unicode line/paragraph separators: anything that can end or rewrite a line
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAME_RE: dict[NameKind, re.Pattern[str]] = {
    "device": re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"),
    "interface": re.compile(r"[A-Za-z0-9][A-Za-z0-9/:._-]{0,63}"),
    "vlan": re.compile(r"[A-Za-z0-9_][A-Za-z0-9 _.+-]{0,63}"),
}
_NAME_ALLOWED: dict[NameKind, str] = {
    "device": "letters, digits, '.', '_', '-'",
    "interface": "letters, digits, '/', ':', '.', '_', '-'",
    "vlan": "letters, digits, space, '.', '_', '+', '-'",
}
SECRET_REF = re.compile(r"[A-Za-z0-9_-]+")
#: a word of a generated shell script: what ``shlex.quote`` leaves alone, minus a leading '-'
SHELL_WORD = re.compile(r"[A-Za-z0-9_.:,/@+=%][A-Za-z0-9_.:,/@+=%-]*")
#: a path component (out/<device>/, backups/<device>/, runs/<run>/devices/<device>.json)
PATH_COMPONENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

#: description length caps per platform and object (the shortest the platform's CLI accepts)
DESCRIPTION_MAX: dict[str, dict[str, int]] = {
    "huawei_vrp": {"interface": 242, "vlan": 80, "static_route": 35, "bgp_peer": 255},
    "h3c_comware": {"interface": 255, "vlan": 255, "static_route": 60, "bgp_peer": 79},
    "linux_frr": {"interface": 255, "vlan": 255, "static_route": 255, "bgp_peer": 80},
}
DEFAULT_DESCRIPTION_MAX = 242


def _char(c: str) -> str:
    name = unicodedata.name(c, "")
    return f"U+{ord(c):04X}" + (f" ({name.lower()})" if name else " (newline)" if c == "\n" else "")


def control_char(value: str) -> str | None:
    """The first control character of ``value``, described (``U+000A (newline)``), or None."""
    m = _CONTROL.search(value)
    return _char(m.group(0)) if m else None


def name_problem(value: object, kind: NameKind) -> str | None:
    """Why ``value`` is not a safe name of this kind, or None when it is."""
    if not isinstance(value, str):
        return f"expected a string, got {type(value).__name__}"
    if not value:
        return "empty"
    bad = control_char(value)
    if bad:
        return f"contains a control character {bad}"
    if ".." in value:
        return "contains '..'"
    if "/" in value and kind != "interface":
        return "contains '/'"
    if len(value) > 64:
        return f"longer than 64 characters ({len(value)})"
    rules = f"(allowed: {_NAME_ALLOWED[kind]}, first character alphanumeric" + \
        (", no trailing space)" if kind == "vlan" else ")")
    if _NAME_RE[kind].match(value[0]) is None:
        return f"starts with {value[0]!r} at position 0 {rules}"
    if kind == "vlan" and value.endswith(" "):
        return f"ends with a space {rules}"
    if _NAME_RE[kind].fullmatch(value) is None:
        first = next((c for c in value if _NAME_RE[kind].fullmatch("a" + c) is None), value[0])
        return f"contains {first!r} at position {value.index(first)} {rules}"
    return None


def text_problem(value: object) -> str | None:
    """Why a free-text value (description, config-context string) is not single-line, or None."""
    if not isinstance(value, str):
        return None
    bad = control_char(value)
    return f"contains a control character {bad}" if bad else None


def _why(value: str, problem: str) -> str:
    shown = value if len(value) <= 60 else value[:57] + "..."
    return f"{problem}: {shown!r} is unsafe in a configuration, a path or a shell script"


# --------------------------------------------------------------------------------------------------------
# refusals (intent stage): raised per device, collected by the builder (E211)
# --------------------------------------------------------------------------------------------------------
class UnsafeStringError(IntentError):
    """A NetBox string refused by the intent stage: ``obj`` names the NetBox object (``interface
    jpl-core-1:Eth1/0/1``), ``device`` the device whose intent it stops."""

    def __init__(self, code: str, message: str, *, obj: str, field: str, device: str):
        super().__init__(message, device=device, field=field, code=code)
        self.obj = obj
        self.args = (str(self),)


def check_device_strings(device: Any, members: list[Any], interfaces: list[Any]) -> None:
    """Refuse a device whose NetBox strings are unsafe: its (and its VC members') name, its virtual
    chassis's name, its interfaces' names and its config-context strings. Raises :class:`UnsafeStringError`."""
    dev = str(device.name)
    devices = [device, *[m for m in members if m is not device]]
    for d in devices:
        why = name_problem(d.name, "device")
        if why:
            raise UnsafeStringError("E220", f"unsafe device name, {_why(str(d.name), why)}",
                                    obj=f"device {d.name!r}", field="name", device=dev)
    vc = getattr(device, "virtual_chassis", None)
    if vc:
        why = name_problem(vc, "device")
        if why:
            raise UnsafeStringError("E220", f"unsafe virtual-chassis name, {_why(vc, why)}",
                                    obj=f"virtual chassis {vc!r}", field="name", device=dev)
    for i in interfaces:
        why = name_problem(i.name, "interface")
        if why:
            raise UnsafeStringError("E221", f"unsafe interface name, {_why(str(i.name), why)}",
                                    obj=f"interface {i.device}:{i.name!r}", field="name", device=dev)
    for d in devices:
        for path, value in walk_strings(getattr(d, "config_context", {}) or {}):
            why = text_problem(value)
            if why:
                raise UnsafeStringError("E223", f"config-context string not single-line, {_why(value, why)}",
                                        obj=f"device {d.name}", field=f"config_context.{path}", device=dev)
            if path.endswith("secret_ref") and SECRET_REF.fullmatch(value) is None:
                raise UnsafeStringError("E224", f"secret reference {value!r} is not [A-Za-z0-9_-]+",
                                        obj=f"device {d.name}", field=f"config_context.{path}", device=dev)


def walk_strings(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in nested dicts/lists, with its dotted path (``services.snmp.location``, ``x[0]``)."""
    if isinstance(data, Mapping):
        for k, v in data.items():
            key = f"{path}.{k}" if path else str(k)
            if isinstance(k, str) and (text_problem(k) or not k):
                yield key, k
            yield from walk_strings(v, key)
    elif isinstance(data, list | tuple):
        for n, v in enumerate(data):
            yield from walk_strings(v, f"{path}[{n}]")
    elif isinstance(data, str):
        yield path, data


def check_intent_strings(intent: Any) -> None:
    """The backstop over a built intent (production or emulation): VLAN and VNI names, and every other string
    that reaches a template single-line (descriptions excepted: :func:`quote_description` makes them
    safe when rendered). Raises :class:`UnsafeStringError`."""
    dev = intent.hostname
    for v in intent.vlans.vlans:
        why = name_problem(v.name, "vlan")
        if why:
            raise UnsafeStringError("E222", f"unsafe VLAN name, {_why(v.name, why)}", obj=f"vlan {v.vid}",
                                    field="name", device=dev)
    if intent.evpn is not None:
        for vni in intent.evpn.vnis:
            why = name_problem(vni.name, "vlan")
            if why:
                raise UnsafeStringError("E222", f"unsafe L2VPN name, {_why(vni.name, why)}",
                                        obj=f"l2vpn of vni {vni.vni}", field="name", device=dev)
    for path, value in walk_strings(intent.model_dump(mode="json")):
        if path.split(".")[-1].startswith("description"):
            continue
        why = text_problem(value)
        if why:
            raise UnsafeStringError("E225", f"string not single-line, {_why(value, why)}", obj=f"intent of {dev}",
                                    field=path, device=dev)


# --------------------------------------------------------------------------------------------------------
# rendering: descriptions, shell words, paths
# --------------------------------------------------------------------------------------------------------
def quote_description(text: object, platform: str, where: str = "interface") -> str:
    """A description as the platform's ``description`` command takes it (the rest of the line): every
    control character becomes a space, outer whitespace goes, the platform's length cap applies.

    >>> quote_description("uplink\\nreturn\\nsysname pwned", "huawei_vrp")
    'uplink return sysname pwned'
    >>> len(quote_description("x" * 300, "huawei_vrp"))
    242
    """
    s = "" if text is None else str(text)
    s = _CONTROL.sub(" ", s).strip()
    cap = DESCRIPTION_MAX.get(platform.replace("-", "_"), {}).get(where, DEFAULT_DESCRIPTION_MAX)
    return s[:cap].rstrip()


def shell_word(value: object, *, what: str = "word", obj: str | None = None) -> str:
    """``value`` as one word of a generated shell script: validated against :data:`SHELL_WORD`, then
    ``shlex``-quoted (a no-op for a valid word: the two are belts and braces). E323 otherwise."""
    s = str(value)
    if not s:
        return ""  # an empty value (OVS `trunks=`) adds no word, so nothing to inject
    if SHELL_WORD.fullmatch(s) is None:
        bad = control_char(s) or next((repr(c) for c in s if SHELL_WORD.fullmatch("a" + c) is None), repr(s[:1]))
        raise CampusnetError("E323", f"refused in a shell script: {s[:60]!r} (character {bad}) is not a safe "
                             f"{what}", obj=obj, field=what)
    return shlex.quote(s)


def check_shell_tokens(text: str, *, what: str, obj: str | None = None) -> None:
    """Every whitespace-separated token of ``text`` (and so every word a script formats from it) is a plain
    shell word (:data:`SHELL_WORD`, no glob, no leading '-'); E323 otherwise. For scripts built from state
    read back from a device (rollback), where each word cannot be quoted one by one."""
    for token in text.split():
        shell_word(token, what=what, obj=obj)


def shell_comment(value: object) -> str:
    """Text inside a ``#`` comment of a generated script: single-line whatever it holds."""
    return _CONTROL.sub(" ", str(value))


def path_component(name: object, *, what: str = "device name") -> str:
    """``name`` as one path component (``out/<device>/``, backups, run records): returned unchanged when it
    is a safe slug (``[A-Za-z0-9][A-Za-z0-9._-]*``, not ``..``), else E322. Never rewritten silently: two
    devices must not share a directory."""
    s = str(name)
    if PATH_COMPONENT.fullmatch(s) is None or ".." in s:
        why = control_char(s) or ("'..'" if ".." in s else "'/'" if "/" in s else "characters outside [A-Za-z0-9._-]")
        raise CampusnetError("E322", f"{s[:60]!r} cannot be a directory or file name ({why})", obj=s[:60],
                             field=what)
    return s


def slug(name: str) -> str:
    """A lossy safe slug for display or lab names (``[a-z0-9-]``); use :func:`path_component` for paths."""
    s = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return s or "x"
