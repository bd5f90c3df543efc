"""The lab engine: namespaces, veths, FRR, Open vSwitch and sshd per node; up, down, status.

Per node ``X`` (directory ``D = state_dir()/lab/X``):

* network namespace ``cn-X`` (forwarding on for routing nodes, ``lo`` up), ``mgmt0`` veth whose host end
  ``cnm<hash>`` sits on the host bridge ``cnmgmt`` (10.254.0.254/24), address = NetBox ``oob_ip``;
* a *holder* process (``sleep infinity``) started by ``ip netns exec cn-X unshare --mount --uts``: it owns
  the node's private mount and UTS namespaces. In them a tmpfs is on ``/run`` and the node's own
  directories are bind-mounted on ``/etc/frr`` (``D/etc``), ``/run/frr`` (``D/run``), ``/var/log/frr``
  (``D/log``) and, for switches, ``/etc/openvswitch``, ``/run/openvswitch``, ``/var/log/openvswitch``
  (``D/ovs/{db,run,log}``); the hostname is the node name. Every daemon of the node is started inside
  them with ``nsenter -t <holder> -n -m -u``: FRR by the stock ``frrinit.sh start``, OVS
  (``ovsdb-server`` + ``ovs-vswitchd``, userspace datapath), and ``sshd`` (listening on the management
  address only, key-only, ``UsePAM no``). So an SSH session on a node sees the node's own FRR and OVS;
* ``/etc/netns/cn-X/frr`` → ``D/etc`` so that ``ip netns exec cn-X …`` sees the node's ``/etc/frr``; and
  ``/run/frr/<daemon>.vty`` on the host are symlinks to ``/etc/frr/run/<daemon>.vty`` (→ ``D/run``), so
  ``ip netns exec cn-X vtysh`` reaches the node's daemons (the host runs no FRR; see docs/lab.md).

Everything made is recorded in ``state_dir()/lab/state.json`` *before* it is made, so ``lab_down`` finds
it after a crash; it also sweeps ``cn-*`` namespaces carrying our marker.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import select
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from campusnet import settings, vpn
from campusnet.errors import CampusnetError
from campusnet.lab.day0 import host_script, openvpn_client_conf, provider_script, render_day0
from campusnet.lab.names import HOST_LINK_RE, MGMT_BRIDGE, MGMT_IFNAME, NS_PREFIX, mgmt_peer_name, ns_name
from campusnet.lab.plan import LabNode, LabPlan
from campusnet.lab.run import ok, run
from campusnet.procs import pid_alive

Log = Callable[[str], None]
FRR_INIT = "/usr/lib/frr/frrinit.sh"
OVS_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
HOST_FRR_RUN = Path("/run/frr")
SHIM_DAEMONS = ("zebra", "bgpd", "ospfd", "ospf6d", "staticd", "vrrpd", "bfdd", "pbrd", "watchfrr")
SSH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/frr"
RESERVED = {"ssh", "day0", "state.json"}
WORKERS = 8


def _nolog(_: str) -> None:
    return None


# ----------------------------------------------------------------------------------------------------
# Paths and the journal
# ----------------------------------------------------------------------------------------------------
def lab_dir() -> Path:
    return settings.state_dir() / "lab"


def node_dir(node: str) -> Path:
    return lab_dir() / node


def ssh_dir() -> Path:
    return lab_dir() / "ssh"


def _journal_path() -> Path:
    return lab_dir() / "state.json"


_jlock = threading.Lock()


def _load_journal() -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(_journal_path().read_text())
        return data
    except (OSError, ValueError):
        return {"nodes": {}, "plan": None, "shims": []}


def _save_journal(j: dict[str, Any]) -> None:
    p = _journal_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(j, indent=1, sort_keys=True))
    tmp.replace(p)


def _journal_update(fn: Callable[[dict[str, Any]], None]) -> None:
    with _jlock:
        j = _load_journal()
        fn(j)
        _save_journal(j)


# ----------------------------------------------------------------------------------------------------
# Processes
# ----------------------------------------------------------------------------------------------------
def _start_time(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _same_process(rec: dict[str, int] | None) -> bool:
    """A recorded ``{pid, start}`` is still that very process (not a reused PID)."""
    return bool(rec) and rec is not None and pid_alive(rec["pid"]) and _start_time(rec["pid"]) == rec["start"]


def _ns_pids(ns: str) -> list[int]:
    out = run(["ip", "netns", "pids", ns], obj=ns, check=False)
    return [int(x) for x in out.split() if x.isdigit()]


def _read_pidfile(p: Path) -> int | None:
    try:
        pid = int(p.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) else None


def _openvpn_pid(p: Path) -> int | None:
    """The PID in an OpenVPN pid file when that process is alive and is OpenVPN (not a reused PID)."""
    pid = _read_pidfile(p)
    if pid is None:
        return None
    try:
        return pid if b"openvpn" in Path(f"/proc/{pid}/cmdline").read_bytes() else None
    except OSError:
        return None


def _vpn_pidfiles(node: str) -> dict[str, Path]:
    """Where a node's OpenVPN daemons write their PIDs: the test host's client (started by the lab) and
    the gateway's server (started by deploy in the node's ``/etc/frr/campusnet/vpn`` = ``D/etc/…``)."""
    d = node_dir(node)
    return {"openvpn": d / "vpn" / "openvpn.pid",
            "openvpn-server": d / "etc" / Path(vpn.REMOTE_VPN_DIR).relative_to("/etc/frr") / "openvpn.pid"}


def _kill_all(pids: Iterable[int], *, timeout: float = 6.0) -> None:
    """SIGTERM, wait, SIGKILL: only PIDs we found inside our namespaces or recorded ourselves."""
    pending = {p for p in pids if p > 1 and p != os.getpid()}
    for p in pending:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for p in list(pending):
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(p, os.WNOHANG)
            if not pid_alive(p):
                pending.discard(p)
        if pending:
            time.sleep(0.05)
    for p in pending:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
    for p in pending:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(p, 0)


def _nsenter(holder: int) -> list[str]:
    return ["nsenter", "-t", str(holder), "-n", "-m", "-u", "--"]


# ----------------------------------------------------------------------------------------------------
# Preconditions
# ----------------------------------------------------------------------------------------------------
def require_root() -> None:
    if os.geteuid() != 0:
        raise CampusnetError("E400", "the lab needs root (network namespaces, veths, mounts): run it as root")


def _require_tools(plan: LabPlan) -> None:
    tools = ["ip", "nsenter", "unshare", "sysctl", "ssh-keygen", "/usr/sbin/sshd"]
    if any(n.frr for n in plan.nodes):
        tools += [FRR_INIT, "vtysh"]
    if any(n.ovs for n in plan.nodes):
        tools += ["ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovsdb-tool"]
    if any(n.vpn_client for n in plan.nodes):
        tools += ["openvpn", "openssl"]
    missing = [t for t in tools if not (shutil.which(t) or Path(t).exists())]
    if missing:
        raise CampusnetError("E406", "tools missing for the lab: " + ", ".join(missing))
    bad = RESERVED & {n.name for n in plan.nodes}
    if bad:
        raise CampusnetError("E402", "node name reserved by the lab engine", obj=", ".join(sorted(bad)))


def _check_host_mgmt(plan: LabPlan) -> None:
    """Refuse when the management prefix is already routed on the host through anything but cnmgmt."""
    net = ipaddress.ip_network(plan.mgmt_prefix)
    routes = json.loads(run(["ip", "-j", "-4", "route", "show"], obj="host") or "[]")
    for r in routes:
        dst = r.get("dst", "")
        if dst == "default" or r.get("dev") == MGMT_BRIDGE:
            continue
        with contextlib.suppress(ValueError):
            if ipaddress.ip_network(dst, strict=False).overlaps(net):
                raise CampusnetError("E404", f"host already routes {dst} via {r.get('dev')}: it overlaps the lab "
                                     f"management prefix {net}; refusing to touch it", obj="host")


# ----------------------------------------------------------------------------------------------------
# SSH material
# ----------------------------------------------------------------------------------------------------
def ensure_ssh_keys() -> Path:
    """Host key and the automation's key pair in ``state_dir()/lab/ssh`` (0600, never in the repo)."""
    d = ssh_dir()
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o700)
    for name in ("ssh_host_ed25519_key", "id_ed25519"):
        key = d / name
        if not key.exists():
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"campusnet-lab-{name}", "-f", str(key)],
                obj=str(key))
        key.chmod(0o600)
    auth = d / "authorized_keys"
    auth.write_text((d / "id_ed25519.pub").read_text())
    auth.chmod(0o600)
    return d


