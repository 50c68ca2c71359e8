"""`Venue.fetch_candles` on all four venues against the simulator: the candles its kline route serves (read raw
here), oldest first, the newest one still forming; an interval no venue offers or a limit out of range is a
usage error before any request.

Adapters are built from the registry's table, so whichever adapter a venue has is the one tested.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hedgectl.domain.types import Mode
from hedgectl.errors import UsageError
from hedgectl.sim.candles import now_ms
from hedgectl.sim.credentials import all_credentials
from hedgectl.sim.server import Running
from hedgectl.venues.base import Venue
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.registry import ADAPTERS

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("name", ["binance", "okx", "backpack", "aster"])]
MINUTE = timedelta(minutes=1)
SYMBOL = {"binance": "BTCUSDT", "okx": "BTC-USDT-SWAP", "backpack": "BTC_USDC_PERP", "aster": "BTCUSDT"}


@pytest.fixture
async def venue(sim_server: Running, name: str, tmp_path: Path) -> AsyncIterator[Venue]:
    module_name, class_name = ADAPTERS[name]
    creds = {k: SecretStr(v) for k, v in all_credentials()[name].items()}
    config = VenueConfig(name, Mode.PAPER, f"{sim_server.url}/{name}", credentials=creds, cache_dir=tmp_path)
    adapter: Any = getattr(importlib.import_module(module_name), class_name)(config)
    try:
        yield adapter
    finally:
        await adapter.close()


async def _raw_closes(control: httpx.AsyncClient, name: str, count: int, now: int) -> list[Decimal]:
    """The closes of the last `count` one-minute candles, read from the venue's route without hedgectl's parsers."""
    if name in ("binance", "aster"):
        rows = (await control.get(f"/{name}/fapi/v1/klines", params={"symbol": SYMBOL[name], "interval": "1m"})).json()
        return [Decimal(r[4]) for r in rows][-count:]
    if name == "okx":
        params = {"instId": SYMBOL[name], "bar": "1m", "limit": "300"}
        rows = (await control.get("/okx/api/v5/market/candles", params=params)).json()["data"]
        return [Decimal(r[4]) for r in reversed(rows)][-count:]
    params = {"symbol": SYMBOL[name], "interval": "1m", "startTime": str(now // 1000 - (count + 5) * 60)}
    rows = (await control.get("/backpack/api/v1/klines", params=params)).json()
    return [Decimal(r["close"]) for r in rows][-count:]


async def test_the_last_candles_are_the_ones_the_venue_serves_oldest_first(
    venue: Venue, sim_server: Running, control: httpx.AsyncClient, name: str
) -> None:
    candles = await venue.fetch_candles("BTC", MINUTE, 61)
    assert len(candles) == 61
    assert [c.close for c in candles] == await _raw_closes(control, name, 61, now_ms(sim_server.sim.engine))
    assert all(b.open_at - a.open_at == MINUTE for a, b in itertools.pairwise(candles))
    newest = now_ms(sim_server.sim.engine) // 60_000 * 60_000
    assert candles[-1].open_at == datetime.fromtimestamp(newest / 1000, tz=UTC)
    assert all(c.venue == name and c.symbol == "BTC" and c.interval == MINUTE for c in candles)


async def test_a_longer_read_pages_where_the_venue_pages(venue: Venue, name: str) -> None:
    candles = await venue.fetch_candles("BTC", MINUTE, 700)  # OKX serves 300 a page
    assert len(candles) == 700
    assert len({c.open_at for c in candles}) == 700


async def test_an_interval_or_limit_no_venue_takes_is_refused_before_any_request(
    venue: Venue, control: httpx.AsyncClient, name: str
) -> None:
    (await control.post("/_sim/requests/clear")).raise_for_status()
    with pytest.raises(UsageError, match="intervals offered"):
        await venue.fetch_candles("BTC", timedelta(minutes=7), 10)
    with pytest.raises(UsageError, match="1 to 1000"):
        await venue.fetch_candles("BTC", MINUTE, 0)
    logged = (await control.get("/_sim/requests")).json()
    logged = logged["requests"] if isinstance(logged, dict) else logged
    assert [r for r in logged if r["op"] == "fetch_ohlcv"] == []
