"""OkxVenue: OKX v5 USDT-margined swaps behind the Venue protocol.

Operations in domain types; the raw client (client.py) speaks wire, parse.py translates. An order POST is
sent once: if its outcome is unknown the order is looked up by client order id (kit.placement), and only a
last lookup answering "no such order" turns the failure into Unavailable (not placed). The account's position mode is
read once per session; a posSide refusal (51000) means it changed, and the next order reads it again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

from hedgectl.clock import SYSTEM_CLOCK, Clock, SystemClock, ms_from_utc, utc_from_ms
from hedgectl.domain.ids import is_valid_client_order_id
from hedgectl.domain.types import (
    AccountConfig,
    Balance,
    Candle,
    Fill,
    FundingPayment,
    Market,
    Order,
    OrderBook,
    OrderRequest,
    OrderStatus,
    Position,
    PositionMode,
    Quote,
)
from hedgectl.errors import (
    AmbiguousOrderState,
    BadResponse,
    ConfigError,
    OrderNotFound,
    OrderRejected,
    UsageError,
    VenueError,
)
from hedgectl.venues.base import REFERENCE_SYMBOL, PreparedOrder, WireRequest
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.candles import check_limit, interval_name
from hedgectl.venues.kit.fees import FeeCache
from hedgectl.venues.kit.host_guard import origin
from hedgectl.venues.kit.markets import MarketRules
from hedgectl.venues.kit.placement import ReconcilePlan, place
from hedgectl.venues.kit.retry import Sleep
from hedgectl.venues.kit.wire import WireReader
from hedgectl.venues.okx import parse, parse_orders
from hedgectl.venues.okx.auth import keys_from_config
from hedgectl.venues.okx.client import OkxClient, PreparedCall
from hedgectl.venues.okx.codes import POSITION_SIDE_REFUSAL
from hedgectl.venues.order_rules import sum_fills
from hedgectl.venues.streams import OrderEvent

if TYPE_CHECKING:
    from hedgectl.venues.streams import Connect, StateHook
    from hedgectl.venues.streams.supervisor import SupervisorConfig

log = logging.getLogger(__name__)

VENUE = "okx"
_R = WireReader(VENUE)
PAGE = 100  # OKX's largest page on orders-pending, fills-history and bills
# Lookups by client id after an unknown outcome; a late-landing order gets this long to show up.
RECONCILE_DELAYS_S: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0)
BILLS_RECENT = timedelta(days=7)  # /account/bills; older bills only in /account/bills-archive (3 months)
MAX_BILL_PAGES = 200  # 20,000 funding bills: far beyond 3 months of any account's positions


class OkxVenue:
    """OKX swaps through the v5 REST API (API key, secret and passphrase)."""

    name = VENUE

    def __init__(
        self,
        config: VenueConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = SYSTEM_CLOCK.sleep,
        reconcile_delays_s: Sequence[float] = RECONCILE_DELAYS_S,
        clock: Clock | None = None,
    ) -> None:
        self.mode = config.mode
        self.host = origin(config.base_url)
        self._config = config
        self._client = OkxClient(config, keys_from_config(config), sleep=sleep, transport=transport)
        self._sleep = sleep
        self._clock = clock or SystemClock()
        self._reconcile = ReconcilePlan(tuple(reconcile_delays_s) or (0.0,), sleep)
        self._markets = MarketRules(
            config, self._fetch_markets, venue=VENUE, not_listed=lambda base: f"no linear USDT perpetual for {base}"
        )
        self._position_mode: PositionMode | None = None
        self._taker_fees = FeeCache()

    def __repr__(self) -> str:
        return f"OkxVenue(mode={self.mode.value!r}, host={self.host!r})"

    @property
    def clock_offset_ms(self) -> int:
        """Server minus local clock, as last measured (0 before the first private call)."""
        return self._client.offset_ms

    # --- markets ------------------------------------------------------------------------------

    async def load_markets(self, *, reload: bool = False) -> dict[str, Market]:
        """GET /api/v5/public/instruments?instType=SWAP (or the on-disk cache): live linear USDT swaps."""
        return await self._markets.load(reload=reload)

    async def _fetch_markets(self) -> tuple[dict[str, Market], dict[str, str]]:
        return parse.parse_markets(await self._client.get_instruments())

    async def market(self, symbol: str) -> Market:
        """The swap of a canonical base (BTC -> BTC-USDT-SWAP); a miss in cached rules reloads them once."""
        return await self._markets.get(symbol)

    # --- market data --------------------------------------------------------------------------

    async def fetch_quote(self, symbol: str) -> Quote:
        """GET /api/v5/market/ticker, /public/funding-rate and /public/mark-price, concurrently."""
        market = await self.market(symbol)
        inst = market.venue_symbol
        ticker, funding, mark = await asyncio.gather(
            self._client.get_ticker(inst), self._client.get_funding_rate(inst), self._client.get_mark_price(inst)
        )
        return parse.parse_quote(market, ticker, funding, mark)

    async def fetch_book(self, symbol: str, depth: int = 20) -> OrderBook:
        """GET /api/v5/market/books (sizes in contracts, returned in base units)."""
        if depth < 1:
            raise UsageError("okx: book depth must be at least 1")
        market = await self.market(symbol)
        return parse.parse_book(await self._client.get_books(market.venue_symbol, depth), market, depth)

    async def fetch_candles(self, symbol: str, interval: timedelta, limit: int) -> list[Candle]:
        """GET /api/v5/market/candles, paged by 300 (newest last; the last one is still forming)."""
        bar = interval_name(self.name, interval, upper_hours=True)
        check_limit(self.name, limit)
        market = await self.market(symbol)
        candles: list[Candle] = []
        after: int | None = None
        while len(candles) < limit:
            asked = min(300, limit - len(candles))
            reply = await self._client.get_candles(market.venue_symbol, bar, asked, after)
            page = parse.parse_candles(reply, market, interval)
            candles = page + candles
            if len(page) < asked:
                break
            after = ms_from_utc(page[0].open_at)
        return candles[-limit:]

    async def fetch_server_time(self) -> datetime:
        """GET /api/v5/public/time"""
        ms = parse.parse_server_time_ms(await self._client.get_time())
        return utc_from_ms(ms)

    # --- account configuration ----------------------------------------------------------------

    def _require_keys(self) -> None:
        if not self._client.has_keys:
            raise ConfigError("okx: no API credentials configured")

    async def position_mode(self) -> PositionMode:
        """GET /api/v5/account/config `posMode`, once per session: every order's parameters depend on it."""
        if self._position_mode is None:
            self._require_keys()
            # Read on the first order's path: it spends an order token, so a spent read budget never delays it.
            self._position_mode = parse.parse_position_mode(await self._client.get_account_config(order_path=True))
        return self._position_mode

    async def fetch_account_config(self, symbol: str = REFERENCE_SYMBOL) -> AccountConfig:
        """GET /api/v5/account/config (posMode) and /api/v5/account/leverage-info (cross) of `symbol`."""
        market = await self.market(symbol)
        self._require_keys()
        config, levers = await asyncio.gather(
            self._client.get_account_config(), self._client.get_leverage_info(market.venue_symbol)
        )
        account = parse.parse_account_config(config, levers)
        self._position_mode = account.position_mode
        return account

    # --- orders -------------------------------------------------------------------------------

    async def fetch_taker_fee_rate(self, symbol: str) -> Decimal:
        """GET /api/v5/account/trade-fee for the swap's instrument family (BTC-USDT), once per session and family."""
        market = await self.market(symbol)
        family = f"{market.base}-{parse.QUOTE}"

        async def read() -> Decimal:
            return parse.parse_taker_fee_rate(await self._client.get_trade_fee(family), family)

        return await self._taker_fees.get(family, read)

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        """Sign and build POST /api/v5/trade/order (order token and clock offset taken here); nothing is sent."""
        market = await self.market(request.symbol)
        if not is_valid_client_order_id(request.client_order_id):
            raise OrderRejected(VENUE, f"client order id {request.client_order_id!r} is not 1-32 letters/digits")
        self._require_keys()
        body = parse_orders.to_wire_order(market, request, await self.position_mode())
        call = await self._client.prepare_order_post(body)
        wire = WireRequest(call.http.method, str(call.http.url), dict(call.http.headers), call.http.content or None)
        return PreparedOrder(request, wire, lambda: self._send_order(market, request, call))

    async def place_order(self, request: OrderRequest) -> Order:
        """POST /api/v5/trade/order once; on an unknown outcome, GET /api/v5/trade/order by clOrdId."""
        return await (await self.prepare_order(request)).send()

    async def _send_order(self, market: Market, request: OrderRequest, call: PreparedCall) -> Order:
        """Send the prepared POST once; parse its ack, or find the order by clOrdId if the outcome is unknown."""

        async def send() -> Order:
            try:
                reply = await self._client.send_order_post(call)
            except VenueError as exc:
                if exc.code == POSITION_SIDE_REFUSAL:  # the account's mode changed since it was read
                    self._position_mode = None
                raise
            return parse_orders.parse_order_ack(
                parse.first(reply, "trade/order"), market, request
            )  # unreadable: reconciled

        return await place(
            send,
            lambda: self._find_by_client_id(market, request.client_order_id),
            self._reconcile,
            venue=VENUE,
            client_order_id=request.client_order_id,
        )

    async def _find_by_client_id(self, market: Market, client_order_id: str) -> Order | None:
        """GET /api/v5/trade/order by clOrdId, once (OrderNotFound: the venue has no such order)."""
        reply = await self._client.get_order_once(parse_orders.order_ref(market, None, client_order_id))
        return parse_orders.parse_order(parse.first(reply, "trade/order"), market)

    async def _with_fill_details(self, market: Market, order: Order) -> Order:
        """GET fills-history of a (partly) filled order whose reply lacks the average price or fee."""
        if not order.filled_qty or (order.fee is not None and order.avg_price is not None):
            return order
        try:
            fills = await self._fills(market, order.order_id, None)
        except VenueError as exc:
            log.warning("okx: fills of order %s unavailable: %s", order.order_id, exc)
            return order  # the order stands; its fee is just unknown
        qty, avg, fee, asset = sum_fills(fills, market.quote)
        if qty != order.filled_qty:  # fills not all visible yet: a partial fee would be a wrong number
            return dataclasses.replace(order, avg_price=order.avg_price or avg)
        return dataclasses.replace(order, avg_price=order.avg_price or avg, fee=fee, fee_asset=asset)

    async def _fetch(self, market: Market, order_id: str | None, client_order_id: str | None) -> Order:
        reply = await self._client.get_order(parse_orders.order_ref(market, order_id, client_order_id))
        return parse_orders.parse_order(parse.first(reply, "trade/order"), market)

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """GET /api/v5/trade/order by ordId or clOrdId (OrderNotFound on 51603)."""
        _require_ref(order_id, client_order_id)
        market = await self.market(symbol)
        self._require_keys()
        return await self._with_fill_details(market, await self._fetch(market, order_id, client_order_id))

    async def cancel_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """POST /api/v5/trade/cancel-order, then GET /api/v5/trade/order for the final state.

        An order already final (filled, cancelled) is returned in that state; one the venue has never heard of
        raises OrderNotFound. Cancelling is idempotent, so an unknown outcome is followed by one more cancel.
        """
        _require_ref(order_id, client_order_id)
        market = await self.market(symbol)
        self._require_keys()
        ref = parse_orders.order_ref(market, order_id, client_order_id)
        try:
            try:
                ack = parse.first(await self._client.post_cancel_order(ref), "cancel-order")
            except AmbiguousOrderState:
                order = await self._fetch(market, order_id, client_order_id)
                if order.status.is_final:
                    return await self._with_fill_details(market, order)
                ack = parse.first(await self._client.post_cancel_order(ref), "cancel-order")
        except OrderNotFound as not_found:  # 51400-51402: filled or cancelled already, or never existed
            try:
                order = await self._fetch(market, order_id, client_order_id)
            except VenueError:
                raise not_found from None
            if not order.status.is_final:
                raise not_found from None
            return await self._with_fill_details(market, order)
        final = await self._fetch(market, _R.opt_text(ack, "ordId") or order_id, client_order_id)
        return await self._with_fill_details(market, final)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """GET /api/v5/trade/orders-pending, every page (paged by `after` = the last ordId)."""
        market = await self.market(symbol) if symbol else None
        markets = await self.load_markets()
        self._require_keys()
        params = {"instType": "SWAP", "limit": str(PAGE), **({"instId": market.venue_symbol} if market else {})}
        orders: list[Order] = []
        while True:
            reply = await self._client.get_orders_pending(params)
            rows = parse.data(reply, "orders-pending")
            orders += parse_orders.parse_orders(reply, markets)
            if len(rows) < PAGE:
                return orders
            params = {**params, "after": _R.ident(rows[-1], "ordId", "orders-pending")}

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """OKX has no cancel-all for ordinary orders: POST /api/v5/trade/cancel-order for each pending one."""
        cancelled = []
        for order in await self.fetch_open_orders(symbol):
            try:
                final = await self.cancel_order(order.symbol, order_id=order.order_id)
            except OrderNotFound:
                continue
            if final.status is OrderStatus.CANCELED:
                cancelled.append(final)
        return cancelled

    # --- account ------------------------------------------------------------------------------

    async def fetch_positions(self, symbol: str | None = None) -> list[Position]:
        """GET /api/v5/account/positions?instType=SWAP: non-zero positions, signed base quantities."""
        market = await self.market(symbol) if symbol else None
        markets = await self.load_markets()
        self._require_keys()
        reply = await self._client.get_positions(market.venue_symbol if market else None)
        positions = parse.parse_positions(reply, markets)
        return [p for p in positions if market is None or p.symbol == market.symbol]

    async def fetch_balances(self) -> list[Balance]:
        """GET /api/v5/account/balance"""
        self._require_keys()
        return parse.parse_balances(await self._client.get_balance())

    async def _fills(self, market: Market, order_id: str | None, since: datetime | None) -> list[Fill]:
        params = {"instType": "SWAP", "instId": market.venue_symbol, "limit": str(PAGE)}
        if order_id:
            params["ordId"] = order_id
        if since:
            params["begin"] = str(ms_from_utc(since))
        return parse_orders.parse_fills(await self._client.get_fills_history(params), market)

    async def fetch_fills(
        self, symbol: str, *, order_id: str | None = None, since: datetime | None = None
    ) -> list[Fill]:
        """GET /api/v5/trade/fills-history (newest first on the wire), oldest first."""
        market = await self.market(symbol)
        self._require_keys()
        return await self._fills(market, order_id, since)

    async def funding_payments(
        self, symbol: str | None, since: datetime, until: datetime | None = None
    ) -> list[FundingPayment]:
        """GET /api/v5/account/bills?instType=SWAP&type=8 (7 days), /account/bills-archive beyond: every page.

        Pages run newest first, `after` the last billId of a full page; a short page is the last. The archive
        is read only when `since` is older than what /account/bills keeps. Each bill is reported once.
        """
        market = await self.market(symbol) if symbol else None
        markets = await self.load_markets()
        self._require_keys()
        params = {"instType": "SWAP", "type": "8", "limit": str(PAGE)}
        if market:
            params["instId"] = market.venue_symbol
        params["begin"] = str(ms_from_utc(since))
        if until is not None:
            params["end"] = str(ms_from_utc(until))
        archive = since < self._clock.now() - BILLS_RECENT
        rows = await self._bill_pages(params, archive=archive)
        unique = list({_R.ident(r, "billId", "bill"): r for r in rows}.values())
        return parse_orders.parse_funding_bills(unique, markets, since, until)

    async def _bill_pages(self, params: dict[str, str], *, archive: bool) -> list[Any]:
        rows: list[Any] = []
        for _ in range(MAX_BILL_PAGES):
            page = parse.data(await self._client.get_bills(params, archive=archive), "bills")
            rows += page
            if len(page) < PAGE:
                return rows
            params = {**params, "after": _R.ident(page[-1], "billId", "bill")}
        raise BadResponse(VENUE, f"bills: more than {MAX_BILL_PAGES} pages of funding payments; narrow the period")

    # --- private order stream -----------------------------------------------------------------

    def stream_connector(self) -> Connect:
        """The one-session connector the stream supervisor runs (hedgectl/venues/okx/stream.py)."""
        from hedgectl.venues.okx.stream import OkxOrderStream

        return OkxOrderStream(self._config, self.load_markets, clock_offset_ms=lambda: self.clock_offset_ms).connect

    def order_events(
        self, symbol: str | None = None, *, config: SupervisorConfig | None = None, on_state: StateHook | None = None
    ) -> AsyncIterator[OrderEvent]:
        """WS /ws/v5/private: login, `orders` (instType SWAP); supervised."""
        from hedgectl.venues.streams.supervisor import supervise

        return supervise(self, self.stream_connector(), symbol, config=config, on_state=on_state)

    async def close(self) -> None:
        """Close the keep-alive connection pool."""
        await self._client.close()


def _require_ref(order_id: str | None, client_order_id: str | None) -> None:
    if order_id is None and client_order_id is None:
        raise UsageError("okx: give an order id or a client order id")
