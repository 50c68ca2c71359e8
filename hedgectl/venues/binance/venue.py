"""BinanceVenue: Binance USDⓈ-M futures (USDT-margined perpetuals) behind the Venue protocol, natively.

The Binance family's adapter (`binance_family/venue.py`) with Binance's choices: HMAC keys, `/fapi/v3`
positions and account, `/fapi/v2/positionRisk` for leverage and margin type (v3 dropped them), balances from
`GET /fapi/v3/account` (margin balance, available, initial margin), a quote without a 24h ticker, and the
user data stream at `/private/ws?listenKey=`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import httpx

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.types import Balance
from hedgectl.venues.binance.client import binance_client
from hedgectl.venues.binance_family.venue import RECONCILE_DELAYS_S, FamilyVenue
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.retry import Sleep

if TYPE_CHECKING:
    from hedgectl.venues.binance_family.stream import UserDataStream


class BinanceVenue(FamilyVenue):
    """Binance USDⓈ-M through its REST API (HMAC keys) and its user data stream."""

    config_risk_endpoint: ClassVar[str] = "positionRiskConfig"

    def __init__(
        self,
        config: VenueConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = SYSTEM_CLOCK.sleep,
        reconcile_delays_s: Sequence[float] = RECONCILE_DELAYS_S,
    ) -> None:
        client = binance_client(config, transport=transport, sleep=sleep)
        super().__init__(config, client, sleep=sleep, reconcile_delays_s=reconcile_delays_s)

    async def fetch_balances(self) -> list[Balance]:
        """GET /fapi/v3/account"""
        return self._parse.account_balances(await self._client.get_account())

    def user_stream(self) -> UserDataStream:
        """The account's user data stream (stream.py)."""
        # Here, not at the top: websockets and the stream code are paid only by a command that streams.
        from hedgectl.venues.binance.stream import binance_stream

        return binance_stream(self._config, self._client, self.load_markets)
