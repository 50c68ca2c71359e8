"""`Venue.funding_payments` on all four venues against the simulator: every payment the referee made, once,
signed from the account's side, inside [since, until); journaled once however often it is read.

Adapters are built from the registry's table, so whichever adapter a venue has is the one tested.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hedgectl.clock import utc_from_ms
from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import Mode, OrderRequest, OrderType, Side
from hedgectl.journal.repository import Journal
from hedgectl.sim.credentials import all_credentials
from hedgectl.sim.server import Running
from hedgectl.venues.base import Venue
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.registry import ADAPTERS

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("name", ["binance", "okx", "backpack", "aster"])]

QTY = Decimal("0.010")
ASSET = {"binance": "USDT", "okx": "USDT", "backpack": "USDC", "aster": "USDT"}


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


async def settle(control: httpx.AsyncClient, name: str, base: str, rate: str, at_ms: int) -> None:
    body = {"venue": name, "symbol": base, "rate": rate, "next_funding_ms": at_ms}
    (await control.post("/_sim/funding", json=body)).raise_for_status()


async def paid(control: httpx.AsyncClient, name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (await control.get("/_sim/state")).json()["venues"][name]["funding"]
    return rows


async def open_position(venue: Venue, side: Side) -> None:
    await venue.place_order(OrderRequest("BTC", side, OrderType.MARKET, QTY, new_client_order_id()))


@pytest.mark.parametrize(("side", "signs"), [(Side.BUY, [-1, 1]), (Side.SELL, [1, -1])])
async def test_payments_match_what_the_venue_paid_with_the_account_sign(
    venue: Venue, control: httpx.AsyncClient, name: str, side: Side, signs: list[int]
) -> None:
    await open_position(venue, side)
    base = time.time_ns() // 1_000_000 - 60_000
    await settle(control, name, "BTC", "0.0001", base)  # longs pay a positive rate, shorts receive it
    await settle(control, name, "BTC", "-0.0002", base + 1000)
    await settle(control, name, "ETH", "0.0003", base + 2000)  # no ETH position: nothing paid
    payments = await venue.funding_payments("BTC", utc_from_ms(base - 1000))
    truth = await paid(control, name)
    assert [p.amount for p in payments] == [Decimal(t["amount"]) for t in truth]
    assert [1 if p.amount > 0 else -1 for p in payments] == signs
    assert [p.at for p in payments] == [utc_from_ms(base), utc_from_ms(base + 1000)]
    assert {(p.venue, p.symbol, p.asset) for p in payments} == {(name, "BTC", ASSET[name])}
    assert len({p.payment_id for p in payments}) == 2


async def test_since_and_until_bound_the_window_and_all_symbols_are_read(
    venue: Venue, control: httpx.AsyncClient, name: str
) -> None:
    await open_position(venue, Side.BUY)
    base = time.time_ns() // 1_000_000 - 60_000
    for k in range(3):
        await settle(control, name, "BTC", "0.0001", base + k * 1000)
    middle = await venue.funding_payments("BTC", utc_from_ms(base + 1), utc_from_ms(base + 2000))
    assert [p.at for p in middle] == [utc_from_ms(base + 1000)]
    assert await venue.funding_payments("BTC", utc_from_ms(base + 2001)) == []
    every = await venue.funding_payments(None, utc_from_ms(base) - timedelta(hours=1))
    assert len(every) == 3


async def test_a_payment_read_twice_is_journaled_once(
    venue: Venue, control: httpx.AsyncClient, name: str, tmp_path: Path
) -> None:
    await open_position(venue, Side.SELL)
    base = time.time_ns() // 1_000_000 - 60_000
    await settle(control, name, "BTC", "0.0001", base)
    journal = Journal(tmp_path / "journal.sqlite")
    run_id = journal.start_run("bootstrap", "paper")
    first = journal.record_funding(run_id, await venue.funding_payments("BTC", utc_from_ms(base - 1000)))
    await settle(control, name, "BTC", "0.0001", base + 1000)
    second = journal.record_funding(run_id, await venue.funding_payments("BTC", utc_from_ms(base - 1000)))
    assert (len(first), len(second)) == (1, 1)
    assert second[0].at == utc_from_ms(base + 1000)
    assert journal.funding_by_run([run_id]) == {
        run_id: {ASSET[name]: sum(Decimal(t["amount"]) for t in await paid(control, name))}
    }
    journal.close()
