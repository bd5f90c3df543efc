"""The lab frr.conf is exactly what FRR 8.4 prints: load each one into a real, throwaway FRR.

For each lab device: a fresh network namespace (veths standing for its cables), its net.sh run inside,
FRR started from the rendered frr.conf (private mount namespace, FIELD-NOTES), then
* `show running-config` equals the file, line for line, and
* `frr-reload.py --test` finds nothing to add or delete.
Needs root and FRR; marked `lab`. Namespaces are named cn-tpl-<n> and removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from campusnet.intent.emulation import plumbing
from campusnet.intent.models import DeviceIntent, EthernetInterface
from campusnet.render import render_files
from campusnet.sot.models import Snapshot

pytestmark = pytest.mark.lab

FRRINIT = Path("/usr/lib/frr/frrinit.sh")
RELOAD = Path("/usr/lib/frr/frr-reload.py")

needs_frr = pytest.mark.skipif(os.geteuid() != 0 or not FRRINIT.exists() or not shutil.which("ip"),
                               reason="needs root, iproute2 and FRR 8.4")


def _run(*argv: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=timeout)


class ThrowawayFrr:
    """FRR in its own network + mount namespace, with bind-mounted /etc/frr, /run/frr, /var/log/frr."""

    def __init__(self, root: Path, ns: str, intent: DeviceIntent, files: dict[str, str]):
        self.root, self.ns, self.intent, self.files = root, ns, intent, files
        self.holder: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ThrowawayFrr:
        try:
            return self._start()
        except BaseException:
            self.__exit__()
            raise

    def _start(self) -> ThrowawayFrr:
        for d in ("etc", "run", "log"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        _run("ip", "netns", "del", self.ns, check=False)
        _run("ip", "netns", "add", self.ns)
        # the cables' veths (peers stay in the namespace, unused)
        for n, i in enumerate(x for x in self.intent.interfaces if isinstance(x, EthernetInterface)):
            _run("ip", "netns", "exec", self.ns, "ip", "link", "add", i.name, "type", "veth", "peer", "name",
                 f"cnpeer{n}")
            _run("ip", "netns", "exec", self.ns, "ip", "link", "set", f"cnpeer{n}", "up")
        net_sh = self.root / "net.sh"
        net_sh.write_text(self.files["net.sh"])
        res = _run("ip", "netns", "exec", self.ns, "sh", str(net_sh), check=False)
        assert res.returncode == 0, f"net.sh failed: {res.stderr}"
        daemons = Path("/etc/frr/daemons").read_text()
        for d in plumbing(self.intent).frr_daemons:
            daemons = daemons.replace(f"{d}=no", f"{d}=yes")
        (self.root / "etc" / "daemons").write_text(daemons)
        (self.root / "etc" / "vtysh.conf").write_text("service integrated-vtysh-config\n")
        (self.root / "etc" / "frr.conf").write_text(self.files["frr.conf"])
        shutil.chown(self.root / "etc", "frr", "frr")
        for d in ("etc", "run", "log"):
            for p in [self.root / d, *(self.root / d).iterdir()]:
                shutil.chown(p, "frr", "frr")
        script = (f"mount --bind {self.root}/etc /etc/frr && mount --bind {self.root}/run /run/frr && "
                  f"mount --bind {self.root}/log /var/log/frr && hostname {self.intent.hostname} && "
                  f"{FRRINIT} start >{self.root}/init.log 2>&1; exec sleep infinity")
        self.holder = subprocess.Popen(["ip", "netns", "exec", self.ns, "unshare", "--mount", "--uts",
                                        "--propagation", "private", "sh", "-c", script])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(0.5)
            out = self.vtysh("show running-config", check=False)
            if out.returncode == 0 and "hostname" in out.stdout:
                time.sleep(1.0)  # let every daemon read its part
                return self
        raise AssertionError(f"FRR did not start: {(self.root / 'init.log').read_text()}")

    def _enter(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self.holder is not None
        # `ip netns exec` execs unshare, which execs sh: the holder's pid is in every namespace we need
        return _run("nsenter", "-t", str(self.holder.pid), "-m", "-u", "-n", *argv, check=check)

    def vtysh(self, command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self._enter("vtysh", "-c", command, check=check)

    def running(self) -> str:
        text = self.vtysh("show running-config").stdout
        lines = text.splitlines()
        start = next(n for n, line in enumerate(lines) if line.startswith("frr version"))
        return "\n".join(lines[start:]) + "\n"

    def reload_test(self) -> str:
        (self.root / "candidate.conf").write_text(self.files["frr.conf"])
        return self._enter("python3", str(RELOAD), "--test", "--stdout", str(self.root / "candidate.conf")).stdout

    def __exit__(self, *exc: object) -> None:
        if self.holder is not None:
            self._enter(str(FRRINIT), "stop", check=False)
            self.holder.terminate()
            self.holder.wait(timeout=10)
        _run("ip", "netns", "del", self.ns, check=False)


def lab_intents(snap: Snapshot) -> list[DeviceIntent]:
    from campusnet.pipeline import Pipeline

    return list(Pipeline.build(snap, strict=True).emulations.values())


SNAPSHOTS = Path(__file__).resolve().parent.parent / "fixtures" / "snapshots"


@needs_frr
@pytest.mark.parametrize("case", ["small", "campus"])
def test_lab_frr_conf_is_what_frr_prints(case: str, tmp_path: Path) -> None:
    snap_file = SNAPSHOTS / f"{case}.json"
    if not snap_file.exists():
        pytest.skip(f"no recorded snapshot {snap_file.name}")
    problems: list[str] = []
    for n, emu in enumerate(lab_intents(Snapshot.load(snap_file))):
        files = {Path(k).name: v for k, v in render_files(emu).items()}
        with ThrowawayFrr(tmp_path / emu.hostname, f"cn-tpl-{n}", emu, files) as frr:
            running = frr.running()
            if running != files["frr.conf"]:
                import difflib

                diff = "".join(difflib.unified_diff(files["frr.conf"].splitlines(True), running.splitlines(True),
                                                    "rendered", "running"))
                problems.append(f"{emu.hostname}: running config differs\n{diff}")
            test = frr.reload_test()
            if "Lines To Delete" in test or "Lines To Add" in test:
                problems.append(f"{emu.hostname}: frr-reload --test\n{test}")
    assert not problems, "\n".join(problems)
