"""StreamFeed: the maker/taker loop's fill feed over a venue's order stream (fallback to polling)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr

from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import Mode, Order, OrderRequest, OrderStatus, OrderType, Side
from hedgectl.engine.orders.feeds import OrderUpdate
from hedgectl.engine.orders.stream_feed import StreamFeed
from hedgectl.sim import credentials
from hedgectl.sim.server import Running
from hedgectl.venues.backpack import BackpackVenue
from hedgectl.venues.base import Venue
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.streams import EventSource, OrderEvent, StateHook, StreamState
from tests.waiting import loop_turns

STEP = 5.0


def order(order_id: str = "1", filled: str = "0", status: OrderStatus = OrderStatus.NEW) -> Order:
    return Order(
        venue="fake",
        symbol="BTC",
        order_id=order_id,
        client_order_id=None,
        side=Side.BUY,
        type=OrderType.LIMIT,
        status=status,
        qty=Decimal(1),
        filled_qty=Decimal(filled),
        price=Decimal(100),
    )


@dataclass
class StreamingFake:
    """A venue whose order stream the test writes to; `fail()` ends it with an error."""

    name: str = "fake"
    queue: asyncio.Queue[OrderEvent | Exception] = field(default_factory=asyncio.Queue)
    opened: list[str | None] = field(default_factory=list)

    def push(self, o: Order, received_ns: int = 0) -> None:
        self.queue.put_nowait(OrderEvent(o, None, EventSource.STREAM, received_ns or time.time_ns()))

    def fail(self) -> None:
        self.queue.put_nowait(RuntimeError("stream broke"))

    async def order_events(
        self, symbol: str | None = None, *, on_state: StateHook | None = None
    ) -> AsyncGenerator[OrderEvent, None]:
        self.opened.append(symbol)
        if on_state is not None:
            on_state(StreamState.UP, "subscribed")
        while True:
            item = await self.queue.get()
            if isinstance(item, Exception):
                raise item
            yield item


@dataclass
class RestOnly:
    name: str = "rest"


@dataclass
class ScriptedFallback:
    """A fallback feed that records its calls and yields a fixed update."""

    calls: list[Order] = field(default_factory=list)

    async def updates(self, venue: Venue, o: Order, *, until: float) -> AsyncGenerator[OrderUpdate, None]:
        self.calls.append(o)
        yield OrderUpdate(order=replace(o, status=OrderStatus.FILLED, filled_qty=o.qty), seen_ns=1)


@contextlib.asynccontextmanager
async def feed_for(fallback: ScriptedFallback | None = None) -> AsyncIterator[tuple[StreamFeed, asyncio.Event]]:
    stop = asyncio.Event()
    feed = StreamFeed(stop, fallback=fallback or ScriptedFallback())
    try:
        yield feed, stop
    finally:
        await feed.aclose()


async def collect(updates: AsyncGenerator[OrderUpdate, None]) -> list[OrderUpdate]:
    async with contextlib.aclosing(updates) as stream:
        return [u async for u in stream]


def soon(seconds: float = STEP) -> float:
    return time.monotonic() + seconds


async def test_fills_are_yielded_as_they_are_pushed_until_the_order_is_final() -> None:
    venue = StreamingFake()
    async with feed_for() as (feed, _):
        assert feed.warm(venue, "BTC")  # type: ignore[arg-type]
        task = asyncio.ensure_future(collect(feed.updates(venue, order(), until=soon())))  # type: ignore[arg-type]
        await loop_turns()  # one loop turn: the feed starts watching (events before that: only the latest)
        venue.push(order("2", "1", OrderStatus.FILLED))  # another order: ignored
        venue.push(order("1", "0", OrderStatus.NEW))  # no progress: ignored
        venue.push(order("1", "0.4", OrderStatus.PARTIALLY_FILLED), received_ns=11)
        venue.push(order("1", "1", OrderStatus.FILLED), received_ns=12)
        updates = await asyncio.wait_for(task, STEP)
    assert [(u.order.filled_qty, u.order.status, u.seen_ns) for u in updates] == [
        (Decimal("0.4"), OrderStatus.PARTIALLY_FILLED, 11),
        (Decimal(1), OrderStatus.FILLED, 12),
    ]
    assert venue.opened == ["BTC"]  # one stream, opened once


async def test_a_fill_pushed_before_anyone_watches_is_not_lost() -> None:
    venue = StreamingFake()
    async with feed_for() as (feed, _):
        feed.warm(venue, "BTC")  # type: ignore[arg-type]
        venue.push(order("1", "1", OrderStatus.FILLED), received_ns=5)
        await loop_turns(2)  # let the pump take it
        updates = await collect(feed.updates(venue, order(), until=soon()))  # type: ignore[arg-type]
    assert [(u.order.status, u.seen_ns) for u in updates] == [(OrderStatus.FILLED, 5)]


async def test_nothing_happens_until_the_deadline_or_a_stop() -> None:
    venue = StreamingFake()
    async with feed_for() as (feed, stop):
        assert await collect(feed.updates(venue, order(), until=soon(0.02))) == []  # type: ignore[arg-type]
        task = asyncio.ensure_future(collect(feed.updates(venue, order(), until=soon())))  # type: ignore[arg-type]
        await loop_turns()
        stop.set()
        assert await asyncio.wait_for(task, STEP) == []


async def test_a_venue_without_a_stream_uses_the_fallback() -> None:
    fallback = ScriptedFallback()
    async with feed_for(fallback) as (feed, _):
        assert not feed.warm(RestOnly(), "BTC")  # type: ignore[arg-type]
        updates = await collect(feed.updates(RestOnly(), order(), until=soon()))  # type: ignore[arg-type]
    assert [u.order.status for u in updates] == [OrderStatus.FILLED]
    assert fallback.calls == [order()]


async def test_a_failed_stream_falls_back_to_polling_from_the_last_state_seen() -> None:
    venue, fallback = StreamingFake(), ScriptedFallback()
    errors: list[str] = []
    stop = asyncio.Event()
    feed = StreamFeed(stop, fallback=fallback, on_error=errors.append)
    task = asyncio.ensure_future(collect(feed.updates(venue, order(), until=soon())))  # type: ignore[arg-type]
    venue.push(order("1", "0.5", OrderStatus.PARTIALLY_FILLED))
    venue.fail()
    updates = await asyncio.wait_for(task, STEP)
    await feed.aclose()
    assert [u.order.filled_qty for u in updates] == [Decimal("0.5"), Decimal(1)]
    assert [o.filled_qty for o in fallback.calls] == [Decimal("0.5")]
    assert errors
    assert "stream broke" in errors[0]


def sim_venue(sim_server: Running) -> BackpackVenue:
    return BackpackVenue(
        VenueConfig(
            name="backpack",
            mode=Mode.PAPER,
            base_url=sim_server.url + "/backpack",
            credentials={
                "api_key": SecretStr(credentials.BACKPACK_API_KEY),
                "api_secret": SecretStr(credentials.BACKPACK_API_SECRET),
            },
            timeout_s=2.0,
        )
    )


async def resting_buy(venue: BackpackVenue) -> Order:
    quote = await venue.fetch_quote("BTC")
    price = (quote.bid * Decimal("0.98")).quantize(Decimal("0.1"))
    return await venue.place_order(
        OrderRequest("BTC", Side.BUY, OrderType.LIMIT, Decimal("0.01"), new_client_order_id(), price=price)
    )


async def sim_fill(control: httpx.AsyncClient, placed: Order, ratio: str = "1") -> None:
    reply = await control.post("/_sim/fill", json={"venue": "backpack", "order_id": placed.order_id, "ratio": ratio})
    assert reply.status_code == 200, reply.text


@pytest.mark.e2e
async def test_a_maker_fill_at_the_simulator_reaches_the_feed(sim_server: Running, control: httpx.AsyncClient) -> None:
    venue = sim_venue(sim_server)
    try:
        async with feed_for() as (feed, _):
            feed.warm(venue, "BTC")
            placed = await resting_buy(venue)
            task = asyncio.ensure_future(collect(feed.updates(venue, placed, until=soon())))
            await sim_fill(control, placed)
            [update] = await asyncio.wait_for(task, STEP)
    finally:
        await venue.close()
    assert (update.order.status, update.order.filled_qty) == (OrderStatus.FILLED, Decimal("0.01"))
    assert update.order.client_order_id == placed.client_order_id


@pytest.mark.e2e
async def test_the_stream_cut_mid_leg_still_reports_each_fill_once(
    sim_server: Running, control: httpx.AsyncClient
) -> None:
    venue = sim_venue(sim_server)
    try:
        async with feed_for() as (feed, _):
            feed.warm(venue, "BTC")
            placed = await resting_buy(venue)
            updates = feed.updates(venue, placed, until=soon())
            await sim_fill(control, placed, "0.5")
            first = await asyncio.wait_for(anext(updates), STEP)
            await control.post("/_sim/streams", json={"venue": "backpack", "refuse": True})
            await control.post("/_sim/streams/drop", json={"venue": "backpack"})
            await sim_fill(control, placed)  # the rest fills while the line is cut
            rest = await asyncio.wait_for(collect(updates), STEP)
    finally:
        await venue.close()
    assert [u.order.filled_qty for u in [first, *rest]] == [Decimal("0.005"), Decimal("0.01")]
    assert rest[-1].order.status is OrderStatus.FILLED
