"""The native Binance (BinanceVenue) and OKX (OkxVenue) adapters end to end against the simulator: real HTTP,
real signatures, faults (one suite for both: what one venue is tested for, the other is too).

The end state is read from the simulator's /_sim/state and /_sim/requests, not from the adapter.
"""

from __future__ import annotations

import time
import types
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import Mode, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from hedgectl.errors import InsufficientFunds, OrderRejected, RateLimited, SymbolNotListed, Unavailable
from hedgectl.sim.credentials import all_credentials
from hedgectl.sim.instruments import build_instruments
from hedgectl.sim.server import Running
from hedgectl.venues.binance import BinanceVenue
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit import time_offset
from hedgectl.venues.okx import OkxVenue

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("name", ["binance", "okx"])]

D = Decimal
SEED = 7
QTY = {"binance": D("0.010"), "okx": D("0.01")}  # whole steps on both (OKX: whole lots of contracts)


Adapter = BinanceVenue | OkxVenue


@pytest.fixture
async def venue(sim_server: Running, name: str) -> AsyncIterator[Adapter]:
    creds = {k: SecretStr(v) for k, v in all_credentials()[name].items()}
    config = VenueConfig(name, Mode.PAPER, f"{sim_server.url}/{name}", credentials=creds, timeout_s=0.5)
    adapter: Adapter
    if name == "binance":
        adapter = BinanceVenue(config, reconcile_delays_s=(0.0, 0.05, 0.1))
    else:
        adapter = OkxVenue(config, reconcile_delays_s=(0.0, 0.05, 0.1))
    try:
        yield adapter
    finally:
        await adapter.close()


def order(side: Side, qty: Decimal, kind: OrderType = OrderType.MARKET, **kwargs: Any) -> OrderRequest:
    return OrderRequest("BTC", side, kind, qty, new_client_order_id(), **kwargs)


async def sim_state(control: httpx.AsyncClient, name: str) -> dict[str, Any]:
    reply = await control.get("/_sim/state")
    return reply.json()["venues"][name]  # type: ignore[no-any-return]


async def sim_position(control: httpx.AsyncClient, name: str, base: str = "BTC") -> Decimal:
    positions = (await sim_state(control, name))["positions"]
    return sum((D(p["qty"]) for p in positions if p["base"] == base), D(0))


async def creates(control: httpx.AsyncClient, name: str) -> list[dict[str, Any]]:
    rows = (await control.get("/_sim/requests", params={"venue": name})).json()
    return [r for r in rows if r["op"] == "create_order"]


async def fault(control: httpx.AsyncClient, name: str, op: str, kind: str, **extra: Any) -> None:
    reply = await control.post("/_sim/faults", json={"venue": name, "op": op, "kind": kind, **extra})
    assert reply.status_code == 200, reply.text


