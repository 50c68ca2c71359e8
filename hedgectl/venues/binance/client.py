"""Binance USDⓈ-M's raw REST client: the Binance family's client on Binance's paths, signer and limits."""

from __future__ import annotations

import asyncio

import httpx

from hedgectl.venues.binance.auth import signer_from_config
from hedgectl.venues.binance_family.client import BINANCE_PATHS, FamilyClient, Limits
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.retry import Sleep

VENUE = "binance"
# REQUEST_WEIGHT 2400/min per IP; orders have their own limits (ORDERS 300 per 10 s, 1200 per minute).
LIMITS = Limits(weight_per_s=40, weight_burst=400, orders_per_s=20, orders_burst=100)


def binance_client(
    config: VenueConfig, *, transport: httpx.AsyncBaseTransport | None = None, sleep: Sleep = asyncio.sleep
) -> FamilyClient:
    """The client of one Binance USDⓈ-M account (live fapi, demo-fapi for testnet, the simulator on paper)."""
    return FamilyClient(
        VENUE, config, BINANCE_PATHS, signer_from_config(config), LIMITS, transport=transport, sleep=sleep
    )
