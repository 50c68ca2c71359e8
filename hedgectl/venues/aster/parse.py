"""Aster wire replies (Binance-style JSON) -> hedgectl domain values.

Every Aster quirk stops here: camelCase keys, epoch-millisecond ints, "BUY"/"SELL", decimal strings,
`avgPrice: "0"` for nothing filled. A missing or wrong-typed field raises BadResponse: a number we
cannot read is never replaced by a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
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
from hedgectl.venues.binance_family.codes import ORDER_STATUS, ORDER_TYPE, lot_rules
from hedgectl.venues.kit.wire import WireReader, error_code

VENUE = "aster"
QUOTE_ASSET = "USDT"
DEFAULT_FUNDING_INTERVAL = timedelta(hours=8)

_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
_NAME = re.compile(r"^[A-Z0-9]{1,40}$")  # symbols and asset codes
_WIRE_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.POST_ONLY: "GTX"}


_r = WireReader(VENUE)
_bad = _r.bad
_obj = _r.obj
_list = _r.seq
_field = _r.field
_dec = _r.dec
_opt_dec = _r.opt_dec
_int = _r.int_field
_ms = _r.ms
_opt_ms = _r.opt_ms


def _str(wire: Mapping[str, Any], key: str, what: str) -> str:
    return _r.text(wire, key, what)


def _name(wire: Mapping[str, Any], key: str, what: str) -> str:
    value = _r.text(wire, key, what)
    if not _NAME.match(value):
        raise _bad(f"{what}.{key} is not a symbol or asset code")
    return value


def _bool(wire: Mapping[str, Any], key: str, what: str, default: bool) -> bool:
    return _r.flag(wire, key, what, default=default)


def _side(wire: Mapping[str, Any], what: str) -> Side:
    side = _SIDES.get(_str(wire, "side", what))
    if side is None:
        raise _bad(f"{what}.side is not BUY or SELL")
    return side


def _id(wire: Mapping[str, Any], key: str, what: str) -> str:
    # Aster sends ids as JSON integers or, in 2026 replies, as strings: 123 and "123" are the same order.
    value = _r.ident(wire, key, what)
    if not value.isascii() or not value.isdigit():
        raise _bad(f"{what}.{key} is not a numeric id")
    return value


def parse_server_time(wire: Any) -> datetime:
    """`GET /fapi/v1/time` -> the venue's clock."""
    return _ms(_obj(wire, "time"), "serverTime", "time")


def parse_server_time_ms(wire: Any) -> int:
    """`GET /fapi/v1/time` -> epoch milliseconds (for the time offset)."""
    parse_server_time(wire)  # refuses what is not a time
    return _r.int_field(wire, "serverTime", "time")


def parse_market(row: Any) -> Market:
    """One `exchangeInfo.symbols[]` row -> Market (the Binance family's filter reading, `binance_codes.lot_rules`)."""
    wire = _obj(row, "exchangeInfo.symbols[]")
    venue_symbol = _name(wire, "symbol", "exchangeInfo.symbols[]")
    what = f"market {venue_symbol}"
    rules = lot_rules(wire, _r, what)
    base = _name(wire, "baseAsset", what)
    return Market(
        venue=VENUE,
        symbol=base,
        venue_symbol=venue_symbol,
        base=base,
        quote=_name(wire, "quoteAsset", what),
        tick_size=rules.tick,
        step_size=rules.step,
        min_qty=rules.min_qty,
        min_notional=rules.min_notional,
        max_qty=rules.max_qty,
        max_market_qty=rules.max_market_qty,
    )


def parse_markets(wire: Any) -> tuple[dict[str, Market], dict[str, str]]:
    """`GET exchangeInfo` -> (USDT-margined TRADING perpetuals keyed by canonical base, unreadable bases -> why).

    One row we cannot read is set aside (that symbol is refused for trading, saying why), never the venue.
    """
    info = _obj(wire, "exchangeInfo")
    markets: dict[str, Market] = {}
    broken: dict[str, str] = {}
    for row in _list(_field(info, "symbols", "exchangeInfo"), "exchangeInfo.symbols"):
        entry = _obj(row, "exchangeInfo.symbols[]")
        if entry.get("contractType") != "PERPETUAL" or entry.get("status") != "TRADING":
            continue
        if entry.get("quoteAsset") != QUOTE_ASSET:
            continue
        try:
            market = parse_market(entry)
        except BadResponse as exc:
            broken[str(entry.get("baseAsset"))[:40]] = exc.reason
            continue
        markets[market.symbol] = market
    return markets, broken


def _levels(rows: Any, what: str) -> tuple[BookLevel, ...]:
    levels = []
    for row in _list(rows, what):
        if not isinstance(row, list) or len(row) < 2:
            raise _bad(f"{what} level is not [price, qty]")
        levels.append(BookLevel(price=_r.number(row[0], f"{what} price"), qty=_r.number(row[1], f"{what} qty")))
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
    return _r.enum(wire, "type", ORDER_TYPE, what)


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
                liquidation_price=_opt_dec(entry, "liquidationPrice", what) or None,
                leverage=_opt_dec(entry, "leverage", what),
                margin_mode=_margin_mode(entry, what),
            )
        )
    return positions


def _margin_mode(entry: Mapping[str, Any], what: str) -> str | None:
    """positionRisk `marginType`: "cross" or "isolated" (V1 also sends "CROSSED"/"ISOLATED" elsewhere)."""
    if entry.get("marginType") is None:
        return None
    mode = _str(entry, "marginType", what).lower()
    return "cross" if mode == "crossed" else mode


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
    if error_code(reply) != 200:  # 200 or "200"
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
