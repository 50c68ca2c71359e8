"""The Binance family's one error map: a reply's HTTP status and `{"code": -XXXX, "msg"}` -> hedgectl's taxonomy.

Binance USDⓈ-M and Aster share the code table (Aster's API is a Binance fork), so both venues classify the
same reply the same way: a request the venue refused with a code is `OrderRejected` on a write whatever the
code (the order was not placed), a 5xx or an "execution status unknown" code is `AmbiguousOrderState` on a
write (reconcile by client order id, never resend) and `Unavailable` on a read (retry). Transport failures
below HTTP (httpx) are the kit's (`kit/transport.py`), with the same read/write split (`Kind`).

Messages carry the venue's code and text only: no URL (Binance signs in the query), no header, no key.
"""

from __future__ import annotations

import json
from decimal import Decimal
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
from hedgectl.venues.kit.transport import Kind
from hedgectl.venues.kit.wire import error_code

MAX_MESSAGE = 200

AUTH: dict[int, str] = {
    -1002: "unauthorized",
    -1022: "invalid signature",
    -2014: "API key format invalid",
    -2015: "invalid API key, IP or permissions",
}
FUNDS = frozenset({-2018, -2019})
NOT_FOUND = frozenset({-2011, -2013})
REJECTED = frozenset(
    {-1013, -1102, -1106, -1111, -1116, -1117, -2010, -2020, -2021, -2022, -2024, -2025}
    | {-4003, -4014, -4023, -4061, -4131, -4164, -5021, -5022}
)
# Timestamp outside recvWindow (-1021), Aster V3 nonce expired (-4225): refused before acting, so the client
# re-measures the clock and sends the request once more, signed anew.
CLOCK = frozenset({-1021, -4225})
UNKNOWN_OUTCOME = frozenset({-1000, -1006, -1007})  # the venue says it does not know whether it executed
BUSY = frozenset({-1001, -1008})
RATE = frozenset({-1003, -1015})
# "The position side does not fit the account's mode": the cached position mode is stale.
POSITION_SIDE_REFUSED = "-4061"


class ClockRejected(Exception):
    """-1021 / -4225: the venue refused the timestamp or nonce before acting on the request."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(code)
        self.code = code
        self.msg = msg


def map_error(venue: str, status: int, code: int | None, msg: str, kind: Kind) -> VenueError:
    """Translate one error reply (HTTP status and/or venue code) into the taxonomy."""
    text = f"HTTP {status}: {msg}" if msg else f"HTTP {status}"
    code_text = str(code) if code is not None else None
    if status == 418:
        return RateLimited(venue, f"IP banned for exceeding rate limits: {text}", code=code_text)
    if status == 429 or code in RATE:
        return RateLimited(venue, f"rate limited: {text}", code=code_text)
    if code in AUTH:
        return AuthError(venue, f"{AUTH[code]}: {text}", code=code_text)
    if code == -1021:
        return AuthError(venue, f"timestamp rejected even after re-syncing the clock: {text}", code=code_text)
    if code == -4225:
        return AuthError(venue, f"nonce rejected even after re-syncing the clock: {text}", code=code_text)
    if code in FUNDS:
        return InsufficientFunds(venue, text, code=code_text)
    if code in NOT_FOUND:
        return OrderNotFound(venue, text, code=code_text)
    if code == -1121:
        return SymbolNotListed(venue, text, code=code_text)
    if code in REJECTED:
        return OrderRejected(venue, text, code=code_text)
    if status >= 500 or code in UNKNOWN_OUTCOME:
        if kind is Kind.WRITE:
            return AmbiguousOrderState(venue, f"outcome unknown ({text})", code=code_text)
        return Unavailable(venue, f"server error: {text}", code=code_text)
    if code in BUSY:
        return Unavailable(venue, f"busy: {text}", code=code_text)
    if status in (401, 403):
        return AuthError(venue, f"forbidden: {text}", code=code_text)
    if code is not None:
        if kind is Kind.WRITE:
            return OrderRejected(venue, text, code=code_text)
        return VenueError(venue, text, code=code_text)
    return BadResponse(venue, f"HTTP {status} without an error code")


def _venue_message(payload: Any) -> tuple[int | None, str]:
    # Aster sends `code` as a number or a string ({"code": "-2011"}); both map the same way.
    code = error_code(payload)
    if code is None:
        return None, ""
    msg = payload.get("msg")
    return code, " ".join((msg if isinstance(msg, str) else "").split())[:MAX_MESSAGE]


def clock_refused(response: httpx.Response) -> bool:
    """True for a -1021 / -4225 reply: the venue refused the timestamp or nonce before acting on the request."""
    try:
        payload = json.loads(response.content, parse_float=Decimal)
    except (JSONDecodeError, UnicodeDecodeError):
        return False
    return error_code(payload) in CLOCK


def decode_response(venue: str, response: httpx.Response, kind: Kind) -> Any:
    """The JSON of a successful reply (floats as Decimal); raise the mapped error for anything else."""
    status = response.status_code
    try:
        payload = json.loads(response.content, parse_float=Decimal)
    except (JSONDecodeError, UnicodeDecodeError):
        payload = None
    code, msg = _venue_message(payload)
    if code in CLOCK:
        raise ClockRejected(code, msg)
    if status >= 400 or (code is not None and code < 0):
        raise map_error(venue, status, code, msg, kind)
    if payload is None:
        kind_of = response.headers.get("content-type", "no content type").split(";")[0]
        what = "an empty reply" if not response.content else f"a non-JSON reply ({kind_of})"
        raise BadResponse(venue, f"HTTP {status} with {what}")
    return payload
