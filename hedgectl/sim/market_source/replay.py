"""The `replay` market source: a recorded file played back against the simulator's clock.

Replay time is a pure function of the tick: `t0 + tick * tick_ms * speed`, t0 being the recording's first
event. So a frozen clock stepped by a test, or two runs of the same command, see exactly the same books
and trades at the same ticks. Past the last event the market stays as it was last recorded.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from hedgectl.errors import ConfigError
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.market import Book, Level
from hedgectl.sim.market_source import recording
from hedgectl.sim.market_source.base import sampled_ohlc
from hedgectl.sim.market_source.records import FundingQuote, Snapshot, Trade
from hedgectl.sim.model import Reason, SimError


def snapshot_book(snapshot: Snapshot, version: int) -> Book:
    """A venue's published book as the engine's Book; `version` tells takes when liquidity is new."""
    bids = [Level(px, qty) for px, qty in snapshot.bids]
    asks = [Level(px, qty) for px, qty in snapshot.asks]
    return Book(tick=version, mid=(bids[0].price + asks[0].price) / 2, bids=bids, asks=asks)


@dataclass
class _Series:
    books: list[Snapshot] = field(default_factory=list)
    book_ms: list[int] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    trade_ms: list[int] = field(default_factory=list)
    funding: list[FundingQuote] = field(default_factory=list)
    funding_ms: list[int] = field(default_factory=list)


class ReplaySource:
    kind = "replay"
    trade_driven = True

    def __init__(self, path: Path, tick_ms: int, speed: Decimal = Decimal(1)) -> None:
        if not speed.is_finite() or speed <= 0:
            raise ConfigError("the replay speed must be a positive number (1 = as recorded)")
        self.path = path
        self.tick_ms = tick_ms
        self.speed = speed
        header, events = recording.read(path)
        self.header = header
        self._series: dict[tuple[str, str], _Series] = {}
        self._built: dict[tuple[str, str], Book] = {}
        for event in events:
            series = self._series.setdefault((event.venue, event.base), _Series())
            if isinstance(event, Snapshot):
                series.books.append(event)
                series.book_ms.append(event.time_ms)
            elif isinstance(event, Trade):
                series.trades.append(event)
                series.trade_ms.append(event.time_ms)
            else:
                series.funding.append(event)
                series.funding_ms.append(event.time_ms)
        self._series = {key: s for key, s in self._series.items() if s.books}
        if not self._series:
            raise ConfigError(f"the market recording {path} holds no book: record one with `hedgectl sim record`")
        self.t0 = min(event.time_ms for event in events)
        self.t_end = max(event.time_ms for event in events)

    def describe(self) -> dict[str, object]:
        return {"source": self.kind, "file": str(self.path), "speed": f"{self.speed:f}"}

    def covers(self, venue: str, base: str) -> bool:
        return (venue, base) in self._series

    def time_ms(self, tick: int) -> int:
        """The recording's time at `tick`."""
        return self.t0 + int(Decimal(tick * self.tick_ms) * self.speed)

    def finished(self, tick: int) -> bool:
        return self.time_ms(tick) >= self.t_end

    def _get(self, venue: str, base: str) -> _Series:
        series = self._series.get((venue, base))
        if series is None:
            raise SimError(Reason.UNKNOWN_SYMBOL, f"{base} on {venue} is not in the recording", symbol=base)
        return series

    def _snapshot(self, venue: str, base: str, tick: int) -> tuple[int, Snapshot]:
        series = self._get(venue, base)
        # Before a pair's first book, its first book stands (the recording starts with the market as it was).
        i = max(bisect_right(series.book_ms, self.time_ms(tick)) - 1, 0)
        return i, series.books[i]

    def book(self, inst: Instrument, tick: int) -> Book:
        key = (inst.venue, inst.base)
        i, snapshot = self._snapshot(inst.venue, inst.base, tick)
        cached = self._built.get(key)
        if cached is None or cached.tick != i:
            cached = self._built[key] = snapshot_book(snapshot, i)
        return cached

    def ohlc(self, venue: str, base: str, first: int, last: int) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        return sampled_ohlc(self.mid, venue, base, first, last)

    def mid(self, venue: str, base: str, tick: int) -> Decimal:
        quote = self.funding(venue, base, tick)
        if quote is not None and quote.mark is not None:
            return quote.mark
        _, snapshot = self._snapshot(venue, base, tick)
        return (snapshot.bids[0][0] + snapshot.asks[0][0]) / 2

    def index(self, base: str, venue: str, tick: int) -> Decimal:
        quote = self.funding(venue, base, tick)
        if quote is not None and quote.index is not None:
            return quote.index
        return self.mid(venue, base, tick)

    def trades(self, inst: Instrument, after_tick: int, upto_tick: int) -> list[Trade]:
        series = self._get(inst.venue, inst.base)
        lo = bisect_right(series.trade_ms, self.time_ms(after_tick))
        hi = bisect_right(series.trade_ms, self.time_ms(upto_tick))
        return series.trades[lo:hi]

    def funding(self, venue: str, base: str, tick: int) -> FundingQuote | None:
        series = self._get(venue, base)
        i = bisect_right(series.funding_ms, self.time_ms(tick)) - 1
        return series.funding[i] if i >= 0 else None
