"""Hedging maker fills on the taker as they happen, closing what cannot be hedged, and the position invariant.

Quantities: every increase of the leg's maker fills is sent at once as a taker market order, rounded down
to the taker's step. A residual below the taker's minimum (quantity or notional) is carried until it is
big enough; while the leg is still filling, a hedge is trimmed so that the part of the leg still to come can
itself be hedged later. At the end of a leg, a residual the taker can never take is closed on the maker
with a reduce-only market order, and reported.

The invariant, after each leg: the maker's and the taker's positions (as the venues report them) sum to
zero; a mismatch is corrected with a taker order (reduce-only when it reduces), what the taker's step
cannot express with a maker order, and reported.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.rounding import ceil_to_step, floor_to_step
from hedgectl.domain.types import Market, Order, OrderRequest, OrderType, Side
from hedgectl.engine.maker_taker.context import EXIT_ATTEMPTS, LoopContext, backoff_s
from hedgectl.errors import (
    AmbiguousOrderState,
    BadResponse,
    HedgectlError,
    OrderRejected,
    RateLimited,
    Unavailable,
)
from hedgectl.venues.base import Venue

# A hedge must clear the taker's minimum notional with this much room for the price moving meanwhile.
NOTIONAL_MARGIN = Decimal("1.02")
MAX_REJECTS = 5  # consecutive rejections of one hedge before giving up (the exit path takes over)
MAX_TRANSIENT = 12  # consecutive transient failures of one send (about 3 minutes of backoff)
SETTLE_S = 3.0  # how long a market order may stay open before it is cancelled for its final state
SETTLE_POLL_FIRST_S, SETTLE_POLL_MAX_S = 0.05, 0.5  # its re-reads meanwhile (doubling)
INVARIANT_ROUNDS = 3
_ZERO = Decimal(0)


def min_order_qty(market: Market, price: Decimal, *, reduce_only: bool = False) -> Decimal:
    """The smallest quantity `market` takes at about `price` (reduce-only orders skip the notional floor)."""
    qty = max(market.min_qty, market.step_size)
    if market.min_notional > 0 and price > 0 and not reduce_only:
        qty = max(qty, ceil_to_step(market.min_notional * NOTIONAL_MARGIN / price, market.step_size))
    return qty


def hedge_qty(unhedged: Decimal, still_to_fill: Decimal, step: Decimal, minimum: Decimal, *, final: bool) -> Decimal:
    """How much of `unhedged` to hedge now: a multiple of `step`, at least `minimum`, and - unless `final` -
    leaving the leg's remainder (`still_to_fill` after this hedge) either empty or itself hedgeable."""
    qty = floor_to_step(unhedged, step) if unhedged > 0 else _ZERO
    if qty < minimum:
        return _ZERO
    if final:
        return qty
    tail = still_to_fill - qty
    if 0 < tail < minimum:
        qty = floor_to_step(still_to_fill - minimum, step)
    return qty if qty >= minimum else _ZERO


@dataclass
class LegBook:
    """One leg's quantities; the leg is hedged when maker_filled == hedged + closed_on_maker."""

    side: Side  # the maker's side
    target: Decimal
    maker_filled: Decimal = _ZERO
    hedged: Decimal = _ZERO
    closed_on_maker: Decimal = _ZERO

    @property
    def unhedged(self) -> Decimal:
        return self.maker_filled - self.hedged - self.closed_on_maker


