"""The one httpx seam of the venue layer: every native client sends through an `HttpSeam`.

The seam owns what every venue's REST client needs and none should write again: one keep-alive
`httpx.AsyncClient` (timeouts, the config's headers, no redirects), the host guard on every request, the
general (weight) and order rate limiters, the server-time offset (measured lazily on first use, re-measured
on demand after a clock refusal, through a callable the venue gives; with a cache dir, the last measured offset
is used at once and re-measured in the background, so no command waits a round trip before its first
signature), building a request apart from sending
it, the httpx exception map (`kit.transport`) and JSON decoding with Decimal floats.

What stays in the venue: its signer (the seam hands it the venue's clock: `await seam.now_ms()`) and the
mapping of its error replies (`{"code", "msg"}` shapes) to the taxonomy. `exchange` returns any HTTP status:
reading a non-2xx reply is venue knowledge.

Build-then-send: `build` makes the final `httpx.Request` (URL, query, body, headers: the signature is over
exactly these bytes) and checks the host guard; `exchange` is then `httpx.send` alone plus the exception
map, so a prepared order's send does nothing else between two legs' socket writes. Take the rate-limit
tokens (`acquire`) *before* signing, so a wait for a token never eats into a signature's validity window.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx

from hedgectl.errors import ConfigError, HedgectlError
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.host_guard import ensure_allowed
from hedgectl.venues.kit.rate_limit import RateLimiter
from hedgectl.venues.kit.time_offset import TimeOffset, load_cached_offset, save_cached_offset
from hedgectl.venues.kit.transport import HTTPX_ERRORS, Kind, map_transport_error
from hedgectl.venues.kit.wire import decode_json as _decode_json

ServerTimeMs = Callable[[], Awaitable[int]]
QueryValue = str | int | bool
Query = Mapping[str, QueryValue] | Sequence[tuple[str, str]] | str

log = logging.getLogger(__name__)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings httpx's `verify=True` makes (certifi, or SSL_CERT_FILE/DIR), built once per process.

    httpx builds a context per client by default and loading the CA bundle costs ~20 ms of CPU each time: four
    venues' clients made a command start ~80 ms slower. One context shared by every client is what httpx
    recommends; it holds no per-connection state.
    """
    return httpx.create_ssl_context()


