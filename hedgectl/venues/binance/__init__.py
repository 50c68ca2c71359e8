"""Binance USDⓈ-M futures, native: the Binance family's client and parsers (venues/binance_family/)."""

from hedgectl.venues.binance.venue import BinanceVenue

__all__ = ["BinanceVenue"]
