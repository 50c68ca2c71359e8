"""The page's figures: valid plotly figures, funding marked on the PnL curve, run text escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import plotly.graph_objects as go

from hedgectl.domain.types import Side
from hedgectl.journal import Journal
from hedgectl.report.charts import cumulative_figure, run_figures, utc
from hedgectl.report.page import render_html
from hedgectl.report.series import build_report
from tests.report.journal_rows import funding, trade
from tests.report.page_checks import embedded_data, plotly_js

D = Decimal


def _document(tmp_path: Path, *, error: str | None = None) -> dict:  # type: ignore[type-arg]
    journal = Journal(tmp_path / "journal.sqlite")
    loop = journal.start_run("bp-aster loop", "paper")
    trade(journal, loop, "backpack", Side.SELL, "10", "1.5", "0.003", asset="USDC", at_s=0)
    trade(journal, loop, "aster", Side.BUY, "10", "1.5006", "0.006", at_s=0.01)
    funding(journal, loop, "aster", "-0.0012", at_s=30)
    journal.event(loop, "loop.hedge", {"reaction_ms": 3.5})
    journal.event(loop, "loop.cycle", {"cycles": 1})
    journal.end_run(loop, status="failed", exit_code=1, net_pnl=D("-0.0162"), volume=D("30.006"), error=error)
    boot = journal.start_run("bootstrap", "paper")
    trade(journal, boot, "binance", Side.BUY, "0.01", "100000", "0.5", at_s=60)
    trade(journal, boot, "binance", Side.SELL, "0.01", "100000", "0.5", at_s=70, intent="close")
    journal.event(boot, "bootstrap.open", {"phase_ms": 5.0, "skew_ms": 0.3, "legs": {"binance": {"ack_ms": 4.0}}})
    journal.end_run(boot, status="ok", exit_code=0, net_pnl=D(-1), volume=D(2000))
    return build_report(journal, journal.runs(None)[::-1], datetime.now(UTC)).document()


def test_every_figure_is_a_valid_plotly_figure(tmp_path: Path) -> None:
    document = _document(tmp_path)
    names = []
    for run in document["runs"]:
        for name, figure in run_figures(run):
            go.Figure(figure)  # raises on any property plotly.js does not know
            names.append(name)
    go.Figure(cumulative_figure(document["summary"]))
    assert names == ["pnl", "prices", "volume", "reaction", "pnl", "prices", "latency"]


def test_a_funding_settlement_is_marked_on_the_pnl_and_volume_charts(tmp_path: Path) -> None:
    loop = _document(tmp_path)["runs"][0]
    (payment,) = loop["funding"]
    figures = dict(run_figures(loop))
    for name in ("pnl", "volume"):
        assert [shape["x0"] for shape in figures[name]["layout"]["shapes"]] == [utc(payment["at"])]
    figure = figures["pnl"]
    funding_trace = next(t for t in figure["data"] if t["name"] == "funding")
    assert funding_trace["y"][-1] == -0.0012


def test_run_text_cannot_break_out_of_the_page(tmp_path: Path) -> None:
    document = _document(tmp_path, error="</script><script>alert(1)</script><img src=x>")
    page = render_html(document, plotly_js())
    rest = page.replace(plotly_js().replace("</script", "<\\/script"), "")
    assert "<script>alert(1)" not in rest
    assert "<img" not in rest
    assert embedded_data(page)["runs"][0]["run"]["error"] == "</script><script>alert(1)</script><img src=x>"


def test_a_carrys_figures_are_valid_and_mark_its_rehedges_trips_and_exit(tmp_path: Path) -> None:
    from tests.report.test_series import _carry_run

    journal = Journal(tmp_path / "journal.sqlite")
    run_id = _carry_run(journal)
    (run,) = build_report(journal, [journal.run(run_id)], datetime.now(UTC)).document()["runs"]  # type: ignore[list-item]
    figures = run_figures(run)
    for _, figure in figures:
        go.Figure(figure)
    assert [name for name, _ in figures] == ["pnl", "prices", "basis", "delta", "volume"]
    named = dict(figures)
    for name in ("pnl", "basis", "delta"):
        assert [a["text"] for a in named[name]["layout"]["annotations"]] == ["re-hedge", "breaker", "exit"]
    spread = next(t for t in named["basis"]["data"] if t["name"] == "funding spread APR %")
    assert spread["y"] == [12.5, None]
    delta = next(t for t in named["delta"]["data"] if t["name"] == "delta % of notional")
    assert delta["y"] == [0.0, 50.0]
    page = render_html(build_report(journal, [journal.run(run_id)], datetime.now(UTC)).document(), "")  # type: ignore[list-item]
    assert "circuit breaker tripped" in page
    assert "re-hedged" in page