def _write_ssh_client_files(plan: LabPlan) -> None:
    d = ssh_dir()
    host_pub = (d / "ssh_host_ed25519_key.pub").read_text().split()
    lines = [f"{n.mgmt_address} {host_pub[0]} {host_pub[1]}" for n in plan.nodes]
    (d / "known_hosts").write_text("\n".join(lines) + "\n")
    (d / "known_hosts").chmod(0o600)
    cfg = [f"# campusnet lab: ssh -F {d / 'config'} <node>"]
    for n in plan.nodes:
        cfg += [f"Host {n.name} {n.mgmt_address}", f"  HostName {n.mgmt_address}", "  User root",
                f"  IdentityFile {d / 'id_ed25519'}", "  IdentitiesOnly yes",
                f"  UserKnownHostsFile {d / 'known_hosts'}", "  StrictHostKeyChecking yes", ""]
    (d / "config").write_text("\n".join(cfg))
    (d / "config").chmod(0o600)


def sshd_config(node: LabNode) -> str:
    d = node_dir(node.name)
    env = [f"PATH={SSH_PATH}"]
    if node.ovs:
        env += [f"OVS_RUNDIR={d / 'ovs' / 'run'}", f"OVS_DBDIR={d / 'ovs' / 'db'}", f"OVS_LOGDIR={d / 'ovs' / 'log'}"]
    return "\n".join([
        f"# campusnet lab: sshd of node {node.name} (runs inside its namespaces)",
        f"ListenAddress {node.mgmt_address}",
        "Port 22",
        f"HostKey {ssh_dir() / 'ssh_host_ed25519_key'}",
        f"PidFile {d / 'ssh' / 'sshd.pid'}",
        f"AuthorizedKeysFile {ssh_dir() / 'authorized_keys'}",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        # the key files are ours (0600, in the state directory), but a checkout may live under a
        # world-writable parent such as /tmp, which StrictModes refuses: it would deny every login
        "StrictModes no",
        "X11Forwarding no",
        "PrintMotd no",
        "UseDNS no",
        "MaxStartups 50:30:200",
        "SetEnv " + " ".join(env),
        "Subsystem sftp /usr/lib/openssh/sftp-server",
        "",
    ])


