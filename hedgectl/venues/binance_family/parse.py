"""The Binance family's wire -> domain (Binance USDⓈ-M and Aster): one reading of every reply both venues send.

`FamilyParser(venue)` binds the venue name that every BadResponse and every domain value carries. Every field
goes through the kit's readers (`venues/kit/wire.py`): numbers and ids as JSON numbers or strings (Aster sends
strings where Binance sends numbers, and both change), an unknown enum or a garbled figure is BadResponse,
never a default. Market rules: PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE and MIN_NOTIONAL for both venues
(`codes.lot_rules`). Fees come from fills (`userTrades`, `commission` positive when paid); funding from
`income` (FUNDING_FEE, `income` signed from the account's side, as the venue sends it).

Split by job: reader.py (the venue-bound reader and the small field readers), parse_account.py (positions,
balances, mode, fees, funding), this module (markets, market data, orders, fills, the order request).
`FamilyParser` is all three in one object.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hedgectl.clock import utc_from_ms
from hedgectl.domain.types import (
    BookLevel,
    Candle,
    Fill,
    Market,
    Order,
    OrderBook,
    OrderRequest,
    OrderType,
    PositionMode,
    Quote,
    TimeInForce,
)
from hedgectl.errors import BadResponse, OrderRejected
from hedgectl.venues.binance_family.codes import ORDER_STATUS, ORDER_TYPE, lot_rules
from hedgectl.venues.binance_family.parse_account import AccountParser
from hedgectl.venues.binance_family.reader import QUOTE_ASSET, SymbolOf, Wire
from hedgectl.venues.kit.candles import candle
from hedgectl.venues.kit.wire import error_code, plain
from hedgectl.venues.order_rules import checked_fill, checked_market, checked_order

DEFAULT_FUNDING_INTERVAL = timedelta(hours=8)
DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)

Params = list[tuple[str, str]]

_WIRE_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.POST_ONLY: "GTX"}


def depth_limit(depth: int) -> int:
    """The smallest depth `limit` the venue accepts that covers `depth` levels."""
    return next((n for n in DEPTH_LIMITS if n >= depth), DEPTH_LIMITS[-1])


def to_wire_decimal(value: Decimal) -> str:
    """A plain decimal string (no exponent, no trailing zeros), as the symbol filters expect."""
    return plain(value)


class FamilyParser(AccountParser):
    """The family's parsers, bound to one venue: market data, orders and requests here; the account's replies
    (positions, balances, mode, fees, funding) from AccountParser (parse_account.py)."""

    __slots__ = ()

    # --- clock and markets ----------------------------------------------------------------------

    def server_time(self, wire: Any) -> datetime:
        """`GET time` -> the venue's clock."""
        return self.r.ms(self.r.obj(wire, "time"), "serverTime", "time")

    def server_time_ms(self, wire: Any) -> int:
        """`GET time` -> epoch milliseconds (for the time offset)."""
        self.server_time(wire)  # refuses what is not a time
        return self.r.int_field(wire, "serverTime", "time")

    def market(self, row: Any) -> Market:
        """One `exchangeInfo.symbols[]` row -> Market (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, MIN_NOTIONAL)."""
        wire = self.r.obj(row, "exchangeInfo.symbols[]")
        venue_symbol = self.name(wire, "symbol", "exchangeInfo.symbols[]")
        what = f"market {venue_symbol}"
        rules = lot_rules(wire, self.r, what)
        base = self.name(wire, "baseAsset", what)
        return checked_market(
            Market(
                venue=self.venue,
                symbol=base,
                venue_symbol=venue_symbol,
                base=base,
                quote=self.name(wire, "quoteAsset", what),
                tick_size=rules.tick,
                step_size=rules.step,
                min_qty=rules.min_qty,
                min_notional=rules.min_notional,
                max_qty=rules.max_qty,
                max_market_qty=rules.max_market_qty,
            )
        )

    def markets(self, wire: Any) -> tuple[dict[str, Market], dict[str, str]]:
        """`GET exchangeInfo` -> (USDT-margined TRADING perpetuals by canonical base, unreadable bases -> why).

        One row we cannot read is set aside (that symbol is refused for trading, saying why), never the venue.
        """
        info = self.r.obj(wire, "exchangeInfo")
        markets: dict[str, Market] = {}
        broken: dict[str, str] = {}
        for entry in self.r.rows(self.r.field(info, "symbols", "exchangeInfo"), "exchangeInfo.symbols"):
            if entry.get("contractType") != "PERPETUAL" or entry.get("status") != "TRADING":
                continue
            if entry.get("quoteAsset") != QUOTE_ASSET or entry.get("marginAsset", QUOTE_ASSET) != QUOTE_ASSET:
                continue
            try:
                market = self.market(entry)
            except BadResponse as exc:
                broken[str(entry.get("baseAsset"))[:40]] = exc.reason
                continue
            markets[market.symbol] = market
        return markets, broken

    # --- market data ----------------------------------------------------------------------------

    def _levels(self, rows: Any, what: str, depth: int | None) -> tuple[BookLevel, ...]:
        levels = []
        for row in self.r.seq(rows, what)[:depth]:
            if not isinstance(row, list) or len(row) < 2:
                raise self.r.bad(f"{what} level is not [price, qty]")
            levels.append(BookLevel(self.r.number(row[0], f"{what} price"), self.r.number(row[1], f"{what} qty")))
        return tuple(levels)

    def book(self, wire: Any, symbol: str, depth: int | None = None) -> OrderBook:
        """`GET depth` -> OrderBook (bids highest first, asks lowest first, as sent), at most `depth` levels."""
        book = self.r.obj(wire, "depth")
        return OrderBook(
            venue=self.venue,
            symbol=symbol,
            bids=self._levels(self.r.field(book, "bids", "depth"), "depth.bids", depth),
            asks=self._levels(self.r.field(book, "asks", "depth"), "depth.asks", depth),
            at=self.r.opt_ms(book, "T", "depth") or self.r.opt_ms(book, "E", "depth"),
        )

    def candles(self, wire: Any, symbol: str, interval: timedelta) -> list[Candle]:
        """`GET klines` -> candles, oldest first: `[openTime, open, high, low, close, volume, closeTime, ...]`
        rows, times and prices as numbers or strings."""
        out = []
        for row in self.r.seq(wire, "klines"):
            if not isinstance(row, list) or len(row) < 6:
                raise self.r.bad("klines: a row is not [openTime, open, high, low, close, volume, ...]")
            ohlc = dict(zip(("open", "high", "low", "close"), row[1:5], strict=True))
            at = self.r.epoch(row[0], "klines.openTime")
            out.append(candle(self.r, symbol, at, interval, ohlc, "klines", row[5]))
        return sorted(out, key=lambda c: c.open_at)

    def funding_intervals(self, wire: Any) -> dict[str, timedelta]:
        """`GET fundingInfo` -> venue symbol -> funding interval (symbols absent here use the 8h default)."""
        intervals: dict[str, timedelta] = {}
        for entry in self.r.rows(wire, "fundingInfo"):
            hours = self.r.positive(entry, "fundingIntervalHours", "fundingInfo[]")
            intervals[self.name(entry, "symbol", "fundingInfo[]")] = timedelta(hours=float(hours))
        return intervals

    def quote(
        self,
        symbol: str,
        book_ticker: Any,
        premium_index: Any,
        funding_interval: timedelta | None,
        ticker_24hr: Any = None,
    ) -> Quote:
        """`ticker/bookTicker` + `premiumIndex` (+ `ticker/24hr` for the last price) -> Quote."""
        top = self.r.obj(book_ticker, "bookTicker")
        premium = self.r.obj(premium_index, "premiumIndex")
        bid, ask = self.r.dec(top, "bidPrice", "bookTicker"), self.r.dec(top, "askPrice", "bookTicker")
        if bid <= 0 or ask <= 0:
            raise self.r.bad("bookTicker has no bid or ask")
        hours = self.r.opt_dec(premium, "fundingIntervalHours", "premiumIndex")
        if hours is not None and hours > 0:
            funding_interval = timedelta(hours=float(hours))
        last = None
        if ticker_24hr is not None:
            last = self.r.dec(self.r.obj(ticker_24hr, "ticker/24hr"), "lastPrice", "ticker/24hr")
        return Quote(
            venue=self.venue,
            symbol=symbol,
            bid=bid,
            ask=ask,
            last=last,
            mark=self.r.dec(premium, "markPrice", "premiumIndex"),
            funding_rate=self.r.dec(premium, "lastFundingRate", "premiumIndex"),
            next_funding_at=self._next_funding(premium),
            funding_interval=funding_interval or DEFAULT_FUNDING_INTERVAL,
            at=self.r.opt_ms(top, "time", "bookTicker") or self.r.opt_ms(premium, "time", "premiumIndex"),
        )

    def _next_funding(self, premium: Wire) -> datetime | None:
        """`nextFundingTime`: required, 0 when the venue has none scheduled."""
        next_ms = self.r.int_field(premium, "nextFundingTime", "premiumIndex")
        return utc_from_ms(next_ms) if next_ms > 0 else None

    # --- orders and fills -----------------------------------------------------------------------

    def order(self, wire: Any, symbol_of: SymbolOf) -> Order:
        """One order object (`POST/GET/DELETE order`, `openOrders[]`) -> Order."""
        what = "order"
        row = self.r.obj(wire, what)
        status = self.r.enum(row, "status", ORDER_STATUS, what)
        client_id = row.get("clientOrderId")
        if client_id is not None and not isinstance(client_id, str):
            raise self.r.bad("order.clientOrderId is not a string")
        order = Order(
            venue=self.venue,
            symbol=symbol_of(self.name(row, "symbol", what)),
            order_id=self.numeric_id(row, "orderId", what),
            client_order_id=client_id or None,
            side=self.side(row, what),
            type=self.r.enum(row, "type", ORDER_TYPE, what),
            status=status,
            qty=self.r.dec(row, "origQty", what),
            filled_qty=self.r.dec(row, "executedQty", what),
            avg_price=self.r.opt_dec(row, "avgPrice", what) or None,  # "0.00000" until something fills
            price=self.r.opt_dec(row, "price", what) or None,  # "0" on market orders
            reduce_only=self.r.flag(row, "reduceOnly", what),
            created_at=self.r.opt_ms(row, "time", what) or self.r.opt_ms(row, "updateTime", what),
            updated_at=self.r.opt_ms(row, "updateTime", what),
        )
        if order.qty <= 0 or not 0 <= order.filled_qty <= order.qty:
            raise self.r.bad(f"order quantities are inconsistent (filled {order.filled_qty} of {order.qty})")
        return checked_order(order)

    def orders(self, wire: Any, symbol_of: SymbolOf) -> list[Order]:
        """`GET openOrders` -> orders."""
        rows = self.r.rows(wire, "openOrders")
        return [self.order(row, symbol_of) for row in rows]

    def fill(self, wire: Any, symbol_of: SymbolOf) -> Fill:
        """One `userTrades[]` row -> Fill (`commission` is positive when paid)."""
        what = "userTrades[]"
        trade = self.r.obj(wire, what)
        return checked_fill(
            Fill(
                venue=self.venue,
                symbol=symbol_of(self.name(trade, "symbol", what)),
                order_id=self.numeric_id(trade, "orderId", what),
                trade_id=self.numeric_id(trade, "id", what),
                side=self.side(trade, what),
                qty=self.r.dec(trade, "qty", what),
                price=self.r.dec(trade, "price", what),
                fee=self.r.dec(trade, "commission", what),
                fee_asset=self.name(trade, "commissionAsset", what),
                is_maker=self.r.flag(trade, "maker", what),
                at=self.r.ms(trade, "time", what),
            )
        )

    def fills(self, wire: Any, symbol_of: SymbolOf) -> list[Fill]:
        """`GET userTrades` -> fills, oldest first."""
        fills = [self.fill(row, symbol_of) for row in self.r.seq(wire, "userTrades")]
        return sorted(fills, key=lambda f: (f.at or utc_from_ms(0), f.trade_id))

    def ack(self, wire: Any) -> None:
        """`DELETE allOpenOrders` -> nothing; anything but `{"code": 200, ...}` (or "200") is a bad reply."""
        if error_code(self.r.obj(wire, "allOpenOrders")) != 200:
            raise self.r.bad("allOpenOrders did not confirm")

    # --- requests -------------------------------------------------------------------------------

    def to_wire_order(
        self, venue_symbol: str, request: OrderRequest, mode: PositionMode = PositionMode.ONE_WAY
    ) -> Params:
        """OrderRequest -> `POST order` params: GTX for post-only, reduceOnly "true", RESULT replies.

        Hedge mode: `positionSide` LONG/SHORT names the side (a reduce-only BUY closes SHORT) and no `reduceOnly`
        is sent, which the venue refuses there (-1106); ccxt's `hedged` option does the same. A request the venue
        would refuse is OrderRejected here, for both venues.
        """
        if request.qty <= 0:
            raise OrderRejected(self.venue, f"{request.symbol}: order quantity must be positive, got {request.qty}")
        params = [("symbol", venue_symbol), ("side", request.side.value.upper()), ("type", request.type.value.upper())]
        if request.type is OrderType.LIMIT:
            if request.price is None or request.price <= 0:
                raise OrderRejected(self.venue, f"{request.symbol}: a limit order needs a positive price")
            params.append(("timeInForce", _WIRE_TIF[request.time_in_force or TimeInForce.GTC]))
        elif request.price is not None or request.time_in_force is TimeInForce.POST_ONLY:
            raise OrderRejected(self.venue, f"{request.symbol}: a market order takes no price and cannot be post-only")
        params.append(("quantity", to_wire_decimal(request.qty)))
        if request.type is OrderType.LIMIT and request.price is not None:
            params.append(("price", to_wire_decimal(request.price)))
        if mode is PositionMode.HEDGE:
            params.append(("positionSide", request.position_side.value.upper()))
        elif request.reduce_only:
            params.append(("reduceOnly", "true"))
        # RESULT makes market and IOC orders come back in their final state.
        params += [("newClientOrderId", request.client_order_id), ("newOrderRespType", "RESULT")]
        return params


def order_ref(symbol: str, order_id: str | None, client_order_id: str | None) -> Params:
    """The params naming one order: by venue id, else by our client id."""
    if order_id is not None:
        return [("symbol", symbol), ("orderId", order_id)]
    if client_order_id is not None:
        return [("symbol", symbol), ("origClientOrderId", client_order_id)]
    raise OrderRejected("", "an order id or a client order id is required")
