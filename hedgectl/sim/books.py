"""The venues' books at the current tick, with the market-order takes not yet replenished removed."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

from hedgectl.sim.instruments import Instrument
from hedgectl.sim.market import SPREAD, Book, PriceProcess, round_down, round_up
from hedgectl.sim.model import ZERO, Side

if TYPE_CHECKING:
    from hedgectl.sim.market_source.base import MarketSource


class Books:
    """Book cache for one tick plus the liquidity taken from it; `advance` starts a fresh tick.

    Takes are kept per book version (`Book.tick`): the synthetic book is a new version every tick, so its
    liquidity replenishes each tick; a recorded or live book only when the venue publishes a new snapshot,
    so an order cannot take the same real liquidity twice.
    """

    def __init__(self, prices: PriceProcess | MarketSource, tick: int) -> None:
        self.prices = prices
        self.tick = tick
        self._books: dict[tuple[str, str], Book] = {}
        self._consumed: dict[tuple[str, str], tuple[int, dict[tuple[str, int], Decimal]]] = {}

    def advance(self, tick: int) -> None:
        """Move to `tick`: books are read again (the synthetic one replenishes)."""
        self.tick = tick
        self._books.clear()
        if not self.prices.trade_driven:
            self._consumed.clear()

    def repriced(self) -> None:
        """The mids changed within this tick: rebuild the books (takes stay recorded by level)."""
        self._books.clear()

    def book(self, inst: Instrument) -> Book:
        if self.prices.trade_driven:
            # A live book changes whenever the venue publishes one, not with the tick: always ask the source.
            return self.prices.book(inst, self.tick)
        key = (inst.venue, inst.symbol)
        book = self._books.get(key)
        if book is None:
            book = self._books[key] = self.prices.book(inst, self.tick)
        return book

    def _taken(self, inst: Instrument) -> dict[tuple[str, int], Decimal]:
        version = self.book(inst).tick
        key = (inst.venue, inst.symbol)
        current = self._consumed.get(key)
        if current is None or current[0] != version:
            current = self._consumed[key] = (version, {})
        return current[1]

    def mark(self, inst: Instrument, tick: int | None = None) -> Decimal:
        """The venue's mid at `tick` (default: now), rounded down to the tick size."""
        return round_down(self.prices.mid(inst.venue, inst.base, self.tick if tick is None else tick), inst.tick_size)

    def levels(self, inst: Instrument, side: Side, limit: Decimal | None) -> Iterator[tuple[int, Decimal, Decimal]]:
        """Yield (level index, price, quantity still available) on the book side a `side` order takes."""
        book = self.book(inst)
        taken = self._taken(inst)
        book_side = "ask" if side is Side.BUY else "bid"
        levels = book.asks if side is Side.BUY else book.bids
        for i, level in enumerate(levels):
            if limit is not None and not (level.price <= limit if side is Side.BUY else level.price >= limit):
                return
            avail = level.qty - taken.get((book_side, i), ZERO)
            if avail > 0:
                yield i, level.price, avail

    def liquidity(self, inst: Instrument, side: Side, limit: Decimal | None) -> Decimal:
        return sum((avail for _, _, avail in self.levels(inst, side, limit)), ZERO)

    def consume(self, inst: Instrument, side: Side, level: int, qty: Decimal) -> None:
        taken = self._taken(inst)
        key = ("ask" if side is Side.BUY else "bid", level)
        taken[key] = taken.get(key, ZERO) + qty

    def top(self, inst: Instrument, tick: int) -> tuple[Decimal, Decimal]:
        """Best bid and ask at any tick (cheap: no levels built for past ticks)."""
        if tick == self.tick or not isinstance(self.prices, PriceProcess):
            book = self.book(inst)
            return book.best_bid, book.best_ask
        mid = self.prices.mid(inst.venue, inst.base, tick)
        half = mid * SPREAD[inst.venue] / 2
        bid = round_down(mid - half, inst.tick_size)
        return bid, max(round_up(mid + half, inst.tick_size), bid + inst.tick_size)
