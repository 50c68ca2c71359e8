"""OKX v5 REST authentication as the simulator checks it: pure functions, no I/O.

The prehash is `timestamp + METHOD + requestPath + body`, where requestPath is `/api/v5/...` plus the
raw `?query` for GETs and body is the exact JSON text sent; the signature is base64(HMAC-SHA256).
Failures carry OKX's own codes and messages, checked in the order OKX reports them: missing headers,
then the timestamp, then the key, the passphrase and finally the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

# OKX rejects requests whose OK-ACCESS-TIMESTAMP is more than ~30 s away from its clock.
TIMESTAMP_WINDOW_MS = 30_000


@dataclass(frozen=True, slots=True)
class OkxKey:
    """One API key the simulator accepts. The repr hides the secret and passphrase."""

    api_key: str
    api_secret: str
    passphrase: str

    def __repr__(self) -> str:
        return f"OkxKey(api_key={self.api_key!r}, api_secret=***, passphrase=***)"


class OkxAuthError(Exception):
    """A request OKX would refuse before looking at it: the code, message and HTTP status OKX uses."""

    def __init__(self, code: str, msg: str, http_status: int = 401) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.http_status = http_status


def okx_signature(secret: str, timestamp: str, method: str, request_path: str, body: str = "") -> str:
    """Sign one request the way OKX expects: base64(HMAC-SHA256(secret, ts + METHOD + path + body))."""
    prehash = f"{timestamp}{method.upper()}{request_path}{body}"
    digest = hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def parse_okx_timestamp(text: str) -> int:
    """Turn an ISO-8601 UTC OK-ACCESS-TIMESTAMP (`2020-12-08T09:08:57.715Z`) into epoch ms."""
    if not text.endswith("Z") or "T" not in text:
        raise ValueError("not an ISO-8601 UTC timestamp")
    moment = datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _header(headers: Mapping[str, str], name: str) -> str:
    # aiohttp's CIMultiDict is case-insensitive; a plain dict from a test may not be.
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value or ""


def verify_okx_request(
    keys: Mapping[str, OkxKey],
    headers: Mapping[str, str],
    method: str,
    request_path: str,
    body: str,
    now_ms: int,
    window_ms: int = TIMESTAMP_WINDOW_MS,
) -> OkxKey:
    """Check one private request's OK-ACCESS-* headers; return the key it used or raise OkxAuthError."""
    api_key = _header(headers, "OK-ACCESS-KEY")
    passphrase = _header(headers, "OK-ACCESS-PASSPHRASE")
    signature = _header(headers, "OK-ACCESS-SIGN")
    timestamp = _header(headers, "OK-ACCESS-TIMESTAMP")
    if not api_key:
        raise OkxAuthError("50103", 'Request header "OK-ACCESS-KEY" cannot be empty.')
    if not passphrase:
        raise OkxAuthError("50104", 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.')
    if not signature:
        raise OkxAuthError("50106", 'Request header "OK-ACCESS-SIGN" cannot be empty.')
    if not timestamp:
        raise OkxAuthError("50107", 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.')
    try:
        sent_ms = parse_okx_timestamp(timestamp)
    except ValueError:
        raise OkxAuthError("50112", "Invalid OK-ACCESS-TIMESTAMP") from None
    if abs(now_ms - sent_ms) > window_ms:
        raise OkxAuthError("50102", "Timestamp request expired")
    key = keys.get(api_key)
    if key is None:
        raise OkxAuthError("50111", "Invalid OK-ACCESS-KEY")
    if not hmac.compare_digest(passphrase, key.passphrase):
        raise OkxAuthError("50105", "OK-ACCESS-PASSPHRASE incorrect")
    expected = okx_signature(key.api_secret, timestamp, method, request_path, body)
    if not hmac.compare_digest(signature, expected):
        raise OkxAuthError("50113", "Invalid Sign")
    return key
