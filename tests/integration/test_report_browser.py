"""Open every main page of the report (generated from the real NetBox) in headless Chromium.

Chromium's own CLI does the work (no browser driver): ``--dump-dom`` gives the DOM after rendering (checked
for the page's headings and for links that do not resolve inside the site) and ``--screenshot`` saves
one PNG per page under out/test-artifacts/report/ (kept as CI artefacts; ``out/`` is git-ignored).
Chromium runs with a fresh profile and every background-networking feature off, so it reaches nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from campusnet.report import generate
from campusnet.report.linkcheck import broken_refs, parse_page
from campusnet.report.site import PAGES
from campusnet.settings import REPO_ROOT, NetBoxTarget

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = REPO_ROOT / "out" / "test-artifacts" / "report"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--window-size=1400,1000"]

# the headings each main page must show once rendered
EXPECTED = {
    "index.html": ["Campus network audit report", "At a glance", "Pages", "Source"],
    "inventory.html": ["Inventory", "Site Jinpenling", "Site Yuntang", "Circuits"],
    "racks.html": ["Racks and elevations"],
    "power.html": ["Power budget", "Per rack", "Per feed"],
    "ipam.html": ["IPAM utilisation", "Prefixes"],
    "vlans.html": ["VLAN plan"],
    "cabling.html": ["Cabling"],
    "ownership.html": ["Ownership", "Without a tenant or an owner", "Owners and what they own"],
    "changes.html": ["Change history"],
    "compliance.html": ["Compliance", "Devices", "Data validation", "Config contexts"],
    "verify.html": ["Verification"],
    "runs.html": ["Deploy runs"],
}


@pytest.fixture(scope="module")
def site(netbox: NetBoxTarget, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed")
        pytest.skip("chromium is not installed")
    out = tmp_path_factory.mktemp("browser") / "site"
    generate(out)
    return out


def _chromium(args: list[str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="cn-chromium-") as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=timeout, check=False)


def _open(page: Path) -> tuple[str, str, Path]:
    url = page.resolve().as_uri()
    dom = _chromium(["--dump-dom", url])
    shot = ARTIFACTS / f"{page.stem}.png"
    _chromium([f"--screenshot={shot}", url])
    return dom.stdout, dom.stderr[-2000:], shot


def test_every_main_page_renders_in_chromium(site: Path) -> None:
    assert set(EXPECTED) == {rel for rel, _l, _w in PAGES}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = [site / rel for rel in EXPECTED]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(pages, pool.map(_open, pages), strict=True))
    refs: dict[Path, list[str]] = {}
    for page, (dom, err, shot) in results.items():
        assert "<h1>" in dom, f"{page.name}: no DOM from chromium: {err}"
        parsed = parse_page(dom)
        for heading in EXPECTED[page.name]:
            assert any(h.startswith(heading) for h in parsed.headings), (page.name, heading, parsed.headings)
        assert shot.is_file() and shot.stat().st_size > 5000, f"{page.name}: no screenshot"
        refs[page.resolve()] = parsed.refs
    # links as the browser's DOM holds them, every one resolved relative to the site
    assert broken_refs(site, refs) == []
