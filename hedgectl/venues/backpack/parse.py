"""Backpack wire replies -> domain values. Every Backpack quirk stops here.

Quirks handled: sides `Bid`/`Ask`, types `Limit`/`Market`, CamelCase statuses, decimal strings, order
`createdAt` as epoch ms in REST replies but an ISO string without a time zone (UTC) in history, depth
timestamps in microseconds, depth sides whose sort order is not guaranteed, a text/plain server time.
A missing or wrong-typed field raises BadResponse: a number we cannot trust is never returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from hedgectl.domain.ids import uint32_client_id
from hedgectl.domain.types import (
    Balance,
    BookLevel,
    Candle,
    Fill,
    FundingPayment,
    Market,
    Order,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
)
from hedgectl.errors import BadResponse
from hedgectl.venues.kit.candles import candle
from hedgectl.venues.kit.fees import check_fee_rate
from hedgectl.venues.kit.wire import WireReader
from hedgectl.venues.kit.wire import decode_json as wire_json

VENUE = "backpack"
T = TypeVar("T")
PERP = "PERP"

_SIDES = {"Bid": Side.BUY, "Ask": Side.SELL}
_TYPES = {"Limit": OrderType.LIMIT, "Market": OrderType.MARKET}
_WIRE_SIDES = {Side.BUY: "Bid", Side.SELL: "Ask"}
_WIRE_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}
ORDER_STATUSES = {
    "New": OrderStatus.NEW,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
    "Expired": OrderStatus.EXPIRED,
    "TriggerPending": OrderStatus.NEW,
    "Triggered": OrderStatus.NEW,  # a trigger order that fired: now working as an ordinary order
    "TriggerFailed": OrderStatus.REJECTED,
}
# Why an Expired order expired, when it means the venue refused it outright (nothing could fill).
REFUSAL_REASONS = {"PostOnlyMode": "the market is in post-only mode: orders that would take are refused"}


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


# --- orders and fills ---------------------------------------------------------------------------------


def wire_symbol(wire: object, what: str = "reply") -> str:
    """The venue symbol of one order, fill or position object."""
    return _str(_obj(wire, what), "symbol", what)


def wire_client_id(wire: object) -> int | None:
    """The uint32 `clientId` of an order object (None when it has none)."""
    order = _obj(wire, "order")
    value = order.get("clientId")
    return None if value is None else _int(value, "clientId", "order")


def wire_order_id(wire: object) -> str:
    return _id(_obj(wire, "order"), "id", "order")


def parse_order(wire: object, symbol: str, client_ids: Mapping[int, str] | None = None) -> Order:
    """An order object (REST reply, open orders or history) -> Order.

    `client_ids` maps the uint32 clientIds we derived back to our string ids; an unknown one is kept as
    its decimal string.
    """
    order = _obj(wire, "order")
    order_id = _id(order, "id", "order")
    what = f"order {order_id[:40]}"
    # Trigger orders (stop loss, take profit) carry `quantity: null` and their size in `triggerQuantity`.
    qty_key = "quantity" if order.get("quantity") is not None else "triggerQuantity"
    qty = _positive(order, qty_key, what)
    filled = _nonneg(order, "executedQuantity", what)
    if filled > qty:
        raise _bad(f"{what}: executedQuantity {filled} exceeds quantity {qty}")
    quote_filled = _opt_dec(order, "executedQuoteQuantity", what)
    if quote_filled is not None and quote_filled < 0:
        raise _bad(f"{what}: executedQuoteQuantity is negative")
    avg = quote_filled / filled if filled > 0 and quote_filled is not None and quote_filled > 0 else None
    price = _opt_dec(order, "price", what)
    cid = wire_client_id(order)
    client_order_id = None if cid is None else (client_ids or {}).get(cid, str(cid))
    return Order(
        venue=VENUE,
        symbol=symbol,
        order_id=order_id,
        client_order_id=client_order_id,
        side=_enum(order, "side", _SIDES, what),
        type=_enum(order, "orderType", _TYPES, what),
        status=_enum(order, "status", ORDER_STATUSES, what),
        qty=qty,
        filled_qty=filled,
        avg_price=avg,
        price=price if price is not None and price > 0 else None,
        reduce_only=_opt_bool(order, "reduceOnly", what),
        created_at=_opt_time(order, "createdAt", what),
    )


def expiry_reason(wire: object) -> str | None:
    """Why an Expired order expired (`PostOnlyTaker`, `ImmediateOrCancel`, `PostOnlyMode`, ...), when it says."""
    value = _obj(wire, "order").get("expiryReason")
    return value if isinstance(value, str) else None


def refusal(order: Order, wire: object) -> str | None:
    """What to tell the user when an order came back Expired, unfilled, for a reason that is a refusal.

    `PostOnlyMode` (the market takes only post-only orders for now) is the venue saying no, not a race
    lost like `PostOnlyTaker`: the caller reports it as a rejection.
    """
    if order.status is not OrderStatus.EXPIRED or order.filled_qty:
        return None
    return REFUSAL_REASONS.get(expiry_reason(wire) or "")


def parse_fill(wire: object, symbol: str, client_ids: Mapping[int, str] | None = None) -> Fill:
    """GET /wapi/v1/history/fills item -> Fill (fee positive = paid, in feeSymbol)."""
    fill = _obj(wire, "fill")
    # System fills (liquidation, ADL, settlement) have `tradeId: null`: identify them by what they are, so
    # the same fill read twice is still one fill.
    trade_id = _r.opt_ident(fill, "tradeId", "fill") or "system:" + ":".join(
        str(fill.get(key))[:40] for key in ("orderId", "timestamp", "quantity", "price")
    )
    what = f"fill {trade_id[:40]}"
    cid_value = fill.get("clientId")
    cid = None if cid_value is None else _int(cid_value, "clientId", what)
    if fill.get("isMaker") is None:
        raise _bad(f"{what}: field 'isMaker' is missing")
    is_maker = _r.flag(fill, "isMaker", what)
    return Fill(
        venue=VENUE,
        symbol=symbol,
        order_id=_id(fill, "orderId", what),
        trade_id=trade_id,
        side=_enum(fill, "side", _SIDES, what),
        qty=_positive(fill, "quantity", what),
        price=_positive(fill, "price", what),
        fee=_dec(fill, "fee", what),
        fee_asset=_str(fill, "feeSymbol", what),
        is_maker=is_maker,
        client_order_id=None if cid is None else (client_ids or {}).get(cid, str(cid)),
        at=_r.iso_or_ms(fill, "timestamp", what),
    )


def parse_funding_payment(wire: object, symbol: str, asset: str) -> FundingPayment:
    """GET /wapi/v1/history/funding row -> FundingPayment: `quantity` is the signed payment (+ received).

    The rows carry no id of their own: a payment is one (symbol, interval end, subaccount), which is what
    `payment_id` is made of, so a re-read names the same payment the same way.
    """
    row = _obj(wire, "funding payment")
    venue_symbol = _str(row, "symbol", "funding payment")
    what = f"funding payment {venue_symbol[:40]}"
    at = _r.iso_or_ms(row, "intervalEndTimestamp", what)
    subaccount = row.get("subaccountId")
    return FundingPayment(
        venue=VENUE,
        symbol=symbol,
        payment_id=f"{venue_symbol}:{int(at.timestamp() * 1000)}:{subaccount if subaccount is not None else 0}",
        at=at,
        asset=asset,
        amount=_dec(row, "quantity", what),
        rate=_opt_dec(row, "fundingRate", what),
    )


def with_fills(order: Order, fills: list[Fill]) -> Order:
    """The order with average price and fee taken from its fills, when they account for every filled unit.

    Fills that do not add up to the executed quantity (history lags the engine) leave the order as it was.
    """
    mine = [f for f in fills if f.order_id == order.order_id]
    qty = sum((f.qty for f in mine), Decimal(0))
    if not mine or qty != order.filled_qty:
        return order
    avg = sum((f.qty * f.price for f in mine), Decimal(0)) / qty
    assets = {f.fee_asset for f in mine}
    fee_asset = assets.pop() if len(assets) == 1 else None
    fee = sum((f.fee for f in mine), Decimal(0)) if fee_asset is not None else None
    return replace(order, avg_price=avg, fee=fee, fee_asset=fee_asset)


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


# --- requests -----------------------------------------------------------------------------------------


def wire_decimal(value: Decimal) -> str:
    """A Decimal as Backpack reads it: plain notation, no exponent, no trailing zeros."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def to_wire_order(request: OrderRequest, market: Market) -> dict[str, object]:
    """The POST /api/v1/order body for one request (validated by the caller against the market's rules).

    The clientId is the uint32 derived from our string id; post-only is `postOnly: true` on a limit order.
    """
    body: dict[str, object] = {
        "symbol": market.venue_symbol,
        "side": _WIRE_SIDES[request.side],
        "orderType": "Limit" if request.type is OrderType.LIMIT else "Market",
        "quantity": wire_decimal(request.qty),
        "clientId": uint32_client_id(request.client_order_id),
    }
    if request.type is OrderType.LIMIT:
        if request.price is None:
            raise ValueError("a limit order needs a price")
        body["price"] = wire_decimal(request.price)
    if request.time_in_force is TimeInForce.POST_ONLY:
        body["postOnly"] = True
    elif request.time_in_force is not None:
        body["timeInForce"] = _WIRE_TIF[request.time_in_force]
    if request.reduce_only:
        body["reduceOnly"] = True
    return body
