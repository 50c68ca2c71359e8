"""Aster wire replies (Binance-style JSON) -> hedgectl domain values.

Every Aster quirk stops here: camelCase keys, epoch-millisecond ints, "BUY"/"SELL", decimal strings,
`avgPrice: "0"` for nothing filled. A missing or wrong-typed field raises BadResponse: a number we
cannot read is never replaced by a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from hedgectl.clock import utc_from_ms
from hedgectl.domain.types import (
    AccountConfig,
    Balance,
    BookLevel,
    Fill,
    Market,
    Order,
    OrderBook,
    OrderRequest,
    OrderType,
    Position,
    PositionMode,
    PositionSide,
    Quote,
    Side,
    TimeInForce,
)
from hedgectl.errors import BadResponse, UsageError
from hedgectl.venues.binance_codes import ORDER_STATUS

VENUE = "aster"
QUOTE_ASSET = "USDT"
DEFAULT_FUNDING_INTERVAL = timedelta(hours=8)

_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
# Conditional orders placed by hand still show in open orders; they execute as a market or a limit order.
_TYPES = {
    "LIMIT": OrderType.LIMIT,
    "MARKET": OrderType.MARKET,
    "STOP": OrderType.LIMIT,
    "TAKE_PROFIT": OrderType.LIMIT,
    "STOP_MARKET": OrderType.MARKET,
    "TAKE_PROFIT_MARKET": OrderType.MARKET,
    "TRAILING_STOP_MARKET": OrderType.MARKET,
}
_NAME = re.compile(r"^[A-Z0-9]{1,40}$")  # symbols and asset codes
_WIRE_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.POST_ONLY: "GTX"}


def _bad(what: str) -> BadResponse:
    return BadResponse(VENUE, f"unexpected reply: {what}")


def _obj(wire: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(wire, dict):
        raise _bad(f"{what} is not an object")
    return wire


def _list(wire: Any, what: str) -> list[Any]:
    if not isinstance(wire, list):
        raise _bad(f"{what} is not a list")
    return wire


def _field(wire: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in wire or wire[key] is None:
        raise _bad(f"{what} has no {key!r}")
    return wire[key]


def _str(wire: Mapping[str, Any], key: str, what: str) -> str:
    value = _field(wire, key, what)
    if not isinstance(value, str) or not value:
        raise _bad(f"{what}.{key} is not a non-empty string")
    return value


def _name(wire: Mapping[str, Any], key: str, what: str) -> str:
    value = _str(wire, key, what)
    if not _NAME.match(value):
        raise _bad(f"{what}.{key} is not a symbol or asset code")
    return value


def _to_decimal(value: Any, where: str) -> Decimal:
    # Aster sends decimals as strings; ints are accepted, floats are not (they are already rounded).
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _bad(f"{where} is not a decimal string")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _bad(f"{where} is not a number") from None
    if not number.is_finite():
        raise _bad(f"{where} is not a finite number")
    if number and not -30 <= number.adjusted() < 30:  # garbage, and 1e999999 overflows the arithmetic
        raise _bad(f"{where} is out of range")
    return number


def _dec(wire: Mapping[str, Any], key: str, what: str) -> Decimal:
    return _to_decimal(_field(wire, key, what), f"{what}.{key}")


def _opt_dec(wire: Mapping[str, Any], key: str, what: str) -> Decimal | None:
    if wire.get(key) is None:
        return None
    return _dec(wire, key, what)


def _int(wire: Mapping[str, Any], key: str, what: str) -> int:
    value = _field(wire, key, what)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{what}.{key} is not an integer")
    return value


def _ms(wire: Mapping[str, Any], key: str, what: str) -> datetime:
    value = _int(wire, key, what)
    if not 0 <= value < 10**14:
        raise _bad(f"{what}.{key} is not an epoch-millisecond time")
    return utc_from_ms(value)


def _opt_ms(wire: Mapping[str, Any], key: str, what: str) -> datetime | None:
    if wire.get(key) is None:
        return None
    return _ms(wire, key, what)


def _bool(wire: Mapping[str, Any], key: str, what: str, default: bool) -> bool:
    value = wire.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise _bad(f"{what}.{key} is not a boolean")


def _side(wire: Mapping[str, Any], what: str) -> Side:
    side = _SIDES.get(_str(wire, "side", what))
    if side is None:
        raise _bad(f"{what}.side is not BUY or SELL")
    return side


def _id(wire: Mapping[str, Any], key: str, what: str) -> str:
    value = _field(wire, key, what)
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise _bad(f"{what}.{key} is not a numeric id")
    return str(value)


def parse_server_time(wire: Any) -> datetime:
    """`GET /fapi/v1/time` -> the venue's clock."""
    return _ms(_obj(wire, "time"), "serverTime", "time")


