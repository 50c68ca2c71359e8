"""The recorded-market file: JSON Lines, format `hedgectl-market` version 1 (README "Market sources").

Line 1 is a header, every further line one event, in time order:

    {"format": "hedgectl-market", "version": 1, "started_ms": 1765000000000, "venues": ["aster"], "symbols": ["ASTER"]}
    {"t": 1765000000120, "kind": "book", "venue": "aster", "symbol": "ASTER", "bids": [["1.2001", "350"]],
     "asks": [["1.2004", "120"]]}
    {"t": 1765000000250, "kind": "trade", "venue": "aster", "symbol": "ASTER", "id": "81", "price": "1.2003",
     "qty": "40", "taker": "buy"}
    {"t": 1765000000300, "kind": "funding", "venue": "aster", "symbol": "ASTER", "rate": "0.0001", "mark": "1.2002",
     "index": null}

`symbol` is the base asset (BTC, ETH, SOL, ASTER); prices are in the venue's quote asset and quantities in base
units (OKX contracts already multiplied by their face value); decimals are strings; book levels best first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from hedgectl.errors import ConfigError
from hedgectl.sim.instruments import BASES, VENUES
from hedgectl.sim.market_source.records import FundingQuote, Snapshot, Trade

FORMAT = "hedgectl-market"
VERSION = 1
Event = Snapshot | Trade | FundingQuote


@dataclass(frozen=True, slots=True)
class Header:
    started_ms: int
    venues: tuple[str, ...]
    symbols: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "started_ms": self.started_ms,
            "venues": list(self.venues),
            "symbols": list(self.symbols),
        }


def _levels(levels: Iterable[tuple[Decimal, Decimal]]) -> list[list[str]]:
    return [[f"{px:f}", f"{qty:f}"] for px, qty in levels]


def event_to_json(event: Event) -> dict[str, Any]:
    """One event as its file line's object."""
    head: dict[str, Any] = {"t": event.time_ms, "venue": event.venue, "symbol": event.base}
    if isinstance(event, Snapshot):
        return {**head, "kind": "book", "bids": _levels(event.bids), "asks": _levels(event.asks)}
    if isinstance(event, Trade):
        return {
            **head,
            "kind": "trade",
            "id": event.trade_id,
            "price": f"{event.price:f}",
            "qty": f"{event.qty:f}",
            "taker": event.taker,
        }
    return {
        **head,
        "kind": "funding",
        "rate": f"{event.rate:f}",
        "mark": None if event.mark is None else f"{event.mark:f}",
        "index": None if event.index is None else f"{event.index:f}",
    }


class Writer:
    """Append events to an open text file, one line each, flushed so that an interrupted recording is usable."""

    def __init__(self, fh: IO[str], header: Header) -> None:
        self.fh = fh
        self.count = 0
        self._write(header.to_json())

    def _write(self, obj: dict[str, Any]) -> None:
        self.fh.write(json.dumps(obj, separators=(",", ":")) + "\n")
        self.fh.flush()

    def write(self, event: Event) -> None:
        self._write(event_to_json(event))
        self.count += 1


class BadEvent(Exception):
    """A recording line that does not read; the message says why (the reader adds file and line)."""


def _dec(raw: Any, name: str, *, positive: bool = True) -> Decimal:
    try:
        value = Decimal(str(raw)) if isinstance(raw, str | int) and not isinstance(raw, bool) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or (positive and value <= 0):
        raise BadEvent(f"{name} must be a {'positive ' if positive else ''}decimal string")
    return value


def _side(raw: Any, name: str) -> tuple[tuple[Decimal, Decimal], ...]:
    if not isinstance(raw, list):
        raise BadEvent(f"{name} must be a list of [price, qty]")
    out = []
    for level in raw:
        if not isinstance(level, list) or len(level) != 2:
            raise BadEvent(f"{name} must be a list of [price, qty]")
        out.append((_dec(level[0], f"{name} price"), _dec(level[1], f"{name} qty")))
    return tuple(out)


def parse_event(obj: Any) -> Event:
    """One file line's object as an event; `BadEvent` names what is wrong."""
    if not isinstance(obj, dict):
        raise BadEvent("an event must be a JSON object")
    t, venue, base, kind = obj.get("t"), obj.get("venue"), obj.get("symbol"), obj.get("kind")
    if not isinstance(t, int) or isinstance(t, bool) or t < 0:
        raise BadEvent('"t" must be a time in epoch milliseconds')
    if venue not in VENUES:
        raise BadEvent(f'"venue" must be one of {", ".join(VENUES)}')
    if base not in BASES:
        raise BadEvent(f'"symbol" must be one of {", ".join(BASES)}')
    if kind == "book":
        bids, asks = _side(obj.get("bids"), "bids"), _side(obj.get("asks"), "asks")
        if not bids or not asks:
            raise BadEvent("a book needs at least one bid and one ask")
        return Snapshot(venue, base, bids, asks, t)
    if kind == "trade":
        taker = obj.get("taker")
        if taker not in ("buy", "sell"):
            raise BadEvent('"taker" must be buy or sell')
        return Trade(
            venue, base, str(obj.get("id", "")), _dec(obj.get("price"), "price"), _dec(obj.get("qty"), "qty"), taker, t
        )
    if kind == "funding":
        mark, index = obj.get("mark"), obj.get("index")
        return FundingQuote(
            venue,
            base,
            _dec(obj.get("rate"), "rate", positive=False),
            None if mark is None else _dec(mark, "mark"),
            None if index is None else _dec(index, "index"),
            t,
        )
    raise BadEvent('"kind" must be book, trade or funding')


def read(path: Path) -> tuple[Header, list[Event]]:
    """Read a whole recording; anything wrong is one ConfigError naming the file and line."""
    try:
        with path.open(encoding="utf-8") as fh:
            return _read(fh, path)
    except OSError as exc:
        raise ConfigError(f"cannot read the market recording {path}: {exc.strerror or type(exc).__name__}") from None


def _read(lines: Iterable[str], path: Path) -> tuple[Header, list[Event]]:
    events: list[Event] = []
    header: Header | None = None
    for number, line in _numbered(lines):
        try:
            obj = json.loads(line)
        except ValueError:
            raise ConfigError(f"{path}:{number}: not JSON (a hedgectl-market recording is JSON Lines)") from None
        try:
            if header is None:
                header = parse_header(obj)
                continue
            events.append(parse_event(obj))
        except BadEvent as exc:
            raise ConfigError(f"{path}:{number}: {exc}") from None
    if header is None:
        raise ConfigError(f"{path} is empty: record one with `hedgectl sim record`")
    events.sort(key=lambda e: e.time_ms)  # stable: events of one millisecond keep their file order
    return header, events


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line


def parse_header(obj: Any) -> Header:
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise BadEvent(f'the first line must be the header {{"format": "{FORMAT}", ...}}')
    if obj.get("version") != VERSION:
        raise BadEvent(f"unsupported recording version {obj.get('version')!r} (this hedgectl reads version {VERSION})")
    started = obj.get("started_ms")
    venues, symbols = obj.get("venues"), obj.get("symbols")
    if not isinstance(started, int) or isinstance(started, bool):
        raise BadEvent('"started_ms" must be epoch milliseconds')
    if not isinstance(venues, list) or not all(v in VENUES for v in venues):
        raise BadEvent(f'"venues" must list venues among {", ".join(VENUES)}')
    if not isinstance(symbols, list) or not all(s in BASES for s in symbols):
        raise BadEvent(f'"symbols" must list symbols among {", ".join(BASES)}')
    return Header(started, tuple(venues), tuple(symbols))
