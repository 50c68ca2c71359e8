"""What every part of the maker/taker loop shares: the context (LoopContext), retries, waits, accounts.

What the loop tells its user (LoopEvent, LoopReporter) is in `events`.

Retry policy in one place. Reads (quotes, positions, order lookups, cancels) are retried on the errors a
venue may recover from (Unavailable, RateLimited, AmbiguousOrderState, BadResponse): without limit while the
loop runs normally (a stop request ends the wait), a bounded number of times on the way out. Order
placement is never retried here: the callers decide, after reconciling by client order id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from hedgectl.clock import SYSTEM_CLOCK, Clock
from hedgectl.domain.types import Fill, Market, Order
from hedgectl.engine.interrupts import Interrupts
from hedgectl.engine.maker_taker.config import LoopConfig
from hedgectl.engine.maker_taker.events import LoopEvent, LoopReporter
from hedgectl.engine.maker_taker.stats import LoopStats
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.engine.orders.tracker import OrderTracker
from hedgectl.errors import AmbiguousOrderState, BadResponse, HedgectlError, RateLimited, Unavailable
from hedgectl.venues.base import Venue

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT: tuple[type[HedgectlError], ...] = (Unavailable, RateLimited, AmbiguousOrderState, BadResponse)
BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 30.0
RATE_LIMIT_MIN_S = 2.0
EXIT_ATTEMPTS = 6  # bounded retries on the way out (about half a minute in all)
COUNTDOWN_TICK_S = 1.0


class Stopped(Exception):
    """A stop was requested while the loop was waiting; nothing was in flight."""


def mmss(seconds: float) -> str:
    """A countdown's time left, rounded up to the second: 0:09, 12:00, 1:00:00."""
    s = int(seconds + 0.999)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def backoff_s(attempt: int, exc: BaseException) -> float:
    """Exponential backoff for the attempt-th consecutive failure (rate limits wait longer)."""
    delay = min(BACKOFF_MAX_S, BACKOFF_START_S * 2.0 ** max(0, attempt - 1))
    return max(delay, RATE_LIMIT_MIN_S) if isinstance(exc, RateLimited) else delay


