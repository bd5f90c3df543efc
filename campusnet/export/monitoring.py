"""Monitoring targets for the operations platform: Prometheus file-based service discovery from NetBox.

One target per device with a management address (``oob_ip``, the ``mgmt`` VRF), labelled with site, role,
tenant, device and platform::

    [{"targets": ["10.254.0.11"], "labels": {"site": "yuntang", "role": "core", "tenant": "it-noc",
                                             "device": "yt-core-1", "platform": "huawei-vrp"}}]

Prometheus reloads the file on change (``file_sd_configs``); :func:`write_atomic` replaces it in one rename
so that Prometheus never reads half a file.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import os
import tempfile
from pathlib import Path
from typing import Literal

from campusnet.errors import DataError
from campusnet.sot.models import Snapshot

LABELS = ("site", "role", "tenant", "device", "platform")
Format = Literal["json", "csv"]


def targets(snap: Snapshot, port: int | None = None) -> list[dict[str, object]]:
    """Prometheus file_sd entries, one per device with an ``oob_ip``, sorted by device name."""
    out: list[dict[str, object]] = []
    for d in sorted(snap.devices, key=lambda d: d.name):
        if not d.oob_ip:
            continue
        try:
            ip = ipaddress.ip_interface(d.oob_ip).ip
        except ValueError:
            raise DataError(f"not an IP address: {d.oob_ip!r}", obj=f"device {d.name}", field="oob_ip") from None
        host = f"[{ip}]" if ip.version == 6 and port else str(ip)
        labels = {"site": d.site, "role": d.role, "tenant": d.tenant or "", "device": d.name,
                  "platform": d.platform or ""}
        out.append({"targets": [f"{host}:{port}" if port else host], "labels": labels})
    return out


def render(entries: list[dict[str, object]], fmt: Format = "json") -> str:
    if fmt == "json":
        return json.dumps(entries, indent=2, ensure_ascii=False) + "\n"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["target", *LABELS])
    for e in entries:
        labels = e["labels"]
        assert isinstance(labels, dict)
        for t in e["targets"]:  # type: ignore[attr-defined]
            w.writerow([t, *(labels[k] for k in LABELS)])
    return buf.getvalue()


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
