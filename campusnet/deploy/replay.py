"""The session replayer: a VRP / Comware device played from recorded transcripts, with state.

A transcript directory (``tests/fixtures/vendor/<platform>/``) holds ``transcript.yaml``: the platform,
the hostname, the file with the device's ``display current-configuration``, the files answering the other
``display`` commands, and the device's replies to the commit, trial, rollback and archive commands (in the
vendor's formats; ``PROVENANCE.md`` beside them says where the formats come from).

:class:`ReplayDevice` is the device: its running configuration, the commit points, the archive files and
a pending trial / commit delay with its deadline on a clock the tests can move. :class:`ReplaySession` is
one SSH session to it, with the same interface as :class:`~campusnet.deploy.drivers.cli.NetmikoSession`,
so the real driver code runs against it: the commands typed in system-view change the running
configuration the way the platform does (VRP: at ``commit``/``commit trial``; Comware: as typed), and an
unconfirmed change reverts when its deadline passes — also with no session open (the controller died).
A command the transcript does not answer in user view fails loudly (E485), as does a dropped session
(E486) or a device that cannot be reached (E487).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from campusnet.deploy.drivers.base import DeployTarget
from campusnet.deploy.drivers.cli import tree_text
from campusnet.errors import CampusnetError

# commands that open a view (section) on VRP / Comware, as our templates use them
_SECTION = re.compile(r"^(interface |ospf |bgp |vlan \d+$|area |aaa$|accounting-scheme |authentication-scheme |"
                      r"authorization-scheme |domain |hwtacacs(?:-server template| scheme) |evpn$|bridge-domain |"
                      r"ipv[46]-family |l2vpn-family |ip vpn-instance |route-policy |user-interface |"
                      r"radius(?:-server template| scheme) |ip pool )")
_HEADER = re.compile(r"^!.*$", re.M)


@dataclass
class Transcript:
    """One platform's recording: what the device answers, and its starting configuration."""

    platform: str
    hostname: str
    running: str
    replies: dict[str, str]
    messages: dict[str, str]
    path: Path

    @classmethod
    def load(cls, directory: Path) -> Transcript:
        index = directory / "transcript.yaml"
        try:
            data = yaml.safe_load(index.read_text(encoding="utf-8"))
            replies = {cmd: (directory / name).read_text(encoding="utf-8") for cmd, name in data["replies"].items()}
            running = (directory / data["running"]).read_text(encoding="utf-8")
            return cls(str(data["platform"]), str(data["hostname"]), running, replies,
                       {str(k): str(v) for k, v in data["messages"].items()}, directory)
        except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
            raise CampusnetError("E488", f"not a replay transcript: {exc}", obj=str(index),
                                 field="transcript") from None


@dataclass
class ReplayDevice:
    """A recorded device with state. ``clock`` is monotonic seconds (tests pass a fake they can move)."""

    transcript: Transcript
    clock: Callable[[], float] = time.monotonic
    running: str = ""
    commits: list[tuple[str, str, str]] = field(default_factory=list)  # (commit id, label, config), newest first
    archives: dict[str, str] = field(default_factory=dict)
    pending: tuple[float, str] | None = None  # (deadline, configuration to revert to)
    reachable: bool = True
    log: list[str] = field(default_factory=list)  # every command received, in order
    drop_after: str | None = None  # the session dies right after answering this command (a lost controller)
    reverted: int = 0  # how many times a timer fired
    refuse: set[str] = field(default_factory=set)  # configuration lines the device refuses (``Error: …``)

    def __post_init__(self) -> None:
        self.running = self.running or self.transcript.running
        self.commits = self.commits or [("1000000101", "-", self.running)]

    @property
    def platform(self) -> str:
        return self.transcript.platform

    @property
    def vrp(self) -> bool:
        return self.platform == "huawei-vrp"

    def tick(self) -> None:
        """The device's own timer: an unconfirmed change past its deadline goes back."""
        if self.pending is not None and self.clock() >= self.pending[0]:
            self.running = self.pending[1]
            self.pending = None
            self.reverted += 1

    def session(self) -> ReplaySession:
        return ReplaySession(self)

    def apply_lines(self, lines: list[str]) -> None:
        """Lines typed in system-view (indented under their view) applied to the running configuration."""
        if not any(ln.strip() for ln in lines):
            return
        from campusnet.platforms import get_platform

        plat = get_platform(self.platform)
        header = "".join(m + "\n" for m in _HEADER.findall(self.running))
        future = plat.load_config(self.running).future(plat.load_config("\n".join(lines) + "\n"))
        self.running = header + tree_text(future)

    def msg(self, key: str, **values: str) -> str:
        text = self.transcript.messages.get(key)
        if text is None:
            raise CampusnetError("E488", f"the transcript has no reply for {key!r}", obj=str(self.transcript.path),
                                 field="messages")
        return text.format(host=self.transcript.hostname, **values)


