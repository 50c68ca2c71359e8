"""Binance USDⓈ-M and OKX swaps through ccxt.async_support: the only module that imports ccxt.

ccxt is used as the raw client (its implicit per-endpoint methods: signing, transport, error classes); the
venue dialects (ccxt_binance, ccxt_okx) form requests and parse wire dicts into domain types, and this
adapter adds what is common: one configured ccxt instance per venue, a host guard on every request, our
rate limiter instead of ccxt's throttler, server-time sync, read retries, reconciliation of ambiguous order
POSTs by client order id, fill details, the market cache, and the single translation of ccxt errors.

An order POST is split where ccxt's own `fetch2` splits it: `prepare_order` signs it through the implicit
endpoint's route (`ex.sign(path, api, method, params)`), guards it and takes its rate-limit token;
`PreparedOrder.send` hands the signed request to ccxt's `fetch` (one HTTP exchange) and parses the ack.

ccxt's unified methods are deliberately not used: they load every market (and, with keys set, make
signed calls to production currency endpoints) before the first request, which defeats the market cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import ccxt.async_support as ccxt_async
from ccxt.base.errors import BaseError as CcxtBaseError

from hedgectl.clock import ms_from_utc, utc_from_ms
from hedgectl.domain.ids import is_valid_client_order_id
from hedgectl.domain.symbols import canonical_symbol
from hedgectl.domain.types import (
    AccountConfig,
    Balance,
    Fill,
    FundingPayment,
    Market,
    Mode,
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
    SymbolNotListed,
    Unavailable,
    VenueError,
)
from hedgectl.venues.base import REFERENCE_SYMBOL, PreparedOrder, WireRequest
from hedgectl.venues.ccxt_binance import BinanceDialect
from hedgectl.venues.ccxt_errors import Mapped, map_ccxt_error
from hedgectl.venues.ccxt_okx import OkxDialect
from hedgectl.venues.ccxt_wire import Dialect, sum_fills
from hedgectl.venues.config import TESTNET_HEADERS, VenueConfig
from hedgectl.venues.kit.host_guard import ensure_allowed, origin
from hedgectl.venues.kit.rate_limit import RateLimiter
from hedgectl.venues.kit.retry import retry_read
from hedgectl.venues.market_cache import load_markets_cache, save_markets_cache
from hedgectl.venues.streams import OrderEvent

if TYPE_CHECKING:
    from hedgectl.venues.stream_supervisor import Connect, StateHook, SupervisorConfig
from hedgectl.venues.kit.time_offset import TimeOffset

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

DIALECTS: dict[str, Callable[[], Any]] = {"binance": BinanceDialect, "okx": OkxDialect}
RECONCILE_DELAYS_S = (0.25, 0.5, 1.0)  # between client-id lookups after an ambiguous order POST
# "The position side does not fit the account's mode" (Binance -4061, OKX 51000 posSide): the cached mode is stale.
POSITION_SIDE_REFUSALS = frozenset({"-4061", "51000"})
# Set while a request belongs to an order's path (the position-mode read before the first order).
_ORDER_PATH: ContextVar[bool] = ContextVar("hedgectl_ccxt_order_path", default=False)
_FOREIGN = (CcxtBaseError, aiohttp.ClientError, asyncio.TimeoutError, OSError)
# ccxt logs every request's headers (API key, OKX passphrase) at DEBUG: its logger never goes below INFO.
CCXT_LOGGER = logging.getLogger("hedgectl.venues.ccxt")
CCXT_LOGGER.setLevel(logging.INFO)


def _decimal_json(raw: str) -> Any:
    """ccxt's JSON decoder, with floats as Decimal so no price or size passes through a binary float."""
    return json.loads(raw, parse_float=Decimal)


