"""OKX v5 raw REST client: one method per endpoint, wire dicts in and out, errors mapped once (codes.py).

Every request passes the kit's one seam (`kit.http.HttpSeam`): rate-limit tokens (taken before signing),
the host guard, the server-time offset, the httpx exception map. What stays here is OKX's: the signature
over exactly the path, query and body that are sent, the demo-trading guard (`x-simulated-trading: 1` on
every testnet request, or nothing leaves) and the reading of OKX's replies. Reads go through the kit's
`retry_read`. Writes never do: a write whose outcome is unknown (timeout after the request left, a dropped
connection, HTTP 5xx, 50004/50026) raises AmbiguousOrderState, and the adapter reconciles by client order id.

An order can be prepared ahead (`prepare_order_post`, everything but the socket write) and sent alone
(`send_order_post`: httpx's `send`), so both legs of a hedge are signed before either leaves. A refused
timestamp (50102, 50112) proves the order was not taken: the seam re-measures the offset and the same body
is signed anew and sent once more - never a resend of a request whose outcome is unknown.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.types import Mode
from hedgectl.errors import BadResponse, ConfigError
from hedgectl.venues.config import TESTNET_HEADERS, VenueConfig
from hedgectl.venues.kit.http import HttpSeam
from hedgectl.venues.kit.retry import Sleep, retry_read
from hedgectl.venues.kit.transport import Kind, scrub
from hedgectl.venues.kit.wire import decode_json
from hedgectl.venues.okx import auth
from hedgectl.venues.okx.auth import OkxKeys
from hedgectl.venues.okx.codes import Meaning, meaning, okx_error
from hedgectl.venues.okx.parse import parse_server_time_ms

VENUE = "okx"
API = "/api/v5"
Params = Mapping[str, str]
Body = Mapping[str, Any]
# OKX's limits are per endpoint per 2 s (20 on most public routes; place/cancel 60 per instrument).
RATE_PER_S, BURST = 10.0, 20
ORDER_RATE_PER_S, ORDER_BURST = 30.0, 60


@dataclass(frozen=True, slots=True)
class PreparedCall:
    """One request, built and signed but not sent, with what it takes to sign it again (after a clock refusal)."""

    method: str
    path: str  # below /api/v5
    params: Params | Body | None  # the query of a GET, the JSON body of a POST
    signed: bool
    kind: Kind
    order: bool
    http: httpx.Request


def _text(value: Any) -> str:
    return " ".join(str(value).split())[:200] if value not in (None, "") else ""


def reply_error(payload: Any, http_status: int) -> tuple[str | None, str]:
    """(code, message) of a refusal: the first row's sCode/sMsg when one failed, else the top-level code/msg."""
    if not isinstance(payload, Mapping):
        return None, ""
    rows = payload.get("data")
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, Mapping) and str(row.get("sCode", "0")) not in ("", "0"):
            return str(row["sCode"]), _text(row.get("sMsg"))
    code = payload.get("code")
    code_text = None if code is None else str(code)
    if code_text in (None, "0") and http_status < 400:
        return None, _text(payload.get("msg"))
    return code_text, _text(payload.get("msg"))


def _payload(response: httpx.Response) -> Any:
    """The reply's JSON (floats as Decimal), or None when it is not JSON (an HTML error page, nothing)."""
    try:
        return decode_json(response.content, VENUE)
    except BadResponse:
        return None


def clock_refused(response: httpx.Response) -> bool:
    """True for a refusal of our timestamp (50102, 50112): OKX did not act on the request."""
    code, _ = reply_error(_payload(response), response.status_code)
    return meaning(code) is Meaning.CLOCK


def decode_response(response: httpx.Response, kind: Kind, secrets: tuple[str, ...] = ()) -> Any:
    """Return the JSON of a successful reply; raise the mapped error for anything else.

    A write is successful only when its rows' sCode says so too (OKX may answer code "0" around a failed row).
    The venue's message is quoted with any credential value masked (`secrets`), should it ever echo one.
    """
    status = response.status_code
    payload = _payload(response)
    code, msg = reply_error(payload, status)
    msg = scrub(msg, secrets)
    if code is not None or status >= 400:
        raise okx_error(code, msg, http_status=status, write=kind is Kind.WRITE)
    if not isinstance(payload, Mapping):
        content_type = response.headers.get("content-type", "no content type").split(";")[0]
        what = "an empty reply" if not response.content else f"a non-JSON reply ({content_type})"
        raise BadResponse(VENUE, f"HTTP {status} with {what}")
    return payload


