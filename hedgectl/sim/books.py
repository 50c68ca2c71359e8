"""The venues' synthetic books at the current tick, with this tick's market-order takes removed."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from hedgectl.sim.instruments import Instrument
from hedgectl.sim.market import SPREAD, Book, PriceProcess, round_down, round_up
from hedgectl.sim.model import ZERO, Side


class Books:
    """Book cache for one tick plus the liquidity taken from it; `advance` starts a fresh tick."""

    def __init__(self, prices: PriceProcess, tick: int) -> None:
        self.prices = prices
        self.tick = tick
        self._books: dict[tuple[str, str], Book] = {}
        self._consumed: dict[tuple[str, str, str, int], Decimal] = {}

    def advance(self, tick: int) -> None:
        """Move to `tick`: liquidity replenishes."""
        self.tick = tick
        self._books.clear()
        self._consumed.clear()

    def repriced(self) -> None:
        """The mids changed within this tick: rebuild the books (takes stay recorded by level)."""
        self._books.clear()

    def book(self, inst: Instrument) -> Book:
        key = (inst.venue, inst.symbol)
        book = self._books.get(key)
        if book is None:
            book = self._books[key] = self.prices.book(inst, self.tick)
        return book

    def mark(self, inst: Instrument, tick: int | None = None) -> Decimal:
        """The venue's mid at `tick` (default: now), rounded down to the tick size."""
        return round_down(self.prices.mid(inst.venue, inst.base, self.tick if tick is None else tick), inst.tick_size)

    def levels(self, inst: Instrument, side: Side, limit: Decimal | None) -> Iterator[tuple[int, Decimal, Decimal]]:
        """Yield (level index, price, quantity still available) on the book side a `side` order takes."""
        book = self.book(inst)
        book_side = "ask" if side is Side.BUY else "bid"
        levels = book.asks if side is Side.BUY else book.bids
        for i, level in enumerate(levels):
            if limit is not None and not (level.price <= limit if side is Side.BUY else level.price >= limit):
                return
            avail = level.qty - self._consumed.get((inst.venue, inst.symbol, book_side, i), ZERO)
            if avail > 0:
                yield i, level.price, avail

    def liquidity(self, inst: Instrument, side: Side, limit: Decimal | None) -> Decimal:
        return sum((avail for _, _, avail in self.levels(inst, side, limit)), ZERO)

    def consume(self, inst: Instrument, side: Side, level: int, qty: Decimal) -> None:
        key = (inst.venue, inst.symbol, "ask" if side is Side.BUY else "bid", level)
        self._consumed[key] = self._consumed.get(key, ZERO) + qty

    def top(self, inst: Instrument, tick: int) -> tuple[Decimal, Decimal]:
        """Best bid and ask at any tick (cheap: no levels built for past ticks)."""
        if tick == self.tick:
            book = self.book(inst)
            return book.best_bid, book.best_ask
        mid = self.prices.mid(inst.venue, inst.base, tick)
        half = mid * SPREAD[inst.venue] / 2
        bid = round_down(mid - half, inst.tick_size)
        return bid, max(round_up(mid + half, inst.tick_size), bid + inst.tick_size)
