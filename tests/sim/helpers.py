"""Small test helpers for the simulator suite."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from tests.waiting import eventually_async

# ccxt options for a client of the loopback simulator: no client-side throttle (a `rateLimit` wait before each call:
# 333 ms on aster), and no 250 ms pause in close() (`timeout_on_exit`, there for TLS connections to real hosts).
# Neither changes a request: the conformance tests check the same wire.
LOOPBACK_CCXT: dict[str, object] = {"enableRateLimit": False, "timeout_on_exit": 0}


async def eventually(cond: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0, interval: float = 0.01) -> None:
    """Poll `cond` until it is true; fail with AssertionError after `timeout` seconds."""
    await eventually_async(cond, timeout, interval)


def binance_query(params: dict[str, str], secret: str, *, timestamp_ms: int | None = None) -> str:
    """A Binance-signed query string (timestamp added, signature last), as the docs describe."""
    import hashlib
    import hmac
    from urllib.parse import urlencode

    full = {**params, "timestamp": str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))}
    payload = urlencode(full)
    signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}&signature={signature}"
