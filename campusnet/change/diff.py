"""Compare two rendered sides: per-device unified diffs and rule findings (new / present before / resolved).

Pure functions over :class:`~campusnet.change.model.Side`; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from campusnet import compare
from campusnet.change.model import Configs, DeviceDiff, DeviceStatus, FileDiff, FileStatus, Finding, RuleResult

CONTEXT = 3


def unified(before: str | None, after: str | None, device: str, path: str, platform: str | None = None
            ) -> FileDiff | None:
    """The unified diff of one file (``None`` when identical). A missing side is ``/dev/null``. The
    device's own file (not ``lab/…``) of a VRP/Comware ``platform`` also gets hier_config's remediation."""
    if before == after:
        return None
    text = compare.unified(before or "", after or "", "/dev/null" if before is None else f"a/{device}/{path}",
                           "/dev/null" if after is None else f"b/{device}/{path}", context=CONTEXT)
    if not text:  # only a trailing-newline difference
        text = f"--- a/{device}/{path}\n+++ b/{device}/{path}\n@@ end of file @@\n\\ trailing newline differs\n"
    added, removed = compare.diff_counts(text)
    status: FileStatus = "added" if before is None else "removed" if after is None else "changed"
    fix: tuple[str, ...] = ()
    if after is not None and not path.startswith("lab/") and compare.has_remediation(platform):
        assert platform is not None
        fix = tuple(compare.remediation(before or "", after, platform))
    return FileDiff(path, status, added, removed, text, fix)


def diff_configs(before: Configs, after: Configs, platforms: Mapping[str, str] | None = None
                 ) -> list[DeviceDiff]:
    """Only the devices whose files differ, sorted by name; new and removed devices marked as such.
    ``platforms`` (device -> slug) adds the hier_config remediation for VRP/Comware devices."""
    out: list[DeviceDiff] = []
    for dev in sorted(set(before) | set(after)):
        b, a = before.get(dev), after.get(dev)
        files: list[FileDiff] = []
        for path in sorted(set(b or {}) | set(a or {}), key=lambda p: (p.startswith("lab/"), p)):
            fd = unified((b or {}).get(path), (a or {}).get(path), dev, path, (platforms or {}).get(dev))
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
