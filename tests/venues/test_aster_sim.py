"""AsterVenue end-to-end against the simulator's aster dialect, with both auth schemes and every fault kind.

The simulator is the referee: it verifies the HMAC and EIP-712 signatures and nonces, and /_sim/state is
the ground truth for positions and balances.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import Mode, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from hedgectl.errors import AuthError, OrderRejected, RateLimited, SymbolNotListed, Unavailable
from hedgectl.sim import credentials
from hedgectl.sim.server import Running
from hedgectl.venues.aster import AsterVenue
from hedgectl.venues.base import Venue
from hedgectl.venues.config import VenueConfig

pytestmark = pytest.mark.e2e

V3_KEYS = ("user", "signer", "private_key")
V1_KEYS = ("api_key", "api_secret")
SIM_CREDS = credentials.all_credentials()["aster"]
QTY = Decimal("0.010")


@pytest.fixture
def sim_seed() -> int:
    return 11


def _venue(sim: Running, keys: tuple[str, ...], creds: dict[str, str] | None = None) -> AsterVenue:
    source = creds or SIM_CREDS
    config = VenueConfig(
        name="aster",
        mode=Mode.PAPER,
        base_url=f"{sim.url}/aster",
        credentials={k: SecretStr(source[k]) for k in keys},
        timeout_s=0.5,  # the timeout faults hold the connection until we give up
    )
    return AsterVenue(config, reconcile_delays_s=(0.0, 0.05, 0.1))


@pytest.fixture(params=[V3_KEYS, V1_KEYS], ids=["v3", "v1"])
async def venue(request: pytest.FixtureRequest, sim_server: Running) -> AsyncIterator[AsterVenue]:
    adapter = _venue(sim_server, request.param)
    try:
        yield adapter
    finally:
        await adapter.close()


async def _state(control: httpx.AsyncClient) -> dict[str, Any]:
    reply = await control.get("/_sim/state")
    reply.raise_for_status()
    return reply.json()["venues"]["aster"]  # type: ignore[no-any-return]


async def _sim_position(control: httpx.AsyncClient, base: str) -> Decimal:
    rows = [p for p in (await _state(control))["positions"] if p["base"] == base]
    return sum((Decimal(p["qty"]) for p in rows), Decimal(0))


async def _fault(control: httpx.AsyncClient, op: str, kind: str, **extra: Any) -> None:
    reply = await control.post("/_sim/faults", json={"venue": "aster", "op": op, "kind": kind, **extra})
    reply.raise_for_status()


async def _create_requests(control: httpx.AsyncClient, cid: str) -> int:
    rows = (await control.get("/_sim/requests")).json()
    rows = rows["requests"] if isinstance(rows, dict) else rows
    return sum(1 for r in rows if r["op"] == "create_order" and r["client_order_id"] == cid)


def _market(side: Side = Side.BUY, qty: Decimal = QTY) -> OrderRequest:
    return OrderRequest("BTC", side, OrderType.MARKET, qty, client_order_id=new_client_order_id())


async def _resting_limit(venue: AsterVenue) -> OrderRequest:
    quote = await venue.fetch_quote("BTC")
    price = (quote.bid * Decimal("0.97")).quantize(Decimal("0.1"))
    return OrderRequest(
        "BTC",
        Side.BUY,
        OrderType.LIMIT,
        QTY,
        client_order_id=new_client_order_id(),
        price=price,
        time_in_force=TimeInForce.POST_ONLY,
    )


# --- the happy path, both schemes ---------------------------------------------------------------


async def test_markets_quote_and_book_match_the_simulator(venue: AsterVenue, sim_server: Running) -> None:
    assert isinstance(venue, Venue)
    markets = await venue.load_markets()
    assert {"BTC", "ETH", "SOL", "ASTER"} <= set(markets)
    truth = sim_server.sim.engine.instrument("aster", "BTCUSDT")
    btc = markets["BTC"]
    assert (btc.venue_symbol, btc.tick_size, btc.step_size) == ("BTCUSDT", truth.tick_size, truth.step_size)
    assert btc.min_notional == truth.min_notional
    quote = await venue.fetch_quote("btc/usdt")
    assert 0 < quote.bid < quote.ask
    assert quote.mark is not None
    assert quote.funding_rate is not None
    assert quote.next_funding_at is not None
    assert quote.funding_interval is not None
    assert quote.funding_interval.total_seconds() * 1000 == truth.funding_interval_ms
    book = await venue.fetch_book("BTC", depth=5)
    assert len(book.bids) == 5
    assert book.bids[0].price == quote.bid
    assert book.asks[0].price == quote.ask
    with pytest.raises(SymbolNotListed):
        await venue.fetch_quote("NOPE")


async def test_orders_positions_balances_and_fills_round_trip(venue: AsterVenue, control: httpx.AsyncClient) -> None:
    ack = await venue.place_order(_market())
    assert (ack.status, ack.fee) == (OrderStatus.FILLED, None)  # the ack as is: fees are read on demand
    bought = await venue.fetch_order("BTC", order_id=ack.order_id)
    assert bought.status is OrderStatus.FILLED
    assert bought.filled_qty == QTY
    assert bought.avg_price is not None
    assert bought.fee is not None
    assert bought.fee > 0
    assert await _sim_position(control, "BTC") == QTY
    [position] = await venue.fetch_positions("BTC")
    assert position.qty == QTY

    resting = await _resting_limit(venue)
    placed = await venue.place_order(resting)
    assert placed.status is OrderStatus.NEW
    assert [o.order_id for o in await venue.fetch_open_orders("BTC")] == [placed.order_id]
    assert (await venue.fetch_order("BTC", client_order_id=resting.client_order_id)).order_id == placed.order_id
    assert (await venue.fetch_order("BTC", order_id=placed.order_id)).client_order_id == resting.client_order_id
    assert len((await _state(control))["open_orders"]) == 1
    cancelled = await venue.cancel_order("BTC", client_order_id=resting.client_order_id)
    assert cancelled.status is OrderStatus.CANCELED
    assert (await _state(control))["open_orders"] == []

    fills = await venue.fetch_fills("BTC", order_id=bought.order_id)
    assert sum(f.qty for f in fills) == QTY
    assert sum(f.fee for f in fills) == bought.fee

    balances = {b.asset: b for b in await venue.fetch_balances()}
    assert "USDT" in balances
    assert balances["USDT"].total == Decimal((await _state(control))["balances"]["USDT"])

    closed = await venue.place_order(
        OrderRequest("BTC", Side.SELL, OrderType.MARKET, QTY, new_client_order_id(), None, True)
    )
    assert closed.status is OrderStatus.FILLED
    assert closed.reduce_only
    assert await _sim_position(control, "BTC") == 0
    assert await venue.fetch_positions() == []


async def test_cancel_all_cancels_every_symbol(venue: AsterVenue, control: httpx.AsyncClient) -> None:
    first = await venue.place_order(await _resting_limit(venue))
    eth_quote = await venue.fetch_quote("ETH")
    eth = OrderRequest(
        "ETH",
        Side.SELL,
        OrderType.LIMIT,
        Decimal("0.1"),
        new_client_order_id(),
        price=(eth_quote.ask * Decimal("1.03")).quantize(Decimal("0.01")),
    )
    second = await venue.place_order(eth)
    cancelled = await venue.cancel_all_orders()
    assert {o.order_id: o.status for o in cancelled} == {
        first.order_id: OrderStatus.CANCELED,
        second.order_id: OrderStatus.CANCELED,
    }
    assert (await _state(control))["open_orders"] == []


async def test_server_time_is_close_to_ours(venue: AsterVenue) -> None:
    at = await venue.fetch_server_time()
    assert at.tzinfo is not None


# --- credentials the simulator refuses ---------------------------------------------------------


async def test_a_wrong_hmac_secret_is_an_auth_error(sim_server: Running) -> None:
    venue = _venue(sim_server, V1_KEYS, dict(SIM_CREDS, api_secret="0" * 64))
    with pytest.raises(AuthError, match="aster"):
        await venue.fetch_balances()
    await venue.close()


async def test_an_api_wallet_the_venue_does_not_know_is_an_auth_error(sim_server: Running) -> None:
    other_key = "0x" + "42" * 32
    from hedgectl.venues.aster.auth import address_of

    stranger = {"user": SIM_CREDS["user"], "signer": address_of(other_key), "private_key": other_key}
    venue = _venue(sim_server, V3_KEYS, stranger)
    with pytest.raises(AuthError, match="aster"):
        await venue.fetch_balances()
    await venue.close()


# --- faults -----------------------------------------------------------------------------------


async def test_a_rejected_order_is_order_rejected_and_nothing_is_placed(
    venue: AsterVenue, control: httpx.AsyncClient
) -> None:
    await _fault(control, "create_order", "reject")
    with pytest.raises(OrderRejected, match="-2010"):
        await venue.place_order(_market())
    assert await _sim_position(control, "BTC") == 0


@pytest.mark.parametrize("kind", ["http_500", "timeout", "disconnect"])
async def test_an_order_lost_before_it_took_effect_is_reported_not_placed(
    venue: AsterVenue, control: httpx.AsyncClient, kind: str
) -> None:
    await _fault(control, "create_order", kind)
    request = _market()
    with pytest.raises(Unavailable, match="not placed"):
        await venue.place_order(request)
    assert await _create_requests(control, request.client_order_id) == 1, "never resent"
    assert await _sim_position(control, "BTC") == 0


async def test_accept_then_timeout_is_reconciled_by_client_id(venue: AsterVenue, control: httpx.AsyncClient) -> None:
    await _fault(control, "create_order", "accept_then_timeout")
    request = _market()
    order = await venue.place_order(request)
    assert order.client_order_id == request.client_order_id
    assert order.status is OrderStatus.FILLED
    assert order.filled_qty == QTY
    assert await _create_requests(control, request.client_order_id) == 1, "never resent"
    assert await _sim_position(control, "BTC") == QTY


async def test_an_order_rate_limit_is_rate_limited_and_not_resent(
    venue: AsterVenue, control: httpx.AsyncClient
) -> None:
    await _fault(control, "create_order", "rate_limit")
    request = _market()
    with pytest.raises(RateLimited):
        await venue.place_order(request)
    assert await _create_requests(control, request.client_order_id) == 1
    assert await _sim_position(control, "BTC") == 0


@pytest.mark.parametrize("kind", ["http_500", "rate_limit", "timeout", "disconnect", "reject"])
async def test_reads_ride_out_a_transient_fault(venue: AsterVenue, control: httpx.AsyncClient, kind: str) -> None:
    await venue.place_order(_market())
    await _fault(control, "fetch_positions", kind)
    [position] = await venue.fetch_positions()
    assert position.qty == QTY


async def test_partial_fill_of_a_market_order_reports_what_filled(
    venue: AsterVenue, control: httpx.AsyncClient
) -> None:
    await _fault(control, "create_order", "partial_fill", fill_ratio="0.5")
    order = await venue.place_order(_market())
    assert order.filled_qty == QTY / 2
    assert order.status is OrderStatus.EXPIRED
    assert await _sim_position(control, "BTC") == QTY / 2


async def test_partial_fill_of_a_limit_order_leaves_the_rest_open(
    venue: AsterVenue, control: httpx.AsyncClient
) -> None:
    quote = await venue.fetch_quote("BTC")
    await _fault(control, "create_order", "partial_fill", fill_ratio="0.5")
    request = OrderRequest("BTC", Side.BUY, OrderType.LIMIT, QTY, new_client_order_id(), price=quote.ask)
    order = await venue.place_order(request)
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.filled_qty == QTY / 2
    fills = await venue.fetch_fills("BTC", order_id=order.order_id)  # the fee of the filled half
    assert sum(f.qty for f in fills) == QTY / 2
    assert sum(f.fee for f in fills) > 0
    [still_open] = await venue.fetch_open_orders("BTC")
    assert still_open.remaining_qty == QTY / 2
    cancelled = await venue.cancel_order("BTC", order_id=order.order_id)
    assert cancelled.status is OrderStatus.CANCELED
    assert cancelled.filled_qty == QTY / 2


@pytest.mark.parametrize("kind", ["timeout", "disconnect", "http_500"])
async def test_a_cancel_without_a_reply_is_checked_and_completed(
    venue: AsterVenue, control: httpx.AsyncClient, kind: str
) -> None:
    placed = await venue.place_order(await _resting_limit(venue))
    await _fault(control, "cancel_order", kind)
    cancelled = await venue.cancel_order("BTC", order_id=placed.order_id)
    assert cancelled.status is OrderStatus.CANCELED
    assert (await _state(control))["open_orders"] == []


async def test_a_lookup_fault_is_ridden_out(venue: AsterVenue, control: httpx.AsyncClient) -> None:
    placed = await venue.place_order(await _resting_limit(venue))
    await _fault(control, "fetch_order", "http_500")
    assert (await venue.fetch_order("BTC", order_id=placed.order_id)).status is OrderStatus.NEW
