"""Binance USDⓈ-M's private order stream: the family's listen-key user data stream (binance_family/stream.py).

WebSocket hosts (reference §2.1): live `wss://fstream.binance.com`, demo trading `wss://fstream.binancefuture.com`,
user data at `/private/ws?listenKey=K` (the form ccxt 4.5.90 builds). The demo host was checked in 2026-12:
ccxt's `binanceusdm` (urls.demo.ws.linear) and Binance's demo-trading announcement (UM futures: REST
demo-fapi.binance.com, streams fstream.binancefuture.com) agree; `demo-fstream.binance.com` appears only in
third-party clients, so it is not used. Paper mode: the simulator beside the REST base.
"""

from __future__ import annotations

from hedgectl.domain.types import Mode
from hedgectl.venues.binance_family.stream import ClientListenKeys, ListenKeyClient, Markets, UserDataStream
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.ws_common import ws_base

BINANCE_WS: dict[Mode, str] = {Mode.LIVE: "wss://fstream.binance.com", Mode.TESTNET: "wss://fstream.binancefuture.com"}


def binance_stream(config: VenueConfig, client: ListenKeyClient, markets: Markets) -> UserDataStream:
    """The user data stream of a Binance USDⓈ-M account (`<ws>/private/ws?listenKey=K`)."""
    base = ws_base(config, BINANCE_WS)
    return UserDataStream(
        "binance",
        ClientListenKeys(client),
        markets,
        ws_base=base,
        url_for=lambda key: f"{base}/private/ws?listenKey={key}",
    )
