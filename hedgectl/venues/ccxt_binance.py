"""Binance USDⓈ-M futures through ccxt's binanceusdm implicit API: endpoints, wire -> domain (reference §2, §6.2).

Binance quantities are base units. Orders ask for `newOrderRespType=RESULT`, so a market order's reply is
already final (status, executed qty, average price); fees come only from fills (`userTrades`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hedgectl.clock import ms_from_utc
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
    OrderType,
    Position,
    PositionMode,
    PositionSide,
    Quote,
    Side,
    TimeInForce,
)
from hedgectl.errors import BadResponse, OrderRejected
from hedgectl.venues.binance_family.codes import ORDER_STATUS, ORDER_TYPE, lot_rules
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
from hedgectl.venues.income import FUNDING_FEE, INCOME_PAGE, read_income
from hedgectl.venues.kit.wire import WireReader

VENUE = "binance"
QUOTE = "USDT"
_R = WireReader(VENUE)
# ccxt api-key name -> path under the REST base; every other key is dropped so ccxt cannot reach sapi/spot.
URL_KEYS: dict[str, str] = {
    "fapiPublic": "/fapi/v1",
    "fapiPublicV2": "/fapi/v2",
    "fapiPublicV3": "/fapi/v3",
    "fapiPrivate": "/fapi/v1",
    "fapiPrivateV2": "/fapi/v2",
    "fapiPrivateV3": "/fapi/v3",
}
DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
DEFAULT_FUNDING_INTERVAL = timedelta(hours=8)
_TIF = {
    None: "GTC",
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.FOK: "FOK",
    TimeInForce.POST_ONLY: "GTX",
}


class BinanceDialect:
    venue = VENUE
    ccxt_id = "binanceusdm"
    rate_per_s = 20.0  # ccxt's rateLimit of 50 ms; Binance allows 2400 weight/min
    burst = 40
    order_rate_per_s = 20.0  # orders have their own limits (ORDERS 300 per 10 s, 1200 per minute), no IP weight
    order_burst = 100
    order_endpoint = "fapiPrivatePostOrder"  # POST /fapi/v1/order
    native_cancel_all = True

    def __init__(self) -> None:
        self._intervals: dict[str, timedelta] | None = None

    def configure(self, ex: Any, config: VenueConfig) -> None:
        """Point the six fapi keys at the mode's host (demo trading for testnet) and switch off hidden calls."""
        if config.mode is Mode.PAPER:
            base = config.base_url.rstrip("/")
            ex.urls["api"] = {key: base + path for key, path in URL_KEYS.items()}
        else:
            if config.mode is Mode.TESTNET:
                ex.enable_demo_trading(True)
            ex.urls["api"] = {key: ex.urls["api"][key] for key in URL_KEYS}
        ex.options["recvWindow"] = config.recv_window_ms
        ex.options["fetchCurrencies"] = False
        ex.options["fetchMargins"] = False
        ex.options["fetchMarkets"] = {"types": ["linear"]}

    def credentials(self, config: VenueConfig) -> dict[str, str]:
        keys = {"apiKey": "api_key", "secret": "api_secret"}
        return {ccxt_key: config.secret(ours) for ccxt_key, ours in keys.items() if config.has(ours)}

    async def server_time_ms(self, ex: Any) -> int:
        """GET /fapi/v1/time"""
        return int(dec(one_dict(await ex.fapiPublicGetTime(), VENUE, "time"), "serverTime", VENUE))

    async def markets(self, ex: Any) -> tuple[list[Market], dict[str, str]]:
        """GET /fapi/v1/exchangeInfo: USDT-margined PERPETUAL symbols that are TRADING."""
        info = one_dict(await ex.fapiPublicGetExchangeInfo(), VENUE, "exchangeInfo")
        markets: list[Market] = []
        broken: dict[str, str] = {}
        for row in dict_rows(info.get("symbols"), VENUE, "exchangeInfo.symbols"):
            if row.get("contractType") != "PERPETUAL" or row.get("quoteAsset") != QUOTE:
                continue
            if row.get("marginAsset", QUOTE) != QUOTE or row.get("status") != "TRADING":
                continue
            try:
                markets.append(parse_market(row))
            except BadResponse as exc:
                broken[str(row.get("baseAsset"))] = exc.reason
        return markets, broken

    async def quote(self, ex: Any, market: Market) -> Quote:
        """GET /fapi/v1/ticker/bookTicker and GET /fapi/v1/premiumIndex (+ /fapi/v1/fundingInfo once)."""
        book, premium, intervals = await asyncio.gather(
            ex.fapiPublicGetTickerBookTicker({"symbol": market.venue_symbol}),
            ex.fapiPublicGetPremiumIndex({"symbol": market.venue_symbol}),
            self._funding_intervals(ex),
        )
        top = one_dict(book, VENUE, "bookTicker")
        prem = one_dict(premium, VENUE, "premiumIndex")
        hours = opt_dec(prem, "fundingIntervalHours", VENUE)
        interval = timedelta(hours=int(hours)) if hours else intervals.get(market.venue_symbol)
        return Quote(
            venue=VENUE,
            symbol=market.symbol,
            bid=dec(top, "bidPrice", VENUE),
            ask=dec(top, "askPrice", VENUE),
            mark=opt_dec(prem, "markPrice", VENUE),
            funding_rate=opt_dec(prem, "lastFundingRate", VENUE),
            next_funding_at=ms_time(prem, "nextFundingTime", VENUE),
            funding_interval=interval or DEFAULT_FUNDING_INTERVAL,
            at=ms_time(top, "time", VENUE) or ms_time(prem, "time", VENUE),
        )

    async def _funding_intervals(self, ex: Any) -> dict[str, timedelta]:
        """GET /fapi/v1/fundingInfo, once per process: only symbols whose interval differs from 8h are listed."""
        if self._intervals is None:
            try:
                rows = dict_rows(await ex.fapiPublicGetFundingInfo(), VENUE, "fundingInfo")
            except Exception:  # noqa: BLE001 - optional refinement; the 8h default stands when it is unavailable
                rows = []
            self._intervals = {
                str(r["symbol"]): timedelta(hours=int(h))
                for r in rows
                if (h := _number_or_none(r, "fundingIntervalHours")) and "symbol" in r
            }
        return self._intervals

    async def book(self, ex: Any, market: Market, depth: int) -> OrderBook:
        """GET /fapi/v1/depth"""
        limit = next((n for n in DEPTH_LIMITS if n >= depth), DEPTH_LIMITS[-1])
        reply = one_dict(await ex.fapiPublicGetDepth({"symbol": market.venue_symbol, "limit": limit}), VENUE, "depth")
        return OrderBook(
            venue=VENUE,
            symbol=market.symbol,
            bids=_levels(reply.get("bids"), depth),
            asks=_levels(reply.get("asks"), depth),
            at=ms_time(reply, "T", VENUE) or ms_time(reply, "E", VENUE),
        )

    def order_params(self, market: Market, request: OrderRequest, mode: PositionMode) -> dict[str, Any]:
        """POST /fapi/v1/order parameters"""
        return dict(to_wire_order(market, request, mode))

    async def position_mode(self, ex: Any) -> PositionMode:
        """GET /fapi/v1/positionSide/dual"""
        return parse_position_mode(one_dict(await ex.fapiPrivateGetPositionSideDual(), VENUE, "positionSide/dual"))

    async def account_config(self, ex: Any, market: Market) -> AccountConfig:
        """GET /fapi/v1/positionSide/dual and GET /fapi/v2/positionRisk (the symbol's marginType and leverage)."""
        mode = parse_position_mode(one_dict(await ex.fapiPrivateGetPositionSideDual(), VENUE, "positionSide/dual"))
        rows = dict_rows(
            await ex.fapiPrivateV2GetPositionRisk({"symbol": market.venue_symbol}), VENUE, "positionRisk v2"
        )
        margin = {str(r.get("marginType", "")).lower() for r in rows} - {""}
        levers = [lever for r in rows if (lever := opt_dec(r, "leverage", VENUE)) is not None]
        return AccountConfig(
            VENUE,
            mode,
            "isolated" if "isolated" in margin else ("cross" if margin else None),
            max(levers) if levers else None,
        )

    def parse_order_ack(self, reply: Any, market: Market, request: OrderRequest) -> Order:
        """POST /fapi/v1/order reply (newOrderRespType=RESULT: a market order's is already final)"""
        return parse_order(one_dict(reply, VENUE, "order"), market)

    async def fetch_order(self, ex: Any, market: Market, order_id: str | None, client_order_id: str | None) -> Order:
        """GET /fapi/v1/order"""
        reply = await ex.fapiPrivateGetOrder(_order_ref(market, order_id, client_order_id))
        return parse_order(one_dict(reply, VENUE, "order"), market)

    async def cancel_order(self, ex: Any, market: Market, order_id: str | None, client_order_id: str | None) -> Order:
        """DELETE /fapi/v1/order"""
        reply = await ex.fapiPrivateDeleteOrder(_order_ref(market, order_id, client_order_id))
        return parse_order(one_dict(reply, VENUE, "order"), market)

    async def open_orders(self, ex: Any, markets: Mapping[str, Market], market: Market | None) -> list[Order]:
        """GET /fapi/v1/openOrders"""
        params = {"symbol": market.venue_symbol} if market else {}
        known = by_venue_symbol(markets)
        rows = dict_rows(await ex.fapiPrivateGetOpenOrders(params), VENUE, "openOrders")
        return [parse_order(r, known[str(r.get("symbol"))]) for r in rows if text(r, "symbol", VENUE) in known]

    async def cancel_all_symbol(self, ex: Any, market: Market) -> None:
        """DELETE /fapi/v1/allOpenOrders"""
        await ex.fapiPrivateDeleteAllOpenOrders({"symbol": market.venue_symbol})

    async def positions(self, ex: Any, markets: Mapping[str, Market], market: Market | None) -> list[Position]:
        """GET /fapi/v3/positionRisk"""
        params = {"symbol": market.venue_symbol} if market else {}
        known = by_venue_symbol(markets)
        rows = dict_rows(await ex.fapiPrivateV3GetPositionRisk(params), VENUE, "positionRisk")
        positions = [parse_position(r, known[str(r.get("symbol"))]) for r in rows if text(r, "symbol", VENUE) in known]
        return [p for p in positions if p.qty]

    async def balances(self, ex: Any) -> list[Balance]:
        """GET /fapi/v3/account"""
        account = one_dict(await ex.fapiPrivateV3GetAccount(), VENUE, "account")
        balances = []
        for row in dict_rows(account.get("assets"), VENUE, "account.assets"):
            total = opt_dec(row, "marginBalance", VENUE)
            total = dec(row, "walletBalance", VENUE) if total is None else total
            free = dec(row, "availableBalance", VENUE)
            if total or free:
                used = opt_dec(row, "initialMargin", VENUE)
                balances.append(Balance(text(row, "asset", VENUE), total, free, total - free if used is None else used))
        return balances

    async def fills(self, ex: Any, market: Market, order_id: str | None, since: datetime | None) -> list[Fill]:
        """GET /fapi/v1/userTrades"""
        params: dict[str, Any] = {"symbol": market.venue_symbol, "limit": 1000}
        if order_id:
            params["orderId"] = order_id
        if since:
            params["startTime"] = ms_from_utc(since)
        rows = dict_rows(await ex.fapiPrivateGetUserTrades(params), VENUE, "userTrades")
        fills = [parse_fill(r, market) for r in rows]
        return sorted(fills, key=lambda f: (f.at is None, f.at, f.trade_id))

    async def funding_payments(
        self, ex: Any, markets: Mapping[str, Market], market: Market | None, since_ms: int, until_ms: int | None
    ) -> list[FundingPayment]:
        """GET /fapi/v1/income?incomeType=FUNDING_FEE, paged forward from `since_ms`"""
        listed = {m.venue_symbol: m.symbol for m in markets.values()}

        async def page(start_ms: int) -> Any:
            params: dict[str, Any] = {"incomeType": FUNDING_FEE, "startTime": start_ms, "limit": INCOME_PAGE}
            if market is not None:
                params["symbol"] = market.venue_symbol
            if until_ms is not None:
                params["endTime"] = until_ms
            return await ex.fapiPrivateGetIncome(params)

        return await read_income(VENUE, page, listed.get, since_ms, until_ms)