# ----------------------------------------------------------------------------------------------------
# Host side: the management bridge and the vtysh shim
# ----------------------------------------------------------------------------------------------------
def _link_exists(name: str, ns: str | None = None) -> bool:
    argv = ["ip"] + (["-n", ns] if ns else []) + ["link", "show", "dev", name]
    return ok(argv)


def _ensure_bridge(plan: LabPlan) -> None:
    if not _link_exists(MGMT_BRIDGE):
        _journal_update(lambda j: j.__setitem__("bridge", True))
        run(["ip", "link", "add", MGMT_BRIDGE, "type", "bridge"], obj=MGMT_BRIDGE)
    run(["ip", "addr", "replace", plan.mgmt_gateway, "dev", MGMT_BRIDGE], obj=MGMT_BRIDGE)
    run(["ip", "link", "set", MGMT_BRIDGE, "up"], obj=MGMT_BRIDGE)


def _ensure_vtysh_shim() -> list[str]:
    """Symlinks ``/run/frr/<d>.vty`` → ``/etc/frr/run/<d>.vty`` so ``ip netns exec cn-X vtysh`` works.

    Only where the host has ``/run/frr`` and no such entry (the host runs no FRR). Set
    ``CAMPUSNET_LAB_VTYSH_SHIM=0`` to skip; then use ``campusnet lab exec`` or ``nsenter``.
    """
    if os.environ.get("CAMPUSNET_LAB_VTYSH_SHIM", "1") == "0" or not HOST_FRR_RUN.is_dir():
        return []
    made = []
    for d in SHIM_DAEMONS:
        p = HOST_FRR_RUN / f"{d}.vty"
        target = f"/etc/frr/run/{d}.vty"
        if p.is_symlink() and os.readlink(p) == target:
            made.append(str(p))
        elif not p.exists() and not p.is_symlink():
            p.symlink_to(target)
            made.append(str(p))
    return made


def _remove_vtysh_shim() -> list[str]:
    removed: list[str] = []
    if not HOST_FRR_RUN.is_dir():
        return removed
    for d in SHIM_DAEMONS:
        p = HOST_FRR_RUN / f"{d}.vty"
        if p.is_symlink() and os.readlink(p) == f"/etc/frr/run/{d}.vty":
            p.unlink()
            removed.append(str(p))
    return removed


# ----------------------------------------------------------------------------------------------------
# Per node
# ----------------------------------------------------------------------------------------------------
def _holder_script(node: LabNode) -> str:
    d = node_dir(node.name)
    q = shlex.quote
    lines = [
        "set -e",
        "umask 022",  # sshd refuses a world-writable /run/sshd: never inherit the caller's umask
        "mount -t tmpfs -o mode=0755 cnrun /run",
        "mkdir -p -m 0755 /run/frr /run/sshd /run/openvswitch /run/netns",
        f"mount --bind {q(str(d / 'etc'))} /etc/frr",
        f"mount --bind {q(str(d / 'run'))} /run/frr",
        f"mount --bind {q(str(d / 'log'))} /var/log/frr",
    ]
    if node.ovs:
        lines += [
            f"[ -d /etc/openvswitch ] && mount --bind {q(str(d / 'ovs' / 'db'))} /etc/openvswitch",
            f"mount --bind {q(str(d / 'ovs' / 'run'))} /run/openvswitch",
            f"[ -d /var/log/openvswitch ] && mount --bind {q(str(d / 'ovs' / 'log'))} /var/log/openvswitch",
        ]
    lines += [f"hostname {q(node.name)}", "echo ready", "exec sleep infinity"]
    return "\n".join(lines)


