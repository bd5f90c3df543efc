"""What the Huawei VRP and H3C Comware drivers share: the CLI session, its error check, the push script,
the ``display`` parsers, and the lifecycle both platforms run the same way.

A vendor driver talks to a :class:`CliSession`: one command at a time, the reply back as text.
:class:`NetmikoSession` is the real one (netmiko over SSH; docs/deploy.md says why netmiko);
:class:`campusnet.deploy.replay.ReplaySession` answers from recorded transcripts (tests, ``deploy --replay``).
Both have ``open``/``close``/``alive`` (the engine's :class:`~campusnet.deploy.drivers.base.DeviceConnection`).

Diff and remediation are :mod:`campusnet.compare`'s (hier_config with the platform's rules); parsing the
``display`` output is ntc-templates' where it has a template (interface brief, BGP peers), ours for
``display ospf peer brief`` (ntc-templates has no template for it on either platform).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from campusnet.compare import normalise, remediation, unified
from campusnet.deploy.drivers.base import DeployTarget, ExpectedState, Session
from campusnet.errors import CampusnetError

if TYPE_CHECKING:
    from hier_config import HConfig

    from campusnet.deploy.transport import Credentials
    from campusnet.intent.models import DeviceIntent

#: the reply of a command the device refused (VRP: ``Error: …``; Comware: ``% Unrecognized command …``)
_REFUSED = re.compile(r"^\s*(Error:.*|% ?(?:Unrecognized|Incomplete|Too many|Wrong|Ambiguous|Invalid).*)$", re.M)


@runtime_checkable
class CliSession(Protocol):
    """One CLI session to a vendor device: ``send`` a command, get its reply (prompt and echo stripped)."""

    device: str
    #: what the driver keeps per session: the rollback point it made, whether a change awaits confirmation
    commit_state: dict[str, Any]

    def open(self) -> None: ...

    def close(self) -> None: ...

    def alive(self) -> bool: ...

    def send(self, command: str, *, expect: str | None = None, read_timeout: float = 120.0) -> str:
        """Run one command; ``expect`` is a regex that ends the reply instead of the prompt (a [Y/N] question)."""
        ...


def leave(s: CliSession) -> None:
    """Back to user view. A VRP candidate left uncommitted (a push that broke off) asks whether to commit
    it on the way out: the answer is no, it is dropped."""
    reply = s.send("return", expect=r"(\[Y/N/C\]:?|[>\]])\s*$")
    if "[Y/N/C]" in reply:
        s.send("N")


def arm(s: CliSession, seconds: int) -> None:
    """Note a revert timer armed on the device now, firing ``seconds`` from now (by this host's clock)."""
    s.commit_state["pending"] = True
    s.commit_state["deadline"] = time.monotonic() + seconds


def may_confirm(s: CliSession) -> bool:
    """Whether a pending change can still be confirmed: False when none is pending; E418 when its timer has
    fired by now (the device went back, or is going back: confirming now would keep nothing)."""
    if not s.commit_state.get("pending"):
        return False
    if time.monotonic() >= float(s.commit_state.get("deadline", float("inf"))):
        s.commit_state["pending"] = False
        raise too_late(s)
    return True


def too_late(s: CliSession) -> CampusnetError:
    """E418: the revert timer fired before the confirm (by our clock, or as the device says)."""
    return CampusnetError("E418", "too late to confirm: the device's revert timer has fired and it went back "
                          "to its configuration before the push", obj=s.device, field="confirm_timeout")


def session(conn: object) -> CliSession:
    """``conn`` as a CLI session (E481 when the engine handed a vendor driver something else)."""
    if not isinstance(conn, CliSession):
        raise CampusnetError("E481", f"not a vendor CLI session: {type(conn).__name__} (a VRP/Comware driver "
                             "talks through its own connect(), or deploy --replay)", obj=str(getattr(conn, "device",
                             "?")), field="connection")
    return conn


def checked(conn: CliSession, command: str, *, expect: str | None = None, read_timeout: float = 120.0) -> str:
    """Send and refuse a reply that says the device refused the command (E482, the device's words kept)."""
    reply = conn.send(command, expect=expect, read_timeout=read_timeout)
    bad = _REFUSED.search(reply)
    if bad:
        raise CampusnetError("E482", f"the device refused {command.strip()!r}: {bad.group(1).strip()}",
                             obj=conn.device, field="command")
    return reply


class NetmikoSession:
    """A netmiko SSH session (key authentication, host keys checked against the campusnet known_hosts)."""

    def __init__(self, device: str, host: str, creds: Credentials, device_type: str, port: int = 22):
        self.device = device
        self.host = host
        self.port = port
        self.creds = creds
        self.device_type = device_type
        self._conn: Any = None
        self.commit_state: dict[str, Any] = {}
        self._prompt = r"[>\]]\s*$"

    def open(self) -> None:
        from netmiko import ConnectHandler

        kh = self.creds.known_hosts
        self._conn = ConnectHandler(
            device_type=self.device_type, host=self.host, port=self.port, username=self.creds.username,
            use_keys=True, key_file=str(self.creds.key_file), allow_agent=False,
            ssh_strict=not self.creds.accept_new, system_host_keys=True,
            alt_host_keys=kh is not None and kh.exists(), alt_key_file=str(kh or ""),
            fast_cli=False, conn_timeout=20)
        base = re.escape(self._conn.base_prompt)
        # <host> in user view, [~host] / [*host] / [~host-LoopBack0] in system view and below
        self._prompt = r"[<\[][~*]?" + base + r"[^\r\n]*[>\]]\s*$"

    def close(self) -> None:
        if self._conn is not None:
            self._conn.disconnect()
            self._conn = None

    def alive(self) -> bool:
        return self._conn is not None and bool(self._conn.is_alive())

    def send(self, command: str, *, expect: str | None = None, read_timeout: float = 120.0) -> str:
        if self._conn is None:
            raise CampusnetError("E481", "the session is not open", obj=self.device, field="connection")
        return str(self._conn.send_command(command, expect_string=expect or self._prompt, read_timeout=read_timeout,
                                           strip_prompt=True, strip_command=True))

    def __enter__(self) -> NetmikoSession:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the push script ---------------------------------------------------------------------------------------------
def push_script(lines: Sequence[str]) -> list[str]:
    """hier_config's remediation (children indented under their section) as the commands to type in
    system-view: each command flush left, ``quit`` after a section's last child (VRP and Comware both leave
    a view with ``quit``)."""
    out: list[str] = []
    inside = 0  # sections entered
    for line in lines:
        level = (len(line) - len(line.lstrip(" "))) // 2
        inside = max(inside, level)  # a deeper line: the previous line opened a section
        while inside > level:
            out.append("quit")
            inside -= 1
        out.append(line.strip())
    out.extend(["quit"] * inside)
    return out


# -- parsers -----------------------------------------------------------------------------------------------------
def ntc_parse(platform: str, command: str, text: str) -> list[dict[str, str]]:
    """ntc-templates' parse of ``command``'s output (``platform``: ``huawei_vrp`` or ``hp_comware``)."""
    from ntc_templates.parse import parse_output

    rows = parse_output(platform=platform, command=command, data=text)
    return [{str(k).lower(): str(v) for k, v in row.items()} for row in rows]


_OSPF_BRIEF = re.compile(r"^\s*(?P<area>\d+\.\d+\.\d+\.\d+)\s+(?P<iface>\S+)\s+(?P<rid>\d+\.\d+\.\d+\.\d+)\s+"
                         r"(?P<state>[A-Za-z/-]+)", re.M)


def parse_ospf_peer_brief(text: str) -> dict[str, str]:
    """``display ospf peer brief`` (VRP and Comware print the same columns: area, interface, neighbour
    router id, state) → ``{router id: state}``. Ours: ntc-templates has no template for it."""
    return {m["rid"]: m["state"] for m in _OSPF_BRIEF.finditer(text)}


_COMWARE_OSPF_BRIEF = re.compile(r"^\s*(?P<rid>\d+\.\d+\.\d+\.\d+)\s+(?P<addr>\d+\.\d+\.\d+\.\d+)\s+\d+\s+\d+\s+"
                                 r"(?P<state>[A-Za-z/-]+)\s+(?P<iface>\S+)", re.M)


def parse_comware_ospf_peer_brief(text: str) -> dict[str, str]:
    """Comware 7's ``display ospf peer brief`` (router id, address, priority, dead time, state, interface)
    → ``{router id: state}`` (``Full/DR`` and the like). Ours: ntc-templates has no template for it."""
    return {m["rid"]: m["state"] for m in _COMWARE_OSPF_BRIEF.finditer(text)}


def adjacency_map(ospf: dict[str, str], bgp: Iterable[dict[str, str]]) -> dict[str, str]:
    """``{"ospf <rid>": state, "bgp <addr>": state}`` — the keys of :meth:`Session.key`."""
    out = {f"ospf {rid}": state for rid, state in ospf.items()}
    for row in bgp:
        addr = row.get("remote_ip") or row.get("peer_ip") or row.get("peer") or ""
        if addr:
            out[f"bgp {addr}"] = row.get("state") or row.get("status") or ""
    return out


# -- the lifecycle both platforms share --------------------------------------------------------------------------
class VendorCliDriver:
    """Running → diff → apply → post-checks → confirm / restore for a hier_config platform over a CLI.

    Subclasses give the platform (slug, netmiko device type, ntc-templates name, the interface-brief and
    BGP commands) and the commit mechanics: :meth:`_begin` (a rollback point), :meth:`_commit` (with or
    without the device's own revert timer), :meth:`confirm`, :meth:`_cancel` (drop a pending change now)."""

    name = ""
    platform = ""  # the NetBox platform slug, compare's key
    netmiko_type = ""
    ntc_platform = ""
    confirm_mechanism = ""
    bgp_command = "display bgp peer"
    running_command = "display current-configuration"

    # -- reading -------------------------------------------------------------------------------------------------
    def connect(self, target: DeployTarget, creds: Credentials) -> CliSession:
        return NetmikoSession(target.device, target.host, creds, self.netmiko_type)

    def expected(self, intent: DeviceIntent, files: dict[str, str], sessions: Sequence[Session] = ()
                 ) -> ExpectedState:
        """Cabled, enabled physical interfaces must be up; the routing sessions are the engine's to wait for."""
        up = tuple(i.name for i in intent.interfaces
                   if i.kind == "ethernet" and getattr(i, "enabled", True) and getattr(i, "peer", None) is not None)
        return ExpectedState(up=up, sessions=tuple(sessions))

    def intended(self, files: dict[str, str], device: str = "?") -> str:
        """The rendered configuration (the one ``.cfg`` file of the target)."""
        cfgs = [text for name, text in sorted(files.items()) if name.endswith(".cfg")]
        if len(cfgs) != 1:
            raise CampusnetError("E483", f"expected one rendered .cfg file, found {len(cfgs)}: "
                                 f"{', '.join(sorted(files)) or 'none'}", obj=device, field="files")
        return cfgs[0]

    def running(self, conn: object) -> str:
        return checked(session(conn), self.running_command, read_timeout=300.0)

    def normalise(self, text: str) -> str:
        """The configuration as a tree in the platform's comparison form (:func:`campusnet.compare.normalise`,
        hier_config's parse), every level sorted: the device prints sections in its own order, which is not
        always the order the templates write them in, and order carries no meaning here."""
        from campusnet.platforms import get_platform

        tree = get_platform(self.platform).load_config(normalise(text, self.platform))
        return "".join(f"{line}\n" for line in sorted_lines(tree.children, 0))

    def remediation(self, running: str, intended: str) -> list[str]:
        return remediation(running, intended, self.platform)

    def diff(self, conn: object, files: dict[str, str], running: str, target: DeployTarget | None = None) -> str:
        """The normalised unified diff running → intended, then hier_config's remediation (the commands
        apply will type), indented so they do not count as diff lines. Empty when in sync."""
        device = target.device if target else session(conn).device
        want = self.intended(files, device)
        rem = self.remediation(running, want)
        if not rem:
            return ""
        text = unified(self.normalise(running), self.normalise(want), "running", "intended")
        return (text + f"# hier_config remediation ({len(rem)} commands):\n" + "".join(f"    {ln}\n" for ln in rem)
                + f"# intended configuration ({device}):\n" + "".join(f"    {ln}\n" for ln in want.splitlines()))

    # -- writing -------------------------------------------------------------------------------------------------
    def apply(self, conn: object, files: dict[str, str], target: DeployTarget | None = None, *,
              confirm_timeout: int = 0) -> None:
        """Push hier_config's remediation in system-view and commit it — with the device's own revert timer
        when ``confirm_timeout > 0`` (see the subclass's ``confirm_mechanism``)."""
        s = session(conn)
        if confirm_timeout < 0:
            raise CampusnetError("E484", f"must be 0 or more seconds, not {confirm_timeout}", obj=s.device,
                                 field="confirm_timeout")
        rem = self.remediation(self.running(s), self.intended(files, s.device))
        if not rem:
            return
        self._begin(s)
        self._push(s, push_script(rem), confirm_timeout)

    def _push(self, s: CliSession, script: list[str], confirm_timeout: int) -> None:
        checked(s, "system-view")
        try:
            self._arm(s, confirm_timeout)
            for line in script:
                checked(s, line)
            self._commit(s, confirm_timeout)
        finally:
            if s.alive():
                leave(s)

    def restore(self, conn: object, backup: str) -> None:
        """Cancel a pending change (the device's own rollback), then converge to ``backup`` with a plain
        commit when the device still differs (a backup older than this session's rollback point)."""
        s = session(conn)
        self._cancel(s)
        rem = self.remediation(self.running(s), backup)
        if rem and self._to_point(s):
            rem = self.remediation(self.running(s), backup)
        if rem:
            self._push(s, push_script(rem), 0)

    # -- checks --------------------------------------------------------------------------------------------------
    def interfaces(self, conn: object) -> dict[str, str]:
        """``{interface: "up"|"down"|…}`` (physical state) from ``display interface brief``, by ntc-templates."""
        text = checked(session(conn), "display interface brief")
        return {r["interface"]: (r.get("phy") or r.get("link") or "").lower()
                for r in ntc_parse(self.ntc_platform, "display interface brief", text)}

    def short_name(self, name: str) -> str:
        """The name ``display interface brief`` prints for a configuration name (overridden where it abbreviates)."""
        return name

    def post_checks(self, conn: object, target: DeployTarget) -> list[str]:
        """The running configuration must be the intended one, and every cabled interface up."""
        failures: list[str] = []
        s = session(conn)
        left = self.remediation(self.running(s), self.intended(target.files, target.device))
        if left:
            failures.append("the running configuration is not the intended one; still to do: " + "; ".join(
                ln.strip() for ln in left[:10]) + (f" (+{len(left) - 10} more)" if len(left) > 10 else ""))
        if target.expected.up:
            states = self.interfaces(s)
            for name in target.expected.up:
                state = states.get(self.short_name(name), "absent")
                if not state.startswith("up"):
                    failures.append(f"interface {name} is {state}, not up")
        return failures

    def adjacencies(self, conn: object) -> dict[str, str]:
        s = session(conn)
        ospf = self.parse_ospf(checked(s, "display ospf peer brief"))
        bgp = ntc_parse(self.ntc_platform, self.bgp_command, checked(s, self.bgp_command))
        return adjacency_map(ospf, bgp)

    def parse_ospf(self, text: str) -> dict[str, str]:
        return parse_ospf_peer_brief(text)

    # -- commit mechanics (per platform) -------------------------------------------------------------------------
    def _begin(self, s: CliSession) -> None:
        """Before the push, in user view: mark the rollback point."""
        raise NotImplementedError

    def _arm(self, s: CliSession, confirm_timeout: int) -> None:
        """In system-view, before the first command: arm the revert timer where the platform arms it first."""
        return None

    def _commit(self, s: CliSession, confirm_timeout: int) -> None:
        """In system-view, after the last command."""
        raise NotImplementedError

    def confirm(self, conn: object) -> None:
        raise NotImplementedError

    def _cancel(self, s: CliSession) -> None:
        """Drop a pending (unconfirmed) change now, back to the rollback point."""
        raise NotImplementedError

    def _to_point(self, s: CliSession) -> bool:
        """Go back to this session's rollback point (False: none made in this session)."""
        raise NotImplementedError


def sorted_lines(children: Iterable[Any], depth: int) -> list[str]:
    """Lines of hier_config children, each level sorted by text, children two spaces under their parent."""
    out: list[str] = []
    for child in sorted(children, key=lambda c: str(c.text)):
        out.append("  " * depth + str(child.text))
        out.extend(sorted_lines(child.children, depth + 1))
    return out


def tree_text(tree: HConfig, *, indent: str = " ") -> str:
    """A hier_config tree printed as VRP/Comware print a configuration: sections separated by ``#``,
    children indented one space per level, ``return`` at the end."""
    out: list[str] = []
    for child in tree.children:
        out.append("#")
        out.append(child.text)
        out.extend(indent * (c.depth() - 1) + c.text for c in child.all_children())
    return "\n".join([*out, "#", "return"]) + "\n"
