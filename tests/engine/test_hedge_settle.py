"""Settling a bootstrap leg: the order stream races REST polling; pushed fills replace the REST fills read."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import pytest

from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import Fill, Order, OrderRequest, OrderStatus, OrderType, Side
from hedgectl.engine.bootstrap.leg_fills import LegOutcome, settle
from hedgectl.engine.orders.dispatch import Dispatcher, Sent
from hedgectl.engine.orders.tracking import OrderStreams
from hedgectl.errors import ConfigError
from hedgectl.journal import Journal
from hedgectl.venues.streams import EventSource, OrderEvent, StateHook, StreamState
from tests.waiting import loop_turns

QTY = Decimal("0.003")


@dataclass
class PushingVenue:
    """A venue whose order stream the test writes to, and whose REST answers it scripts (and counts)."""

    name: str = "fake"
    rest_order: Order | None = None
    rest_fills: list[Fill] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    queue: asyncio.Queue[OrderEvent] = field(default_factory=asyncio.Queue)
    hook: StateHook | None = None
    streams_open: int = 0

    def order_events(
        self, symbol: str | None = None, *, on_state: StateHook | None = None
    ) -> AsyncIterator[OrderEvent]:
        self.hook = on_state
        return self._events()

    async def _events(self) -> AsyncGenerator[OrderEvent, None]:
        self.streams_open += 1
        try:
            while True:
                yield await self.queue.get()
        finally:
            self.streams_open -= 1

    def state(self, state: StreamState) -> None:
        assert self.hook is not None
        self.hook(state, "test")

    def push(self, order: Order, fill: Fill | None = None) -> None:
        self.queue.put_nowait(OrderEvent(order, fill, EventSource.STREAM, time.time_ns()))

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        self.reads.append("order")
        assert self.rest_order is not None
        return self.rest_order

    async def fetch_fills(self, symbol: str, *, order_id: str | None = None, since: Any = None) -> list[Fill]:
        self.reads.append("fills")
        return self.rest_fills


def order(request: OrderRequest, status: OrderStatus = OrderStatus.NEW, filled: Decimal = Decimal(0)) -> Order:
    return Order(
        venue="fake",
        symbol="BTC",
        order_id="77",
        client_order_id=request.client_order_id,
        side=request.side,
        type=OrderType.MARKET,
        status=status,
        qty=request.qty,
        filled_qty=filled,
    )


def fill(trade_id: str, qty: Decimal, price: str = "95000", fee: str = "0.07") -> Fill:
    return Fill("fake", "BTC", "77", trade_id, Side.BUY, qty, Decimal(price), Decimal(fee), "USDT")


@pytest.fixture
def request_() -> OrderRequest:
    return OrderRequest("BTC", Side.BUY, OrderType.MARKET, QTY, new_client_order_id())


@contextlib.asynccontextmanager
async def settling(
    journal: Journal, request: OrderRequest, venue: PushingVenue, *, up: bool = True
) -> AsyncIterator[tuple[Dispatcher, OrderStreams]]:
    run_id = journal.start_run("bootstrap", "paper")
    journal.record_intent(run_id, venue.name, request, "open")
    streams = OrderStreams()
    streams.warm(venue, "BTC")  # type: ignore[arg-type]
    await loop_turns()  # the pump starts and subscribes
    if up:
        venue.state(StreamState.UP)
    try:
        yield Dispatcher(journal, run_id), streams
    finally:
        await streams.aclose()


async def turns(n: int = 5) -> None:
    """Let the event loop run a few turns (the settle starts watching), without waiting on a clock."""
    await loop_turns(n)


def ack(request: OrderRequest) -> Sent:
    """OKX-like: the ack carries only ids (NEW, nothing filled)."""
    return Sent(order=order(request), sent_ns=time.time_ns(), ack_ms=1.0)


async def run(
    venue: PushingVenue, dispatcher: Dispatcher, request: OrderRequest, streams: OrderStreams | None
) -> LegOutcome:
    return await asyncio.wait_for(settle(venue, dispatcher, request, ack(request), 800, streams), 5)  # type: ignore[arg-type]


async def test_a_fill_pushed_before_the_ack_is_read_settles_the_leg_without_any_rest_read(
    journal: Journal, request_: OrderRequest
) -> None:
    venue = PushingVenue()
    async with settling(journal, request_, venue) as (dispatcher, streams):
        venue.push(order(request_, OrderStatus.FILLED, QTY), fill("t1", QTY))
        await loop_turns()
        leg = await run(venue, dispatcher, request_, streams)
    assert venue.reads == []
    assert (leg.order and leg.order.status, leg.fills_source) == (OrderStatus.FILLED, "stream")
    assert [f.trade_id for f in leg.fills] == ["t1"]
    assert leg.order is not None
    assert leg.order.fee == Decimal("0.07")
    rows = journal.fills(dispatcher.run_id)
    assert [r["trade_id"] for r in rows] == ["t1"]
    journaled = journal.order(request_.client_order_id)
    assert journaled is not None
    assert (journaled.status, Decimal(journaled.filled_qty)) == ("filled", QTY)


async def test_fills_pushed_after_the_ack_win_over_the_first_poll_and_repeats_count_once(
    journal: Journal, request_: OrderRequest
) -> None:
    venue = PushingVenue()
    half = QTY / 2
    async with settling(journal, request_, venue) as (dispatcher, streams):
        task = asyncio.ensure_future(run(venue, dispatcher, request_, streams))
        await turns()
        venue.push(order(request_, OrderStatus.PARTIALLY_FILLED, half), fill("t1", half))
        venue.push(order(request_, OrderStatus.PARTIALLY_FILLED, half), fill("t1", half))  # the same trade again
        venue.push(order(request_, OrderStatus.FILLED, QTY), fill("t2", half, price="95001"))
        leg = await task
    assert venue.reads == []
    assert [f.trade_id for f in leg.fills] == ["t1", "t2"]
    assert sorted(r["trade_id"] for r in journal.fills(dispatcher.run_id)) == ["t1", "t2"]
    assert leg.fill_ms is not None


async def test_pushed_fills_that_do_not_add_up_are_read_by_rest(journal: Journal, request_: OrderRequest) -> None:
    venue = PushingVenue(rest_fills=[fill("t1", QTY)])
    async with settling(journal, request_, venue) as (dispatcher, streams):
        venue.push(order(request_, OrderStatus.FILLED, QTY))  # the final state, but its fill never came
        leg = await run(venue, dispatcher, request_, streams)
    assert venue.reads == ["fills"]
    assert (leg.fills_source, [f.trade_id for f in leg.fills]) == ("rest", ["t1"])
    assert [r["trade_id"] for r in journal.fills(dispatcher.run_id)] == ["t1"]


async def test_with_the_stream_down_the_leg_is_polled_at_once(journal: Journal, request_: OrderRequest) -> None:
    venue = PushingVenue(rest_fills=[fill("t1", QTY)])
    async with settling(journal, request_, venue) as (dispatcher, streams):
        venue.rest_order = order(request_, OrderStatus.FILLED, QTY)
        venue.state(StreamState.DOWN)
        started = time.perf_counter()
        leg = await run(venue, dispatcher, request_, streams)
    assert venue.reads == ["order", "fills"]
    assert time.perf_counter() - started < 0.09  # the first poll did not wait for a push
    assert (leg.order and leg.order.status, leg.fills_source) == (OrderStatus.FILLED, "rest")


async def test_a_stream_going_down_mid_wait_switches_to_polling(journal: Journal, request_: OrderRequest) -> None:
    venue = PushingVenue(rest_fills=[fill("t1", QTY)])
    async with settling(journal, request_, venue) as (dispatcher, streams):
        venue.rest_order = order(request_, OrderStatus.FILLED, QTY)
        task = asyncio.ensure_future(run(venue, dispatcher, request_, streams))
        await turns()
        assert venue.reads == []  # with the stream up, the first poll waits for the push
        venue.state(StreamState.DOWN)
        leg = await task
    assert venue.reads == ["order", "fills"]
    assert leg.order is not None
    assert leg.order.status is OrderStatus.FILLED


async def test_without_streams_the_leg_is_polled_as_before(journal: Journal, request_: OrderRequest) -> None:
    venue = PushingVenue(rest_fills=[fill("t1", QTY)])
    run_id = journal.start_run("bootstrap", "paper")
    journal.record_intent(run_id, venue.name, request_, "open")
    venue.rest_order = replace(order(request_, OrderStatus.FILLED, QTY), avg_price=Decimal(95000))
    leg = await run(venue, Dispatcher(journal, run_id), request_, None)
    assert venue.reads == ["order", "fills"]
    assert venue.streams_open == 0
    assert leg.fills_source == "rest"


async def test_an_unfilled_order_stays_open_until_the_deadline(journal: Journal, request_: OrderRequest) -> None:
    venue = PushingVenue()
    async with settling(journal, request_, venue) as (dispatcher, streams):
        venue.rest_order = order(request_)
        sent = ack(request_)
        leg = await asyncio.wait_for(settle(venue, dispatcher, request_, sent, 150, streams), 5)  # type: ignore[arg-type]
    assert leg.order is not None
    assert leg.order.status is OrderStatus.NEW
    assert leg.fill_ms is None
    assert 1 <= venue.reads.count("order") <= 2  # with the stream up, a poll every 100 ms is the safety net


async def test_closing_the_streams_ends_every_pump(journal: Journal, request_: OrderRequest) -> None:
    venue = PushingVenue()
    async with settling(journal, request_, venue):
        assert venue.streams_open == 1
    assert venue.streams_open == 0


async def test_a_stream_that_cannot_be_set_up_leaves_the_venue_to_polling(
    journal: Journal, request_: OrderRequest
) -> None:
    class NoStream(PushingVenue):
        def order_events(
            self, symbol: str | None = None, *, on_state: StateHook | None = None
        ) -> AsyncIterator[OrderEvent]:
            raise ConfigError("fake: no private stream in testnet mode")

    venue = NoStream(rest_fills=[fill("t1", QTY)])
    venue.rest_order = order(request_, OrderStatus.FILLED, QTY)
    streams = OrderStreams()
    try:
        assert not streams.warm(venue, "BTC")  # type: ignore[arg-type]
        assert "no private stream" in streams.unavailable["fake"]
        run_id = journal.start_run("bootstrap", "paper")
        journal.record_intent(run_id, venue.name, request_, "open")
        leg = await run(venue, Dispatcher(journal, run_id), request_, streams)
    finally:
        await streams.aclose()
    assert venue.reads == ["order", "fills"]
    assert leg.fills_source == "rest"
