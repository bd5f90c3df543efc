"""Deploy drivers: the contract (:mod:`.base`) and the platforms that implement it.

:func:`driver_for` picks one by platform key. The engine imports drivers; drivers never import the engine.
"""

from __future__ import annotations

from campusnet.deploy.drivers.base import DeployTarget, DeviceConnection, Driver, ExpectedState, Session
from campusnet.errors import CampusnetError


def drivers() -> dict[str, Driver]:
    """Every driver, by platform key (the conformance suite runs over these)."""
    from campusnet.deploy.drivers.h3c_comware import H3cComwareDriver
    from campusnet.deploy.drivers.huawei_vrp import HuaweiVrpDriver
    from campusnet.deploy.drivers.linux_frr import LinuxFrrDriver

    return {"linux-frr": LinuxFrrDriver(), "huawei-vrp": HuaweiVrpDriver(), "h3c-comware": H3cComwareDriver()}


def driver_for(key: str) -> Driver:
    """The driver for a platform key (NetBox platform slug; the lab emulation is ``linux-frr``)."""
    try:
        return drivers()[key]
    except KeyError:
        raise CampusnetError(
            "E420",
            f"no deploy driver for platform {key!r}: production pushes to {key} devices are not available "
            "here (`campusnet render` prints their configuration, and `campusnet check-change` the hier_config "
            "remediation of a change to them); the lab emulates them on linux-frr",
        ) from None


__all__ = ["DeployTarget", "DeviceConnection", "Driver", "ExpectedState", "Session", "driver_for", "drivers"]
