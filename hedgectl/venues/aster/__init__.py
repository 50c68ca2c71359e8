"""Aster futures, native: V3 API-wallet (EIP-712) or legacy V1 HMAC auth over httpx."""

from hedgectl.venues.aster.venue import AsterVenue

__all__ = ["AsterVenue"]
