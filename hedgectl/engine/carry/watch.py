"""The watch: read the pair, judge the exit rules, re-hedge a delta, wait for the next reading; trip the breaker.

A reading is taken on every event of the venues' private order streams (any order on the account: a manual trade,
an ADL, a liquidation), at least every `refresh_s`, and at once on a stop. The exit rules (`exits.exit_reason`)
are judged on each; a delta beyond `--max-delta-pct` is re-hedged on the leg that restores the pair. A burst of
venue errors, or re-hedges that leave the delta beyond the limit, trip the circuit breaker (journaled through the
Dispatcher) and end the watch; the close follows.
"""

from __future__ import annotations

import asyncio
from asyncio import FIRST_COMPLETED
from datetime import datetime
from decimal import Decimal
from typing import Any

from hedgectl.domain.lots import Trade
from hedgectl.domain.rounding import floor_to_step
from hedgectl.domain.types import OrderRequest, OrderType, Side
from hedgectl.engine.bootstrap.leg_fills import settle
from hedgectl.engine.carry.breaker import DELTA_BREACH, ERROR_BURST, ErrorBurst
from hedgectl.engine.carry.context import Ctx, event, warn
from hedgectl.engine.carry.exits import WatchState, exit_reason, rehedge_order
from hedgectl.engine.carry.legs import LegBook, leg_books, orders_settled, refresh_fills
from hedgectl.engine.carry.reading import journal_mark, read_pair
from hedgectl.engine.carry.view import CarryView
from hedgectl.errors import HedgectlError

REHEDGE_LATENCY_MS = 5000.0
REHEDGE_ATTEMPTS = 2  # re-hedges in a row that leave the delta beyond the limit trip the breaker
MIN_READ_GAP_S = 0.2  # a burst of stream events is one reading, not one per event


async def watch(ctx: Ctx) -> None:
    """Read, judge and re-hedge the pair until an exit rule, a stop or a breaker trip (`result.exit_reason`)."""
    config, result = ctx.config, ctx.result
    state = WatchState(started_at=ctx.clock.now())
    errors = ErrorBurst(ctx.limits)
    seen_settlements: set[tuple[str, datetime]] = set()
    marked: tuple[Any, ...] | None = None
    misses = 0
    seen_delta = False  # the last reading's delta called for a re-hedge: this one confirms it
    books = leg_books(ctx.dispatcher.journal, ctx.runs, [v.name for v in ctx.venues], config.symbol)
    ctx.reporter.phase(f"Carrying {config.symbol}: long {ctx.long.name}, short {ctx.short.name}")
    while not ctx.interrupts.requested:
        ctx.wake.clear()  # an event from here on means another reading
        try:
            view, settlements = await read_pair(ctx, seen_settlements)
        except HedgectlError as exc:
            ctx.reporter.warning(f"reading the pair failed: {exc}")
            if errors.record(ctx.clock.monotonic()):
                _trip(ctx, ERROR_BURST, f"{ctx.limits.error_burst} venue errors within {ctx.limits.error_window_s:g} s")
                result.exit_reason = f"circuit breaker: {result.tripped}"
                return
            if await ctx.interrupts.sleep(min(config.refresh_s, 1.0)):
                return
            continue
        result.last_view = view
        marked = journal_mark(ctx, view, marked)
        _note_outside(ctx, view, books)
        for venue in settlements:
            state.settled(venue, view, config)
        ctx.reporter.view(view)
        reason = exit_reason(view, config, state, ctx.clock.now())
        if reason is not None:
            result.exit_reason = reason
            return
        order = rehedge_order(view, config)
        if order is None:
            misses, seen_delta = 0, False
        elif not seen_delta:
            # A delta seen once may be half of an outside close of both legs (a `flatten --all` elsewhere closes
            # one a few ms before the other): confirmed by the next reading, MIN_READ_GAP_S later, before a trade.
            seen_delta = True
        else:
            seen_delta = False  # confirmed: traded now, or too small for the venue (then read at refresh_s again)
            if await _rehedge(ctx, view, *order):
                misses += 1
                if misses >= REHEDGE_ATTEMPTS:
                    reason = f"delta {view.delta:+f} {config.symbol} ({view.delta_pct:.2f}%) not repaired"
                    _trip(ctx, DELTA_BREACH, reason)
                    result.exit_reason = f"circuit breaker: {result.tripped}"
                    return
        if await _pause(ctx, MIN_READ_GAP_S if seen_delta else config.refresh_s):
            return


