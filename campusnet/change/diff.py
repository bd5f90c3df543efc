"""Compare two rendered sides: per-device unified diffs and rule findings (new / present before / resolved).

Pure functions over :class:`~campusnet.change.model.Side`; no I/O.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from campusnet.change.model import Configs, DeviceDiff, DeviceStatus, FileDiff, FileStatus, Finding, RuleResult

CONTEXT = 3


def unified(before: str | None, after: str | None, device: str, path: str) -> FileDiff | None:
    """The unified diff of one file (``None`` when identical). A missing side is ``/dev/null``."""
    if before == after:
        return None
    a = (before or "").splitlines()
    b = (after or "").splitlines()
    lines = list(difflib.unified_diff(a, b, fromfile="/dev/null" if before is None else f"a/{device}/{path}",
                                      tofile="/dev/null" if after is None else f"b/{device}/{path}",
                                      n=CONTEXT, lineterm=""))
    if not lines:  # only a trailing-newline difference
        lines = [f"--- a/{device}/{path}", f"+++ b/{device}/{path}", "@@ end of file @@",
                 "\\ trailing newline differs"]
    added = sum(1 for ln in lines if ln.startswith("+") and not ln.startswith("+++"))
    removed = sum(1 for ln in lines if ln.startswith("-") and not ln.startswith("---"))
    status: FileStatus = "added" if before is None else "removed" if after is None else "changed"
    return FileDiff(path, status, added, removed, "\n".join(lines) + "\n")


def diff_configs(before: Configs, after: Configs) -> list[DeviceDiff]:
    """Only the devices whose files differ, sorted by name; new and removed devices marked as such."""
    out: list[DeviceDiff] = []
    for dev in sorted(set(before) | set(after)):
        b, a = before.get(dev), after.get(dev)
        files: list[FileDiff] = []
        for path in sorted(set(b or {}) | set(a or {}), key=lambda p: (p.startswith("lab/"), p)):
            fd = unified((b or {}).get(path), (a or {}).get(path), dev, path)
            if fd is not None:
                files.append(fd)
        if not files:
            continue
        dstatus: DeviceStatus = "added" if b is None else "removed" if a is None else "changed"
        out.append(DeviceDiff(dev, dstatus, tuple(files)))
    return out


def compare_rules(rules: Mapping[str, tuple[str, str]], after: Iterable[Finding],
                  before: Iterable[Finding] | None) -> list[RuleResult]:
    """One :class:`RuleResult` per rule in ``rules`` (name -> (category, summary)), plus any rule that only
    appears in the findings. A finding is *new* when the before side has none with the same key (rule,
    object type, object, field); with ``before=None`` (unknown) every finding counts as new."""
    after_l = list(after)
    before_l = list(before) if before is not None else None
    before_keys = {f.key for f in before_l} if before_l is not None else set()
    after_keys = {f.key for f in after_l}
    names = list(rules) + sorted({f.rule for f in after_l} - set(rules))
    out: list[RuleResult] = []
    for name in names:
        cat, summary = rules.get(name, ("?", ""))
        mine = tuple(f for f in after_l if f.rule == name)
        new = tuple(f for f in mine if before_l is None or f.key not in before_keys)
        resolved = tuple(f for f in (before_l or []) if f.rule == name and f.key not in after_keys)
        out.append(RuleResult(name, cat, summary, mine, new, resolved))
    return out