def _prepare_dirs(node: LabNode, day0: Path) -> None:
    """Fresh node directories with the day-0 configuration."""
    d = node_dir(node.name)
    for sub in ("etc", "run", "log", "ssh", "ovs/run", "ovs/db", "ovs/log"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    for stale in (d / "run").iterdir():
        stale.unlink()
    run_link = d / "etc" / "run"
    if not run_link.is_symlink():
        run_link.symlink_to(d / "run")
    if node.frr:
        src = day0 / node.name
        for f in ("daemons", "frr.conf", "vtysh.conf"):
            if not (src / f).exists():
                raise CampusnetError("E402", f"day-0 file {src / f} missing", obj=node.name)
            shutil.copyfile(src / f, d / "etc" / f)
        (d / "etc" / "frr.conf").chmod(0o640)
    for sub in ("etc", "run", "log"):
        shutil.chown(d / sub, "frr", "frr")
        for entry in (d / sub).iterdir():
            if not entry.is_symlink():
                shutil.chown(entry, "frr", "frr")
    (d / "ssh" / "sshd_config").write_text(sshd_config(node))


def _start_holder(node: LabNode) -> dict[str, int]:
    d = node_dir(node.name)
    log = open(d / "log" / "holder.log", "ab")  # noqa: SIM115 - handed to the child
    try:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", node.ns, "unshare", "--mount", "--uts", "--propagation", "private",
             "sh", "-c", _holder_script(node)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, start_new_session=True)
    finally:
        log.close()
    assert proc.stdout is not None
    rec = {"pid": proc.pid, "start": _start_time(proc.pid) or 0}
    _journal_update(lambda j: j["nodes"].setdefault(node.name, {}).__setitem__("holder", rec))
    ready, _, _ = select.select([proc.stdout], [], [], 15)
    line = proc.stdout.readline().decode().strip() if ready else ""
    proc.stdout.close()
    if line != "ready":
        err = (d / "log" / "holder.log").read_text(errors="replace").strip().splitlines()[-3:]
        raise CampusnetError("E405", "node namespaces did not come up: " + " | ".join(err), obj=node.name)
    return rec


def _fingerprint(plan: LabPlan, node: LabNode) -> str:
    """What a running node was built from: the node and its links. A change restarts it from day 0."""
    text = node.model_dump_json() + "".join(lk.model_dump_json() for lk in plan.links_of(node.name))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _node_base(node: LabNode, day0: Path, existing_ns: set[str], fingerprint: str) -> bool:
    """Namespace, sysctls, lo, mgmt0, holder. Returns True when the node was (re)started from day 0."""
    ns = node.ns
    before = _load_journal()["nodes"].get(node.name, {})
    changed = before.get("fingerprint") not in (None, fingerprint)
    rec_pending = {"ns": ns, "kind": node.kind, "mgmt_peer": mgmt_peer_name(node.name), "fingerprint": fingerprint}
    _journal_update(lambda j: j["nodes"].setdefault(node.name, {}).update(rec_pending))
    if changed and ns in existing_ns:
        # rebuilt from scratch: its processes, namespace and veths go (the peers' veth ends with them)
        _kill_all(_ns_pids(ns))
        run(["ip", "netns", "del", ns], obj=node.name)
        existing_ns.discard(ns)
    if ns not in existing_ns:
        run(["ip", "netns", "add", ns], obj=node.name)
    marker = Path("/etc/netns") / ns
    marker.mkdir(parents=True, exist_ok=True)
    frr_link = marker / "frr"
    if not frr_link.is_symlink():
        frr_link.symlink_to(node_dir(node.name) / "etc")
    # IPv4 forwarding only: IPv6 forwarding is the intent's to set (net.sh), and a `lab up` that keeps a
    # node must not undo what deploy configured (it showed as drift: FRR's `no ipv6 forwarding`)
    fwd = "0" if node.kind == "host" else "1"
    run(["ip", "netns", "exec", ns, "sh", "-c", f"sysctl -qw net.ipv4.ip_forward={fwd} && ip link set lo up"],
        obj=node.name)
    peer = mgmt_peer_name(node.name)
    if not _link_exists(MGMT_IFNAME, ns):
        if _link_exists(peer):
            run(["ip", "link", "del", peer], obj=node.name)
        run(["ip", "link", "add", peer, "type", "veth", "peer", "name", MGMT_IFNAME, "netns", ns], obj=node.name)
    run(["ip", "link", "set", peer, "master", MGMT_BRIDGE, "up"], obj=f"{node.name}:{peer}")
    run(["ip", "-n", ns, "addr", "replace", node.mgmt_ip, "dev", MGMT_IFNAME], obj=f"{node.name}:{MGMT_IFNAME}")
    run(["ip", "-n", ns, "link", "set", MGMT_IFNAME, "up"], obj=f"{node.name}:{MGMT_IFNAME}")
    holder = _load_journal()["nodes"].get(node.name, {}).get("holder")
    if _same_process(holder):
        return False
    # a node without its holder: stop whatever still runs in the namespace, start again from day 0
    _kill_all(_ns_pids(ns))
    _prepare_dirs(node, day0)
    _start_holder(node)
    return True


def _holder_pid(node: str) -> int:
    rec = _load_journal()["nodes"].get(node, {}).get("holder")
    if not _same_process(rec):
        raise CampusnetError("E405", "node holder process is not running", obj=node)
    return int(rec["pid"])


def _ovs_env(node: LabNode) -> dict[str, str]:
    d = node_dir(node.name) / "ovs"
    return {"OVS_RUNDIR": str(d / "run"), "OVS_DBDIR": str(d / "db"), "OVS_LOGDIR": str(d / "log")}


