"""A run record is checked before a rollback trusts it (fault drill 4, docs/reliability.md section 7).

``campusnet rollback --run R`` restores what run R's record points at. A record cut short (a full disk, a
killed process, a hand edit) must stop the rollback before anything is pushed, with a coded error naming
the file — never a traceback, and never a restore of half a backup:

* ``summary.json`` may be missing (the run died before writing it), but when present it must be a JSON
  object whose device statuses agree with ``devices/<device>.json`` (E492, E493);
* a backup whose sidecar (``<stamp>.json``: sha256 and size, written with it) no longer matches its text
  is refused (E494, E495). A backup with no sidecar (made by hand) is taken as it is.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from campusnet.errors import CampusnetError


def check_summary(run_path: Path, devices: dict[str, dict[str, Any]]) -> None:
    """``summary.json`` readable and in agreement with the per-device records (absent: nothing to check)."""
    path = run_path / "summary.json"
    if not path.exists():
        return
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CampusnetError("E492", f"unreadable run record summary.json ({exc}): nothing was restored",
                             obj=f"run {run_path.name}", field="summary.json") from None
    recorded = data.get("devices") if isinstance(data, dict) else None
    if not isinstance(recorded, dict):
        raise CampusnetError("E492", "summary.json has no devices object: nothing was restored",
                             obj=f"run {run_path.name}", field="summary.json")
    for name, rec in sorted(devices.items()):
        summ = recorded.get(name)
        if isinstance(summ, dict) and summ.get("status") != rec.get("status"):
            raise CampusnetError("E493", f"summary.json says {summ.get('status')!r} but devices/{name}.json says "
                                 f"{rec.get('status')!r}: nothing was restored", obj=f"run {run_path.name}",
                                 field="summary.json")


def check_backup(device: str, backup: Path) -> None:
    """The backup's text is what was saved (its sidecar's sha256), when it has a sidecar."""
    sidecar = backup.with_suffix(".json")
    if not sidecar.exists():
        return
    try:
        meta = json.loads(sidecar.read_text())
        want = str(meta["sha256"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CampusnetError("E494", f"unreadable backup sidecar {sidecar} ({exc}): nothing was restored",
                             obj=device, field="backup") from None
    got = hashlib.sha256(backup.read_bytes()).hexdigest()
    if got != want:
        raise CampusnetError("E495", f"the run's backup {backup} is not what was saved (sha256 {got[:12]}…, "
                             f"saved {want[:12]}…): nothing was restored", obj=device, field="backup")
