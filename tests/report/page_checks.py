"""Reading a report page back: its embedded data, its figures, and what it references outside itself."""

from __future__ import annotations

import html
import json
import re
from functools import cache
from typing import Any

EXTERNAL = re.compile(r"(?i)(?:https?|ftp|wss?):|//[a-z0-9-]+(?:\.[a-z0-9-]+)+/|\burl\(|\bsrc=|@import")


@cache
def plotly_js() -> str:
    import plotly.offline

    return str(plotly.offline.get_plotlyjs())


def embedded_data(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="hedgectl-report-data">(.*?)</script>', page, re.S)
    assert found, "the page embeds no report data"
    return dict(json.loads(found.group(1)))


def figures(page: str) -> dict[str, list[dict[str, Any]]]:
    """Figure name -> the figures of that name, in page order."""
    out: dict[str, list[dict[str, Any]]] = {}
    pattern = (
        r'<script type="application/json" class="hedgectl-figure" data-div="[^"]+" data-name="([^"]+)">(.*?)</script>'
    )
    for name, text in re.findall(pattern, page, re.S):
        out.setdefault(html.unescape(name), []).append(json.loads(text))
    return out


def outside_the_library(page: str) -> str:
    """The page less the plotly.js text it inlines (that library names map-tile URLs for charts never drawn)."""
    library = plotly_js().replace("</script", "<\\/script")
    assert page.count(library) == 1, "plotly.js is not inlined exactly once"
    return page.replace(library, "")


def external_references(page: str) -> list[str]:
    """Every URL, src=, url( or @import in the page outside the inlined library (the favicon's data: aside)."""
    rest = outside_the_library(page).replace('<link rel="icon" href="data:,">', "")
    return [m.group(0) for m in EXTERNAL.finditer(rest)]


def trace(figure: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in figure["data"] if t.get("name") == name)