def _node_services(node: LabNode) -> None:
    h = _holder_pid(node.name)
    d = node_dir(node.name)
    ns = _nsenter(h)
    if node.ovs:
        env = _ovs_env(node)
        run_dir = Path(env["OVS_RUNDIR"])
        if _read_pidfile(run_dir / "ovsdb-server.pid") is None:
            db = Path(env["OVS_DBDIR"]) / "conf.db"
            if not db.exists():
                run(["ovsdb-tool", "create", str(db), OVS_SCHEMA], obj=node.name)
            run([*ns, "ovsdb-server", str(db), f"--remote=punix:{run_dir / 'db.sock'}",
                 "--remote=db:Open_vSwitch,Open_vSwitch,manager_options", "--pidfile", "--detach",
                 "--no-chdir", f"--log-file={Path(env['OVS_LOGDIR']) / 'ovsdb-server.log'}"],
                obj=node.name, env=env, logfile=d / "log" / "ovs-start.log")
            run([*ns, "ovs-vsctl", "--no-wait", "init"], obj=node.name, env=env)
        if _read_pidfile(run_dir / "ovs-vswitchd.pid") is None:
            run([*ns, "ovs-vswitchd", f"unix:{run_dir / 'db.sock'}", "--pidfile", "--detach", "--no-chdir",
                 f"--log-file={Path(env['OVS_LOGDIR']) / 'ovs-vswitchd.log'}"], obj=node.name, env=env,
                logfile=d / "log" / "ovs-start.log")
    if node.frr and _read_pidfile(d / "run" / "watchfrr.pid") is None:
        run([*ns, FRR_INIT, "start"], obj=node.name, logfile=d / "log" / "frrinit.log")
    if _read_pidfile(d / "ssh" / "sshd.pid") is None:
        (d / "ssh" / "sshd_config").write_text(sshd_config(node))
        run([*ns, "/usr/sbin/sshd", "-f", str(d / "ssh" / "sshd_config"), "-E", str(d / "log" / "sshd.log")],
            obj=node.name, logfile=d / "log" / "sshd.log")


def _node_ready(node: LabNode) -> list[str]:
    """What is still missing on a node (empty when ready)."""
    d = node_dir(node.name)
    missing = []
    if node.frr:
        for daemon in ("watchfrr", *node.daemons):
            if not (d / "run" / f"{daemon}.vty").exists():
                missing.append(daemon)
    if _read_pidfile(d / "ssh" / "sshd.pid") is None:
        missing.append("sshd")
    if node.ovs and _read_pidfile(d / "ovs" / "run" / "ovs-vswitchd.pid") is None:
        missing.append("ovs-vswitchd")
    return missing


def _record_pids(node: LabNode) -> None:
    pids = {}
    d = node_dir(node.name)
    files = [d / "ssh" / "sshd.pid", *(d / "run").glob("*.pid"), *(d / "ovs" / "run").glob("*.pid")]
    for f in files:
        pid = _read_pidfile(f)
        if pid is not None:
            pids[f.stem] = {"pid": pid, "start": _start_time(pid) or 0}
    for key, f in _vpn_pidfiles(node.name).items():
        pid = _openvpn_pid(f)
        if pid is not None:
            pids[key] = {"pid": pid, "start": _start_time(pid) or 0}
    _journal_update(lambda j: j["nodes"].setdefault(node.name, {}).__setitem__("pids", pids))


def _host_day0(node: LabNode) -> None:
    """A test host's day 0, once its veths exist: NetBox addresses, the derived default route and, for a
    VPN user, the OpenVPN client (it retries by itself until the gateway's server is deployed). A provider
    stub with customers: the rules that keep them out of the campus's private space."""
    if node.kind == "provider" and node.customer_ifaces:
        run(["ip", "netns", "exec", node.ns, "sh", "-c", provider_script(node)], obj=node.name)
    if node.kind != "host":
        return
    h = _holder_pid(node.name)
    run([*_nsenter(h), "sh", "-c", host_script(node)], obj=node.name)
    if node.vpn_client is not None:
        _start_vpn_client(node, h)


def _start_vpn_client(node: LabNode, holder: int) -> None:
    d = node_dir(node.name) / "vpn"
    d.mkdir(parents=True, exist_ok=True)
    d.chmod(0o700)
    pid_file = _vpn_pidfiles(node.name)["openvpn"]
    if _openvpn_pid(pid_file) is not None:
        return  # already running: kept, like every daemon of a kept node
    # key material from the state directory's PKI (0600, never printed); certificate CN = the host's name
    for name, src in vpn.material(node.devices[0] if node.devices else node.name, "client").items():
        shutil.copyfile(src, d / name)
        (d / name).chmod(0o600)
    conf = d / "client.conf"
    conf.write_text(openvpn_client_conf(node, d, pid_file=pid_file, log_file=node_dir(node.name) / "log" /
                                        "openvpn.log"))
    conf.chmod(0o600)
    run([*_nsenter(holder), "openvpn", "--config", str(conf)], obj=node.name,
        logfile=node_dir(node.name) / "log" / "openvpn-start.log")
    deadline = time.monotonic() + 5
    while _openvpn_pid(pid_file) is None:
        if time.monotonic() > deadline:
            raise CampusnetError("E405", f"OpenVPN client did not start (log: {node_dir(node.name) / 'log'})",
                                 obj=node.name)
        time.sleep(0.05)


