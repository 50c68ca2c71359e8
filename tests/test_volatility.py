"""Realised volatility from candles: the window's figure, independent of order, scale and representation."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.types import Candle
from hedgectl.domain.volatility import realised_volatility

START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _candles(closes: list[Decimal]) -> list[Candle]:
    return [Candle("okx", "BTC", START + i * MINUTE, MINUTE, c, c, c, c) for i, c in enumerate(closes)]


prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4)


def test_two_closes_one_percent_apart_make_the_log_return_in_percent() -> None:
    vol = realised_volatility(_candles([Decimal(100), Decimal(101)]))
    assert vol is not None
    assert vol.pct == (Decimal("1.01").ln() * 100).copy_abs()
    assert (vol.returns, vol.window) == (1, MINUTE)


def test_fewer_than_two_candles_have_no_figure() -> None:
    assert realised_volatility(_candles([Decimal(5)])) is None
    assert realised_volatility([]) is None


def test_a_close_that_is_not_positive_or_mixed_intervals_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        realised_volatility(_candles([Decimal(1), Decimal(0)]))
    mixed = [*_candles([Decimal(1)]), Candle("okx", "BTC", START + MINUTE, 5 * MINUTE, *[Decimal(1)] * 4)]
    with pytest.raises(ValueError, match="mixed"):
        realised_volatility(mixed)


@given(st.lists(prices, min_size=2, max_size=60))
def test_the_figure_is_the_root_of_the_summed_squared_log_returns(closes: list[Decimal]) -> None:
    vol = realised_volatility(_candles(closes))
    assert vol is not None
    floats = [float(c) for c in closes]
    expected = math.sqrt(sum(math.log(b / a) ** 2 for a, b in itertools.pairwise(floats))) * 100
    assert float(vol.pct) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert vol.returns == len(closes) - 1


@given(
    st.lists(prices, min_size=2, max_size=30), st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1000), places=2)
)
def test_the_figure_does_not_depend_on_the_price_level_or_the_order_candles_arrive_in(
    closes: list[Decimal], scale: Decimal
) -> None:
    candles = _candles(closes)
    vol = realised_volatility(candles)
    scaled = realised_volatility(_candles([c * scale for c in closes]))
    shuffled = realised_volatility(list(reversed(candles)))
    assert vol is not None
    assert scaled is not None
    assert shuffled is not None
    assert float(scaled.pct) == pytest.approx(float(vol.pct), rel=1e-12, abs=1e-15)
    assert shuffled.pct == vol.pct


def test_a_flat_market_has_none_and_annualising_scales_by_the_root_of_time() -> None:
    flat = realised_volatility(_candles([Decimal(7)] * 10))
    assert flat is not None
    assert flat.pct == 0
    vol = realised_volatility(_candles([Decimal(100), Decimal(101), Decimal(100)]))
    assert vol is not None
    minutes_per_year = 365 * 24 * 60
    assert float(vol.annualised_pct) == pytest.approx(float(vol.pct) * math.sqrt(minutes_per_year / 2), rel=1e-12)
