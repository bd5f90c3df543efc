"""Compare a desired API payload with the object NetBox returned. Pure functions.

NetBox answers with nested objects (``{"id": 3, "name": …}``), choices (``{"value": "active",
"label": "Active"}``) and numbers where a payload sends ids and plain values; :func:`norm` maps the
answer to the payload's form. Only fields present in the payload are compared.
"""

from __future__ import annotations

import json
from typing import Any


def norm(value: Any) -> Any:
    """NetBox's representation of a field, in payload form.

    >>> norm({"id": 4, "name": "x"})
    4
    >>> norm({"value": "active", "label": "Active"})
    'active'
    >>> norm([{"id": 2}, {"id": 1}])
    [1, 2]
    """
    if isinstance(value, dict):
        if "id" in value:
            return value["id"]
        if "value" in value and set(value) <= {"value", "label", "description"}:
            return value["value"]
        return value
    if isinstance(value, list):
        items = [norm(v) for v in value]
        return _sorted(items)
    return value


def _sorted(items: list[Any]) -> list[Any]:
    if all(isinstance(i, (int, str)) for i in items) and len({type(i) for i in items}) <= 1:
        return sorted(items)
    return sorted(items, key=lambda i: json.dumps(i, sort_keys=True, default=str))


def same(want: Any, have: Any) -> bool:
    """Is NetBox's value (``have``, raw) the desired one (``want``, payload form)?

    >>> same(1, 1.0), same("", None), same([3, 1], [{"id": 1}, {"id": 3}]), same("a", {"value": "b", "label": "B"})
    (True, True, True, False)
    """
    if isinstance(want, list) and want and all(isinstance(w, dict) for w in want):
        if not isinstance(have, list) or len(have) != len(want):
            return False
        keys = set().union(*want)
        hv = [{k: norm(h.get(k)) for k in keys} if isinstance(h, dict) else h for h in have]
        return _sorted(list(want)) == _sorted(hv)
    have = norm(have)
    if want in ("", None) and have in ("", None):
        return True
    if isinstance(want, bool) or isinstance(have, bool):
        return want is have
    if isinstance(want, (int, float)) and isinstance(have, (int, float, str)):
        try:
            return float(want) == float(have)
        except ValueError:
            return False
    if isinstance(want, list) and isinstance(have, list):
        return _sorted(list(want)) == have
    return bool(want == have)


def changed(
    desired: dict[str, Any], existing: dict[str, Any], immutable: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The fields of ``desired`` whose value differs in ``existing`` (the minimal PATCH body).

    ``custom_fields`` is compared key by key (other custom fields are not ours).

    >>> changed({"name": "a", "status": "active", "tags": [1]}, {"name": "a", "status": {"value": "planned",
    ...     "label": "Planned"}, "tags": [{"id": 1}]})
    {'status': 'active'}
    """
    out: dict[str, Any] = {}
    for f, want in desired.items():
        if f in immutable:
            continue
        have = existing.get(f)
        if f == "custom_fields" and isinstance(want, dict):
            have_cf = have if isinstance(have, dict) else {}
            if any(not same(v, have_cf.get(k)) for k, v in want.items()):
                out[f] = want
            continue
        if not same(want, have):
            out[f] = want
    return out
