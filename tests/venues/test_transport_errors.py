"""What failed under a request is said in words (DNS, TLS, refused, reset, timeout), the same for every venue."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from pydantic import SecretStr

from hedgectl.domain.types import Mode
from hedgectl.errors import Unavailable
from hedgectl.venues.aster.auth import V1Keys
from hedgectl.venues.aster.client import AsterClient
from hedgectl.venues.backpack.client import BackpackClient
from hedgectl.venues.binance import BinanceVenue
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.transport import describe_transport, exception_chain, scrub
from hedgectl.venues.okx import OkxVenue

UNRESOLVABLE = "http://hedgectl-nowhere.invalid"  # .invalid never resolves (RFC 2606)


async def _no_sleep(_: float) -> None:
    return None


@pytest.fixture
def closed_port() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    for writer in held:
        writer.close()
    server.close()


@pytest.fixture
async def resetting_server() -> AsyncIterator[str]:
    """Reads the request, then resets the connection (RST, not FIN)."""

    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    server.close()


def _backpack(base: str, timeout_s: float = 5.0) -> BackpackClient:
    config = VenueConfig(name="backpack", mode=Mode.PAPER, base_url=base, timeout_s=timeout_s)
    return BackpackClient(config, sleep=_no_sleep)


def _native(name: str, base: str) -> BinanceVenue | OkxVenue:
    """The native Binance or OKX adapter (what trades those venues since ccxt left the order path)."""
    creds = {"api_key": SecretStr("k" * 64), "api_secret": SecretStr("s" * 64), "passphrase": SecretStr("p" * 8)}
    if name == "binance":
        del creds["passphrase"]
    config = VenueConfig(name, Mode.PAPER, f"{base}/{name}", credentials=creds, timeout_s=2.0)
    kind = BinanceVenue if name == "binance" else OkxVenue
    return kind(config, reconcile_delays_s=(0.0, 0.0), sleep=_no_sleep)


async def _backpack_error(base: str, timeout_s: float = 5.0) -> str:
    client = _backpack(base, timeout_s)
    try:
        with pytest.raises(Unavailable) as info:
            await client.get_time()
    finally:
        await client.aclose()
    return str(info.value)


async def _native_error(name: str, base: str) -> Unavailable:
    venue = _native(name, base)
    try:
        with pytest.raises(Unavailable) as info:
            await venue.fetch_server_time()
    finally:
        await venue.close()
    return info.value


async def test_native_client_says_the_dns_name_did_not_resolve() -> None:
    assert "DNS resolution failed" in await _backpack_error(UNRESOLVABLE)


async def test_native_client_says_the_connection_was_refused(closed_port: str) -> None:
    assert "connection refused" in await _backpack_error(closed_port)


async def test_native_client_says_the_reply_timed_out(silent_server: str) -> None:
    assert "timed out waiting for the reply" in await _backpack_error(silent_server, timeout_s=0.3)


async def test_native_client_says_the_connection_was_reset(resetting_server: str) -> None:
    message = await _backpack_error(resetting_server)
    assert "reset" in message or "closed the connection" in message, message


async def test_aster_client_says_the_connection_was_refused(closed_port: str) -> None:
    config = VenueConfig(name="aster", mode=Mode.PAPER, base_url=closed_port, timeout_s=2.0)
    client = AsterClient(config, V1Keys(api_key=SecretStr("k" * 64), api_secret=SecretStr("s" * 64)), sleep=_no_sleep)
    try:
        with pytest.raises(Unavailable, match="connection refused"):
            await client.get_time()
    finally:
        await client.close()


@pytest.mark.parametrize("name", ["binance", "okx"])
async def test_native_adapter_says_the_dns_name_did_not_resolve(name: str) -> None:
    error = await _native_error(name, UNRESOLVABLE)
    assert "DNS resolution failed" in str(error)
    assert "gaierror" in exception_chain(error)  # what -v adds


@pytest.mark.parametrize("name", ["binance", "okx"])
async def test_native_adapter_says_the_connection_was_refused(name: str, closed_port: str) -> None:
    assert "connection refused" in str(await _native_error(name, closed_port))


def test_tls_failures_are_named() -> None:
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cert.verify_message = "self-signed certificate"
    outer = httpx.ConnectError("boom")
    outer.__cause__ = cert
    assert describe_transport(outer, "example.test") == (
        "TLS certificate not accepted for example.test (self-signed certificate)"
    )


async def test_a_timeout_from_respx_is_named() -> None:
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock.get(UNRESOLVABLE + "/api/v1/time").mock(side_effect=httpx.ConnectTimeout("slow"))
        assert "timed out connecting" in await _backpack_error(UNRESOLVABLE)


def test_masking_never_mangles_ordinary_text() -> None:
    url = "https://www.okx.com/api/v5/public/time"
    assert scrub(url, ("x",)) == url
    assert scrub("key=abcdefghijklmnop here", ("abcdefghijklmnop",)) == "key=*** here"


async def test_an_http_error_names_its_status_and_the_venue_code() -> None:
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock.get(UNRESOLVABLE + "/api/v1/time").respond(503, json={"code": "SERVICE_UNAVAILABLE", "message": "down"})
        message = await _backpack_error(UNRESOLVABLE)
    assert "HTTP 503: down" in message
    assert "(code SERVICE_UNAVAILABLE)" in message
