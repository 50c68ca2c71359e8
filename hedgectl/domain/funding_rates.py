"""Funding rates made comparable: per hour and annualised, and what a long/short pair earns or pays.

A venue's funding rate is a fraction of the position's notional paid at each settlement, once per the venue's
own interval (Backpack hourly since 2025-08, Binance and Aster 8 h or 4 h per symbol, OKX per instrument).
Comparing raw rates across venues is only honest per unit of time: `rate / interval hours` per hour, times
8760 hours for the APR (simple, not compounded). A positive rate means longs pay shorts.

The interval and next settlement are what the venue said (the adapters read them); nothing here assumes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from hedgectl.domain.types import Quote

HOURS_PER_YEAR = Decimal(24 * 365)
_US_PER_HOUR = Decimal(3_600_000_000)


def interval_hours(interval: timedelta) -> Decimal:
    """The interval's length in hours, exactly (microsecond resolution, no float)."""
    if interval <= timedelta(0):
        raise ValueError(f"a funding interval must be positive, got {interval}")
    return Decimal(interval // timedelta(microseconds=1)) / _US_PER_HOUR


def rate_per_hour(rate: Decimal, interval: timedelta) -> Decimal:
    """A per-settlement rate as a rate per hour."""
    return rate / interval_hours(interval)


def apr_pct(per_hour: Decimal) -> Decimal:
    """A per-hour rate annualised, in percent (simple: 8760 hours, not compounded)."""
    return per_hour * HOURS_PER_YEAR * 100


@dataclass(frozen=True, slots=True)
class FundingRate:
    """One venue's current funding rate for one symbol, with the interval and next settlement it reported."""

    venue: str
    rate: Decimal  # per settlement; > 0: longs pay shorts
    interval: timedelta
    next_at: datetime | None = None

    @property
    def per_hour(self) -> Decimal:
        return rate_per_hour(self.rate, self.interval)

    @property
    def apr_pct(self) -> Decimal:
        return apr_pct(self.per_hour)

    def settlements(self, start: datetime, end: datetime) -> int:
        """How many of this venue's settlements fall in (start, end]: 0 when the next one is not known."""
        if self.next_at is None or end <= start:
            return 0
        first = self.next_at
        if first <= start:  # a stale report: roll forward by whole intervals
            first += self.interval * ((start - first) // self.interval + 1)
        if first > end:
            return 0
        return (end - first) // self.interval + 1


def funding_rate_of(quote: Quote) -> FundingRate | None:
    """The quote's funding as a FundingRate, or None when the venue did not report the rate or the interval."""
    if quote.funding_rate is None or quote.funding_interval is None or quote.funding_interval <= timedelta(0):
        return None
    return FundingRate(
        venue=quote.venue, rate=quote.funding_rate, interval=quote.funding_interval, next_at=quote.next_funding_at
    )


@dataclass(frozen=True, slots=True)
class PairCarry:
    """Long on `long.venue`, short on `short.venue`: what the pair receives (+) or pays (-) from funding."""

    long: FundingRate
    short: FundingRate

    @property
    def per_hour(self) -> Decimal:
        """Fraction of notional received per hour: the short's rate received less the long's rate paid."""
        return self.short.per_hour - self.long.per_hour

    @property
    def apr_pct(self) -> Decimal:
        return apr_pct(self.per_hour)

    def settled(self, notional: Decimal, start: datetime, end: datetime) -> Decimal:
        """Money received (+) or paid (-) at the settlements of both venues in (start, end], at today's rates.

        Each leg is settled at its own venue's times: a hold that crosses no settlement earns nothing, whatever
        the per-hour figures say.
        """
        received_short = self.short.rate * notional * self.short.settlements(start, end)
        paid_long = self.long.rate * notional * self.long.settlements(start, end)
        return received_short - paid_long
