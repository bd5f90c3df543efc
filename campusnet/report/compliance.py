"""Compliance per device: the intended configuration vs. the latest backup of the running one.

Intended configs come from the library (``campusnet.pipeline.Pipeline`` → ``campusnet.render``) or, with
``--intended DIR``, from rendered files on disk (``DIR/<device>/<file>`` as ``campusnet render --out`` and
``runs/<id>/rendered/`` lay them out, or ``DIR/<device>.cfg``).

The comparison is :mod:`campusnet.compare`'s, in the platform's normalised form (VRP/Comware through
hier_config, the lab's FRR through its deploy driver), and order-insensitive. A lab backup (platform
``linux-frr``) holds sections (``!! campusnet-section ovs|links``): its FRR section is compared with the
intended ``frr.conf`` (``lab/frr.conf`` for a lab device). Both sides are redacted before
they are compared, so secrets are not audited (the report renders placeholders, never real secrets).
"No backup yet" and "no intended config" are states, not errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from campusnet import compare as cmp
from campusnet.errors import CampusnetError
from campusnet.report.redact import Redactor
from campusnet.report.state import Backup
from campusnet.sot.models import Snapshot

EMULATION_FILES = ("frr.conf", "ovs.sh", "net.sh")

Intended = dict[str, dict[str, str]]  # device -> {file name: text}


@dataclass(frozen=True)
class DeviceCompliance:
    device: str
    state: str  # compliant | drift | no-backup | no-intended | render-error
    platform: str | None
    backup: str | None  # backup timestamp
    intended_file: str | None
    missing: int = 0  # intended lines not in the backup
    extra: int = 0  # backup lines not intended
    diff: str = ""  # unified diff intended -> backup (unredacted; the writer redacts)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "compliant"


def pick_intended(files: dict[str, str], platform: str | None) -> tuple[str, str] | None:
    """The rendered file a backup of ``platform`` is compared with."""
    if not files:
        return None
    if platform == "linux-frr":
        for name in sorted(files):
            if name.rpartition("/")[2] == "frr.conf":
                return name, files[name]
        return None
    main = {n: t for n, t in files.items() if n.rpartition("/")[2] not in EMULATION_FILES}
    if not main:
        return None
    for suffix in (".cfg", ".conf", ".txt"):
        hits = sorted(n for n in main if n.endswith(suffix))
        if hits:
            return hits[0], main[hits[0]]
    name = sorted(main)[0]
    return name, main[name]


def compare(device: str, intended: dict[str, str] | None, backup: Backup | None,
            platform: str | None, redactor: Redactor | None = None) -> DeviceCompliance:
    """Compare after redacting both sides: secrets cannot be audited here (the report never holds them),
    everything else can, and the diff carries no secret."""
    red = redactor or Redactor()
    if backup is None:
        return DeviceCompliance(device, "no-backup", platform, None, None)
    plat = backup.platform or platform
    chosen = pick_intended(intended or {}, plat)
    if chosen is None:
        return DeviceCompliance(device, "no-intended", plat, backup.taken, None)
    name, text = chosen
    running = cmp.section(backup.text) if plat == cmp.LAB_PLATFORM else backup.text
    want, have = cmp.normalise(red.text(text), plat), cmp.normalise(red.text(running), plat)
    want_set = {ln.strip() for ln in cmp.plain_lines(want)}
    have_set = {ln.strip() for ln in cmp.plain_lines(have)}
    missing, extra = len(want_set - have_set), len(have_set - want_set)
    diff = cmp.unified(want, have, f"intended/{device}/{name}", f"backup/{device}/{backup.taken}.cfg", context=2)
    state = "compliant" if not missing and not extra else "drift"
    return DeviceCompliance(device, state, plat, backup.taken, name, missing, extra,
                            diff if state == "drift" else "")


# --------------------------------------------------------------------------------------------------------
# Where intended configs come from
# --------------------------------------------------------------------------------------------------------
def intended_from_dir(path: Path) -> Intended:
    """``DIR/<device>/<file...>`` or ``DIR/<device>.cfg``."""
    if not path.is_dir():
        raise CampusnetError("E505", "not a directory of rendered configs", obj=str(path), field="--intended")
    out: Intended = {}
    for p in sorted(path.iterdir()):
        if p.is_dir():
            out[p.name] = {str(f.relative_to(p)): f.read_text(encoding="utf-8", errors="replace")
                           for f in sorted(p.rglob("*")) if f.is_file()}
        elif p.suffix == ".cfg":
            out[p.stem] = {p.name: p.read_text(encoding="utf-8", errors="replace")}
    return out


def secret_placeholder(name: str) -> str:
    """What the report renders in place of a secret: it never resolves (never holds) the real value."""
    return f"secret-ref-{name}"


def intended_from_library(snapshot: Snapshot) -> tuple[Intended, dict[str, str]]:
    """Intended configs rendered by the library (:class:`~campusnet.pipeline.Pipeline` → ``render_device``,
    secrets replaced by placeholders, lab emulation files under ``lab/``), with per-device errors."""
    from campusnet.pipeline import Pipeline
    from campusnet.render import render_device as render

    pipe = Pipeline.build(snapshot)
    intents, errors = pipe.intents, pipe.errors
    out: Intended = {}
    errs: dict[str, str] = {str(getattr(e, "obj", None) or "?"): str(e) for e in errors}
    for name, intent in intents.items():
        try:
            out[name] = render(intent, secrets=secret_placeholder, lab=True, emulation=pipe.emulations.get(name))
        except CampusnetError as exc:
            errs[name] = str(exc)
    return out, errs


def compliance(snapshot: Snapshot, backups: dict[str, Backup], intended: Intended | None,
               render_errors: dict[str, str], redactor: Redactor | None = None) -> list[DeviceCompliance]:
    """One row per device that has an intended config, a backup or a render error (snapshot order)."""
    names = [d.name for d in snapshot.devices]
    known = set(names)
    names += sorted((set(backups) | set(intended or {})) - known)
    rows = []
    for n in names:
        files = (intended or {}).get(n)
        b = backups.get(n)
        if n in render_errors and files is None:
            rows.append(DeviceCompliance(n, "render-error", None, b.taken if b else None, None,
                                         error=render_errors[n]))
            continue
        if files is None and b is None:
            continue
        dev_platform = snapshot.device(n).platform if n in known else None
        rows.append(compare(n, files, b, dev_platform, redactor))
    return rows
