"""Talk to a simulator started elsewhere (`hedgectl sim serve`) through its /_sim/ control API."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from hedgectl.errors import ConfigError, HedgectlError


def is_loopback(url: str) -> bool:
    """True when `url` names this machine (the simulator never imports venue code, so it keeps its own check)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in {"localhost", "::1"} or host.startswith("127.")


def reset_remote(url: str, *, timeout_s: float) -> None:
    """POST /_sim/reset: fresh accounts and prices in the running simulator at `url` (HEDGECTL_SIM_URL)."""
    base = url.rstrip("/")
    if not is_loopback(base):
        raise ConfigError("HEDGECTL_SIM_URL must point at a loopback address (127.0.0.1, localhost, ::1)")
    try:
        response = httpx.post(f"{base}/_sim/reset", timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise HedgectlError(
            f"cannot reach the simulator at {base} (HEDGECTL_SIM_URL): {type(exc).__name__}; "
            "is `hedgectl sim serve` running?"
        ) from exc
    if response.status_code != 200:
        raise HedgectlError(f"the simulator at {base} refused the reset: HTTP {response.status_code}")
