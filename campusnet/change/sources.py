"""Where the two sides of a change come from.

* **NetBox branch**: main and the branch are read from the same NetBox (the branch with
  ``X-NetBox-Branch: <schema_id>``), in parallel; both are rendered by this working tree's code.
* **git ref**: one snapshot of NetBox (or ``--snapshot FILE``) rendered twice — by the working tree
  (in-process: the after-state) and by the code and templates of REF (the before-state).

  How REF renders: ``git archive REF campusnet nornir_tasks templates pyproject.toml`` is unpacked into a
  temporary directory and REF's own command line runs there in a subprocess (``python -m campusnet render
  --snapshot S --fake-secrets`` and ``validate --snapshot S --json``) with ``PYTHONPATH`` = that directory,
  so REF's intent code, templates and rules are used, not ours (the subprocess checks which ``campusnet``
  it imported). ``git archive`` only reads the repository: no worktree bookkeeping in ``.git``, nothing to
  prune after a crash, no index lock shared with people committing meanwhile. When REF cannot load the
  snapshot (its snapshot model differs), it reads NetBox itself (same NetBox, same state directory). When
  only ``templates/`` differ, REF's templates are unpacked alone and rendered in-process (faster, same
  bytes: the code is identical).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campusnet import settings
from campusnet.branching import Branch, get_branch, list_branches
from campusnet.change.model import Configs, Finding, Side
from campusnet.errors import CampusnetError
from campusnet.intent.models import DeviceIntent
from campusnet.pipeline import Pipeline, read_snapshot
from campusnet.settings import NetBoxTarget
from campusnet.sot import Snapshot

Log = Callable[[str], None]
REF_PATHS = ("campusnet", "nornir_tasks", "templates", "pyproject.toml")
RENDER_RELEVANT = ("campusnet/", "templates/", "nornir_tasks/", "pyproject.toml")


def _nolog(_: str) -> None:
    return None


# ------------------------------------------------------------------------------------------------------
# one side from a snapshot, in this process
# ------------------------------------------------------------------------------------------------------
@dataclass
class Rendered:
    """A side plus what the lab proof needs from it (intents of every device that built)."""

    side: Side
    snapshot: Snapshot | None = None
    intents: dict[str, DeviceIntent] = field(default_factory=dict)
    pipeline: Pipeline | None = None  # its intents are ``intents``: the devices that built and rendered


def render_snapshot(label: str, snap: Snapshot, *, templates: Path | None = None,
                    devices: set[str] | None = None) -> Rendered:
    """Intent, render (placeholder secrets: these texts go into comments and artefacts) and rules.
    ``devices``: build and render only these (the scope of a change, :mod:`campusnet.change.scope`); the
    intents still see the whole campus and the rules always run on the whole snapshot."""
    from campusnet.render import placeholder_secret, render_device
    from campusnet.rules import run_rules
    from campusnet.sot.limit import Limit

    t0 = time.perf_counter()
    if devices is None:
        pipe = Pipeline.build(snap)
    else:
        present = sorted(d for d in devices if snap.has_device(d))
        pipe = Pipeline.build(snap, limit=Limit(name=tuple(present))) if present else Pipeline(snap, {})
    intents, errors = pipe.intents, pipe.errors
    side = Side(label)
    side.render_errors = {e.device: str(e) for e in errors}
    for host in sorted(intents):
        try:
            side.configs[host] = render_device(intents[host], secrets=placeholder_secret, templates=templates,
                                               emulation=pipe.emulations.get(host))
            side.platforms[host] = intents[host].platform
        except CampusnetError as exc:
            side.render_errors[host] = str(exc)
    for host in side.render_errors:
        intents.pop(host, None)
    t1 = time.perf_counter()
    try:
        side.findings = _cached_findings(snap, run_rules) if devices is not None else \
            [Finding.from_any(v) for v in run_rules(snap)]
    except CampusnetError as exc:
        side.info["rules_error"] = str(exc)
    side.lab_devices = sorted(h for h in intents if h in pipe.emulations)
    src = snap.source
    side.info.update({"netbox": src.url, "read_at": str(src.read_at), "branch": src.branch,
                      "netbox_version": src.netbox_version, "devices_in_netbox": len(snap.devices),
                      "render_seconds": round(t1 - t0, 2), "rules_seconds": round(time.perf_counter() - t1, 2)})
    return Rendered(side, snap, intents, pipe)


def _rules_key(snap: Snapshot) -> str | None:
    """What main's findings depend on: NetBox, its changelog position, and the rules' code."""
    import hashlib

    mark = snap.source.changelog
    if mark is None or snap.source.branch or snap.source.limit:
        return None
    h = hashlib.sha256(f"{snap.source.url}|{mark.change_id}".encode())
    for f in sorted((Path(__file__).resolve().parents[1] / "rules").glob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:24]


def _cached_findings(snap: Snapshot, run_rules: Callable[[Snapshot], list[Any]]) -> list[Finding]:
    """The rules' findings on ``snap``; for main at a changelog position (an incremental read) kept in
    ``<state>/snapshots/findings-<key>.json``, so checking several branches judges main once."""
    from campusnet.private import private_dir, write_private

    key = _rules_key(snap)
    path = settings.state_dir() / "snapshots" / f"findings-{key}.json"
    if key is not None and path.exists():
        try:
            return [Finding.from_any(d) for d in json.loads(path.read_text(encoding="utf-8"))]
        except (OSError, ValueError, KeyError):
            pass
    found = [Finding.from_any(v) for v in run_rules(snap)]
    if key is not None:
        for old in path.parent.glob("findings-*.json"):
            old.unlink(missing_ok=True)
        private_dir(path.parent)
        write_private(path, json.dumps([vars(f) for f in found]))
    return found


# ------------------------------------------------------------------------------------------------------
# NetBox branch
# ------------------------------------------------------------------------------------------------------
def resolve_branch(target: NetBoxTarget, name: str) -> Branch:
    """The branch named ``name`` (or whose schema id is ``name``), ready to be read."""
    b = get_branch(target, name)
    if b is None:
        b = next((x for x in list_branches(target) if x.schema_id == name), None)
    if b is None:
        known = ", ".join(sorted(x.name for x in list_branches(target))) or "none"
        raise CampusnetError("E156", f"no such NetBox branch (known branches: {known})", obj=name, field="--branch")
    if b.status == "merged":
        raise CampusnetError("E157", "the branch is already merged into main: nothing left to check", obj=b.name,
                             field="status")
    if b.status != "ready":
        raise CampusnetError("E157", f"the branch is '{b.status}', not 'ready' (provisioning or syncing?)",
                             obj=b.name, field="status")
    return b


def sync_branch(target: NetBoxTarget, branch: Branch, timeout: float = 300) -> None:
    """Bring the branch up to date with main (a job on the branch; main is not written)."""
    from campusnet.branching import sync_branch as _sync

    _sync(target, branch, timeout=timeout)


def read_pair(target: NetBoxTarget, branch: Branch) -> tuple[Snapshot, Snapshot, dict[str, float]]:
    """Read main and the branch at the same time (two bulk reads, in parallel)."""
    times: dict[str, float] = {}

    def read(t: NetBoxTarget, key: str) -> Snapshot:
        t0 = time.perf_counter()
        s = read_snapshot(target=t)
        times[key] = time.perf_counter() - t0
        return s

    with ThreadPoolExecutor(2) as ex:
        fm = ex.submit(read, target.with_branch(None), "read main")
        fb = ex.submit(read, target.with_branch(branch.schema_id), "read branch")
        return fm.result(), fb.result(), times


def read_pair_incremental(target: NetBoxTarget, branch: Branch, log: Log = _nolog
                          ) -> tuple[Snapshot, Snapshot, dict[str, float]]:
    """Main from its cached snapshot plus main's changes (the cache is updated), then the branch on top of
    it: the branch's own changes and main's since the branch last took main's data
    (:mod:`campusnet.sot.incremental`). The two snapshots share every object neither changed."""
    from campusnet.sot.incremental import read_incremental

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    main, state = read_incremental(target.with_branch(None), log=log)
    times["read main (incremental)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    br, _ = read_incremental(target.with_branch(branch.schema_id), state=state, save=False, log=log)
    times["read branch (incremental)"] = time.perf_counter() - t0
    return main, br, times


def branch_changes_condensed(target: NetBoxTarget, branch: Branch, after: Snapshot | None) -> list[dict[str, Any]]:
    """The branch's changes (changes API), one row per object: action, type, name, changed fields."""
    from campusnet.branching import branch_changes

    cable_names: dict[int, str] = {}
    if after is not None:
        for c in after.cables:
            def end(ts: Any) -> str:
                return "+".join(f"{t.device or t.circuit or ''} {t.name or ''}".strip() for t in ts)
            cable_names[c.id] = f"{end(c.a_terminations)} <-> {end(c.b_terminations)}"
    rows: list[dict[str, Any]] = []
    changes = sorted(branch_changes(target, branch), key=lambda c: (str(c.get("object_type")),
                                                                    str(c.get("object_repr")), c.get("object_id") or 0))
    for ch in changes:
        action = ch.get("action") or {}
        diff = ch.get("diff") or {}
        obj = ch.get("object_repr") or ""
        if ch.get("object_type") == "dcim.cable" and ch.get("object_id") in cable_names:
            obj = f"{obj} {cable_names[ch['object_id']]}"
        fields = sorted((diff.get("modified") or {}).keys()) if isinstance(diff, dict) else []
        rows.append({"action": action.get("value", action) if isinstance(action, dict) else action,
                     "object_type": ch.get("object_type"), "object_id": ch.get("object_id"), "object": obj,
                     "fields": fields, "conflicts": ch.get("conflicts")})
    return rows


