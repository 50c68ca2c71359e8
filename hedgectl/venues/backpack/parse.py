"""Backpack wire replies -> domain values: server time, errors, markets and prices, positions and balances.

Orders, fills, funding payments and the order POST body are in parse_orders.py. Every Backpack quirk stops
in these two modules. Quirks handled here: decimal strings, depth timestamps in microseconds, depth sides
whose sort order is not guaranteed, a text/plain server time, fee tiers in basis points.
A missing or wrong-typed field raises BadResponse: a number we cannot trust is never returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from hedgectl.domain.types import (
    Balance,
    BookLevel,
    Candle,
    Market,
    OrderBook,
    Position,
)
from hedgectl.errors import BadResponse
from hedgectl.venues.kit.candles import candle
from hedgectl.venues.kit.fees import check_fee_rate
from hedgectl.venues.kit.wire import WireReader
from hedgectl.venues.kit.wire import decode_json as wire_json

VENUE = "backpack"
T = TypeVar("T")
PERP = "PERP"


_r = WireReader(VENUE)
_bad = _r.bad
_obj = _r.obj
_list = _r.seq
_present = _r.field
_dec = _r.dec
_opt_dec = _r.opt_dec
_nonneg = _r.nonneg
_positive = _r.positive
_str = _r.text
_id = _r.ident
_enum = _r.enum
_opt_time = _r.opt_iso_or_ms


def _int(value: object, key: str, what: str) -> int:
    return _r.integer(value, f"{what}.{key}")


def _opt_bool(wire: Mapping[str, object], key: str, what: str) -> bool:
    return _r.flag(wire, key, what)


def _ms_time(value: object, key: str, what: str) -> datetime:
    return _r.epoch(value, f"{what}.{key}")


# --- server time, errors ------------------------------------------------------------------------------


def parse_server_time(body: str | bytes) -> int:
    """GET /api/v1/time answers a bare integer in text/plain: epoch milliseconds."""
    text = (body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body).strip()
    if not text.isdigit() or not 10**12 <= int(text) < 10**14:
        raise _bad(f"server time is not epoch milliseconds: {text[:40]!r}")
    return int(text)


def parse_error(body: str | bytes) -> tuple[str, str] | None:
    """The `{"code", "message"}` of an error reply, or None when the body is not that shape."""
    try:
        wire = wire_json(body, VENUE)
    except BadResponse:
        return None
    if not isinstance(wire, dict) or not isinstance(wire.get("code"), str):
        return None
    message = wire.get("message")
    return wire["code"], message if isinstance(message, str) else ""


# --- markets and prices -------------------------------------------------------------------------------


def is_perp(wire: object) -> bool:
    """True for a PERP market object (the list may hold other kinds when the filter is ignored)."""
    return isinstance(wire, dict) and wire.get("marketType") == PERP


def parse_market(wire: object) -> Market:
    """One PERP market with its rules (base units; Backpack has no min notional)."""
    what = "market"
    market = _obj(wire, what)
    venue_symbol = _str(market, "symbol", what)
    what = f"market {venue_symbol[:40]}"
    if market.get("marketType") != PERP:
        raise _bad(f"{what}: not a perpetual")
    base = _str(market, "baseSymbol", what)
    filters = _obj(_present(market, "filters", what), f"{what} filters")
    price = _obj(_present(filters, "price", what), f"{what} price filter")
    quantity = _obj(_present(filters, "quantity", what), f"{what} quantity filter")
    max_qty = _opt_dec(quantity, "maxQuantity", what)
    return Market(
        venue=VENUE,
        symbol=base.upper(),
        venue_symbol=venue_symbol,
        base=base,
        quote=_str(market, "quoteSymbol", what),
        tick_size=_positive(price, "tickSize", what),
        step_size=_positive(quantity, "stepSize", what),
        min_qty=_nonneg(quantity, "minQuantity", what),
        max_qty=max_qty if max_qty is not None and max_qty > 0 else None,
    )


def parse_funding_interval(wire: object) -> timedelta | None:
    """The market's `fundingInterval` (milliseconds, number or string); None when absent."""
    market = _obj(wire, "market")
    value = market.get("fundingInterval")
    if value is None:
        return None
    ms = _int(value, "fundingInterval", "market")
    if ms <= 0:
        raise _bad("market: fundingInterval must be positive")
    return timedelta(milliseconds=ms)


