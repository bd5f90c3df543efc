"""Backups and run records on disk (see docs/design.md, "Files the stages leave behind").

Backups are never overwritten: one file per device per UTC timestamp, with a JSON sidecar.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from campusnet import settings
from campusnet.private import private_dir, write_private
from campusnet.safety import path_component


def utc_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def backups_dir() -> Path:
    return settings.state_dir() / "backups"


def runs_dir() -> Path:
    return settings.state_dir() / "runs"


def save_backup(device: str, text: str, *, platform: str, run_id: str | None) -> Path:
    d = private_dir(backups_dir() / path_component(device))
    stamp = utc_stamp()
    path = d / f"{stamp}.cfg"
    n = 1
    while path.exists():  # never overwrite
        path = d / f"{stamp}-{n}.cfg"
        n += 1
    write_private(path, text, exclusive=True)
    meta = {"device": device, "platform": platform, "run_id": run_id, "taken": stamp,
            "sha256": hashlib.sha256(text.encode()).hexdigest(), "bytes": len(text.encode())}
    write_private(path.with_suffix(".json"), json.dumps(meta, indent=2) + "\n")
    return path


def new_run_id() -> str:
    """A run id before its run exists (the device locks name their holder by it)."""
    return f"{utc_stamp()[:15]}Z-{secrets.token_hex(3)}"


def latest_backup(device: str) -> Path | None:
    d = backups_dir() / path_component(device)
    files = sorted(d.glob("*.cfg")) if d.exists() else []
    return files[-1] if files else None


@dataclass
class Run:
    """One deploy run: its directory holds the summary, diffs, rendered files and verification results."""

    run_id: str
    path: Path
    started: str
    commit: bool
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def new(cls, *, commit: bool, run_id: str | None = None) -> Run:
        run_id = run_id or new_run_id()
        path = runs_dir() / run_id
        private_dir(path / "diffs")
        private_dir(path / "rendered")
        run = cls(run_id, path, datetime.now(UTC).isoformat(), commit)
        run.save_meta()
        return run

    @classmethod
    def open(cls, path: Path) -> Run:
        """Re-open a run another process created (the Ansible path: one process per host)."""
        meta = json.loads((path / "run.json").read_text())
        return cls(meta["run_id"], path, meta["started"], bool(meta["commit"]), extra=meta.get("extra", {}))

    def save_meta(self) -> None:
        meta = {"run_id": self.run_id, "started": self.started, "commit": self.commit, "extra": self.extra}
        write_private(self.path / "run.json", json.dumps(meta, indent=2, default=str) + "\n")

    def record_device(self, device: str, data: dict[str, Any]) -> None:
        """One device's result, in a file of its own (safe when hosts run in separate processes)."""
        self.devices[device] = data
        d = private_dir(self.path / "devices")
        write_private(d / f"{path_component(device)}.json", json.dumps(data, indent=2, default=str) + "\n")

    def recorded(self) -> dict[str, dict[str, Any]]:
        """Every device result recorded so far, by any process (the Ansible path runs one per host)."""
        d = self.path / "devices"
        out: dict[str, dict[str, Any]] = {}
        for f in sorted(d.glob("*.json")) if d.exists() else []:
            try:
                out[f.stem] = json.loads(f.read_text())
            except (OSError, ValueError):
                continue  # being written right now: not settled yet
        return out

    def write_diff(self, device: str, diff: str) -> None:
        write_private(private_dir(self.path / "diffs") / f"{path_component(device)}.diff", diff)

    def write_rendered(self, device: str, files: dict[str, str]) -> None:
        d = private_dir(self.path / "rendered" / path_component(device))
        for name, text in files.items():
            write_private(private_dir((d / name).parent) / Path(name).name, text)

    def write_summary(self) -> Path:
        d = self.path / "devices"
        if d.exists():
            for f in sorted(d.glob("*.json")):
                self.devices.setdefault(f.stem, json.loads(f.read_text()))
        data = {"run_id": self.run_id, "started": self.started, "finished": datetime.now(UTC).isoformat(),
                "commit": self.commit, "devices": self.devices, **self.extra}
        return write_private(self.path / "summary.json", json.dumps(data, indent=2, default=str) + "\n")
