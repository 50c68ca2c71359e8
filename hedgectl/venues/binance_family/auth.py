"""The Binance family's HMAC request signing (Binance USDⓈ-M, Aster V1). Pure: no clock, no I/O, no state.

`signature = hex(HMAC-SHA256(secret, query + body))` over the exact string that is sent (query for GET and
DELETE, form body otherwise), appended last as `&signature=`; the key travels in `X-MBX-APIKEY`. Where
`timestamp` and `recvWindow` stand is the signer's choice: Binance's own examples and ccxt put `timestamp`
first and `recvWindow` last (`sign_binance`, checked against ccxt's `binanceusdm().sign`); Aster's V1 docs
put both last (aster/auth.py `sign_v1`). The venue verifies the string as sent, so both are accepted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

Params = Sequence[tuple[str, str]]

API_KEY_HEADER = "X-MBX-APIKEY"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# The characters JavaScript's encodeURIComponent leaves alone (what Aster's and ccxt's examples use).
_SAFE = "~()*!.'-_"


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What goes on the wire: the encoded params (query or body, per method) and extra headers."""

    params: str
    headers: dict[str, str]


def encode_params(params: Params) -> str:
    """Urlencode params in the given order, the way the signature expects them on the wire."""
    return "&".join(f"{quote(key, safe=_SAFE)}={quote(value, safe=_SAFE)}" for key, value in params)


def hmac_signature(secret: str, query: str, body: str = "") -> str:
    """Hex HMAC-SHA256 over the query string followed directly by the body (no `&` between them)."""
    return hmac.new(secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest()


def sign_hmac(api_key: str, api_secret: str, params: Params) -> SignedRequest:
    """Sign `params` exactly as ordered (timestamp and recvWindow already in them); the key goes in X-MBX-APIKEY."""
    payload = encode_params(params)
    return SignedRequest(
        params=f"{payload}&signature={hmac_signature(api_secret, payload)}", headers={API_KEY_HEADER: api_key}
    )


def sign_binance(
    api_key: str, api_secret: str, params: Params, *, timestamp_ms: int, recv_window_ms: int
) -> SignedRequest:
    """Binance's (and ccxt's) layout: `timestamp`, the request's params, `recvWindow`, then the signature."""
    ordered = [("timestamp", str(timestamp_ms)), *params, ("recvWindow", str(recv_window_ms))]
    return sign_hmac(api_key, api_secret, ordered)


def key_header(api_key: str) -> SignedRequest:
    """An unsigned request that names the key only (USER_STREAM: the listen-key endpoints with V1/HMAC keys)."""
    return SignedRequest(params="", headers={API_KEY_HEADER: api_key})
