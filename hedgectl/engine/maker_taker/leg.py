"""One leg of the maker/taker loop: rest a post-only limit on the maker, re-quote it, hedge every fill.

Leg 1 sells on the maker at last x (1 + offset) and buys on the taker; leg 2 is the mirror. The resting order
is followed by the run's order tracker (its stream, else polling); after `requote_after_s` without completing
it is cancelled - the cancel's answer carries the final filled quantity, so a fill racing the cancel is still
hedged - and the rest is re-posted at a fresh price. A post-only order the venue expires because it would have
taken is simply re-priced. A stop request ends the leg the same way: cancel, hedge what filled, return.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from decimal import Decimal

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.quantity import accepts
from hedgectl.domain.rounding import round_price
from hedgectl.domain.types import Order, OrderRequest, OrderStatus, OrderType, Quote, Side, TimeInForce
from hedgectl.engine.maker_taker.context import EXIT_ATTEMPTS, TRANSIENT, LoopContext, Stopped, backoff_s
from hedgectl.engine.maker_taker.hedger import Hedger, LegBook
from hedgectl.errors import AmbiguousOrderState, HedgectlError, OrderNotFound, OrderRejected

MAX_MAKER_REJECTS = 5  # consecutive refusals of the maker order before the leg gives up
EXPIRED_PAUSE_S = 0.2  # before re-pricing a post-only order the venue expired (it would have taken)
CANCEL_SETTLE_S = 0.45  # how long an order whose cancel was only queued is re-read (every CANCEL_POLL_S)
CANCEL_POLL_S = 0.1


def quote_price(quote: Quote, side: Side, offset_pct: Decimal, tick: Decimal) -> Decimal:
    """The maker's limit price: last (mid if none) moved `offset_pct` away from the market, on the tick,
    and never through the quoted book (a post-only order priced from a stale last would only expire)."""
    ref = reference_price(quote)
    if side is Side.SELL:
        return max(round_price(ref * (1 + offset_pct / 100), tick, up=True), round_price(quote.ask, tick, up=True))
    return min(round_price(ref * (1 - offset_pct / 100), tick, up=False), round_price(quote.bid, tick, up=False))


def reference_price(quote: Quote) -> Decimal:
    return quote.last if quote.last is not None and quote.last > 0 else quote.mid


@dataclass
class LegResult:
    side: Side
    book: LegBook
    complete: bool = False
    fill_s: float | None = None


class Leg:
    def __init__(self, ctx: LoopContext, side: Side, *, until: float | None = None) -> None:
        """`until`: a time.monotonic() deadline after which no order is (re-)posted and the resting one is
        cancelled (bootstrap's maker-first entry); None: quote until filled or stopped (the loop)."""
        self.ctx = ctx
        self.until = until
        self.book = LegBook(side=side, target=ctx.config.qty)
        self.hedger = Hedger(ctx, self.book)
        self._resting: Order | None = None
        self._seen = Decimal(0)  # filled quantity of the resting order already applied

    async def run(self) -> LegResult:
        """Fill the leg's quantity on the maker, hedging as it goes; always ends hedged or raises."""
        result = LegResult(side=self.book.side, book=self.book)
        started = SYSTEM_CLOCK.monotonic()
        try:
            await self._quote_until_filled()
        except Stopped:
            pass
        finally:
            await self._wind_down()
        result.complete = self.book.maker_filled >= self.book.target
        if result.complete:
            result.fill_s = SYSTEM_CLOCK.monotonic() - started
            self.ctx.stats.fill_time_s.add(result.fill_s)
        return result

    async def _quote_until_filled(self) -> None:
        ctx, book = self.ctx, self.book
        market = ctx.maker_market
        rejects = failures = 0
        while book.maker_filled < book.target and not ctx.stopping and not self._expired():
            quote = await ctx.read(f"{ctx.maker.name}: quote", lambda: ctx.maker.fetch_quote(ctx.symbol))
            ctx.ref_price = reference_price(quote)
            price = quote_price(quote, book.side, ctx.config.offset_pct, market.tick_size)
            qty = book.target - book.maker_filled
            if not accepts(market, qty, price):
                ctx.warn(f"the leg's remaining {qty} {ctx.symbol} is below {ctx.maker.name}'s minimum: not re-posted")
                return
            request = OrderRequest(
                symbol=ctx.symbol,
                side=book.side,
                type=OrderType.LIMIT,
                qty=qty,
                price=price,
                client_order_id=ctx.dispatcher.new_id(),
                time_in_force=TimeInForce.POST_ONLY,
            )
            try:
                order = await self._place(request)
            except OrderRejected as exc:
                rejects += 1
                ctx.emit(
                    "order",
                    action="rejected",
                    venue=ctx.maker.name,
                    side=book.side,
                    qty=qty,
                    price=price,
                    error=str(exc),
                )
                if rejects >= MAX_MAKER_REJECTS:
                    raise
                await ctx.pause(backoff_s(rejects, exc))
                continue
            except TRANSIENT as exc:
                failures += 1
                delay = backoff_s(failures, exc)
                ctx.warn(f"{ctx.maker.name}: maker order not placed ({exc}); retrying in {delay:g} s")
                await ctx.pause(delay)
                continue
            if order is None:
                continue  # reconciled: it was never placed
            rejects = failures = 0
            ctx.stats.maker_orders += 1
            await self._work(order)
            if book.maker_filled < book.target and not ctx.stopping:
                ctx.stats.requotes += 1

    def _expired(self) -> bool:
        return self.until is not None and SYSTEM_CLOCK.monotonic() >= self.until

    async def _place(self, request: OrderRequest) -> Order | None:
        ctx = self.ctx
        try:
            sent = await ctx.dispatcher.place(ctx.maker, request, "maker")
        except AmbiguousOrderState as exc:
            ctx.warn(f"{ctx.maker.name}: maker order {request.client_order_id} outcome unknown ({exc}): reconciling")
            try:
                return await ctx.read(
                    f"{ctx.maker.name}: reconciling {request.client_order_id}",
                    lambda: ctx.dispatcher.reconcile(ctx.maker, ctx.symbol, request.client_order_id),
                    on_exit=True,
                )
            except HedgectlError as again:
                # Never post another order beside one that may rest unseen: stop (the exit step cancels all).
                raise HedgectlError(
                    f"{ctx.maker.name}: maker order {request.client_order_id} may or may not rest: {again}"
                ) from again
        return sent.order

    async def _work(self, order: Order) -> None:
        """Watch one resting order until filled or `requote_after_s`, then cancel it; hedge every fill."""
        ctx = self.ctx
        self._resting, self._seen = order, Decimal(0)
        if order.status is OrderStatus.EXPIRED and order.filled_qty == 0:
            self._resting = None
            ctx.emit(
                "order",
                action="expired",
                venue=ctx.maker.name,
                side=order.side,
                qty=order.qty,
                price=order.price,
                order_id=order.order_id,
                reason="post-only would have taken: re-pricing",
            )
            await ctx.pause(EXPIRED_PAUSE_S)
            return
        ctx.emit(
            "order",
            action="placed",
            venue=ctx.maker.name,
            side=order.side,
            qty=order.qty,
            price=order.price,
            order_id=order.order_id,
            client_order_id=order.client_order_id,
        )
        await self._apply(order)
        if order.status.is_open:
            wait_s = ctx.config.requote_after_s
            if self.until is not None:
                wait_s = max(0.0, min(wait_s, self.until - SYSTEM_CLOCK.monotonic()))
            until = ctx.clock.monotonic() + wait_s
            resting = f"{ctx.maker.name} {order.side} {order.qty} @ {order.price} resting"
            async with (
                ctx.waiting(
                    "requote",
                    wait_s,
                    lambda left: f"leg {ctx.leg}: {resting}, re-quoting in {left} unless filled",
                    order_id=order.order_id,
                ),
                contextlib.aclosing(ctx.tracker.updates(ctx.maker, order, until=until)) as updates,
            ):
                async for update in updates:
                    order = update.order
                    await self._apply(order, update.seen_ns)
        if order.status.is_open:
            order = await self._cancel(order)
        else:
            ctx.dispatcher.journal_state(self._resting.client_order_id, order)
        self._resting = None
        action = "filled" if order.status is OrderStatus.FILLED else "cancelled"
        ctx.emit(
            "order",
            action=action,
            venue=ctx.maker.name,
            side=order.side,
            qty=order.qty,
            price=order.price,
            order_id=order.order_id,
            filled=order.filled_qty,
            status=order.status,
        )
        ctx.owe_account(ctx.maker, order)
        await ctx.settle_accounts()

    async def _apply(self, order: Order, seen_ns: int | None = None) -> None:
        """Hedge whatever the maker order filled since we last looked (`seen_ns`: when we learned it)."""
        delta = order.filled_qty - self._seen
        if delta > 0:
            self._seen = order.filled_qty
            await self.hedger.on_maker_fill(delta, seen_ns or SYSTEM_CLOCK.time_ns(), order)

    async def _cancel(self, order: Order) -> Order:
        """Cancel the resting order and return its final state, applying any fill that raced the cancel."""
        ctx = self.ctx
        final = await self._cancel_once(order)
        if not final.status.is_final:  # the venue only queued the cancel
            final = await ctx.tracker.final(
                ctx.maker,
                final,
                deadline=ctx.clock.monotonic() + CANCEL_SETTLE_S,
                first_s=CANCEL_POLL_S,
                max_s=CANCEL_POLL_S,
                read=self._lookup,
            )
        if final.status.is_open:
            raise AmbiguousOrderState(ctx.maker.name, f"order {order.order_id} still rests after cancelling it")
        ctx.dispatcher.journal_state(order.client_order_id, final)
        if final.filled_qty < self._seen:
            # A cancel reply that does not report fills: trust what was already seen.
            final = replace(final, filled_qty=self._seen)
        await self._apply(final)
        return final

    async def _cancel_once(self, order: Order) -> Order:
        ctx = self.ctx
        for attempt in range(1, EXIT_ATTEMPTS + 1):
            try:
                return await ctx.dispatcher.cancel(ctx.maker, order)
            except OrderNotFound:
                return await self._lookup(order)  # already filled or cancelled
            except TRANSIENT as exc:
                if attempt == EXIT_ATTEMPTS:
                    raise
                ctx.warn(f"{ctx.maker.name}: cancelling {order.order_id}: {exc}; retrying")
                await SYSTEM_CLOCK.sleep(backoff_s(attempt, exc))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _lookup(self, order: Order) -> Order:
        """The order as the venue knows it (journaled); if even its history has no trace, as its fills say."""
        ctx = self.ctx
        for attempt in range(1, EXIT_ATTEMPTS + 1):
            try:
                return await ctx.dispatcher.refresh(ctx.maker, order)
            except OrderNotFound:
                break
            except TRANSIENT as exc:
                if attempt == EXIT_ATTEMPTS:
                    raise
                await SYSTEM_CLOCK.sleep(backoff_s(attempt, exc))
        fills = await ctx.read(
            f"{ctx.maker.name}: fills of {order.order_id}",
            lambda: ctx.maker.fetch_fills(ctx.symbol, order_id=order.order_id),
            on_exit=True,
        )
        filled = sum((f.qty for f in fills if f.order_id == order.order_id), Decimal(0))
        ctx.warn(f"{ctx.maker.name}: order {order.order_id} is gone; its fills say it filled {filled}")
        status = OrderStatus.FILLED if filled >= order.qty else OrderStatus.CANCELED
        return replace(order, status=status, filled_qty=max(filled, order.filled_qty))

    async def _wind_down(self) -> None:
        """However the leg ends: no order left resting, every fill hedged (or closed on the maker)."""
        ctx = self.ctx
        errors: list[HedgectlError] = []
        if self._resting is not None:
            order, self._resting = self._resting, None
            try:
                final = await self._cancel(order)
                ctx.owe_account(ctx.maker, final)
            except HedgectlError as exc:
                errors.append(exc)
                ctx.warn(f"{ctx.maker.name}: could not cancel order {order.order_id}: {exc}")
        try:
            await self.hedger.settle()
        except HedgectlError as exc:
            errors.append(exc)
        try:
            await ctx.settle_accounts()
        except HedgectlError as exc:
            ctx.warn(f"accounting after the leg failed: {exc}")
        if errors:
            raise errors[0]