def parse_server_time_ms(wire: Any) -> int:
    """`GET /fapi/v1/time` -> epoch milliseconds (for the time offset)."""
    parse_server_time(wire)
    return int(wire["serverTime"])


def _filters(row: Mapping[str, Any], what: str) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for item in _list(_field(row, "filters", what), f"{what}.filters"):
        entry = _obj(item, f"{what}.filters[]")
        found[_str(entry, "filterType", f"{what}.filters[]")] = entry
    return found


def _coarser(a: Decimal, b: Decimal) -> Decimal:
    # The larger step satisfies both filters whenever one step divides the other (always, in practice).
    big, small = max(a, b), min(a, b)
    if small > 0 and big % small != 0:
        raise _bad(f"step sizes {a} and {b} do not nest")
    return big


def parse_market(row: Any) -> Market:
    """One `exchangeInfo.symbols[]` row -> Market (rules from PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, MIN_NOTIONAL)."""
    wire = _obj(row, "exchangeInfo.symbols[]")
    venue_symbol = _name(wire, "symbol", "exchangeInfo.symbols[]")
    what = f"market {venue_symbol}"
    filters = _filters(wire, what)
    if "PRICE_FILTER" not in filters or "LOT_SIZE" not in filters:
        raise _bad(f"{what} lacks PRICE_FILTER or LOT_SIZE")
    price_filter, lot = filters["PRICE_FILTER"], filters["LOT_SIZE"]
    tick = _dec(price_filter, "tickSize", f"{what} PRICE_FILTER")
    step = _dec(lot, "stepSize", f"{what} LOT_SIZE")
    min_qty = _dec(lot, "minQty", f"{what} LOT_SIZE")
    max_qty = _opt_dec(lot, "maxQty", f"{what} LOT_SIZE")
    # Market orders obey MARKET_LOT_SIZE too: keep rules that both order types accept.
    if "MARKET_LOT_SIZE" in filters:
        market_lot = filters["MARKET_LOT_SIZE"]
        step = _coarser(step, _dec(market_lot, "stepSize", f"{what} MARKET_LOT_SIZE"))
        min_qty = max(min_qty, _dec(market_lot, "minQty", f"{what} MARKET_LOT_SIZE"))
        market_max = _opt_dec(market_lot, "maxQty", f"{what} MARKET_LOT_SIZE")
        if market_max is not None and market_max > 0:
            max_qty = market_max if max_qty is None else min(max_qty, market_max)
    min_notional = Decimal(0)
    if "MIN_NOTIONAL" in filters:
        min_notional = _dec(filters["MIN_NOTIONAL"], "notional", f"{what} MIN_NOTIONAL")
    if tick <= 0 or step <= 0 or min_qty < 0 or min_notional < 0:
        raise _bad(f"{what} has non-positive tick or step")
    base = _name(wire, "baseAsset", what)
    return Market(
        venue=VENUE,
        symbol=base,
        venue_symbol=venue_symbol,
        base=base,
        quote=_name(wire, "quoteAsset", what),
        tick_size=tick,
        step_size=step,
        min_qty=min_qty,
        min_notional=min_notional,
        max_qty=max_qty if max_qty else None,
    )


