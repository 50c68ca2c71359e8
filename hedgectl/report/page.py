"""One self-contained HTML file: plotly.js inlined, the report's data embedded as JSON, no external reference.

The page loads nothing: no CDN, no font, no image. Its data is the --json document itself, in
`<script type="application/json" id="hedgectl-report-data">`; each chart's figure is one
`<script type="application/json" class="hedgectl-figure">` that a few lines of script hand to Plotly.newPlot.
plotly.js's own text names URLs (map tiles, its web site) for chart types this page never draws; the report's
test loads the page with the network refused and checks that nothing was requested.
"""

from __future__ import annotations

import html
import json
from typing import Any

from hedgectl.report.charts import Figure, cumulative_figure, run_figures

_CSS = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 16px; color: #111; }
h1 { font-size: 22px; } h2 { font-size: 18px; border-top: 2px solid #ddd; padding-top: 12px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; } th { background: #f3f4f6; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 8px; }
.note { color: #555; font-size: 13px; } .warn { color: #b45309; }
"""

# Draws every embedded figure; the figures' JSON is read from the page, never fetched.
_BOOT = """
document.querySelectorAll("script.hedgectl-figure").forEach(function (el) {
  var fig = JSON.parse(el.textContent);
  Plotly.newPlot(el.dataset.div, fig.data, fig.layout, {displaylogo: false, displayModeBar: false, responsive: true});
});
"""


def _e(value: Any) -> str:
    return "-" if value is None else html.escape(str(value))


def _table(columns: list[str], rows: list[list[Any]], numeric: set[str] | frozenset[str] = frozenset()) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_e(v)}</td>' if c in numeric else f"<td>{_e(v)}</td>"
            for c, v in zip(columns, row, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _Figures:
    def __init__(self) -> None:
        self.count = 0

    def div(self, figure: Figure, name: str) -> str:
        self.count += 1
        div_id = f"fig-{self.count}-{name}"
        return (
            f'<div><div id="{div_id}"></div><script type="application/json" class="hedgectl-figure" '
            f'data-div="{div_id}" data-name="{html.escape(name)}">{embedded(figure)}</script></div>'
        )


_NUMERIC = frozenset({"net PnL", "fees", "funding", "volume", "cost/10k", "price PnL", "fills", "runs", "position"})


def _summary(summary: dict[str, Any], figures: _Figures) -> str:
    totals = summary["totals"]
    rows = [
        [
            r["run_id"],
            r["command"],
            r["mode"],
            r["started_at"][:19],
            r["status"],
            r["exit_code"],
            r["net_pnl"],
            r["fees"],
            r["funding"],
            r["volume"],
            r["cost_per_10k"],
        ]
        for r in summary["runs"]
    ]
    rows.append(
        [
            f"total ({totals['runs']} runs)",
            *[""] * 5,
            totals["net_pnl"],
            "",
            "",
            totals["volume"],
            totals["cost_per_10k"],
        ]
    )
    columns = ["run", "command", "mode", "started (UTC)", "status", "exit"]
    columns += ["net PnL", "fees", "funding", "volume", "cost/10k"]
    venue_rows = [
        [name, v["asset"], v["runs"], v["fills"], v["volume"], v["fees"], v["funding"]]
        for name, v in summary["venues"].items()
    ]
    parts = [
        "<h2>Runs</h2>",
        '<p class="note">net PnL as each run recorded it; fees, funding and volume from its fills and funding '
        "rows, in USDT (the figures <code>hedgectl history</code> shows); cost per 10k = (fees + funding paid - "
        "funding received + the hedges' slippage against the maker price) / volume x 10,000.</p>",
        _table(columns, rows, _NUMERIC),
    ]
    if len(summary["runs"]) > 1:
        parts.append(figures.div(cumulative_figure(summary), "cumulative"))
    parts += [
        "<h3>Totals per venue (each in its own asset)</h3>",
        _table(["venue", "asset", "runs", "fills", "volume", "fees", "funding"], venue_rows, _NUMERIC),
    ]
    return "\n".join(parts)


def _latency(latency: dict[str, Any] | None) -> str:
    if not latency:
        return ""
    rows = [
        [
            venue,
            *((phases.get(phase) or {}).get(key) for phase in ("open", "close") for key in ("ack_ms", "fill_ms")),
        ]
        for venue, phases in sorted(latency["legs"].items())
    ]
    return (
        f'<p class="note">open phase {_e(latency["open_phase_ms"])} ms, close phase '
        f"{_e(latency['close_phase_ms'])} ms (both orders built -> both acknowledged); open skew "
        f"{_e(latency['open_skew_ms'])} ms (between the two open requests leaving).</p>"
        + _table(
            ["leg", "open ack ms", "open fill ms", "close ack ms", "close fill ms"],
            rows,
            {"open ack ms", "open fill ms", "close ack ms", "close fill ms"},
        )
    )


def _carry_events(run: dict[str, Any]) -> str:
    """A carry's open, re-hedges, breaker trips and exit, in time order, as the carry said them."""
    rows = [[m["at"], m["event"], m.get("text")] for m in run["markers"] if "event" in m]
    return _table(["at (UTC)", "event", "what the carry said"], rows) if rows else ""


def _run(run: dict[str, Any], figures: _Figures) -> str:
    info, totals = run["run"], run["totals"]
    head = (
        f'<h2 id="run-{_e(info["id"])}">{_e(info["command"])} run {_e(info["id"])}</h2>'
        f'<p class="note">{_e(info["mode"])} mode, {_e(info["started_at"])} .. {_e(info["ended_at"])}, '
        f"{_e(info['status'])}, exit {_e(info['exit_code'])}"
        + (f", error: {_e(info['error'])}" if info["error"] else "")
        + "</p>"
    )
    venue_rows = [
        [name, v["asset"], v["fills"], v["volume"], v["price_pnl"], v["fees"], v["funding"], v["net"], v["position"]]
        for name, v in run["venues"].items()
    ]
    venue_rows.append(
        [
            "total",
            run["asset"],
            "",
            *(totals[k] for k in ("volume", "price_pnl", "fees", "funding", "net")),
            "",
        ]
    )
    parts = [
        head,
        _table(
            ["venue", "asset", "fills", "volume", "price PnL", "fees", "funding", "net PnL", "position"],
            venue_rows,
            _NUMERIC,
        ),
    ]
    if run["conversion"]:
        parts.append(f'<p class="note">total in USDT: {_e(run["conversion"])}</p>')
    parts += [f'<p class="note warn">{_e(w)}</p>' for w in run["warnings"]]
    parts.append(_latency(run["latency"]))
    if run["kind"] == "carry":
        parts.append(_carry_events(run))
    if run["fills"] or run["funding"]:
        parts.append('<div class="charts">' + "".join(figures.div(f, n) for n, f in run_figures(run)) + "</div>")
    else:
        parts.append('<p class="note">no fills and no funding recorded: nothing to chart.</p>')
    return "\n".join(parts)


def render_html(document: dict[str, Any], plotly_js: str) -> str:
    """The report page for the --json `document`, with `plotly_js` (the library's text) inlined."""
    figures = _Figures()
    library = plotly_js.replace("</script", "<\\/script")
    body = [
        "<h1>hedgectl report</h1>",
        f'<p class="note">generated {_e(document["generated_at"])}; amounts in {_e(document["asset"])} unless '
        "a column names another asset; times in UTC.</p>",
        _summary(document["summary"], figures),
        *(_run(run, figures) for run in document["runs"]),
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>hedgectl report</title>",
            '<link rel="icon" href="data:,">',  # no favicon request
            f"<style>{_CSS}</style>",
            f"<script>{library}</script>",
            "</head><body>",
            *body,
            f'<script type="application/json" id="hedgectl-report-data">{embedded(document)}</script>',
            f"<script>{_BOOT}</script>",
            "</body></html>",
        ]
    )


def embedded(document: Any) -> str:
    """JSON as a page embeds it in a <script> element: no "<" at all (JSON's escape for it reads back the same),
    so no text from the journal can close the element or open another."""
    return json.dumps(document, separators=(",", ":")).replace("<", "\\u003c")