def parse_markets(wire: object, broken: dict[str, str] | None = None) -> dict[str, tuple[Market, timedelta | None]]:
    """GET /api/v1/markets -> PERP markets keyed by canonical base, with their funding intervals.

    Other market types are skipped; when one base has several perps the USDC-quoted one wins. A row we cannot
    read is set aside (into `broken`: base -> why), never the whole venue.
    """
    markets: dict[str, tuple[Market, timedelta | None]] = {}
    for row in _list(wire, "markets"):
        if not is_perp(row):
            continue
        try:
            market, interval = parse_market(row), parse_funding_interval(row)
        except BadResponse as exc:
            if broken is not None:
                base = row.get("baseSymbol") if isinstance(row, dict) else None
                broken[str(base).upper()[:40]] = exc.reason
            continue
        known = markets.get(market.symbol)
        if known is None or (known[0].quote != "USDC" and market.quote == "USDC"):
            markets[market.symbol] = (market, interval)
    return markets


def _levels(wire: object, side: str) -> list[BookLevel]:
    levels = []
    for row in _list(wire, f"depth {side}"):
        if not isinstance(row, list) or len(row) < 2:
            raise _bad(f"depth {side}: a level is not [price, quantity]")
        price = _r.number(row[0], f"depth {side} price")
        qty = _r.number(row[1], f"depth {side} quantity")
        if price <= 0 or qty < 0:
            raise _bad(f"depth {side}: a level has a non-positive price or negative quantity")
        if qty > 0:
            levels.append(BookLevel(price=price, qty=qty))
    return levels


def parse_depth(wire: object, symbol: str, depth: int) -> OrderBook:
    """GET /api/v1/depth -> book, best first; both sides are re-sorted whatever order the venue used."""
    book = _obj(wire, "depth")
    bids = sorted(_levels(_present(book, "bids", "depth"), "bids"), key=lambda lv: lv.price, reverse=True)
    asks = sorted(_levels(_present(book, "asks", "depth"), "asks"), key=lambda lv: lv.price)
    stamp = book.get("timestamp")
    at = None if stamp is None else datetime.fromtimestamp(_int(stamp, "timestamp", "depth") / 1e6, tz=UTC)
    return OrderBook(venue=VENUE, symbol=symbol, bids=tuple(bids[:depth]), asks=tuple(asks[:depth]), at=at)


def parse_klines(wire: object, symbol: str, interval: timedelta) -> list[Candle]:
    """GET /api/v1/klines -> candles, oldest first; `start` is "YYYY-MM-DD HH:MM:SS" UTC (or epoch ms)."""
    candles = [
        candle(_r, symbol, _r.iso_or_ms(row, "start", "klines"), interval, row, "klines", row.get("volume"))
        for row in _r.rows(wire, "klines")
    ]
    return sorted(candles, key=lambda c: c.open_at)


def parse_last_price(wire: object) -> Decimal | None:
    """GET /api/v1/ticker -> lastPrice (None for a market that has not traded)."""
    ticker = _obj(wire, "ticker")
    return _opt_dec(ticker, "lastPrice", "ticker")


@dataclass(frozen=True, slots=True)
class MarkInfo:
    mark: Decimal
    funding_rate: Decimal | None
    next_funding_at: datetime | None


