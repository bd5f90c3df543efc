"""Check a generated site: every href/src resolves to a file inside it (and a #fragment to an id there),
nothing points outside (no scheme, no host). Used by ``campusnet report --check`` and by the tests."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class PageParser(HTMLParser):
    """Collects href/src references, element ids and the text of h1/h2 headings."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()
        self.headings: list[str] = []
        self._h: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for k, v in attrs:
            if k in ("href", "src", "xlink:href", "data") and v is not None:
                self.refs.append(v)
            if k == "id" and v:
                self.ids.add(v)
        if tag in ("h1", "h2"):
            self._h = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2") and self._h is not None:
            self.headings.append(" ".join("".join(self._h).split()))
            self._h = None

    def handle_data(self, data: str) -> None:
        if self._h is not None:
            self._h.append(data)


def parse_page(text: str) -> PageParser:
    p = PageParser()
    p.feed(text)
    return p


_SVG_REF = re.compile(r'(?:xlink:)?href="([^"]*)"')


def broken_refs(site: Path, refs_of: dict[Path, list[str]] | None = None) -> list[str]:
    """The broken or external references of every HTML and SVG file in ``site`` (``refs_of`` overrides
    the references of some files, e.g. with what a browser's DOM holds)."""
    site = site.resolve()
    broken: list[str] = []
    ids: dict[Path, set[str]] = {}
    for f in sorted([*site.rglob("*.html"), *site.rglob("*.svg")]):
        if refs_of is not None and f in refs_of:
            refs = refs_of[f]
        else:
            text = f.read_text(encoding="utf-8")
            refs = parse_page(text).refs if f.suffix == ".html" else _SVG_REF.findall(text)
        for ref in refs:
            u = urlsplit(ref)
            if u.scheme or u.netloc:
                broken.append(f"{f.relative_to(site)}: external {ref}")
                continue
            target = (f.parent / unquote(u.path)).resolve() if u.path else f
            if site not in target.parents or not target.is_file():
                broken.append(f"{f.relative_to(site)}: {ref}")
                continue
            if u.fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = parse_page(target.read_text(encoding="utf-8")).ids
                if unquote(u.fragment) not in ids[target]:
                    broken.append(f"{f.relative_to(site)}: {ref} (no such id)")
    return broken