def parse_markets(wire: Any) -> dict[str, Market]:
    """`GET exchangeInfo` -> USDT-margined perpetuals that are TRADING, keyed by canonical base."""
    info = _obj(wire, "exchangeInfo")
    markets: dict[str, Market] = {}
    for row in _list(_field(info, "symbols", "exchangeInfo"), "exchangeInfo.symbols"):
        entry = _obj(row, "exchangeInfo.symbols[]")
        if entry.get("contractType") != "PERPETUAL" or entry.get("status") != "TRADING":
            continue
        if entry.get("quoteAsset") != QUOTE_ASSET:
            continue
        market = parse_market(entry)
        markets[market.symbol] = market
    return markets


def _levels(rows: Any, what: str) -> tuple[BookLevel, ...]:
    levels = []
    for row in _list(rows, what):
        if not isinstance(row, list) or len(row) < 2:
            raise _bad(f"{what} level is not [price, qty]")
        levels.append(BookLevel(price=_to_decimal(row[0], f"{what} price"), qty=_to_decimal(row[1], f"{what} qty")))
    return tuple(levels)


def parse_book(wire: Any, symbol: str) -> OrderBook:
    """`GET depth` -> OrderBook (bids highest first, asks lowest first, as Aster sends them)."""
    book = _obj(wire, "depth")
    at = _opt_ms(book, "T", "depth") or _opt_ms(book, "E", "depth")
    return OrderBook(
        venue=VENUE,
        symbol=symbol,
        bids=_levels(_field(book, "bids", "depth"), "depth.bids"),
        asks=_levels(_field(book, "asks", "depth"), "depth.asks"),
        at=at,
    )


def parse_funding_intervals(wire: Any) -> dict[str, timedelta]:
    """`GET fundingInfo` -> venue symbol -> funding interval (symbols absent here use the 8h default)."""
    intervals: dict[str, timedelta] = {}
    for row in _list(wire, "fundingInfo"):
        entry = _obj(row, "fundingInfo[]")
        hours = _dec(entry, "fundingIntervalHours", "fundingInfo[]")
        if hours <= 0:
            raise _bad("fundingInfo[].fundingIntervalHours is not positive")
        intervals[_name(entry, "symbol", "fundingInfo[]")] = timedelta(hours=float(hours))
    return intervals


def parse_quote(
    symbol: str,
    book_ticker: Any,
    premium_index: Any,
    ticker_24hr: Any,
    funding_interval: timedelta | None,
) -> Quote:
    """`ticker/bookTicker` + `premiumIndex` + `ticker/24hr` -> Quote (bid/ask, last, mark, funding)."""
    top = _obj(book_ticker, "bookTicker")
    premium = _obj(premium_index, "premiumIndex")
    day = _obj(ticker_24hr, "ticker/24hr")
    bid, ask = _dec(top, "bidPrice", "bookTicker"), _dec(top, "askPrice", "bookTicker")
    if bid <= 0 or ask <= 0:
        raise _bad("bookTicker has no bid or ask")
    next_funding_ms = _int(premium, "nextFundingTime", "premiumIndex")
    return Quote(
        venue=VENUE,
        symbol=symbol,
        bid=bid,
        ask=ask,
        last=_dec(day, "lastPrice", "ticker/24hr"),
        mark=_dec(premium, "markPrice", "premiumIndex"),
        funding_rate=_dec(premium, "lastFundingRate", "premiumIndex"),
        next_funding_at=utc_from_ms(next_funding_ms) if next_funding_ms > 0 else None,
        funding_interval=funding_interval or DEFAULT_FUNDING_INTERVAL,
        at=_opt_ms(top, "time", "bookTicker") or _opt_ms(premium, "time", "premiumIndex"),
    )


