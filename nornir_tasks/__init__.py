"""Nornir tasks: thin plain functions ``f(task, **kw)`` that call the campusnet library, one module per
lifecycle stage (``render``; ``deploy`` comes next). :func:`init_nornir` builds Nornir from the project's
configuration (``inventory/nornir.yml``: the ``campusnet.NetBoxSnapshotInventory`` plugin, threaded runner).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from nornir import InitNornir
from nornir.core import Nornir

from campusnet import settings
from campusnet.errors import CampusnetError
from campusnet.sot import Snapshot


def config_file() -> Path:
    """The project's Nornir configuration."""
    return settings.inventory_dir() / "nornir.yml"


def init_nornir(*, snapshot: Path | str | Snapshot | None = None, limit: str | None = None,
                branch: str | None = None, num_workers: int | None = None, dry_run: bool = False,
                config: Path | str | None = None) -> Nornir:
    """Nornir over the campus: the configured inventory, with ``snapshot`` (a file, or a Snapshot already
    read), ``limit`` and ``branch`` overriding the file's inventory options."""
    path = Path(config) if config else config_file()
    try:
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise CampusnetError("E312", f"cannot read the Nornir configuration ({exc})", obj=str(path)) from None
    inventory = dict(data.get("inventory") or {})
    options = dict(inventory.get("options") or {})
    for key, value in (("snapshot", snapshot), ("limit", limit), ("branch", branch)):
        if value is not None:
            options[key] = value if isinstance(value, Snapshot) else str(value)
    inventory["options"] = options
    runner = dict(data.get("runner") or {})
    if num_workers is not None:
        runner["options"] = {**(runner.get("options") or {}), "num_workers": num_workers}
    log = data.get("logging") or {"enabled": False}
    if not log.get("enabled", True):
        # failures are reported through the results (named host, CampusnetError), not as tracebacks that
        # Python's last-resort handler would print for nornir's unconfigured logger
        logging.getLogger("nornir").addHandler(logging.NullHandler())
    return InitNornir(dry_run=dry_run, inventory=inventory, runner=runner, logging=log,
                      core=data.get("core") or {}, ssh=data.get("ssh") or {},
                      user_defined=data.get("user_defined") or {})


__all__ = ["config_file", "init_nornir"]
