"""Fault-injection points for the fault drills (``tests/integration/test_fault_drills.py``, docs/lab.md).

A drill must hit a fault at an exact moment of a device's deploy: "while its push is running", "between
push and post-check". The deploy engine calls :func:`point` at those moments::

    drill.point("before-apply", target.device)   # the backup is taken, the push starts next
    drill.point("after-apply", target.device)    # pushed; the post-checks come next

With ``CAMPUSNET_DRILL`` unset (production) :func:`point` returns at once and does nothing else.

``CAMPUSNET_DRILL=after-apply:yt-core-1,before-apply:*`` names the points to stop at (``*``: any device).
At a named point the deploying process writes ``<dir>/<point>@<device>.reached`` (its pid and the time)
and waits until ``<dir>/<point>@<device>.release`` exists — the drill injects its fault in between — then
deletes the release file and goes on. ``<dir>`` is ``CAMPUSNET_DRILL_DIR`` (default ``<state>/drill``).
The wait is bounded (``CAMPUSNET_DRILL_TIMEOUT`` seconds, default 120): a drill that never releases makes
the device fail with E491 (and, past the push, be rolled back) instead of hanging the deploy.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from campusnet import settings
from campusnet.errors import CampusnetError
from campusnet.private import private_dir, write_private

ENV = "CAMPUSNET_DRILL"
DIR_ENV = "CAMPUSNET_DRILL_DIR"
TIMEOUT_ENV = "CAMPUSNET_DRILL_TIMEOUT"
POINTS = ("before-apply", "after-apply")
POLL_SECONDS = 0.05


def _spec() -> set[tuple[str, str]]:
    raw = os.environ.get(ENV, "").strip()
    out: set[tuple[str, str]] = set()
    for item in (x.strip() for x in raw.split(",")):
        if not item:
            continue
        name, sep, device = item.partition(":")
        if not sep or name not in POINTS or not device:
            raise CampusnetError("E490", f"{item!r} is not POINT:DEVICE with POINT one of {', '.join(POINTS)} "
                                 "and DEVICE a device name or *", obj="environment", field=ENV)
        out.add((name, device))
    return out


def drill_dir() -> Path:
    return Path(os.environ.get(DIR_ENV) or settings.state_dir() / "drill")


def _slug(device: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", device).lstrip(".") or "_"


def marker(name: str, device: str, kind: str) -> Path:
    """``<dir>/<point>@<device>.<kind>``, kind ``reached`` or ``release``."""
    return drill_dir() / f"{name}@{_slug(device)}.{kind}"


def armed(name: str, device: str) -> bool:
    if not os.environ.get(ENV):
        return False
    spec = _spec()
    return (name, device) in spec or (name, "*") in spec


def point(name: str, device: str) -> None:
    """Stop here when a drill names this point and device; otherwise (always in production) do nothing."""
    if not armed(name, device):
        return
    try:
        timeout = float(os.environ.get(TIMEOUT_ENV) or 120)
    except ValueError:
        raise CampusnetError("E490", f"not a number of seconds: {os.environ.get(TIMEOUT_ENV)!r}",
                             obj="environment", field=TIMEOUT_ENV) from None
    private_dir(drill_dir())
    release = marker(name, device, "release")
    release.unlink(missing_ok=True)  # a stale release from an earlier drill must not let this one through
    write_private(marker(name, device, "reached"),
                  json.dumps({"point": name, "device": device, "pid": os.getpid(), "at": time.time()}) + "\n")
    deadline = time.monotonic() + timeout
    while not release.exists():
        if time.monotonic() > deadline:
            raise CampusnetError("E491", f"drill point {name} was not released within {timeout:g} s "
                                 f"(no {release})", obj=f"device {device}", field=ENV)
        time.sleep(POLL_SECONDS)
    release.unlink(missing_ok=True)
    marker(name, device, "reached").unlink(missing_ok=True)


# -- the drill's side ------------------------------------------------------------------------------------
def clear(name: str, device: str) -> None:
    """Forget markers a previous drill left behind."""
    for kind in ("reached", "release"):
        marker(name, device, kind).unlink(missing_ok=True)


def wait_reached(name: str, device: str, timeout: float = 120.0) -> bool:
    """True once a deploying process stands at the point (False when ``timeout`` passes first)."""
    path = marker(name, device, "reached")
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def release(name: str, device: str) -> None:
    """Let the process waiting at the point go on."""
    write_private(private_dir(drill_dir()) / marker(name, device, "release").name, "release\n")