def _order_type(wire: Mapping[str, Any], what: str) -> OrderType:
    kind = _TYPES.get(_str(wire, "type", what))
    if kind is None:
        raise _bad(f"{what}.type {wire.get('type')!r} is unknown")
    return kind


def parse_order(wire: Any, symbol_of: Callable[[str], str]) -> Order:
    """One order object (`POST/GET/DELETE order`, `openOrders[]`) -> Order."""
    order = _obj(wire, "order")
    what = "order"
    status = ORDER_STATUS.get(_str(order, "status", what))
    if status is None:
        raise _bad(f"order.status {order.get('status')!r} is unknown")
    qty = _dec(order, "origQty", what)
    filled = _dec(order, "executedQty", what)
    avg = _opt_dec(order, "avgPrice", what)
    price = _opt_dec(order, "price", what)
    client_id = order.get("clientOrderId")
    if client_id is not None and not isinstance(client_id, str):
        raise _bad("order.clientOrderId is not a string")
    if qty < 0 or filled < 0 or filled > qty:
        raise _bad("order quantities are inconsistent")
    return Order(
        venue=VENUE,
        symbol=symbol_of(_name(order, "symbol", what)),
        order_id=_id(order, "orderId", what),
        client_order_id=client_id or None,
        side=_side(order, what),
        type=_order_type(order, what),
        status=status,
        qty=qty,
        filled_qty=filled,
        avg_price=avg if avg else None,
        price=price if price else None,
        reduce_only=_bool(order, "reduceOnly", what, default=False),
        created_at=_opt_ms(order, "time", what),
        updated_at=_opt_ms(order, "updateTime", what),
    )


def parse_orders(wire: Any, symbol_of: Callable[[str], str]) -> list[Order]:
    """`GET openOrders` -> orders."""
    return [parse_order(row, symbol_of) for row in _list(wire, "openOrders")]


def parse_fill(wire: Any, symbol_of: Callable[[str], str]) -> Fill:
    """One `userTrades[]` row -> Fill (commission is positive when paid, as Aster reports it)."""
    trade = _obj(wire, "userTrades[]")
    what = "userTrades[]"
    return Fill(
        venue=VENUE,
        symbol=symbol_of(_name(trade, "symbol", what)),
        order_id=_id(trade, "orderId", what),
        trade_id=_id(trade, "id", what),
        side=_side(trade, what),
        qty=_dec(trade, "qty", what),
        price=_dec(trade, "price", what),
        fee=_dec(trade, "commission", what),
        fee_asset=_name(trade, "commissionAsset", what),
        is_maker=_bool(trade, "maker", what, default=False),
        at=_ms(trade, "time", what),
    )


def parse_fills(wire: Any, symbol_of: Callable[[str], str]) -> list[Fill]:
    """`GET userTrades` -> fills, oldest first."""
    fills = [parse_fill(row, symbol_of) for row in _list(wire, "userTrades")]
    return sorted(fills, key=lambda f: (f.at or utc_from_ms(0), f.trade_id))


def parse_positions(wire: Any, symbol_of: Callable[[str], str]) -> list[Position]:
    """`GET positionRisk` -> non-zero positions (positionAmt is signed: short < 0)."""
    positions = []
    for row in _list(wire, "positionRisk"):
        entry = _obj(row, "positionRisk[]")
        what = "positionRisk[]"
        qty = _dec(entry, "positionAmt", what)
        if qty == 0:
            continue
        entry_price = _opt_dec(entry, "entryPrice", what)
        side = str(entry.get("positionSide") or "BOTH").lower()
        positions.append(
            Position(
                venue=VENUE,
                symbol=symbol_of(_name(entry, "symbol", what)),
                qty=qty,
                position_side=PositionSide(side) if side in ("long", "short") else None,
                entry_price=entry_price if entry_price else None,
                mark_price=_opt_dec(entry, "markPrice", what),
                unrealized_pnl=_opt_dec(entry, "unRealizedProfit", what),
            )
        )
    return positions


