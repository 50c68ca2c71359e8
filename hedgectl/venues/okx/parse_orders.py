"""OKX v5 orders, fills and funding bills: wire -> domain, and an order request -> its POST body.

Sizes on the wire are contracts (base = contracts × ctVal): `to_contracts` refuses a quantity that is not a
whole number of lots before anything is sent, and every size read back is turned into base units here. Fees
arrive negative when paid and are negated; funding bills keep OKX's sign (+ received). Envelopes, market data
and the account are read in parse.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from hedgectl.domain.types import (
    Fill,
    FundingPayment,
    Market,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
    Side,
    TimeInForce,
)
from hedgectl.errors import BadResponse, OrderRejected
from hedgectl.venues.kit.wire import Wire, WireReader, plain
from hedgectl.venues.okx.parse import POS_SIDES, by_venue_symbol, data
from hedgectl.venues.order_rules import check_order_rules, checked_fill, checked_order

VENUE = "okx"
_R = WireReader(VENUE)

_STATUS = {
    "live": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "mmp_canceled": OrderStatus.CANCELED,
    "order_failed": OrderStatus.REJECTED,
}

_ORD_TYPE = {
    None: "limit",
    TimeInForce.GTC: "limit",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
    TimeInForce.POST_ONLY: "post_only",
}


# Every ordType an order object may carry; an unknown one is an error, never taken for a limit order.
_ORDER_TYPES = {
    "market": OrderType.MARKET,
    "optimal_limit_ioc": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "post_only": OrderType.LIMIT,
    "fok": OrderType.LIMIT,
    "ioc": OrderType.LIMIT,
    "mmp": OrderType.LIMIT,
    "mmp_and_post_only": OrderType.LIMIT,
}

_SIDES = {"buy": Side.BUY, "sell": Side.SELL}


def to_contracts(market: Market, qty: Decimal) -> Decimal:
    """Base units -> contracts, refusing a quantity that is not a whole number of lots."""
    if qty % market.step_size != 0:
        lot = (market.step_size / market.contract_size).normalize()
        raise OrderRejected(
            VENUE,
            f"{market.symbol}: {qty} is not a whole number of lots ({lot} contracts of {market.contract_size} "
            f"{market.base}, i.e. steps of {market.step_size})",
        )
    return (qty / market.contract_size).normalize()


def to_wire_order(market: Market, request: OrderRequest, mode: PositionMode = PositionMode.ONE_WAY) -> dict[str, Any]:
    """The POST /api/v5/trade/order body: size in contracts, cross margin, our clOrdId.

    In long_short_mode the order names its side (`posSide`: a buy opens the long, a reduce-only buy closes the
    short) and carries no `reduceOnly`, which OKX applies in net mode only (ccxt's `hedged` option does the same).
    """
    check_order_rules(market, request)
    body: dict[str, Any] = {
        "instId": market.venue_symbol,
        "tdMode": "cross",
        "side": request.side.value,
        "sz": plain(to_contracts(market, request.qty)),
        "clOrdId": request.client_order_id,
    }
    if request.type is OrderType.MARKET:
        if request.time_in_force is TimeInForce.POST_ONLY:
            raise OrderRejected(VENUE, f"{market.symbol}: a market order cannot be post-only")
        body["ordType"] = "market"
    else:
        if request.price is None:
            raise OrderRejected(VENUE, f"{market.symbol}: a limit order needs a price")
        body["ordType"] = _ORD_TYPE[request.time_in_force]
        body["px"] = plain(request.price)
    if mode is PositionMode.HEDGE:
        body["posSide"] = request.position_side.value
    elif request.reduce_only:
        body["reduceOnly"] = True
    return body


def order_ref(market: Market, order_id: str | None, client_order_id: str | None) -> dict[str, str]:
    """`instId` + `ordId` (preferred) or `clOrdId`: how every order endpoint names one order."""
    if order_id:
        return {"instId": market.venue_symbol, "ordId": order_id}
    if client_order_id:
        return {"instId": market.venue_symbol, "clOrdId": client_order_id}
    raise OrderRejected(VENUE, "an order id or a client order id is required")


def parse_order_ack(row: Wire, market: Market, request: OrderRequest) -> Order:
    """POST /api/v5/trade/order data[0] (sCode "0"): the acknowledged order, ids only - NEW, nothing filled."""
    return Order(
        venue=VENUE,
        symbol=market.symbol,
        order_id=_R.ident(row, "ordId", "trade/order"),
        client_order_id=WireReader.opt_text(row, "clOrdId") or request.client_order_id,
        side=request.side,
        type=request.type,
        status=OrderStatus.NEW,
        qty=request.qty,
        price=request.price,
        reduce_only=request.reduce_only,
    )


def parse_order(row: Wire, market: Market) -> Order:
    """An order object (trade/order, orders-pending, the `orders` channel); sizes converted from contracts."""
    fee = _R.opt_dec(row, "fee", "order")
    if row.get("posSide") not in (None, ""):
        _R.enum(row, "posSide", POS_SIDES, "order")  # a garbled posSide is a garbled order
    order = Order(
        venue=VENUE,
        symbol=market.symbol,
        order_id=_R.ident(row, "ordId", "order"),
        client_order_id=WireReader.opt_text(row, "clOrdId"),
        side=_R.enum(row, "side", _SIDES, "order"),
        type=_R.enum(row, "ordType", _ORDER_TYPES, "order"),
        status=_R.enum(row, "state", _STATUS, "order"),
        qty=_R.dec(row, "sz", "order") * market.contract_size,
        filled_qty=_R.dec(row, "accFillSz", "order") * market.contract_size,
        avg_price=_R.opt_dec(row, "avgPx", "order") or None,
        price=_R.opt_dec(row, "px", "order") or None,
        fee=-fee if fee is not None else None,
        fee_asset=WireReader.opt_text(row, "feeCcy"),
        reduce_only=_R.flag(row, "reduceOnly", "order"),
        created_at=_R.opt_ms(row, "cTime", "order"),
        updated_at=_R.opt_ms(row, "uTime", "order"),
    )
    return checked_order(order)


def parse_orders(reply: Any, markets: Mapping[str, Market]) -> list[Order]:
    """GET /api/v5/trade/orders-pending: our instruments' orders (other instruments are skipped)."""
    known = by_venue_symbol(markets)
    orders = []
    for row in data(reply, "orders-pending"):
        market = known.get(_R.text(row, "instId", "orders-pending"))
        if market is not None:
            orders.append(parse_order(row, market))
    return orders


def parse_fill(row: Wire, market: Market) -> Fill:
    """One fills row: fillSz in contracts, fee negative when paid, execType M = maker."""
    fee = _R.dec(row, "fee", "fill")
    fill = Fill(
        venue=VENUE,
        symbol=market.symbol,
        order_id=_R.ident(row, "ordId", "fill"),
        trade_id=_R.ident(row, "tradeId", "fill"),
        side=_R.enum(row, "side", _SIDES, "fill"),
        qty=_R.dec(row, "fillSz", "fill") * market.contract_size,
        price=_R.dec(row, "fillPx", "fill"),
        fee=-fee,
        fee_asset=_R.text(row, "feeCcy", "fill"),
        is_maker=row.get("execType") == "M",
        client_order_id=WireReader.opt_text(row, "clOrdId"),
        at=_R.opt_ms(row, "fillTime", "fill") or _R.opt_ms(row, "ts", "fill"),
    )
    return checked_fill(fill)


def parse_fills(reply: Any, market: Market) -> list[Fill]:
    """GET /api/v5/trade/fills-history (newest first on the wire): oldest first."""
    fills = [parse_fill(row, market) for row in data(reply, "fills")]
    return sorted(fills, key=lambda f: (f.at is None, f.at, f.trade_id))


def parse_funding_bill(row: Wire, market: Market) -> FundingPayment:
    """One `type=8` bill: billId, balChg as OKX signs it (+ received), `px` the rate, `sz` contracts, `ts`.

    An isolated position's payment may show in posBalChg with balChg 0 (ccxt reads it the same way). `sz` is
    unsigned and a bill names no side, so the position's sign is taken from `posSide` where the bill has one,
    else from the payment against the rate (a positive rate: longs pay, shorts receive); None when either is 0.
    """
    change = _R.opt_dec(row, "balChg", "bill")
    if not change:
        change = _R.opt_dec(row, "posBalChg", "bill") or change
    if change is None:
        change = _R.dec(row, "balChg", "bill")  # neither: name the field that should have said
    rate = _R.opt_dec(row, "px", "bill")
    size = _R.opt_dec(row, "sz", "bill")
    if size is not None and size < 0:
        raise BadResponse(VENUE, f"bill {row.get('billId')}: position size {size} is negative")
    side = _R.enum(row, "posSide", POS_SIDES, "bill") if row.get("posSide") not in (None, "") else None
    if side is None and rate and change:
        side = PositionSide.LONG if (rate > 0) != (change > 0) else PositionSide.SHORT
    qty = None
    if size is not None and side is not None:
        qty = abs(size) * market.contract_size * (1 if side is PositionSide.LONG else -1)
    return FundingPayment(
        venue=VENUE,
        symbol=market.symbol,
        payment_id=_R.ident(row, "billId", "bill"),
        at=_R.ms(row, "ts", "bill"),
        asset=_R.text(row, "ccy", "bill"),
        amount=change,
        position_qty=qty,
        rate=rate,
    )


def parse_funding_bills(
    rows: list[Wire], markets: Mapping[str, Market], since: datetime, until: datetime | None
) -> list[FundingPayment]:
    """Funding bills of our instruments within [since, until), oldest first (bills of other instruments skipped)."""
    known = by_venue_symbol(markets)
    payments = []
    for row in rows:
        market = known.get(_R.text(row, "instId", "bill"))
        if market is None:
            continue
        payment = parse_funding_bill(row, market)
        if payment.at >= since and (until is None or payment.at < until):
            payments.append(payment)
    return sorted(payments, key=lambda p: (p.at, p.payment_id))