def main_changes_since(target: NetBoxTarget, since: str) -> tuple[int, list[str]]:
    """How many changes main recorded since ``since`` (the branch's last sync; the branch does not see them),
    and a few of them (``action type name``)."""
    from campusnet.sot.reader import Fetcher

    try:
        with Fetcher(target.with_branch(None), timeout=30) as c:
            r = c.request("GET", "/api/core/object-changes/", params={"time_after": since, "limit": 5})
            if r.status_code != 200:
                return 0, []
            data = r.json()
            sample = [f"{(x.get('action') or {}).get('value', '')} {x.get('changed_object_type', '')} "
                      f"{x.get('object_repr', '')}".strip() for x in data["results"]]
            return int(data["count"]), sample
    except (CampusnetError, ValueError, KeyError, AttributeError):
        return 0, []


# ------------------------------------------------------------------------------------------------------
# git ref
# ------------------------------------------------------------------------------------------------------
def _git(args: list[str], repo: Path, *, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    r = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=120, check=False)
    if check and r.returncode != 0:
        raise CampusnetError("E158", f"git {' '.join(args)}: {r.stderr.decode(errors='replace').strip()[:400]}")
    return r


def resolve_ref(ref: str, repo: Path = settings.REPO_ROOT) -> str:
    """The commit a git ref names; a clear error (no traceback) when it names none."""
    if not ref or ref.startswith("-"):
        raise CampusnetError("E158", "not a git ref", obj=ref or "''", field="--git-ref")
    r = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], repo, check=False)
    if r.returncode != 0:
        raise CampusnetError("E158", f"not a commit in {repo} (try a branch, tag or sha)", obj=ref, field="--git-ref")
    return r.stdout.decode().strip()


