"""OKX v5 request signing: pure functions, no I/O (reference §3.2, §3.6).

REST: `OK-ACCESS-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))`, where the
timestamp is ISO-8601 UTC with milliseconds (`2020-12-08T09:08:57.715Z`), requestPath is `/api/v5/...` with
the `?query` of a GET, and body is the exact JSON text sent (empty for a GET). The passphrase chosen at key
creation goes in `OK-ACCESS-PASSPHRASE`. Demo trading adds `x-simulated-trading: 1` (config.TESTNET_HEADERS,
sent by the client on every request; it is not part of the signature).

WebSocket login: the same HMAC over `<unix seconds>GET/users/self/verify`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from hedgectl.errors import ConfigError
from hedgectl.venues.config import VenueConfig

KEY_HEADER = "OK-ACCESS-KEY"
SIGN_HEADER = "OK-ACCESS-SIGN"
TIMESTAMP_HEADER = "OK-ACCESS-TIMESTAMP"
PASSPHRASE_HEADER = "OK-ACCESS-PASSPHRASE"  # noqa: S105 - a header name
WS_VERIFY = "GET/users/self/verify"
JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class OkxKeys:
    """An OKX API key; the secret and passphrase stay SecretStr until the signing call."""

    api_key: SecretStr
    api_secret: SecretStr
    passphrase: SecretStr


def keys_from_config(config: VenueConfig) -> OkxKeys | None:
    """The account's keys, or None when none are configured (public endpoints still work)."""
    names = ("api_key", "api_secret", "passphrase")
    if not any(config.has(name) for name in names):
        return None
    missing = [name for name in names if not config.has(name)]
    if missing:
        wanted = ", ".join(f"OKX_{name.upper()}" for name in missing)
        raise ConfigError(f"okx: an API key needs its secret and passphrase too: set {wanted}")
    return OkxKeys(*(config.credentials[name] for name in names))


def iso_timestamp(timestamp_ms: int) -> str:
    """Epoch milliseconds as OKX's OK-ACCESS-TIMESTAMP: `2020-12-08T09:08:57.715Z`."""
    at = datetime.fromtimestamp(timestamp_ms // 1000, tz=UTC)
    return f"{at:%Y-%m-%dT%H:%M:%S}.{timestamp_ms % 1000:03d}Z"


def encode_body(params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> str:
    """A request body as compact JSON (the text that is signed is the text that is sent)."""
    return json.dumps(params, separators=(",", ":"))


def signature(secret: str, timestamp: str, method: str, request_path: str, body: str = "") -> str:
    """base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body))."""
    prehash = f"{timestamp}{method.upper()}{request_path}{body}"
    return base64.b64encode(hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()).decode()


def signed_headers(keys: OkxKeys, method: str, request_path: str, body: str, timestamp_ms: int) -> dict[str, str]:
    """The OK-ACCESS-* headers of one private request (plus the JSON content type of a body)."""
    stamp = iso_timestamp(timestamp_ms)
    headers = {
        KEY_HEADER: keys.api_key.get_secret_value(),
        SIGN_HEADER: signature(keys.api_secret.get_secret_value(), stamp, method, request_path, body),
        TIMESTAMP_HEADER: stamp,
        PASSPHRASE_HEADER: keys.passphrase.get_secret_value(),
    }
    if body:
        headers["Content-Type"] = JSON_CONTENT_TYPE
    return headers


def ws_signature(secret: str, timestamp_s: str) -> str:
    """The WebSocket login signature: base64(HMAC-SHA256(secret, timestamp + "GET/users/self/verify"))."""
    return signature(secret, timestamp_s, "GET", "/users/self/verify")


def ws_login(keys: OkxKeys, now_s: float) -> dict[str, Any]:
    """The `op: login` message of the private WebSocket (timestamp in whole Unix seconds)."""
    stamp = str(int(now_s))
    arg = {
        "apiKey": keys.api_key.get_secret_value(),
        "passphrase": keys.passphrase.get_secret_value(),
        "timestamp": stamp,
        "sign": ws_signature(keys.api_secret.get_secret_value(), stamp),
    }
    return {"op": "login", "args": [arg]}
