"""OKX v5 wire -> domain for USDT-margined swaps (reference §3, §8); every field read by the kit's WireReader.

OKX sizes are contracts: base = contracts × ctVal. Conversion happens only here: a Market's step and min are
in base units (lotSz × ctVal, minSz × ctVal) and `contract_size` is ctVal. A quantity that is not a whole
number of lots is refused before anything is sent. Fees arrive negative when paid and are negated; funding
bills keep OKX's sign (+ received).

Replies are `{"code": "0", "msg": "", "data": [...]}`; error replies never reach this module (client.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hedgectl.domain.types import (
    AccountConfig,
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
    PositionMode,
    PositionSide,
    Quote,
    Side,
    TimeInForce,
)
from hedgectl.errors import BadResponse, OrderRejected
from hedgectl.venues.kit.candles import candle
from hedgectl.venues.kit.fees import check_fee_rate
from hedgectl.venues.kit.wire import Wire, WireReader, plain
from hedgectl.venues.order_rules import (
    check_order_rules,
    checked_fill,
    checked_market,
    checked_order,
    checked_position,
)

VENUE = "okx"
QUOTE = "USDT"
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
# posSide of orders, fills and positions: "net" in net_mode; long/short name the side in long_short_mode.
_POS_SIDES: dict[str, PositionSide | None] = {"net": None, "long": PositionSide.LONG, "short": PositionSide.SHORT}
_POS_MODES = {"net_mode": PositionMode.ONE_WAY, "long_short_mode": PositionMode.HEDGE}


# ---- envelopes ------------------------------------------------------------------------------------


def data(reply: Any, what: str) -> list[Wire]:
    """The `data` rows of a successful reply."""
    return _R.rows(_R.obj(reply, what).get("data"), f"{what}.data")


def first(reply: Any, what: str) -> Wire:
    """data[0] of a reply that must carry one row."""
    rows = data(reply, what)
    if not rows:
        raise BadResponse(VENUE, f"{what}: empty data")
    return rows[0]


def by_venue_symbol(markets: Mapping[str, Market]) -> dict[str, Market]:
    return {m.venue_symbol: m for m in markets.values()}


# ---- public ---------------------------------------------------------------------------------------


def parse_server_time_ms(reply: Any) -> int:
    """GET /api/v5/public/time: data[0].ts (ms)."""
    return _R.int_field(first(reply, "public/time"), "ts", "public/time")


def parse_markets(reply: Any) -> tuple[dict[str, Market], dict[str, str]]:
    """GET /api/v5/public/instruments?instType=SWAP: live linear swaps settled in USDT, and the unreadable ones."""
    markets: dict[str, Market] = {}
    broken: dict[str, str] = {}
    for row in data(reply, "instruments"):
        base, _, quote = str(row.get("uly") or row.get("instFamily") or "").partition("-")
        if row.get("ctType") != "linear" or row.get("settleCcy") != QUOTE or quote != QUOTE:
            continue
        if row.get("state") != "live":
            continue
        try:
            markets[base] = parse_market(row, base)
        except BadResponse as exc:
            broken[base] = exc.reason
    return markets, broken


def parse_market(row: Wire, base: str) -> Market:
    """One instrument: base-unit rules from lotSz, minSz, maxLmtSz, maxMktSz (× ctVal); contract_size = ctVal."""
    ct_val = _R.positive(row, "ctVal", "instrument")
    lot = _R.positive(row, "lotSz", "instrument")
    tick = _R.positive(row, "tickSz", "instrument")
    if row.get("ctValCcy", base) != base:
        raise BadResponse(VENUE, f"{row.get('instId')}: contract value is in {row.get('ctValCcy')}, not {base}")
    max_lots = _R.opt_dec(row, "maxLmtSz", "instrument")
    max_market_lots = _R.opt_dec(row, "maxMktSz", "instrument")  # market orders: far below maxLmtSz
    market = Market(
        venue=VENUE,
        symbol=base,
        venue_symbol=_R.text(row, "instId", "instrument"),
        base=base,
        quote=QUOTE,
        tick_size=tick,
        step_size=(lot * ct_val).normalize(),
        min_qty=(_R.dec(row, "minSz", "instrument") * ct_val).normalize(),
        contract_size=ct_val,
        max_qty=(max_lots * ct_val).normalize() if max_lots else None,
        max_market_qty=(max_market_lots * ct_val).normalize() if max_market_lots else None,
    )
    return checked_market(market)


def parse_quote(market: Market, ticker: Any, funding: Any, mark: Any) -> Quote:
    """GET market/ticker + public/funding-rate + public/mark-price of one instrument."""
    top = first(ticker, "ticker")
    rate = first(funding, "funding-rate")
    this_ms = _R.opt_int(rate, "fundingTime", "funding-rate")
    next_ms = _R.opt_int(rate, "nextFundingTime", "funding-rate")
    interval = timedelta(milliseconds=next_ms - this_ms) if this_ms and next_ms and next_ms > this_ms else None
    return Quote(
        venue=VENUE,
        symbol=market.symbol,
        bid=_R.dec(top, "bidPx", "ticker"),
        ask=_R.dec(top, "askPx", "ticker"),
        last=_R.opt_dec(top, "last", "ticker"),
        mark=_R.opt_dec(first(mark, "mark-price"), "markPx", "mark-price"),
        funding_rate=_R.opt_dec(rate, "fundingRate", "funding-rate"),
        next_funding_at=_R.opt_ms(rate, "fundingTime", "funding-rate"),  # the settlement the current rate applies to
        funding_interval=interval,
        at=_R.opt_ms(top, "ts", "ticker"),
    )


def parse_book(reply: Any, market: Market, depth: int) -> OrderBook:
    """GET /api/v5/market/books: `[px, sz (contracts), "0", numOrders]` levels, best first."""
    row = first(reply, "books")
    return OrderBook(
        venue=VENUE,
        symbol=market.symbol,
        bids=_levels(row.get("bids"), depth, market, "bids"),
        asks=_levels(row.get("asks"), depth, market, "asks"),
        at=_R.opt_ms(row, "ts", "books"),
    )


def _levels(raw: Any, depth: int, market: Market, what: str) -> tuple[BookLevel, ...]:
    levels = []
    for level in _R.seq(raw, f"books.{what}")[:depth]:
        if not isinstance(level, list) or len(level) < 2:
            raise BadResponse(VENUE, f"books: malformed {what} level")
        price = _R.number(level[0], f"books.{what}.px")
        size = _R.number(level[1], f"books.{what}.sz")
        levels.append(BookLevel(price, size * market.contract_size))
    return tuple(levels)


def parse_candles(reply: Any, market: Market, interval: timedelta) -> list[Candle]:
    """GET /api/v5/market/candles: `[ts, o, h, l, c, vol (contracts), volCcy (base), volCcyQuote, confirm]`
    rows, newest first; returned oldest first, volume in base units (volCcy)."""
    rows = _R.seq(_R.obj(reply, "candles").get("data"), "candles.data")
    out = []
    for row in rows:
        if not isinstance(row, list) or len(row) < 5:
            raise BadResponse(VENUE, "candles: malformed row")
        ohlc = dict(zip(("open", "high", "low", "close"), row[1:5], strict=True))
        at = _R.epoch(row[0], "candles.ts")
        out.append(candle(_R, market.symbol, at, interval, ohlc, "candles", row[6] if len(row) > 6 else None))
    return sorted(out, key=lambda c: c.open_at)


# ---- account --------------------------------------------------------------------------------------


def parse_position_mode(reply: Any) -> PositionMode:
    """GET /api/v5/account/config `posMode`: net_mode or long_short_mode."""
    return _R.enum(first(reply, "account/config"), "posMode", _POS_MODES, "account/config")


def parse_account_config(config: Any, leverage_info: Any) -> AccountConfig:
    """GET account/config (posMode) + account/leverage-info (cross: the margin we trade; the highest lever)."""
    mode = parse_position_mode(config)
    levers = [lever for r in data(leverage_info, "leverage-info") if (lever := _R.opt_dec(r, "lever")) is not None]
    return AccountConfig(VENUE, mode, "cross", max(levers) if levers else None)


def parse_taker_fee_rate(reply: Any, inst_family: str) -> Decimal:
    """GET /api/v5/account/trade-fee?instType=SWAP: `takerU` (USDT-margined swaps; `taker` is the coin-margined
    rate). OKX signs fees from the account's side: a charge is negative, a rebate positive, so the rate we use
    (a charge positive) is its negation, as ccxt's okx parse_trading_fee does."""
    what = "account/trade-fee"
    row = first(reply, what)
    family = WireReader.opt_text(row, "instFamily") or WireReader.opt_text(row, "uly")
    if family not in (None, inst_family):
        raise BadResponse(VENUE, f"{what}: asked for {inst_family}, got {family!r}")
    return check_fee_rate(VENUE, -_R.dec(row, "takerU", what), what)