def _note_outside(ctx: Ctx, view: CarryView, books: dict[str, LegBook]) -> None:
    """Journal a change of a leg that no order of the carry's explains (`carry.outside`, see legs.py): the carry's
    PnL then leaves out the part it did not trade, instead of counting a close without its open as profit."""
    journal, symbol = ctx.dispatcher.journal, ctx.config.symbol
    refresh_fills(journal, ctx.runs, books, symbol)
    for leg in view.legs:
        book = books[leg.venue]
        change = leg.qty - book.qty
        if not change or not orders_settled(journal, ctx.runs, book, symbol):
            continue  # an order of the carry's still open, or a fill not journaled yet: judged at the next reading
        book.outside.append((len(book.fills), Trade(change, None)))
        event(
            ctx,
            "outside",
            f"{leg.venue}: {change:+f} {symbol} traded outside the carry (no order of its own): the PnL of that part "
            "is unknown and not counted",
            venue=leg.venue,
            qty=change,
            after_fills=len(book.fills),
        )


async def _pause(ctx: Ctx, seconds: float) -> bool:
    """Until the next reading: `seconds`, or an order event on either venue (at least MIN_READ_GAP_S from now);
    True when a stop was requested meanwhile."""
    if await ctx.interrupts.sleep(min(MIN_READ_GAP_S, seconds)):
        return True
    if ctx.wake.is_set():
        return False
    stop = asyncio.ensure_future(ctx.interrupts.stop.wait())
    wake = asyncio.ensure_future(ctx.wake.wait())
    try:
        await asyncio.wait({stop, wake}, timeout=max(0.0, seconds - MIN_READ_GAP_S), return_when=FIRST_COMPLETED)
    finally:
        stop.cancel()
        wake.cancel()
        await asyncio.gather(stop, wake, return_exceptions=True)
    return ctx.interrupts.requested


async def _rehedge(ctx: Ctx, view: CarryView, venue_name: str, qty: Decimal) -> bool:
    """Trade `qty` (signed) on `venue_name` to restore the pair; True when a re-hedge was attempted."""
    venue = ctx.long if venue_name == ctx.long.name else ctx.short
    market = await venue.market(ctx.config.symbol)
    size = floor_to_step(abs(qty), market.step_size)
    if size <= 0 or size < market.min_qty:
        return False  # below what the venue trades: the delta stays, and so does the warning on screen
    leg = view.long if venue_name == ctx.long.name else view.short
    side = Side.BUY if qty > 0 else Side.SELL
    request = OrderRequest(
        symbol=ctx.config.symbol,
        side=side,
        type=OrderType.MARKET,
        qty=size,
        client_order_id=ctx.dispatcher.new_id(),
        reduce_only=leg.qty * side.sign < 0 and size <= abs(leg.qty),
    )
    text = (
        f"delta {view.delta:+f} {ctx.config.symbol} ({view.delta_pct:.2f}% of notional): {side.value} {size} on "
        f"{venue_name}"
    )
    try:
        sent = await ctx.dispatcher.place(venue, request, "carry_rehedge")
    except HedgectlError as exc:
        warn(ctx, f"re-hedge failed: {text}: {exc}")
        return True
    outcome = await settle(venue, ctx.dispatcher, request, sent, REHEDGE_LATENCY_MS, ctx.streams)
    ctx.result.rehedges += 1
    event(ctx, "rehedge", f"re-hedged {text} (filled {outcome.filled_qty})", venue=venue_name, qty=outcome.filled_qty)
    return outcome.filled_qty != size


def _trip(ctx: Ctx, kind: str, reason: str) -> None:
    """Trip the breaker (journaled: every later command that opens exposure is refused until a reset) and say so."""
    ctx.dispatcher.trip_breaker(kind, reason)
    ctx.result.tripped = f"{kind}: {reason}"
    event(ctx, "trip", f"circuit breaker tripped: {kind}: {reason}", breaker=kind)
