"""Aster futures' raw REST client: the Binance family's client (binance_family/client.py) on Aster's paths.

Two auth generations share every business endpoint; only the path prefix and the signer differ:
V3 (API wallet, EIP-712, `/fapi/v3/*`) when user, signer and private key are configured, else V1
(legacy HMAC keys, Binance's scheme, `/fapi/v1/*` and `/fapi/v2/*`). Requests, the error map, the clock
offset, retries and the prepared-order split are the family's.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.errors import VenueError
from hedgectl.venues.aster import auth
from hedgectl.venues.aster.auth import Keys, V1Keys, V3Keys
from hedgectl.venues.binance_family import errors as family_errors
from hedgectl.venues.binance_family.auth import Params, SignedRequest
from hedgectl.venues.binance_family.client import FamilyClient, Limits
from hedgectl.venues.binance_family.client import PreparedCall as PreparedCall
from hedgectl.venues.binance_family.errors import ClockRejected as _ClockRejected  # noqa: F401 - tests name it
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.retry import Sleep
from hedgectl.venues.kit.time_offset import TimeOffset
from hedgectl.venues.kit.transport import Kind as Kind

VENUE = "aster"

V1_PATHS = {
    "time": "/fapi/v1/time",
    "exchangeInfo": "/fapi/v1/exchangeInfo",
    "depth": "/fapi/v1/depth",
    "bookTicker": "/fapi/v1/ticker/bookTicker",
    "ticker24hr": "/fapi/v1/ticker/24hr",
    "premiumIndex": "/fapi/v1/premiumIndex",
    "fundingInfo": "/fapi/v1/fundingInfo",
    "order": "/fapi/v1/order",
    "openOrders": "/fapi/v1/openOrders",
    "allOpenOrders": "/fapi/v1/allOpenOrders",
    "positionRisk": "/fapi/v2/positionRisk",
    "balance": "/fapi/v2/balance",
    "userTrades": "/fapi/v1/userTrades",
    "income": "/fapi/v1/income",
    "commissionRate": "/fapi/v1/commissionRate",
    "listenKey": "/fapi/v1/listenKey",
    "positionSide/dual": "/fapi/v1/positionSide/dual",
}
V3_PATHS = {name: "/fapi/v3/" + path.split("/", 3)[3] for name, path in V1_PATHS.items()}
# Public market data needs no key of either generation: candles are read where Aster has always served them.
V1_PATHS["klines"] = V3_PATHS["klines"] = "/fapi/v1/klines"
# Aster's published limits, per IP: REQUEST_WEIGHT 2400/min, ORDERS 1200/min.
LIMITS = Limits(weight_per_s=40, weight_burst=400, orders_per_s=20, orders_burst=100)


class NonceSource:
    """V3 nonces: µs, strictly increasing within the process (Aster rejects any of its last 100 nonces)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self, now_us: int) -> int:
        with self._lock:
            self._last = max(now_us, self._last + 1)
            return self._last


PROCESS_NONCES = NonceSource()


class V1Signer:
    """Legacy HMAC keys: Binance's scheme with Aster's parameter order (aster/auth.py `sign_v1`)."""

    scheme = "v1"
    signs_listen_key = False
    # V1 follows Binance: DELETE carries its params in the query (ccxt's binance does the same).
    body_methods = frozenset({"POST"})

    def __init__(self, keys: V1Keys, recv_window_ms: int) -> None:
        self._keys = keys
        self._recv_window_ms = recv_window_ms

    def sign(self, params: Params, clock: TimeOffset) -> SignedRequest:
        return auth.sign_v1(
            self._keys.api_key.get_secret_value(),
            self._keys.api_secret.get_secret_value(),
            params,
            timestamp_ms=clock.now_ms(),
            recv_window_ms=self._recv_window_ms,
        )

    def key_only(self) -> SignedRequest:
        return SignedRequest("", {auth.API_KEY_HEADER: self._keys.api_key.get_secret_value()})


class V3Signer:
    """API-wallet keys: EIP-712 over the params with a fresh nonce; USER_STREAM requests are signed too."""

    scheme = "v3"
    signs_listen_key = True
    # V3 puts POST and DELETE params in a form body (Aster's V3 doc, ccxt).
    body_methods = frozenset({"POST", "DELETE"})

    def __init__(self, keys: V3Keys, nonces: NonceSource) -> None:
        self._keys = keys
        self._nonces = nonces

    def sign(self, params: Params, clock: TimeOffset) -> SignedRequest:
        return auth.sign_v3(
            params,
            nonce_us=self._nonces.next(clock.now_us()),
            user=self._keys.user,
            signer=self._keys.signer,
            private_key=self._keys.private_key.get_secret_value(),
            chain_id=self._keys.chain_id,
        )

    def key_only(self) -> SignedRequest:
        return SignedRequest("", {})


class AsterClient(FamilyClient):
    """Aster's REST endpoints over one keep-alive httpx.AsyncClient, signed with V1 or V3 keys."""

    def __init__(
        self,
        config: VenueConfig,
        keys: Keys,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        nonces: NonceSource = PROCESS_NONCES,
        sleep: Sleep = SYSTEM_CLOCK.sleep,
    ) -> None:
        self._keys = keys
        if isinstance(keys, V3Keys):
            signer: V1Signer | V3Signer = V3Signer(keys, nonces)
            paths = V3_PATHS
        else:
            signer, paths = V1Signer(keys, config.recv_window_ms), V1_PATHS
        super().__init__(VENUE, config, paths, signer, LIMITS, transport=transport, sleep=sleep)

    def __repr__(self) -> str:
        return f"AsterClient(base_url={self._base!r}, auth={self.scheme})"


def map_error(status: int, code: int | None, msg: str, kind: Kind) -> VenueError:
    """The family's error map for an Aster reply."""
    return family_errors.map_error(VENUE, status, code, msg, kind)


def decode_response(response: httpx.Response, kind: Kind) -> Any:
    """The family's reply decoding for an Aster reply."""
    return family_errors.decode_response(VENUE, response, kind)
