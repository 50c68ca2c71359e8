"""What a fill or an order's end does: to the account (position, balance, fees, history), to the order, to the
public tape and to the events the private streams publish.

The matching engine (`engine.py`) decides that an order fills, at what price and as maker or taker; `Booking`
records it. A reduce-only order never fills past the position it reduces, and one left with nothing to reduce
expires.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from hedgectl.sim.accounts import Account
from hedgectl.sim.books import Books
from hedgectl.sim.events import EventBus
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.market_source.records import Trade
from hedgectl.sim.model import ZERO, EngineEvent, EventKind, Fill, Order, OrderStatus, Position, Side

# The precision a venue charges (and reports) fees in; a venue not listed charges them unrounded.
FEE_QUANTUM: dict[str, Decimal] = {"binance": Decimal("1e-8"), "aster": Decimal("1e-8")}
TAPE_LIMIT = 1000  # public trades kept per instrument (the simulator's own fills, as a venue prints them)

# The engine's open orders of (venue, symbol), read after the engine caught up with its clock.
OpenOrders = Callable[[str, str], list[Order]]


class Booking:
    """Books fills and order ends into the engine's accounts; keeps the public tape of each instrument."""

    def __init__(self, accounts: dict[str, Account], books: Books, bus: EventBus, open_orders: OpenOrders) -> None:
        self.accounts = accounts
        self.books = books
        self.bus = bus
        self._open_orders = open_orders
        self.tape: dict[tuple[str, str], deque[Trade]] = {}

    def take(self, inst: Instrument, order: Order, target: Decimal) -> None:
        """Walk the book for up to `target` filled quantity (taker)."""
        for i, price, avail in list(self.books.levels(inst, order.side, order.price)):
            want = target - order.filled_qty
            if want <= 0 or not order.status.is_open:
                return
            fill = self.fill(inst, order, min(want, avail), price, maker=False)
            if fill is None:
                return
            self.books.consume(inst, order.side, i, fill.qty)

    def fill(self, inst: Instrument, order: Order, qty: Decimal, price: Decimal, *, maker: bool) -> Fill | None:
        """Record one fill of `order` (quantity capped for reduce-only); None if nothing could fill."""
        acct = self.accounts[inst.venue]
        pos = acct.position(inst.symbol, inst.base, order.position_side)
        qty = min(qty, order.remaining)
        if order.closes:
            reducible = abs(pos.qty) if pos.qty and (pos.qty > 0) != (order.side is Side.BUY) else ZERO
            qty = min(qty, reducible)
        if qty <= 0:
            if order.closes and order.status.is_open:
                self.finish(order, OrderStatus.EXPIRED)
            return None
        stamp_ns = time.time_ns()
        stamp = stamp_ns // 1_000_000
        fee = qty * price * (inst.maker_fee if maker else inst.taker_fee)
        quantum = FEE_QUANTUM.get(inst.venue)
        if quantum is not None:
            # Binance and Aster report a commission to 8 places and charge exactly what they report.
            fee = fee.quantize(quantum)
        realized = pos.apply(order.side, qty, price)
        pos.updated_ms = stamp
        acct.balance += realized - fee
        acct.fees_paid += fee
        order.filled_qty += qty
        order.filled_quote += qty * price
        order.fee += fee
        order.updated_ms = stamp
        order.status = OrderStatus.FILLED if order.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        fill = Fill(
            venue=inst.venue,
            fill_id=acct.new_fill_id(),
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            symbol=inst.symbol,
            base=inst.base,
            side=order.side,
            price=price,
            qty=qty,
            fee=fee,
            fee_asset=acct.asset,
            maker=maker,
            realized_pnl=realized,
            time_ms=stamp,
            filled_ns=stamp_ns,
            position_side=order.position_side,
        )
        acct.fills.append(fill)
        taker = order.side if not maker else (Side.SELL if order.side is Side.BUY else Side.BUY)
        tape = self.tape.setdefault((inst.venue, inst.symbol), deque(maxlen=TAPE_LIMIT))
        tape.append(Trade(inst.venue, inst.base, str(fill.fill_id), price, qty, taker.value, stamp))
        if order.status is OrderStatus.FILLED:
            acct.close(order)
        self.publish(EventKind.FILL, order, fill)
        if pos.qty == 0 or realized:
            self._expire_stale_reduce_only(inst, pos)
        return fill

    def _expire_stale_reduce_only(self, inst: Instrument, pos: Position) -> None:
        for other in self._open_orders(inst.venue, inst.symbol):
            if other.position_side is not pos.side:
                continue
            if other.closes and (pos.qty == 0 or (pos.qty > 0) == (other.side is Side.BUY)):
                self.finish(other, OrderStatus.EXPIRED)

    def finish(self, order: Order, status: OrderStatus) -> None:
        """End `order` as canceled or expired: it leaves the open orders, and its stream says so."""
        order.status = status
        order.updated_ms = time.time_ns() // 1_000_000
        self.accounts[order.venue].close(order)
        self.publish(EventKind.CANCELED if status is OrderStatus.CANCELED else EventKind.EXPIRED, order)

    def publish(self, kind: EventKind, order: Order, fill: Fill | None = None) -> None:
        """Tell the private streams about `order` (a snapshot of it, as it is now)."""
        if not self.bus.active:
            return  # snapshotting orders costs more than the matching itself
        self.bus.publish(EngineEvent(order.venue, kind, order=replace(order), fill=fill, event_ns=time.time_ns()))
