"""The one httpx exception map, and the words for what failed under an HTTP request (DNS, TLS, refused, ...).

`map_transport_error` is the only place an httpx exception becomes a hedgectl error. What it may mean for an
order decides the class, from one table (`OUTCOMES`) that names every exception class httpx exports:

    NEVER_LEFT     the request certainly did not reach the venue        -> Unavailable (READ and WRITE)
    MAY_HAVE_LEFT  it may have been received and acted upon             -> WRITE: AmbiguousOrderState, READ: Unavailable
    UNUSABLE       a reply came, or our own misuse: nothing is assumed  -> BadResponse

A class missing from the table is still mapped through its nearest listed base class (at run time nothing
is left unmapped), and a test fails on it so the table is kept complete when httpx adds one.

The native clients (httpx) and scan's public ccxt reader (aiohttp underneath, ccxt_public.py) both describe a
transport failure with `describe_transport`, so every venue words the same cause the same way.
`exception_chain` is the detail that `-v` adds: each exception of the chain with its text scrubbed of
credentials and URL query strings.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import sys
from collections.abc import Iterator
from enum import Enum

import httpx

from hedgectl.errors import AmbiguousOrderState, BadResponse, Unavailable, VenueError

MIN_SECRET_LEN = 6  # shorter values are refused by the settings; masking them would mangle ordinary text
_QUERY = re.compile(r"(https?://[^\s?#]+)[?#]\S*")


def _aiohttp(name: str) -> tuple[type[BaseException], ...]:
    # An aiohttp exception exists only once aiohttp is imported (by ccxt): the native clients never pay for it.
    module = sys.modules.get("aiohttp")
    return (getattr(module, name),) if module is not None else ()


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
        if isinstance(e, (ssl.SSLError, *_aiohttp("ClientSSLError"))):
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
        if isinstance(e, (httpx.TimeoutException, *_aiohttp("ServerTimeoutError"), asyncio.TimeoutError, TimeoutError)):
            return "timed out waiting for the reply"
        if isinstance(e, (*_aiohttp("ServerDisconnectedError"), httpx.RemoteProtocolError)):
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


class Kind(Enum):
    """Whether a request only reads (safe to repeat) or changes state at the venue (never resent blindly)."""

    READ = "read"
    WRITE = "write"


class Outcome(Enum):
    """What an httpx exception says about whether the request reached the venue."""

    NEVER_LEFT = "never_left"
    MAY_HAVE_LEFT = "may_have_left"
    UNUSABLE = "unusable"


OUTCOMES: dict[type[Exception], Outcome] = {
    # Nothing was written to the venue: no connection, no free connection, or a URL/proxy that never got that far.
    httpx.ConnectError: Outcome.NEVER_LEFT,
    httpx.ConnectTimeout: Outcome.NEVER_LEFT,
    httpx.PoolTimeout: Outcome.NEVER_LEFT,
    httpx.UnsupportedProtocol: Outcome.NEVER_LEFT,
    httpx.ProxyError: Outcome.NEVER_LEFT,
    httpx.InvalidURL: Outcome.NEVER_LEFT,
    # Bytes may have reached the venue. The generic bases are here too: an unknown subclass is taken as the worst.
    httpx.ReadTimeout: Outcome.MAY_HAVE_LEFT,
    httpx.WriteTimeout: Outcome.MAY_HAVE_LEFT,
    httpx.ReadError: Outcome.MAY_HAVE_LEFT,
    httpx.WriteError: Outcome.MAY_HAVE_LEFT,
    httpx.CloseError: Outcome.MAY_HAVE_LEFT,
    httpx.RemoteProtocolError: Outcome.MAY_HAVE_LEFT,
    httpx.LocalProtocolError: Outcome.MAY_HAVE_LEFT,
    httpx.ProtocolError: Outcome.MAY_HAVE_LEFT,
    httpx.NetworkError: Outcome.MAY_HAVE_LEFT,
    httpx.TimeoutException: Outcome.MAY_HAVE_LEFT,
    httpx.TransportError: Outcome.MAY_HAVE_LEFT,
    httpx.RequestError: Outcome.MAY_HAVE_LEFT,
    httpx.HTTPError: Outcome.MAY_HAVE_LEFT,
    # A reply arrived but cannot be used, or the client was misused: nothing is assumed from it.
    httpx.DecodingError: Outcome.UNUSABLE,
    httpx.TooManyRedirects: Outcome.UNUSABLE,
    httpx.HTTPStatusError: Outcome.UNUSABLE,
    httpx.CookieConflict: Outcome.UNUSABLE,
    httpx.StreamError: Outcome.UNUSABLE,
    httpx.StreamConsumed: Outcome.UNUSABLE,
    httpx.StreamClosed: Outcome.UNUSABLE,
    httpx.ResponseNotRead: Outcome.UNUSABLE,
    httpx.RequestNotRead: Outcome.UNUSABLE,
}
# Everything `exchange` catches: httpx's errors that do not derive from HTTPError are named on their own.
HTTPX_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpx.InvalidURL, httpx.CookieConflict, httpx.StreamError)


def outcome_of(exc: BaseException) -> Outcome:
    """The outcome of the nearest class in `exc`'s ancestry that OUTCOMES lists; UNUSABLE for a foreign one."""
    for cls in type(exc).__mro__:
        if cls in OUTCOMES:
            return OUTCOMES[cls]
    return Outcome.UNUSABLE


def map_transport_error(exc: BaseException, *, venue: str, kind: Kind, what: str, base_url: str) -> VenueError:
    """Translate one httpx exception raised while sending `what` (e.g. "POST /api/v1/order") to the taxonomy."""
    outcome = outcome_of(exc)
    if outcome is Outcome.NEVER_LEFT:
        return Unavailable(venue, f"cannot reach {base_url}: {describe_transport(exc)}")
    if outcome is Outcome.MAY_HAVE_LEFT:
        if kind is Kind.WRITE:
            return AmbiguousOrderState(
                venue, f"{what} sent but no reply ({describe_transport(exc)}); the outcome is unknown"
            )
        return Unavailable(venue, f"{what} failed: {describe_transport(exc)}")
    return BadResponse(venue, f"unusable reply to {what} ({type(exc).__name__})")
