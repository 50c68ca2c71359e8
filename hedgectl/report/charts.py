"""Plotly figures (plain dicts, plotly.js's own JSON schema) from the report's document.

The figures take the document's numbers (strings) to floats for drawing only; the exact figures stay in the
document the page embeds beside them. Times are drawn in UTC without an offset (plotly.js reads none).
"""

from __future__ import annotations

from typing import Any

Figure = dict[str, Any]

COLORS = {"net": "#1f2937", "price_pnl": "#2563eb", "fees": "#dc2626", "funding": "#16a34a"}
VENUE_COLORS = ("#2563eb", "#ea580c", "#7c3aed", "#0891b2")
_BASE_LAYOUT: dict[str, Any] = {
    "margin": {"l": 60, "r": 60, "t": 40, "b": 40},
    "height": 320,
    "hovermode": "x unified",
    "legend": {"orientation": "h", "y": -0.25},
    "font": {"family": "system-ui, sans-serif", "size": 12},
}


def utc(at: str) -> str:
    """An ISO time as plotly.js reads it: 'YYYY-MM-DD HH:MM:SS.ffffff', UTC (the journal's times are UTC)."""
    return at.replace("T", " ")[:26].split("+")[0]


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {**_BASE_LAYOUT, "title": {"text": title, "x": 0}, **extra}


def funding_lines(run: dict[str, Any]) -> list[dict[str, Any]]:
    """A dotted vertical line at each funding settlement of the run."""
    return [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": utc(m["at"]),
            "x1": utc(m["at"]),
            "y0": 0,
            "y1": 1,
            "line": {"color": COLORS["funding"], "dash": "dot", "width": 1},
        }
        for m in run["markers"]
        if m["kind"] == "funding"
    ]


# A carry's events drawn across its charts: colour, and the label written at the top of the line.
EVENT_STYLES = {"rehedge": ("#7c3aed", "re-hedge"), "trip": ("#dc2626", "breaker"), "exit": ("#111827", "exit")}


def event_lines(run: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A solid vertical line and a label at each re-hedge, breaker trip and exit of a carry: (shapes, annotations)."""
    shapes, notes = [], []
    for m in run["markers"]:
        if m["kind"] not in EVENT_STYLES:
            continue
        color, label = EVENT_STYLES[m["kind"]]
        x = utc(m["at"])
        shapes.append(
            {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1, "line": {"color": color}}
        )
        notes.append(
            {
                "x": x,
                "xref": "x",
                "y": 1,
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "text": label,
                "hovertext": m.get("text") or label,
                "font": {"color": color, "size": 10},
            }
        )
    return shapes, notes


def pnl_figure(run: dict[str, Any]) -> Figure:
    """Net PnL over time and its parts (price PnL, fees as a cost, funding); funding settlements marked."""
    points = run["pnl"]
    x = [utc(p["at"]) for p in points]
    parts = (("net", "net PnL"), ("price_pnl", "price PnL"), ("fees", "fees (cost)"), ("funding", "funding"))
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "line": {"shape": "hv", "color": COLORS[key], "width": 3 if key == "net" else 1.5},
            "marker": {"size": 4},
            "name": name,
            "x": x,
            "y": [float(p[key]) * (-1 if key == "fees" else 1) for p in points],
        }
        for key, name in parts
    ]
    shapes, notes = event_lines(run)
    return {
        "data": data,
        "layout": _layout(
            f"PnL over time ({run['asset']})",
            shapes=funding_lines(run) + shapes,
            annotations=notes,
            yaxis={"title": {"text": run["asset"]}, "zeroline": True},
        ),
    }


def price_figure(run: dict[str, Any]) -> Figure:
    """Each venue's fills (buys up, sells down) and, for a bootstrap, the marks it held at."""
    venues = sorted({f["venue"] for f in run["fills"]} | {v for m in run["marks"] for v in m["marks"]})
    data: list[dict[str, Any]] = []
    for i, venue in enumerate(venues):
        color = VENUE_COLORS[i % len(VENUE_COLORS)]
        marks = [m for m in run["marks"] if venue in m["marks"]]
        if marks:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"{venue} mark",
                    "line": {"color": color, "width": 1, "dash": "dot"},
                    "x": [utc(m["at"]) for m in marks],
                    "y": [_num(m["marks"][venue]) for m in marks],
                }
            )
        for side, symbol in (("buy", "triangle-up"), ("sell", "triangle-down")):
            fills = [f for f in run["fills"] if f["venue"] == venue and f["side"] == side]
            if not fills:
                continue
            data.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "name": f"{venue} {side}",
                    "marker": {"symbol": symbol, "size": 10, "color": color, "line": {"width": 1, "color": "#111"}},
                    "x": [utc(f["at"]) for f in fills],
                    "y": [_num(f["price"]) for f in fills],
                    "customdata": [[f["qty"], f["fee"], f["fee_asset"], f["intent"] or ""] for f in fills],
                    "hovertemplate": "%{y} x %{customdata[0]} fee %{customdata[1]} %{customdata[2]} "
                    "(%{customdata[3]})<extra>" + f"{venue} {side}</extra>",
                }
            )
    return {"data": data, "layout": _layout("Fills and prices, both venues", yaxis={"title": {"text": "price"}})}