def changed_paths(sha: str, repo: Path = settings.REPO_ROOT) -> list[str]:
    """Files that differ between commit ``sha`` and the working tree (tracked changes + untracked files)."""
    tracked = _git(["diff", "--name-only", sha, "--"], repo).stdout.decode().split()
    untracked = _git(["ls-files", "--others", "--exclude-standard"], repo).stdout.decode().split()
    return sorted(set(tracked) | set(untracked))


def unpack_ref(sha: str, dest: Path, paths: tuple[str, ...] = REF_PATHS, repo: Path = settings.REPO_ROOT) -> None:
    """``git archive sha -- paths`` unpacked into ``dest`` (paths that do not exist at ``sha`` are skipped)."""
    present = [p for p in paths if _git(["cat-file", "-e", f"{sha}:{p}"], repo, check=False).returncode == 0]
    if not present:
        raise CampusnetError("E158", f"none of {', '.join(paths)} exists at this commit", obj=sha, field="--git-ref")
    dest.mkdir(parents=True, exist_ok=True)
    tar = dest / ".ref.tar"
    with tar.open("wb") as fh:
        r = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", sha, "--", *present], stdout=fh,
                           stderr=subprocess.PIPE, timeout=300, check=False)
    if r.returncode != 0:
        raise CampusnetError("E158", f"git archive: {r.stderr.decode(errors='replace')[:400]}", obj=sha)
    with tarfile.open(tar) as tf:
        tf.extractall(dest, filter="data")
    tar.unlink()