@dataclass
class LoopContext:
    maker: Venue
    taker: Venue
    maker_market: Market
    taker_market: Market
    dispatcher: Dispatcher
    config: LoopConfig
    reporter: LoopReporter
    interrupts: Interrupts
    clock: Clock
    tracker: OrderTracker  # the run's: the maker order's fills, the hedges' final states
    stats: LoopStats
    ref_price: Decimal = Decimal(0)  # the last maker reference price seen (for notional minimums)
    # The taker's signed position when the leg started (as last read): a hedge that shrinks it is sent
    # reduce-only, so on a hedge-mode account it closes the open side instead of opening the other one.
    taker_position: Decimal = Decimal(0)
    cycle: int = 0
    leg: int | None = None
    _unaccounted: list[tuple[Venue, Order]] = field(default_factory=list)

    @property
    def symbol(self) -> str:
        return self.config.symbol

    @property
    def stopping(self) -> bool:
        return self.interrupts.requested

    def role(self, venue: Venue) -> str:
        return "maker" if venue is self.maker else "taker"

    # -- telling ------------------------------------------------------------------------------------
    def emit(self, kind: str, *, journal: bool = False, **data: Any) -> None:
        """Report an event, with the stats as they are once it happened (callers update the stats first)."""
        event = LoopEvent(kind=kind, at=self.clock.now(), cycle=self.cycle, leg=self.leg, data=data)
        # The stats go first, so the table never shows the state before the event its line reports.
        self.show_stats()
        self._tell(self.reporter.event, event)
        if journal:
            self.dispatcher.event(f"loop.{kind}", {"cycle": self.cycle, "leg": self.leg, **data})

    def show_stats(self) -> None:
        self._tell(self.reporter.stats, self.stats.snapshot())

    def countdown(self, text: str | None) -> None:
        self._tell(self.reporter.countdown, text)

    @staticmethod
    def _tell(report: Callable[[Any], None], what: Any) -> None:
        try:
            report(what)
        except Exception:
            # Telling the user must never stop a loop that holds positions.
            log.exception("reporting %s failed", type(what).__name__)

    def warn(self, text: str) -> None:
        log.debug("loop warning: %s", text)
        self.emit("warning", message=text)

    # -- waiting ------------------------------------------------------------------------------------
    async def pause(self, seconds: float) -> None:
        """Wait; raise Stopped if a stop is requested meanwhile (or already was)."""
        if self.stopping or (seconds > 0 and await self.interrupts.sleep(seconds)):
            raise Stopped

    async def wait(self, reason: str, seconds: float, label: Callable[[str], str]) -> None:
        """A wait the user should see (between legs, between cycles): reported and counted down; Stopped ends it."""
        if seconds <= 0 or self.stopping:
            await self.pause(0)
            return
        async with self.waiting(reason, seconds, label):
            await self.pause(seconds)

    @contextlib.asynccontextmanager
    async def waiting(
        self, reason: str, seconds: float, label: Callable[[str], str], **data: Any
    ) -> AsyncIterator[None]:
        """Report a "wait" event (its reason and length), and count it down while the body runs.

        The one countdown of the loop: `label(time left)` is shown as a line updated every second (the
        reporter's countdown; nothing in JSON mode), and cleared when the body ends, however it ends."""
        self.emit("wait", reason=reason, seconds=round(seconds, 3), **data)
        end = self.clock.monotonic() + seconds

        async def tick() -> None:
            while True:
                left = max(0.0, end - self.clock.monotonic())
                self.countdown(label(mmss(left)))
                if left <= 0:
                    return
                await self.clock.sleep(min(COUNTDOWN_TICK_S, left))

        ticker = asyncio.create_task(tick())
        try:
            yield
        finally:
            # Suspended at its sleep (or not started), the ticker cannot tell anything after this cancel.
            ticker.cancel()
            self.countdown(None)

    async def read(self, what: str, call: Callable[[], Awaitable[T]], *, on_exit: bool = False) -> T:
        """Run an idempotent call, retrying transient failures (bounded when `on_exit`)."""
        attempt = 0
        while True:
            try:
                return await call()
            except TRANSIENT as exc:
                attempt += 1
                if on_exit and attempt >= EXIT_ATTEMPTS:
                    raise
                delay = backoff_s(attempt, exc)
                self.warn(f"{what}: {exc}; retrying in {delay:g} s")
                if on_exit:
                    await SYSTEM_CLOCK.sleep(delay)
                else:
                    await self.pause(delay)

    # -- accounting ---------------------------------------------------------------------------------
    def owe_account(self, venue: Venue, order: Order) -> None:
        """Remember an order with fills, to be accounted at the next checkpoint (off the hot path)."""
        if order.filled_qty > 0:
            self._unaccounted.append((venue, order))

    async def settle_accounts(self) -> None:
        """Add the fills of every remembered order to the stats (journaling them), then report the stats."""
        pending, self._unaccounted = self._unaccounted, []
        for venue, order in pending:
            tally = self.stats.tally(venue.name)
            for fill in await self._fills(venue, order):
                tally.add(fill.side, fill.qty, fill.price, fill.fee)
        self.show_stats()

    async def _fills(self, venue: Venue, order: Order) -> list[Fill]:
        try:
            fills = await self.read(
                f"{venue.name}: fills of {order.order_id}",
                lambda: self.dispatcher.fills_of(venue, order),
                on_exit=True,
            )
        except HedgectlError as exc:
            self.warn(f"{venue.name}: fills of order {order.order_id} unavailable ({exc}): using its average price")
            fills = []
        if sum((f.qty for f in fills), Decimal(0)) == order.filled_qty:
            return fills
        # The venue's fill history lags or failed: account the order as one fill at its average price.
        price = order.avg_price or order.price
        if price is None:
            self.warn(f"{venue.name}: order {order.order_id} filled {order.filled_qty} at an unknown price")
            return []
        return [
            Fill(
                venue=venue.name,
                symbol=order.symbol,
                order_id=order.order_id,
                trade_id=f"order-{order.order_id}",
                side=order.side,
                qty=order.filled_qty,
                price=price,
                fee=order.fee or Decimal(0),
                fee_asset=order.fee_asset or "",
            )
        ]
