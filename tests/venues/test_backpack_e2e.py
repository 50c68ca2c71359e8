"""BackpackVenue end to end against the simulator's /backpack dialect (real HTTP, real signatures, faults)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hedgectl.domain.ids import new_client_order_id, uint32_client_id
from hedgectl.domain.types import Mode, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from hedgectl.errors import (
    AuthError,
    InsufficientFunds,
    OrderRejected,
    RateLimited,
    SymbolNotListed,
    Unavailable,
)
from hedgectl.sim import credentials
from hedgectl.sim.server import Running
from hedgectl.venues.backpack import BackpackVenue
from hedgectl.venues.backpack.auth import public_key_b64
from hedgectl.venues.config import VenueConfig

pytestmark = pytest.mark.e2e

WINDOW_MS = 500  # short signature window: "not placed" is concluded after it
TIMEOUT_S = 0.5  # as the other venues' in-process tests: a timeout fault holds the connection this long


@pytest.fixture
def sim(sim_server: Running) -> Running:
    return sim_server


def config(sim: Running, **overrides: Any) -> VenueConfig:
    fields: dict[str, Any] = {
        "name": "backpack",
        "mode": Mode.PAPER,
        "base_url": sim.url + "/backpack",
        "credentials": {
            "api_key": SecretStr(credentials.BACKPACK_API_KEY),
            "api_secret": SecretStr(credentials.BACKPACK_API_SECRET),
        },
        "timeout_s": TIMEOUT_S,
        "recv_window_ms": WINDOW_MS,
    }
    fields.update(overrides)
    return VenueConfig(**fields)


@pytest.fixture
async def venue(sim: Running) -> AsyncIterator[BackpackVenue]:
    v = BackpackVenue(config(sim))
    yield v
    await v.close()


async def state(control: httpx.AsyncClient) -> dict[str, Any]:
    reply = await control.get("/_sim/state")
    return dict(reply.json()["venues"]["backpack"])


async def fault(control: httpx.AsyncClient, op: str, kind: str, **extra: Any) -> None:
    reply = await control.post("/_sim/faults", json={"venue": "backpack", "op": op, "kind": kind, **extra})
    assert reply.status_code == 200, reply.text


async def requests_to(control: httpx.AsyncClient, method: str, path: str) -> list[dict[str, Any]]:
    rows = (await control.get("/_sim/requests", params={"venue": "backpack"})).json()
    return [r for r in rows if r["method"] == method and r["path"].endswith(path)]


def market_buy(qty: str = "0.01", cid: str | None = None, **extra: Any) -> OrderRequest:
    return OrderRequest(
        symbol="BTC",
        side=Side.BUY,
        type=OrderType.MARKET,
        qty=Decimal(qty),
        client_order_id=cid or new_client_order_id(),
        **extra,
    )


async def passive_limit(venue: BackpackVenue, side: Side = Side.BUY, qty: str = "0.01", **extra: Any) -> OrderRequest:
    quote = await venue.fetch_quote("BTC")
    away = Decimal("0.98") if side is Side.BUY else Decimal("1.02")
    price = (quote.mid * away).quantize(Decimal("0.1"))
    return OrderRequest(
        symbol="BTC",
        side=side,
        type=OrderType.LIMIT,
        qty=Decimal(qty),
        price=price,
        client_order_id=new_client_order_id(),
        **extra,
    )


# --- market data ----------------------------------------------------------------------------------------


async def test_markets_quote_and_book(venue: BackpackVenue) -> None:
    markets = await venue.load_markets()
    assert {"BTC", "ETH", "SOL", "ASTER"} <= set(markets)
    assert markets["ASTER"].venue_symbol == "ASTER_USDC_PERP"
    assert all(m.min_notional == 0 and m.quote == "USDC" for m in markets.values())
    quote = await venue.fetch_quote("BTC")
    assert 0 < quote.bid < quote.ask
    assert quote.mark is not None
    assert quote.bid < quote.mark < quote.ask
    assert quote.funding_rate is not None
    assert quote.funding_interval == timedelta(hours=1)
    assert quote.next_funding_at is not None
    book = await venue.fetch_book("ETH", depth=10)
    assert len(book.bids) == 10
    assert [lv.price for lv in book.bids] == sorted((lv.price for lv in book.bids), reverse=True)
    assert [lv.price for lv in book.asks] == sorted(lv.price for lv in book.asks)
    with pytest.raises(SymbolNotListed):
        await venue.market("DOGE")
    skew = (await venue.fetch_server_time()).timestamp() - time.time()
    assert abs(skew) < 5


async def test_wrong_keys_are_an_auth_error(sim: Running) -> None:
    seed = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    v = BackpackVenue(
        config(sim, credentials={"api_key": SecretStr(public_key_b64(seed)), "api_secret": SecretStr(seed)})
    )
    with pytest.raises(AuthError):
        await v.fetch_balances()
    await v.close()


# --- orders, positions, balances, fills -----------------------------------------------------------------


async def test_market_order_fills_opens_a_position_and_resolves_through_history(
    venue: BackpackVenue, control: httpx.AsyncClient
) -> None:
    [before] = await venue.fetch_balances()
    order = await venue.place_order(market_buy("0.01"))
    assert order.status is OrderStatus.FILLED
    assert order.filled_qty == Decimal("0.01")
    assert order.avg_price is not None
    [position] = await venue.fetch_positions()
    assert (position.symbol, position.qty) == ("BTC", Decimal("0.01"))
    sim_state = await state(control)
    assert [(p["symbol"], Decimal(p["qty"])) for p in sim_state["positions"]] == [("BTC_USDC_PERP", Decimal("0.01"))]
    # Filled: GET /api/v1/order is 404, so the answer comes from history and fills.
    fetched = await venue.fetch_order("BTC", order_id=order.order_id)
    assert fetched.status is OrderStatus.FILLED
    assert fetched.client_order_id == order.client_order_id
    assert fetched.fee is not None
    assert fetched.fee > 0
    assert fetched.fee_asset == "USDC"
    assert fetched.fee == Decimal(sim_state["fees_paid"])
    assert await requests_to(control, "GET", "/wapi/v1/history/orders")
    [fill] = await venue.fetch_fills("BTC", order_id=order.order_id)
    assert (fill.qty, fill.fee, fill.is_maker) == (Decimal("0.01"), fetched.fee, False)
    [after] = await venue.fetch_balances()
    assert after.asset == "USDC"
    assert after.total < before.total


async def test_reduce_only_closes_and_cannot_open(venue: BackpackVenue, control: httpx.AsyncClient) -> None:
    with pytest.raises(OrderRejected):
        await venue.place_order(
            OrderRequest("BTC", Side.SELL, OrderType.MARKET, Decimal("0.01"), new_client_order_id(), reduce_only=True)
        )
    await venue.place_order(market_buy("0.02"))
    close = await venue.place_order(
        OrderRequest("BTC", Side.SELL, OrderType.MARKET, Decimal("0.02"), new_client_order_id(), reduce_only=True)
    )
    assert close.status is OrderStatus.FILLED
    assert close.reduce_only is True
    assert await venue.fetch_positions() == []
    assert (await state(control))["positions"] == []


async def test_resting_limit_then_filled_is_found_after_it_left_the_book(
    venue: BackpackVenue, control: httpx.AsyncClient
) -> None:
    request = await passive_limit(venue)
    placed = await venue.place_order(request)
    assert placed.status is OrderStatus.NEW
    [listed] = await venue.fetch_open_orders("BTC")
    assert (listed.order_id, listed.client_order_id) == (placed.order_id, request.client_order_id)
    [resting] = (await state(control))["open_orders"]
    assert str(resting["client_order_id"]) == str(uint32_client_id(request.client_order_id))
    reply = await control.post("/_sim/fill", json={"venue": "backpack", "order_id": placed.order_id})
    assert reply.json()["fills"]
    fetched = await venue.fetch_order("BTC", client_order_id=request.client_order_id)
    assert fetched.status is OrderStatus.FILLED
    assert fetched.avg_price == request.price
    assert fetched.fee is not None
    assert await venue.fetch_open_orders() == []


async def test_post_only_that_would_cross_comes_back_expired(venue: BackpackVenue) -> None:
    quote = await venue.fetch_quote("BTC")
    order = await venue.place_order(
        OrderRequest(
            "BTC",
            Side.BUY,
            OrderType.LIMIT,
            Decimal("0.01"),
            new_client_order_id(),
            price=(quote.ask * Decimal("1.01")).quantize(Decimal("0.1")),
            time_in_force=TimeInForce.POST_ONLY,
        )
    )
    assert order.status is OrderStatus.EXPIRED
    assert order.filled_qty == 0


async def test_cancel_reports_the_partial_fill_and_a_second_cancel_resolves_through_history(
    venue: BackpackVenue, control: httpx.AsyncClient
) -> None:
    request = await passive_limit(venue, Side.SELL, qty="0.02")
    placed = await venue.place_order(request)
    await control.post("/_sim/fill", json={"venue": "backpack", "order_id": placed.order_id, "ratio": "0.5"})
    cancelled = await venue.cancel_order("BTC", order_id=placed.order_id)
    assert cancelled.status is OrderStatus.CANCELED
    assert cancelled.filled_qty == Decimal("0.01")
    assert cancelled.fee is not None
    again = await venue.cancel_order("BTC", client_order_id=request.client_order_id)
    assert (again.status, again.filled_qty) == (OrderStatus.CANCELED, Decimal("0.01"))
    assert (await state(control))["open_orders"] == []


async def test_cancel_all(venue: BackpackVenue, control: httpx.AsyncClient) -> None:
    for _ in range(2):
        await venue.place_order(await passive_limit(venue))
    cancelled = await venue.cancel_all_orders()
    assert len(cancelled) == 2
    assert all(o.status is OrderStatus.CANCELED for o in cancelled)
    assert (await state(control))["open_orders"] == []


# --- faults ---------------------------------------------------------------------------------------------


async def test_reject_fault_is_the_venue_refusal(venue: BackpackVenue, control: httpx.AsyncClient) -> None:
    await venue.load_markets()
    await fault(control, "create_order", "reject")
    with pytest.raises(InsufficientFunds):
        await venue.place_order(market_buy())
    assert (await state(control))["positions"] == []
    assert len(await requests_to(control, "POST", "/api/v1/order")) == 1


@pytest.mark.parametrize("kind", ["http_500", "timeout", "disconnect"])
async def test_an_order_that_was_not_placed_is_reported_so_and_never_resent(
    venue: BackpackVenue, control: httpx.AsyncClient, kind: str
) -> None:
    await venue.load_markets()
    await fault(control, "create_order", kind)
    with pytest.raises(Unavailable, match="was not placed"):
        await venue.place_order(market_buy())
    assert len(await requests_to(control, "POST", "/api/v1/order")) == 1
    assert (await state(control))["positions"] == []


async def test_accept_then_timeout_is_reconciled_by_client_id(venue: BackpackVenue, control: httpx.AsyncClient) -> None:
    await venue.load_markets()
    await fault(control, "create_order", "accept_then_timeout")
    request = market_buy("0.01")
    order = await venue.place_order(request)
    assert order.status is OrderStatus.FILLED
    assert order.client_order_id == request.client_order_id
    assert order.fee is not None
    assert len(await requests_to(control, "POST", "/api/v1/order")) == 1
    assert [Decimal(p["qty"]) for p in (await state(control))["positions"]] == [Decimal("0.01")]


async def test_accept_then_timeout_of_a_resting_order_finds_it_open(
    venue: BackpackVenue, control: httpx.AsyncClient
) -> None:
    request = await passive_limit(venue)
    await fault(control, "create_order", "accept_then_timeout")
    order = await venue.place_order(request)
    assert order.status is OrderStatus.NEW
    assert order.client_order_id == request.client_order_id


async def test_a_rate_limited_order_is_raised_not_retried(venue: BackpackVenue, control: httpx.AsyncClient) -> None:
    await venue.load_markets()
    await fault(control, "create_order", "rate_limit")
    with pytest.raises(RateLimited):
        await venue.place_order(market_buy())
    assert len(await requests_to(control, "POST", "/api/v1/order")) == 1


@pytest.mark.parametrize("kind", ["http_500", "rate_limit", "disconnect", "timeout"])
async def test_reads_are_retried_through_transient_faults(
    venue: BackpackVenue, control: httpx.AsyncClient, kind: str
) -> None:
    await venue.place_order(market_buy("0.01"))
    await fault(control, "fetch_positions", kind)
    [position] = await venue.fetch_positions()
    assert position.qty == Decimal("0.01")
    assert len(await requests_to(control, "GET", "/api/v1/position")) == 2


async def test_partial_fill_fault_leaves_the_rest_open_then_cancel_keeps_the_fill(
    venue: BackpackVenue, control: httpx.AsyncClient
) -> None:
    request = await passive_limit(venue, qty="0.04")
    await fault(control, "create_order", "partial_fill", fill_ratio="0.25")
    order = await venue.place_order(request)
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.filled_qty == Decimal("0.01")
    cancelled = await venue.cancel_order("BTC", order_id=order.order_id)
    assert (cancelled.status, cancelled.filled_qty) == (OrderStatus.CANCELED, Decimal("0.01"))
    [position] = await venue.fetch_positions("BTC")
    assert position.qty == Decimal("0.01")


async def test_a_fetch_order_fault_is_retried(venue: BackpackVenue, control: httpx.AsyncClient) -> None:
    placed = await venue.place_order(await passive_limit(venue))
    await fault(control, "fetch_order", "http_500")
    fetched = await venue.fetch_order("BTC", order_id=placed.order_id)
    assert fetched.status is OrderStatus.NEW
