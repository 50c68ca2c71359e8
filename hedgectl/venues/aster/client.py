"""Aster futures raw REST client: one method per endpoint, wire dicts in and out, errors mapped once.

Two auth generations share every business endpoint; only the path prefix and the signer differ:
V3 (API wallet, EIP-712, `/fapi/v3/*`) when user, signer and private key are configured, else V1
(legacy HMAC keys, `/fapi/v1/*` and `/fapi/v2/*`).

Reads go through `retry_read`. Writes never do: a write whose outcome is unknown (timeout after the
request left, dropped connection, HTTP 5xx, an "execution status unknown" code) raises
AmbiguousOrderState so the adapter can look the order up by client order id.

Every request is prepared (rate-limit tokens, clock offset, signature, the httpx.Request itself) before it
is sent, so an order can be prepared ahead (`prepare_order_post`) and its send (`send_order_post`) is
httpx's `send` alone: nothing is parsed, merged or signed between the two legs' socket writes.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from json import JSONDecodeError
from typing import Any

import httpx

from hedgectl.errors import (
    AmbiguousOrderState,
    AuthError,
    BadResponse,
    InsufficientFunds,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    SymbolNotListed,
    Unavailable,
    VenueError,
)
from hedgectl.venues.aster import auth
from hedgectl.venues.aster.auth import Keys, V3Keys
from hedgectl.venues.aster.parse import parse_server_time_ms
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.host_guard import ensure_allowed
from hedgectl.venues.kit.rate_limit import RateLimiter
from hedgectl.venues.kit.retry import Sleep, retry_read
from hedgectl.venues.kit.time_offset import TimeOffset
from hedgectl.venues.kit.transport import describe_transport
from hedgectl.venues.kit.wire import error_code

VENUE = "aster"
Params = list[tuple[str, str]]

V1_PATHS = {
    "time": "/fapi/v1/time",
    "exchangeInfo": "/fapi/v1/exchangeInfo",
    "depth": "/fapi/v1/depth",
    "bookTicker": "/fapi/v1/ticker/bookTicker",
    "ticker24hr": "/fapi/v1/ticker/24hr",
    "premiumIndex": "/fapi/v1/premiumIndex",
    "fundingInfo": "/fapi/v1/fundingInfo",
    "order": "/fapi/v1/order",
    "openOrders": "/fapi/v1/openOrders",
    "allOpenOrders": "/fapi/v1/allOpenOrders",
    "positionRisk": "/fapi/v2/positionRisk",
    "balance": "/fapi/v2/balance",
    "userTrades": "/fapi/v1/userTrades",
    "income": "/fapi/v1/income",
    "listenKey": "/fapi/v1/listenKey",
    "positionSide/dual": "/fapi/v1/positionSide/dual",
}
V3_PATHS = {name: "/fapi/v3/" + path.split("/", 3)[3] for name, path in V1_PATHS.items()}

_AUTH = {-1022: "invalid signature", -2014: "API key format invalid", -2015: "invalid API key, IP or permissions"}
_FUNDS = {-2018, -2019}
_NOT_FOUND = {-2011, -2013}
_REJECTED = {-1102, -1111, -1116, -1117, -2010, -2020, -2021, -2022, -2024, -2025, -4003, -4014, -4023, -4131, -4164}
_REJECTED |= {-5021, -5022}
_CLOCK = {-1021, -4225}  # timestamp outside recvWindow (V1), nonce expired (V3): re-measure and resend once
_UNKNOWN_OUTCOME = {-1000, -1006, -1007}  # the venue says it does not know whether it executed
_BUSY = {-1001, -1008}


class Kind(StrEnum):
    """How a failed request is classified: a read can be retried; a write's outcome may be unknown."""

    READ = "read"
    WRITE = "write"


