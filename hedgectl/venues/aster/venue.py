"""AsterVenue: Aster futures (USDT-margined perpetuals) behind the Venue protocol.

The Binance family's adapter (`binance_family/venue.py`) with Aster's choices: V3 (API wallet) or V1 (HMAC)
keys, balances from `GET balance`, a quote with the 24h ticker's last price, the stream at `/ws/<listenKey>`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import httpx

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.venues.aster.auth import keys_from_config
from hedgectl.venues.aster.client import AsterClient
from hedgectl.venues.binance_family.venue import RECONCILE_DELAYS_S as RECONCILE_DELAYS_S
from hedgectl.venues.binance_family.venue import FamilyVenue
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.retry import Sleep

if TYPE_CHECKING:
    from hedgectl.venues.binance_family.stream import UserDataStream

VENUE = "aster"


class AsterVenue(FamilyVenue):
    """Aster futures through its REST API, with API-wallet (V3) or legacy HMAC (V1) keys."""

    name = VENUE
    quote_with_last: ClassVar[bool] = True

    def __init__(
        self,
        config: VenueConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = SYSTEM_CLOCK.sleep,
        reconcile_delays_s: Sequence[float] = RECONCILE_DELAYS_S,
    ) -> None:
        client = AsterClient(config, keys_from_config(config), transport=transport, sleep=sleep)
        super().__init__(config, client, sleep=sleep, reconcile_delays_s=reconcile_delays_s)

    @property
    def auth_scheme(self) -> str:
        """ "v3" (API wallet, EIP-712) or "v1" (legacy HMAC key)."""
        return self._client.scheme

    def user_stream(self) -> UserDataStream:
        """The account's user data stream (stream.py)."""
        # Here, not at the top: websockets and the stream code are paid only by a command that streams.
        from hedgectl.venues.aster.stream import aster_stream

        return aster_stream(self._config, self._client, self.load_markets)