def _number_or_none(row: Wire, key: str) -> Decimal | None:
    try:
        return opt_dec(row, key, VENUE)
    except BadResponse:
        return None


def _levels(raw: Any, depth: int) -> tuple[BookLevel, ...]:
    if not isinstance(raw, list):
        raise BadResponse(VENUE, "depth: bids/asks missing")
    levels = []
    for level in raw[:depth]:
        if not isinstance(level, list) or len(level) < 2:
            raise BadResponse(VENUE, "depth: malformed level")
        levels.append(BookLevel(dec({"p": level[0]}, "p", VENUE), dec({"q": level[1]}, "q", VENUE)))
    return tuple(levels)


def parse_market(row: Wire) -> Market:
    """One exchangeInfo symbol: PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, MIN_NOTIONAL (the family's reading)."""
    symbol = text(row, "symbol", VENUE)
    rules = lot_rules(row, _R, f"market {symbol[:40]}")
    base = text(row, "baseAsset", VENUE)
    market = Market(
        venue=VENUE,
        symbol=base,
        venue_symbol=symbol,
        base=base,
        quote=text(row, "quoteAsset", VENUE),
        tick_size=rules.tick,
        step_size=rules.step,
        min_qty=rules.min_qty,
        min_notional=rules.min_notional,
        max_qty=rules.max_qty,
        max_market_qty=rules.max_market_qty,
    )
    return checked_market(market)


