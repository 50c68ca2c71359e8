"""The live loop view's small charts: net PnL and each hedge's basis over the last minutes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from hedgectl.cli import bp_aster_cmd, render
from hedgectl.cli.render import TrailChart
from hedgectl.domain.types import Side
from hedgectl.engine.loop_config import LoopConfig
from hedgectl.engine.maker_taker_base import LoopEvent
from hedgectl.engine.maker_taker_stats import LoopStats

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


@given(st.lists(st.tuples(st.floats(0, 1e6), st.floats(-1e6, 1e6)), max_size=500))
def test_memory_stays_bounded_and_every_column_is_a_value_seen(points: list[tuple[float, float]]) -> None:
    chart = TrailChart("x", "u", window_s=60, width=12)
    for at, value in sorted(points):
        chart.add(at, value)
    assert len(chart._slots) <= 2 * chart.width
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
        Console(file=out, width=120, color_system=None, force_terminal=True), Console(file=io.StringIO())
    )
    yield out
    render.use_consoles(None, None)


def test_the_live_view_charts_pnl_and_each_hedges_basis_above_the_stats(terminal: io.StringIO) -> None:
    clock = FakeClock()
    reporter = bp_aster_cmd._RichReporter("paper", LoopConfig(cycles=1), clock)
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

    assert "basis aster - backpack (last 15 min): +5.0000 bps" in view
    assert "net PnL (last 15 min): -0.0066 USDT" in view
    assert view.index("net PnL (last 15 min)") < view.index("bp-aster loop stats")
