"""The loop's pure parts: hedge sizing, the funding gate, the maker price, constant-memory stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.types import Market, Quote, Side
from hedgectl.engine.maker_taker.funding_gate import fallback_funding_at, funding_pause, next_funding
from hedgectl.engine.maker_taker.hedger import hedge_qty, min_order_qty
from hedgectl.engine.maker_taker.leg import quote_price
from hedgectl.engine.maker_taker.stats import LoopStats, Reservoir, VenueTally

D = Decimal


def _market(step: str = "1", min_qty: str = "1", min_notional: str = "5") -> Market:
    return Market(
        venue="aster",
        symbol="ASTER",
        venue_symbol="ASTERUSDT",
        base="ASTER",
        quote="USDT",
        tick_size=D("0.00001"),
        step_size=D(step),
        min_qty=D(min_qty),
        min_notional=D(min_notional),
    )


def test_the_minimum_hedge_covers_the_notional_floor_with_room() -> None:
    assert min_order_qty(_market(), D("1.2")) == D(5)  # 5 * 1.02 / 1.2 = 4.25 -> 5
    assert min_order_qty(_market(), D("1.2"), reduce_only=True) == D(1)  # reduce-only skips the notional floor
    assert min_order_qty(_market(step="0.1", min_qty="0.1", min_notional="0"), D("1.2")) == D("0.1")


def test_hedge_qty_carries_what_is_below_the_minimum() -> None:
    assert hedge_qty(D("4.9"), D(10), D(1), D(5), final=False) == 0
    assert hedge_qty(D("5.5"), D(10), D(1), D(5), final=False) == D(5)
    assert hedge_qty(D(6), D(10), D(1), D(5), final=False) == D(5)  # 6 would leave an unhedgeable 4
    assert hedge_qty(D(6), D(6), D(1), D(5), final=False) == D(6)  # nothing left to come
    assert hedge_qty(D(3), D(3), D(1), D(5), final=True) == 0  # never hedgeable: closed on the maker


@given(
    target_units=st.integers(min_value=5, max_value=60),
    cuts=st.lists(st.integers(min_value=1, max_value=600), min_size=1, max_size=12),
)
def test_fills_in_any_pieces_end_fully_hedged_with_every_hedge_valid(target_units: int, cuts: list[int]) -> None:
    """Maker fills in tenths (Backpack's step), hedges in whole units of at least 5 (Aster's): whatever the
    pieces, every hedge is valid and the leg ends exactly hedged once the maker side is complete."""
    target, step, minimum = D(target_units), D(1), D(5)
    filled = hedged = D(0)
    tenths = sorted({min(c, target_units * 10) for c in cuts} | {target_units * 10})
    for t in tenths:
        filled = D(t) / 10
        h = hedge_qty(filled - hedged, target - hedged, step, minimum, final=False)
        assert h == 0 or (h >= minimum and h % step == 0 and h <= filled - hedged)
        hedged += h
        left = target - hedged
        assert left == 0 or left >= minimum  # what is still to come can always be hedged later
    last = hedge_qty(filled - hedged, target - hedged, step, minimum, final=True)
    assert hedged + last == target


def _quote(last: str | None, bid: str = "1.1999", ask: str = "1.2001", **kw: object) -> Quote:
    return Quote(venue="backpack", symbol="ASTER", bid=D(bid), ask=D(ask), last=None if last is None else D(last), **kw)  # type: ignore[arg-type]


def test_the_maker_price_moves_away_from_the_market_on_the_tick() -> None:
    tick = D("0.0001")
    assert quote_price(_quote("1.2"), Side.SELL, D("0.2"), tick) == D("1.2024")
    assert quote_price(_quote("1.2"), Side.BUY, D("0.2"), tick) == D("1.1976")
    assert quote_price(_quote(None), Side.SELL, D("0.2"), tick) == D("1.2024")  # no last: the mid


def test_fallback_funding_times_are_00_08_16_utc() -> None:
    at = datetime(2025, 3, 1, 7, 59, 59, tzinfo=UTC)
    assert fallback_funding_at(at) == datetime(2025, 3, 1, 8, tzinfo=UTC)
    assert fallback_funding_at(datetime(2025, 3, 1, 8, tzinfo=UTC)) == datetime(2025, 3, 1, 16, tzinfo=UTC)
    assert fallback_funding_at(datetime(2025, 3, 1, 23, 0, tzinfo=UTC)) == datetime(2025, 3, 2, 0, tzinfo=UTC)


def test_the_venues_own_funding_time_wins_and_a_stale_one_rolls_forward() -> None:
    now = datetime(2025, 3, 1, 10, 30, tzinfo=UTC)
    own = next_funding("backpack", _quote("1", next_funding_at=datetime(2025, 3, 1, 11, tzinfo=UTC)), now)
    assert own.at == datetime(2025, 3, 1, 11, tzinfo=UTC)
    assert own.from_venue
    stale = _quote("1", next_funding_at=datetime(2025, 3, 1, 10, tzinfo=UTC), funding_interval=timedelta(hours=1))
    assert next_funding("backpack", stale, now).at == datetime(2025, 3, 1, 11, tzinfo=UTC)
    unknown = next_funding("aster", _quote("1"), now)
    assert unknown.at == datetime(2025, 3, 1, 16, tzinfo=UTC)
    assert not unknown.from_venue


def test_a_leg_waits_when_either_venue_settles_inside_the_window() -> None:
    now = datetime(2025, 3, 1, 7, 57, tzinfo=UTC)
    times = [
        next_funding("backpack", _quote("1", next_funding_at=datetime(2025, 3, 1, 9, tzinfo=UTC)), now),
        next_funding("aster", _quote("1"), now),  # fallback: 08:00, 3 minutes away
    ]
    pause = funding_pause(times, now, timedelta(minutes=5))
    assert pause is not None
    assert pause.venue == "aster"
    assert not pause.from_venue
    assert pause.resume_at > datetime(2025, 3, 1, 8, tzinfo=UTC)
    assert funding_pause(times, now, timedelta(minutes=2)) is None
    assert funding_pause(times, now, timedelta(0)) is None


def test_the_reservoir_stays_bounded_and_its_percentiles_are_right() -> None:
    small = Reservoir(capacity=1000)
    for v in range(1, 101):
        small.add(float(v))
    assert small.percentile(50) == 50.0
    assert small.percentile(99) == 99.0
    big = Reservoir(capacity=64, seed=1)
    for v in range(100_000):
        big.add(float(v))
    assert len(big) == 64
    assert big.count == 100_000
    p50 = big.percentile(50)
    assert p50 is not None
    assert 20_000 < p50 < 80_000
    assert Reservoir().percentile(50) is None


def test_pnl_is_cash_flow_plus_what_is_held_minus_fees() -> None:
    tally = VenueTally()
    tally.add(Side.SELL, D(10), D("1.21"), D("0.002"))
    tally.add(Side.BUY, D(10), D("1.19"), D("0.002"))
    assert tally.pnl() == D("0.2") - D("0.004")
    assert tally.volume == D("24.0")
    tally.add(Side.BUY, D(1), D(2), D(0))
    assert tally.pnl(mark=D(3)) == D("0.2") - D("0.004") - D(2) + D(3)


def test_the_snapshot_reports_cost_per_10k_with_fees_funding_and_slippage() -> None:
    stats = LoopStats(maker_venue="backpack", taker_venue="aster")
    assert stats.snapshot().cost_per_10k is None
    stats.maker.add(Side.SELL, D(100), D(100), D(2))
    stats.taker.add(Side.BUY, D(100), D(100), D(3))
    snap = stats.snapshot()
    assert snap.net_pnl == D(-5)
    assert snap.cost_per_10k == D("2.5")
    assert snap.fees == {"backpack": D(2), "aster": D(3)}
    assert (snap.funding, snap.funding_known) == (0, True)
    # The taker bought 0.01 above the maker's sell: 1 of slippage; the maker venue paid 1 of funding.
    stats.add_slippage(Side.BUY, D(100), D("100.01"), D(100))
    stats.set_funding("backpack", D(-1))
    snap = stats.snapshot()
    assert snap.slippage == D(1)
    assert snap.funding == D(-1)
    assert snap.cost_per_10k_by_venue == {"backpack": D(3) / D(10_000) * 10_000, "aster": D(4)}
    assert snap.cost_per_10k == D(7) / D(20_000) * 10_000
    assert snap.net_pnl == D(-6)  # the slippage is in the fills' prices, not counted twice
    stats.set_funding("aster", None)
    assert stats.snapshot().funding_known is False
    assert stats.snapshot().funding_by_venue == {"backpack": D(-1), "aster": None}
    stats.set_funding("aster", D(0))
    assert stats.snapshot().funding_known is True
