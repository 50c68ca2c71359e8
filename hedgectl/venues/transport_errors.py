"""Say what failed under an HTTP request - DNS, TLS, refused, reset, timeout - for httpx and aiohttp alike.

The native clients (httpx) and the ccxt adapter (aiohttp underneath) both describe a transport failure with
`describe_transport`, so every venue words the same cause the same way. `exception_chain` is the detail that
`-v` adds: each exception of the chain with its text scrubbed of credentials and URL query strings.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from collections.abc import Iterator

import aiohttp
import httpx

MIN_SECRET_LEN = 6  # shorter values are refused by the settings; masking them would mangle ordinary text
_QUERY = re.compile(r"(https?://[^\s?#]+)[?#]\S*")


def causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it was raised from, outermost first (each once); aiohttp's os_error included."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        os_error = getattr(current, "os_error", None)
        if isinstance(os_error, BaseException) and id(os_error) not in seen and os_error is not current.__cause__:
            seen.add(id(os_error))
            yield os_error
        # A suppressed context is still the true origin (httpcore raises its ConnectError that way).
        current = current.__cause__ or current.__context__


def describe_transport(exc: BaseException, host: str | None = None) -> str:
    """One phrase for what went wrong below HTTP; the exception's class name when nothing more is known."""
    chain = list(causes(exc))
    on = f" for {host}" if host else ""
    for e in chain:
        if isinstance(e, socket.gaierror):
            return f"DNS resolution failed{on} ({e.strerror or e})"
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"TLS certificate not accepted{on} ({e.verify_message or e.reason})"
        if isinstance(e, ssl.SSLError | aiohttp.ClientSSLError):
            return f"TLS handshake failed{on} ({getattr(e, 'reason', None) or type(e).__name__})"
    for e in chain:
        if isinstance(e, ConnectionRefusedError):
            return f"connection refused{on}"
        if isinstance(e, ConnectionResetError):
            return "connection reset by the server"
        if isinstance(e, httpx.ConnectTimeout):
            return f"timed out connecting{on}"
        if isinstance(e, httpx.PoolTimeout):
            return "timed out waiting for a free connection"
        if isinstance(e, httpx.TimeoutException | aiohttp.ServerTimeoutError | asyncio.TimeoutError | TimeoutError):
            return "timed out waiting for the reply"
        if isinstance(e, aiohttp.ServerDisconnectedError | httpx.RemoteProtocolError):
            return "the server closed the connection without a reply"
    for e in chain:
        if isinstance(e, OSError) and e.strerror:
            return f"{e.strerror.lower()}{on}"
    return type(exc).__name__


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` without URL query strings (signatures) and with each credential value masked."""
    cleaned = _QUERY.sub(r"\1", text)
    for secret in secrets:
        if len(secret) >= MIN_SECRET_LEN:
            cleaned = cleaned.replace(secret, "***")
    return cleaned


def exception_chain(exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """The whole chain, one `Type: message` per cause, scrubbed: what `-v` shows under a one-line error."""
    return " <- ".join(
        f"{type(e).__module__}.{type(e).__qualname__}: {scrub(str(e), secrets)}".replace("builtins.", "")
        for e in causes(exc)
    )
