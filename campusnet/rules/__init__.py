"""Validation rules over a :class:`~campusnet.sot.models.Snapshot` (never over YAML).

A rule is a plain, documented function ``f(snapshot) -> Iterable[Violation]`` registered under a stable
name with :func:`rule`. :func:`run_rules` runs all of them (or some, by name) and returns every violation,
sorted. ``docs/rules.md`` lists each rule: what it checks and why.
"""

from __future__ import annotations

# importing the modules registers their rules
from campusnet.rules import (  # noqa: F401
    devices,
    ipam,
    lab,
    links,
    overlay,
    ownership,
    power,
    strings,
    topology,
)
from campusnet.rules.registry import RULES, Rule, Violation, rule, run_rules

__all__ = ["RULES", "Rule", "Violation", "rule", "run_rules"]
