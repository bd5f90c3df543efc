"""Files that may hold secrets, written private whatever the process umask is.

Rendered configurations, diffs and backups carry secrets (SNMP communities, TACACS keys, VPN material by
path). Python's defaults (0777 directories, 0666 files, masked by the umask) would leave them readable —
or writable — by everyone under a permissive umask (tools launched by Ansible, CI runners and some
libraries run with umask 000). Every writer of such files goes through these two functions: directories
0700, files 0600 (0700 for scripts), set explicitly, existing ones corrected.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``mkdir -p`` with every directory it creates, and ``path`` itself, at 0700."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir(mode=DIR_MODE)
        os.chmod(d, DIR_MODE)
    if path.stat().st_mode & 0o7777 != DIR_MODE:
        os.chmod(path, DIR_MODE)
    return path


def write_private(path: Path, data: str | bytes, *, mode: int = FILE_MODE, exclusive: bool = False) -> Path:
    """Write ``data`` to ``path`` with ``mode`` (0600), also when the file existed with another mode.
    ``exclusive``: fail if it exists (backups are never overwritten).

    Atomic: the data goes to a temporary file beside ``path`` first, then takes its name (``os.replace``, or
    ``os.link`` when exclusive), so a crash or a kill never leaves a half-written configuration or record."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            if exclusive:  # a backup: it must survive a power cut, not only a crash
                fh.flush()
                os.fsync(fh.fileno())
        if exclusive:
            os.link(tmp, path)  # FileExistsError when the name is taken: never overwrite
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
