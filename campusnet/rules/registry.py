"""The rule registry and the violation record."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from campusnet.errors import CampusnetError
from campusnet.sot.models import Snapshot


class Violation(BaseModel):
    """One broken rule on one object: ``object_type`` is the NetBox model (``dcim.device``), ``object_name``
    its natural key in the snapshot, ``field`` the attribute at fault."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: str
    object_type: str
    object_name: str
    field: str
    message: str


RuleFunc = Callable[[Snapshot], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    name: str
    func: RuleFunc
    category: str

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def summary(self) -> str:
        return self.doc.split("\n\n")[0].replace("\n", " ")

    def __call__(self, snap: Snapshot) -> list[Violation]:
        return list(self.func(snap))


RULES: dict[str, Rule] = {}


def rule(name: str, category: str) -> Callable[[RuleFunc], RuleFunc]:
    """Register ``func`` as rule ``name``. Its docstring is its documentation (first paragraph = summary)."""

    def deco(func: RuleFunc) -> RuleFunc:
        if name in RULES:
            raise ValueError(f"rule {name!r} registered twice")
        if not func.__doc__:
            raise ValueError(f"rule {name!r} has no docstring")
        RULES[name] = Rule(name, func, category)
        return func

    return deco


def run_rules(snap: Snapshot, names: Sequence[str] | None = None) -> list[Violation]:
    """Run the named rules (default: all) and return every violation, sorted by rule then object."""
    if names:
        unknown = [n for n in names if n not in RULES]
        if unknown:
            raise CampusnetError("E205", f"unknown rule(s) {', '.join(unknown)}; known: {', '.join(sorted(RULES))}")
        chosen = [RULES[n] for n in names]
    else:
        chosen = list(RULES.values())
    out: list[Violation] = []
    for r in chosen:
        out.extend(r(snap))
    return sorted(set(out), key=lambda v: (v.rule, v.object_type, v.object_name, v.field, v.message))


def concerning(violations: Iterable[Violation], devices: Iterable[str]) -> list[Violation]:
    """The violations about these devices or their components (interfaces, links, ports, addresses).

    ``validate --limit`` runs the rules over the whole snapshot (a link or a LAG needs both ends to be
    judged) and then keeps only what concerns the selected devices."""
    names = set(devices)

    def about(v: Violation) -> bool:
        return any(part in names or part.partition(":")[0] in names for part in v.object_name.split(" <-> "))

    return [v for v in violations if about(v)]
