"""What the simulator's market is made of, whichever source drives it: books, trades, marks and funding rates.

A source answers as a function of the simulator's tick (`synthetic`, `replay`) or of what it last received
(`live`). The engine asks it for the book of an instrument, the trades printed since its last look and the
funding rate; it never asks where they came from. The values it hands over live in `records.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from hedgectl.sim.instruments import Instrument
from hedgectl.sim.market import Book
from hedgectl.sim.market_source.records import FundingQuote, Trade

ZERO = Decimal(0)


class MarketSource(Protocol):
    """The seam between the engine and where prices come from (see package docstring)."""

    kind: str  # "synthetic" | "replay" | "live"
    # True: resting orders fill only on the source's trades (queue model); False: when the book crosses them.
    trade_driven: bool

    def describe(self) -> dict[str, object]:
        """What a command shows about the source: {"source": kind, ...details}."""
        ...

    def covers(self, venue: str, base: str) -> bool:
        """Whether the source has data for `base` on `venue` (instruments it lacks are not listed)."""
        ...

    def mid(self, venue: str, base: str, tick: int) -> Decimal: ...

    def book(self, inst: Instrument, tick: int) -> Book: ...

    def index(self, base: str, venue: str, tick: int) -> Decimal: ...

    def trades(self, inst: Instrument, after_tick: int, upto_tick: int) -> list[Trade]:
        """Trades printed in (after_tick, upto_tick] (replay), or received since the last call (live)."""
        ...

    def funding(self, venue: str, base: str, tick: int) -> FundingQuote | None: ...

    def ohlc(self, venue: str, base: str, first: int, last: int) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """The venue's mid at ticks first..last: open, high, low, close (the candles the simulator serves)."""
        ...


OHLC_SAMPLES = 240  # a candle's mid is read at most this many times, its first and last tick always included


def sampled_ohlc(
    mid: Callable[[str, str, int], Decimal], venue: str, base: str, first: int, last: int
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """Open, high, low, close of `mid` over ticks first..last, sampled at an even stride (for sources whose
    mid is read tick by tick: replay and live)."""
    stride = max(1, (last - first + 1) // OHLC_SAMPLES)
    ticks = [*range(first, last + 1, stride)]
    if ticks[-1] != last:
        ticks.append(last)
    prices = [mid(venue, base, t) for t in ticks]
    return prices[0], max(prices), min(prices), prices[-1]
