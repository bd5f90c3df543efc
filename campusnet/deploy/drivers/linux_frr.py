"""The lab platform's driver: FRRouting + Open vSwitch + Linux links on a lab node, over SSH.

The running configuration of a node is one text in three sections:

``frr``   FRR's own ``show running-config`` (diffed and applied with FRR's ``frr-reload.py``);
``ovs``   the Open vSwitch bridge and ports in a canonical one-line-per-port form;
``links`` the lab-made Linux devices (SVI veths, VNI bridges, VXLAN devices, VRRP macvlans);
``addrs`` the IPv4 addresses per interface;
``vpn``   the VPN server: its config file (``conf …`` lines, comments dropped), whether its OpenVPN daemon
          runs, and a sha256 of its key material (never the material itself).

Apply pushes the rendered files exactly as rendered (``frr.conf`` through ``frr-reload.py --reload``,
``net.sh`` and ``ovs.sh`` through ``sh``), then removes what the intended state does not have (OVS ports,
lab-made links). With an ``openvpn.conf`` it also copies the key material (0600) to
``/etc/frr/campusnet/vpn/`` and (re)starts the node's OpenVPN daemon when config, material or daemon differ
from the intent (its PID file is in that directory = the node's directory, so ``lab down`` ends it);
without one, a VPN left on the node is stopped and removed. Restore converges the node back to a backup's
sections the same way (key material it cannot bring back: only its digest is in a backup).
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from campusnet import vpn as vpn_pki
from campusnet.deploy.drivers.base import DeployTarget, ExpectedState, PushRefused, Session
from campusnet.errors import CampusnetError
from campusnet.intent.emulation import plumbing
from campusnet.vpn import MATERIAL_FILES, REMOTE_VPN_DIR

if TYPE_CHECKING:
    from campusnet.deploy.transport import Connection, Credentials
    from campusnet.intent.models import DeviceIntent

FRR_RELOAD = "/usr/lib/frr/frr-reload.py"
# per node: /etc/frr is the node's own directory in the lab (bind-mounted), and FRR's home on a real router
REMOTE_DIR = "/etc/frr/campusnet"
# the commit-confirm timer's directory: under the node's own /etc/frr, so `lab down` removes it
CONFIRM_DIR = f"{REMOTE_DIR}/confirm"
SECTION = "!! campusnet-section {}"
SECTIONS = ("ovs", "links", "addrs", "vpn")
VPN_CONF = f"{REMOTE_VPN_DIR}/openvpn.conf"
VPN_PID = f"{REMOTE_VPN_DIR}/openvpn.pid"
VPN_RUNNING = "daemon openvpn running"
# Linux devices the lab itself makes for a node and deploy must leave alone
_BASE_LINK = re.compile(r"^(lo|mgmt0|ovs-netdev|ovs-system)$")
_LAB_MADE = re.compile(r"^(vlan\d+[ob]?|vxlan\d+|vrrp\S*|br-\S+)$")

_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_FRR_VOLATILE = re.compile(r"^(Building configuration|Current configuration|frr version|!$|$)")


def _sections(text: str) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    cur = "frr"
    for line in text.splitlines():
        m = re.match(r"^!! campusnet-section (\w+)$", line)
        if m:
            cur = m.group(1)
            out.setdefault(cur, [])
            continue
        out.setdefault(cur, []).append(line)
    return {k: "\n".join(v).strip("\n") + "\n" for k, v in out.items()}


def _frr_raw(text: str) -> str:
    """FRR's running config as it prints it, minus vtysh's banner lines."""
    return "\n".join(ln.rstrip() for ln in text.splitlines()
                     if not ln.startswith(("Building configuration", "Current configuration"))).strip("\n") + "\n"


def _frr_clean(text: str) -> str:
    """FRR text for comparisons: volatile lines dropped, and empty ``interface X`` / ``exit`` stanzas too —
    FRR keeps printing an interface it once configured after the last line under it is gone (and no reload
    can remove the stanza of an interface that exists), which says nothing about the configuration."""
    lines = [ln.rstrip() for ln in text.splitlines() if not _FRR_VOLATILE.match(ln.strip())]
    out: list[str] = []
    for ln in lines:
        if ln.strip() == "exit" and out and out[-1].startswith("interface "):
            out.pop()
            continue
        out.append(ln)
    return "\n".join(out) + "\n"


class LinuxFrrDriver:
    name = "linux-frr"
    confirm_mechanism = ("node-side timer: backup + revert script left on the node, a detached `sleep T; "
                         "revert` (setsid, PID in /etc/frr/campusnet/confirm) restores FRR, OVS, links, "
                         "addresses and VPN unless confirm kills it")

    def connect(self, target: DeployTarget, creds: Credentials) -> Connection:
        from campusnet.deploy.transport import Connection

        return Connection(target.device, target.host, creds)

    # -- the expected state ----------------------------------------------------------------------------------
    def expected(self, intent: DeviceIntent, files: dict[str, str], sessions: Sequence[Session] = ()
                 ) -> ExpectedState:
        """What the node must show besides FRR's text: one ``expected_<section>`` per section, each beside
        the ``canonical_<section>`` reader below that makes the same text of the node."""
        vpn_section, material = expected_vpn(intent, files)
        extra: dict[str, Any] = {}
        if intent.vpn is not None and material:
            extra = {"vpn_material": material,
                     "vpn_listen": f"{intent.vpn.listen}:{intent.vpn.port}/{intent.vpn.proto}",
                     "vpn_address": f"{intent.vpn.device} {intent.vpn.server_address}"}
        return ExpectedState(ovs=expected_ovs(intent), links=expected_links(intent), addrs=expected_addrs(intent),
                             vpn=vpn_section, up=tuple(expected_up(intent)), daemons=expected_daemons(intent),
                             sessions=tuple(sessions), **extra)

    # -- reading ------------------------------------------------------------------------------------------
    def running(self, conn: Connection) -> str:
        frr = conn.run("vtysh -c 'show running-config'", check=True).stdout
        return "\n".join([
            _frr_raw(frr).rstrip("\n"),
            SECTION.format("ovs"),
            self._ovs_state(conn).rstrip("\n"),
            SECTION.format("links"),
            self._links_state(conn).rstrip("\n"),
            SECTION.format("addrs"),
            self._addrs_state(conn).rstrip("\n"),
            SECTION.format("vpn"),
            self._vpn_state(conn).rstrip("\n"),
        ]) + "\n"

    def _ovs_state(self, conn: Connection) -> str:
        r = conn.run("command -v ovs-vsctl >/dev/null && ovs-vsctl --timeout=5 list-br 2>/dev/null || true")
        bridges = sorted(r.stdout.split())
        if not bridges:
            return ""
        q = ("ovs-vsctl --timeout=5 -f json --columns=name,tag,trunks,bond_mode,lacp,other_config,interfaces "
             "list Port && echo '@@' && ovs-vsctl --timeout=5 -f json --columns=_uuid,name list Interface && "
             "echo '@@' && ovs-vsctl --timeout=5 -f json --columns=name,ports list Bridge && echo '@@' && "
             "ovs-vsctl --timeout=5 -f json --columns=_uuid,name list Port")
        ports_j, ifaces_j, bridges_j, portnames_j = conn.run(q, check=True).stdout.split("@@")
        return canonical_ovs(json.loads(ports_j), json.loads(ifaces_j), json.loads(bridges_j),
                             json.loads(portnames_j))

    def _links_state(self, conn: Connection) -> str:
        links = json.loads(conn.run("ip -j -d link show", check=True).stdout or "[]")
        return canonical_links(links)

    def _addrs_state(self, conn: Connection) -> str:
        return canonical_addrs(json.loads(conn.run("ip -j addr show", check=True).stdout or "[]"))

    def _vpn_state(self, conn: Connection) -> str:
        d = shlex.quote(REMOTE_VPN_DIR)
        script = (f"[ -f {d}/openvpn.conf ] && cat {d}/openvpn.conf; echo @@; {_VPN_ALIVE} && echo running; "
                  f"echo @@; [ -f {d}/ca.crt ] && (cd {d} && cat {' '.join(MATERIAL_FILES)} 2>/dev/null | "
                  "sha256sum); true")
        conf, daemon, digest = [*conn.run(script).stdout.split("@@"), "", "", ""][:3]
        return canonical_vpn(conf, daemon.strip() == "running", digest.split()[0] if digest.strip() else None)

    # -- diff -----------------------------------------------------------------------------------------------
    def diff(self, conn: Connection, files: dict[str, str], running: str, target: DeployTarget | None = None
             ) -> str:
        """Running vs. intended, computed here (FRR's own frr-reload.py with ``--input``): no device write."""
        parts: list[str] = []
        run = _sections(running)
        frr_diff = frr_offline_diff(run.get("frr", ""), files["frr.conf"], obj=f"device {conn.device}")
        if frr_diff:
            parts.append("--- frr (running)\n+++ frr (intended)\n" + frr_diff)
        want = expected_sections(target) if target else {}
        for sec in SECTIONS:
            if sec in want:
                d = _set_diff(run.get(sec, ""), want[sec])
                if d:
                    parts.append(f"--- {sec} (running)\n+++ {sec} (intended)\n{d}")
        return "\n".join(parts)

    # -- apply / restore ------------------------------------------------------------------------------------
    def apply(self, conn: Connection, files: dict[str, str], target: DeployTarget | None = None, *,
              confirm_timeout: int = 0) -> None:
        if confirm_timeout > 0:  # armed before the first write: a controller lost mid-push is covered too
            self._arm(conn, confirm_timeout, target)
        conn.run(f"mkdir -p {REMOTE_DIR}/candidate", check=True)
        for name in ("net.sh", "ovs.sh"):
            if name in files:
                conn.put(files[name], f"{REMOTE_DIR}/candidate/{name}", mode=0o700)
        if "net.sh" in files:
            conn.run(f"sh -e {REMOTE_DIR}/candidate/net.sh", check=True)
        if "ovs.sh" in files:
            conn.run(f"sh -e {REMOTE_DIR}/candidate/ovs.sh", check=True)
        if target is not None:
            want = expected_sections(target)
            self._prune(conn, want.get("ovs", ""), want.get("links", ""), want.get("addrs"))
        conn.put(files["frr.conf"], f"{REMOTE_DIR}/candidate/frr.conf")
        self._frr_reload(conn, f"{REMOTE_DIR}/candidate/frr.conf")
        conn.run(f"cp {REMOTE_DIR}/candidate/frr.conf {REMOTE_DIR}/applied-frr.conf", check=True)
        self._apply_vpn(conn, files.get("openvpn.conf"), target)

    # -- the VPN daemon ---------------------------------------------------------------------------------------
    def _apply_vpn(self, conn: Connection, conf: str | None, target: DeployTarget | None) -> None:
        current = self._vpn_state(conn)
        if conf is None:
            if current.strip():  # a VPN the intent does not have: stop it, remove config and material
                self._vpn_stop(conn)
                conn.run(f"rm -rf {shlex.quote(REMOTE_VPN_DIR)}", check=True)
            return
        exp = target.expected if target is not None else ExpectedState()
        if target is not None and current == exp.vpn:
            return  # config, material and daemon as intended: no restart, no tunnel flap
        mat = exp.vpn_material
        if set(mat) != set(MATERIAL_FILES):
            raise CampusnetError("E426", "openvpn.conf to push but no key material for it (deploy target without "
                                 "vpn_material)", obj=f"device {conn.device}")
        d = shlex.quote(REMOTE_VPN_DIR)
        conn.run(f"mkdir -p {d} && chmod 700 {d}", check=True)
        for name in MATERIAL_FILES:  # by stdin over SSH: never on a command line, never logged
            conn.put(Path(mat[name]).read_text(), f"{REMOTE_VPN_DIR}/{name}", mode=0o600)
        conn.put(conf, VPN_CONF, mode=0o600)
        self._vpn_stop(conn)
        conn.run(f"openvpn --config {shlex.quote(VPN_CONF)}", check=True)
        listen, addr = exp.vpn_listen, exp.vpn_address
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if (not listen or _vpn_listening(conn, listen)) and (not addr or _has_addr(conn, addr)):
                break
            time.sleep(0.2)

    def _vpn_stop(self, conn: Connection) -> None:
        conn.run(f"p=$(cat {VPN_PID} 2>/dev/null); if {_VPN_ALIVE}; then kill $p; for i in $(seq 50); do "
                 "kill -0 $p 2>/dev/null || break; sleep 0.1; done; kill -9 $p 2>/dev/null; fi; "
                 f"rm -f {VPN_PID}; true")

    def _frr_reload(self, conn: Connection, path: str) -> None:
        r = conn.run(f"{FRR_RELOAD} --reload {shlex.quote(path)} 2>&1")
        if r.rc != 0:
            raise CampusnetError("E422", f"frr-reload.py --reload failed: {r.stdout.strip()[-800:]}",
                                 obj=f"device {conn.device}")

    def _prune(self, conn: Connection, ovs_want: str, links_want: str, addrs_want: str | None = None, *,
               whole_state: bool = False) -> None:
        """Remove OVS ports, lab-made links and addresses that the wanted state does not have."""
        cmds = prune_commands(_sections(self.running(conn)), ovs_want, links_want, addrs_want,
                              whole_state=whole_state)
        if cmds:
            conn.run(" ; ".join(cmds))

    # -- commit-confirm: the node-side revert timer -------------------------------------------------------
    def _arm(self, conn: Connection, seconds: int, target: DeployTarget | None) -> None:
        """Leave on the node the pre-apply state and a script that restores it, and start a detached timer
        that runs the script after ``seconds`` unless :meth:`confirm` (or :meth:`restore`) kills it first."""
        state = self._timer(conn)
        if state in ("pending", "reverting"):
            raise PushRefused("E442", f"an earlier push's revert timer is still {state} on the node "
                              f"({CONFIRM_DIR}/timer.pid): let it finish, or `campusnet rollback`", obj=
                              f"device {conn.device}", field="confirm_timeout")
        backup = _sections(self.running(conn))
        want = expected_sections(target) if target else {}
        d = shlex.quote(CONFIRM_DIR)
        conn.run(f"rm -rf {d} && mkdir -p {d} && chmod 700 {d}", check=True)
        conn.put(backup.get("frr", ""), f"{CONFIRM_DIR}/backup-frr.conf")
        vpn_conf = [ln[len("conf "):] for ln in backup.get("vpn", "").splitlines() if ln.startswith("conf ")]
        if vpn_conf:
            conn.put("\n".join(vpn_conf) + "\n", f"{CONFIRM_DIR}/openvpn.conf")
        conn.put(restore_script(backup.get("ovs", ""), backup.get("links", ""), backup.get("addrs", "")),
                 f"{CONFIRM_DIR}/restore-links.sh", mode=0o700)
        conn.put(revert_script(backup, want), f"{CONFIRM_DIR}/revert.sh", mode=0o700)
        conn.put(timer_script(seconds), f"{CONFIRM_DIR}/timer.sh", mode=0o700)
        # `setsid -f`: its own session (sshd's hang-up at logout does not reach it) and the command returns at
        # once; every fd away from the SSH channel, or the channel stays open until the timer ends
        conn.run(f"cd / && setsid -f nohup sh {d}/timer.sh </dev/null >/dev/null 2>&1", check=True)
        deadline = time.monotonic() + 5
        while self._timer(conn) != "pending":  # the PID file appears once the detached shell runs
            if time.monotonic() > deadline:
                raise PushRefused("E443", f"the revert timer did not start ({CONFIRM_DIR}/timer.pid never "
                                     "appeared): nothing was pushed", obj=f"device {conn.device}",
                                     field="confirm_timeout")
            time.sleep(0.05)

    def _timer(self, conn: Connection) -> str:
        """``pending`` (a live timer), ``reverting`` (it fired and its revert runs), ``fired`` (it ran), or
        ``none``."""
        d = shlex.quote(CONFIRM_DIR)
        out = conn.run(f"p=$(cat {d}/timer.pid 2>/dev/null); if [ -n \"$p\" ] && grep -qa timer.sh /proc/$p/cmdline "
                       f"2>/dev/null; then if [ -d {d}/fired ]; then echo reverting; else echo pending; fi; "
                       f"elif [ -d {d}/fired ]; then echo fired; else echo none; fi").stdout.strip()
        return out if out in ("pending", "reverting", "fired") else "none"

    def _cancel(self, conn: Connection) -> str:
        """Kill a pending timer (its whole process group: the shell and its ``sleep``) and remove its files.
        Returns what was found: ``cancelled``, ``fired`` (too late: the revert ran or runs) or ``none``."""
        d = shlex.quote(CONFIRM_DIR)
        out = conn.run(
            f"p=$(cat {d}/timer.pid 2>/dev/null); "
            f"if [ -z \"$p\" ] || ! grep -qa timer.sh /proc/$p/cmdline 2>/dev/null; then "
            f"  if [ -d {d}/fired ]; then echo fired; else rm -rf {d}; echo none; fi; "
            f"elif mkdir {d}/fired 2>/dev/null; then kill -TERM -- -$p 2>/dev/null; rm -rf {d}; echo cancelled; "
            "else echo fired; fi").stdout.strip()
        return out if out in ("cancelled", "fired") else "none"

    def confirm(self, conn: Connection) -> None:
        """Keep the change: kill the node's revert timer (no-op without one). E444 when it already fired."""
        if self._cancel(conn) == "fired":
            log = conn.run(f"cat {shlex.quote(CONFIRM_DIR)}/revert.log 2>/dev/null | tail -3").stdout.strip()
            raise CampusnetError("E444", "too late to confirm: the node's revert timer fired and restored the "
                                 f"state before the push ({log or 'no revert.log yet'})", obj=f"device {conn.device}",
                                 field="confirm_timeout")

    def _settle_timer(self, conn: Connection) -> None:
        """Before a restore: cancel a pending timer, or wait (≤ 60 s) for a revert already running."""
        if self._cancel(conn) != "fired":
            return
        d = shlex.quote(CONFIRM_DIR)
        conn.run(f"for i in $(seq 600); do [ -f {d}/timer.pid ] || break; sleep 0.1; done; rm -rf {d}")

    def restore(self, conn: Connection, backup: str) -> None:
        self._settle_timer(conn)
        secs = _sections(backup)
        # links and OVS first (FRR may refer to them), then FRR from the backup's running config
        script = restore_script(secs.get("ovs", ""), secs.get("links", ""), secs.get("addrs", ""))
        self._prune(conn, secs.get("ovs", ""), secs.get("links", ""), secs.get("addrs", ""), whole_state=True)
        if script.strip():
            conn.put(script, f"{REMOTE_DIR}/rollback.sh", mode=0o700)
            conn.run(f"sh {REMOTE_DIR}/rollback.sh", check=True)
        conn.put(secs.get("frr", ""), f"{REMOTE_DIR}/rollback-frr.conf")
        self._frr_reload(conn, f"{REMOTE_DIR}/rollback-frr.conf")
        # frr-reload leaves some lines behind when a whole block goes (e.g. a bare `vrrp N` under an interface
        # that no longer exists): a second pass from what is left removes them
        now = _sections(self.running(conn)).get("frr", "")
        if frr_offline_diff(now, secs.get("frr", ""), obj=f"device {conn.device}"):
            self._frr_reload(conn, f"{REMOTE_DIR}/rollback-frr.conf")
        self._restore_vpn(conn, secs.get("vpn", ""))

    def _restore_vpn(self, conn: Connection, section: str) -> None:
        lines = section.splitlines()
        conf = [ln[len("conf "):] for ln in lines if ln.startswith("conf ")]
        has_material = any(ln.startswith("material ") for ln in lines)
        self._vpn_stop(conn)
        d = shlex.quote(REMOTE_VPN_DIR)
        if not conf:
            conn.run(f"rm -rf {d}" if not has_material else f"rm -f {shlex.quote(VPN_CONF)}", check=True)
            return
        conn.run(f"mkdir -p {d} && chmod 700 {d}", check=True)
        conn.put("\n".join(conf) + "\n", VPN_CONF, mode=0o600)
        if VPN_RUNNING in lines:
            conn.run(f"openvpn --config {shlex.quote(VPN_CONF)}", check=True)
            deadline = time.monotonic() + 5
            while not _vpn_running(conn) and time.monotonic() < deadline:
                time.sleep(0.2)

    # -- checks ---------------------------------------------------------------------------------------------
    def post_checks(self, conn: Connection, target: DeployTarget) -> list[str]:
        failures: list[str] = []
        running = _sections(self.running(conn))
        left = frr_offline_diff(running.get("frr", ""), target.files["frr.conf"], obj=f"device {conn.device}")
        if left:
            failures.append("FRR did not take the whole config; still different:\n" + left)
        want = expected_sections(target)
        for sec in SECTIONS:
            if sec in want:
                d = _set_diff(running.get(sec, ""), want[sec])
                if d:
                    failures.append(f"{sec} state differs from intent after apply:\n{d}")
        up = list(target.expected.up)
        if up:
            deadline = time.monotonic() + 10
            while True:
                down = _down_links(conn, up)
                if not down or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            failures += [f"interface {i} is not up" for i in down]
        listen = target.expected.vpn_listen
        if listen and not _vpn_listening(conn, listen):
            failures.append(f"VPN server is not listening on {listen}")
        daemons = conn.run("vtysh -c 'show daemons'").stdout.split()
        for d in target.expected.daemons:
            if d not in daemons:
                failures.append(f"FRR daemon {d} is not running")
        return failures

    def adjacencies(self, conn: Connection) -> dict[str, str]:
        """Routing sessions and their states: ``{"ospf <router-id>": "Full/DR", "bgp <address>": "Established"}``
        (FRR's JSON, read as ``verify`` reads it: the same commands and parsers)."""
        from campusnet.verify.checks import _bgp_peers, _ospf_neighbors

        out: dict[str, str] = {}
        daemons = conn.run("vtysh -c 'show daemons'").stdout.split()
        if "ospfd" in daemons:
            r = conn.run("vtysh -c 'show ip ospf neighbor json'")
            if r.ok:
                with contextlib.suppress(ValueError):
                    out.update((f"ospf {rid}", st) for rid, st in _ospf_neighbors(r.stdout).items())
        if "bgpd" in daemons:
            r = conn.run("vtysh -c 'show bgp summary json'")
            if r.ok:
                with contextlib.suppress(ValueError):
                    out.update((f"bgp {a}", st) for a, st in _bgp_peers(r.stdout).items())
        return out

    def normalise(self, text: str) -> str:
        secs = _sections(text)
        return "\n".join(f"{k}\n{_frr_clean(v) if k == 'frr' else v}" for k, v in sorted(secs.items()))


# ----------------------------------------------------------------------------------------------------------
# Pure helpers (unit-tested with recorded output)
# ----------------------------------------------------------------------------------------------------------
def parse_reload_test(output: str) -> str:
    """The meaningful part of ``frr-reload.py --test``: its "Lines To Delete/Add" blocks, as -/+ lines.

    frr-reload exits 0 either way, so the text is what tells.
    """
    out: list[str] = []
    mode = ""
    for line in output.splitlines():
        s = line.strip()
        if s.startswith("Lines To Delete"):
            mode = "-"
            continue
        if s.startswith("Lines To Add"):
            mode = "+"
            continue
        if s.startswith("====") or not s or _LOG_LINE.match(s):
            continue
        if mode:
            out.append(f"{mode} {line.rstrip()}")
    return "\n".join(out) + ("\n" if out else "")


def frr_offline_diff(running: str, intended: str, *, obj: str) -> str:
    """``frr-reload.py --test --input running intended`` on this machine: the lines FRR would change."""
    with tempfile.TemporaryDirectory(prefix="cn-frr-") as tmp:
        rp, ip = Path(tmp) / "running.conf", Path(tmp) / "intended.conf"
        rp.write_text(running)
        ip.write_text(intended)
        r = subprocess.run([FRR_RELOAD, "--test", "--stdout", "--input", str(rp), str(ip)],
                           capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise CampusnetError("E421", f"frr-reload.py --test failed: {(r.stderr or r.stdout).strip()[-800:]}",
                             obj=obj)
    return parse_reload_test(r.stdout)


# -- section `ovs`: the intent's side (expected_ovs) and the node's side (canonical_ovs) --------
def expected_ovs(intent: DeviceIntent) -> str:
    lab = plumbing(intent)
    if lab.ovs_bridge is None:
        return ""
    lines = [f"bridge {lab.ovs_bridge}"]
    for p in sorted(lab.ovs_ports, key=lambda p: p.name):
        parts = [f" port {p.name}"]
        if p.tag is not None:
            parts.append(f"tag={p.tag}")
        else:
            trunks = sorted(int(t) for t in p.trunks.split(",") if t.strip())
            if trunks:
                parts.append("trunks=" + ",".join(map(str, trunks)))
        if p.bond_members:
            parts += ["bond=" + ",".join(sorted(p.bond_members)), "bond_mode=balance-tcp", "lacp=active",
                      f"lacp-time={'fast' if p.lacp_fast else 'slow'}"]
        lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"


def _ovs_set(v: object) -> list[object]:
    if isinstance(v, list) and len(v) == 2 and v[0] == "set":
        return list(v[1])
    if isinstance(v, list) and len(v) == 2 and v[0] in ("uuid", "map"):
        return [v]
    return [v]


def canonical_ovs(ports_j: dict[str, Any], ifaces_j: dict[str, Any], bridges_j: dict[str, Any],
                  portnames_j: dict[str, Any]) -> str:
    """One line per OVS port, sorted: ``port NAME [tag=N] [trunks=a,b] [bond=m1,m2 lacp=active fast]``."""
    iface_name = {row[0][1]: row[1] for row in ifaces_j["data"]}
    port_name_by_uuid = {row[0][1]: row[1] for row in portnames_j["data"]}
    lines: list[str] = []
    for bname, ports in sorted((row[0], row[1]) for row in bridges_j["data"]):
        lines.append(f"bridge {bname}")
        names = {port_name_by_uuid.get(p[1]) for p in _ovs_set(ports) if isinstance(p, list)}
        rows = {row[0]: row for row in ports_j["data"]}
        for pname in sorted(n for n in names if n and n != bname):
            row = rows[pname]
            _, tag, trunks, bond_mode, lacp, other, ifaces = row
            parts = [f" port {pname}"]
            tags = [t for t in _ovs_set(tag) if isinstance(t, int)]
            if tags:
                parts.append(f"tag={tags[0]}")
            tr = sorted(t for t in _ovs_set(trunks) if isinstance(t, int))
            if tr:
                parts.append("trunks=" + ",".join(map(str, tr)))
            members = sorted(iface_name.get(i[1], "?") for i in _ovs_set(ifaces) if isinstance(i, list))
            if len(members) > 1 or members != [pname]:
                parts.append("bond=" + ",".join(members))
                bm = [b for b in _ovs_set(bond_mode) if isinstance(b, str)]
                if bm:
                    parts.append(f"bond_mode={bm[0]}")
                lc = [x for x in _ovs_set(lacp) if isinstance(x, str)]
                if lc:
                    parts.append(f"lacp={lc[0]}")
                oc = dict(other[1]) if isinstance(other, list) and other[0] == "map" else {}
                if oc.get("lacp-time"):
                    parts.append(f"lacp-time={oc['lacp-time']}")
            lines.append(" ".join(parts))
    return "\n".join(lines) + ("\n" if lines else "")


# -- section `links`: the intent's side (expected_links) and the node's side (canonical_links) --------
def expected_links(intent: DeviceIntent) -> str:
    lines: list[str] = []
    lab = plumbing(intent)
    for vni in lab.vnis:
        lines += [f"{vni.bridge} bridge", f"{vni.vxlan} vxlan vni={vni.vni} master={vni.bridge}",
                  f"{vni.bridge_port} veth master={vni.bridge}", f"{vni.port} veth"]
    for i in intent.interfaces:
        if i.kind == "svi":
            if i.name in lab.svi_ports:
                lines += [f"{i.name} veth", f"{lab.svi_ports[i.name]} veth"]
            for v in i.vrrp:
                lines.append(f"{v.macvlan} macvlan link={i.name} mac={v.virtual_mac}")
    return "\n".join(sorted(set(lines))) + ("\n" if lines else "")


def canonical_links(links: list[dict[str, object]]) -> str:
    """Lab-made Linux devices, sorted: ``NAME KIND [vni=N] [master=BR]``."""
    lines = []
    for ln in links:
        name = str(ln.get("ifname", ""))
        if not _LAB_MADE.match(name):
            continue
        info = ln.get("linkinfo") or {}
        kind = str(info.get("info_kind", "")) if isinstance(info, dict) else ""
        parts = [name, kind or "link"]
        data = info.get("info_data") if isinstance(info, dict) else None
        if kind == "vxlan" and isinstance(data, dict) and "id" in data:
            parts.append(f"vni={data['id']}")
        if kind == "macvlan":
            if ln.get("link"):
                parts.append(f"link={ln['link']}")
            if ln.get("address"):
                parts.append(f"mac={ln['address']}")
        if ln.get("master"):
            parts.append(f"master={ln['master']}")
        lines.append(" ".join(parts))
    return "\n".join(sorted(lines)) + ("\n" if lines else "")


# -- section `addrs`: the intent's side (expected_addrs) and the node's side (canonical_addrs) --------
def expected_addrs(intent: DeviceIntent) -> str:
    lines: list[str] = []
    for i in intent.interfaces:
        if i.kind == "management":
            continue
        v4 = getattr(i, "ipv4", None)
        if v4 is not None:
            dev = "lo" if i.kind == "loopback" else i.name
            lines.append(f"{dev} {v4}")
        if i.kind == "loopback":  # anycast/service addresses (the VPN's public address): net.sh puts them on lo
            lines += [f"lo {a}" for a in i.secondary]
        if i.kind == "svi" and i.ipv4 is not None:
            for v in i.vrrp:
                lines.append(f"{v.macvlan} {v.virtual_ip}/{i.ipv4.network.prefixlen}")
    if intent.vpn is not None:  # OpenVPN puts the pool's first address on its tun device
        lines.append(f"{intent.vpn.device} {intent.vpn.server_address}")
    return "\n".join(sorted(lines)) + ("\n" if lines else "")


def canonical_addrs(addrs: list[dict[str, object]]) -> str:
    """IPv4 addresses per interface (not mgmt0, not 127/8), sorted: ``IFACE ADDR/LEN``."""
    lines = []
    for a in addrs:
        name = str(a.get("ifname", ""))
        if name == "mgmt0":
            continue
        infos: list[dict[str, Any]] = list(a.get("addr_info") or [])  # type: ignore[call-overload]
        for info in infos:
            if info.get("family") != "inet" or str(info.get("local", "")).startswith("127."):
                continue
            lines.append(f"{name} {info['local']}/{info['prefixlen']}")
    return "\n".join(sorted(lines)) + ("\n" if lines else "")


# the VPN daemon of the pid file runs (and is OpenVPN: not a reused PID); expects $p or sets it
_VPN_ALIVE = (f'p=${{p:-$(cat {VPN_PID} 2>/dev/null)}}; [ -n "$p" ] && grep -qa openvpn /proc/$p/cmdline '
              "2>/dev/null")


# -- section `vpn`: the intent's side (expected_vpn) and the node's side (canonical_vpn) --------
def expected_vpn(intent: DeviceIntent, files: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The ``vpn`` section the node must show, and ``{remote name: local path}`` of its key material."""
    if intent.vpn is None or "openvpn.conf" not in files:
        return "", {}
    mat = vpn_pki.material(intent.vpn.common_name, "server")
    return (canonical_vpn(files["openvpn.conf"], True, vpn_pki.material_digest(mat)),
            {k: str(v) for k, v in mat.items()})


def canonical_vpn(conf: str, running: bool, digest: str | None) -> str:
    """The ``vpn`` section: config lines (comments and blanks dropped), the daemon, the material digest."""
    lines = [f"conf {ln.strip()}" for ln in conf.splitlines() if ln.strip() and not ln.strip().startswith(("#", ";"))]
    if running:
        lines.append(VPN_RUNNING)
    if digest:
        lines.append(f"material sha256={digest}")
    return "\n".join(lines) + ("\n" if lines else "")



# -- post-check expectations (read live, not as a section) ----------------------------------------------------
def expected_up(intent: DeviceIntent) -> list[str]:
    return [i.name for i in intent.interfaces if i.kind == "ethernet" and i.enabled]


def expected_daemons(intent: DeviceIntent) -> tuple[str, ...]:
    return plumbing(intent).frr_daemons


def _vpn_running(conn: Connection) -> bool:
    return conn.run(f"{_VPN_ALIVE}").rc == 0


def _vpn_listening(conn: Connection, listen: str) -> bool:
    """``listen`` is ``ADDR:PORT/PROTO``; true when a socket listens there (UDP: bound)."""
    hostport, _, proto = listen.partition("/")
    flag = "-Hlnu" if proto == "udp" else "-Hlnt"
    out = conn.run(f"ss {flag}").stdout
    return any(hostport in ln.split() for ln in out.splitlines())


def _has_addr(conn: Connection, addr: str) -> bool:
    dev, _, cidr = addr.partition(" ")
    out = conn.run(f"ip -j addr show dev {shlex.quote(dev)} 2>/dev/null").stdout
    try:
        infos = [i for x in json.loads(out or "[]") for i in x.get("addr_info", [])]
    except ValueError:
        return False
    return any(f"{i.get('local')}/{i.get('prefixlen')}" == cidr for i in infos)


def _port_name(line: str) -> str:
    return line.split()[1]


def _set_diff(running: str, intended: str) -> str:
    r = {ln.rstrip() for ln in running.splitlines() if ln.strip()}
    i = {ln.rstrip() for ln in intended.splitlines() if ln.strip()}
    out = [f"- {ln.strip()}" for ln in sorted(r - i)] + [f"+ {ln.strip()}" for ln in sorted(i - r)]
    return "\n".join(out) + ("\n" if out else "")


def expected_sections(target: DeployTarget) -> dict[str, str]:
    """The target's text sections, by name (what ``diff``, ``apply`` and ``post_checks`` compare)."""
    return {sec: target.expected.section(sec) for sec in SECTIONS}


def _down_links(conn: Connection, names: list[str]) -> list[str]:
    links = json.loads(conn.run("ip -j link show", check=True).stdout or "[]")
    state = {str(x.get("ifname")): x for x in links}
    down = []
    for n in names:
        x = state.get(n)
        if x is None or "UP" not in (x.get("flags") or []) or "LOWER_UP" not in (x.get("flags") or []):
            down.append(n)
    return down


def prune_commands(cur: dict[str, str], ovs_want: str, links_want: str, addrs_want: str | None = None, *,
                   whole_state: bool = False) -> list[str]:
    """Shell commands removing from the state ``cur`` (sections) the OVS ports, lab-made links and addresses
    the wanted state does not have. ``whole_state`` (a restore: the wanted sections are a complete backup):
    also OVS bridges the backup does not have, and every port when it has no OVS at all (a day-0 backup).
    Every name is quoted."""
    want_ports = {_port_name(ln) for ln in ovs_want.splitlines() if ln.startswith(" port ")}
    want_bridges = {ln.split()[1] for ln in ovs_want.splitlines() if ln.startswith("bridge ")}
    cmds = []
    bridge = None
    for ln in cur.get("ovs", "").splitlines():
        if ln.startswith("bridge "):
            bridge = ln.split()[1]
            if whole_state and bridge not in want_bridges:
                cmds.append(f"ovs-vsctl --timeout=5 --if-exists del-br {shlex.quote(bridge)}")
        elif (ln.startswith(" port ") and _port_name(ln) not in want_ports and (ovs_want.strip() or whole_state)
              and not (whole_state and bridge not in want_bridges)):  # else: gone with its bridge
            cmds.append(f"ovs-vsctl --timeout=5 --if-exists del-port {shlex.quote(_port_name(ln))}")
    want_links = {ln.split()[0] for ln in links_want.splitlines() if ln.strip()}
    for ln in cur.get("links", "").splitlines():
        if ln.strip() and ln.split()[0] not in want_links:
            cmds.append(f"ip link del {shlex.quote(ln.split()[0])} 2>/dev/null || true")
    if addrs_want is not None:
        want_addrs = {ln.strip() for ln in addrs_want.splitlines() if ln.strip()}
        for ln in cur.get("addrs", "").splitlines():
            if ln.strip() and ln.strip() not in want_addrs:
                dev, addr = ln.split()[:2]
                cmds.append(f"ip addr del {shlex.quote(addr)} dev {shlex.quote(dev)} 2>/dev/null || true")
    return cmds


def revert_script(backup: dict[str, str], intended: dict[str, str]) -> str:
    """The node-side revert of a push: from whatever lies between the backup and the intended state, back
    to the backup (the same steps as :meth:`LinuxFrrDriver.restore`: prune, links/OVS, FRR twice, VPN).
    Every name from the device or NetBox is quoted (:func:`prune_commands`) or checked to be a plain shell
    word (:func:`restore_script`); the file names are ours."""
    union = {sec: "\n".join(x for x in (backup.get(sec, ""), intended.get(sec, "")) if x) for sec in SECTIONS}
    prune = prune_commands(union, backup.get("ovs", ""), backup.get("links", ""), backup.get("addrs", ""),
                           whole_state=True)
    d = shlex.quote(CONFIRM_DIR)
    vpn = backup.get("vpn", "").splitlines()
    vdir, vconf = shlex.quote(REMOTE_VPN_DIR), shlex.quote(VPN_CONF)
    if any(ln.startswith("conf ") for ln in vpn):
        vpn_steps = [f"mkdir -p {vdir} && chmod 700 {vdir}", f"cp {d}/openvpn.conf {vconf} && chmod 600 {vconf}"]
        if VPN_RUNNING in vpn:
            vpn_steps.append(f"openvpn --config {vconf}")
    else:
        vpn_steps = [f"rm -f {vconf}" if any(ln.startswith("material ") for ln in vpn) else f"rm -rf {vdir}"]
    vpn_stop = (f"p=$(cat {VPN_PID} 2>/dev/null); if {_VPN_ALIVE}; then kill $p; for i in $(seq 50); do "
                f"kill -0 $p 2>/dev/null || break; sleep 0.1; done; kill -9 $p 2>/dev/null; fi; rm -f {VPN_PID}")
    lines = ["# campusnet: revert to the state before the push (the confirm timer fired)", "set +e", *prune,
             f"sh {d}/restore-links.sh", f"{FRR_RELOAD} --reload {d}/backup-frr.conf",
             f"{FRR_RELOAD} --reload {d}/backup-frr.conf", vpn_stop, *vpn_steps]
    return "\n".join(lines) + "\n"


def timer_script(seconds: int) -> str:
    """The detached timer: its PID file first (confirm kills its process group), then ``sleep``, then —
    unless confirm took the ``fired`` lock first — the revert, logged with its start and end times."""
    d = shlex.quote(CONFIRM_DIR)
    return "\n".join([
        f"echo $$ > {d}/timer.pid",
        f"echo armed $(date +%s.%N) {int(seconds)} > {d}/revert.log",
        f"sleep {int(seconds)}",
        f"mkdir {d}/fired 2>/dev/null || exit 0",
        f"echo revert-start $(date +%s.%N) >> {d}/revert.log",
        f"sh {d}/revert.sh >> {d}/revert.log 2>&1; rc=$?",
        f"echo revert-end $(date +%s.%N) rc=$rc >> {d}/revert.log",
        f"rm -f {d}/timer.pid",
    ]) + "\n"


def restore_script(ovs: str, links: str, addrs: str = "") -> str:
    """Shell that recreates the OVS ports and lab-made links of a canonical state (idempotent)."""
    from campusnet.safety import check_shell_tokens  # every word below comes from these lines: none can inject

    check_shell_tokens("\n".join((ovs, links, addrs)), what="restore state word")
    cmds = ["set -e"]
    bridge = None
    for ln in ovs.splitlines():
        if ln.startswith("bridge "):
            bridge = ln.split()[1]
            cmds.append(f"ovs-vsctl --timeout=5 --may-exist add-br {bridge} -- set bridge {bridge} "
                        "datapath_type=netdev")
        elif ln.startswith(" port ") and bridge:
            fields = dict(p.split("=", 1) for p in ln.split()[2:] if "=" in p)
            name = ln.split()[1]
            if "bond" in fields:
                members = " ".join(fields["bond"].split(","))
                cmds.append(f"ovs-vsctl --timeout=5 --if-exists del-port {name} -- add-bond {bridge} {name} "
                            f"{members}")
            else:
                cmds.append(f"ovs-vsctl --timeout=5 --may-exist add-port {bridge} {name}")
            sets = []
            if "tag" in fields:
                sets.append(f"tag={fields['tag']}")
            else:
                sets.append("tag=[]")
            sets.append(f"trunks={fields['trunks']}" if "trunks" in fields else "trunks=[]")
            if "bond_mode" in fields:
                sets.append(f"bond_mode={fields['bond_mode']}")
            if "lacp" in fields:
                sets.append(f"lacp={fields['lacp']}")
            if "lacp-time" in fields:
                sets.append(f"other_config:lacp-time={fields['lacp-time']}")
            cmds.append(f"ovs-vsctl --timeout=5 set port {name} " + " ".join(sets))
    rows = [ln.split() for ln in links.splitlines() if len(ln.split()) >= 2]
    names = {r[0] for r in rows}
    order = {"bridge": 0, "vxlan": 1, "veth": 2, "macvlan": 3}
    for p in sorted(rows, key=lambda r: order.get(r[1], 9)):
        name, kind = p[0], p[1]
        extra = dict(x.split("=", 1) for x in p[2:] if "=" in x)
        if kind == "veth" and name.endswith("o"):
            base = name[:-1]
            peer = base + "b" if base + "b" in names else base
            cmds.append(f"ip link show {name} >/dev/null 2>&1 || ip link add {name} type veth peer name {peer}")
        elif kind == "macvlan" and "link" in extra:
            mac = f" address {extra['mac']}" if "mac" in extra else ""
            cmds.append(f"ip link show {name} >/dev/null 2>&1 || ip link add {name} link {extra['link']}{mac} "
                        "type macvlan mode bridge")
        if kind == "bridge":
            cmds.append(f"ip link show {name} >/dev/null 2>&1 || ip link add {name} type bridge")
        elif kind == "vxlan" and "vni" in extra:
            cmds.append(f"ip link show {name} >/dev/null 2>&1 || ip link add {name} type vxlan id {extra['vni']} "
                        "dstport 4789 nolearning")
        if "master" in extra:
            cmds.append(f"ip link set {name} master {extra['master']} 2>/dev/null || true")
        cmds.append(f"ip link set {name} up 2>/dev/null || true")
    for ln in addrs.splitlines():
        p = ln.split()
        if len(p) == 2:
            cmds.append(f"ip addr replace {p[1]} dev {p[0]} 2>/dev/null || true")
    return "\n".join(cmds) + "\n"
