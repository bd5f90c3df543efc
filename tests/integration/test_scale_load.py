"""The ORM loader against the real scale NetBox: a small generated campus, checked through REST.

Loads 100 devices into ``<repo>/.campusnet/scale`` (resetting it: the benchmarks reload their campus
afterwards, they notice through the marker). Stops the scale NetBox again if this test started it.
"""

from __future__ import annotations

import os

import pytest

from campusnet.scale import loader
from campusnet.scale.verify import verify
from campusnet.settings import netbox_target

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_small_campus_loads_with_paths_counters_and_search() -> None:
    from campusnet.localnb import LocalNetBox

    with loader.scale_env():
        was_running = bool(LocalNetBox.load().server.web_pid())
    try:
        loader.up(log=print)
        res = loader.load(100, seed=2, log=print)
        assert set(res.netbox["phases"]) == set(loader.ALL_PHASES)
        marker = loader.loaded()
        assert marker is not None and marker["devices"] == 100
        with loader.scale_env():
            checks = verify(netbox_target(), marker["expected"], "ytg-b01-as1")
        failed = [c for c in checks if not c[1]]
        assert not failed, failed
        assert any(name == "cable path" for name, _, _ in checks)
        assert res.netbox["counts"]["dcim.CableTermination"] == 2 * res.netbox["counts"]["dcim.Cable"]
    finally:
        if not was_running and os.environ.get("CAMPUSNET_KEEP_NETBOX") != "1":
            loader.down()