def _read_tree(root: Path) -> Configs:
    out: Configs = {}
    if not root.is_dir():
        return out
    for dev_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        files = {str(p.relative_to(dev_dir)): p.read_text(encoding="utf-8") for p in sorted(dev_dir.rglob("*"))
                 if p.is_file()}
        if files:
            out[dev_dir.name] = files
    return out


def _failed_devices(stderr: str) -> dict[str, str]:
    """Devices named in the render CLI's 'not rendered' table (rich box drawing, one row per device)."""
    out: dict[str, str] = {}
    in_table = False
    for line in stderr.splitlines():
        if "not rendered" in line:
            in_table = True
            continue
        if in_table and line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            if len(cells) >= 3 and cells[0] and cells[0] != "device":
                out[cells[0]] = f"field '{cells[1]}': {cells[2]}" if cells[1] else cells[2]
    return out


@dataclass
class RefTree:
    """REF's code unpacked into a temporary directory; run its command line there."""

    sha: str
    root: Path
    env: dict[str, str]

    def run(self, args: list[str], *, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "campusnet", *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def check_import(self) -> None:
        r = subprocess.run([sys.executable, "-c", "import campusnet; print(campusnet.__file__)"], cwd=self.root,
                           env=self.env, capture_output=True, text=True, timeout=60, check=False)
        where = Path(r.stdout.strip() or "/nonexistent").resolve()
        if r.returncode != 0 or not where.is_relative_to(self.root.resolve()):
            raise CampusnetError("E159", f"REF's code could not be imported in isolation (got {where}): "
                                 f"{r.stderr.strip()[-400:]}", obj=self.sha[:10], field="--git-ref")


def ref_tree(sha: str, tmp: Path) -> RefTree:
    root = tmp / "ref"
    unpack_ref(sha, root)
    env = dict(os.environ)
    env.update({"PYTHONPATH": str(root), "CAMPUSNET_STATE": str(settings.state_dir()), "COLUMNS": "400",
                "NO_COLOR": "1", "TERM": "dumb"})
    tree = RefTree(sha, root, env)
    tree.check_import()
    return tree


def render_ref(tree: RefTree, label: str, snapshot_file: Path, out: Path, log: Log = _nolog) -> Side:
    """Render and validate with REF's own command line (see the module docstring)."""
    side = Side(label)
    t0 = time.perf_counter()
    args = ["render", "--snapshot", str(snapshot_file), "--out", str(out), "--fake-secrets"]
    r = tree.run(args)
    side.info["snapshot"] = "shared"
    if r.returncode not in (0, 2) or (r.returncode == 2 and not out.is_dir()):
        log("REF could not render from the shared snapshot; letting it read NetBox itself")
        side.info["shared_snapshot_error"] = r.stderr.strip()[-800:]
        r = tree.run(["render", "--out", str(out), "--fake-secrets"])
        side.info["snapshot"] = "read by REF"
        if r.returncode not in (0, 2):
            raise CampusnetError("E159", f"REF's render failed (exit {r.returncode}): {r.stderr.strip()[-800:]}",
                                 obj=tree.sha[:10], field="--git-ref")
    side.configs = _read_tree(out)
    side.render_errors = _failed_devices(r.stderr) if r.returncode == 2 else {}
    side.info["render_seconds"] = round(time.perf_counter() - t0, 2)
    t1 = time.perf_counter()
    v = tree.run(["validate", "--json"] + (["--snapshot", str(snapshot_file)] if side.info["snapshot"] == "shared"
                                           else []))
    try:
        side.findings = [Finding.from_any(x) for x in json.loads(v.stdout)["violations"]]
    except (ValueError, KeyError, TypeError):
        side.info["rules_error"] = (v.stderr or v.stdout).strip()[-400:]
    side.info["rules_seconds"] = round(time.perf_counter() - t1, 2)
    side.lab_devices = sorted(d for d, files in side.configs.items() if any(f.startswith("lab/") for f in files))
    return side


def templates_only(paths: list[str]) -> bool:
    relevant = [p for p in paths if p.startswith(RENDER_RELEVANT)]
    return bool(relevant) and all(p.startswith("templates/") for p in relevant)


def temp_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="cn-check-change-")