# ----------------------------------------------------------------------------------------------------
# Links
# ----------------------------------------------------------------------------------------------------
def _ns_links(ns: str) -> dict[str, dict[str, Any]]:
    out = run(["ip", "-n", ns, "-j", "link", "show"], obj=ns, check=False)
    try:
        return {x["ifname"]: x for x in json.loads(out or "[]")}
    except ValueError:
        return {}


def _ensure_links(plan: LabPlan) -> int:
    by_node = {n.name: n for n in plan.nodes}
    present = {n.name: _ns_links(n.ns) for n in plan.nodes}
    batch: list[str] = []
    up: dict[str, list[str]] = {}
    for lk in plan.links:
        a, b = by_node[lk.a.node], by_node[lk.b.node]
        has_a, has_b = lk.a.iface in present[a.name], lk.b.iface in present[b.name]
        if not (has_a and has_b):
            for node, end, has in ((a, lk.a, has_a), (b, lk.b, has_b)):
                if has:  # half a veth left over: remove it (and its peer with it)
                    run(["ip", "-n", node.ns, "link", "del", end.iface], obj=f"{node.name}:{end.iface}")
            batch.append(f"link add name {lk.a.iface} netns {a.ns} type veth peer name {lk.b.iface} netns {b.ns}")
        up.setdefault(a.ns, []).append(lk.a.iface)
        up.setdefault(b.ns, []).append(lk.b.iface)
    if batch:
        run(["ip", "-batch", "-"], input="\n".join(batch) + "\n", obj="links", timeout=300)

    def set_up(item: tuple[str, list[str]]) -> None:
        ns, names = item
        run(["ip", "-n", ns, "-batch", "-"], input="".join(f"link set dev {x} up\n" for x in names), obj=ns)

    with ThreadPoolExecutor(WORKERS) as ex:
        list(ex.map(set_up, up.items()))
    return len(batch)


# ----------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------
class LabUpResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    nodes: int
    links: int
    started: list[str]
    kept: list[str]
    removed: list[str]
    seconds: dict[str, float]


def _parallel(fn: Callable[[LabNode], Any], nodes: Iterable[LabNode]) -> list[Any]:
    nodes = list(nodes)
    with ThreadPoolExecutor(max(1, min(WORKERS, len(nodes)))) as ex:
        return list(ex.map(fn, nodes))


def lab_up(plan: LabPlan, configs_dir: Path | None = None, *, log: Log = _nolog,
           wait_timeout: float = 60.0) -> LabUpResult:
    """Bring the lab to ``plan``: idempotent (running nodes are kept as they are, missing parts made).

    ``configs_dir`` holds the day-0 files per node (``<node>/{daemons,frr.conf,vtysh.conf}``); when None
    they are rendered from the plan into ``state_dir()/lab/day0``. Nodes recorded from an earlier plan and
    absent from this one are removed.
    """
    require_root()
    _require_tools(plan)
    _check_host_mgmt(plan)
    t0 = time.monotonic()
    times: dict[str, float] = {}
    lab_dir().mkdir(parents=True, exist_ok=True)
    day0 = configs_dir or render_day0(plan, lab_dir() / "day0")
    ensure_ssh_keys()

    journal = _load_journal()
    stale = sorted(set(journal["nodes"]) - {n.name for n in plan.nodes})
    if stale:
        log(f"removing nodes no longer in the plan: {', '.join(stale)}")
        _down_nodes(stale, journal)
    _journal_update(lambda j: j.__setitem__("plan", plan.model_dump(mode="json")))

    _ensure_bridge(plan)
    existing_ns = set(_list_ns())
    log(f"namespaces, mgmt0 and holders for {len(plan.nodes)} nodes")
    fresh = _parallel(lambda n: _node_base(n, day0, existing_ns, _fingerprint(plan, n)), plan.nodes)
    times["namespaces"] = time.monotonic() - t0

    t1 = time.monotonic()
    made = _ensure_links(plan)
    times["links"] = time.monotonic() - t1
    log(f"{len(plan.links)} links ({made} made)")

    t2 = time.monotonic()
    _parallel(_node_services, plan.nodes)
    deadline = time.monotonic() + wait_timeout
    waiting = list(plan.nodes)
    while waiting:
        waiting = [n for n in waiting if _node_ready(n)]
        if not waiting:
            break
        if time.monotonic() > deadline:
            n = waiting[0]
            raise CampusnetError("E405", f"not ready after {wait_timeout:.0f}s: missing {', '.join(_node_ready(n))}"
                                 f" (log: {node_dir(n.name) / 'log'})", obj=n.name)
        time.sleep(0.1)
    times["daemons"] = time.monotonic() - t2
    t3 = time.monotonic()
    hosts = [n for n in plan.nodes if n.kind == "host" or n.customer_ifaces]
    if hosts:
        _parallel(_host_day0, hosts)
        times["hosts"] = time.monotonic() - t3
    _parallel(_record_pids, plan.nodes)
    _write_ssh_client_files(plan)
    shims = _ensure_vtysh_shim()
    _journal_update(lambda j: j.__setitem__("shims", shims))
    times["total"] = time.monotonic() - t0
    started = [n.name for n, f in zip(plan.nodes, fresh, strict=True) if f]
    kept = [n.name for n, f in zip(plan.nodes, fresh, strict=True) if not f]
    return LabUpResult(nodes=len(plan.nodes), links=len(plan.links), started=started, kept=kept, removed=stale,
                       seconds={k: round(v, 2) for k, v in times.items()})


