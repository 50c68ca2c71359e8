"""Resting orders filled from a recorded or live market's trades, behind a pessimistic queue (README "Fill model").

A resting order joins the back of the queue the book shows at its price when it is placed, and cancellations
ahead of it never move it up. A trade at its price first eats that queue; only the rest fills it. A trade through
its price fills it up to the trade's size, and the queue at its price is gone. Only a taker on the other side
counts (a sell taker for a resting buy). One trade's size is shared by all resting orders it reaches, oldest
first. Fills are at the order's own price, as maker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from hedgectl.sim.books import Books
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.market import round_down
from hedgectl.sim.market_source.records import Trade
from hedgectl.sim.model import ZERO, Fill, Order, Side

# engine._fill as a maker: (instrument, order, quantity, price) -> the fill, or None if nothing could fill.
MakerFill = Callable[[Instrument, Order, Decimal, Decimal], Fill | None]


class QueueFills:
    """Each resting order's place in its queue, and the fills trades give it."""

    def __init__(self, books: Books, fill: MakerFill) -> None:
        self._books = books
        self._fill = fill
        self._ahead: dict[tuple[str, int], Decimal] = {}

    def displayed_at(self, inst: Instrument, side: Side, price: Decimal) -> Decimal:
        """What the book shows at `price` on the side a resting `side` order joins: the queue ahead of it."""
        book = self._books.book(inst)
        levels = book.bids if side is Side.BUY else book.asks
        return sum((level.qty for level in levels if level.price == price), ZERO)

    def join(self, inst: Instrument, order: Order) -> None:
        """`order` now rests: it is behind everything shown at its price."""
        if order.price is not None:
            self._ahead[(inst.venue, order.order_id)] = self.displayed_at(inst, order.side, order.price)

    def match(self, inst: Instrument, resting: Iterable[Order], trades: Iterable[Trade]) -> None:
        """Fill `resting` (one instrument's open limit orders) from `trades`, in the order they printed."""
        queue = sorted((o for o in resting if o.price is not None), key=lambda o: o.order_id)
        for trade in trades:
            self._one(inst, queue, trade)

    def _one(self, inst: Instrument, resting: list[Order], trade: Trade) -> None:
        left = trade.qty
        for order in resting:
            if left <= 0:
                return
            price = order.price
            if price is None or not order.status.is_open:
                continue
            if order.side is Side.BUY:
                reaches = trade.taker == "sell" and trade.price <= price
            else:
                reaches = trade.taker == "buy" and trade.price >= price
            if not reaches:
                continue
            key = (inst.venue, order.order_id)
            # An order restored from a saved account has no place yet: the back of today's queue.
            ahead = self._ahead.get(key)
            if ahead is None:
                ahead = self.displayed_at(inst, order.side, price)
            if trade.price == price:
                eaten = min(ahead, left)
                left -= eaten
                self._ahead[key] = ahead - eaten
            else:
                self._ahead[key] = ZERO
            qty = round_down(min(left, order.remaining), inst.step_size)
            if qty > 0:
                fill = self._fill(inst, order, qty, price)
                if fill is not None:
                    left -= fill.qty
            if not order.status.is_open:
                self._ahead.pop(key, None)
