"""The one way the lab runs a command: argv in, stdout out, a CampusnetError (command + stderr) on failure."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from campusnet.errors import CampusnetError


def run(argv: Sequence[str], *, obj: str | None = None, code: str = "E401", check: bool = True,
        input: str | None = None, env: Mapping[str, str] | None = None, timeout: float = 60.0,
        logfile: Path | None = None) -> str:
    """Run ``argv``; return stdout. With ``check`` a non-zero exit raises ``code`` naming ``obj``.

    With ``logfile`` the output is appended to that file instead of captured (for commands that leave
    daemons behind: a daemon that inherits a pipe would keep us waiting) and "" is returned.
    """
    if logfile is not None:
        return _run_logged(argv, obj=obj, code=code, check=check, env=env, timeout=timeout, logfile=logfile)
    full_env = None
    if env is not None:
        full_env = dict(os.environ)
        full_env.update(env)
    try:
        proc = subprocess.run(list(argv), input=input, capture_output=True, text=True, env=full_env,
                              timeout=timeout, check=False)
    except FileNotFoundError:
        raise CampusnetError("E406", f"command not found: {argv[0]}", obj=obj) from None
    except subprocess.TimeoutExpired:
        raise CampusnetError(code, f"timed out after {timeout:.0f}s: {shlex.join(argv)}", obj=obj) from None
    if check and proc.returncode != 0:
        err = (proc.stderr or proc.stdout).strip().splitlines()
        tail = " | ".join(err[-3:]) if err else f"exit {proc.returncode}"
        raise CampusnetError(code, f"`{shlex.join(argv)}` failed: {tail}", obj=obj)
    return proc.stdout


def _run_logged(argv: Sequence[str], *, obj: str | None, code: str, check: bool, env: Mapping[str, str] | None,
                timeout: float, logfile: Path) -> str:
    full_env = {**os.environ, **env} if env is not None else None
    logfile.parent.mkdir(parents=True, exist_ok=True)
    with open(logfile, "ab") as log:
        log.write(f"$ {shlex.join(argv)}\n".encode())
        log.flush()
        try:
            rc = subprocess.run(list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=full_env,
                                timeout=timeout, check=False).returncode
        except FileNotFoundError:
            raise CampusnetError("E406", f"command not found: {argv[0]}", obj=obj) from None
        except subprocess.TimeoutExpired:
            raise CampusnetError(code, f"timed out after {timeout:.0f}s: {shlex.join(argv)}", obj=obj) from None
    if check and rc != 0:
        tail = logfile.read_text(errors="replace").strip().splitlines()[-3:]
        raise CampusnetError(code, f"`{shlex.join(argv)}` failed (exit {rc}): {' | '.join(tail)} (log: {logfile})",
                             obj=obj)
    return ""


def ok(argv: Sequence[str], *, timeout: float = 30.0) -> bool:
    """True when ``argv`` exits 0 (for probes)."""
    try:
        return subprocess.run(list(argv), capture_output=True, timeout=timeout, check=False).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
