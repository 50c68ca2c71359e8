"""Backpack perpetuals, native: ED25519 signing (auth), raw endpoints (client), wire -> domain (parse), Venue."""

from hedgectl.venues.backpack.venue import BackpackVenue

__all__ = ["BackpackVenue"]
