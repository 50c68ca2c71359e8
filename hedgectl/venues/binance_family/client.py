"""The Binance family's raw REST client (Binance USDⓈ-M, Aster): one method per endpoint, wire in and out.

A venue and auth generation differ only in their paths table, their signer and their rate limits; every
business endpoint, the error map (`errors.py`), the clock offset, the rate limiter, the host guard and the
prepared-request split are the same. Binance: HMAC (`auth.sign_binance`), `/fapi/v1`..`/fapi/v3` per
endpoint. Aster: V1 HMAC on `/fapi/v1|v2`, or V3 EIP-712 on `/fapi/v3` (aster/auth.py).

All transport is the kit's seam (`kit/http.py`: keep-alive client, host guard, rate limits, clock offset,
build-then-send, the httpx exception map); reads are retried by `kit.retry` on the error's action. Writes
never are: a write whose outcome is unknown (timeout after the request left, dropped connection, HTTP 5xx,
an "execution status unknown" code) raises AmbiguousOrderState, and the adapter looks the order up by client
order id (`kit.placement`). The one resend is after -1021/-4225 (clock refused: the venue did not act),
signed anew.

Every request is prepared (rate-limit tokens, clock offset, signature, the httpx.Request itself) before it
is sent, so an order can be prepared ahead (`prepare_order_post`) and its send (`send_order_post`) is
httpx's `send` alone: nothing is parsed, merged or signed between two legs' socket writes.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.errors import ConfigError
from hedgectl.venues.binance_family import auth
from hedgectl.venues.binance_family.auth import Params, SignedRequest
from hedgectl.venues.binance_family.errors import ClockRejected, clock_refused, decode_response, map_error
from hedgectl.venues.binance_family.parse import FamilyParser, order_ref
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.http import HttpSeam
from hedgectl.venues.kit.retry import Sleep, retry_read
from hedgectl.venues.kit.time_offset import TimeOffset
from hedgectl.venues.kit.transport import Kind

# Endpoint name -> path below the REST base. Binance: v3 positions/account (v2 positionRisk for the
# leverage and margin type that v3 dropped), v1 for the rest.
BINANCE_PATHS: dict[str, str] = {
    "time": "/fapi/v1/time",
    "exchangeInfo": "/fapi/v1/exchangeInfo",
    "depth": "/fapi/v1/depth",
    "klines": "/fapi/v1/klines",
    "bookTicker": "/fapi/v1/ticker/bookTicker",
    "ticker24hr": "/fapi/v1/ticker/24hr",
    "premiumIndex": "/fapi/v1/premiumIndex",
    "fundingInfo": "/fapi/v1/fundingInfo",
    "order": "/fapi/v1/order",
    "openOrders": "/fapi/v1/openOrders",
    "allOpenOrders": "/fapi/v1/allOpenOrders",
    "positionRisk": "/fapi/v3/positionRisk",
    "positionRiskConfig": "/fapi/v2/positionRisk",
    "account": "/fapi/v3/account",
    "balance": "/fapi/v2/balance",
    "userTrades": "/fapi/v1/userTrades",
    "income": "/fapi/v1/income",
    "commissionRate": "/fapi/v1/commissionRate",
    "listenKey": "/fapi/v1/listenKey",
    "positionSide/dual": "/fapi/v1/positionSide/dual",
}


class Signer(Protocol):
    """One auth generation: how a signed request's params are completed, and how the listen key is asked for."""

    scheme: str  # "hmac" (Binance), "v1" or "v3" (Aster)
    signs_listen_key: bool  # V3 signs USER_STREAM requests; HMAC keys send only the key header
    body_methods: frozenset[str]  # methods whose params travel in a form body (others: the query string)

    def sign(self, params: Params, clock: TimeOffset) -> SignedRequest: ...

    def key_only(self) -> SignedRequest: ...


class BinanceSigner:
    """Binance HMAC keys: `timestamp` first, `recvWindow` last, as ccxt signs (auth.sign_binance)."""

    scheme = "hmac"
    signs_listen_key = False
    body_methods = frozenset({"POST", "PUT"})

    def __init__(self, api_key: str, api_secret: str, recv_window_ms: int) -> None:
        self._key = api_key
        self._secret = api_secret
        self._recv_window_ms = recv_window_ms

    def __repr__(self) -> str:
        return "BinanceSigner(***)"

    def sign(self, params: Params, clock: TimeOffset) -> SignedRequest:
        return auth.sign_binance(
            self._key, self._secret, params, timestamp_ms=clock.now_ms(), recv_window_ms=self._recv_window_ms
        )

    def key_only(self) -> SignedRequest:
        return auth.key_header(self._key)


@dataclass(frozen=True, slots=True)
class Limits:
    """Token buckets per IP: request weight, and orders (their own bucket, so reads never delay an order)."""

    weight_per_s: float
    weight_burst: int
    orders_per_s: float
    orders_burst: int


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


