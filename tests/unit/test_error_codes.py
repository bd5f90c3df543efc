"""docs/errors.md lists every error code the code raises (regenerate: python scripts/error_codes.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_error_catalogue_is_current() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "error_codes.py"), "--check"], capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0, r.stderr