def parse_balances(wire: Any) -> list[Balance]:
    """`GET balance` -> balances with anything in them (total = wallet balance, free = available)."""
    balances = []
    for row in _list(wire, "balance"):
        entry = _obj(row, "balance[]")
        what = "balance[]"
        total = _dec(entry, "balance", what)
        free = _dec(entry, "availableBalance", what)
        if total == 0 and free == 0:
            continue
        balances.append(
            Balance(asset=_name(entry, "asset", what), total=total, free=free, used=max(total - free, Decimal(0)))
        )
    return balances


def parse_ack(wire: Any) -> None:
    """`DELETE allOpenOrders` -> nothing; anything but `{"code": 200, ...}` is a bad reply."""
    reply = _obj(wire, "allOpenOrders")
    if reply.get("code") not in (200, "200"):
        raise _bad("allOpenOrders did not confirm")


def to_wire_decimal(value: Decimal) -> str:
    """A plain decimal string (no exponent, no trailing zeros), as Aster's filters expect."""
    return format(value.normalize(), "f")


def parse_position_mode(wire: Any) -> PositionMode:
    """`GET positionSide/dual` -> hedge mode when `dualSidePosition` is true."""
    dual = _obj(wire, "positionSide/dual").get("dualSidePosition")
    if isinstance(dual, str) and dual.lower() in ("true", "false"):
        dual = dual.lower() == "true"
    if not isinstance(dual, bool):
        raise BadResponse(VENUE, f"positionSide/dual: dualSidePosition is {dual!r}")
    return PositionMode.HEDGE if dual else PositionMode.ONE_WAY


def parse_account_config(mode: PositionMode, wire: Any, venue_symbol: str) -> AccountConfig:
    """`GET positionRisk?symbol=` rows -> the symbol's margin type and leverage (None when not reported)."""
    margin: str | None = None
    lever: Decimal | None = None
    for row in _list(wire, "positionRisk"):
        entry = _obj(row, "positionRisk[]")
        if entry.get("symbol") != venue_symbol:
            continue
        kind = str(entry.get("marginType") or "").lower()
        margin = "isolated" if kind == "isolated" else ("cross" if kind in ("cross", "crossed") else margin)
        lever = _opt_dec(entry, "leverage", "positionRisk[]") or lever
    return AccountConfig(VENUE, mode, margin, lever)


def to_wire_order(
    venue_symbol: str, request: OrderRequest, mode: PositionMode = PositionMode.ONE_WAY
) -> list[tuple[str, str]]:
    """OrderRequest -> `POST order` params: GTX for post-only, reduceOnly "true", RESULT replies.

    Hedge mode (Binance's rules): `positionSide` LONG/SHORT names the side (a reduce-only BUY closes SHORT) and
    no `reduceOnly` is sent.
    """
    if request.qty <= 0:
        raise UsageError(f"aster: order quantity must be positive, got {request.qty}")
    params = [("symbol", venue_symbol), ("side", request.side.value.upper()), ("type", request.type.value.upper())]
    if request.type is OrderType.LIMIT:
        if request.price is None or request.price <= 0:
            raise UsageError("aster: a limit order needs a positive price")
        params.append(("timeInForce", _WIRE_TIF[request.time_in_force or TimeInForce.GTC]))
    elif request.price is not None or request.time_in_force is TimeInForce.POST_ONLY:
        raise UsageError("aster: a market order takes no price and cannot be post-only")
    params.append(("quantity", to_wire_decimal(request.qty)))
    if request.type is OrderType.LIMIT and request.price is not None:
        params.append(("price", to_wire_decimal(request.price)))
    if mode is PositionMode.HEDGE:
        params.append(("positionSide", request.position_side.value.upper()))
    elif request.reduce_only:
        params.append(("reduceOnly", "true"))
    # RESULT makes market and IOC orders come back in their final state, fills included.
    params += [("newClientOrderId", request.client_order_id), ("newOrderRespType", "RESULT")]
    return params