class NonceSource:
    """V3 nonces: µs, strictly increasing within the process (Aster rejects any of its last 100 nonces)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self, now_us: int) -> int:
        with self._lock:
            self._last = max(now_us, self._last + 1)
            return self._last


PROCESS_NONCES = NonceSource()


@dataclass(frozen=True, slots=True)
class PreparedCall:
    """One request, built and signed but not sent, with what it takes to sign it again (after a clock refusal)."""

    method: str
    name: str
    params: Params
    signed: bool
    kind: Kind
    cost: float
    order: bool
    http: httpx.Request


class _ClockRejected(Exception):
    """-1021 / -4225: the venue refused the timestamp or nonce before acting on the request."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(code)
        self.code = code
        self.msg = msg


def _venue_message(payload: Any) -> tuple[int | None, str]:
    # Aster sends `code` as a number or a string ({"code": "-2011"}); both map the same way.
    code = error_code(payload)
    if code is not None:
        msg = payload.get("msg")
        return code, (msg if isinstance(msg, str) else "")[:200]
    return None, ""


def map_error(status: int, code: int | None, msg: str, kind: Kind) -> VenueError:
    """Translate one Aster error reply ({"code": -XXXX, "msg"} and/or an HTTP status) into the taxonomy."""
    text = f"HTTP {status}: {msg}" if msg else f"HTTP {status}"
    code_text = str(code) if code is not None else None
    if status == 418:
        return RateLimited(VENUE, f"IP banned for exceeding rate limits: {text}", code=code_text)
    if status == 429 or code == -1003:
        return RateLimited(VENUE, f"rate limited: {text}", code=code_text)
    if code in _AUTH:
        return AuthError(VENUE, f"{_AUTH[code]}: {text}", code=code_text)
    if code == -1021:
        return AuthError(VENUE, f"timestamp rejected even after re-syncing the clock: {text}", code=code_text)
    if code == -4225:
        return AuthError(VENUE, f"nonce rejected even after re-syncing the clock: {text}", code=code_text)
    if code in _FUNDS:
        return InsufficientFunds(VENUE, text, code=code_text)
    if code in _NOT_FOUND:
        return OrderNotFound(VENUE, text, code=code_text)
    if code == -1121:
        return SymbolNotListed(VENUE, text, code=code_text)
    if code in _REJECTED:
        return OrderRejected(VENUE, text, code=code_text)
    if status >= 500 or code in _UNKNOWN_OUTCOME:
        if kind is Kind.WRITE:
            return AmbiguousOrderState(VENUE, f"outcome unknown ({text})", code=code_text)
        return Unavailable(VENUE, f"server error: {text}", code=code_text)
    if code in _BUSY:
        return Unavailable(VENUE, f"busy: {text}", code=code_text)
    if status in (401, 403):
        return AuthError(VENUE, f"forbidden: {text}", code=code_text)
    if code is not None:
        if kind is Kind.WRITE:
            return OrderRejected(VENUE, text, code=code_text)
        return VenueError(VENUE, text, code=code_text)
    return BadResponse(VENUE, f"HTTP {status} without an error code")


def decode_response(response: httpx.Response, kind: Kind) -> Any:
    """Return the JSON of a successful reply; raise the mapped error for anything else."""
    status = response.status_code
    try:
        payload = json.loads(response.content, parse_float=Decimal)  # no figure passes through a float
    except (JSONDecodeError, UnicodeDecodeError):
        payload = None
    code, msg = _venue_message(payload)
    if code in _CLOCK:
        raise _ClockRejected(code, msg)
    if status >= 400 or (code is not None and code < 0):
        raise map_error(status, code, msg, kind)
    if payload is None:
        kind_of = response.headers.get("content-type", "no content type").split(";")[0]
        what = "an empty reply" if not response.content else f"a non-JSON reply ({kind_of})"
        raise BadResponse(VENUE, f"HTTP {status} with {what}")
    return payload