class FamilyClient:
    """One account's REST endpoints over one keep-alive httpx.AsyncClient."""

    def __init__(
        self,
        venue: str,
        config: VenueConfig,
        paths: Mapping[str, str],
        signer: Signer | None,
        limits: Limits,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = SYSTEM_CLOCK.sleep,
    ) -> None:
        self.venue = venue
        self._base = config.base_url.rstrip("/")
        self._paths = dict(paths)
        self._signer = signer
        self._parse = FamilyParser(venue)
        self._sleep = sleep
        self._seam = HttpSeam(
            config,
            rate_per_s=limits.weight_per_s,
            burst=limits.weight_burst,
            order_rate_per_s=limits.orders_per_s,
            order_burst=limits.orders_burst,
            server_time_ms=self._server_time_ms,
            transport=transport,
        )

    @property
    def scheme(self) -> str:
        return self._signer.scheme if self._signer else "none"

    def __repr__(self) -> str:
        return f"FamilyClient(venue={self.venue!r}, base_url={self._base!r}, auth={self.scheme})"

    async def close(self) -> None:
        await self._seam.close()

    @property
    def offset_ms(self) -> int:
        return self._seam.offset.offset_ms

    # --- public market data -------------------------------------------------------------------

    async def get_time(self) -> Any:
        """GET time"""
        return await self._read("time", [])

    async def get_exchange_info(self) -> Any:
        """GET exchangeInfo"""
        return await self._read("exchangeInfo", [], cost=1)

    async def get_depth(self, symbol: str, limit: int) -> Any:
        """GET depth"""
        cost = 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20
        return await self._read("depth", [("symbol", symbol), ("limit", str(limit))], cost=cost)

    async def get_klines(self, symbol: str, interval: str, limit: int) -> Any:
        """GET klines (the latest `limit`, oldest first; weight by limit as the venue counts it)"""
        cost = 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10
        params = [("symbol", symbol), ("interval", interval), ("limit", str(limit))]
        return await self._read("klines", params, cost=cost)

    async def get_book_ticker(self, symbol: str) -> Any:
        """GET ticker/bookTicker"""
        return await self._read("bookTicker", [("symbol", symbol)])

    async def get_ticker_24hr(self, symbol: str) -> Any:
        """GET ticker/24hr"""
        return await self._read("ticker24hr", [("symbol", symbol)])

    async def get_premium_index(self, symbol: str) -> Any:
        """GET premiumIndex"""
        return await self._read("premiumIndex", [("symbol", symbol)])

    async def get_funding_info(self) -> Any:
        """GET fundingInfo"""
        return await self._read("fundingInfo", [])

    # --- signed -------------------------------------------------------------------------------

    async def prepare_order_post(self, params: Params) -> PreparedCall:
        """Take the rate-limit tokens, sign and build POST order; nothing is sent.

        The signature carries a timestamp (recvWindow) or a nonce (Aster V3): send it at once, never keep it.
        """
        return await self._prepare("POST", "order", params, signed=True, kind=Kind.WRITE, order=True)

    async def send_order_post(self, call: PreparedCall) -> Any:
        """Send a prepared POST order: an unknown outcome raises AmbiguousOrderState, never a resend."""
        return await self._complete(call)

    async def post_order(self, params: Params) -> Any:
        """POST order: prepare_order_post, then send_order_post."""
        return await self.send_order_post(await self.prepare_order_post(params))

    async def get_order(self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None) -> Any:
        """GET order"""
        return await self._read("order", order_ref(symbol, order_id, client_order_id), signed=True)

    async def get_order_once(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Any:
        """GET order, without retries (the caller runs its own reconciliation loop)."""
        params = order_ref(symbol, order_id, client_order_id)
        return await self._request("GET", "order", params, signed=True, kind=Kind.READ)

    async def delete_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Any:
        """DELETE order"""
        params = order_ref(symbol, order_id, client_order_id)
        return await self._request("DELETE", "order", params, signed=True, kind=Kind.WRITE)

    async def get_open_orders(self, symbol: str | None = None) -> Any:
        """GET openOrders"""
        params = [("symbol", symbol)] if symbol else []
        return await self._read("openOrders", params, signed=True, cost=1 if symbol else 40)

    async def delete_all_open_orders(self, symbol: str) -> Any:
        """DELETE allOpenOrders"""
        return await self._request("DELETE", "allOpenOrders", [("symbol", symbol)], signed=True, kind=Kind.WRITE)

    async def get_position_risk(self, symbol: str | None = None, *, endpoint: str = "positionRisk") -> Any:
        """GET positionRisk (the venue's version; `positionRiskConfig` for Binance's v2, with leverage)"""
        params = [("symbol", symbol)] if symbol else []
        return await self._read(endpoint, params, signed=True, cost=5)

    async def get_position_mode(self, *, order_path: bool = False) -> Any:
        """GET positionSide/dual (on an order's path it spends an order token, so reads never delay it)"""

        def call() -> Coroutine[Any, Any, Any]:
            return self._request("GET", "positionSide/dual", [], signed=True, kind=Kind.READ, cost=30, order=order_path)

        return await retry_read(call, sleep=self._sleep)

    async def get_balance(self) -> Any:
        """GET balance"""
        return await self._read("balance", [], signed=True, cost=5)

    async def get_account(self) -> Any:
        """GET account"""
        return await self._read("account", [], signed=True, cost=5)

    async def get_user_trades(
        self, symbol: str, *, order_id: str | None = None, start_time_ms: int | None = None, limit: int = 1000
    ) -> Any:
        """GET userTrades"""
        params: list[tuple[str, str]] = [("symbol", symbol)]
        if order_id is not None:
            params.append(("orderId", order_id))
        if start_time_ms is not None:
            params.append(("startTime", str(start_time_ms)))
        params.append(("limit", str(limit)))
        return await self._read("userTrades", params, signed=True, cost=5)

    async def get_income(
        self, *, symbol: str | None, income_type: str, start_time_ms: int, end_time_ms: int | None, limit: int
    ) -> Any:
        """GET income (one page: the oldest `limit` rows from startTime)"""
        params: list[tuple[str, str]] = [("symbol", symbol)] if symbol else []
        params += [("incomeType", income_type), ("startTime", str(start_time_ms))]
        if end_time_ms is not None:
            params.append(("endTime", str(end_time_ms)))
        params.append(("limit", str(limit)))
        return await self._read("income", params, signed=True, cost=30)

    async def get_commission_rate(self, symbol: str) -> Any:
        """GET commissionRate: the account's own maker and taker rates for one symbol"""
        return await self._read("commissionRate", [("symbol", symbol)], signed=True, cost=20)

    # --- user data stream (stream.py) ---------------------------------------------------------

    async def post_listen_key(self) -> Any:
        """POST listenKey (HMAC keys: API-key header only; Aster V3: signed)"""
        return await self._request("POST", "listenKey", [], signed=self._signs_listen_key, kind=Kind.READ)

    async def put_listen_key(self) -> Any:
        """PUT listenKey: the key lives 60 more minutes"""
        return await self._request("PUT", "listenKey", [], signed=self._signs_listen_key, kind=Kind.READ)

    @property
    def _signs_listen_key(self) -> bool:
        return self._signer is not None and self._signer.signs_listen_key

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
        """Send a prepared call (after -1021 / -4225 the seam re-measures the clock and sends it once more, signed
        anew: the venue refused before acting); decode the reply or raise its mapped error."""

        async def rebuild() -> httpx.Request:
            again = await self._prepare(
                call.method,
                call.name,
                call.params,
                signed=call.signed,
                kind=call.kind,
                cost=call.cost,
                order=call.order,
            )
            return again.http

        response = await self._seam.exchange_signed(
            call.http, call.kind, rebuild=rebuild, clock_refused=clock_refused, what=self._what(call)
        )
        try:
            return decode_response(self.venue, response, call.kind)
        except ClockRejected as exc:  # refused again, after the re-measure
            raise map_error(self.venue, 400, exc.code, exc.msg, call.kind) from None

    async def _prepare(
        self, method: str, name: str, params: Params, *, signed: bool, kind: Kind, cost: float = 1, order: bool = False
    ) -> PreparedCall:
        """Rate-limit tokens (before signing), clock offset, signature and the guarded httpx.Request; nothing sent."""
        if (signed or name == "listenKey") and self._signer is None:
            raise ConfigError(f"{self.venue}: no API credentials configured")  # before any request, the clock's too
        # An order takes an order token only: orders have their own limits and no IP weight.
        await self._seam.acquire(0 if order else cost, order=order)
        if signed:
            await self._seam.now_ms()  # the offset is measured before the first signature
        signed_request = self._sign(name, params, signed=signed)
        headers = dict(signed_request.headers)
        path = self._paths[name]
        if method in (self._signer.body_methods if self._signer else ()):
            headers["Content-Type"] = auth.FORM_CONTENT_TYPE
            request = self._seam.build(method, path, body=signed_request.params, headers=headers)
        else:
            request = self._seam.build(method, path, query=signed_request.params, headers=headers)
        return PreparedCall(method, name, params, signed, kind, cost, order, request)

    def _sign(self, name: str, params: Params, *, signed: bool) -> SignedRequest:
        if signed or name == "listenKey":
            if self._signer is None:
                raise ConfigError(f"{self.venue}: no API credentials configured")
            return self._signer.sign(params, self._seam.offset) if signed else self._signer.key_only()
        return SignedRequest(auth.encode_params(params), {})

    def _what(self, call: PreparedCall) -> str:
        return f"{call.method} {self._paths[call.name]}"

    async def _server_time_ms(self) -> int:
        """The seam's clock source: GET time (a read, retried like any other)."""
        return self._parse.server_time_ms(await self.get_time())

    async def measure_offset(self) -> int:
        """Re-measure the server-time offset now; return it in ms."""
        return await self._seam.measure_offset()