def _list_ns() -> list[str]:
    out = run(["ip", "netns", "list"], obj="host", check=False)
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _our_ns(ns: str) -> bool:
    """A ``cn-*`` namespace made by this lab (its ``/etc/netns`` marker points into our lab directory)."""
    link = Path("/etc/netns") / ns / "frr"
    try:
        return link.is_symlink() and Path(os.readlink(link)).is_relative_to(lab_dir())
    except OSError:
        return False


def _down_nodes(names: Iterable[str], journal: dict[str, Any], extra_ns: Iterable[str] = ()) -> list[str]:
    nss = {ns_name(n): n for n in names}
    for ns in extra_ns:
        nss.setdefault(ns, ns.removeprefix(NS_PREFIX))
    present = set(_list_ns())
    pids: set[int] = set()
    for ns, node in nss.items():
        if ns in present:
            pids.update(_ns_pids(ns))
        rec = journal["nodes"].get(node, {})
        for r in [rec.get("holder"), *rec.get("pids", {}).values()]:
            if r and _same_process(r):
                pids.add(int(r["pid"]))
        for f in _vpn_pidfiles(node).values():  # OpenVPN started after lab up (deploy) is in no journal
            vpid = _openvpn_pid(f)
            if vpid is not None:
                pids.add(vpid)
    _kill_all(pids)
    removed = []
    for ns, node in nss.items():
        if ns in present:
            run(["ip", "netns", "del", ns], obj=node, check=False)
            removed.append(ns)
        marker = Path("/etc/netns") / ns
        link = marker / "frr"
        if link.is_symlink():
            link.unlink()
        with contextlib.suppress(OSError):
            marker.rmdir()
        peer = mgmt_peer_name(node)
        if _link_exists(peer):
            run(["ip", "link", "del", peer], obj=node, check=False)
        shutil.rmtree(node_dir(node), ignore_errors=True)
    def forget(j: dict[str, Any]) -> None:
        for node in nss.values():
            j["nodes"].pop(node, None)

    _journal_update(forget)
    return removed


def lab_down(*, sweep_all_cn: bool = False, log: Log = _nolog) -> dict[str, list[str]]:
    """Remove every namespace, link, process, mount and the ``cnmgmt`` bridge the lab made.

    Works from the journal and, after a crash, from what it finds: ``cn-*`` namespaces with our marker
    (all ``cn-*`` namespaces with ``sweep_all_cn``), ``cnm<hex>`` host veths, ``cnmgmt``.
    """
    require_root()
    journal = _load_journal()
    found = [ns for ns in _list_ns() if ns.startswith(NS_PREFIX) and (sweep_all_cn or _our_ns(ns))]
    names = list(journal["nodes"])
    removed_ns = _down_nodes(names, journal, extra_ns=found)
    log(f"removed {len(removed_ns)} namespaces")
    links = json.loads(run(["ip", "-j", "link", "show"], obj="host") or "[]")
    removed_links = []
    for lk in links:
        name = lk.get("ifname", "")
        if HOST_LINK_RE.match(name):
            run(["ip", "link", "del", name], obj=name, check=False)
            removed_links.append(name)
    if _link_exists(MGMT_BRIDGE):
        ports = json.loads(run(["ip", "-j", "link", "show", "master", MGMT_BRIDGE], obj=MGMT_BRIDGE) or "[]")
        if not ports:
            run(["ip", "link", "del", MGMT_BRIDGE], obj=MGMT_BRIDGE)
            removed_links.append(MGMT_BRIDGE)
        else:
            log(f"{MGMT_BRIDGE} kept: other ports on it: {', '.join(p['ifname'] for p in ports)}")
    shims: list[str] = []
    if not any(ns.startswith(NS_PREFIX) and _ns_has_frr_marker(ns) for ns in _list_ns()):
        shims = _remove_vtysh_shim()
    for leftover in lab_dir().glob("*"):
        if leftover.is_dir() and leftover.name not in RESERVED:
            shutil.rmtree(leftover, ignore_errors=True)
    _save_journal({"nodes": {}, "plan": None, "shims": []})
    return {"namespaces": removed_ns, "links": removed_links, "shims": shims}