class Hedger:
    """Sends the taker orders of one leg, and closes on the maker what the taker cannot take."""

    def __init__(self, ctx: LoopContext, book: LegBook) -> None:
        self.ctx = ctx
        self.book = book
        self.maker_price: Decimal | None = None  # the price the maker filled at (its post-only limit price)

    async def on_maker_fill(self, delta: Decimal, seen_ns: int, order: Order) -> None:
        """The maker order `order` filled `delta` more: hedge what can be hedged, now.

        The hedge is sent before anything is reported: telling the user costs time the position is naked."""
        self.book.maker_filled += delta
        self.maker_price = order.price if order.price is not None else self.maker_price
        fill: dict[str, Any] = {
            "venue": self.ctx.maker.name,
            "order_id": order.order_id,
            "side": self.book.side,
            "delta": delta,
            "order_filled": order.filled_qty,
            "leg_filled": self.book.maker_filled,
            "price": order.price,
        }
        try:
            hedge = await self._hedge_now(final=False, seen_ns=seen_ns)
        finally:
            self.ctx.emit("fill", **fill)
        if hedge is not None:
            self.ctx.emit("hedge", journal=True, **hedge)

    async def hedge(self, *, final: bool) -> None:
        """Send one taker order for what is hedgeable now (see `hedge_qty`), and report it."""
        hedge = await self._hedge_now(final=final, seen_ns=None)
        if hedge is not None:
            self.ctx.emit("hedge", journal=True, **hedge)

    async def _hedge_now(self, *, final: bool, seen_ns: int | None) -> dict[str, Any] | None:
        market = self.ctx.taker_market
        qty = hedge_qty(
            self.book.unhedged,
            self.book.target - self.book.hedged - self.book.closed_on_maker,
            market.step_size,
            min_order_qty(market, self.ctx.ref_price),
            final=final,
        )
        if qty <= 0:
            return None
        side = self.book.side.opposite
        held = self.ctx.taker_position + self.book.hedged * side.sign  # as this leg's hedges have moved it
        reduces = held != 0 and side.sign * held < 0 and qty <= abs(held)
        placed = await send_order(self.ctx, self.ctx.taker, side, qty, intent="hedge", reduce_only=reduces)
        order = placed.order
        self.book.hedged += order.filled_qty
        slippage = None
        if order.filled_qty and order.avg_price is not None and self.maker_price is not None:
            slippage = self.ctx.stats.add_slippage(side, order.filled_qty, order.avg_price, self.maker_price)
        reaction_ms = None
        if seen_ns is not None:
            reaction_ms = max(0.0, (placed.sent_ns - seen_ns) / 1e6)
            self.ctx.stats.reaction_ms.add(reaction_ms)
        self.ctx.stats.hedges += 1
        return {
            "venue": self.ctx.taker.name,
            "side": order.side,
            "qty": qty,
            "filled": order.filled_qty,
            "avg_price": order.avg_price,
            "order_id": order.order_id,
            "status": order.status,
            "reaction_ms": None if reaction_ms is None else round(reaction_ms, 3),
            "unhedged": self.book.unhedged,
            "maker_price": self.maker_price,
            "slippage": slippage,  # paid against the maker's price (taker's asset); history sums it per run
        }

    async def settle(self) -> None:
        """End of leg: hedge every residual the taker accepts; close the rest on the maker."""
        for _ in range(MAX_REJECTS):
            before = self.book.unhedged
            if before <= 0:
                return
            await self.hedge(final=True)
            if self.book.unhedged == before:
                break
        residual = self.book.unhedged
        if residual <= 0:
            return
        market = self.ctx.maker_market
        qty = floor_to_step(residual, market.step_size)
        if qty < market.min_qty or qty <= 0:
            self.ctx.warn(f"unhedged residual {residual} {self.ctx.symbol} is below both venues' minimums")
            return
        placed = await send_order(
            self.ctx, self.ctx.maker, self.book.side.opposite, qty, intent="residual_close", reduce_only=True
        )
        order = placed.order
        self.book.closed_on_maker += order.filled_qty
        self.ctx.stats.residual_closes += 1
        self.ctx.emit(
            "residual_close",
            journal=True,
            venue=self.ctx.maker.name,
            side=order.side,
            qty=qty,
            filled=order.filled_qty,
            reason=f"below {self.ctx.taker.name}'s minimum of {self._taker_min()}",
            order_id=order.order_id,
        )

    def _taker_min(self) -> Decimal:
        return min_order_qty(self.ctx.taker_market, self.ctx.ref_price)


@dataclass(frozen=True, slots=True)
class Placed:
    order: Order  # in a final state
    sent_ns: int  # wall clock (time.time_ns) when the request that placed it left


async def send_order(
    ctx: LoopContext, venue: Venue, side: Side, qty: Decimal, *, intent: str, reduce_only: bool = False
) -> Placed:
    """Place one market order through the dispatcher until it is known: retried when certainly not placed,
    reconciled by client order id when ambiguous, never resent blindly. Returns it in a final state."""
    rejects = transients = 0
    while True:
        sent_ns = SYSTEM_CLOCK.time_ns()
        request = OrderRequest(
            symbol=ctx.symbol,
            side=side,
            type=OrderType.MARKET,
            qty=qty,
            client_order_id=ctx.dispatcher.new_id(),
            reduce_only=reduce_only,
        )
        order: Order | None
        try:
            sent = await ctx.dispatcher.place(venue, request, intent)
            sent_ns, order = sent.sent_ns, sent.order
        except AmbiguousOrderState as exc:
            ctx.warn(f"{venue.name}: {intent} order {request.client_order_id} outcome unknown ({exc}): reconciling")
            order = await _reconcile(ctx, venue, request)
            if order is None:
                transients += 1
        except (Unavailable, RateLimited, BadResponse) as exc:
            transients += 1
            if transients >= MAX_TRANSIENT:
                raise
            delay = backoff_s(transients, exc)
            ctx.warn(f"{venue.name}: {intent} order not placed ({exc}); retrying in {delay:g} s")
            await SYSTEM_CLOCK.sleep(delay)
            continue
        except OrderRejected as exc:
            rejects += 1
            ctx.emit(f"{intent}_rejected", journal=True, venue=venue.name, side=side, qty=qty, error=str(exc))
            if rejects >= MAX_REJECTS:
                raise
            await SYSTEM_CLOCK.sleep(backoff_s(rejects, exc))
            continue
        if order is None:
            if transients >= MAX_TRANSIENT:
                raise AmbiguousOrderState(venue.name, f"{intent} order kept failing: giving up")
            continue
        order = await _final(ctx, venue, order)
        ctx.owe_account(venue, order)
        return Placed(order=order, sent_ns=sent_ns)


