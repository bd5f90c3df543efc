"""Where campusnet keeps things, and which NetBox it talks to.

Resolution order for the NetBox it uses:
1. ``NETBOX_URL`` and ``NETBOX_TOKEN`` in the environment (a user's own NetBox);
2. the local NetBox that ``campusnet netbox up`` runs (state directory).

Nothing here prints a secret: :class:`NetBoxTarget` hides its token in ``repr``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from campusnet.errors import CampusnetError

REPO_ROOT = Path(__file__).resolve().parent.parent


def state_dir() -> Path:
    """Per-checkout state (git-ignored): NetBox, its database, tokens, lab, backups."""
    return Path(os.environ.get("CAMPUSNET_STATE", REPO_ROOT / ".campusnet")).resolve()


def cache_dir() -> Path:
    """Per-machine cache shared by every checkout: wheels and the migrated-schema dump."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "campusnet"
    return Path(os.environ.get("CAMPUSNET_CACHE", default)).resolve()


def inventory_dir() -> Path:
    return Path(os.environ.get("CAMPUSNET_INVENTORY", REPO_ROOT / "inventory")).resolve()


def templates_dir() -> Path:
    return REPO_ROOT / "templates"


@dataclass(frozen=True)
class NetBoxTarget:
    url: str
    token: str = field(repr=False)
    source: str  # "environment" or "local"
    branch: str | None = None  # branching schema id, sent as X-NetBox-Branch

    def headers(self) -> dict[str, str]:
        prefix = "Bearer" if self.token.startswith("nbt_") else "Token"
        h = {
            "Authorization": f"{prefix} {self.token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        if self.branch:
            h["X-NetBox-Branch"] = self.branch
        return h

    def with_branch(self, schema_id: str | None) -> NetBoxTarget:
        return NetBoxTarget(self.url, self.token, self.source, schema_id)


def local_state_file() -> Path:
    return state_dir() / "netbox" / "state.json"


def netbox_target(role: str = "automation") -> NetBoxTarget:
    """The NetBox to use. ``role`` picks the local token: ``automation`` or ``auditor``."""
    url = os.environ.get("NETBOX_URL")
    token = os.environ.get("NETBOX_TOKEN")
    if role == "auditor" and os.environ.get("NETBOX_AUDITOR_TOKEN"):
        token = os.environ["NETBOX_AUDITOR_TOKEN"]
    if url and token:
        return NetBoxTarget(url.rstrip("/"), token.strip(), "environment")
    if url or token:
        raise CampusnetError(
            "E101", "NETBOX_URL and NETBOX_TOKEN must be set together (only one of them is set)"
        )
    sf = local_state_file()
    if not sf.exists():
        raise CampusnetError(
            "E102",
            "no NetBox configured: set NETBOX_URL and NETBOX_TOKEN, or run `campusnet netbox up`",
        )
    state = json.loads(sf.read_text())
    token_file = Path(state["token_files"][role])
    if not token_file.exists():
        raise CampusnetError("E103", f"local NetBox token file {token_file} is missing: run `campusnet netbox up`")
    return NetBoxTarget(state["url"], token_file.read_text().strip(), "local")
