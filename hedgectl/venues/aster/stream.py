"""Aster's private order stream: a Binance-identical user data stream (reference §5.5).

POST `/fapi/v1/listenKey` (V1 keys: API-key header only) or `/fapi/v3/listenKey` (API wallet: signed),
then the WebSocket `<ws>/ws/<listenKey>`, where `<ws>` is `wss://fstream.asterdex.com` live,
`wss://fstream.asterdex-testnet.com` on the testnet and the simulator next to the REST base on paper;
PUT keeps the key alive. Session and events are the Binance family's (binance_family/stream.py).
"""

from __future__ import annotations

from hedgectl.domain.types import Mode
from hedgectl.venues.binance_family.stream import ClientListenKeys, ListenKeyClient, Markets, UserDataStream
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.ws_common import ws_base

ASTER_WS: dict[Mode, str] = {
    Mode.LIVE: "wss://fstream.asterdex.com",
    Mode.TESTNET: "wss://fstream.asterdex-testnet.com",
}


def aster_stream(config: VenueConfig, client: ListenKeyClient, markets: Markets) -> UserDataStream:
    """The user data stream of one Aster account, at `<ws>/ws/<listenKey>`."""
    base = ws_base(config, ASTER_WS)
    return UserDataStream(
        "aster", ClientListenKeys(client), markets, ws_base=base, url_for=lambda key: f"{base}/ws/{key}"
    )
