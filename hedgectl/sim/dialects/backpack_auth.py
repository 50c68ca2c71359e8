"""Backpack REST authentication as the simulator checks it: pure functions, no I/O.

The signed string is `instruction=<instr>&<params sorted by key, k=v joined by &>&timestamp=<ms>&window=<ms>`;
for a batch (`POST /api/v1/orders`, a JSON array) each order contributes its own
`instruction=orderExecute&<sorted k=v>` segment and `timestamp`/`window` come once at the end.
The signature is ED25519 by the key whose base64 public half is the X-API-Key.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

DEFAULT_WINDOW_MS = 5_000
MAX_WINDOW_MS = 60_000

# Which instruction each private route signs with (Backpack's docs; ccxt's options.instructions agree).
INSTRUCTIONS: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/account"): "accountQuery",
    ("GET", "/api/v1/capital"): "balanceQuery",
    ("GET", "/api/v1/capital/collateral"): "collateralQuery",
    ("GET", "/api/v1/order"): "orderQuery",
    ("POST", "/api/v1/order"): "orderExecute",
    ("DELETE", "/api/v1/order"): "orderCancel",
    ("GET", "/api/v1/orders"): "orderQueryAll",
    ("POST", "/api/v1/orders"): "orderExecute",
    ("DELETE", "/api/v1/orders"): "orderCancelAll",
    ("GET", "/api/v1/position"): "positionQuery",
    ("GET", "/wapi/v1/history/orders"): "orderHistoryQueryAll",
    ("GET", "/wapi/v1/history/fills"): "fillHistoryQueryAll",
    ("GET", "/wapi/v1/history/funding"): "fundingHistoryQueryAll",
}


@dataclass(frozen=True, slots=True)
class BackpackKey:
    """One key pair the simulator accepts: base64 ED25519 public key and base64 32-byte seed."""

    api_key: str
    api_secret: str

    def __repr__(self) -> str:
        return f"BackpackKey(api_key={self.api_key!r}, api_secret=***)"


class BackpackAuthError(Exception):
    """A request Backpack would refuse before looking at it: its ApiErrorCode, message and HTTP status."""

    def __init__(self, code: str, message: str, http_status: int = 401) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.http_status = http_status


def wire_value(value: Any) -> str:
    """Write one param value as it appears in the signed string: booleans lower-case, the rest as sent."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int | float | str):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _segment(params: Mapping[str, Any], encode: bool) -> str:
    pairs = []
    for key in sorted(params):
        text = wire_value(params[key])
        pairs.append(f"{key}={quote(text, safe='') if encode else text}")
    return "&".join(pairs)


def signing_string(
    instruction: str,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    timestamp: int | str,
    window: int | str,
    *,
    url_encoded: bool = False,
) -> str:
    """Build the string Backpack signs for one request (a list of params means a batch of orders).

    Backpack's own clients write values raw; ccxt percent-encodes them (identical for the usual
    symbols, ids and decimals). `url_encoded=True` gives ccxt's form.
    """
    tail = f"timestamp={timestamp}&window={window}"
    if isinstance(params, Mapping):
        body = _segment(params, url_encoded)
        head = f"instruction={instruction}&{body}&" if body else f"instruction={instruction}&"
        return head + tail
    segments = [f"instruction={instruction}&{_segment(p, url_encoded)}" for p in params]
    return "&".join([*segments, tail])


def sign(secret_b64: str, message: str) -> str:
    """ED25519-sign `message` with the base64 seed; return the base64 signature (as a client would)."""
    seed = base64.b64decode(secret_b64)[:32]
    return base64.b64encode(SigningKey(seed).sign(message.encode()).signature).decode()


def public_key_of(secret_b64: str) -> str:
    """The base64 public key (the X-API-Key) that belongs to a base64 seed."""
    seed = base64.b64decode(secret_b64)[:32]
    return base64.b64encode(bytes(SigningKey(seed).verify_key)).decode()


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value or ""


def _signature_matches(public_b64: str, signature_b64: str, messages: Sequence[str]) -> bool:
    try:
        verify_key = VerifyKey(base64.b64decode(public_b64, validate=True))
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    for message in messages:
        try:
            verify_key.verify(message.encode(), signature)
        except BadSignatureError:
            continue
        return True
    return False


def verify_backpack_request(
    keys: Mapping[str, BackpackKey],
    headers: Mapping[str, str],
    instruction: str,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    now_ms: int,
) -> BackpackKey:
    """Check one private request's X-* headers and ED25519 signature; return its key or raise."""
    api_key = _header(headers, "X-API-Key")
    signature = _header(headers, "X-Signature")
    timestamp_text = _header(headers, "X-Timestamp")
    window_text = _header(headers, "X-Window") or str(DEFAULT_WINDOW_MS)
    if not api_key or not signature or not timestamp_text:
        raise BackpackAuthError("UNAUTHORIZED", "Missing X-API-Key, X-Signature or X-Timestamp header")
    try:
        timestamp = int(timestamp_text)
        window = int(window_text)
    except ValueError:
        raise BackpackAuthError("INVALID_CLIENT_REQUEST", "Invalid timestamp or window", 400) from None
    if not 0 < window <= MAX_WINDOW_MS:
        raise BackpackAuthError("INVALID_CLIENT_REQUEST", f"Window must be at most {MAX_WINDOW_MS}", 400)
    if now_ms - timestamp > window or timestamp - now_ms > window:
        raise BackpackAuthError("INVALID_CLIENT_REQUEST", "Request has expired", 400)
    key = keys.get(api_key)
    if key is None:
        raise BackpackAuthError("UNAUTHORIZED", "API key not found")
    messages = [
        signing_string(instruction, params, timestamp_text, window_text),
        signing_string(instruction, params, timestamp_text, window_text, url_encoded=True),
    ]
    if not _signature_matches(key.api_key, signature, messages):
        raise BackpackAuthError("INVALID_SIGNATURE", "Invalid signature")
    return key