def parse_position_mode(reply: Wire, venue: str = VENUE) -> PositionMode:
    """GET /fapi/v1/positionSide/dual: `dualSidePosition` true is hedge mode."""
    dual = reply.get("dualSidePosition")
    if isinstance(dual, str) and dual.lower() in ("true", "false"):
        dual = dual.lower() == "true"
    if not isinstance(dual, bool):
        raise BadResponse(venue, f"positionSide/dual: dualSidePosition is {dual!r}")
    return PositionMode.HEDGE if dual else PositionMode.ONE_WAY


def to_wire_order(market: Market, request: OrderRequest, mode: PositionMode = PositionMode.ONE_WAY) -> dict[str, str]:
    """The POST /fapi/v1/order parameters (quantity in base units, our client id, RESULT replies).

    In hedge mode the order names its side (`positionSide`: a BUY opens LONG, a reduce-only BUY closes SHORT)
    and sends no `reduceOnly`, which Binance refuses there (-1106); ccxt's `hedged` option does the same.
    """
    check_order_rules(market, request)
    params = {
        "symbol": market.venue_symbol,
        "side": request.side.value.upper(),
        "type": request.type.value.upper(),
        "quantity": plain(request.qty),
        "newClientOrderId": request.client_order_id,
        "newOrderRespType": "RESULT",
    }
    if request.type is OrderType.LIMIT:
        if request.price is None:
            raise OrderRejected(VENUE, f"{market.symbol}: a limit order needs a price")
        params["price"] = plain(request.price)
        params["timeInForce"] = _TIF[request.time_in_force]
    elif request.time_in_force is TimeInForce.POST_ONLY:
        raise OrderRejected(VENUE, f"{market.symbol}: a market order cannot be post-only")
    if mode is PositionMode.HEDGE:
        params["positionSide"] = request.position_side.value.upper()
    elif request.reduce_only:
        params["reduceOnly"] = "true"
    return params


