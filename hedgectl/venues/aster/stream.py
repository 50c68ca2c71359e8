"""Aster's private order stream: a Binance-identical user data stream (reference §5.5).

POST `/fapi/v1/listenKey` (V1 keys: API-key header only) or `/fapi/v3/listenKey` (API wallet: signed),
then the WebSocket `<ws>/ws/<listenKey>`, where `<ws>` is `wss://fstream.asterdex.com` live,
`wss://fstream.asterdex-testnet.com` on the testnet and the simulator next to the REST base on paper;
PUT keeps the key alive. Events and their parsing are Binance's (listen_key_stream.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from hedgectl.domain.types import Mode
from hedgectl.errors import BadResponse
from hedgectl.venues.aster.client import AsterClient
from hedgectl.venues.binance_family.stream import Markets, UserDataStream
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.ws_common import ws_base

VENUE = "aster"
ASTER_WS: dict[Mode, str] = {
    Mode.LIVE: "wss://fstream.asterdex.com",
    Mode.TESTNET: "wss://fstream.asterdex-testnet.com",
}


class AsterListenKeys:
    """The listen-key endpoints through the adapter's raw client (V1 or V3 auth, errors mapped there)."""

    def __init__(self, client: AsterClient) -> None:
        self._client = client

    async def create(self) -> str:
        """POST /fapi/v{1,3}/listenKey"""
        reply = await self._client.post_listen_key()
        key = reply.get("listenKey") if isinstance(reply, Mapping) else None
        if not isinstance(key, str) or not key:
            raise BadResponse(VENUE, "listenKey reply without a key")
        return key

    async def keepalive(self, key: str) -> None:
        """PUT /fapi/v{1,3}/listenKey"""
        await self._client.put_listen_key()


def aster_stream(config: VenueConfig, client: AsterClient, markets: Markets) -> UserDataStream:
    """The user data stream of one Aster account, at `<ws>/ws/<listenKey>`."""
    base = ws_base(config, ASTER_WS)
    return UserDataStream(VENUE, AsterListenKeys(client), markets, ws_base=base, url_for=lambda key: f"{base}/ws/{key}")