class AsterClient:
    """Aster's REST endpoints over one keep-alive httpx.AsyncClient, signed with V1 or V3 keys."""

    def __init__(
        self,
        config: VenueConfig,
        keys: Keys,
        *,
        http: httpx.AsyncClient | None = None,
        nonces: NonceSource = PROCESS_NONCES,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._config = config
        self._keys = keys
        self._base = config.base_url.rstrip("/")
        self._paths = V3_PATHS if isinstance(keys, V3Keys) else V1_PATHS
        self._timeout = httpx.Timeout(config.timeout_s)
        self._http = http or httpx.AsyncClient(timeout=self._timeout, headers=config.headers)
        self._nonces = nonces
        self._sleep = sleep
        self._offset = TimeOffset()
        self._offset_measured = False
        self._offset_lock = asyncio.Lock()
        # Aster's published limits, per IP: REQUEST_WEIGHT 2400/min, ORDERS 1200/min.
        self._weight = RateLimiter(rate_per_s=40, burst=400)
        self._order_rate = RateLimiter(rate_per_s=20, burst=100)

    @property
    def scheme(self) -> str:
        return "v3" if isinstance(self._keys, V3Keys) else "v1"

    def __repr__(self) -> str:
        return f"AsterClient(base_url={self._base!r}, auth={self.scheme})"

    async def close(self) -> None:
        await self._http.aclose()

    @property
    def offset_ms(self) -> int:
        return self._offset.offset_ms

    # --- public market data -------------------------------------------------------------------

    async def get_time(self) -> Any:
        """GET /fapi/v{1,3}/time"""
        return await self._read("time", [])

    async def get_exchange_info(self) -> Any:
        """GET /fapi/v{1,3}/exchangeInfo"""
        return await self._read("exchangeInfo", [], cost=1)

    async def get_depth(self, symbol: str, limit: int) -> Any:
        """GET /fapi/v{1,3}/depth"""
        cost = 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20
        return await self._read("depth", [("symbol", symbol), ("limit", str(limit))], cost=cost)

    async def get_book_ticker(self, symbol: str) -> Any:
        """GET /fapi/v{1,3}/ticker/bookTicker"""
        return await self._read("bookTicker", [("symbol", symbol)])

    async def get_ticker_24hr(self, symbol: str) -> Any:
        """GET /fapi/v{1,3}/ticker/24hr"""
        return await self._read("ticker24hr", [("symbol", symbol)])

    async def get_premium_index(self, symbol: str) -> Any:
        """GET /fapi/v{1,3}/premiumIndex"""
        return await self._read("premiumIndex", [("symbol", symbol)])

    async def get_funding_info(self) -> Any:
        """GET /fapi/v{1,3}/fundingInfo"""
        return await self._read("fundingInfo", [])

    # --- signed -------------------------------------------------------------------------------

    async def prepare_order_post(self, params: Params) -> PreparedCall:
        """Take the rate-limit tokens, sign and build POST /fapi/v{1,3}/order; nothing is sent.

        The signature carries a timestamp (V1, recvWindow) or a nonce (V3): send it at once, never keep it.
        """
        return await self._prepare("POST", "order", params, signed=True, kind=Kind.WRITE, order=True)

    async def send_order_post(self, call: PreparedCall) -> Any:
        """Send a prepared POST /fapi/v{1,3}/order — an unknown outcome raises AmbiguousOrderState, never a resend.

        The one resend is after -1021/-4225 (signed anew), a refusal that proves the order was not accepted.
        """
        return await self._complete(call)

    async def post_order(self, params: Params) -> Any:
        """POST /fapi/v{1,3}/order: prepare_order_post, then send_order_post."""
        return await self.send_order_post(await self.prepare_order_post(params))

    async def get_order(self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None) -> Any:
        """GET /fapi/v{1,3}/order"""
        return await self._read("order", _order_ref(symbol, order_id, client_order_id), signed=True)

    async def get_order_once(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Any:
        """GET /fapi/v{1,3}/order, without retries (the caller runs its own reconciliation loop)."""
        params = _order_ref(symbol, order_id, client_order_id)
        return await self._request("GET", "order", params, signed=True, kind=Kind.READ)

    async def delete_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Any:
        """DELETE /fapi/v{1,3}/order"""
        params = _order_ref(symbol, order_id, client_order_id)
        return await self._request("DELETE", "order", params, signed=True, kind=Kind.WRITE)

    async def get_open_orders(self, symbol: str | None = None) -> Any:
        """GET /fapi/v{1,3}/openOrders"""
        params = [("symbol", symbol)] if symbol else []
        return await self._read("openOrders", params, signed=True, cost=1 if symbol else 40)

    async def delete_all_open_orders(self, symbol: str) -> Any:
        """DELETE /fapi/v{1,3}/allOpenOrders"""
        return await self._request("DELETE", "allOpenOrders", [("symbol", symbol)], signed=True, kind=Kind.WRITE)

    async def get_position_risk(self, symbol: str | None = None) -> Any:
        """GET /fapi/v2/positionRisk (V1) or /fapi/v3/positionRisk (V3)"""
        params = [("symbol", symbol)] if symbol else []
        return await self._read("positionRisk", params, signed=True, cost=5)

    async def get_position_mode(self) -> Any:
        """GET /fapi/v1/positionSide/dual (V1) or /fapi/v3/positionSide/dual (V3)"""
        return await self._read("positionSide/dual", [], signed=True, cost=30)

    async def get_balance(self) -> Any:
        """GET /fapi/v2/balance (V1) or /fapi/v3/balance (V3)"""
        return await self._read("balance", [], signed=True, cost=5)

    async def get_user_trades(
        self, symbol: str, *, order_id: str | None = None, start_time_ms: int | None = None, limit: int = 1000
    ) -> Any:
        """GET /fapi/v{1,3}/userTrades"""
        params: Params = [("symbol", symbol)]
        if order_id is not None:
            params.append(("orderId", order_id))
        if start_time_ms is not None:
            params.append(("startTime", str(start_time_ms)))
        params.append(("limit", str(limit)))
        return await self._read("userTrades", params, signed=True, cost=5)

    async def get_income(
        self,
        *,
        income_type: str,
        symbol: str | None = None,
        start_time_ms: int | None = None,
        end_time_ms: int | None = None,
        limit: int = 1000,
    ) -> Any:
        """GET /fapi/v{1,3}/income: ascending by time, the first `limit` rows from startTime"""
        params: Params = [("incomeType", income_type)]
        if symbol is not None:
            params.append(("symbol", symbol))
        if start_time_ms is not None:
            params.append(("startTime", str(start_time_ms)))
        if end_time_ms is not None:
            params.append(("endTime", str(end_time_ms)))
        params.append(("limit", str(limit)))
        return await self._read("income", params, signed=True, cost=30)

    # --- user data stream (aster/stream.py) ----------------------------------------------------

    async def post_listen_key(self) -> Any:
        """POST /fapi/v1/listenKey (V1: API-key header only) or /fapi/v3/listenKey (V3: signed)"""
        return await self._request("POST", "listenKey", [], signed=self.scheme == "v3", kind=Kind.READ)

    async def put_listen_key(self) -> Any:
        """PUT /fapi/v1/listenKey or /fapi/v3/listenKey: the key lives 60 more minutes"""
        return await self._request("PUT", "listenKey", [], signed=self.scheme == "v3", kind=Kind.READ)

    # --- plumbing -----------------------------------------------------------------------------

    async def _read(self, name: str, params: Params, *, signed: bool = False, cost: float = 1) -> Any:
        def call() -> Coroutine[Any, Any, Any]:
            return self._request("GET", name, params, signed=signed, kind=Kind.READ, cost=cost)

        return await retry_read(call, sleep=self._sleep)

    async def _request(
        self,
        method: str,
        name: str,
        params: Params,
        *,
        signed: bool,
        kind: Kind,
        cost: float = 1,
        order: bool = False,
    ) -> Any:
        call = await self._prepare(method, name, params, signed=signed, kind=kind, cost=cost, order=order)
        return await self._complete(call)

    async def _complete(self, call: PreparedCall) -> Any:
        """Send a prepared call; after -1021 / -4225, sign it anew and send it once more."""
        try:
            return await self._exchange(call)
        except _ClockRejected:
            # -1021 / -4225 mean the venue refused before acting, so resending (re-signed) is safe.
            await self._measure_offset(force=True)
        again = await self._prepare(
            call.method, call.name, call.params, signed=call.signed, kind=call.kind, cost=call.cost, order=call.order
        )
        try:
            return await self._exchange(again)
        except _ClockRejected as exc:
            raise map_error(400, exc.code, exc.msg, call.kind) from None

    async def _prepare(
        self, method: str, name: str, params: Params, *, signed: bool, kind: Kind, cost: float = 1, order: bool = False
    ) -> PreparedCall:
        """Rate-limit tokens, clock offset, host guard, signature and the httpx.Request; nothing is sent."""
        await self._weight.acquire(cost)
        if order:
            await self._order_rate.acquire()
        if signed:
            await self._measure_offset(force=False)
        url = self._base + self._paths[name]
        ensure_allowed(url, self._config.base_url, venue=VENUE)
        if signed:
            signed_request = self._sign(params)
        else:
            signed_request = auth.SignedRequest(auth.encode_params(params), self._key_header(name))
        headers = dict(signed_request.headers)
        body: str | None = None
        if self._in_body(method):
            body = signed_request.params
            headers["Content-Type"] = auth.FORM_CONTENT_TYPE
        elif signed_request.params:
            url = f"{url}?{signed_request.params}"
        request = self._http.build_request(method, url, content=body, headers=headers, timeout=self._timeout)
        return PreparedCall(method, name, params, signed, kind, cost, order, request)

    async def _exchange(self, call: PreparedCall) -> Any:
        """One HTTP exchange of a prepared call, its reply decoded or its failure mapped."""
        try:
            response = await self._http.send(call.http)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # The request never left: nothing can have happened at the venue.
            raise Unavailable(VENUE, f"cannot connect to {self._base}: {describe_transport(exc)}") from exc
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            what = f"no reply to {call.method} {self._paths[call.name]} ({describe_transport(exc)})"
            if call.kind is Kind.WRITE:
                raise AmbiguousOrderState(VENUE, what) from exc
            raise Unavailable(VENUE, what) from exc
        except httpx.HTTPError as exc:
            raise BadResponse(VENUE, f"unusable reply ({type(exc).__name__})") from exc
        return decode_response(response, call.kind)

    def _in_body(self, method: str) -> bool:
        # V3 puts POST and DELETE params in a form body (Aster's V3 doc, ccxt); V1 follows Binance,
        # where DELETE carries them in the query (ccxt's binance does the same).
        if method == "POST":
            return True
        return method == "DELETE" and isinstance(self._keys, V3Keys)

    def _key_header(self, name: str) -> dict[str, str]:
        # USER_STREAM endpoints take a V1 key in its header, unsigned (V3 signs them like the rest).
        if name == "listenKey" and not isinstance(self._keys, V3Keys):
            return {auth.API_KEY_HEADER: self._keys.api_key.get_secret_value()}
        return {}

    def _sign(self, params: Params) -> auth.SignedRequest:
        if isinstance(self._keys, V3Keys):
            return auth.sign_v3(
                params,
                nonce_us=self._nonces.next(self._offset.now_us()),
                user=self._keys.user,
                signer=self._keys.signer,
                private_key=self._keys.private_key.get_secret_value(),
                chain_id=self._keys.chain_id,
            )
        return auth.sign_v1(
            self._keys.api_key.get_secret_value(),
            self._keys.api_secret.get_secret_value(),
            params,
            timestamp_ms=self._offset.now_ms(),
            recv_window_ms=self._config.recv_window_ms,
        )

    async def _measure_offset(self, *, force: bool) -> None:
        if self._offset_measured and not force:
            return
        async with self._offset_lock:
            if self._offset_measured and not force:
                return

            async def server_ms() -> int:
                return parse_server_time_ms(await self.get_time())

            await self._offset.measure(server_ms)
            self._offset_measured = True

    async def measure_offset(self) -> int:
        """Re-measure the server-time offset now; return it in ms."""
        await self._measure_offset(force=True)
        return self._offset.offset_ms


def _order_ref(symbol: str, order_id: str | None, client_order_id: str | None) -> Params:
    if order_id is not None:
        return [("symbol", symbol), ("orderId", order_id)]
    if client_order_id is not None:
        return [("symbol", symbol), ("origClientOrderId", client_order_id)]
    raise ValueError("order_id or client_order_id is required")
