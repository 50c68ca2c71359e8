"""The funding gate: no leg starts within N minutes of either venue's next funding settlement.

Each venue's own next funding time is used when its quote carries one; otherwise the classic 8-hourly
schedule (00:00, 08:00, 16:00 UTC) is assumed, and the pause says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hedgectl.domain.funding_rates import FundingRate, funding_rate_of
from hedgectl.domain.types import Quote

FALLBACK_HOURS_UTC = (0, 8, 16)
# Resume this long after the settlement instant, so the leg never straddles it.
POST_FUNDING_GRACE = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class FundingTime:
    venue: str
    at: datetime
    from_venue: bool  # False: the 00/08/16 UTC fallback
    rate: FundingRate | None = None  # the venue's current rate and interval, where it reported both


@dataclass(frozen=True, slots=True)
class FundingPause:
    """Why and until when the loop waits before starting a leg."""

    venue: str
    funding_at: datetime
    resume_at: datetime
    from_venue: bool
    rate: FundingRate | None = None

    def describe(self) -> str:
        """The venue, its own settlement time and its rate as reported, per hour and annualised."""
        text = f"{self.venue} funding at {self.funding_at:%H:%M:%S} UTC"
        if not self.from_venue:
            text += " (assumed 00/08/16 UTC: the venue did not say)"
        if self.rate is not None:
            hours = self.rate.interval.total_seconds() / 3600
            text += (
                f", rate {(self.rate.rate * 100).normalize():f}% every {hours:g}h = {self.rate.per_hour * 100:.5f}%/h, "
                f"{self.rate.apr_pct:.2f}% APR"
            )
        return text

    def remaining_s(self, now: datetime) -> float:
        return max(0.0, (self.resume_at - now).total_seconds())


def fallback_funding_at(now: datetime) -> datetime:
    """The next 00:00/08:00/16:00 UTC strictly after `now`."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for days in (0, 1):
        for hour in FALLBACK_HOURS_UTC:
            at = day + timedelta(days=days, hours=hour)
            if at > now:
                return at
    raise AssertionError("unreachable")  # pragma: no cover


def next_funding(venue: str, quote: Quote | None, now: datetime) -> FundingTime:
    """The venue's next settlement after `now`: its own report (rolled forward by its interval if stale)."""
    rate = None if quote is None else funding_rate_of(quote)
    if quote is not None and quote.next_funding_at is not None:
        at = quote.next_funding_at
        interval = quote.funding_interval
        if at <= now and interval is not None and interval > timedelta(0):
            periods = (now - at) // interval + 1
            at = at + interval * periods
        if at > now:
            return FundingTime(venue=venue, at=at, from_venue=True, rate=rate)
    return FundingTime(venue=venue, at=fallback_funding_at(now), from_venue=False, rate=rate)


def funding_pause(times: Sequence[FundingTime], now: datetime, window: timedelta) -> FundingPause | None:
    """A pause if any venue settles within `window` from now (the latest such settlement decides)."""
    if window <= timedelta(0):
        return None
    close = [t for t in times if timedelta(0) <= t.at - now < window]
    if not close:
        return None
    last = max(close, key=lambda t: t.at)
    return FundingPause(
        venue=last.venue,
        funding_at=last.at,
        resume_at=last.at + POST_FUNDING_GRACE,
        from_venue=last.from_venue,
        rate=last.rate,
    )
