"""Binance USDⓈ-M credentials: an HMAC API key and secret (BINANCE_API_KEY, BINANCE_API_SECRET).

The signing itself is the Binance family's (`binance_family/auth.py`: `sign_binance`, byte for byte what
ccxt's `binanceusdm().sign` produces for the same request and timestamp; tests/venues/test_binance_auth.py).
"""

from __future__ import annotations

from hedgectl.venues.binance_family.client import BinanceSigner
from hedgectl.venues.config import VenueConfig


def signer_from_config(config: VenueConfig) -> BinanceSigner | None:
    """The account's signer, or None without keys (public endpoints still work; a signed one says what is missing)."""
    if not config.has("api_key", "api_secret"):
        return None
    return BinanceSigner(config.secret("api_key"), config.secret("api_secret"), config.recv_window_ms)