def json_body(payload: object) -> bytes:
    """A request body as compact JSON with sorted keys: the same bytes every time for the same payload."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


class HttpSeam:
    """One venue's HTTP plumbing: client, host guard, rate limits, clock offset, build, send, decode."""

    def __init__(
        self,
        config: VenueConfig,
        *,
        rate_per_s: float,
        burst: int,
        order_rate_per_s: float | None = None,
        order_burst: int | None = None,
        server_time_ms: ServerTimeMs | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.venue = config.name
        self.base_url = config.base_url.rstrip("/")
        self._allowed = config.base_url
        self.weight = RateLimiter(rate_per_s, burst)
        # Without its own order limit, an order takes a general token only (Backpack publishes no order limit).
        self.order_rate = RateLimiter(order_rate_per_s, order_burst or 1) if order_rate_per_s is not None else None
        self.offset = TimeOffset()
        self._server_time_ms = server_time_ms
        self._offset_measured = False
        self._offset_lock = asyncio.Lock()
        self._cache_dir = config.cache_dir
        self._background: asyncio.Task[None] | None = None
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(config.timeout_s),
            headers={"User-Agent": "hedgectl", **config.headers},
            # The guard runs again on the very request sent: nothing reaches a foreign origin, even by mistake.
            event_hooks={"request": [self._guard_hook]},
            follow_redirects=False,
            transport=transport,
            verify=tls_context(),
        )

    def __repr__(self) -> str:
        return f"HttpSeam(venue={self.venue!r}, base_url={self.base_url!r})"

    @property
    def http(self) -> httpx.AsyncClient:
        """The keep-alive client (every request it sends passes the host guard)."""
        return self._http

    async def close(self) -> None:
        """Stop a background clock measurement and release the keep-alive connections."""
        if self._background is not None and not self._background.done():
            self._background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._background  # it ends at its next await: nothing it does blocks on cancellation
        await self._http.aclose()

    # --- host guard and rate limits -------------------------------------------------------------------

    def guard(self, url: str) -> None:
        """Raise ConfigError unless `url` is under this venue's base URL for the mode."""
        ensure_allowed(url, self._allowed, venue=self.venue)

    async def _guard_hook(self, request: httpx.Request) -> None:
        self.guard(str(request.url))

    async def acquire(self, cost: float = 1.0, *, order: bool = False) -> None:
        """Take `cost` general tokens, and an order token for an order; waits only when a bucket is empty."""
        await self.weight.acquire(cost)
        if order and self.order_rate is not None:
            await self.order_rate.acquire()

    # --- server time ----------------------------------------------------------------------------------

    async def now_ms(self) -> int:
        """The venue's clock in epoch ms (the offset is measured on first use)."""
        await self._ensure_offset()
        return self.offset.now_ms()

    async def now_us(self) -> int:
        """The venue's clock in epoch µs (the offset is measured on first use)."""
        await self._ensure_offset()
        return self.offset.now_us()

    async def _ensure_offset(self) -> None:
        if self._offset_measured:
            return
        async with self._offset_lock:
            if self._offset_measured:
                return
            cached = load_cached_offset(self._cache_dir, self.venue, self.base_url)
            if cached is None or self._server_time_ms is None:
                await self._measure()
                return
            # The last command's offset now, a fresh one in the background: a stale one costs at most one
            # clock refusal, which re-measures and re-signs (exchange_signed), never a blind resend.
            self.offset.offset_ms = cached
            self._offset_measured = True
            self._background = asyncio.create_task(self._measure_in_background())

    async def _measure_in_background(self) -> None:
        try:
            await self.measure_offset()
        except HedgectlError as exc:  # the cached offset stays; a clock refusal would measure again
            log.debug("%s: background clock measurement failed: %s", self.venue, exc)

    async def measure_offset(self) -> int:
        """Measure the offset now (after a clock refusal such as -1021); return it in ms."""
        async with self._offset_lock:
            return await self._measure()

    async def _measure(self) -> int:
        if self._server_time_ms is None:
            raise ConfigError(f"{self.venue}: no server-time source to measure the clock offset with")
        offset = await self.offset.measure(self._server_time_ms)
        self._offset_measured = True
        save_cached_offset(self._cache_dir, self.venue, self.base_url, offset)
        return offset

    # --- build, send, decode --------------------------------------------------------------------------

    def build(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        """The request exactly as it will be sent; nothing is sent. A pre-encoded `query` string is used as is."""
        url = self.base_url + path
        params: Any = None
        if isinstance(query, str):
            url = f"{url}?{query}" if query else url
        elif query:
            params = query
        request = self._http.build_request(method, url, params=params, content=body, headers=headers)
        self.guard(str(request.url))  # here too, so a refused request fails before any leg of a hedge is sent
        return request

    async def exchange(self, request: httpx.Request, kind: Kind, what: str | None = None) -> httpx.Response:
        """Send a built request once; any status comes back, an httpx failure is mapped (kit.transport)."""
        try:
            return await self._http.send(request)
        except HTTPX_ERRORS as exc:
            what = what or f"{request.method} {request.url.path}"
            raise map_transport_error(exc, venue=self.venue, kind=kind, what=what, base_url=self.base_url) from exc

    async def exchange_signed(
        self,
        request: httpx.Request,
        kind: Kind,
        *,
        rebuild: Callable[[], Awaitable[httpx.Request]],
        clock_refused: Callable[[httpx.Response], bool],
        what: str | None = None,
    ) -> httpx.Response:
        """Send a signed request; if the venue refuses its clock, re-measure the offset, sign anew, send once more.

        `clock_refused` is the venue's reading of a reply (Binance/Aster -1021, OKX 50102...): a refusal that
        proves the request was not acted on, so the one resend is safe even for an order. A second refusal
        comes back as it is, for the venue to map.
        """
        response = await self.exchange(request, kind, what)
        if not clock_refused(response):
            return response
        await self.measure_offset()
        return await self.exchange(await rebuild(), kind, what)

    def decode_json(self, content: bytes | str) -> Any:
        """A reply body as JSON with floats as Decimal; an empty or non-JSON body raises BadResponse."""
        return _decode_json(content, self.venue)
