"""Comparable funding rates: per hour, APR, a pair's carry and the settlements a hold crosses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.funding_rates import FundingRate, PairCarry, apr_pct, funding_rate_of, rate_per_hour
from hedgectl.domain.types import Quote

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
rates = st.decimals(min_value=Decimal("-0.03"), max_value=Decimal("0.03"), places=8, allow_nan=False)
hours = st.sampled_from([1, 2, 4, 8])


def test_an_hourly_and_an_eight_hourly_venue_paying_the_same_per_day_compare_equal() -> None:
    # Backpack hourly 0.00125 % and Binance 8-hourly 0.01 %: the same 0.03 % a day.
    hourly = FundingRate("backpack", Decimal("0.0000125"), timedelta(hours=1))
    eight = FundingRate("binance", Decimal("0.0001"), timedelta(hours=8))
    assert hourly.per_hour == eight.per_hour == Decimal("0.0000125")
    assert hourly.apr_pct == eight.apr_pct == Decimal("10.95")
    # The raw rates differ by 8x; a pair of them carries nothing.
    assert PairCarry(long=hourly, short=eight).per_hour == 0


@given(rate=rates, h=hours)
def test_per_hour_times_the_interval_gives_back_the_rate(rate: Decimal, h: int) -> None:
    per_hour = rate_per_hour(rate, timedelta(hours=h))
    assert per_hour * h == rate
    assert apr_pct(per_hour) == per_hour * 8760 * 100


@given(long_rate=rates, short_rate=rates, long_h=hours, short_h=hours)
def test_the_pair_carry_is_antisymmetric_and_zero_on_equal_legs(
    long_rate: Decimal, short_rate: Decimal, long_h: int, short_h: int
) -> None:
    a = FundingRate("a", long_rate, timedelta(hours=long_h))
    b = FundingRate("b", short_rate, timedelta(hours=short_h))
    assert PairCarry(a, b).per_hour == -PairCarry(b, a).per_hour
    assert PairCarry(a, a).per_hour == 0
    assert PairCarry(a, b).apr_pct == apr_pct(b.rate / short_h - a.rate / long_h)


@given(h=hours, offset_min=st.integers(min_value=1, max_value=600), hold_min=st.integers(min_value=0, max_value=3000))
def test_settlements_in_a_hold_are_counted_at_the_venues_own_times(h: int, offset_min: int, hold_min: int) -> None:
    interval = timedelta(hours=h)
    next_at = T0 + timedelta(minutes=offset_min)
    rate = FundingRate("v", Decimal("0.0001"), interval, next_at)
    end = T0 + timedelta(minutes=hold_min)
    # Independent count: walk the settlement instants one by one.
    at, expected = next_at, 0
    while at <= end:
        expected += 1
        at += interval
    assert rate.settlements(T0, end) == expected


def test_a_stale_next_time_is_rolled_forward_by_whole_intervals() -> None:
    rate = FundingRate("v", Decimal("0.0001"), timedelta(hours=1), T0 - timedelta(minutes=90))
    # Settlements at 12:30, 13:30: the hold 12:00 -> 13:45 crosses two.
    assert rate.settlements(T0, T0 + timedelta(minutes=105)) == 2
    # Exactly at a settlement instant: (start, end] leaves it out.
    assert rate.settlements(T0 + timedelta(minutes=30), T0 + timedelta(minutes=31)) == 0


def test_a_short_hold_across_one_eight_hour_settlement_pays_a_whole_period() -> None:
    long = FundingRate("binance", Decimal("0.0003"), timedelta(hours=8), T0 + timedelta(minutes=5))
    short = FundingRate("backpack", Decimal("0.00001"), timedelta(hours=1), T0 + timedelta(minutes=50))
    pair = PairCarry(long=long, short=short)
    # 10 minutes: only binance settles; the long pays 0.03 % of 1000.
    assert pair.settled(Decimal(1000), T0, T0 + timedelta(minutes=10)) == Decimal("-0.3")
    # 2 hours: binance once, backpack twice (00:50, 01:50).
    assert pair.settled(Decimal(1000), T0, T0 + timedelta(hours=2)) == Decimal("-0.3") + Decimal("0.02")


def test_a_quote_without_interval_or_rate_has_no_comparable_rate() -> None:
    quote = Quote("okx", "BTC", Decimal(1), Decimal(2), funding_rate=Decimal("0.0001"))
    assert funding_rate_of(quote) is None
    full = Quote(
        "okx", "BTC", Decimal(1), Decimal(2), funding_rate=Decimal("0.0001"), funding_interval=timedelta(hours=4)
    )
    assert funding_rate_of(full) == FundingRate("okx", Decimal("0.0001"), timedelta(hours=4))


def test_a_zero_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        rate_per_hour(Decimal("0.0001"), timedelta(0))
