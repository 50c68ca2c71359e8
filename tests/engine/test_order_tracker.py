"""OrderTracker.updates: the maker/taker loop's fills of a resting order, from the venue's order stream, else
by polling REST (a venue without a stream, a stream that failed for good); the one dedupe rule."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import Mode, Order, OrderRequest, OrderStatus, OrderType, Side
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.engine.orders.tracker import OrderTracker, OrderUpdate
from hedgectl.errors import Unavailable
from hedgectl.journal import Journal
from hedgectl.sim import credentials
from hedgectl.sim.server import Running
from hedgectl.venues.backpack import BackpackVenue
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
    """A venue without a stream: each REST read answers the next scripted state (the last one repeats)."""

    name: str = "rest"
    answers: list[Order | Exception] = field(default_factory=list)
    reads: int = 0

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        self.reads += 1
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


@dataclass
class StreamThenRest(StreamingFake):
    """A streaming venue whose REST reads answer `rest` (for after its stream failed)."""

    rest: Order | None = None
    reads: int = 0

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        self.reads += 1
        assert self.rest is not None
        return self.rest


@contextlib.asynccontextmanager
async def tracker_for(
    tmp_path: Path, errors: list[str] | None = None, poll_s: float = 0.005
) -> AsyncIterator[tuple[OrderTracker, asyncio.Event]]:
    journal = Journal(tmp_path / "journal.sqlite")
    stop = asyncio.Event()
    run_id = journal.start_run("bp-aster loop", "paper")
    on_error = errors.append if errors is not None else None
    tracker = OrderTracker(Dispatcher(journal, run_id), stop=stop, poll_s=poll_s, on_error=on_error)
    try:
        yield tracker, stop
    finally:
        await tracker.aclose()
        journal.close()


async def collect(updates: AsyncGenerator[OrderUpdate, None]) -> list[OrderUpdate]:
    async with contextlib.aclosing(updates) as stream:
        return [u async for u in stream]


def soon(seconds: float = STEP) -> float:
    return time.monotonic() + seconds


async def test_fills_are_yielded_as_they_are_pushed_until_the_order_is_final(tmp_path: Path) -> None:
    venue = StreamingFake()
    async with tracker_for(tmp_path) as (tracker, _):
        assert tracker.warm(venue, "BTC")  # type: ignore[arg-type]
        task = asyncio.ensure_future(collect(tracker.updates(venue, order(), until=soon())))  # type: ignore[arg-type]
        await loop_turns()  # one loop turn: the tracker starts watching (events before that: only the latest)
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


async def test_a_fill_pushed_before_anyone_watches_is_not_lost(tmp_path: Path) -> None:
    venue = StreamingFake()
    async with tracker_for(tmp_path) as (tracker, _):
        tracker.warm(venue, "BTC")  # type: ignore[arg-type]
        venue.push(order("1", "1", OrderStatus.FILLED), received_ns=5)
        await loop_turns(2)  # let the pump take it
        updates = await collect(tracker.updates(venue, order(), until=soon()))  # type: ignore[arg-type]
    assert [(u.order.status, u.seen_ns) for u in updates] == [(OrderStatus.FILLED, 5)]


async def test_nothing_happens_until_the_deadline_or_a_stop(tmp_path: Path) -> None:
    venue = StreamingFake()
    async with tracker_for(tmp_path) as (tracker, stop):
        tracker.warm(venue, "BTC")  # type: ignore[arg-type]
        assert await collect(tracker.updates(venue, order(), until=soon(0.02))) == []  # type: ignore[arg-type]
        task = asyncio.ensure_future(collect(tracker.updates(venue, order(), until=soon())))  # type: ignore[arg-type]
        await loop_turns()
        stop.set()
        assert await asyncio.wait_for(task, STEP) == []


async def test_a_venue_without_a_stream_is_polled_and_each_progress_yielded_once(tmp_path: Path) -> None:
    venue = RestOnly(
        answers=[
            order("1", "0"),
            order("1", "0.5", OrderStatus.PARTIALLY_FILLED),
            order("1", "0.5", OrderStatus.PARTIALLY_FILLED),  # the same again: no progress
            order("1", "1", OrderStatus.FILLED),
        ]
    )
    async with tracker_for(tmp_path) as (tracker, _):
        assert not tracker.warm(venue, "BTC")  # type: ignore[arg-type]
        updates = await collect(tracker.updates(venue, order(), until=soon()))  # type: ignore[arg-type]
    assert [(u.order.filled_qty, u.order.status) for u in updates] == [
        (Decimal("0.5"), OrderStatus.PARTIALLY_FILLED),
        (Decimal(1), OrderStatus.FILLED),
    ]
    assert venue.reads == 4


async def test_polling_ends_at_once_on_a_stop(tmp_path: Path) -> None:
    venue = RestOnly(answers=[order("1", "0")])
    async with tracker_for(tmp_path, poll_s=60.0) as (tracker, stop):
        task = asyncio.ensure_future(collect(tracker.updates(venue, order(), until=soon(120))))  # type: ignore[arg-type]
        await loop_turns()
        stop.set()
        assert await asyncio.wait_for(task, STEP) == []  # not after the 60 s poll period
    assert venue.reads == 0


async def test_a_read_error_while_polling_is_reported_and_polling_goes_on(tmp_path: Path) -> None:
    venue = RestOnly(answers=[Unavailable("rest", "connection reset"), order("1", "1", OrderStatus.FILLED)])
    errors: list[str] = []
    async with tracker_for(tmp_path, errors) as (tracker, _):
        updates = await collect(tracker.updates(venue, order(), until=soon()))  # type: ignore[arg-type]
    assert [u.order.status for u in updates] == [OrderStatus.FILLED]
    assert len(errors) == 1
    assert "connection reset" in errors[0]


async def test_with_streams_off_a_streaming_venue_is_polled(tmp_path: Path) -> None:
    venue = StreamThenRest(rest=order("1", "1", OrderStatus.FILLED))
    async with tracker_for(tmp_path) as (tracker, _):
        tracker.streams = False
        assert not tracker.warm(venue, "BTC")  # type: ignore[arg-type]
        updates = await collect(tracker.updates(venue, order(), until=soon()))  # type: ignore[arg-type]
    assert [u.order.status for u in updates] == [OrderStatus.FILLED]
    assert venue.opened == []
    assert venue.reads == 1


async def test_a_failed_stream_falls_back_to_polling_from_the_last_state_seen(tmp_path: Path) -> None:
    venue = StreamThenRest(rest=order("1", "1", OrderStatus.FILLED))
    errors: list[str] = []
    async with tracker_for(tmp_path, errors) as (tracker, _):
        tracker.warm(venue, "BTC")  # type: ignore[arg-type]
        task = asyncio.ensure_future(collect(tracker.updates(venue, order(), until=soon())))  # type: ignore[arg-type]
        venue.push(order("1", "0.5", OrderStatus.PARTIALLY_FILLED))
        venue.fail()
        updates = await asyncio.wait_for(task, STEP)
    assert [u.order.filled_qty for u in updates] == [Decimal("0.5"), Decimal(1)]
    assert venue.reads >= 1
    assert errors
    assert "stream broke" in errors[0]


async def test_final_takes_the_push_without_waiting_for_a_poll(tmp_path: Path) -> None:
    venue = StreamThenRest(rest=order("1", "0"))
    async with tracker_for(tmp_path) as (tracker, _):
        tracker.warm(venue, "BTC")  # type: ignore[arg-type]
        await loop_turns()
        task = asyncio.ensure_future(tracker.final(venue, order(), deadline=soon()))  # type: ignore[arg-type]
        await loop_turns()
        venue.push(order("1", "1", OrderStatus.FILLED))
        final = await asyncio.wait_for(task, STEP)
    assert final.status is OrderStatus.FILLED
    assert venue.reads == 0  # the stream is up: polls would only be the 100 ms safety net


async def test_final_without_a_stream_returns_the_open_order_at_the_deadline(tmp_path: Path) -> None:
    venue = RestOnly(answers=[order("1", "0")])
    async with tracker_for(tmp_path) as (tracker, _):
        final = await tracker.final(venue, order(), deadline=soon(0.05))  # type: ignore[arg-type]
    assert final.status is OrderStatus.NEW
    assert 2 <= venue.reads <= 6  # 10, 20, 40 ms... never past the deadline


async def test_final_raises_a_read_error_for_the_caller_to_handle(tmp_path: Path) -> None:
    venue = RestOnly(answers=[Unavailable("rest", "connection reset")])
    async with tracker_for(tmp_path) as (tracker, _):
        with pytest.raises(Unavailable):
            await tracker.final(venue, order(), deadline=soon())  # type: ignore[arg-type]


class VirtualClock:
    """Time that passes only when slept: every wait of the tracker goes through it, so none takes real time."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, tz=UTC)

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds
        await loop_turns()


