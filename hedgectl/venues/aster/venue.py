"""AsterVenue: Aster futures (USDT-margined perpetuals) behind the Venue protocol.

Operations in domain types; the raw client speaks wire, parse.py translates. An order POST is sent
once: if its outcome is unknown the order is looked up by client order id, and only a venue that
keeps answering "no such order" turns the failure into Unavailable (not placed).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import httpx

from hedgectl.clock import ms_from_utc
from hedgectl.domain.symbols import canonical_symbol
from hedgectl.domain.types import (
    AccountConfig,
    Balance,
    Fill,
    FundingPayment,
    Market,
    Order,
    OrderBook,
    OrderRequest,
    Position,
    PositionMode,
    Quote,
)
from hedgectl.errors import (
    AmbiguousOrderState,
    BadResponse,
    OrderNotFound,
    RateLimited,
    SymbolNotListed,
    Unavailable,
    UsageError,
    VenueError,
)
from hedgectl.venues.aster import parse
from hedgectl.venues.aster.auth import keys_from_config
from hedgectl.venues.aster.client import AsterClient, PreparedCall
from hedgectl.venues.base import REFERENCE_SYMBOL, PreparedOrder, WireRequest
from hedgectl.venues.ccxt_wire import check_order_rules
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.income import FUNDING_FEE, read_income
from hedgectl.venues.kit.host_guard import origin
from hedgectl.venues.kit.retry import Sleep
from hedgectl.venues.market_cache import load_markets_cache, save_markets_cache
from hedgectl.venues.streams import OrderEvent

if TYPE_CHECKING:
    from hedgectl.venues.stream_supervisor import Connect, StateHook, SupervisorConfig

log = logging.getLogger(__name__)

VENUE = "aster"
_DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
_FUNDING_INFO_TTL_S = 3600.0
# Lookups by client id after an unknown outcome; a late-landing order gets this long to show up.
RECONCILE_DELAYS_S: tuple[float, ...] = (0.0, 0.5, 1.0)


class AsterVenue:
    """Aster futures through its REST API, with API-wallet (V3) or legacy HMAC (V1) keys."""

    name = VENUE

    def __init__(
        self,
        config: VenueConfig,
        *,
        http: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        reconcile_delays_s: Sequence[float] = RECONCILE_DELAYS_S,
    ) -> None:
        self.mode = config.mode
        self.host = origin(config.base_url)
        self._config = config
        self._client = AsterClient(config, keys_from_config(config), http=http, sleep=sleep)
        self._sleep = sleep
        self._reconcile_delays_s = tuple(reconcile_delays_s) or (0.0,)
        self._markets: dict[str, Market] | None = None
        self._broken: dict[str, str] = {}
        self._canonical: dict[str, str] = {}
        self._markets_lock = asyncio.Lock()
        self._funding: dict[str, timedelta] = {}
        self._funding_loaded_at: float | None = None
        self._position_mode: PositionMode | None = None

    def __repr__(self) -> str:
        return f"AsterVenue(mode={self.mode.value!r}, host={self.host!r}, auth={self.auth_scheme})"

    @property
    def auth_scheme(self) -> str:
        """ "v3" (API wallet, EIP-712) or "v1" (legacy HMAC key)."""
        return self._client.scheme

    # --- markets ------------------------------------------------------------------------------

    async def load_markets(self, *, reload: bool = False) -> dict[str, Market]:
        """GET /fapi/v{1,3}/exchangeInfo (or the on-disk cache): USDT perpetuals that are trading."""
        async with self._markets_lock:
            if self._markets is not None and not reload:
                return self._markets
            cfg = self._config
            markets = None if reload else load_markets_cache(cfg.cache_dir, VENUE, cfg.base_url, cfg.market_cache_ttl_s)
            if markets is None:
                markets, self._broken = parse.parse_markets(await self._client.get_exchange_info())
                save_markets_cache(cfg.cache_dir, VENUE, cfg.base_url, markets)
            self._markets = markets
            self._canonical = {m.venue_symbol: m.symbol for m in markets.values()}
            return markets

    async def market(self, symbol: str) -> Market:
        """The perpetual for a canonical symbol (BTC -> BTCUSDT); SymbolNotListed if Aster has none."""
        base = canonical_symbol(symbol)
        markets = await self.load_markets()
        if base not in markets:
            if base in self._broken:  # one odd row: this symbol is refused, the venue's others still trade
                raise BadResponse(VENUE, f"{base}: market rules unreadable: {self._broken[base]}")
            raise SymbolNotListed(VENUE, f"no trading USDT perpetual for {base}")
        return markets[base]

    def _symbol_of(self, venue_symbol: str) -> str:
        if venue_symbol in self._canonical:
            return self._canonical[venue_symbol]
        return venue_symbol.removesuffix(parse.QUOTE_ASSET) or venue_symbol

    def _venue_symbol(self, symbol: str) -> str:
        if self._markets and symbol in self._markets:
            return self._markets[symbol].venue_symbol
        return symbol + parse.QUOTE_ASSET

    # --- market data --------------------------------------------------------------------------

    async def fetch_quote(self, symbol: str) -> Quote:
        """GET ticker/bookTicker, premiumIndex, ticker/24hr and (cached) fundingInfo, concurrently."""
        market = await self.market(symbol)
        vs = market.venue_symbol
        top, premium, day, interval = await asyncio.gather(
            self._client.get_book_ticker(vs),
            self._client.get_premium_index(vs),
            self._client.get_ticker_24hr(vs),
            self._funding_interval(vs),
        )
        return parse.parse_quote(market.symbol, top, premium, day, interval)

    async def _funding_interval(self, venue_symbol: str) -> timedelta:
        """GET fundingInfo at most hourly; symbols it does not list settle every 8 hours."""
        now = time.monotonic()
        if self._funding_loaded_at is None or now - self._funding_loaded_at > _FUNDING_INFO_TTL_S:
            self._funding = parse.parse_funding_intervals(await self._client.get_funding_info())
            self._funding_loaded_at = now
        return self._funding.get(venue_symbol, parse.DEFAULT_FUNDING_INTERVAL)

    async def fetch_book(self, symbol: str, depth: int = 20) -> OrderBook:
        """GET /fapi/v{1,3}/depth with the smallest allowed limit that covers `depth`."""
        if depth < 1:
            raise UsageError("aster: book depth must be at least 1")
        market = await self.market(symbol)
        limit = next((n for n in _DEPTH_LIMITS if n >= depth), _DEPTH_LIMITS[-1])
        book = parse.parse_book(await self._client.get_depth(market.venue_symbol, limit), market.symbol)
        return dataclasses.replace(book, bids=book.bids[:depth], asks=book.asks[:depth])

    async def fetch_server_time(self) -> datetime:
        """GET /fapi/v{1,3}/time"""
        return parse.parse_server_time(await self._client.get_time())

    # --- orders -------------------------------------------------------------------------------

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        """Sign and build POST /fapi/v{1,3}/order (rate-limit tokens and clock offset taken here); nothing is sent."""
        market = await self.market(request.symbol)
        check_order_rules(market, request)  # step, tick, and the market-order cap (MARKET_LOT_SIZE) before sending
        params = parse.to_wire_order(market.venue_symbol, request, await self.position_mode())
        call = await self._client.prepare_order_post(params)
        wire = WireRequest(call.http.method, str(call.http.url), dict(call.http.headers), call.http.content or None)
        return PreparedOrder(request, wire, lambda: self._send_order(market, request, call))

    async def place_order(self, request: OrderRequest) -> Order:
        """POST /fapi/v{1,3}/order once; on an unknown outcome, GET order by origClientOrderId."""
        return await (await self.prepare_order(request)).send()

    async def _send_order(self, market: Market, request: OrderRequest, call: PreparedCall) -> Order:
        """Send the prepared POST once; parse its ack, or look the order up by client id if the outcome is unknown."""
        try:
            order = parse.parse_order(await self._client.send_order_post(call), self._symbol_of)
        except AmbiguousOrderState as exc:
            return await self._reconcile(market, request.client_order_id, exc)
        except BadResponse as exc:
            # An unreadable reply says nothing about whether the order exists: look it up.
            unknown = AmbiguousOrderState(VENUE, f"unreadable reply ({exc.reason})", code=exc.code)
            return await self._reconcile(market, request.client_order_id, unknown)
        except VenueError as exc:
            if exc.code == "-4061":  # the account's mode changed since it was read: read it again next time
                self._position_mode = None
            raise
        return order  # the ack as is: fees are read with fetch_fills, off the hot path

    async def _reconcile(self, market: Market, client_order_id: str, cause: AmbiguousOrderState) -> Order:
        """Find out whether an order whose POST got no usable reply exists; never resend it."""
        absent = False
        for delay in self._reconcile_delays_s:
            if delay:
                await self._sleep(delay)
            try:
                wire = await self._client.get_order_once(market.venue_symbol, client_order_id=client_order_id)
                order = parse.parse_order(wire, self._symbol_of)
            except OrderNotFound:
                absent = True
                continue
            except (Unavailable, RateLimited, AmbiguousOrderState, BadResponse):
                absent = False
                continue
            log.info("aster: order %s confirmed by client id after: %s", client_order_id, cause.reason)
            return order
        if absent:
            raise Unavailable(
                VENUE, f"order {client_order_id} was not placed (no reply: {cause.reason}; the venue has no such order)"
            ) from cause
        raise AmbiguousOrderState(
            VENUE,
            f"order {client_order_id} may or may not exist ({cause.reason}); "
            f"{len(self._reconcile_delays_s)} lookups by client id failed: reconcile before resending",
            code=cause.code,
        ) from cause

    async def _with_fees(self, market: Market, order: Order) -> Order:
        """GET userTrades by orderId to add fee (and average price if missing) to a (partly) filled order."""
        if order.filled_qty <= 0 or order.fee is not None:
            return order
        try:
            trades = await self._client.get_user_trades(market.venue_symbol, order_id=order.order_id)
            fills = [f for f in parse.parse_fills(trades, self._symbol_of) if f.order_id == order.order_id]
        except VenueError as exc:
            # The order stands; only its fee is unknown. Callers read fills later if they need it.
            log.warning("aster: fills of order %s unavailable: %s", order.order_id, exc)
            return order
        qty = sum((f.qty for f in fills), Decimal(0))
        assets = {f.fee_asset for f in fills}
        if qty != order.filled_qty or len(assets) != 1:
            return order  # fills not all recorded yet (or in mixed assets): leave the fee unknown
        avg = order.avg_price or sum((f.qty * f.price for f in fills), Decimal(0)) / qty
        fee = sum((f.fee for f in fills), Decimal(0))
        return dataclasses.replace(order, fee=fee, fee_asset=assets.pop(), avg_price=avg)

    async def cancel_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """DELETE /fapi/v{1,3}/order; an order already final is returned as the venue reports it."""
        _require_ref(order_id, client_order_id)
        market = await self.market(symbol)
        ref = {"order_id": order_id, "client_order_id": client_order_id}
        try:
            wire = await self._client.delete_order(market.venue_symbol, **ref)
        except OrderNotFound:
            # -2011: filled or cancelled already, or never existed; the lookup tells which.
            return await self.fetch_order(symbol, **ref)
        except AmbiguousOrderState:
            order = await self.fetch_order(symbol, **ref)
            if order.status.is_final:
                return order
            # Cancelling is idempotent, so sending it again is safe (unlike an order POST).
            try:
                wire = await self._client.delete_order(market.venue_symbol, **ref)
            except OrderNotFound:
                return await self.fetch_order(symbol, **ref)
        return await self._with_fees(market, parse.parse_order(wire, self._symbol_of))

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """GET /fapi/v{1,3}/order by orderId or origClientOrderId (OrderNotFound on -2013)."""
        _require_ref(order_id, client_order_id)
        market = await self.market(symbol)
        wire = await self._client.get_order(market.venue_symbol, order_id=order_id, client_order_id=client_order_id)
        order = parse.parse_order(wire, self._symbol_of)
        # Fees are fetched once an order is final; polling a working order costs one request, not two.
        return await self._with_fees(market, order) if order.status.is_final else order

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """GET /fapi/v{1,3}/openOrders (one symbol, or all of them)."""
        venue_symbol = (await self.market(symbol)).venue_symbol if symbol else None
        if symbol is None:
            await self.load_markets()
        return parse.parse_orders(await self._client.get_open_orders(venue_symbol), self._symbol_of)

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """DELETE /fapi/v{1,3}/allOpenOrders per symbol, then GET order for each one it cancelled."""
        open_orders = await self.fetch_open_orders(symbol)
        symbols = {canonical_symbol(symbol)} if symbol else {o.symbol for o in open_orders}
        for sym in sorted(symbols):
            try:
                ack = await self._client.delete_all_open_orders(self._venue_symbol(sym))
            except AmbiguousOrderState:
                # Cancelling everything is idempotent, so one more try is safe (unlike an order POST).
                ack = await self._client.delete_all_open_orders(self._venue_symbol(sym))
            parse.parse_ack(ack)
        return list(await asyncio.gather(*(self.fetch_order(o.symbol, order_id=o.order_id) for o in open_orders)))

    # --- account ------------------------------------------------------------------------------

    async def position_mode(self) -> PositionMode:
        """GET /fapi/v{1,3}/positionSide/dual, once per session: every order's parameters depend on it."""
        if self._position_mode is None:
            self._position_mode = parse.parse_position_mode(await self._client.get_position_mode())
        return self._position_mode

    async def fetch_account_config(self, symbol: str = REFERENCE_SYMBOL) -> AccountConfig:
        """Position mode (positionSide/dual), margin type and leverage of `symbol` (positionRisk)."""
        market = await self.market(symbol)
        self._position_mode = parse.parse_position_mode(await self._client.get_position_mode())
        rows = await self._client.get_position_risk(market.venue_symbol)
        return parse.parse_account_config(self._position_mode, rows, market.venue_symbol)

    async def fetch_positions(self, symbol: str | None = None) -> list[Position]:
        """GET /fapi/v2/positionRisk (V1) or /fapi/v3/positionRisk (V3): non-zero positions."""
        venue_symbol = (await self.market(symbol)).venue_symbol if symbol else None
        if symbol is None:
            await self.load_markets()
        positions = parse.parse_positions(await self._client.get_position_risk(venue_symbol), self._symbol_of)
        if symbol:
            positions = [p for p in positions if p.symbol == canonical_symbol(symbol)]
        return positions

    async def fetch_balances(self) -> list[Balance]:
        """GET /fapi/v2/balance (V1) or /fapi/v3/balance (V3)."""
        return parse.parse_balances(await self._client.get_balance())

    async def fetch_fills(
        self, symbol: str, *, order_id: str | None = None, since: datetime | None = None
    ) -> list[Fill]:
        """GET /fapi/v{1,3}/userTrades, oldest first."""
        market = await self.market(symbol)
        start = ms_from_utc(since) if since is not None else None
        wire = await self._client.get_user_trades(market.venue_symbol, order_id=order_id, start_time_ms=start)
        return parse.parse_fills(wire, self._symbol_of)

    async def funding_payments(
        self, symbol: str | None, since: datetime, until: datetime | None = None
    ) -> list[FundingPayment]:
        """GET /fapi/v{1,3}/income?incomeType=FUNDING_FEE, paged forward from `since`."""
        markets = await self.load_markets()
        venue_symbol = (await self.market(symbol)).venue_symbol if symbol is not None else None
        until_ms = ms_from_utc(until) if until is not None else None
        listed = {m.venue_symbol: m.symbol for m in markets.values()}

        async def page(start_ms: int) -> object:
            return await self._client.get_income(
                income_type=FUNDING_FEE, symbol=venue_symbol, start_time_ms=start_ms, end_time_ms=until_ms
            )

        return await read_income(VENUE, page, listed.get, ms_from_utc(since), until_ms)

    # --- private order stream -----------------------------------------------------------------

    def stream_connector(self) -> Connect:
        """The one-session connector the stream supervisor runs (hedgectl/venues/aster/stream.py)."""
        from hedgectl.venues.aster.stream import aster_stream

        return aster_stream(self._config, self._client, self.load_markets).connect

    def order_events(
        self, symbol: str | None = None, *, config: SupervisorConfig | None = None, on_state: StateHook | None = None
    ) -> AsyncIterator[OrderEvent]:
        """WS <ws>/ws/<listenKey> (POST/PUT /fapi/v{1,3}/listenKey): ORDER_TRADE_UPDATE, supervised."""
        from hedgectl.venues.stream_supervisor import supervise

        return supervise(self, self.stream_connector(), symbol, config=config, on_state=on_state)

    async def close(self) -> None:
        """Close the keep-alive connection pool."""
        await self._client.close()


def _require_ref(order_id: str | None, client_order_id: str | None) -> None:
    if order_id is None and client_order_id is None:
        raise UsageError("aster: give an order id or a client order id")
