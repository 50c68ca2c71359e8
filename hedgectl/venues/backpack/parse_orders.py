"""Backpack orders, fills and funding payments: wire -> domain, and an order request -> its POST body.

The same strictness as parse.py (a missing or wrong-typed field is BadResponse). Quirks handled here: sides
`Bid`/`Ask`, types `Limit`/`Market`, CamelCase statuses, the uint32 `clientId` (mapped back to our string
ids), system fills without a `tradeId`, funding rows without an id of their own, and an `Expired` order that
is really a refusal (`PostOnlyMode`). `validate_order` refuses locally what Backpack would refuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

from hedgectl.domain.ids import is_valid_client_order_id, uint32_client_id
from hedgectl.domain.rounding import is_multiple
from hedgectl.domain.types import (
    Fill,
    FundingPayment,
    Market,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from hedgectl.errors import OrderRejected
from hedgectl.venues.kit.wire import WireReader

VENUE = "backpack"

_r = WireReader(VENUE)
_bad = _r.bad
_obj = _r.obj
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


def validate_order(request: OrderRequest, market: Market) -> None:
    """Refuse locally what Backpack would refuse, with the numbers in the message."""
    problems = []
    if not is_valid_client_order_id(request.client_order_id):
        problems.append(f"client order id {request.client_order_id!r} is not 1-32 letters and digits")
    if request.qty <= 0 or not is_multiple(request.qty, market.step_size):
        problems.append(f"quantity {request.qty} is not a positive multiple of the step {market.step_size}")
    elif request.qty < market.min_qty:
        problems.append(f"quantity {request.qty} is below the minimum {market.min_qty}")
    elif market.max_qty is not None and request.qty > market.max_qty:
        problems.append(f"quantity {request.qty} is above the maximum {market.max_qty}")
    if request.type is OrderType.LIMIT:
        if request.price is None or request.price <= 0:
            problems.append("a limit order needs a positive price")
        elif not is_multiple(request.price, market.tick_size):
            problems.append(f"price {request.price} is not a multiple of the tick {market.tick_size}")
    elif request.time_in_force is TimeInForce.POST_ONLY:
        problems.append("a market order cannot be post-only")
    if problems:
        raise OrderRejected(VENUE, f"{market.venue_symbol}: " + "; ".join(problems))
