"""NetBox branches (netboxlabs-netbox-branching): a proposed change to the source of truth.

Create → (work in it with ``X-NetBox-Branch: <schema_id>``) → list its changes → merge / revert / delete.
Provisioning, merging and reverting are background jobs that the RQ worker runs: we poll them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from campusnet.errors import CampusnetError
from campusnet.settings import NetBoxTarget
from campusnet.sot.reader import Fetcher

API = "/api/plugins/branching"


@dataclass(frozen=True)
class Branch:
    id: int
    name: str
    schema_id: str
    status: str

    @classmethod
    def from_api(cls, d: dict[str, Any]) -> Branch:
        return cls(d["id"], d["name"], d["schema_id"], d["status"]["value"])


#: tests inject an httpx.MockTransport here
TRANSPORT: httpx.BaseTransport | None = None


@contextmanager
def _client(target: NetBoxTarget, what: str) -> Iterator[Fetcher]:
    """The reader's client for branch management (always main; its retry policy). A NetBox that does not
    answer (refused, reset, timed out) is a coded error naming the operation (E118), never a traceback."""
    main = target.with_branch(None)  # branch management always talks to main
    try:
        with Fetcher(main, timeout=60, transport=TRANSPORT) as c:
            yield c
    except CampusnetError as exc:
        if exc.code != "E110":
            raise
        raise CampusnetError("E118", f"NetBox at {main.url} did not answer ({exc.message}): "
                             "is it running?", obj=what) from None


def _check(r: httpx.Response, what: str) -> Any:
    if r.status_code >= 400:
        raise CampusnetError("E140", f"{what}: NetBox answered {r.status_code}: {r.text[:800]}")
    return r.json() if r.content else None


def get_branch(target: NetBoxTarget, name: str) -> Branch | None:
    with _client(target, f"branch '{name}'") as c:
        data = _check(c.request("GET", f"{API}/branches/", params={"name": name}), f"branch '{name}'")
    results = data["results"]
    return Branch.from_api(results[0]) if results else None


def list_branches(target: NetBoxTarget) -> list[Branch]:
    with _client(target, "list branches") as c:
        data = _check(c.request("GET", f"{API}/branches/", params={"limit": 0}), "list branches")
    return [Branch.from_api(d) for d in data["results"]]


def wait_ready(target: NetBoxTarget, branch: Branch, timeout: float = 120) -> Branch:
    deadline = time.monotonic() + timeout
    with _client(target, f"branch '{branch.name}'") as c:
        while True:
            b = Branch.from_api(_check(c.request("GET", f"{API}/branches/{branch.id}/"), f"branch '{branch.name}'"))
            if b.status == "ready":
                return b
            if b.status == "failed":
                raise CampusnetError("E141", f"branch '{b.name}' failed to provision (see NetBox's job log)")
            if time.monotonic() > deadline:
                raise CampusnetError(
                    "E142", f"branch '{b.name}' is still '{b.status}' after {timeout:.0f} s: is the RQ worker running?"
                )
            time.sleep(0.5)


def create_branch(target: NetBoxTarget, name: str, description: str = "", *, replace: bool = False) -> Branch:
    """Create a branch and wait until it is ready. ``replace`` deletes an unmerged branch of that name first."""
    existing = get_branch(target, name)
    if existing and replace and existing.status != "merged":
        delete_branch(target, existing)
        existing = None
    if existing:
        return wait_ready(target, existing)
    with _client(target, f"create branch '{name}'") as c:
        body = {"name": name, "description": description}
        b = Branch.from_api(_check(c.request("POST", f"{API}/branches/", json=body), f"create branch '{name}'"))
    return wait_ready(target, b)


def delete_branch(target: NetBoxTarget, branch: Branch) -> None:
    with _client(target, f"delete branch '{branch.name}'") as c:
        r = c.request("DELETE", f"{API}/branches/{branch.id}/")
    if r.status_code not in (204, 404):
        _check(r, f"delete branch '{branch.name}'")


def branch_changes(target: NetBoxTarget, branch: Branch) -> list[dict[str, Any]]:
    """The branch's change diff: one row per changed object (original / modified / current)."""
    from campusnet.sot.reader import check_list

    pages: list[Any] = []
    with _client(target, f"changes of branch '{branch.name}'") as c:
        url: str | None = f"{API}/changes/?branch_id={branch.id}&limit=1000"
        while url:
            data = _check(c.request("GET", url), f"changes of branch '{branch.name}'")
            pages.append(data)
            url = data.get("next")
    # checked against NetBox's count like every list the reader reads (E115-E117): a change left out
    # would be a change nobody reviews
    return check_list(f"{API}/changes/?branch_id={branch.id}", pages)


def _run_job(target: NetBoxTarget, branch: Branch, action: str, commit: bool, timeout: float) -> dict[str, Any]:
    with _client(target, f"{action} branch '{branch.name}'") as c:
        r = c.request("POST", f"{API}/branches/{branch.id}/{action}/", json={"commit": commit})
        if r.status_code == 409:
            raise CampusnetError("E143", f"{action} of branch '{branch.name}' conflicts with main: {r.text[:800]}")
        job = _check(r, f"{action} branch '{branch.name}'")
        job_url = f"/api/core/jobs/{job['id']}/"
        deadline = time.monotonic() + timeout
        while True:
            j = _check(c.request("GET", job_url), f"{action} job of branch '{branch.name}'")
            status = j["status"]["value"] if isinstance(j["status"], dict) else j["status"]
            if status in ("completed", "errored", "failed"):
                if status != "completed":
                    raise CampusnetError("E144", f"{action} of branch '{branch.name}' {status}: {j.get('error', '')}")
                return dict(j)
            if time.monotonic() > deadline:
                raise CampusnetError("E145", f"{action} of branch '{branch.name}' did not finish in {timeout:.0f} s")
            time.sleep(0.5)


def merge_branch(target: NetBoxTarget, branch: Branch, *, commit: bool = True, timeout: float = 300) -> dict[str, Any]:
    """Merge into main (``commit=False``: a dry run that reports what would happen)."""
    return _run_job(target, branch, "merge", commit, timeout)


def sync_branch(target: NetBoxTarget, branch: Branch, *, timeout: float = 300) -> dict[str, Any]:
    """Bring a branch up to date with main (main is not written)."""
    return _run_job(target, branch, "sync", True, timeout)


def revert_branch(target: NetBoxTarget, branch: Branch, *, commit: bool = True, timeout: float = 300) -> dict[str, Any]:
    return _run_job(target, branch, "revert", commit, timeout)