async def test_final_waits_on_the_injected_clock_backing_off_and_never_past_the_deadline(tmp_path: Path) -> None:
    clock = VirtualClock()
    venue = RestOnly(answers=[order("1", "0")])
    journal = Journal(tmp_path / "journal.sqlite")
    tracker = OrderTracker(Dispatcher(journal, journal.start_run("bootstrap", "paper")), clock=clock)
    try:
        deadline = clock.monotonic() + 1.0  # a virtual second: no real time passes
        final = await asyncio.wait_for(tracker.final(venue, order(), deadline=deadline), STEP)  # type: ignore[arg-type]
    finally:
        journal.close()
    assert final.status is OrderStatus.NEW
    assert [round(s, 3) for s in clock.slept[:6]] == [0.01, 0.02, 0.04, 0.08, 0.1, 0.1]
    assert clock.monotonic() == pytest.approx(deadline)
    assert venue.reads == len(clock.slept)  # the last one at the deadline itself


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
async def test_a_maker_fill_at_the_simulator_reaches_the_tracker(
    sim_server: Running, control: httpx.AsyncClient, tmp_path: Path
) -> None:
    venue = sim_venue(sim_server)
    try:
        async with tracker_for(tmp_path) as (tracker, _):
            tracker.warm(venue, "BTC")
            placed = await resting_buy(venue)
            task = asyncio.ensure_future(collect(tracker.updates(venue, placed, until=soon())))
            await sim_fill(control, placed)
            [update] = await asyncio.wait_for(task, STEP)
    finally:
        await venue.close()
    assert (update.order.status, update.order.filled_qty) == (OrderStatus.FILLED, Decimal("0.01"))
    assert update.order.client_order_id == placed.client_order_id


@pytest.mark.e2e
async def test_the_stream_cut_mid_leg_still_reports_each_fill_once(
    sim_server: Running, control: httpx.AsyncClient, tmp_path: Path
) -> None:
    venue = sim_venue(sim_server)
    try:
        async with tracker_for(tmp_path) as (tracker, _):
            tracker.warm(venue, "BTC")
            placed = await resting_buy(venue)
            updates = tracker.updates(venue, placed, until=soon())
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