class OkxClient:
    """OKX's REST endpoints on the kit's HttpSeam (one keep-alive httpx client)."""

    def __init__(
        self,
        config: VenueConfig,
        keys: OkxKeys | None,
        *,
        sleep: Sleep = SYSTEM_CLOCK.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._keys = keys
        self._secrets = tuple(v.get_secret_value() for v in config.credentials.values())
        self._sleep = sleep
        self._seam = HttpSeam(
            config,
            rate_per_s=RATE_PER_S,
            burst=BURST,
            order_rate_per_s=ORDER_RATE_PER_S,
            order_burst=ORDER_BURST,
            server_time_ms=self._server_time_ms,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"OkxClient(base_url={self._seam.base_url!r})"

    @property
    def has_keys(self) -> bool:
        return self._keys is not None

    @property
    def offset_ms(self) -> int:
        return self._seam.offset.offset_ms

    async def close(self) -> None:
        await self._seam.close()

    # --- public -------------------------------------------------------------------------------

    async def get_time(self) -> Any:
        """GET /api/v5/public/time"""
        return await self._read("GET", "/public/time", {})

    async def get_instruments(self) -> Any:
        """GET /api/v5/public/instruments?instType=SWAP"""
        return await self._read("GET", "/public/instruments", {"instType": "SWAP"})

    async def get_ticker(self, inst_id: str) -> Any:
        """GET /api/v5/market/ticker"""
        return await self._read("GET", "/market/ticker", {"instId": inst_id})

    async def get_funding_rate(self, inst_id: str) -> Any:
        """GET /api/v5/public/funding-rate"""
        return await self._read("GET", "/public/funding-rate", {"instId": inst_id})

    async def get_mark_price(self, inst_id: str) -> Any:
        """GET /api/v5/public/mark-price"""
        return await self._read("GET", "/public/mark-price", {"instType": "SWAP", "instId": inst_id})

    async def get_books(self, inst_id: str, depth: int) -> Any:
        """GET /api/v5/market/books (at most 400 levels)"""
        return await self._read("GET", "/market/books", {"instId": inst_id, "sz": str(min(depth, 400))})

    async def get_candles(self, inst_id: str, bar: str, limit: int, after_ms: int | None = None) -> Any:
        """GET /api/v5/market/candles (newest first, at most 300; `after_ms`: older than that time)"""
        params = {"instId": inst_id, "bar": bar, "limit": str(limit)}
        if after_ms is not None:
            params["after"] = str(after_ms)
        return await self._read("GET", "/market/candles", params)

    # --- account ------------------------------------------------------------------------------

    async def get_account_config(self, *, order_path: bool = False) -> Any:
        """GET /api/v5/account/config (`order_path`: read before an order, so it spends an order token)."""
        return await self._read("GET", "/account/config", {}, signed=True, order=order_path)

    async def get_leverage_info(self, inst_id: str) -> Any:
        """GET /api/v5/account/leverage-info (cross)"""
        return await self._read("GET", "/account/leverage-info", {"instId": inst_id, "mgnMode": "cross"}, signed=True)

    async def get_positions(self, inst_id: str | None = None) -> Any:
        """GET /api/v5/account/positions?instType=SWAP"""
        params = {"instType": "SWAP", **({"instId": inst_id} if inst_id else {})}
        return await self._read("GET", "/account/positions", params, signed=True)

    async def get_balance(self) -> Any:
        """GET /api/v5/account/balance"""
        return await self._read("GET", "/account/balance", {}, signed=True)

    async def get_trade_fee(self, inst_family: str) -> Any:
        """GET /api/v5/account/trade-fee?instType=SWAP&instFamily= (the account's own fee tier)"""
        params = {"instType": "SWAP", "instFamily": inst_family}
        return await self._read("GET", "/account/trade-fee", params, signed=True)

    async def get_bills(self, params: Params, *, archive: bool = False) -> Any:
        """GET /api/v5/account/bills (7 days) or /api/v5/account/bills-archive (3 months)"""
        path = "/account/bills-archive" if archive else "/account/bills"
        return await self._read("GET", path, params, signed=True)

    # --- orders -------------------------------------------------------------------------------

    async def prepare_order_post(self, body: Body) -> PreparedCall:
        """Take the order token, sign and build POST /api/v5/trade/order; nothing is sent.

        The signature carries a timestamp OKX accepts for about 30 s: send it at once, never keep it.
        """
        return await self._prepare("POST", "/trade/order", body, signed=True, kind=Kind.WRITE, order=True)

    async def send_order_post(self, call: PreparedCall) -> Any:
        """Send a prepared POST /api/v5/trade/order once (AmbiguousOrderState when the outcome is unknown)."""
        return await self._complete(call)

    async def get_order(self, ref: Params) -> Any:
        """GET /api/v5/trade/order (instId + ordId or clOrdId)"""
        return await self._read("GET", "/trade/order", ref, signed=True)

    async def get_order_once(self, ref: Params) -> Any:
        """GET /api/v5/trade/order without retries (the caller runs its own reconciliation loop)."""
        return await self._request("GET", "/trade/order", ref, signed=True, kind=Kind.READ)

    async def post_cancel_order(self, ref: Params) -> Any:
        """POST /api/v5/trade/cancel-order (instId + ordId or clOrdId)"""
        return await self._request("POST", "/trade/cancel-order", ref, signed=True, kind=Kind.WRITE, order=True)

    async def get_orders_pending(self, params: Params) -> Any:
        """GET /api/v5/trade/orders-pending (one page; `after` an ordId for the next)"""
        return await self._read("GET", "/trade/orders-pending", params, signed=True)

    async def get_fills_history(self, params: Params) -> Any:
        """GET /api/v5/trade/fills-history"""
        return await self._read("GET", "/trade/fills-history", params, signed=True)

    # --- plumbing -----------------------------------------------------------------------------

    async def _server_time_ms(self) -> int:
        """The seam's clock source: GET /api/v5/public/time, once (a failed measure fails the signed call)."""
        return parse_server_time_ms(await self._request("GET", "/public/time", {}, signed=False, kind=Kind.READ))

    async def measure_offset(self) -> int:
        """Re-measure the server-time offset now; return it in ms."""
        return await self._seam.measure_offset()

    async def _read(self, method: str, path: str, params: Params, *, signed: bool = False, order: bool = False) -> Any:
        def call() -> Coroutine[Any, Any, Any]:
            return self._request(method, path, params, signed=signed, kind=Kind.READ, order=order)

        return await retry_read(call, sleep=self._sleep)

    async def _request(
        self,
        method: str,
        path: str,
        params: Params | Body,
        *,
        signed: bool,
        kind: Kind,
        order: bool = False,
    ) -> Any:
        return await self._complete(await self._prepare(method, path, params, signed=signed, kind=kind, order=order))

    async def _complete(self, call: PreparedCall) -> Any:
        """Send a prepared call once; a refused timestamp is signed anew and sent once more (by the seam)."""
        what = f"{call.method} {API}{call.path}"
        if not call.signed:
            return decode_response(await self._seam.exchange(call.http, call.kind, what), call.kind, self._secrets)

        async def rebuild() -> httpx.Request:
            params = call.params or {}
            again = await self._prepare(call.method, call.path, params, signed=True, kind=call.kind, order=call.order)
            return again.http

        response = await self._seam.exchange_signed(
            call.http, call.kind, rebuild=rebuild, clock_refused=clock_refused, what=what
        )
        return decode_response(response, call.kind, self._secrets)

    async def _prepare(
        self,
        method: str,
        path: str,
        params: Params | Body,
        *,
        signed: bool,
        kind: Kind,
        order: bool = False,
    ) -> PreparedCall:
        """Rate-limit tokens, clock offset, signature and the httpx.Request; nothing is sent."""
        if signed and self._keys is None:
            raise ConfigError("okx: no API credentials configured")
        # Before signing, so a wait for a token never eats into the 30 s. OKX limits each endpoint on its own:
        # an order takes an order token only, and a spent read budget never delays it.
        bucket = self._seam.order_rate if order and self._seam.order_rate is not None else self._seam.weight
        await bucket.acquire()
        query = urlencode(list(params.items())) if method == "GET" and params else ""
        body = auth.encode_body(params) if method != "GET" and params else ""
        request_path = API + path + (f"?{query}" if query else "")
        headers: dict[str, str] = {}
        if signed and self._keys is not None:
            headers = auth.signed_headers(self._keys, method, request_path, body, await self._seam.now_ms())
        elif body:
            headers["Content-Type"] = auth.JSON_CONTENT_TYPE
        request = self._seam.build(method, API + path, query=query, body=body.encode() or None, headers=headers)
        if not request.url.raw_path.decode("ascii").endswith(request_path):
            raise ConfigError(f"okx: the request path changed after signing ({request_path})")
        self._check_demo_header(request)
        return PreparedCall(method, path, params, signed, kind, order, request)

    def _check_demo_header(self, request: httpx.Request) -> None:
        """Refuse a demo-trading request that would go out without `x-simulated-trading: 1` (it would trade live)."""
        if self._config.mode is not Mode.TESTNET:
            return
        for key, value in TESTNET_HEADERS.get(VENUE, {}).items():
            if request.headers.get(key) != value:
                raise ConfigError(f"okx: refusing a testnet request without the {key}: {value} header")
