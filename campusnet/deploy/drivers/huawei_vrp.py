"""Huawei VRP 8 (CE switches): two-stage commit with ``commit trial <seconds>`` and a named rollback point.

The push (hier_config's remediation) goes into the candidate configuration in system-view; nothing runs
until the commit. With a confirm timer: ``commit trial <s>`` — the device runs the change and goes back by
itself unless ``commit`` follows within ``s`` seconds (the engine sends it once the post-checks passed);
``abort trial`` drops it at once. Before the push the newest commit point gets a label
(``set configuration commit <id> label campusnet-<UTC time>``) and ``restore`` goes back to it with
``rollback configuration to label …``; a backup older than that point is converged with a plain commit.
"""

from __future__ import annotations

import re
import time

from campusnet.deploy.drivers.cli import (
    CliSession,
    VendorCliDriver,
    arm,
    checked,
    leave,
    may_confirm,
    session,
    too_late,
)

_COMMIT_ID = re.compile(r"^\s*\d+\s+(\d{6,})\s", re.M)
_TRIAL_RUNNING = re.compile(r"^\s*Trial status:\s*running", re.M | re.I)


def commit_ids(text: str) -> list[str]:
    """The commit ids of ``display configuration commit list``, newest first."""
    return _COMMIT_ID.findall(text)


class HuaweiVrpDriver(VendorCliDriver):
    name = "huawei-vrp"
    platform = "huawei-vrp"
    netmiko_type = "huawei_vrpv8"
    ntc_platform = "huawei_vrp"
    confirm_mechanism = ("commit trial <s> (the device reverts by itself unless `commit` follows in s seconds); "
                         "restore: abort trial, rollback configuration to label campusnet-<time>")
    bgp_command = "display bgp peer"

    def _begin(self, s: CliSession) -> None:
        ids = commit_ids(checked(s, "display configuration commit list 1"))
        if ids:
            label = time.strftime("campusnet-%Y%m%d%H%M%S", time.gmtime())
            checked(s, f"set configuration commit {ids[0]} label {label}")
            s.commit_state["point"] = label

    def _commit(self, s: CliSession, confirm_timeout: int) -> None:
        if confirm_timeout > 0:
            checked(s, f"commit trial {confirm_timeout}")
            arm(s, confirm_timeout)
        else:
            checked(s, "commit description campusnet")

    def confirm(self, conn: object) -> None:
        s = session(conn)
        if not may_confirm(s):
            return
        # the device's word, not our clock: a `commit` after the trial ran out commits nothing and says so not
        if not _TRIAL_RUNNING.search(checked(s, "display configuration trial status")):
            s.commit_state["pending"] = False
            raise too_late(s)
        checked(s, "system-view")
        try:
            checked(s, "commit description campusnet")
            s.commit_state["pending"] = False
        finally:
            leave(s)

    def _cancel(self, s: CliSession) -> None:
        if s.commit_state.get("pending"):
            checked(s, "system-view")
            try:
                checked(s, "abort trial")
                s.commit_state["pending"] = False
            finally:
                leave(s)

    def _to_point(self, s: CliSession) -> bool:
        label = s.commit_state.get("point")
        if not label:
            return False
        checked(s, f"rollback configuration to label {label}", expect=r"\[Y/N\]:?\s*$")
        checked(s, "Y")
        return True