def latency_figure(run: dict[str, Any]) -> Figure | None:
    """Per leg, open and close: request sent -> acknowledged, and -> fully filled known (ms)."""
    latency = run["latency"]
    if not latency or not latency["legs"]:
        return None
    legs = sorted(latency["legs"])
    data = []
    for phase in ("open", "close"):
        for figure, label in (("ack_ms", "ack"), ("fill_ms", "fill")):
            data.append(
                {
                    "type": "bar",
                    "name": f"{phase} {label} ms",
                    "x": legs,
                    "y": [_num((latency["legs"][v].get(phase) or {}).get(figure)) for v in legs],
                }
            )
    return {"data": data, "layout": _layout("Leg latency (ms)", barmode="group", yaxis={"title": {"text": "ms"}})}


def volume_figure(run: dict[str, Any]) -> Figure:
    """Cumulative volume and cost per 10k of volume over time (a loop's)."""
    points = [p for p in run["pnl"] if p["cause"] in ("fill", "slippage", "funding")]  # what moves the cost
    x = [utc(p["at"]) for p in points]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hv", "color": "#2563eb"},
                "name": f"volume ({run['asset']})",
                "x": x,
                "y": [_num(p["volume"]) for p in points],
            },
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"color": "#dc2626"},
                "name": "cost per 10k",
                "yaxis": "y2",
                "x": x,
                "y": [_num(p["cost_per_10k"]) for p in points],
            },
        ],
        "layout": _layout(
            "Volume and cost per 10k over time",
            shapes=funding_lines(run),
            yaxis={"title": {"text": run["asset"]}},
            yaxis2={"title": {"text": "cost per 10k"}, "overlaying": "y", "side": "right"},
        ),
    }


def reaction_figure(run: dict[str, Any]) -> Figure | None:
    """Hedge reaction times (maker fill seen -> hedge order sent) as a histogram."""
    samples = run["hedge_reaction_ms"]
    if not samples:
        return None
    return {
        "data": [{"type": "histogram", "name": "hedges", "x": samples, "marker": {"color": "#7c3aed"}}],
        "layout": _layout(
            f"Hedge reaction times ({len(samples)} hedges)",
            xaxis={"title": {"text": "ms, maker fill seen -> hedge sent"}},
            yaxis={"title": {"text": "hedges"}},
            bargap=0.05,
        ),
    }


def _line(name: str, x: list[str], y: list[float | None], color: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "marker": {"size": 3},
        "name": name,
        "x": x,
        "y": y,
        "line": {"shape": "hv", "color": color, "width": 1.5},
        **extra,
    }


def basis_figure(run: dict[str, Any]) -> Figure | None:
    """A carry's basis (long venue's mark less the short's, bps) and funding spread (APR %) at each reading."""
    points = run["carry"]
    if not points:
        return None
    x = [utc(p["at"]) for p in points]
    shapes, notes = event_lines(run)
    return {
        "data": [
            _line("basis bps", x, [_num(p["basis_bps"]) for p in points], "#2563eb"),
            _line(
                "funding spread APR %", x, [_num(p["spread_apr_pct"]) for p in points], COLORS["funding"], yaxis="y2"
            ),
        ],
        "layout": _layout(
            "Basis and funding spread over time",
            shapes=funding_lines(run) + shapes,
            annotations=notes,
            yaxis={"title": {"text": "basis bps"}, "zeroline": True},
            yaxis2={"title": {"text": "spread APR %"}, "overlaying": "y", "side": "right"},
        ),
    }


def delta_figure(run: dict[str, Any]) -> Figure | None:
    """A carry's net delta (base units, and % of the notional) at each reading; re-hedges and exits marked."""
    points = run["carry"]
    if not points:
        return None
    x = [utc(p["at"]) for p in points]
    shapes, notes = event_lines(run)
    return {
        "data": [
            _line("delta % of notional", x, [_num(p["delta_pct"]) for p in points], "#ea580c"),
            _line("delta (base)", x, [_num(p["delta"]) for p in points], "#6b7280", yaxis="y2"),
        ],
        "layout": _layout(
            "Delta and re-hedges",
            shapes=shapes,
            annotations=notes,
            yaxis={"title": {"text": "% of notional"}, "rangemode": "tozero"},
            yaxis2={"title": {"text": "base"}, "overlaying": "y", "side": "right", "zeroline": True},
        ),
    }


def cumulative_figure(summary: dict[str, Any]) -> Figure:
    """Over the runs: cumulative net PnL and volume at each run's end."""
    points = summary["cumulative"]
    x = [utc(p["at"]) for p in points]
    ids = [p["run_id"] for p in points]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "line": {"shape": "hv", "color": COLORS["net"]},
                "name": "cumulative net PnL",
                "x": x,
                "y": [_num(p["net"]) for p in points],
                "text": ids,
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "line": {"shape": "hv", "color": "#2563eb"},
                "name": "cumulative volume",
                "yaxis": "y2",
                "x": x,
                "y": [_num(p["volume"]) for p in points],
                "text": ids,
            },
        ],
        "layout": _layout(
            "Cumulative net PnL and volume over the runs",
            yaxis={"title": {"text": "net PnL"}},
            yaxis2={"title": {"text": "volume"}, "overlaying": "y", "side": "right"},
        ),
    }


def run_figures(run: dict[str, Any]) -> list[tuple[str, Figure]]:
    """The charts of one run, named."""
    figures: list[tuple[str, Figure | None]] = [("pnl", pnl_figure(run)), ("prices", price_figure(run))]
    if run["kind"] == "bootstrap":
        figures.append(("latency", latency_figure(run)))
    if run["kind"] == "loop":
        figures += [("volume", volume_figure(run)), ("reaction", reaction_figure(run))]
    if run["kind"] == "carry":
        figures += [("basis", basis_figure(run)), ("delta", delta_figure(run)), ("volume", volume_figure(run))]
    return [(name, fig) for name, fig in figures if fig is not None]