async def resting_buy_price(venue: Adapter) -> Decimal:
    quote = await venue.fetch_quote("BTC")
    market = await venue.market("BTC")
    return ((quote.bid * D("0.98")) // market.tick_size) * market.tick_size


# ---- market data ----------------------------------------------------------------------------------------


async def test_markets_match_the_simulator_rules_in_base_units(venue: Adapter, name: str) -> None:
    markets = await venue.load_markets()
    assert {"BTC", "ETH", "SOL", "ASTER"} <= set(markets)
    for inst in build_instruments()[name].values():
        market = markets[inst.base]
        assert market.venue_symbol == inst.symbol
        assert (market.tick_size, market.step_size, market.min_qty) == (inst.tick_size, inst.step_size, inst.min_qty)
        assert market.contract_size == inst.contract_value


async def test_unknown_symbol_is_not_listed(venue: Adapter, name: str) -> None:
    with pytest.raises(SymbolNotListed, match=f"{name}: no linear USDT perpetual for DOGE"):
        await venue.market("DOGE")


async def test_quote_has_top_of_book_mark_and_funding(venue: Adapter, name: str) -> None:
    quote = await venue.fetch_quote("BTC")
    assert 0 < quote.bid < quote.ask
    assert quote.mark is not None
    assert quote.mark > 0
    assert quote.funding_rate is not None
    assert quote.funding_interval is not None
    assert quote.funding_interval.total_seconds() == 8 * 3600
    assert quote.next_funding_at is not None


async def test_book_is_sorted_in_base_units(venue: Adapter, name: str) -> None:
    book = await venue.fetch_book("BTC", depth=5)
    assert 0 < len(book.bids) <= 5
    assert 0 < len(book.asks) <= 5
    assert [b.price for b in book.bids] == sorted((b.price for b in book.bids), reverse=True)
    assert [a.price for a in book.asks] == sorted(a.price for a in book.asks)
    assert book.bids[0].price < book.asks[0].price
    market = await venue.market("BTC")
    assert all(level.qty % market.step_size == 0 for level in book.bids + book.asks)


# ---- orders, positions, fills -----------------------------------------------------------------------------


async def test_market_buy_fills_with_fee_and_opens_a_signed_base_position(
    venue: Adapter, control: httpx.AsyncClient, name: str
) -> None:
    ack = await venue.place_order(order(Side.BUY, QTY[name]))
    placed = await venue.fetch_order("BTC", order_id=ack.order_id)  # the ack carries no fee: read it
    assert placed.status is OrderStatus.FILLED
    assert placed.filled_qty == QTY[name]
    assert placed.avg_price is not None
    assert placed.fee is not None
    assert placed.fee > 0
    assert placed.fee == pytest.approx(placed.filled_qty * placed.avg_price * D("0.0005"), rel=D("0.01"))
    positions = await venue.fetch_positions("BTC")
    assert [(p.symbol, p.qty) for p in positions] == [("BTC", QTY[name])]
    assert await sim_position(control, name) == QTY[name]
    fills = await venue.fetch_fills("BTC", order_id=placed.order_id)
    assert sum(f.qty for f in fills) == QTY[name]
    assert sum(f.fee for f in fills) == placed.fee


async def test_market_sell_opens_a_short(venue: Adapter, control: httpx.AsyncClient, name: str) -> None:
    await venue.place_order(order(Side.SELL, QTY[name] * 3))
    assert [p.qty for p in await venue.fetch_positions()] == [-QTY[name] * 3]
    assert await sim_position(control, name) == -QTY[name] * 3


async def test_reduce_only_closes_and_cannot_open(venue: Adapter, control: httpx.AsyncClient, name: str) -> None:
    with pytest.raises(OrderRejected):
        await venue.place_order(order(Side.SELL, QTY[name], reduce_only=True))
    await venue.place_order(order(Side.BUY, QTY[name]))
    ack = await venue.place_order(order(Side.SELL, QTY[name], reduce_only=True))
    closed = await venue.fetch_order("BTC", order_id=ack.order_id)
    assert closed.status is OrderStatus.FILLED
    assert closed.reduce_only
    assert await venue.fetch_positions() == []
    assert await sim_position(control, name) == 0


async def test_limit_order_rests_is_found_by_id_and_client_id_and_cancels(
    venue: Adapter, control: httpx.AsyncClient, name: str
) -> None:
    price = await resting_buy_price(venue)
    request = order(Side.BUY, QTY[name], OrderType.LIMIT, price=price, time_in_force=TimeInForce.POST_ONLY)
    placed = await venue.place_order(request)
    assert placed.status is OrderStatus.NEW
    assert (placed.price, placed.qty, placed.client_order_id) == (price, QTY[name], request.client_order_id)
    by_id = await venue.fetch_order("BTC", order_id=placed.order_id)
    by_cid = await venue.fetch_order("BTC", client_order_id=request.client_order_id)
    assert by_id.order_id == by_cid.order_id == placed.order_id
    assert [o.order_id for o in await venue.fetch_open_orders("BTC")] == [placed.order_id]
    cancelled = await venue.cancel_order("BTC", order_id=placed.order_id)
    assert cancelled.status is OrderStatus.CANCELED
    assert await venue.fetch_open_orders() == []
    assert (await sim_state(control, name))["open_orders"] == []


async def test_a_resting_order_filled_by_the_market_reports_its_fee(
    venue: Adapter, control: httpx.AsyncClient, name: str
) -> None:
    price = await resting_buy_price(venue)
    placed = await venue.place_order(order(Side.BUY, QTY[name], OrderType.LIMIT, price=price))
    reply = await control.post("/_sim/fill", json={"venue": name, "client_order_id": placed.client_order_id})
    assert reply.status_code == 200, reply.text
    filled = await venue.fetch_order("BTC", order_id=placed.order_id)
    assert filled.status is OrderStatus.FILLED
    assert filled.fee is not None
    assert filled.fee > 0
    # A cancel that lost the race against the fill returns the final state instead of failing.
    assert (await venue.cancel_order("BTC", order_id=placed.order_id)).status is OrderStatus.FILLED


async def test_cancel_all_orders_cancels_every_resting_order(
    venue: Adapter, control: httpx.AsyncClient, name: str
) -> None:
    price = await resting_buy_price(venue)
    ids = {(await venue.place_order(order(Side.BUY, QTY[name], OrderType.LIMIT, price=price))).order_id for _ in "ab"}
    cancelled = await venue.cancel_all_orders("BTC")
    assert {o.order_id for o in cancelled} == ids
    assert all(o.status is OrderStatus.CANCELED for o in cancelled)
    assert (await sim_state(control, name))["open_orders"] == []


async def test_balances_show_the_quote_asset(venue: Adapter, name: str) -> None:
    balances = {b.asset: b for b in await venue.fetch_balances()}
    assert balances["USDT"].total > 0
    assert balances["USDT"].free > 0


async def test_a_drifting_local_clock_is_corrected_by_the_measured_offset(
    venue: Adapter, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ahead = _FastClock(45.0)  # our clock runs 45 s fast; the simulator's does not
    monkeypatch.setattr(time_offset, "SYSTEM_CLOCK", ahead)
    assert await venue.fetch_balances()
    assert -46_000 < venue.clock_offset_ms < -44_000


class _FastClock(types.ModuleType):
    """The `time` module as our offset measurement and signing timestamps see it, running `ahead_s` fast."""

    def __init__(self, ahead_s: float) -> None:
        super().__init__("time")
        self.ahead_s = ahead_s

    def time(self) -> float:
        return time.time() + self.ahead_s

    def time_ns(self) -> int:
        return time.time_ns() + int(self.ahead_s * 1e9)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


# ---- faults -----------------------------------------------------------------------------------------------


async def test_reject_fault_is_a_rejection_without_a_lookup(
    venue: Adapter, control: httpx.AsyncClient, name: str
) -> None:
    await fault(control, name, "create_order", "reject")
    with pytest.raises((OrderRejected, InsufficientFunds)):
        await venue.place_order(order(Side.BUY, QTY[name]))
    rows = (await control.get("/_sim/requests", params={"venue": name})).json()
    assert [r["op"] for r in rows if r["op"] in ("create_order", "fetch_order")] == ["create_order"]


async def test_insufficient_margin_code_maps_exactly_against_the_simulator_url(
    venue: Adapter, control: httpx.AsyncClient, name: str
) -> None:
    code = {"binance": "-2019", "okx": "51008"}[name]
    await fault(control, name, "create_order", "reject", code=code, msg="Margin is insufficient.")
    with pytest.raises(InsufficientFunds, match=f"code {code}"):
        await venue.place_order(order(Side.BUY, QTY[name]))


async def test_http_500_on_create_is_looked_up_and_reported_not_placed(
    venue: Adapter, control: httpx.AsyncClient, name: str
) -> None:
    await fault(control, name, "create_order", "http_500")
    with pytest.raises(Unavailable, match="was not placed"):
        await venue.place_order(order(Side.BUY, QTY[name]))
    assert len(await creates(control, name)) == 1
    assert await sim_position(control, name) == 0


async def test_http_500_on_a_read_is_retried(venue: Adapter, control: httpx.AsyncClient, name: str) -> None:
    await venue.place_order(order(Side.BUY, QTY[name]))
    await fault(control, name, "fetch_positions", "http_500")
    assert [p.qty for p in await venue.fetch_positions()] == [QTY[name]]


async def test_rate_limit_on_create_is_rate_limited_and_not_resent(
    venue: Adapter, control: httpx.AsyncClient, name: str
) -> None:
    await fault(control, name, "create_order", "rate_limit")
    with pytest.raises(RateLimited):
        await venue.place_order(order(Side.BUY, QTY[name]))
    assert len(await creates(control, name)) == 1


async def test_timeout_on_create_is_looked_up_and_reported_not_placed(
    venue: Adapter, control: httpx.AsyncClient, name: str
) -> None:
    await fault(control, name, "create_order", "timeout")
    request = order(Side.BUY, QTY[name])
    with pytest.raises(Unavailable, match=f"{request.client_order_id} was not placed"):
        await venue.place_order(request)
    assert len(await creates(control, name)) == 1
    assert await sim_position(control, name) == 0


async def test_accept_then_timeout_returns_the_order_found_by_client_id(
    venue: Adapter, control: httpx.AsyncClient, name: str
) -> None:
    await fault(control, name, "create_order", "accept_then_timeout")
    request = order(Side.BUY, QTY[name])
    found = await venue.place_order(request)
    assert found.client_order_id == request.client_order_id
    placed = await venue.fetch_order("BTC", order_id=found.order_id)
    assert placed.status is OrderStatus.FILLED
    assert placed.fee is not None
    assert placed.fee > 0
    sent = await creates(control, name)
    assert [r["client_order_id"] for r in sent] == [request.client_order_id]
    assert await sim_position(control, name) == QTY[name]


async def test_disconnect_on_create_is_looked_up_and_reported_not_placed(
    venue: Adapter, control: httpx.AsyncClient, name: str
) -> None:
    await fault(control, name, "create_order", "disconnect")
    with pytest.raises(Unavailable, match="was not placed"):
        await venue.place_order(order(Side.BUY, QTY[name]))
    assert len(await creates(control, name)) == 1


async def test_disconnect_on_a_read_is_retried(venue: Adapter, control: httpx.AsyncClient, name: str) -> None:
    placed = await venue.place_order(order(Side.BUY, QTY[name]))
    await fault(control, name, "fetch_order", "disconnect")
    assert (await venue.fetch_order("BTC", order_id=placed.order_id)).status is OrderStatus.FILLED


async def test_partial_fill_of_a_market_order_reports_what_filled(
    venue: Adapter, control: httpx.AsyncClient, name: str
) -> None:
    await fault(control, name, "create_order", "partial_fill", fill_ratio="0.5")
    ack = await venue.place_order(order(Side.BUY, QTY[name] * 2))
    placed = await venue.fetch_order("BTC", order_id=ack.order_id)
    assert placed.filled_qty == QTY[name]
    assert placed.status in (OrderStatus.EXPIRED, OrderStatus.CANCELED)
    assert placed.fee is not None
    assert placed.fee > 0
    assert await sim_position(control, name) == QTY[name]


async def test_partial_fill_of_a_limit_order_leaves_the_rest_open(
    venue: Adapter, control: httpx.AsyncClient, name: str
) -> None:
    price = await resting_buy_price(venue)
    await fault(control, name, "create_order", "partial_fill", fill_ratio="0.5")
    ack = await venue.place_order(order(Side.BUY, QTY[name] * 2, OrderType.LIMIT, price=price))
    placed = await venue.fetch_order("BTC", order_id=ack.order_id)
    assert placed.status is OrderStatus.PARTIALLY_FILLED
    assert placed.filled_qty == QTY[name]
    assert placed.remaining_qty == QTY[name]
    assert [o.order_id for o in await venue.fetch_open_orders("BTC")] == [placed.order_id]