def _ns_has_frr_marker(ns: str) -> bool:
    return (Path("/etc/netns") / ns / "frr").is_symlink()


# ----------------------------------------------------------------------------------------------------
# Status
# ----------------------------------------------------------------------------------------------------
class NodeStatus(BaseModel):
    name: str
    kind: str
    ns: str
    mgmt: str
    ns_present: bool
    holder: int | None
    pids: dict[str, int | None]
    rss_kib: int

    @property
    def healthy(self) -> bool:
        return self.ns_present and self.holder is not None and all(v is not None for v in self.pids.values())


class LinkStatus(BaseModel):
    a: str
    b: str
    a_state: str
    b_state: str
    circuit: str | None = None

    @property
    def up(self) -> bool:
        return self.a_state in {"UP", "UNKNOWN"} and self.b_state in {"UP", "UNKNOWN"}


class LabStatus(BaseModel):
    running: bool
    nodes: list[NodeStatus]
    links: list[LinkStatus]
    stray_namespaces: list[str]
    bridge: bool
    rss_mib: float
    pss_mib: float

    def summary(self) -> dict[str, Any]:
        return {"nodes": len(self.nodes), "healthy": sum(n.healthy for n in self.nodes),
                "links": len(self.links), "links_up": sum(lk.up for lk in self.links),
                "rss_mib": self.rss_mib, "pss_mib": self.pss_mib}


def _mem_kib(pid: int, field: str) -> int:
    path = f"/proc/{pid}/smaps_rollup" if field == "Pss" else f"/proc/{pid}/status"
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def lab_status() -> LabStatus:
    """Nodes (namespace, holder, daemon PIDs, memory), links (operstate of both ends), leftovers."""
    require_root()
    j = _load_journal()
    plan = LabPlan.model_validate(j["plan"]) if j.get("plan") else None
    present = set(_list_ns())
    nodes: list[NodeStatus] = []
    states: dict[str, dict[str, dict[str, Any]]] = {}
    rss_total = pss_total = 0
    for name, rec in sorted(j["nodes"].items()):
        ns = rec.get("ns", ns_name(name))
        holder = rec.get("holder")
        d = node_dir(name)
        pids: dict[str, int | None] = {}
        pn = plan.node(name) if plan and any(n.name == name for n in plan.nodes) else None
        if pn is not None and pn.frr:
            for daemon in ("watchfrr", *pn.daemons):
                pids[daemon] = _read_pidfile(d / "run" / f"{daemon}.pid")
        if pn is not None and pn.ovs:
            for daemon in ("ovsdb-server", "ovs-vswitchd"):
                pids[daemon] = _read_pidfile(d / "ovs" / "run" / f"{daemon}.pid")
        pids["sshd"] = _read_pidfile(d / "ssh" / "sshd.pid")
        for key, f in _vpn_pidfiles(name).items():
            if (key == "openvpn" and pn is not None and pn.vpn_client is not None) or f.exists():
                pids[key] = _openvpn_pid(f)
        rss = 0
        if ns in present:
            states[name] = _ns_links(ns)
            for p in _ns_pids(ns):
                rss += _mem_kib(p, "VmRSS")
                pss_total += _mem_kib(p, "Pss")
        rss_total += rss
        nodes.append(NodeStatus(name=name, kind=rec.get("kind", "?"), ns=ns,
                                mgmt=pn.mgmt_ip if pn else "?", ns_present=ns in present,
                                holder=int(holder["pid"]) if _same_process(holder) else None, pids=pids,
                                rss_kib=rss))
    links = []
    for lk in plan.links if plan else ():
        sa = states.get(lk.a.node, {}).get(lk.a.iface, {}).get("operstate", "ABSENT")
        sb = states.get(lk.b.node, {}).get(lk.b.iface, {}).get("operstate", "ABSENT")
        links.append(LinkStatus(a=f"{lk.a.node}:{lk.a.iface}", b=f"{lk.b.node}:{lk.b.iface}", a_state=sa,
                                b_state=sb, circuit=lk.circuit))
    ours = {rec.get("ns", ns_name(n)) for n, rec in j["nodes"].items()}
    stray = sorted(ns for ns in present if ns.startswith(NS_PREFIX) and ns not in ours and _our_ns(ns))
    return LabStatus(running=bool(nodes), nodes=nodes, links=links, stray_namespaces=stray,
                     bridge=_link_exists(MGMT_BRIDGE), rss_mib=round(rss_total / 1024, 1),
                     pss_mib=round(pss_total / 1024, 1))


def node_exec(node: str, argv: list[str], *, check: bool = True, timeout: float = 60.0) -> str:
    """Run ``argv`` inside a node (its network, mount and UTS namespaces: its own FRR/OVS)."""
    require_root()
    h = _holder_pid(node)
    rec = _load_journal().get("plan") or {}
    env = None
    for n in rec.get("nodes", []):
        if n["name"] == node and n.get("ovs"):
            env = _ovs_env(LabNode.model_validate(n))
    return run([*_nsenter(h), *argv], obj=node, check=check, env=env, timeout=timeout)
