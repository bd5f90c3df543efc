"""Device locks: one deploy or rollback at a time per device, per state directory.

``<state>/locks/<device>.lock`` is held with ``fcntl.flock`` (exclusive) by the process that pushes to or
restores that device, for the whole run. ``flock`` belongs to the open file: the kernel releases it when the
process exits, however it exits, so a lock left by a dead process never blocks anyone (the holder text in
the file is then stale and is simply overwritten).

``<state>/locks/state.lock`` is held only for the instant a run takes (or fails to take) its set of device
locks and writes its name into them: two runs on overlapping sets never each get half of it (no deadlock),
and a refused run always reads a complete holder record (pid, run id, what it does, since when).

A run that finds a device locked refuses (``E472``, naming the device and the holder) or, with
``wait`` seconds, polls until it gets every lock or the time is up (``E473``). It never interleaves.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from campusnet import settings
from campusnet.errors import CampusnetError
from campusnet.private import private_dir

POLL_SECONDS = 0.25


def locks_dir() -> Path:
    return private_dir(settings.state_dir() / "locks")


def lock_path(device: str) -> Path:
    """The lock file of a device: its name when that is a safe file name, else a slug plus a hash."""
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", device)
    if slug != device or slug.startswith("."):
        slug = f"{slug.lstrip('.')}-{hashlib.sha256(device.encode()).hexdigest()[:8]}"
    return locks_dir() / f"{slug}.lock"


@contextmanager
def _state_lock() -> Iterator[None]:
    fd = os.open(locks_dir() / "state.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held for milliseconds: blocking is fine
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _holder(fd: int) -> dict[str, object]:
    try:
        text = os.pread(fd, 4096, 0).decode(errors="replace")
        data = json.loads(text) if text.strip() else {}
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def describe_holder(holder: dict[str, object]) -> str:
    if not holder:
        return "another process (it has not written its name)"
    return (f"{holder.get('action', 'a run')} run {holder.get('run_id', '?')} (pid {holder.get('pid', '?')} on "
            f"{holder.get('host', '?')}, since {holder.get('since', '?')})")


@dataclass
class DeviceLocks:
    """The locks a run holds; release them with :meth:`release` or by leaving the ``with`` block."""

    devices: list[str]
    holder: dict[str, object]
    _fds: dict[str, int] = field(default_factory=dict, repr=False)

    def release(self) -> None:
        for fd in self._fds.values():
            with suppress(OSError):
                os.close(fd)
        self._fds.clear()

    def __enter__(self) -> DeviceLocks:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def acquire(devices: Iterable[str], *, run_id: str, action: str, wait: float = 0.0) -> DeviceLocks:
    """Take the lock of every device (all or none). ``wait``: seconds to keep trying (0: refuse at once)."""
    if wait < 0:
        raise CampusnetError("E474", f"must be 0 or more seconds, not {wait}", obj=action, field="--wait")
    names = sorted(set(devices))
    holder: dict[str, object] = {"pid": os.getpid(), "host": socket.gethostname(), "run_id": run_id,
                                 "action": action, "since": datetime.now(UTC).isoformat(timespec="seconds"),
                                 "devices": names}
    deadline = time.monotonic() + wait
    while True:
        with _state_lock():
            got: dict[str, int] = {}
            busy: tuple[str, dict[str, object]] | None = None
            for name in names:
                fd = os.open(lock_path(name), os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    busy = (name, _holder(fd))
                    os.close(fd)
                    break
                got[name] = fd
            if busy is None:
                text = (json.dumps(holder) + "\n").encode()
                for fd in got.values():
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, text, 0)
                return DeviceLocks(names, holder, got)
            for fd in got.values():
                os.close(fd)
        device, who = busy
        if time.monotonic() >= deadline:
            if wait > 0:
                raise CampusnetError("E473", f"still locked after waiting {wait:g} s, by {describe_holder(who)}",
                                     obj=f"device {device}", field="lock")
            raise CampusnetError("E472", f"locked by {describe_holder(who)}: it is deployed or rolled back right "
                                 "now; run again when it is done, or wait for it with --wait SECONDS",
                                 obj=f"device {device}", field="lock")
        time.sleep(POLL_SECONDS)
