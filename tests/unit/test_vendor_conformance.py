"""The driver conformance suite (tests/integration/test_driver_conformance.py) for the Huawei VRP and H3C
Comware drivers, against the session replayer: the same steps as linux-frr on the lab — running → diff
(the change shows) → apply → empty diff → post-checks → restore equals the backup → post-checks of the
original intent. The recorded device starts in sync with its intent (``backup_in_sync``)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from campusnet.deploy.drivers import DeployTarget, driver_for
from campusnet.deploy.replay import ReplayDevice, ReplaySession, Transcript
from campusnet.pipeline import Pipeline
from tests.integration.test_driver_conformance import EXTRA_ADDR, Case, _lifecycle, _same

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "tests" / "fixtures" / "vendor"
SNAPSHOT = ROOT / "tests" / "fixtures" / "snapshots" / "campus.json"
DEVICES = {"huawei-vrp": "jpl-core-1", "h3c-comware": "jpl-b01-as1"}
# the conformance change in each platform's syntax: a prefix list named CN-CONFORMANCE and an address
_LOOPBACK = (f"interface LoopBack1\n description conformance {EXTRA_ADDR}\n"
             f" ip address {EXTRA_ADDR.split('/')[0]} 255.255.255.255\n#\n")
CHANGE = {
    "huawei-vrp": "ip ip-prefix CN-CONFORMANCE index 5 permit 192.0.2.0 24\n#\n" + _LOOPBACK,
    "h3c-comware": "ip prefix-list CN-CONFORMANCE index 5 permit 192.0.2.0 24\n#\n" + _LOOPBACK,
}


def vendor_case(key: str) -> Case:
    """A conformance case for a vendor driver: its recorded device, in sync with the original intent."""
    from campusnet.deploy.production import production_targets

    pipe = Pipeline.load(snapshot=SNAPSHOT)
    t: DeployTarget = production_targets(pipe.intents, [DEVICES[key]], lambda name: "campusnet-fixture")[DEVICES[key]]
    [(name, text)] = t.files.items()
    changed = t.model_copy(update={"files": {name: text.replace("#\nreturn", "#\n" + CHANGE[key] + "return")}})
    now = [0.0]  # the recorded device's clock: the revert step moves it instead of waiting
    dev = ReplayDevice(Transcript.load(VENDOR / key), running=text, clock=lambda: now[0])

    def run_out_timer(seconds: int) -> None:
        # Comware's commit delay counts whole minutes: run out the rounded-up timer, not the seconds asked
        now[0] += 60 * -(-seconds // 60) + 1

    def connect() -> contextlib.AbstractContextManager[Any]:
        return contextlib.closing(_opened(dev.session()))

    return Case(key, t, changed, connect, backup_in_sync=True, run_out_timer=run_out_timer)


def _opened(s: ReplaySession) -> ReplaySession:
    s.open()
    return s


@pytest.mark.parametrize("key", sorted(DEVICES))
def test_driver_conformance_vendor(key: str) -> None:
    case = vendor_case(key)
    drv = driver_for(key)
    with case.connect() as conn:
        backup = drv.running(conn)
        try:
            _lifecycle(drv, conn, case, backup)
        finally:
            drv.restore(conn, backup)
        assert not _same(drv, drv.running(conn), backup)
        assert not drv.diff(conn, case.original.files, backup, case.original).strip()
        assert drv.post_checks(conn, case.original) == []
