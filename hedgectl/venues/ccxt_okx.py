"""OKX v5 USDT-margined swaps through ccxt's okx implicit API: endpoints, wire -> domain (reference §3, §6.3).

OKX sizes are contracts: base = contracts × ctVal. Conversion happens only here: a Market's step and min
are in base units (lotSz × ctVal, minSz × ctVal) and `contract_size` is ctVal. A quantity that is not a
whole number of lots is refused before anything is sent. Fees arrive negative when paid and are negated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from hedgectl.clock import SYSTEM_CLOCK, ms_from_utc
from hedgectl.domain.types import (
    AccountConfig,
    Balance,
    BookLevel,
    Fill,
    FundingPayment,
    Market,
    Mode,
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
from hedgectl.venues.ccxt_errors import venue_error
from hedgectl.venues.ccxt_wire import (
    Wire,
    by_venue_symbol,
    check_order_rules,
    checked_fill,
    checked_market,
    checked_order,
    checked_position,
    dec,
    dict_rows,
    flag,
    ms_time,
    one_dict,
    opt_dec,
    opt_text,
    plain,
    text,
)
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.wire import WireReader

VENUE = "okx"
QUOTE = "USDT"
_R = WireReader(VENUE)
PAGE = 100
_STATUS = {
    "live": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "mmp_canceled": OrderStatus.CANCELED,
    "order_failed": OrderStatus.REJECTED,
}
_ORD_TYPE = {None: "limit", TimeInForce.GTC: "limit", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}
_ORD_TYPE[TimeInForce.POST_ONLY] = "post_only"
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


class OkxDialect:
    venue = VENUE
    ccxt_id = "okx"
    rate_per_s = 10.0  # ccxt's rateLimit of 110 ms; OKX allows 20 requests per 2 s on most public routes
    burst = 20
    order_rate_per_s = 30.0  # place/cancel have their own limit: 60 per 2 s per instrument
    order_burst = 60
    order_endpoint = "privatePostTradeOrder"  # POST /api/v5/trade/order
    native_cancel_all = False  # OKX has no cancel-all for ordinary orders

    def configure(self, ex: Any, config: VenueConfig) -> None:
        """One REST base (the simulator in paper mode; demo header for testnet) and swaps only."""
        if config.mode is Mode.PAPER:
            ex.urls["api"] = {"rest": config.base_url.rstrip("/")}
        else:
            if config.mode is Mode.TESTNET:
                ex.set_sandbox_mode(True)  # adds x-simulated-trading: 1 to every request
            # OKX_HOST: ccxt fills `https://{hostname}`; the host guard holds every request to the same origin.
            ex.hostname = urlsplit(config.base_url).hostname
            ex.urls["api"] = {"rest": ex.urls["api"]["rest"]}
        ex.options["fetchMarkets"] = {"types": ["swap"]}
        ex.options["createOrder"] = "privatePostTradeOrder"

    def credentials(self, config: VenueConfig) -> dict[str, str]:
        keys = {"apiKey": "api_key", "secret": "api_secret", "password": "passphrase"}
        return {ccxt_key: config.secret(ours) for ccxt_key, ours in keys.items() if config.has(ours)}

    async def server_time_ms(self, ex: Any) -> int:
        """GET /api/v5/public/time"""
        return int(dec(_first(await ex.publicGetPublicTime(), "public/time"), "ts", VENUE))

    async def markets(self, ex: Any) -> tuple[list[Market], dict[str, str]]:
        """GET /api/v5/public/instruments?instType=SWAP: live linear swaps settled in USDT."""
        markets: list[Market] = []
        broken: dict[str, str] = {}
        for row in _data(await ex.publicGetPublicInstruments({"instType": "SWAP"}), "instruments"):
            base, _, quote = str(row.get("uly") or row.get("instFamily") or "").partition("-")
            if row.get("ctType") != "linear" or row.get("settleCcy") != QUOTE or quote != QUOTE:
                continue
            if row.get("state") != "live":
                continue
            try:
                markets.append(parse_market(row, base))
            except BadResponse as exc:
                broken[base] = exc.reason
        return markets, broken

    async def quote(self, ex: Any, market: Market) -> Quote:
        """GET /api/v5/market/ticker, /api/v5/public/funding-rate and /api/v5/public/mark-price"""
        ref = {"instId": market.venue_symbol}
        ticker, funding, mark = await asyncio.gather(
            ex.publicGetMarketTicker(ref),
            ex.publicGetPublicFundingRate(ref),
            ex.publicGetPublicMarkPrice({"instType": "SWAP", **ref}),
        )
        top = _first(ticker, "ticker")
        rate = _first(funding, "funding-rate")
        this_ms, next_ms = opt_dec(rate, "fundingTime", VENUE), opt_dec(rate, "nextFundingTime", VENUE)
        interval = timedelta(milliseconds=int(next_ms - this_ms)) if this_ms and next_ms and next_ms > this_ms else None
        return Quote(
            venue=VENUE,
            symbol=market.symbol,
            bid=dec(top, "bidPx", VENUE),
            ask=dec(top, "askPx", VENUE),
            last=opt_dec(top, "last", VENUE),
            mark=opt_dec(_first(mark, "mark-price"), "markPx", VENUE),
            funding_rate=opt_dec(rate, "fundingRate", VENUE),
            next_funding_at=ms_time(rate, "fundingTime", VENUE),  # the settlement the current rate applies to
            funding_interval=interval,
            at=ms_time(top, "ts", VENUE),
        )

    async def book(self, ex: Any, market: Market, depth: int) -> OrderBook:
        """GET /api/v5/market/books (sizes in contracts)"""
        reply = _first(await ex.publicGetMarketBooks({"instId": market.venue_symbol, "sz": min(depth, 400)}), "books")
        return OrderBook(
            venue=VENUE,
            symbol=market.symbol,
            bids=_levels(reply.get("bids"), depth, market),
            asks=_levels(reply.get("asks"), depth, market),
            at=ms_time(reply, "ts", VENUE),
        )

    def order_params(self, market: Market, request: OrderRequest, mode: PositionMode) -> dict[str, Any]:
        """POST /api/v5/trade/order body"""
        return to_wire_order(market, request, mode)

    async def position_mode(self, ex: Any) -> PositionMode:
        """GET /api/v5/account/config: posMode"""
        return parse_position_mode(_first(await ex.privateGetAccountConfig(), "account/config"))

    async def account_config(self, ex: Any, market: Market) -> AccountConfig:
        """GET /api/v5/account/config (posMode) and GET /api/v5/account/leverage-info (cross, the margin we trade)."""
        config = _first(await ex.privateGetAccountConfig(), "account/config")
        mode = parse_position_mode(config)
        rows = _data(
            await ex.privateGetAccountLeverageInfo({"instId": market.venue_symbol, "mgnMode": "cross"}),
            "leverage-info",
        )
        levers = [lever for r in rows if (lever := opt_dec(r, "lever", VENUE)) is not None]
        return AccountConfig(VENUE, mode, "cross", max(levers) if levers else None)

    def parse_order_ack(self, reply: Any, market: Market, request: OrderRequest) -> Order:
        """POST /api/v5/trade/order reply: the acknowledged order (ids only, state to be fetched)."""
        ack = _ack(reply, "trade/order")
        return Order(
            venue=VENUE,
            symbol=market.symbol,
            order_id=text(ack, "ordId", VENUE),
            client_order_id=opt_text(ack, "clOrdId") or request.client_order_id,
            side=request.side,
            type=request.type,
            status=OrderStatus.NEW,
            qty=request.qty,
            price=request.price,
            reduce_only=request.reduce_only,
        )

    async def fetch_order(self, ex: Any, market: Market, order_id: str | None, client_order_id: str | None) -> Order:
        """GET /api/v5/trade/order"""
        reply = await ex.privateGetTradeOrder(_order_ref(market, order_id, client_order_id))
        return parse_order(_first(reply, "trade/order"), market)

    async def cancel_order(self, ex: Any, market: Market, order_id: str | None, client_order_id: str | None) -> Order:
        """POST /api/v5/trade/cancel-order, then GET /api/v5/trade/order for the final state."""
        ack = _ack(await ex.privatePostTradeCancelOrder(_order_ref(market, order_id, client_order_id)), "cancel")
        return await self.fetch_order(ex, market, opt_text(ack, "ordId") or order_id, client_order_id)

    async def open_orders(self, ex: Any, markets: Mapping[str, Market], market: Market | None) -> list[Order]:
        """GET /api/v5/trade/orders-pending (paged by `after`)"""
        known = by_venue_symbol(markets)
        params: dict[str, str] = {"instType": "SWAP", "limit": str(PAGE)}
        if market:
            params["instId"] = market.venue_symbol
        orders: list[Order] = []
        while True:
            rows = _data(await ex.privateGetTradeOrdersPending(dict(params)), "orders-pending")
            orders += [parse_order(r, known[str(r.get("instId"))]) for r in rows if text(r, "instId", VENUE) in known]
            if len(rows) < PAGE:
                return orders
            params["after"] = text(rows[-1], "ordId", VENUE)

    async def cancel_all_symbol(self, ex: Any, market: Market) -> None:
        raise NotImplementedError("OKX has no cancel-all; the adapter cancels each open order")

    async def positions(self, ex: Any, markets: Mapping[str, Market], market: Market | None) -> list[Position]:
        """GET /api/v5/account/positions?instType=SWAP"""
        known = by_venue_symbol(markets)
        params = {"instType": "SWAP", **({"instId": market.venue_symbol} if market else {})}
        rows = _data(await ex.privateGetAccountPositions(params), "positions")
        positions = [parse_position(r, known[str(r.get("instId"))]) for r in rows if text(r, "instId", VENUE) in known]
        return [p for p in positions if p.qty]

    async def balances(self, ex: Any) -> list[Balance]:
        """GET /api/v5/account/balance"""
        balances = []
        for row in dict_rows(_first(await ex.privateGetAccountBalance(), "balance").get("details"), VENUE, "details"):
            total = dec(row, "eq", VENUE)
            free = opt_dec(row, "availEq", VENUE)
            free = dec(row, "availBal", VENUE) if free is None else free
            if total or free:
                balances.append(Balance(text(row, "ccy", VENUE), total, free, total - free))
        return balances

    async def fills(self, ex: Any, market: Market, order_id: str | None, since: datetime | None) -> list[Fill]:
        """GET /api/v5/trade/fills-history (newest first on the wire; returned oldest first)"""
        params = {"instType": "SWAP", "instId": market.venue_symbol, "limit": str(PAGE)}
        if order_id:
            params["ordId"] = order_id
        if since:
            params["begin"] = str(ms_from_utc(since))
        fills = [parse_fill(r, market) for r in _data(await ex.privateGetTradeFillsHistory(params), "fills")]
        return sorted(fills, key=lambda f: (f.at is None, f.at, f.trade_id))

    async def funding_payments(
        self, ex: Any, markets: Mapping[str, Market], market: Market | None, since_ms: int, until_ms: int | None
    ) -> list[FundingPayment]:
        """GET /api/v5/account/bills?type=8 (bills-archive when `since` is past its 7 days), newest first,
        paged back by bill id (`after`) until a page reaches past `since_ms`"""
        archive = since_ms < ms_from_utc(SYSTEM_CLOCK.now()) - BILLS_RECENT_MS
        get = ex.privateGetAccountBillsArchive if archive else ex.privateGetAccountBills
        by_inst = {m.venue_symbol: m for m in markets.values()}
        kept: dict[str, FundingPayment] = {}
        after: str | None = None
        for _ in range(BILLS_MAX_PAGES):
            params = {"instType": "SWAP", "type": FUNDING_BILL, "limit": str(PAGE), "begin": str(since_ms)}
            if market is not None:
                params["instId"] = market.venue_symbol
            if until_ms is not None:
                params["end"] = str(until_ms)
            if after is not None:
                params["after"] = after
            rows = _data(await get(params), "bills")
            for payment in parse_funding_bills(rows, by_inst):
                kept.setdefault(payment.payment_id, payment)
            if len(rows) < PAGE:
                break
            after = text(rows[-1], "billId", VENUE)
        else:
            raise BadResponse(VENUE, f"bills: more than {BILLS_MAX_PAGES} pages of funding payments")
        payments = [
            p
            for p in kept.values()
            if ms_from_utc(p.at) >= since_ms and (until_ms is None or ms_from_utc(p.at) < until_ms)
        ]
        return sorted(payments, key=lambda p: (p.at, p.payment_id))


FUNDING_BILL = "8"
BILLS_RECENT_MS = 7 * 24 * 3_600_000  # /account/bills reaches 7 days back; bills-archive 3 months
BILLS_MAX_PAGES = 50


def parse_funding_bills(rows: list[Wire], by_inst: Mapping[str, Market]) -> list[FundingPayment]:
    """Bills of type 8 -> payments: `balChg` is signed (+ received); `sz` is the position in contracts."""
    payments = []
    for row in rows:
        if text(row, "type", VENUE) != FUNDING_BILL:
            continue
        market = by_inst.get(text(row, "instId", VENUE))
        if market is None:
            continue
        at = ms_time(row, "ts", VENUE)
        if at is None:
            raise BadResponse(VENUE, "bills: a funding bill without a time")
        payments.append(
            FundingPayment(
                venue=VENUE,
                symbol=market.symbol,
                payment_id=text(row, "billId", VENUE),
                at=at,
                asset=text(row, "ccy", VENUE),
                amount=dec(row, "balChg", VENUE),
            )
        )
    return payments


def _data(reply: Any, what: str) -> list[Wire]:
    return dict_rows(one_dict(reply, VENUE, what).get("data"), VENUE, f"{what}.data")


def _first(reply: Any, what: str) -> Wire:
    rows = _data(reply, what)
    if not rows:
        raise BadResponse(VENUE, f"{what}: empty data")
    return rows[0]


def _ack(reply: Any, what: str) -> Wire:
    """data[0] of a write, raising the per-order error when sCode says it failed (top-level code 0 or not)."""
    row = _first(reply, what)
    code = str(row.get("sCode", "0"))
    if code not in ("", "0"):
        raise venue_error(VENUE, code, str(row.get("sMsg") or "refused"))
    return row


def _levels(raw: Any, depth: int, market: Market) -> tuple[BookLevel, ...]:
    if not isinstance(raw, list):
        raise BadResponse(VENUE, "books: bids/asks missing")
    levels = []
    for level in raw[:depth]:
        if not isinstance(level, list) or len(level) < 2:
            raise BadResponse(VENUE, "books: malformed level")
        size = dec({"sz": level[1]}, "sz", VENUE)
        levels.append(BookLevel(dec({"px": level[0]}, "px", VENUE), size * market.contract_size))
    return tuple(levels)


def parse_market(row: Wire, base: str) -> Market:
    """One instrument: base-unit rules from lotSz, minSz, maxLmtSz, maxMktSz (× ctVal); contract_size = ctVal."""
    ct_val = dec(row, "ctVal", VENUE)
    lot = dec(row, "lotSz", VENUE)
    tick = dec(row, "tickSz", VENUE)
    if ct_val <= 0 or lot <= 0 or tick <= 0:
        raise BadResponse(VENUE, f"{row.get('instId')}: ctVal, lotSz or tickSz is not positive")
    if row.get("ctValCcy", base) != base:
        raise BadResponse(VENUE, f"{row.get('instId')}: contract value is in {row.get('ctValCcy')}, not {base}")
    max_lots = opt_dec(row, "maxLmtSz", VENUE)
    max_market_lots = opt_dec(row, "maxMktSz", VENUE)  # market orders: far below maxLmtSz (12,000 vs 1e8)
    market = Market(
        venue=VENUE,
        symbol=base,
        venue_symbol=text(row, "instId", VENUE),
        base=base,
        quote=QUOTE,
        tick_size=tick,
        step_size=(lot * ct_val).normalize(),
        min_qty=(dec(row, "minSz", VENUE) * ct_val).normalize(),
        contract_size=ct_val,
        max_qty=(max_lots * ct_val).normalize() if max_lots else None,
        max_market_qty=(max_market_lots * ct_val).normalize() if max_market_lots else None,
    )
    return checked_market(market)


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


def parse_position_mode(config: Wire) -> PositionMode:
    """GET /api/v5/account/config `posMode`: net_mode or long_short_mode."""
    mode = config.get("posMode")
    if mode == "net_mode":
        return PositionMode.ONE_WAY
    if mode == "long_short_mode":
        return PositionMode.HEDGE
    raise BadResponse(VENUE, f"account/config: unknown posMode {mode!r}")


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


def _order_ref(market: Market, order_id: str | None, client_order_id: str | None) -> dict[str, str]:
    if order_id:
        return {"instId": market.venue_symbol, "ordId": order_id}
    if client_order_id:
        return {"instId": market.venue_symbol, "clOrdId": client_order_id}
    raise OrderRejected(VENUE, "an order id or a client order id is required")


def _side(row: Wire) -> Side:
    side = row.get("side")
    if side not in ("buy", "sell"):
        raise BadResponse(VENUE, f"unknown side {side!r}")
    return Side(str(side))


def parse_order(row: Wire, market: Market) -> Order:
    """An order object (trade/order, orders-pending); sizes converted from contracts."""
    status = _STATUS.get(str(row.get("state")))
    if status is None:
        raise BadResponse(VENUE, f"unknown order state {row.get('state')!r}")
    fee = opt_dec(row, "fee", VENUE)
    order = Order(
        venue=VENUE,
        symbol=market.symbol,
        order_id=text(row, "ordId", VENUE),
        client_order_id=opt_text(row, "clOrdId"),
        side=_side(row),
        type=_R.enum(row, "ordType", _ORDER_TYPES, "order"),
        status=status,
        qty=dec(row, "sz", VENUE) * market.contract_size,
        filled_qty=dec(row, "accFillSz", VENUE) * market.contract_size,
        avg_price=opt_dec(row, "avgPx", VENUE) or None,
        price=opt_dec(row, "px", VENUE) or None,
        fee=-fee if fee is not None else None,
        fee_asset=opt_text(row, "feeCcy"),
        reduce_only=flag(row, "reduceOnly", VENUE),
        created_at=ms_time(row, "cTime", VENUE),
        updated_at=ms_time(row, "uTime", VENUE),
    )
    return checked_order(order)


def parse_fill(row: Wire, market: Market) -> Fill:
    """One fills row: fillSz in contracts, fee negative when paid, execType M = maker."""
    fee = dec(row, "fee", VENUE)
    fill = Fill(
        venue=VENUE,
        symbol=market.symbol,
        order_id=text(row, "ordId", VENUE),
        trade_id=text(row, "tradeId", VENUE),
        side=_side(row),
        qty=dec(row, "fillSz", VENUE) * market.contract_size,
        price=dec(row, "fillPx", VENUE),
        fee=-fee,
        fee_asset=text(row, "feeCcy", VENUE),
        is_maker=row.get("execType") == "M",
        client_order_id=opt_text(row, "clOrdId"),
        at=ms_time(row, "fillTime", VENUE) or ms_time(row, "ts", VENUE),
    )
    return checked_fill(fill)


def parse_position(row: Wire, market: Market) -> Position:
    """One positions row: net mode `pos` is signed contracts; long/short mode takes the sign from posSide."""
    contracts = dec(row, "pos", VENUE)
    if row.get("posSide") == "short":
        contracts = -abs(contracts)
    elif row.get("posSide") == "long":
        contracts = abs(contracts)
    side = row.get("posSide")
    position = Position(
        venue=VENUE,
        symbol=market.symbol,
        qty=contracts * market.contract_size,
        position_side=PositionSide(side) if side in ("long", "short") else None,
        entry_price=opt_dec(row, "avgPx", VENUE) or None,
        mark_price=opt_dec(row, "markPx", VENUE),
        unrealized_pnl=opt_dec(row, "upl", VENUE),
        liquidation_price=opt_dec(row, "liqPx", VENUE) or None,
        leverage=opt_dec(row, "lever", VENUE),
        margin_mode=opt_text(row, "mgnMode"),
    )
    return checked_position(position)
