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


def _load_generator():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location("error_codes", ROOT / "scripts" / "error_codes.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_catalogue_lists_defaults_the_catch_all_and_codes_held_in_variables(tmp_path: Path) -> None:
    gen = _load_generator()
    found = gen.collect()
    assert "E201" in found and "DataError" in found["E201"][0][1]  # DataError's default code
    assert "E401" in found  # lab.run's default code
    assert "E999" in found and "unexpected error" in found["E999"][0][1]  # the CLI's catch-all
    assert "E206" in found and "matches no device" in found["E206"][0][1]  # DataError(message, code=...)
    # a code only ever assigned to a variable, and a code as the default of a keyword-only parameter
    pkg = tmp_path / "campusnet"
    pkg.mkdir()
    (pkg / "m.py").write_text(
        "from campusnet.errors import CampusnetError\n"
        "def f(x, *, code='E777'):\n    raise CampusnetError(code, 'x')\n"
        "def g(bad):\n    code = 'E778' if bad else 'E779'\n    raise CampusnetError(code, 'msg')\n"
        "class E(Exception):\n    def __init__(self, m, code='E780'):\n        pass\n")
    synthetic = gen.collect(tmp_path)
    assert {"E777", "E778", "E779", "E780"} <= set(synthetic)
    assert "E(" not in synthetic["E780"][0][1] and "default code of E" in synthetic["E780"][0][1]
