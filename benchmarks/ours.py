"""Our path, alone in its interpreter: bulk read → Snapshot → build_intents. Prints ``BENCH <json>``.

Run by :func:`benchmarks.p1.ours` with the scale NetBox's environment; ``--save`` keeps the snapshot
(used by P2 so that rendering is measured on exactly these intents).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from campusnet.intent import build_intents_collect
from campusnet.scale.loader import scale_env
from campusnet.settings import netbox_target
from campusnet.sot.reader import read_snapshot


def main() -> None:
    save = Path(sys.argv[sys.argv.index("--save") + 1]) if "--save" in sys.argv else None
    with scale_env():
        target = netbox_target()
        t0 = time.perf_counter()
        snap = read_snapshot(target)
        t1 = time.perf_counter()
        intents, errors = build_intents_collect(snap)
        t2 = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if save is not None:
        snap.save(save)
    print("BENCH " + json.dumps({
        "read_s": round(t1 - t0, 3), "build_s": round(t2 - t1, 3), "total_s": round(t2 - t0, 3),
        "requests": snap.source.requests, "devices": len(snap.devices), "interfaces": len(snap.interfaces),
        "intents": len(intents), "intent_errors": len(errors),
        "first_errors": [str(e) for e in list(errors)[:3]], "peak_rss_mib": round(peak_kib / 1024, 1)}))


if __name__ == "__main__":
    main()