def parse_balances(reply: Any) -> list[Balance]:
    """GET /api/v5/account/balance: data[0].details (eq total; availEq free, else availBal)."""
    balances = []
    for row in _R.rows(first(reply, "balance").get("details"), "balance.details"):
        total = _R.dec(row, "eq", "balance")
        free = _R.opt_dec(row, "availEq", "balance")
        free = _R.dec(row, "availBal", "balance") if free is None else free
        if total or free:
            balances.append(Balance(_R.text(row, "ccy", "balance"), total, free, total - free))
    return balances


def parse_positions(reply: Any, markets: Mapping[str, Market]) -> list[Position]:
    """GET /api/v5/account/positions: our instruments' non-zero positions."""
    known = by_venue_symbol(markets)
    positions = []
    for row in data(reply, "positions"):
        market = known.get(_R.text(row, "instId", "positions"))
        if market is not None:
            position = parse_position(row, market)
            if position.qty:
                positions.append(position)
    return positions


def parse_position(row: Wire, market: Market) -> Position:
    """One positions row: net mode `pos` is signed contracts; long/short mode takes the sign from posSide."""
    contracts = _R.dec(row, "pos", "position")
    side = _R.enum(row, "posSide", _POS_SIDES, "position") if row.get("posSide") not in (None, "") else None
    if side is PositionSide.SHORT:
        contracts = -abs(contracts)
    elif side is PositionSide.LONG:
        contracts = abs(contracts)
    position = Position(
        venue=VENUE,
        symbol=market.symbol,
        qty=contracts * market.contract_size,
        position_side=side,
        entry_price=_R.opt_dec(row, "avgPx", "position") or None,
        mark_price=_R.opt_dec(row, "markPx", "position"),
        unrealized_pnl=_R.opt_dec(row, "upl", "position"),
        liquidation_price=_R.opt_dec(row, "liqPx", "position") or None,
        leverage=_R.opt_dec(row, "lever", "position"),
        margin_mode=WireReader.opt_text(row, "mgnMode"),
    )
    return checked_position(position)


# ---- orders ---------------------------------------------------------------------------------------


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
        _R.enum(row, "posSide", _POS_SIDES, "order")  # a garbled posSide is a garbled order
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


# ---- funding --------------------------------------------------------------------------------------


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
    side = _R.enum(row, "posSide", _POS_SIDES, "bill") if row.get("posSide") not in (None, "") else None
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
