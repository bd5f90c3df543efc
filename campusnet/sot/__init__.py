"""The Snapshot: NetBox read once, typed (``models``), by bulk reads (``reader``).

Every verb that reads NetBox goes through :func:`load_or_read`, so each accepts ``--snapshot FILE``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from campusnet.sot.models import SCHEMA_VERSION, Snapshot

if TYPE_CHECKING:
    from campusnet.settings import NetBoxTarget
    from campusnet.sot.limit import Limit

__all__ = ["SCHEMA_VERSION", "Snapshot", "load_or_read"]


def load_or_read(snapshot_path: Path | str | None, target: NetBoxTarget | None = None,
                 limit: Limit | str | None = None) -> Snapshot:
    """The snapshot from ``snapshot_path`` when given, else a fresh read of ``target`` (default: the
    configured NetBox). ``limit`` (a :class:`~campusnet.sot.limit.Limit` or its text form) cuts the
    device set in both cases."""
    from campusnet.sot.limit import Limit as _Limit
    from campusnet.sot.limit import apply_limit

    lim = _Limit.parse(limit) if isinstance(limit, str) else limit
    if snapshot_path is not None:
        snap = Snapshot.load(snapshot_path)
        return apply_limit(snap, lim) if lim else snap
    from campusnet import settings
    from campusnet.sot.reader import read_snapshot

    return read_snapshot(target or settings.netbox_target(), limit=lim)
