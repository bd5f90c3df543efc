"""The one comparison service: per-platform normalisation, the unified diff, its counts, and the remediation.

Deploy (the driver's diff and the rollback proof), verify drift, report compliance and site, and
check-change all compare configurations through here, so a fix to how two configs are compared lands once.

Normalisation is the platform's: a lab (``linux-frr``) config goes through its deploy driver's
``normalise`` (sections, FRR's volatile lines); VRP and Comware through their hier_config driver (a tree,
printed in hier_config's sorted order, so the comparison is order-insensitive); any other text loses
only the lines that carry no configuration. :func:`remediation` is hier_config's: the commands that take a
running VRP/Comware config to the intended one.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from campusnet.errors import CampusnetError

if TYPE_CHECKING:
    from campusnet.platforms.base import Platform

LAB_PLATFORM = "linux-frr"
# lines that carry no configuration on any platform: separators, banners, the end marker
_VOLATILE = re.compile(r"^(?:!.*|#.*|Building configuration.*|Current configuration.*|frr version.*|"
                       r"return|end)?$")


def plain_lines(text: str) -> list[str]:
    """The lines of ``text`` that carry configuration (right-stripped, in order)."""
    return [ln.rstrip() for ln in text.splitlines() if not _VOLATILE.match(ln.strip())]


def section(text: str, name: str = "frr") -> str:
    """One section of a sectioned lab config/backup (``!! campusnet-section <name>``; before any marker:
    ``frr``), parsed by the lab driver's own parser."""
    from campusnet.deploy.drivers.linux_frr import _sections

    return _sections(text).get(name, "")


def _hier(platform: str | None) -> Platform | None:
    """The registry platform when it has a hier_config driver, else None."""
    from campusnet.platforms import get_platform, has_platform

    if not platform or not has_platform(platform):
        return None
    plat = get_platform(platform)
    return plat if plat.hier_config_platform is not None else None


def normalise(text: str, platform: str | None) -> str:
    """``text`` in the platform's comparison form (equal forms: nothing to change)."""
    if platform == LAB_PLATFORM:
        from campusnet.deploy.drivers import driver_for

        return driver_for(LAB_PLATFORM).normalise(text)
    plat = _hier(platform)
    if plat is not None:
        tree = plat.load_config(text)
        return "".join(c.cisco_style_text() + "\n" for c in tree.all_children_sorted())
    return "".join(ln + "\n" for ln in plain_lines(text))


def unified(have: str, want: str, have_name: str, want_name: str, *, context: int = 3) -> str:
    """The unified diff ``have`` → ``want`` (empty when their lines are equal). Each line ends in a newline,
    also the last one of a side that has none."""
    if have == want:
        return ""
    lines = list(difflib.unified_diff(have.splitlines(), want.splitlines(), have_name, want_name,
                                      n=context, lineterm=""))
    return "\n".join(lines) + "\n" if lines else ""


def normalised_diff(have: str, want: str, platform: str | None, have_name: str, want_name: str, *,
                    context: int = 3) -> str:
    """The unified diff of two configurations of ``platform`` in its comparison form (empty: equal)."""
    return unified(normalise(have, platform), normalise(want, platform), have_name, want_name, context=context)


def diff_counts(diff: str) -> tuple[int, int]:
    """``(added, removed)`` lines of a unified diff (the ``+++``/``---`` headers not counted)."""
    added = removed = 0
    for ln in diff.splitlines():
        if ln.startswith("+") and not ln.startswith("+++"):
            added += 1
        elif ln.startswith("-") and not ln.startswith("---"):
            removed += 1
    return added, removed


def count_diff_lines(diff: str) -> int:
    """Changed lines of a unified diff (headers not counted)."""
    return sum(diff_counts(diff))


def has_remediation(platform: str | None) -> bool:
    """Whether :func:`remediation` applies to ``platform`` (it has a hier_config driver: VRP, Comware)."""
    return _hier(platform) is not None


def remediation(running: str, intended: str, platform: str) -> list[str]:
    """hier_config's remediation: the commands (indented under their section) that take ``running`` to
    ``intended`` on a VRP/Comware device; empty when they already match. E350 for a platform without a
    hier_config driver (the lab's linux-frr is reconciled by its driver instead)."""
    from hier_config import WorkflowRemediation

    plat = _hier(platform)
    if plat is None:
        raise CampusnetError("E350", "no hier_config remediation for this platform (only VRP and Comware "
                             "have a hier_config driver)", obj=str(platform), field="platform")
    flow = WorkflowRemediation(plat.load_config(running), plat.load_config(intended))
    return [c.cisco_style_text() for c in flow.remediation_config.all_children_sorted()]
