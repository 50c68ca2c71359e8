"""OKX v5 USDT-margined swaps, native: auth (signing), client (raw endpoints), parse (wire -> domain), venue, stream."""

from hedgectl.venues.okx.venue import OkxVenue

__all__ = ["OkxVenue"]
