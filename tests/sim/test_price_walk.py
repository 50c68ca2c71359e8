"""The price walk: calm enough between two reads for bootstrap's guard, lively enough for the maker loop."""

from __future__ import annotations

from decimal import Decimal

from hedgectl.sim.market import DEFAULT_TICK_MS, PriceProcess

TICKS = 20_000  # ~83 minutes of simulated time
DEFAULT_GUARD_BPS = Decimal(5)  # bootstrap's --max-slippage-bps default


def _cross_bps(a: Decimal, b: Decimal) -> Decimal:
    return abs(a - b) / ((a + b) / 2) * 10_000


def test_two_venues_read_one_tick_apart_stay_inside_bootstraps_default_guard() -> None:
    # A plan reads binance and okx concurrently; on a loaded machine the two reads can straddle a tick.
    prices = PriceProcess(seed=0, tick_ms=DEFAULT_TICK_MS)
    worst = Decimal(0)
    for tick in range(TICKS):
        for first, second in ((tick, tick + 1), (tick + 1, tick)):
            gap = _cross_bps(prices.mid("binance", "BTC", first), prices.mid("okx", "BTC", second))
            worst = max(worst, gap)
    assert worst < DEFAULT_GUARD_BPS, f"a one-tick straddle reached {worst:.2f} bps"


def test_a_maker_quote_0_2_pct_away_on_aster_is_reached_within_a_minute_most_of_the_time() -> None:
    # The bp-aster loop posts 0.2 % from the mid and re-quotes; it relies on the walk to reach it.
    prices = PriceProcess(seed=0, tick_ms=DEFAULT_TICK_MS)
    minute = 60_000 // DEFAULT_TICK_MS
    starts = range(0, TICKS - minute, minute)
    reached = 0
    for start in starts:
        mid = prices.mid("backpack", "ASTER", start)
        path = [prices.mid("backpack", "ASTER", t) for t in range(start, start + minute)]
        if max(path) >= mid * Decimal("1.002") or min(path) <= mid * Decimal("0.998"):
            reached += 1
    assert reached >= len(starts) * 0.8, f"{reached} of {len(starts)} minutes reached 0.2 %"


def test_every_venue_pair_read_one_tick_apart_stays_inside_the_default_guard() -> None:
    # `bootstrap --long backpack --short aster` (any two venues) must not be refused by the venues' basis.
    prices = PriceProcess(seed=1, tick_ms=DEFAULT_TICK_MS)
    venues = ("binance", "okx", "backpack", "aster")
    worst = max(
        _cross_bps(prices.mid(a, "BTC", tick), prices.mid(b, "BTC", tick + 1))
        for tick in range(0, TICKS, 7)
        for a in venues
        for b in venues
        if a != b
    )
    assert worst < DEFAULT_GUARD_BPS, f"a pair read one tick apart reached {worst:.2f} bps"
