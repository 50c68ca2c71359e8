"""Backpack's instruction-based ED25519 request signing: pure functions, no I/O.

The signed string is `instruction=<instr>&<params sorted by key as k=v joined by &>&timestamp=<ms>&window=<ms>`.
Params are the query params of a GET or the JSON body fields of a POST/DELETE. A batch order (a JSON array)
contributes one `instruction=orderExecute&<sorted k=v>` segment per order, and timestamp/window come once at the end.
Values are written as they appear in the JSON, unquoted; booleans as `true`/`false`.
`check_credentials` refuses, before any request, a key without its secret or a pair that does not match.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from decimal import Decimal

from nacl.signing import SigningKey

from hedgectl.errors import AuthError, ConfigError
from hedgectl.venues.config import VenueConfig

VENUE = "backpack"
Params = Mapping[str, object]

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


class KeyFormatError(ValueError):
    """A key that is not base64 of the right length. The message never contains the key."""


def wire_value(value: object) -> str:
    """One param value as it appears in the signed string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"cannot sign a parameter of type {type(value).__name__}")


def _segment(params: Params) -> str:
    return "&".join(f"{key}={wire_value(params[key])}" for key in sorted(params))


def signing_string(
    instruction: str, params: Params | Sequence[Params] | None, timestamp_ms: int, window_ms: int
) -> str:
    """The exact text Backpack verifies for one request (a sequence of params means a batch of orders)."""
    tail = f"timestamp={timestamp_ms}&window={window_ms}"
    if params is None or isinstance(params, Mapping):
        body = _segment(params or {})
        return f"instruction={instruction}&{body}&{tail}" if body else f"instruction={instruction}&{tail}"
    segments = [f"instruction={instruction}&{_segment(p)}" for p in params]
    return "&".join([*segments, tail])


def _decode_key(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError(f"{what} is not valid base64") from None
    return raw


def signing_key(seed_b64: str) -> SigningKey:
    """The ED25519 key from a base64 seed (32 bytes; a 64-byte seed+public secret is accepted, as ccxt does)."""
    raw = _decode_key(seed_b64, "api_secret")
    if len(raw) not in (32, 64):
        raise KeyFormatError(f"api_secret must decode to a 32-byte ED25519 seed, got {len(raw)} bytes")
    return SigningKey(raw[:32])


def public_key_b64(seed_b64: str) -> str:
    """The base64 public key (the X-API-Key) that belongs to a base64 seed."""
    return base64.b64encode(bytes(signing_key(seed_b64).verify_key)).decode()


def check_keypair(api_key_b64: str, seed_b64: str) -> bool:
    """True when the seed derives the given public key; raise KeyFormatError on malformed input."""
    public = _decode_key(api_key_b64, "api_key")
    if len(public) != 32:
        raise KeyFormatError(f"api_key must decode to a 32-byte ED25519 public key, got {len(public)} bytes")
    return bytes(signing_key(seed_b64).verify_key) == public


def sign(seed_b64: str, message: str) -> str:
    """Base64 ED25519 signature of `message` by the seed's key."""
    return base64.b64encode(signing_key(seed_b64).sign(message.encode()).signature).decode()


def signed_headers(
    seed_b64: str,
    instruction: str,
    params: Params | Sequence[Params] | None,
    timestamp_ms: int,
    window_ms: int,
) -> dict[str, str]:
    """The X-API-Key (derived from the seed), X-Signature, X-Timestamp and X-Window headers of one request."""
    key = signing_key(seed_b64)
    message = signing_string(instruction, params, timestamp_ms, window_ms)
    return {
        "X-API-Key": base64.b64encode(bytes(key.verify_key)).decode(),
        "X-Signature": base64.b64encode(key.sign(message.encode()).signature).decode(),
        "X-Timestamp": str(timestamp_ms),
        "X-Window": str(window_ms),
    }


def check_credentials(config: VenueConfig) -> None:
    """Refuse a key without its secret (or the reverse), a malformed key, or a pair that does not match."""
    has_key, has_secret = config.has("api_key"), config.has("api_secret")
    if has_key != has_secret:
        raise ConfigError(f"{VENUE}: api_key and api_secret must be given together")
    if not has_key:
        return
    try:
        matches = check_keypair(config.secret("api_key"), config.secret("api_secret"))
    except KeyFormatError as exc:
        raise ConfigError(f"{VENUE}: {exc}") from None
    if not matches:
        raise AuthError(VENUE, "api_secret does not derive api_key: the key pair does not match")
