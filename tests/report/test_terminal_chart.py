"""The live loop view's small charts: net PnL and each hedge's basis over the last minutes."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from hedgectl.cli import loop_view, render
from hedgectl.cli.render import TrailChart
from hedgectl.domain.types import Side
from hedgectl.engine.maker_taker.config import LoopConfig
from hedgectl.engine.maker_taker.events import LoopEvent
from hedgectl.engine.maker_taker.stats import LoopStats

D = Decimal


def _text(renderable: object, width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_a_carried_chart_repeats_the_last_value_and_a_sampled_one_leaves_gaps() -> None:
    pnl = TrailChart("net PnL", "USDT", window_s=10, width=10)
    basis = TrailChart("basis", "bps", window_s=10, width=10, carry=False)
    for at, value in ((100.0, -1.0), (103.0, 2.0)):
        pnl.add(at, value)
        basis.add(at, value)
    assert pnl.columns(109.5) == [-1.0, -1.0, -1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    assert basis.columns(109.5) == [-1.0, None, None, 2.0, None, None, None, None, None, None]
    # Ten seconds on, the window holds nothing new: the carried chart still shows where it stands.
    assert pnl.columns(130.0) == [2.0] * 10
    assert basis.columns(130.0) == [None] * 10


def test_the_chart_says_its_last_value_range_and_window_and_draws_the_rise() -> None:
    chart = TrailChart("net PnL", "USDT", window_s=600, width=4, height=1)
    for at, value in ((0.0, -0.5), (150.0, 0.0), (300.0, 0.25), (450.0, 1.0)):
        chart.add(at, value)
    lines = _text(chart.render(599.0)).splitlines()
    assert lines[0] == "net PnL (last 10 min): +1.0000 USDT  [-0.5000 .. +1.0000]"
    assert lines[1] == "▁▃▅█"  # levels 1, 1 + round(7 x 0.5 / 1.5), 1 + round(7 x 0.75 / 1.5), 8


def test_an_empty_chart_says_so() -> None:
    assert "no data yet" in _text(TrailChart("basis", "bps", window_s=60).render(0.0))


def test_a_young_run_spreads_over_the_width_and_an_old_one_slides_with_the_window() -> None:
    chart = TrailChart("net PnL", "USDT", window_s=900, width=10, height=1)
    for second in range(0, 31, 3):
        chart.add(second, float(second))
    assert chart.span_s(30) == 30  # since the first point, not 15 minutes of mostly nothing
    assert chart.columns(30) == [0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0, 30.0]
    assert chart.span_s(2000) == 900
    assert chart.columns(2000) == [30.0] * 10  # the window moved past every point: the last value carries


@given(st.lists(st.tuples(st.floats(0, 1e6), st.floats(-1e6, 1e6)), max_size=500))
def test_memory_stays_bounded_and_every_column_is_a_value_seen(points: list[tuple[float, float]]) -> None:
    chart = TrailChart("x", "u", window_s=60, width=12)
    for at, value in sorted(points):
        chart.add(at, value)
    assert len(chart._points) <= 4 * chart.width * (1 + math.log(chart.window_s)) + 2
    now = max((at for at, _ in points), default=0.0)
    seen = {value for _, value in points}
    assert all(v is None or v in seen for v in chart.columns(now))


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def terminal() -> Iterator[io.StringIO]:
    out = io.StringIO()
    render.use_consoles(
        Console(file=out, width=120, height=60, color_system=None, force_terminal=True), Console(file=io.StringIO())
    )
    yield out
    render.use_consoles(None, None)


def test_the_live_view_charts_pnl_and_each_hedges_basis_above_the_stats(terminal: io.StringIO) -> None:
    clock = FakeClock()
    reporter = loop_view.RichReporter("paper", LoopConfig(cycles=1), clock)
    stats = LoopStats(maker_venue="backpack", taker_venue="aster")
    at = clock.now()
    reporter.event(
        LoopEvent("fill", at, 1, 1, {"venue": "backpack", "delta": D(10), "leg_filled": D(10), "price": D("1.2000")})
    )
    reporter.event(
        LoopEvent("hedge", at, 1, 1, {"venue": "aster", "side": Side.BUY, "filled": D(10), "avg_price": D("1.2006")})
    )
    stats.maker.add(Side.SELL, D(10), D("1.2"), D("0.0024"))
    stats.taker.add(Side.BUY, D(10), D("1.2006"), D("0.0042"))
    reporter.stats(stats.snapshot())
    clock.t += 60

    view = _text(reporter.view((stats.snapshot(), None)), width=120)
    reporter.close()

    assert "basis aster - backpack (last 60 s): +5.0000 bps" in view
    assert "net PnL (last 60 s): -0.0066 USDT" in view
    assert view.index("net PnL (last 60 s)") < view.index("bp-aster loop stats")


def test_a_thousand_updates_a_second_for_an_hour_stay_a_few_hundred_points() -> None:
    chart = TrailChart("net PnL", "USDT", window_s=900, width=48)
    for ms in range(0, 3_600_000, 1):
        if ms % 7 == 0:  # about 140 updates a second
            chart.add(ms / 1000, float(ms % 1000))
    assert len(chart._points) <= 4 * 48 * (1 + math.log(900)) + 2
    assert chart.span_s(3600) == 900


def test_on_a_short_terminal_the_charts_make_way_for_the_stats_and_the_countdown() -> None:
    render.use_consoles(
        Console(file=io.StringIO(), width=120, height=20, color_system=None, force_terminal=True),
        Console(file=io.StringIO()),
    )
    try:
        clock = FakeClock()
        reporter = loop_view.RichReporter("paper", LoopConfig(cycles=1), clock)
        stats = LoopStats(maker_venue="backpack", taker_venue="aster")
        view = _text(reporter.view((stats.snapshot(), "between legs: leg 2 starts in 0:02")), width=120)
        reporter.close()
    finally:
        render.use_consoles(None, None)
    assert "net PnL (last" not in view  # a live display crops from the bottom: the charts go, not the countdown
    assert "bp-aster loop stats" in view
    assert "between legs: leg 2 starts in 0:02 (Ctrl+C to stop)" in view