def parse_mark_price(wire: object, venue_symbol: str) -> MarkInfo:
    """GET /api/v1/markPrices (a list) -> mark, current funding rate, end of the funding interval."""
    what = "markPrices"
    for row in _list(wire, what):
        entry = _obj(row, what)
        if entry.get("symbol") != venue_symbol:
            continue
        nxt = entry.get("nextFundingTimestamp")
        return MarkInfo(
            mark=_positive(entry, "markPrice", what),
            funding_rate=_opt_dec(entry, "fundingRate", what),
            next_funding_at=None if nxt is None else _ms_time(nxt, "nextFundingTimestamp", what),
        )
    raise _bad(f"{what}: no entry for {venue_symbol}")


# --- positions and balances ---------------------------------------------------------------------------


def parse_position(wire: object, symbol: str) -> Position:
    """GET /api/v1/position item -> Position with the signed `netQuantity` (not netExposureQuantity,
    which counts open orders)."""
    position = _obj(wire, "position")
    what = f"position {symbol}"
    entry = _opt_dec(position, "entryPrice", what)
    mark = _opt_dec(position, "markPrice", what)
    return Position(
        venue=VENUE,
        symbol=symbol,
        qty=_dec(position, "netQuantity", what),
        entry_price=entry if entry else None,
        mark_price=mark if mark else None,
        unrealized_pnl=_opt_dec(position, "pnlUnrealized", what),
        liquidation_price=_opt_dec(position, "estLiquidationPrice", what) or None,
    )


BPS = Decimal(10_000)


def parse_taker_fee_rate(wire: object) -> Decimal:
    """GET /api/v1/account -> `futuresTakerFee` (the perp tier; `spotTakerFee` is spot's) as a fraction.

    Backpack writes its tiers in basis points, as strings: `"futuresTakerFee": "5"` is 0.05 %. One rate for
    the whole account, every perp market.
    """
    # Basis points, checked 2026-12: Backpack's OpenAPI spec (docs.backpack.exchange, schema AccountSummary)
    # describes futuresTakerFee as "Futures taker fee in basis points" (makers: "Negative if a rebate exists").
    # No recorded /api/v1/account reply is in our real fixtures, and ccxt 4.5.90 does not read this endpoint
    # (backpack.py leaves its taker fee None), so the spec is the one primary source. Were a reply ever in
    # fractions ("0.0005"), this would read 10,000 times too small: re-check on the first live account read.
    what = "account"
    return check_fee_rate(VENUE, _nonneg(_obj(wire, what), "futuresTakerFee", what) / BPS, what)


def parse_collateral(wire: object) -> list[Balance]:
    """GET /api/v1/capital/collateral -> one Balance per collateral asset (free = availableQuantity)."""
    what = "collateral"
    account = _obj(wire, what)
    balances = []
    for row in _list(_present(account, "collateral", what), what):
        entry = _obj(row, what)
        asset = _str(entry, "symbol", what)
        total = _dec(entry, "totalQuantity", f"{what} {asset}")
        free = _dec(entry, "availableQuantity", f"{what} {asset}")
        balances.append(Balance(asset=asset, total=total, free=free, used=max(total - free, Decimal(0))))
    return balances


def parse_capital(wire: object) -> list[Balance]:
    """GET /api/v1/capital -> one Balance per asset (used = locked + staked)."""
    what = "capital"
    balances = []
    for asset, row in _obj(wire, what).items():
        entry = _obj(row, f"{what} {asset}")
        free = _dec(entry, "available", f"{what} {asset}")
        used = _dec(entry, "locked", f"{what} {asset}") + (_opt_dec(entry, "staked", f"{what} {asset}") or 0)
        balances.append(Balance(asset=asset, total=free + used, free=free, used=used))
    return balances


def rows(wire: object, what: str) -> list[object]:
    """A reply that must be a JSON list (of orders, fills, positions...)."""
    if not isinstance(wire, list):
        raise BadResponse(VENUE, f"{what}: expected a list, got {type(wire).__name__}")
    return wire
