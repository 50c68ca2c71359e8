"""Funding payments attributed to a run: read from the venue for the time the run held a position, journaled.

Attribution is by time and position: a payment belongs to the run when it settled while the run held the
symbol on that venue (between its first open order leaving and its close) and, where the venue says which
position it was paid on, on a position of the run's side. Funding that settles on a position left open
between commands is found later (`positions`) against the run that opened it.

Every payment is journaled once per (venue, payment id) (Journal.record_funding): re-reading a window never
counts a payment twice, and a payment already journaled under another run stays there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from hedgectl.domain.types import FundingPayment
from hedgectl.engine.maker_taker_funding import next_funding
from hedgectl.errors import HedgectlError
from hedgectl.journal import Journal, RunRow
from hedgectl.journal.repository import journal_exposure
from hedgectl.venues.base import Venue

log = logging.getLogger(__name__)
ZERO = Decimal(0)


def net_funding(payments: Iterable[FundingPayment]) -> Decimal:
    """Net funding of `payments` (+ received, - paid), in their asset."""
    return sum((p.amount for p in payments), ZERO)


def on_side(payments: Iterable[FundingPayment], side_sign: int | None) -> list[FundingPayment]:
    """The payments made on a position of this side (long 1, short -1); those whose position is not said are
    kept (the venue's history does not say, and the run held that side then)."""
    if side_sign is None:
        return list(payments)
    return [p for p in payments if p.position_qty is None or p.position_qty * side_sign > 0]


@dataclass
class RunFunding:
    """One venue's funding for one run: what was found, and whether it could be read at all."""

    venue: str
    payments: list[FundingPayment] = field(default_factory=list)
    error: str | None = None

    @property
    def known(self) -> bool:
        return self.error is None

    @property
    def net(self) -> Decimal:
        return net_funding(self.payments)


async def collect_funding(
    venue: Venue,
    journal: Journal,
    run_id: str,
    symbol: str,
    since: datetime,
    until: datetime | None = None,
    *,
    side_sign: int | None = None,
) -> RunFunding:
    """Read `venue`'s payments on `symbol` in [since, until), keep the run's side, journal the new ones.

    Returns every payment of the window that the journal attributes to this run (new or read before), so a
    repeated read reports the same total. A venue that cannot be read is an unknown, never a zero."""
    try:
        found = await venue.funding_payments(symbol, since, until)
    except HedgectlError as exc:
        log.debug("funding payments of %s unreadable", venue.name, exc_info=exc)
        return RunFunding(venue.name, error=str(exc))
    mine = on_side(found, side_sign)
    journal.record_funding(run_id, mine)
    ids = {(p.venue, p.payment_id) for p in journal.run_funding(run_id)}
    return RunFunding(venue.name, [p for p in mine if (p.venue, p.payment_id) in ids])


@dataclass
class LoopFunding:
    """The loop's funding reads: each venue's payments since the loop started, read again once the venue's
    next settlement time has passed, and at the end. The settlement times come from the quotes the funding
    gate reads anyway (`seen`); only with the gate off does this read a quote itself. A payment the venue books
    a little after its settlement time is found by the next read; the journal keeps each payment once.
    """

    since: datetime
    due: dict[str, datetime] = field(default_factory=dict)  # venue -> its next settlement time, when known

    def seen(self, venue: str, next_settlement: datetime) -> None:
        """The venue's next settlement time, as a quote just said."""
        self.due[venue] = next_settlement

    async def check(self, venues: Iterable[Venue], symbol: str, now: datetime, *, final: bool = False) -> list[str]:
        """The venues to read now: those whose settlement time has passed (all of them when `final`). Their
        time is forgotten until a quote says the next one; a venue with none known reads its quote here."""
        to_read = []
        for venue in venues:
            due = self.due.get(venue.name)
            if final or (due is not None and now >= due):
                to_read.append(venue.name)
                self.due.pop(venue.name, None)
            elif due is None:
                self.due[venue.name] = await _next_settlement(venue, symbol, now)
        return to_read


async def _next_settlement(venue: Venue, symbol: str, now: datetime) -> datetime:
    """The venue's next funding time from its quote (the 00/08/16 UTC fallback when it says none)."""
    try:
        quote = await venue.fetch_quote(symbol)
    except HedgectlError as exc:
        log.debug("%s: next funding time unreadable", venue.name, exc_info=exc)
        quote = None
    return next_funding(venue.name, quote, now).at


OPENER_SEARCH_RUNS = 200  # how far back `positions` looks in the journal for the run that opened a position


@dataclass(frozen=True)
class PositionFunding:
    """Funding paid on a position left open, shown against the run that opened it (when the journal can tell)."""

    venue: str
    symbol: str
    run_id: str | None  # None: no journaled run leaves this position open (opened elsewhere, or unknowable)
    net: Decimal | None  # + received, - paid, since that run started; None: unknown
    asset: str | None = None
    payments: int = 0
    error: str | None = None


def opening_run(journal: Journal, venue: str, symbol: str, qty: Decimal) -> RunRow | None:
    """The newest run whose journaled orders leave `symbol` open on `venue` on the position's side."""
    key = f"{venue} {symbol}"
    for run in journal.runs(OPENER_SEARCH_RUNS):
        left = journal_exposure(journal.orders(run.id))
        if left and left.get(key, ZERO) * qty > 0:
            return run
    return None


async def position_funding(venue: Venue, journal: Journal, symbol: str, qty: Decimal) -> PositionFunding:
    """The funding settled on an open position since the run that opened it started, journaled to that run."""
    run = opening_run(journal, venue.name, symbol, qty)
    if run is None:
        return PositionFunding(venue.name, symbol, None, None)
    since = datetime.fromisoformat(run.started_at)
    found = await collect_funding(venue, journal, run.id, symbol, since, side_sign=1 if qty > 0 else -1)
    if not found.known:
        return PositionFunding(venue.name, symbol, run.id, None, error=found.error)
    assets = {p.asset for p in found.payments}
    return PositionFunding(
        venue.name,
        symbol,
        run.id,
        found.net,
        asset=", ".join(sorted(assets)) or None,
        payments=len(found.payments),
    )
