"""Backpack's REST endpoints as they are on the wire: one method per route, JSON in, JSON out.

The transport is the kit's seam (`venues/kit/http.py`): it maps httpx failures, decodes JSON and guards the
host; this module adds the ED25519 signature and translates Backpack's `{"code", "message"}` replies. GETs
are retried with backoff (`kit.retry`); anything that changes state is never retried here. A request whose
outcome is unknown (timeout after sending, dropped connection, 5xx) raises AmbiguousOrderState for a
mutation and Unavailable for a read.

Every request takes its rate-limit token, is signed and is built into an httpx.Request before it is sent,
so an order can be prepared ahead (`prepare_order_post`) and its send (`send_order_post`) is httpx's `send`
alone: no URL parsing, header merging or signing between the two legs' socket writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.errors import (
    AmbiguousOrderState,
    AuthError,
    BadResponse,
    ConfigError,
    InsufficientFunds,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    SymbolNotListed,
    Unavailable,
    VenueError,
)
from hedgectl.venues.backpack import auth
from hedgectl.venues.backpack.parse import parse_error, parse_server_time
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.http import HttpSeam, json_body
from hedgectl.venues.kit.retry import retry_read
from hedgectl.venues.kit.time_offset import TimeOffset
from hedgectl.venues.kit.transport import Kind

VENUE = "backpack"
Sleep = Callable[[float], Awaitable[None]]
Query = Mapping[str, str | int | bool]

# ccxt assumes 20 requests/s for Backpack; the docs publish no figure.
RATE_PER_S = 20.0
BURST = 20

_AUTH = {"INVALID_SIGNATURE", "UNAUTHORIZED", "FORBIDDEN", "ACCOUNT_DEACTIVATED"}
_FUNDS = {"INSUFFICIENT_FUNDS", "INSUFFICIENT_MARGIN", "MAX_LEVERAGE_REACHED"}
_REJECTED = {
    "INVALID_ORDER",
    "INVALID_PRICE",
    "INVALID_QUANTITY",
    "INVALID_CLIENT_REQUEST",
    "POSITION_LIMIT",
    "ORDER_LIMIT",
    "ACCOUNT_LIQUIDATING",
    "PRECONDITION_FAILED",
}
_SYMBOL = {"INVALID_MARKET", "INVALID_SYMBOL"}
_DOWN = {"MAINTENANCE", "TRADING_PAUSED"}  # the venue said so: the request did not take effect
_UNKNOWN_OUTCOME = {"SERVER_ERROR", "TIMEOUT"}
ORDER_PATH = "/api/v1/order"
_ORDER_ROUTES = {ORDER_PATH, "/api/v1/orders"}
_MARKET_ROUTES = {"/api/v1/market", "/api/v1/ticker", "/api/v1/depth", "/api/v1/markPrices"}
_DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)


def depth_limit(depth: int) -> int:
    """The smallest limit Backpack accepts that covers `depth` levels."""
    return next((limit for limit in _DEPTH_LIMITS if depth <= limit), _DEPTH_LIMITS[-1])


def map_error(status: int, body: bytes, method: str, path: str) -> VenueError:
    """Translate one non-2xx reply into the error taxonomy (most specific first)."""
    parsed = parse_error(body)
    mutation = method != "GET"
    if parsed is None:
        return _map_status_only(status, body, mutation)
    code, message = parsed
    text = f"HTTP {status}: {message[:200]}" if message else f"HTTP {status}"
    if code in _AUTH:
        return AuthError(VENUE, text, code=code)
    if code in _FUNDS:
        return InsufficientFunds(VENUE, text, code=code)
    if code in _SYMBOL:
        return SymbolNotListed(VENUE, text, code=code)
    if code in _REJECTED:
        return OrderRejected(VENUE, text, code=code)
    if code == "TOO_MANY_REQUESTS" or status == 429:
        return RateLimited(VENUE, text, code=code)
    if code == "RESOURCE_NOT_FOUND" or status == 404:
        if path in _ORDER_ROUTES:
            return OrderNotFound(VENUE, text, code=code)
        if path in _MARKET_ROUTES:
            return SymbolNotListed(VENUE, text, code=code)
        return BadResponse(VENUE, f"{path} not found: {text}", code=code)
    if code in _DOWN:
        return Unavailable(VENUE, text, code=code)
    if code in _UNKNOWN_OUTCOME or status >= 500:
        if mutation:
            return AmbiguousOrderState(VENUE, f"{method} {path} failed with HTTP {status}: {text}", code=code)
        return Unavailable(VENUE, text, code=code)
    if mutation and path in _ORDER_ROUTES:
        return OrderRejected(VENUE, text, code=code)
    return VenueError(VENUE, text, code=code)


def _map_status_only(status: int, body: bytes, mutation: bool) -> VenueError:
    # Plain-text or HTML error bodies (a proxy, a parse error): only unambiguous statuses say more than that.
    snippet = " ".join(body.decode("utf-8", errors="replace").split())[:120]
    if status in (401, 403):
        return AuthError(VENUE, f"HTTP {status}: {snippet}")
    if status == 429:
        return RateLimited(VENUE, f"HTTP 429: {snippet}")
    if status == 503 and not mutation:
        return Unavailable(VENUE, f"HTTP 503: {snippet}")
    if status >= 500:
        if mutation:
            return AmbiguousOrderState(VENUE, f"HTTP {status} after the request was sent: {snippet}")
        return Unavailable(VENUE, f"HTTP {status}: {snippet}")
    return BadResponse(VENUE, f"HTTP {status} with a reply that is not a Backpack error: {snippet!r}")


class BackpackClient:
    """Raw Backpack REST client on the kit's seam (keep-alive, host guard, rate limit, clock offset) + signing."""

    def __init__(
        self,
        config: VenueConfig,
        *,
        sleep: Sleep = SYSTEM_CLOCK.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._sleep = sleep
        self._seam = HttpSeam(
            config, rate_per_s=RATE_PER_S, burst=BURST, server_time_ms=self.get_time, transport=transport
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """The one keep-alive HTTP client (every request it sends passes the host guard)."""
        return self._seam.http

    @property
    def offset(self) -> TimeOffset:
        """The venue clock's offset from ours (measured on the first signed request)."""
        return self._seam.offset

    async def aclose(self) -> None:
        await self._seam.close()

    # --- transport ------------------------------------------------------------------------------------

    async def _build(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Mapping[str, object] | Sequence[Mapping[str, object]] | None = None,
        signed: bool = False,
    ) -> httpx.Request:
        """The request as it will be sent (its rate-limit token taken, then signed when asked); nothing is sent."""
        await self._seam.acquire()  # before signing: a wait for a token never eats into the X-Window
        headers: dict[str, str] = {}
        content = json_body(body) if body is not None else None
        if body is not None:
            headers["Content-Type"] = "application/json"
        if signed:
            headers.update(await self._signature(method, path, query if body is None else body))
        params = {k: auth.wire_value(v) for k, v in sorted((query or {}).items())}
        return self._seam.build(method, path, query=params, body=content, headers=headers)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Mapping[str, object] | Sequence[Mapping[str, object]] | None = None,
        signed: bool = False,
        allow_404: bool = False,
    ) -> httpx.Response | None:
        request = await self._build(method, path, query=query, body=body, signed=signed)
        return await self._exchange(request, path, allow_404=allow_404)

    async def _exchange(self, request: httpx.Request, path: str, *, allow_404: bool = False) -> httpx.Response | None:
        """Send one built request, once (the seam maps transport failures); map a Backpack error reply."""
        method = request.method
        kind = Kind.READ if method == "GET" else Kind.WRITE
        response = await self._seam.exchange(request, kind, f"{method} {path}")
        if allow_404 and response.status_code == 404:
            return None
        if not 200 <= response.status_code < 300:
            raise map_error(response.status_code, response.content, method, path)
        return response

    async def _signature(
        self, method: str, path: str, params: Query | Mapping[str, object] | Sequence[Mapping[str, object]] | None
    ) -> dict[str, str]:
        instruction = auth.INSTRUCTIONS.get((method, path))
        if instruction is None:
            raise ConfigError(f"{VENUE}: no signing instruction for {method} {path}")
        if not self._config.has("api_key", "api_secret"):
            raise ConfigError(f"{VENUE}: api_key and api_secret are needed for {method} {path}")
        return auth.signed_headers(
            self._config.secret("api_secret"),
            instruction,
            params,
            await self._seam.now_ms(),
            self._config.recv_window_ms,
        )

    async def measure_offset(self) -> int:
        """Measure and store the venue clock offset (ms to add to ours)."""
        return await self._seam.measure_offset()

    async def _json(self, method: str, path: str, *, on_404: object = None, **kwargs: Any) -> object:
        response = await self._send(method, path, allow_404=on_404 is not None, **kwargs)
        return on_404 if response is None else self._seam.decode_json(response.content)

    async def _get(
        self, path: str, query: Query | None = None, *, signed: bool = False, on_404: object = None
    ) -> object:
        return await retry_read(
            lambda: self._json("GET", path, query=query, signed=signed, on_404=on_404), sleep=self._sleep
        )

    # --- public ---------------------------------------------------------------------------------------

    async def get_time(self) -> int:
        """GET /api/v1/time: epoch ms as text/plain."""

        async def once() -> int:
            response = await self._send("GET", "/api/v1/time")
            return parse_server_time(response.content if response is not None else b"")

        return await retry_read(once, sleep=self._sleep)

    async def get_markets(self) -> object:
        """GET /api/v1/markets?marketType=PERP."""
        return await self._get("/api/v1/markets", {"marketType": "PERP"})

    async def get_market(self, symbol: str) -> object:
        """GET /api/v1/market?symbol=."""
        return await self._get("/api/v1/market", {"symbol": symbol})

    async def get_ticker(self, symbol: str) -> object:
        """GET /api/v1/ticker?symbol=."""
        return await self._get("/api/v1/ticker", {"symbol": symbol})

    async def get_depth(self, symbol: str, limit: int = 5) -> object:
        """GET /api/v1/depth?symbol=&limit= (limit rounded up to one Backpack accepts)."""
        return await self._get("/api/v1/depth", {"symbol": symbol, "limit": depth_limit(limit)})

    async def get_klines(self, symbol: str, interval: str, start_s: int) -> object:
        """GET /api/v1/klines?symbol=&interval=&startTime= (seconds; oldest first, up to now)."""
        return await self._get("/api/v1/klines", {"symbol": symbol, "interval": interval, "startTime": start_s})

    async def get_mark_prices(self, symbol: str | None = None) -> object:
        """GET /api/v1/markPrices[?symbol=]."""
        return await self._get("/api/v1/markPrices", {"symbol": symbol} if symbol else None)

    # --- orders ---------------------------------------------------------------------------------------

    async def prepare_order_post(self, body: Mapping[str, object]) -> httpx.Request:
        """Build and sign POST /api/v1/order (orderExecute) and take its rate-limit token; nothing is sent.

        The signature is good for X-Window ms after X-Timestamp: send it at once (send_order_post), never keep it.
        """
        return await self._build("POST", ORDER_PATH, body=body, signed=True)

    async def send_order_post(self, request: httpx.Request) -> object:
        """Send a prepared POST /api/v1/order once. Never retried; an unreadable 2xx reply is AmbiguousOrderState."""
        response = await self._exchange(request, ORDER_PATH)
        try:
            return self._seam.decode_json(response.content if response is not None else b"")
        except BadResponse as exc:
            raise AmbiguousOrderState(VENUE, f"the order reply is unreadable: {exc.reason}") from exc

    async def post_order(self, body: Mapping[str, object]) -> object:
        """POST /api/v1/order (orderExecute): prepare_order_post then send_order_post."""
        return await self.send_order_post(await self.prepare_order_post(body))

    async def delete_order(self, symbol: str, *, order_id: str | None = None, client_id: int | None = None) -> object:
        """DELETE /api/v1/order (orderCancel) by orderId or clientId."""
        return await self._json("DELETE", "/api/v1/order", body=_one_id(symbol, order_id, client_id), signed=True)

    async def get_order(self, symbol: str, *, order_id: str | None = None, client_id: int | None = None) -> object:
        """GET /api/v1/order (orderQuery): a resting order; OrderNotFound (404) once it is not on the book."""
        return await self._get("/api/v1/order", _one_id(symbol, order_id, client_id), signed=True)

    async def get_open_orders(self, symbol: str | None = None) -> object:
        """GET /api/v1/orders (orderQueryAll) for perps."""
        query: dict[str, str] = {"marketType": "PERP"}
        if symbol:
            query["symbol"] = symbol
        return await self._get("/api/v1/orders", query, signed=True)

    async def delete_orders(self, symbol: str) -> object:
        """DELETE /api/v1/orders (orderCancelAll) for one symbol."""
        return await self._json("DELETE", "/api/v1/orders", body={"symbol": symbol}, signed=True)

    async def get_order_history(
        self, *, symbol: str | None = None, order_id: str | None = None, limit: int | None = None
    ) -> object:
        """GET /wapi/v1/history/orders (orderHistoryQueryAll): filled, cancelled and expired orders, newest first."""
        query: dict[str, str | int] = {"marketType": "PERP", "sortDirection": "Desc"}
        if symbol:
            query["symbol"] = symbol
        if order_id:
            query["orderId"] = order_id
        if limit:
            query["limit"] = limit
        return await self._get("/wapi/v1/history/orders", query, signed=True)

    async def get_fills(
        self,
        *,
        symbol: str | None = None,
        order_id: str | None = None,
        from_ms: int | None = None,
        limit: int | None = None,
    ) -> object:
        """GET /wapi/v1/history/fills?fillType=User (fillHistoryQueryAll): our own fills only."""
        query: dict[str, str | int] = {"fillType": "User", "marketType": "PERP"}
        if symbol:
            query["symbol"] = symbol
        if order_id:
            query["orderId"] = order_id
        if from_ms is not None:
            query["from"] = from_ms
        if limit:
            query["limit"] = limit
        return await self._get("/wapi/v1/history/fills", query, signed=True)

    # --- account --------------------------------------------------------------------------------------

    async def get_positions(self, symbol: str | None = None) -> object:
        """GET /api/v1/position (positionQuery); a 404 means no open position: []."""
        query = {"symbol": symbol} if symbol else None
        return await self._get("/api/v1/position", query, signed=True, on_404=[])

    async def get_account(self) -> object:
        """GET /api/v1/account (accountQuery): settings, limits and the account's fee tier."""
        return await self._get("/api/v1/account", signed=True)

    async def get_capital(self) -> object:
        """GET /api/v1/capital (balanceQuery): spot-style balances per asset."""
        return await self._get("/api/v1/capital", signed=True)

    async def get_collateral(self) -> object:
        """GET /api/v1/capital/collateral (collateralQuery): margin collateral and equity."""
        return await self._get("/api/v1/capital/collateral", signed=True)

    async def get_funding_history(
        self,
        *,
        symbol: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        sort_direction: str | None = None,
    ) -> object:
        """GET /wapi/v1/history/funding (fundingHistoryQueryAll): funding payments, newest first by default."""
        query: dict[str, str | int] = {}
        if symbol:
            query["symbol"] = symbol
        if limit:
            query["limit"] = limit
        if offset:
            query["offset"] = offset
        if sort_direction:
            query["sortDirection"] = sort_direction
        return await self._get("/wapi/v1/history/funding", query or None, signed=True)


def _one_id(symbol: str, order_id: str | None, client_id: int | None) -> dict[str, str | int]:
    # Backpack takes exactly one of orderId / clientId.
    if order_id is not None and client_id is None:
        return {"symbol": symbol, "orderId": order_id}
    if client_id is not None and order_id is None:
        return {"symbol": symbol, "clientId": client_id}
    raise ValueError("give exactly one of order_id and client_id")
