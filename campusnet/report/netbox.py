"""What the report reads from NetBox besides the Snapshot, with the auditor's read-only token.

* the change log (``/api/core/object-changes/``): newest first, offset pages fetched in parallel, capped
  at ``max_changes``;
* rack elevations (``/api/dcim/racks/<id>/elevation/?render=svg``): every rack and face in parallel over
  one HTTP client, then :func:`sanitize_svg` so that nothing in them points anywhere but the report.

Requests are counted (:class:`campusnet.sot.reader.Fetcher`); the token is never printed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from campusnet.errors import CampusnetError
from campusnet.report.redact import Redactor
from campusnet.settings import NetBoxTarget
from campusnet.sot.reader import Fetcher

CHANGE_FIELDS = ("id,time,user_name,request_id,action,changed_object_type,changed_object_id,object_repr,"
                 "message,prechange_data,postchange_data")

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Change:
    id: int
    time: str
    user: str
    request_id: str
    action: str  # create | update | delete
    object_type: str
    object_id: int | None
    object_repr: str
    message: str = ""
    fields: tuple[FieldChange, ...] = ()


@dataclass
class ChangeLog:
    changes: list[Change] = field(default_factory=list)
    total: int = 0  # how many NetBox holds (the report shows the newest ``len(changes)``)
    requests: int = 0


def _short(v: Any, limit: int = 160) -> str:
    if v is None:
        return "—"
    s = v if isinstance(v, str) else _json(v)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _json(v: Any) -> str:
    import json

    return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)


def field_changes(pre: Any, post: Any, redactor: Redactor) -> tuple[FieldChange, ...]:
    """The fields that differ between pre- and post-change data, values redacted."""
    pre_d = redactor.data(pre) if isinstance(pre, dict) else {}
    post_d = redactor.data(post) if isinstance(post, dict) else {}
    out = []
    for k in sorted(set(pre_d) | set(post_d)):
        if k in ("last_updated", "created"):
            continue
        a, b = pre_d.get(k), post_d.get(k)
        if a != b:
            out.append(FieldChange(str(k), _short(a), _short(b)))
    return tuple(out)


def parse_change(o: Mapping[str, Any], redactor: Redactor) -> Change:
    action = o.get("action")
    return Change(
        id=int(o["id"]), time=str(o.get("time") or ""), user=str(o.get("user_name") or "?"),
        request_id=str(o.get("request_id") or ""),
        action=str(action.get("value") if isinstance(action, dict) else action or "?"),
        object_type=str(o.get("changed_object_type") or "?"), object_id=o.get("changed_object_id"),
        object_repr=redactor.text(str(o.get("object_repr") or "")),
        message=redactor.text(str(o.get("message") or "")),
        fields=field_changes(o.get("prechange_data"), o.get("postchange_data"), redactor))


def fetch_changes(f: Fetcher, redactor: Redactor, max_changes: int = 5000, workers: int = 8) -> ChangeLog:
    """The newest ``max_changes`` change-log records (all of them when fewer), pages in parallel."""
    path = "/api/core/object-changes/"
    base: dict[str, str | int] = {"ordering": "-id", "fields": CHANGE_FIELDS}
    before = f.requests
    first = f.get(path, {**base, "limit": min(max_changes, 1000) or 1})
    rows: list[dict[str, Any]] = list(first.get("results") or [])
    total = int(first.get("count") or 0)
    size = len(rows)
    wanted = min(total, max_changes)
    if size and size < wanted:
        offsets = range(size, wanted, size)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pages = list(pool.map(lambda off: f.get(path, {**base, "limit": size, "offset": off}), offsets))
        for p in pages:
            rows.extend(p.get("results") or [])
    seen: set[int] = set()
    changes = []
    for o in rows[:wanted]:
        if o["id"] in seen:
            continue
        seen.add(o["id"])
        changes.append(parse_change(o, redactor))
    return ChangeLog(changes=changes, total=total, requests=f.requests - before)


# --------------------------------------------------------------------------------------------------------
# Rack elevations
# --------------------------------------------------------------------------------------------------------
_DEVICE_URL = re.compile(r"/dcim/devices/(\d+)/?")
_URL_IN_CSS = re.compile(r"url\(\s*['\"]?(?!#)[^)]*\)|@import[^;]*;", re.I)


def sanitize_svg(svg: str, link_for_device: Callable[[int], str | None], redactor: Redactor) -> str:
    """A NetBox elevation SVG made self-contained: device links point into the report (or are dropped),
    every other link, script, foreign object, external image and CSS ``url()``/``@import`` is removed, and
    text is redacted."""
    try:
        root = ET.fromstring(svg)  # noqa: S314 - NetBox's own SVG over loopback, sanitised right here
    except ET.ParseError as exc:
        raise CampusnetError("E503", f"NetBox returned an unreadable rack elevation SVG ({exc})") from None
    drop = {f"{{{SVG_NS}}}script", f"{{{SVG_NS}}}foreignObject", "script", "foreignObject"}
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in drop:
                parent.remove(child)
    for el in root.iter():
        for attr in list(el.attrib):
            val = el.attrib[attr]
            local = attr.rpartition("}")[2]
            if local == "href":
                m = _DEVICE_URL.search(val)
                target = link_for_device(int(m.group(1))) if m else None
                if target and not el.tag.endswith("image"):
                    el.attrib[attr] = target
                else:
                    del el.attrib[attr]
            elif local.startswith("on"):
                del el.attrib[attr]
            elif local == "style" or "url(" in val:
                el.attrib[attr] = _URL_IN_CSS.sub("", val)
            elif local in ("title", "data-name", "aria-label"):
                el.attrib[attr] = redactor.text(val)
        if el.tag.endswith("style") and el.text:
            el.text = _URL_IN_CSS.sub("", el.text)
        elif el.text and el.text.strip():
            el.text = redactor.text(el.text)
    return ET.tostring(root, encoding="unicode")


def fetch_elevations(f: Fetcher, racks: Mapping[int, str], faces: tuple[str, ...] = ("front", "rear"),
                     workers: int = 8) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """Raw elevation SVGs ``{(rack key, face): svg}`` for every rack and face, fetched in parallel, and the
    ones NetBox could not render ``{(rack key, face): reason}`` (the report draws those from the snapshot)."""
    jobs = [(rid, key, face) for rid, key in racks.items() for face in faces]

    def one(job: tuple[int, str, str]) -> tuple[tuple[str, str], str, str]:
        rid, key, face = job
        try:  # two tries: a busy NetBox drops the odd connection; a rack NetBox cannot draw fails for good
            r = f.request("GET", f"/api/dcim/racks/{rid}/elevation/",
                          params={"face": face, "render": "svg", "include_images": "false"},
                          headers={"Accept": "image/svg+xml, */*"}, tries=2)
        except CampusnetError as exc:
            if exc.code != "E110":
                raise
            return (key, face), "", f"no answer ({exc.message.rsplit(': ', 1)[-1]})"
        if r.status_code in (401, 403):
            raise CampusnetError("E111", f"NetBox refused the token for the elevation of rack {key} "
                                 f"(HTTP {r.status_code})")
        if r.status_code >= 400 or "<svg" not in r.text[:2000]:
            try:
                detail = str(r.json().get("exception") or r.json().get("detail") or "")
            except ValueError:
                detail = ""
            return (key, face), "", f"HTTP {r.status_code}{' ' + detail if detail else ''}"
        return (key, face), r.text, ""

    svgs: dict[tuple[str, str], str] = {}
    errors: dict[tuple[str, str], str] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for k, svg, error in pool.map(one, jobs):
            if error:
                errors[k] = error
            else:
                svgs[k] = svg
    return svgs, errors


@dataclass
class NetBoxExtras:
    """Everything read from NetBox besides the Snapshot (None when the report runs offline)."""

    changes: ChangeLog | None = None
    elevations: dict[tuple[str, str], str] = field(default_factory=dict)  # sanitised SVG
    elevation_errors: dict[tuple[str, str], str] = field(default_factory=dict)  # NetBox could not render
    requests: int = 0
    seconds: float = 0.0
    url: str = ""


def read_extras(target: NetBoxTarget, racks: Mapping[int, str], redactor: Redactor,
                link_for_device: Callable[[int], str | None], *, max_changes: int = 5000,
                workers: int = 8) -> NetBoxExtras:
    """Change log and rack elevations, concurrently (the change-log pages and the SVGs share one pool)."""
    import time

    t0 = time.monotonic()
    with Fetcher(target, workers=workers) as f, ThreadPoolExecutor(max_workers=2) as pool:
        fut_changes = pool.submit(fetch_changes, f, redactor, max_changes, workers)
        fut_elev = pool.submit(fetch_elevations, f, racks, ("front", "rear"), workers)
        changes = fut_changes.result()
        raw, errors = fut_elev.result()
    elevations = {k: sanitize_svg(v, link_for_device, redactor) for k, v in raw.items()}
    return NetBoxExtras(changes=changes, elevations=elevations, elevation_errors=errors, requests=f.requests,
                        seconds=round(time.monotonic() - t0, 3), url=target.url)
