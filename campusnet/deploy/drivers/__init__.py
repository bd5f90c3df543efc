"""Driver contract for the configuration lifecycle (napalm's idea, reduced to what deploy needs).

``running`` → ``diff`` (running vs. intended; "" when in sync) → ``apply`` → ``post_checks`` →
``restore`` (to a backup). ``normalise`` strips what changes without a config change (timestamps,
banners) so that "restore took" can be proven by comparing text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from campusnet.errors import CampusnetError

if TYPE_CHECKING:
    from campusnet.deploy.engine import DeployTarget
    from campusnet.deploy.transport import Connection


class Driver(Protocol):
    name: str

    def running(self, conn: Connection) -> str: ...

    def diff(self, conn: Connection, files: dict[str, str], running: str, target: DeployTarget | None = None
             ) -> str: ...

    def apply(self, conn: Connection, files: dict[str, str], target: DeployTarget | None = None) -> None: ...

    def post_checks(self, conn: Connection, target: DeployTarget) -> list[str]: ...

    def restore(self, conn: Connection, backup: str) -> None: ...

    def normalise(self, text: str) -> str: ...


def driver_for(key: str) -> Driver:
    """The driver for a platform key (NetBox platform slug; the lab emulation is ``linux-frr``)."""
    from campusnet.deploy.drivers.linux_frr import LinuxFrrDriver

    drivers: dict[str, Driver] = {"linux-frr": LinuxFrrDriver()}
    try:
        return drivers[key]
    except KeyError:
        raise CampusnetError(
            "E420",
            f"no deploy driver for platform {key!r}: production pushes to {key} devices are not available "
            "here (`campusnet render` works offline, and their remediation is computed with hier_config); the lab "
            "emulates them on linux-frr",
        ) from None