async def _reconcile(ctx: LoopContext, venue: Venue, request: OrderRequest) -> Order | None:
    """The order by client id, None if it was never placed; AmbiguousOrderState if it cannot be told."""
    for attempt in range(1, EXIT_ATTEMPTS + 1):
        try:
            return await ctx.dispatcher.reconcile(venue, request.symbol, request.client_order_id)
        except HedgectlError as exc:
            if attempt == EXIT_ATTEMPTS:
                raise AmbiguousOrderState(
                    venue.name, f"order {request.client_order_id} may or may not exist: {exc}"
                ) from exc
            await SYSTEM_CLOCK.sleep(backoff_s(attempt, exc))
    raise AssertionError("unreachable")  # pragma: no cover


async def _final(ctx: LoopContext, venue: Venue, order: Order) -> Order:
    """A market order in its final state: re-read while open, cancel it (for its final fill) if it lingers."""

    async def read(current: Order) -> Order:
        return await ctx.read(
            f"{venue.name}: order {current.order_id}", partial(ctx.dispatcher.refresh, venue, current), on_exit=True
        )

    deadline = ctx.clock.monotonic() + SETTLE_S
    order = await ctx.tracker.final(
        venue, order, deadline=deadline, first_s=SETTLE_POLL_FIRST_S, max_s=SETTLE_POLL_MAX_S, read=read
    )
    if order.status.is_open:
        order = await ctx.read(
            f"{venue.name}: cancelling order {order.order_id}",
            partial(ctx.dispatcher.cancel, venue, order),
            on_exit=True,
        )
    return order


async def verify_hedged(ctx: LoopContext, *, on_exit: bool = False) -> tuple[Decimal, Decimal]:
    """Make maker + taker positions sum to zero (correcting up to a few rounds); return the positions.

    While the loop runs, position reads are retried until they succeed (a stop request ends the wait);
    on the way out, a bounded number of times."""
    maker_pos, taker_pos = await read_positions(ctx, on_exit=on_exit)
    for _ in range(INVARIANT_ROUNDS):
        mismatch = maker_pos + taker_pos
        if mismatch == 0:
            return maker_pos, taker_pos
        ctx.stats.corrections += 1
        ctx.emit(
            "correction",
            journal=True,
            maker_position=maker_pos,
            taker_position=taker_pos,
            mismatch=mismatch,
        )
        await _correct(ctx, mismatch, taker_pos, maker_pos)
        maker_pos, taker_pos = await read_positions(ctx, on_exit=on_exit)
    return maker_pos, taker_pos


async def _correct(ctx: LoopContext, mismatch: Decimal, taker_pos: Decimal, maker_pos: Decimal) -> None:
    side = Side.SELL if mismatch > 0 else Side.BUY
    price = ctx.ref_price
    left = abs(mismatch)
    for venue, market, position in ((ctx.taker, ctx.taker_market, taker_pos), (ctx.maker, ctx.maker_market, maker_pos)):
        qty = floor_to_step(left, market.step_size)
        reduces = position != 0 and side.sign * position < 0 and qty <= abs(position)
        if qty <= 0 or qty < min_order_qty(market, price, reduce_only=reduces):
            continue
        placed = await send_order(ctx, venue, side, qty, intent="correction", reduce_only=reduces)
        left -= placed.order.filled_qty
        if left <= 0:
            return
    if left > 0:
        ctx.warn(f"position mismatch of {left} {ctx.symbol} is too small for either venue to correct")


async def read_positions(ctx: LoopContext, *, on_exit: bool = True) -> tuple[Decimal, Decimal]:
    """Signed positions in the loop's symbol on the maker and the taker, as the venues report them."""

    async def one(venue: Venue) -> Decimal:
        positions = await ctx.read(
            f"{venue.name}: positions", lambda: venue.fetch_positions(ctx.symbol), on_exit=on_exit
        )
        return sum((p.qty for p in positions if p.symbol == ctx.symbol), _ZERO)

    maker_pos, taker_pos = await asyncio.gather(one(ctx.maker), one(ctx.taker), return_exceptions=True)
    for result in (maker_pos, taker_pos):
        if isinstance(result, BaseException):
            raise result
    assert isinstance(maker_pos, Decimal)  # noqa: S101 - narrowed above
    assert isinstance(taker_pos, Decimal)  # noqa: S101
    return maker_pos, taker_pos
