"""A wire tap under every adapter: httpx's transport (Backpack, Aster) and aiohttp's session (ccxt: Binance, OKX).

Loopback requests go through to the simulator untouched. Any other request is recorded and never leaves the
process: a production host is refused (and recorded as a violation: no surprise trip to real money); a
test host is answered with a venue-like 401 - or, given `stand_in` (a simulator's URL), by the simulator
under that venue's prefix, so public calls work and signed ones meet the venue's real refusal of keys it
does not know.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
import pytest
import yarl
from multidict import CIMultiDict, CIMultiDictProxy

from hedgectl.venues.config import LIVE_URLS, TESTNET_HEADERS, TESTNET_URLS
from hedgectl.venues.kit.host_guard import is_loopback

PRODUCTION_HOSTS = frozenset(str(urlsplit(url).hostname) for url in LIVE_URLS.values())
TEST_HOSTS = frozenset(str(urlsplit(url).hostname) for url in TESTNET_URLS.values() if url)
UNAUTHORIZED = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}


@dataclass(frozen=True)
class Request:
    client: str  # httpx | aiohttp
    method: str
    url: str
    headers: dict[str, str]

    @property
    def host(self) -> str:
        return str(urlsplit(self.url).hostname)


# test host -> the simulator's dialect prefix that speaks for it
_STAND_IN = {str(urlsplit(url).hostname): f"/{venue}" for venue, url in TESTNET_URLS.items() if url}


@dataclass
class Tap:
    stand_in: str | None = None
    requests: list[Request] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def stand_in_url(self, url: str) -> str | None:
        parts = urlsplit(url)
        prefix = _STAND_IN.get(str(parts.hostname))
        if self.stand_in is None or prefix is None:
            return None
        return f"{self.stand_in}{prefix}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def judge(self, request: Request) -> str:
        """pass (loopback), refuse (production) or answer (a test environment)."""
        self.requests.append(request)
        if is_loopback(request.url):
            return "pass"
        headers = {k.lower(): v for k, v in request.headers.items()}
        demo = [
            venue for venue, wanted in TESTNET_HEADERS.items()
            if all(headers.get(k.lower()) == v for k, v in wanted.items())
        ]
        if request.host in PRODUCTION_HOSTS and not (request.host in TEST_HOSTS and demo):
            self.violations.append(f"{request.client} {request.method} {request.url}")
            return "refuse"
        return "answer"

    @property
    def off_loopback(self) -> list[Request]:
        return [r for r in self.requests if not is_loopback(r.url)]

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_httpx = httpx.AsyncHTTPTransport.handle_async_request
        real_aiohttp = aiohttp.ClientSession._request
        tap = self

        async def httpx_request(transport: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
            verdict = tap.judge(Request("httpx", request.method, str(request.url), dict(request.headers)))
            if verdict == "pass":
                return await real_httpx(transport, request)
            if verdict == "refuse":
                raise httpx.ConnectError("refused by the test transport: a production host", request=request)
            local = tap.stand_in_url(str(request.url))
            if local is not None:
                headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
                moved = httpx.Request(request.method, local, headers=headers, content=await request.aread())
                return await real_httpx(transport, moved)
            return httpx.Response(401, json=UNAUTHORIZED, request=request)

        async def aiohttp_request(session: aiohttp.ClientSession, method: str, url: Any, **kwargs: Any) -> Any:
            headers = {str(k): str(v) for k, v in dict(kwargs.get("headers") or {}).items()}
            verdict = tap.judge(Request("aiohttp", method, str(url), headers))
            if verdict == "pass":
                return await real_aiohttp(session, method, url, **kwargs)
            if verdict == "refuse":
                raise aiohttp.ClientConnectionError("refused by the test transport: a production host")
            local = tap.stand_in_url(str(url))
            if local is not None:
                return await real_aiohttp(session, method, yarl.URL(local, encoded=True), **kwargs)
            return _FakeResponse(401, json.dumps(UNAUTHORIZED))

        monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", httpx_request)
        monkeypatch.setattr(aiohttp.ClientSession, "_request", aiohttp_request)


class _FakeResponse:
    """Just enough of aiohttp's ClientResponse for ccxt's fetch."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.reason = "Unauthorized"
        self.headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))
        self._body = body

    async def text(self, errors: str = "strict") -> str:
        return self._body

    async def __aenter__(self) -> _FakeResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None