def build_exchange(config: VenueConfig, dialect: Dialect) -> Any:
    """A ccxt instance configured deliberately: no throttler, no hidden calls, timeouts and URLs per mode."""
    exchange_class = getattr(ccxt_async, dialect.ccxt_id)
    ex = exchange_class(
        {
            **dialect.credentials(config),
            "enableRateLimit": False,  # RateLimiter instead: ccxt's throttler delays every call after the first
            "timeout": int(config.timeout_s * 1000),
            "options": {
                "adjustForTimeDifference": False,  # we measure once, explicitly (CcxtVenue.sync_time)
                "timeDifference": 0,
                "maxRetriesOnFailure": 0,  # ccxt must never resend anything, above all an order POST
                "defaultType": "swap",
                "fetchCurrencies": False,
            },
        }
    )
    ex.has["fetchCurrencies"] = False  # load_markets would otherwise call a signed currencies endpoint
    ex.logger = CCXT_LOGGER
    ex.on_json_response = _decimal_json
    dialect.configure(ex, config)
    ex.headers.update(config.headers)
    if config.base_url.startswith("http://"):
        ex.timeout_on_exit = 0  # ccxt waits 250 ms on close for TLS transports to wind down; plain HTTP has none
    return ex


def implicit_route(ex: Any, name: str) -> tuple[str, Any, str]:
    """(path, api, method) of one ccxt implicit-API method, as ccxt itself declares it (an `Entry` in its abstract
    class; the MRO is walked because ccxt's camelCase aliasing may shadow the Entry with its bound function)."""
    for klass in type(ex).__mro__:
        entry = vars(klass).get(name)
        path, api, method = (getattr(entry, attr, None) for attr in ("path", "api", "method"))
        if isinstance(path, str) and isinstance(method, str) and api is not None:
            return path, api, method
    raise ConfigError(f"ccxt {ccxt_async.__version__}: {name} is not declared as an implicit endpoint")


# The HTTP status of this task's last ccxt request (set by ccxt's on_rest_response hook, read when mapping an
# error); a context variable because concurrent requests share one ccxt exchange.
_HTTP_STATUS: ContextVar[int | None] = ContextVar("hedgectl_ccxt_http_status", default=None)


