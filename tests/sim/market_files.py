"""Recordings the tests write themselves (format hedgectl-market v1), built from plain tuples."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

from hedgectl.sim.market_source import recording
from hedgectl.sim.market_source.records import FundingQuote, Snapshot, Trade

D = Decimal
T0 = 1_765_000_000_000
Levels = Sequence[tuple[str, str]]


def book(t: int, venue: str, base: str, bids: Levels, asks: Levels) -> Snapshot:
    return Snapshot(venue, base, tuple((D(p), D(q)) for p, q in bids), tuple((D(p), D(q)) for p, q in asks), T0 + t)


def trade(t: int, venue: str, base: str, price: str, qty: str, taker: str, trade_id: str = "") -> Trade:
    return Trade(venue, base, trade_id or f"t{t}", D(price), D(qty), taker, T0 + t)


def funding(t: int, venue: str, base: str, rate: str, mark: str | None = None) -> FundingQuote:
    return FundingQuote(venue, base, D(rate), None if mark is None else D(mark), None, T0 + t)


def write(path: Path, events: Iterable[Snapshot | Trade | FundingQuote]) -> Path:
    """Write `events` as a recording (header first); return the path."""
    items = list(events)
    header = recording.Header(
        T0,
        tuple(dict.fromkeys(e.venue for e in items)),
        tuple(dict.fromkeys(e.base for e in items)),
    )
    with path.open("w", encoding="utf-8") as fh:
        writer = recording.Writer(fh, header)
        for event in items:
            writer.write(event)
    return path
