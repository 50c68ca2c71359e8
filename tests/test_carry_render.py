"""The carry's live view, rendered into a string: every figure of both legs, and the pair's line."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from rich.console import Console

from hedgectl.cli import carry_view, render
from hedgectl.domain.types import Position, Quote
from hedgectl.engine.carry.view import CarryView, leg_view, spread_apr


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    render.use_consoles(Console(file=buffer, width=140, color_system=None), Console(file=io.StringIO(), width=140))
    yield buffer
    render.use_consoles(None, None)


def quote(venue: str, mark: str, rate: str) -> Quote:
    # The next settlement 2 h 30 min and a half from the moment the quote is read (the view shows the time left).
    next_funding = datetime.now(UTC) + timedelta(hours=2, minutes=30, seconds=30)
    return Quote(venue, "BTC", D(mark) - 1, D(mark) + 1, mark=D(mark), funding_rate=D(rate),
                 funding_interval=timedelta(hours=8), next_funding_at=next_funding)  # fmt: skip


def test_the_live_view_shows_both_legs_and_the_pairs_figures(out: io.StringIO) -> None:
    lq, sq = quote("binance", "95100", "0.0001"), quote("okx", "95080", "0.0003")
    view = CarryView(
        symbol="BTC",
        target_qty=D("0.003"),
        notional=D(300),
        long=leg_view("binance", [Position("binance", "BTC", D("0.003"), D(95000))], lq),
        short=leg_view("okx", [Position("okx", "BTC", D("-0.003"), D(95010), liquidation_price=D("104589"))], sq),
        fees=D("0.285"),
        funding=D("0.114"),
        spread_apr_pct=spread_apr(lq, sq),
    )
    reporter = carry_view.RichReporter()
    render.stdout_console().print(reporter._build(view))
    text = out.getvalue()
    assert "binance" in text
    assert "okx" in text
    assert "104589" in text  # the short's liquidation price ...
    assert "10.00%" in text  # ... and its distance from the mark
    assert "10.95%" in text  # okx's own rate annualised (0.0003 per 8 h)
    assert "2h30m" in text  # the time left, not a clock time that reads like a countdown
    assert "spread 21.90% APR" in text
    assert "delta +0.000 (0.00%)" in text
    assert "fees 0.2850  funding 0.1140" in text
    assert "uPnL 0.0900" in text  # 0.003 x (95100 - 95000) - 0.003 x (95080 - 95010)
    assert "net -0.0810 USDT" in text  # uPnL + funding 0.114 - fees 0.285


class _Clock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def monotonic(self) -> float:
        return self.now_s


def test_the_live_view_charts_net_pnl_and_basis_over_the_readings(out: io.StringIO) -> None:
    clock = _Clock()
    reporter = carry_view.RichReporter(clock)  # type: ignore[arg-type]
    views = []
    for second, short_mark in ((0.0, "95100"), (30.0, "95005")):
        lq, sq = quote("binance", "95100", "0.0001"), quote("okx", short_mark, "0.0003")
        views.append(
            CarryView(
                symbol="BTC",
                target_qty=D("0.003"),
                notional=D(300),
                long=leg_view("binance", [Position("binance", "BTC", D("0.003"), D(95000))], lq),
                short=leg_view("okx", [Position("okx", "BTC", D("-0.003"), D(95010))], sq),
                fees=D("0.285"),
                funding=D(0),
                spread_apr_pct=spread_apr(lq, sq),
            )
        )
        clock.now_s = second
        reporter.view(views[-1])
    reporter._stop()  # the live display ends: its last frame stays
    text = out.getvalue()
    # net: 0.003 x 100 - 0.003 x (95100 - 95010) - 0.285 = -0.255, then 0.3 - 0.003 x (95005 - 95010) - 0.285 = 0.03
    assert "net PnL (last 30 s): +0.0300 USDT  [-0.2550 .. +0.0300]" in text
    assert f"basis long - short (last 30 s): {float(views[-1].basis_bps):+.4f} bps" in text
    assert "spread" in text  # the table and its line stay under the charts