class CcxtVenue:
    """hedgectl's Venue for `binance` (ccxt binanceusdm) and `okx` (ccxt okx), built from one VenueConfig.

    Credentials read: api_key, api_secret and, for OKX, passphrase.
    """

    def __init__(
        self,
        config: VenueConfig,
        *,
        reconcile_delays_s: Sequence[float] = RECONCILE_DELAYS_S,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        factory = DIALECTS.get(config.name)
        if factory is None:
            raise ConfigError(f"{config.name}: not served by ccxt (only {', '.join(DIALECTS)})")
        self.name = config.name
        self.mode = config.mode
        self.host = origin(config.base_url)
        self._config = config
        self._dialect: Dialect = factory()
        self._reconcile_delays_s = tuple(reconcile_delays_s)
        self._sleep = sleep
        self._secrets = tuple(v.get_secret_value() for v in config.credentials.values())
        self._limiter = RateLimiter(self._dialect.rate_per_s, self._dialect.burst)
        self._order_limiter = RateLimiter(self._dialect.order_rate_per_s, self._dialect.order_burst)
        self._offset = TimeOffset()
        self._time_synced = False
        self._markets: dict[str, Market] | None = None
        self._position_mode: PositionMode | None = None
        self._markets_from_cache = False
        self._broken: dict[str, str] = {}
        self._markets_lock = asyncio.Lock()
        self._ex = build_exchange(config, self._dialect)
        self._order_route = implicit_route(self._ex, self._dialect.order_endpoint)
        self._send = self._ex.fetch
        self._ex.fetch = self._guarded_fetch
        self._on_rest_response = self._ex.on_rest_response
        self._ex.on_rest_response = self._note_status

    def __repr__(self) -> str:
        return f"CcxtVenue(name={self.name!r}, mode={self.mode.value!r}, host={self.host!r})"

    # ---- every request passes here -------------------------------------------------------------------

    def check_request(self, url: str, headers: dict[str, str] | None) -> None:
        """Refuse a request to any origin but config.base_url, or a testnet request without its demo header."""
        ensure_allowed(url, self._config.base_url, venue=self.name)
        if self.mode is Mode.TESTNET:
            sent = {k.lower(): str(v) for k, v in {**(headers or {}), **self._ex.headers}.items()}
            for key, value in TESTNET_HEADERS.get(self.name, {}).items():
                if sent.get(key.lower()) != value:
                    raise ConfigError(f"{self.name}: refusing a testnet request without the {key}: {value} header")

    async def _guarded_fetch(
        self, url: str, method: str = "GET", headers: dict[str, str] | None = None, body: str | None = None
    ) -> Any:
        self.check_request(url, headers)
        _HTTP_STATUS.set(None)
        await (self._order_limiter if _ORDER_PATH.get() else self._limiter).acquire()
        return await self._send(url, method, headers, body)

    def _note_status(self, code: Any, reason: Any, *rest: Any) -> Any:
        """ccxt's response hook: keep the HTTP status for the error message (ccxt's own messages omit it)."""
        _HTTP_STATUS.set(code if isinstance(code, int) else None)
        return self._on_rest_response(code, reason, *rest)

    # ---- error edge ---------------------------------------------------------------------------------

    def _map(self, exc: BaseException, context: str) -> Mapped:
        return map_ccxt_error(exc, self.name, secrets=self._secrets, context=context, http_status=_HTTP_STATUS.get())

    async def _once(self, context: str, call: Callable[[], Awaitable[T]]) -> T:
        """One request; a refused timestamp resyncs the clock and is retried once."""
        for attempt in (1, 2):
            try:
                return await call()
            except _FOREIGN as exc:
                mapped = self._map(exc, context)
                if mapped.clock_skew and attempt == 1:
                    await self.sync_time()
                    continue
                raise mapped.error from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _read(self, context: str, call: Callable[[], Awaitable[T]]) -> T:
        """An idempotent request, retried with backoff on Unavailable / RateLimited."""
        return await retry_read(lambda: self._once(context, call), sleep=self._sleep)

    async def _private(self) -> None:
        if not self._dialect.credentials(self._config):
            raise ConfigError(f"{self.name}: no API credentials configured")
        if not self._time_synced:
            await self.sync_time()

    # ---- clock and markets --------------------------------------------------------------------------

    async def sync_time(self) -> int:
        """GET the server time; sign every later request with it (ccxt subtracts options.timeDifference)."""
        offset = await self._offset.measure(
            lambda: self._read("server time", lambda: self._dialect.server_time_ms(self._ex))
        )
        self._ex.options["timeDifference"] = -offset
        self._time_synced = True
        return offset

    @property
    def clock_offset_ms(self) -> int:
        """Server minus local clock, as last measured (0 before the first private call)."""
        return self._offset.offset_ms

    async def fetch_server_time(self) -> datetime:
        """GET /fapi/v1/time | GET /api/v5/public/time"""
        return utc_from_ms(await self._read("server time", lambda: self._dialect.server_time_ms(self._ex)))

    async def load_markets(self, *, reload: bool = False) -> dict[str, Market]:
        """GET /fapi/v1/exchangeInfo | GET /api/v5/public/instruments?instType=SWAP (cached on disk with a TTL)."""
        async with self._markets_lock:
            if self._markets is not None and not reload:
                return self._markets
            cfg = self._config
            cached = (
                None if reload else load_markets_cache(cfg.cache_dir, self.name, cfg.base_url, cfg.market_cache_ttl_s)
            )
            if cached:
                self._markets, self._markets_from_cache = cached, True
                return cached
            markets, self._broken = await self._read("markets", lambda: self._dialect.markets(self._ex))
            self._markets = {m.symbol: m for m in markets}
            self._markets_from_cache = False
            save_markets_cache(cfg.cache_dir, self.name, cfg.base_url, self._markets)
            return self._markets

    async def market(self, symbol: str) -> Market:
        """One linear perpetual by canonical base; a miss in cached rules reloads them once."""
        key = canonical_symbol(symbol)
        markets = await self.load_markets()
        if key not in markets and self._markets_from_cache:
            markets = await self.load_markets(reload=True)
        if key in markets:
            return markets[key]
        if key in self._broken:
            raise BadResponse(self.name, f"{key}: market rules unreadable: {self._broken[key]}")
        raise SymbolNotListed(self.name, f"no linear USDT perpetual for {key}")

    # ---- market data --------------------------------------------------------------------------------

    async def fetch_quote(self, symbol: str) -> Quote:
        """GET /fapi/v1/ticker/bookTicker + /fapi/v1/premiumIndex | GET market/ticker + funding-rate + mark-price"""
        market = await self.market(symbol)
        return await self._read("quote", lambda: self._dialect.quote(self._ex, market))

    async def fetch_book(self, symbol: str, depth: int = 20) -> OrderBook:
        """GET /fapi/v1/depth | GET /api/v5/market/books"""
        market = await self.market(symbol)
        return await self._read("book", lambda: self._dialect.book(self._ex, market, max(1, depth)))

    # ---- account configuration ----------------------------------------------------------------------

    async def position_mode(self) -> PositionMode:
        """The account's position mode, read once per session: every order's parameters depend on it."""
        if self._position_mode is None:
            await self._private()
            # Read on the first order's path: it spends an order token, so a spent read budget never delays it.
            token = _ORDER_PATH.set(True)
            try:
                mode = await self._read("position mode", lambda: self._dialect.position_mode(self._ex))
            finally:
                _ORDER_PATH.reset(token)
            self._position_mode = mode
        return self._position_mode

    async def fetch_account_config(self, symbol: str = REFERENCE_SYMBOL) -> AccountConfig:
        """Position mode, margin mode and leverage (of `symbol`, where the venue sets them per symbol)."""
        market = await self.market(symbol)
        await self._private()
        config: AccountConfig = await self._read(
            "account config", lambda: self._dialect.account_config(self._ex, market)
        )
        self._position_mode = config.position_mode
        return config

    # ---- orders -------------------------------------------------------------------------------------

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        """Sign POST /fapi/v1/order | POST /api/v5/trade/order with ccxt's own signing, guard it; send nothing.

        The order bucket's token is taken here, so reads never delay an order and sending never waits.
        """
        market = await self.market(request.symbol)
        if not is_valid_client_order_id(request.client_order_id):
            raise OrderRejected(self.name, f"client order id {request.client_order_id!r} is not 1-32 letters/digits")
        await self._private()
        params = self._dialect.order_params(market, request, await self.position_mode())
        path, api, method = self._order_route
        try:
            signed = self._ex.sign(path, api, method, params)
            headers = self._ex.prepare_request_headers(signed["headers"])  # what ccxt's fetch adds, added once here
        except _FOREIGN as exc:
            raise self._map(exc, "sign order").error from exc
        url, body = signed["url"], signed["body"]
        self.check_request(url, headers)
        await self._order_limiter.acquire()
        wire = WireRequest(signed["method"], url, dict(headers), body.encode() if body else None)
        exchange = (url, wire.method, headers, body)
        return PreparedOrder(request, wire, lambda: self._send_order(market, request, exchange))

    async def place_order(self, request: OrderRequest) -> Order:
        """POST /fapi/v1/order | POST /api/v5/trade/order; never resent: an unknown outcome is looked up by id."""
        return await (await self.prepare_order(request)).send()

    async def _send_order(
        self, market: Market, request: OrderRequest, signed: tuple[str, str, dict[str, str], str | None]
    ) -> Order:
        """The prepared order POST through ccxt's fetch: one exchange, its ack, or a lookup by client order id."""
        try:
            reply = await self._send(*signed)
            return self._dialect.parse_order_ack(reply, market, request)
        except BadResponse as exc:  # the venue answered something unreadable: the order may exist
            return await self._reconcile(market, request, exc)
        except _FOREIGN as exc:
            mapped = self._map(exc, "create order")
            if mapped.clock_skew:
                await self.sync_time()
            if isinstance(mapped.error, VenueError) and mapped.error.code in POSITION_SIDE_REFUSALS:
                # The account's mode changed since it was read: the next order reads it again.
                self._position_mode = None
            if not mapped.unknown_outcome or not isinstance(mapped.error, VenueError):
                raise mapped.error from exc
            return await self._reconcile(market, request, mapped.error)

    async def _reconcile(self, market: Market, request: OrderRequest, cause: VenueError) -> Order:
        """After an ambiguous POST: look the order up by client id a few times; never resend it."""
        cid = request.client_order_id
        last_said_not_found = False
        for delay in (0.0, *self._reconcile_delays_s):
            if delay:
                await self._sleep(delay)
            try:
                order = await self._once("reconcile", lambda: self._dialect.fetch_order(self._ex, market, None, cid))
            except OrderNotFound:
                last_said_not_found = True
            except VenueError:
                last_said_not_found = False
            else:
                return order
        if last_said_not_found:
            raise Unavailable(
                self.name,
                f"order {cid} was not placed ({cause.reason}; the venue does not know it): "
                "send a new order with a new client order id",
            ) from cause
        raise AmbiguousOrderState(
            self.name,
            f"order {cid} may or may not have been placed ({cause.reason}) and could not be looked up; "
            "reconcile by client order id before anything else",
        ) from cause

    async def _with_fill_details(self, market: Market, order: Order) -> Order:
        """GET fills of a (partly) filled order whose reply lacks the average price or fee."""
        if not order.filled_qty or (order.fee is not None and order.avg_price is not None):
            return order
        try:
            fills = await self._read("fills", lambda: self._dialect.fills(self._ex, market, order.order_id, None))
        except VenueError:
            return order  # the order stands; its fee is just unknown
        qty, avg, fee, asset = sum_fills(fills, market.quote)
        if qty != order.filled_qty:  # fills not all visible yet: a partial fee would be a wrong number
            return replace(order, avg_price=order.avg_price or avg)
        return replace(order, avg_price=order.avg_price or avg, fee=fee, fee_asset=asset)

    async def _fetch(self, market: Market, order_id: str | None, client_order_id: str | None) -> Order:
        return await self._read(
            "fetch order", lambda: self._dialect.fetch_order(self._ex, market, order_id, client_order_id)
        )

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """GET /fapi/v1/order | GET /api/v5/trade/order (by order id or client order id)."""
        market = await self.market(symbol)
        await self._private()
        return await self._with_fill_details(market, await self._fetch(market, order_id, client_order_id))

    async def cancel_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """DELETE /fapi/v1/order | POST /api/v5/trade/cancel-order. Safe to repeat, so retried like a read.

        An order that is already final (filled, cancelled) is returned in that state; one the venue has never
        heard of raises OrderNotFound.
        """
        market = await self.market(symbol)
        await self._private()
        try:
            order = await self._read(
                "cancel order", lambda: self._dialect.cancel_order(self._ex, market, order_id, client_order_id)
            )
        except OrderNotFound as not_found:
            try:
                order = await self._fetch(market, order_id, client_order_id)
            except VenueError:
                raise not_found from None
            if not order.status.is_final:
                raise not_found from None
        return await self._with_fill_details(market, order)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """GET /fapi/v1/openOrders | GET /api/v5/trade/orders-pending"""
        market = await self.market(symbol) if symbol else None
        markets = await self.load_markets()
        await self._private()
        return await self._read("open orders", lambda: self._dialect.open_orders(self._ex, markets, market))

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """DELETE /fapi/v1/allOpenOrders per symbol | OKX (no cancel-all): cancel each pending order."""
        open_orders = await self.fetch_open_orders(symbol)
        markets = await self.load_markets()
        if self._dialect.native_cancel_all:
            symbols = {o.symbol for o in open_orders} | ({canonical_symbol(symbol)} if symbol else set())
            for name in sorted(symbols):
                await self._cancel_all_native(markets[name])
            return [replace(o, status=OrderStatus.CANCELED) for o in open_orders]
        cancelled = []
        for order in open_orders:
            try:
                final = await self.cancel_order(order.symbol, order_id=order.order_id)
            except OrderNotFound:
                continue
            if final.status is OrderStatus.CANCELED:
                cancelled.append(final)
        return cancelled

    async def _cancel_all_native(self, market: Market) -> None:
        await self._read("cancel all", lambda: self._dialect.cancel_all_symbol(self._ex, market))

    # ---- account ------------------------------------------------------------------------------------

    async def fetch_positions(self, symbol: str | None = None) -> list[Position]:
        """GET /fapi/v3/positionRisk | GET /api/v5/account/positions (signed base quantities)."""
        market = await self.market(symbol) if symbol else None
        markets = await self.load_markets()
        await self._private()
        return await self._read("positions", lambda: self._dialect.positions(self._ex, markets, market))

    async def fetch_balances(self) -> list[Balance]:
        """GET /fapi/v3/account | GET /api/v5/account/balance"""
        await self._private()
        return await self._read("balances", lambda: self._dialect.balances(self._ex))

    async def fetch_fills(
        self, symbol: str, *, order_id: str | None = None, since: datetime | None = None
    ) -> list[Fill]:
        """GET /fapi/v1/userTrades | GET /api/v5/trade/fills-history (oldest first)."""
        market = await self.market(symbol)
        await self._private()
        return await self._read("fills", lambda: self._dialect.fills(self._ex, market, order_id, since))

    async def funding_payments(
        self, symbol: str | None, since: datetime, until: datetime | None = None
    ) -> list[FundingPayment]:
        """GET /fapi/v1/income?incomeType=FUNDING_FEE | GET /api/v5/account/bills?type=8 (oldest first)."""
        market = await self.market(symbol) if symbol else None
        markets = await self.load_markets()
        await self._private()
        until_ms = ms_from_utc(until) if until is not None else None
        return await self._read(
            "funding payments",
            lambda: self._dialect.funding_payments(self._ex, markets, market, ms_from_utc(since), until_ms),
        )

    # ---- private order stream ------------------------------------------------------------------------

    def stream_connector(self) -> Connect:
        """The one-session connector the stream supervisor runs (hedgectl/venues/ccxt_stream.py)."""
        from hedgectl.venues.ccxt_stream import connector

        if not self._dialect.credentials(self._config):
            raise ConfigError(f"{self.name}: no API credentials configured")
        return connector(self._config, self._ex, self._once, self.load_markets, lambda: self.clock_offset_ms)

    def order_events(
        self, symbol: str | None = None, *, config: SupervisorConfig | None = None, on_state: StateHook | None = None
    ) -> AsyncIterator[OrderEvent]:
        """WS user data stream (POST/PUT /fapi/v1/listenKey) | WS /ws/v5/private `orders`; supervised."""
        from hedgectl.venues.stream_supervisor import supervise

        return supervise(self, self.stream_connector(), symbol, config=config, on_state=on_state)

    async def close(self) -> None:
        """Close ccxt's aiohttp session (keep-alive connections are reused until then)."""
        with contextlib.suppress(*_FOREIGN):  # closing must not fail a command that otherwise succeeded
            await self._ex.close()
