"""H3C Comware 7 (access switches): ``configuration commit delay <minutes>`` plus an archived rollback file.

Comware runs each command as it is typed. Before the push the running configuration is archived
(``archive configuration`` → ``flash:/archive/campusnet_<n>.cfg``: the rollback file). With a confirm
timer, ``configuration commit delay <m>`` is the first command in system-view: unless ``configuration
commit`` follows within ``m`` minutes the device rolls back by itself to the configuration before the
delay command. The timer counts whole minutes: a timeout in seconds is rounded **up** (120 s → 2 min,
90 s → 2 min). ``restore`` replaces the running configuration with the rollback file
(``configuration replace file …``) and then stops a pending timer.
"""

from __future__ import annotations

import math
import re

from campusnet.deploy.drivers.cli import (
    CliSession,
    VendorCliDriver,
    arm,
    checked,
    leave,
    may_confirm,
    parse_comware_ospf_peer_brief,
    session,
    too_late,
)

ARCHIVE_DIR = "flash:/archive"
ARCHIVE_PREFIX = "campusnet"
_ARCHIVE_FILE = re.compile(r"(flash:/\S+?\.cfg)")
_NO_DELAY = re.compile(r"commit delay is not set", re.I)


def delay_minutes(seconds: int) -> int:
    """Comware's commit delay is in minutes (1-65535): seconds rounded up."""
    return max(1, math.ceil(seconds / 60))


class H3cComwareDriver(VendorCliDriver):
    name = "h3c-comware"
    platform = "h3c-comware"
    netmiko_type = "hp_comware"
    ntc_platform = "hp_comware"
    confirm_mechanism = ("configuration commit delay <ceil(s/60)> min (the device reverts by itself unless "
                         "`configuration commit` follows); restore: configuration replace file <archive>")
    bgp_command = "display bgp peer ipv4"

    def short_name(self, name: str) -> str:
        """``display interface brief`` abbreviates: Ten-GigabitEthernet1/0/27 → XGE1/0/27."""
        for long, short in (("Ten-GigabitEthernet", "XGE"), ("GigabitEthernet", "GE"), ("FortyGigE", "FGE"),
                            ("HundredGigE", "HGE"), ("Bridge-Aggregation", "BAGG"), ("M-GigabitEthernet", "MGE"),
                            ("LoopBack", "Loop"), ("Vlan-interface", "Vlan")):
            if name.startswith(long):
                return short + name[len(long):]
        return name

    def parse_ospf(self, text: str) -> dict[str, str]:
        return parse_comware_ospf_peer_brief(text)

    def _begin(self, s: CliSession) -> None:
        checked(s, "system-view")
        try:
            checked(s, f"archive configuration location {ARCHIVE_DIR} filename-prefix {ARCHIVE_PREFIX}")
        finally:
            leave(s)
        checked(s, "archive configuration", expect=r"\[Y/N\]:?\s*$")
        found = _ARCHIVE_FILE.search(checked(s, "Y"))
        if found:
            s.commit_state["point"] = found.group(1)

    def _arm(self, s: CliSession, confirm_timeout: int) -> None:
        if confirm_timeout > 0:
            checked(s, f"configuration commit delay {delay_minutes(confirm_timeout)}")
            arm(s, 60 * delay_minutes(confirm_timeout))

    def _commit(self, s: CliSession, confirm_timeout: int) -> None:
        return None  # Comware ran every command as it was typed

    def confirm(self, conn: object) -> None:
        s = session(conn)
        if not may_confirm(s):
            return
        checked(s, "system-view")
        try:
            reply = checked(s, "configuration commit")
            s.commit_state["pending"] = False
            if _NO_DELAY.search(reply):  # the delay ran out before we came: the device went back already
                raise too_late(s)
        finally:
            leave(s)

    def _cancel(self, s: CliSession) -> None:
        if s.commit_state.get("pending") and self._to_point(s):
            return

    def _to_point(self, s: CliSession) -> bool:
        point = s.commit_state.get("point")
        if not point:
            return False
        checked(s, "system-view")
        try:
            checked(s, f"configuration replace file {point}", expect=r"\[Y/N\]:?\s*$")
            checked(s, "Y")
            if s.commit_state.get("pending"):
                checked(s, "configuration commit")  # the replaced configuration is the one before the delay
                s.commit_state["pending"] = False
        finally:
            leave(s)
        return True
