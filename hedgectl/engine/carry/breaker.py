"""The circuit breaker across runs, persisted in the journal (table `breaker`).

It trips on a daily realised loss beyond the limit (HEDGECTL_BREAKER_DAILY_LOSS_USDT: the net PnL of the runs
ended since 00:00 UTC, or since the last reset if later), on a burst of venue errors during a carry, and on a
delta the carry could not repair. While tripped, every command that would open exposure refuses with exit 4
and says why (`refuse_if_tripped`); `hedgectl breaker reset` clears it. Closing is never refused.

This module reads the journal and decides; it writes nothing itself. A trip is recorded by the `record` its
caller passes: in the engine the run's `Dispatcher.trip_breaker` (the engine's only journal writer), in the CLI
(a check before any run trades, `hedgectl breaker status`) the journal's own `trip_breaker`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from hedgectl.errors import BreakerTripped
from hedgectl.journal import Journal

DAILY_LOSS = "daily_loss"
ERROR_BURST = "error_burst"
DELTA_BREACH = "delta_breach"

# Records one trip: (kind, reason).
RecordTrip = Callable[[str, str], None]


@dataclass(frozen=True)
class BreakerLimits:
    daily_loss_usdt: Decimal | None = None  # None: no daily loss limit
    error_burst: int = 10  # this many venue errors ...
    error_window_s: float = 60.0  # ... within this many seconds trip it


def realised_today(journal: Journal, now: datetime) -> Decimal:
    """The net PnL of the runs ended since 00:00 UTC today, or since the last reset if that is later."""
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    reset = journal.last_breaker_reset()
    since = max(start.isoformat(timespec="microseconds"), reset or "")
    total = Decimal(0)
    for run in journal.runs(None, since=start - timedelta(days=1)):
        if run.ended_at is None or run.ended_at < since or not run.net_pnl:
            continue
        try:
            total += Decimal(run.net_pnl)
        except InvalidOperation:
            continue
    return total


def check_daily_loss(
    journal: Journal,
    limits: BreakerLimits,
    now: datetime,
    record: RecordTrip,
    *,
    pending: Decimal = Decimal(0),
) -> str | None:
    """Trip (once, through `record`) when today's realised loss passes the limit; the reason when this call tripped it.

    `pending`: the net PnL of the calling run, which the journal records only when the run ends."""
    if limits.daily_loss_usdt is None:
        return None
    realised = realised_today(journal, now) + pending
    if realised >= -limits.daily_loss_usdt or any(t["kind"] == DAILY_LOSS for t in journal.breaker_trips()):
        return None
    reason = f"realised loss today {realised:.4f} USDT beyond HEDGECTL_BREAKER_DAILY_LOSS_USDT {limits.daily_loss_usdt}"
    record(DAILY_LOSS, reason)
    return reason


def describe(trips: list[dict[str, object]]) -> str:
    return "; ".join(f"{t['kind']} at {t['tripped_at']}: {t['reason']}" for t in trips)


def refuse_if_tripped(journal: Journal, limits: BreakerLimits, now: datetime, record: RecordTrip) -> None:
    """Raise BreakerTripped (exit 4) naming why, when the breaker is tripped (the daily loss is checked first)."""
    check_daily_loss(journal, limits, now, record)
    trips = journal.breaker_trips()
    if trips:
        raise BreakerTripped(
            f"circuit breaker tripped ({describe(trips)}): no new exposure is opened until `hedgectl breaker reset`"
        )


class ErrorBurst:
    """Counts venue errors in a sliding window; `record` says True when the burst limit is reached."""

    def __init__(self, limits: BreakerLimits) -> None:
        self._limits = limits
        self._at: deque[float] = deque()

    def record(self, now_s: float) -> bool:
        self._at.append(now_s)
        while self._at and now_s - self._at[0] > self._limits.error_window_s:
            self._at.popleft()
        return len(self._at) >= self._limits.error_burst