class ReplaySession:
    """One session to a :class:`ReplayDevice`, the interface of ``NetmikoSession``."""

    def __init__(self, dev: ReplayDevice):
        self.dev = dev
        self.device = dev.transcript.hostname
        self.commit_state: dict[str, Any] = {}
        self._open = False
        self._views: list[str] = []  # [] user view; ["system"] system-view; then the sections entered
        self._candidate: list[str] = []
        self._question: Callable[[str], str] | None = None

    def __enter__(self) -> ReplaySession:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        self.dev.tick()
        if not self.dev.reachable:
            raise CampusnetError("E487", "replay: the device cannot be reached (connection refused)",
                                 obj=self.device, field="host")
        self._open = True

    def close(self) -> None:
        self._open = False

    def alive(self) -> bool:
        return self._open

    def drop(self) -> None:
        """The session dies (the controller lost the device)."""
        self._open = False

    def send(self, command: str, *, expect: str | None = None, read_timeout: float = 120.0) -> str:
        if not self._open:
            raise CampusnetError("E486", f"replay: the session is closed (lost) before {command!r}",
                                 obj=self.device, field="connection")
        self.dev.tick()
        self.dev.log.append(command)
        reply = self._answer(command.strip())
        if self.dev.drop_after is not None and command.strip() == self.dev.drop_after:
            self.dev.drop_after = None
            self.dev.reachable = False
            self.drop()
        return reply

    # -- the command interpreter -----------------------------------------------------------------------------------
    def _answer(self, cmd: str) -> str:
        if self._question is not None:
            ask, self._question = self._question, None
            return ask(cmd)
        if not self._views:
            return self._user(cmd)
        return self._system(cmd)

    def _user(self, cmd: str) -> str:
        dev = self.dev
        if cmd == "system-view":
            self._views = ["system"]
            return dev.msg("system_view")
        if cmd == dev.transcript.replies.get("__running_command__", "display current-configuration"):
            return dev.running
        if cmd in dev.transcript.replies:
            return dev.transcript.replies[cmd]
        if dev.vrp:
            return self._vrp_user(cmd)
        if cmd == "archive configuration":
            self._question = self._archive
            return dev.msg("archive_question")
        return self._unexpected(cmd)

    def _unexpected(self, cmd: str) -> str:
        view = "user view" if not self._views else " > ".join(self._views)
        known = ", ".join(sorted(k for k in self.dev.transcript.replies if not k.startswith("__")))
        raise CampusnetError("E485", f"replay: unexpected command {cmd!r} in {view} (the transcript answers: "
                             f"{known}, and the commit/rollback commands)", obj=self.device, field="command")

    def _vrp_user(self, cmd: str) -> str:
        dev = self.dev
        if cmd == "display configuration trial status":
            dev.tick()
            if dev.pending is None:
                return dev.msg("trial_none")
            return dev.msg("trial_running", seconds=str(max(0, int(dev.pending[0] - dev.clock()))))
        if cmd.startswith("display configuration commit list"):
            rows = "".join(dev.msg("commit_row", n=str(i + 1), id=cid, label=label)
                           for i, (cid, label, _) in enumerate(dev.commits[:1] if cmd.endswith(" 1") else dev.commits))
            return dev.msg("commit_list", count=str(len(dev.commits))).rstrip("\n") + "\n" + rows
        m = re.fullmatch(r"set configuration commit (\d+) label (\S+)", cmd)
        if m:
            dev.commits = [(cid, m[2] if cid == m[1] else label, cfg) for cid, label, cfg in dev.commits]
            return ""
        m = re.fullmatch(r"rollback configuration to label (\S+)", cmd)
        if m:
            point = next((cfg for _, label, cfg in dev.commits if label == m[1]), None)
            if point is None:
                return dev.msg("no_label", label=m[1])
            self._question = lambda answer: self._rollback_to(point, answer)
            return dev.msg("rollback_question")
        return self._unexpected(cmd)

    def _rollback_to(self, config: str, answer: str) -> str:
        if answer.upper() != "Y":
            return ""
        self.dev.pending = None
        self.dev.running = config
        self._new_commit(config)
        return self.dev.msg("rollback_done")

    def _archive(self, answer: str) -> str:
        if answer.upper() != "Y":
            return ""
        name = f"flash:/archive/campusnet_{len(self.dev.archives) + 1}.cfg"
        self.dev.archives[name] = self.dev.running
        return self.dev.msg("archive_done", file=name)

    def _new_commit(self, config: str) -> None:
        cid = str(int(self.dev.commits[0][0]) + 1)
        self.dev.commits.insert(0, (cid, "-", config))

    def _system(self, cmd: str) -> str:
        dev = self.dev
        if cmd == "return" or (cmd == "quit" and len(self._views) == 1):
            return self._leave()
        if cmd == "quit":
            self._views.pop()
            return ""
        handled = self._vrp_system(cmd) if dev.vrp else self._comware_system(cmd)
        if handled is not None:
            return handled
        if cmd.startswith("display "):
            return self._unexpected(cmd)
        if cmd in dev.refuse:
            return dev.msg("refused") if "refused" in dev.transcript.messages else "Error: Wrong parameter found."
        depth = len(self._views) - 1
        self._candidate.append(" " * depth + cmd)
        if _SECTION.match(cmd):
            self._views.append(cmd)
        return ""

    def _leave(self) -> str:
        if self.dev.vrp and self._candidate:
            self._question = self._discard
            return self.dev.msg("uncommitted_question")
        if not self.dev.vrp:
            self.dev.apply_lines(self._candidate)
            self._candidate = []
        self._views = []
        return ""

    def _discard(self, answer: str) -> str:
        if answer.upper() == "N":
            self._candidate = []
            self._views = []
            return ""
        if answer.upper() == "Y":
            self.dev.apply_lines(self._candidate)
            self._candidate = []
            self._views = []
            return ""
        return ""  # C: stay

    def _vrp_system(self, cmd: str) -> str | None:
        dev = self.dev
        m = re.fullmatch(r"commit trial (\d+)", cmd)
        if m:
            before = dev.running
            dev.apply_lines(self._candidate)
            self._candidate = []
            dev.pending = (dev.clock() + int(m[1]), before)
            return dev.msg("commit_trial", seconds=m[1])
        if cmd == "commit" or cmd.startswith("commit description "):
            dev.apply_lines(self._candidate)
            self._candidate = []
            dev.pending = None
            self._new_commit(dev.running)
            return dev.msg("commit")
        if cmd == "abort trial":
            if dev.pending is None:
                return dev.msg("no_trial")
            dev.running = dev.pending[1]
            dev.pending = None
            return dev.msg("abort_trial")
        return None

    def _comware_system(self, cmd: str) -> str | None:
        dev = self.dev
        m = re.fullmatch(r"configuration commit delay (\d+)", cmd)
        if m:
            dev.pending = (dev.clock() + 60 * int(m[1]), dev.running)
            return dev.msg("commit_delay", minutes=m[1])
        if cmd == "configuration commit":
            dev.apply_lines(self._candidate)
            self._candidate = []
            if dev.pending is None:
                return dev.msg("no_delay")
            dev.pending = None
            return dev.msg("commit")
        if cmd.startswith("archive configuration location "):
            return ""
        m = re.fullmatch(r"configuration replace file (\S+)", cmd)
        if m:
            saved = dev.archives.get(m[1])
            if saved is None:
                return dev.msg("no_file", file=m[1])
            self._question = lambda answer: self._replace(saved, answer)
            return dev.msg("replace_question")
        return None

    def _replace(self, config: str, answer: str) -> str:
        if answer.upper() != "Y":
            return ""
        self.dev.apply_lines(self._candidate)
        self._candidate = []
        self.dev.running = config
        return self.dev.msg("replace_done")


class Replayer:
    """Every production target of a run connected to its platform's recorded device (``deploy --replay DIR``):
    ``DIR/<platform slug>/transcript.yaml``. One :class:`ReplayDevice` per target device, kept across
    reconnects (the engine's rollback reconnects)."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.monotonic):
        self.directory = directory
        self.clock = clock
        self.devices: dict[str, ReplayDevice] = {}

    def device(self, target: DeployTarget) -> ReplayDevice:
        if target.device not in self.devices:
            sub = self.directory / target.driver
            if not (sub / "transcript.yaml").exists():
                raise CampusnetError("E489", f"no recorded transcript for platform {target.driver} in "
                                     f"{self.directory}", obj=target.device, field="--replay")
            self.devices[target.device] = ReplayDevice(Transcript.load(sub), clock=self.clock)
        return self.devices[target.device]

    def __call__(self, target: DeployTarget) -> ReplaySession:
        """The engine's ``connect`` hook: a new, unopened session to the target's recorded device."""
        s = self.device(target).session()
        s.device = target.device
        return s