def _order_ref(market: Market, order_id: str | None, client_order_id: str | None) -> dict[str, str]:
    if order_id:
        return {"symbol": market.venue_symbol, "orderId": order_id}
    if client_order_id:
        return {"symbol": market.venue_symbol, "origClientOrderId": client_order_id}
    raise OrderRejected(VENUE, "an order id or a client order id is required")


def _side(row: Wire) -> Side:
    side = str(row.get("side", "")).lower()
    if side not in ("buy", "sell"):
        raise BadResponse(VENUE, f"unknown side {row.get('side')!r}")
    return Side(side)


def parse_order(row: Wire, market: Market) -> Order:
    """An order object (POST/GET/DELETE /fapi/v1/order, openOrders)."""
    status = ORDER_STATUS.get(str(row.get("status")))
    if status is None:
        raise BadResponse(VENUE, f"unknown order status {row.get('status')!r}")
    kind = _R.enum(row, "type", ORDER_TYPE, "order")
    avg = opt_dec(row, "avgPrice", VENUE)
    price = opt_dec(row, "price", VENUE)
    order = Order(
        venue=VENUE,
        symbol=market.symbol,
        order_id=text(row, "orderId", VENUE),
        client_order_id=opt_text(row, "clientOrderId"),
        side=_side(row),
        type=kind,
        status=status,
        qty=dec(row, "origQty", VENUE),
        filled_qty=dec(row, "executedQty", VENUE),
        avg_price=avg or None,  # "0.00000" until something fills
        price=price or None,  # "0" on market orders
        reduce_only=flag(row, "reduceOnly", VENUE),
        created_at=ms_time(row, "time", VENUE) or ms_time(row, "updateTime", VENUE),
        updated_at=ms_time(row, "updateTime", VENUE),
    )
    return checked_order(order)


def parse_fill(row: Wire, market: Market) -> Fill:
    """One userTrades row; `commission` is positive when paid."""
    fill = Fill(
        venue=VENUE,
        symbol=market.symbol,
        order_id=text(row, "orderId", VENUE),
        trade_id=text(row, "id", VENUE),
        side=_side(row),
        qty=dec(row, "qty", VENUE),
        price=dec(row, "price", VENUE),
        fee=dec(row, "commission", VENUE),
        fee_asset=text(row, "commissionAsset", VENUE),
        is_maker=flag(row, "maker", VENUE),
        at=ms_time(row, "time", VENUE),
    )
    return checked_fill(fill)


def parse_position(row: Wire, market: Market) -> Position:
    """One positionRisk row; `positionAmt` is signed base units (negative on a hedge-mode SHORT row too)."""
    side = str(row.get("positionSide", "BOTH")).lower()
    position = Position(
        venue=VENUE,
        symbol=market.symbol,
        qty=dec(row, "positionAmt", VENUE),
        position_side=PositionSide(side) if side in ("long", "short") else None,
        entry_price=opt_dec(row, "entryPrice", VENUE) or None,
        mark_price=opt_dec(row, "markPrice", VENUE),
        unrealized_pnl=opt_dec(row, "unRealizedProfit", VENUE),
        liquidation_price=opt_dec(row, "liquidationPrice", VENUE) or None,
        leverage=opt_dec(row, "leverage", VENUE),  # v2 only
        margin_mode=opt_text(row, "marginType"),  # v2 only
    )
    return checked_position(position)
