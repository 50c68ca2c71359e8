"""The order-stream supervisor with a scripted connector and an in-memory REST venue: reconnect and
reconcile without losing or doubling a fill, polling while the stream is down, deduplication, bounds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from hedgectl.domain.types import Fill, Order, OrderStatus, OrderType, Side
from hedgectl.errors import AuthError, ConfigError, OrderNotFound, Unavailable
from hedgectl.venues.streams import EventSource, OrderEvent, StreamState
from hedgectl.venues.streams.supervisor import StreamSupervisor, SupervisorConfig
from tests.waiting import eventually_async

FAST = SupervisorConfig(
    poll_interval_s=0.01,
    backoff_initial_s=0.001,
    backoff_max_s=0.01,
    connect_grace_s=0.05,
    connect_timeout_s=1.0,
    lookback_s=10.0,
)
NO_POLL = replace(FAST, poll_interval_s=60.0)  # one poll per outage, so reconciliation is what is tested
STEP = 2.0  # seconds any single expected event may take


@dataclass
class FakeRestVenue:
    """Orders and fills as a venue's REST API shows them; the test changes them behind the stream's back."""

    name: str = "fake"
    orders: dict[str, Order] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    fail_with: Exception | None = None

    def place(self, order_id: str, qty: str = "1") -> Order:
        order = Order(
            venue=self.name,
            symbol="BTC",
            order_id=order_id,
            client_order_id=f"c{order_id}",
            side=Side.BUY,
            type=OrderType.LIMIT,
            status=OrderStatus.NEW,
            qty=Decimal(qty),
            price=Decimal(100),
        )
        self.orders[order_id] = order
        return order

    def fill(self, order_id: str, qty: str, trade_id: str) -> tuple[Order, Fill]:
        order = self.orders[order_id]
        filled = order.filled_qty + Decimal(qty)
        status = OrderStatus.FILLED if filled == order.qty else OrderStatus.PARTIALLY_FILLED
        order = replace(order, filled_qty=filled, status=status, avg_price=Decimal(100))
        fill = Fill(
            venue=self.name,
            symbol="BTC",
            order_id=order_id,
            trade_id=trade_id,
            side=order.side,
            qty=Decimal(qty),
            price=Decimal(100),
            fee=Decimal("0.01"),
            fee_asset="USDC",
            at=datetime.now(UTC),
        )
        self.orders[order_id] = order
        self.fills.append(fill)
        return order, fill

    def cancel(self, order_id: str) -> Order:
        self.orders[order_id] = replace(self.orders[order_id], status=OrderStatus.CANCELED)
        return self.orders[order_id]

    def _check(self, what: str) -> None:
        self.calls.append(what)
        if self.fail_with is not None:
            raise self.fail_with

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        self._check("open_orders")
        return [o for o in self.orders.values() if o.status.is_open and symbol in (None, o.symbol)]

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        self._check("order")
        if order_id not in self.orders:
            raise OrderNotFound(self.name, f"no order {order_id}")
        return self.orders[order_id]

    async def fetch_fills(
        self, symbol: str, *, order_id: str | None = None, since: datetime | None = None
    ) -> list[Fill]:
        self._check("fills")
        return [f for f in self.fills if f.symbol == symbol and (since is None or (f.at and f.at >= since))]


@dataclass
class Session:
    queue: asyncio.Queue[OrderEvent | Exception] = field(default_factory=asyncio.Queue)

    def push(self, order: Order, fill: Fill | None = None) -> None:
        self.queue.put_nowait(OrderEvent(order, fill, EventSource.STREAM, time.time_ns()))

    def drop(self) -> None:
        self.queue.put_nowait(ConnectionError("connection reset"))


class FakeStream:
    """A connector whose sessions the test drives; `gate` holds connects, `refuse` makes them fail."""

    def __init__(self) -> None:
        self.sessions: list[Session] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.refuse: Exception | None = None
        self.attempts = 0

    async def connect(self, ready: Callable[[], None]) -> AsyncGenerator[OrderEvent, None]:
        self.attempts += 1
        await self.gate.wait()
        if self.refuse is not None:
            raise self.refuse
        session = Session()
        self.sessions.append(session)
        ready()
        while True:
            item = await session.queue.get()
            if isinstance(item, Exception):
                raise item
            yield item

    @property
    def current(self) -> Session:
        return self.sessions[-1]


async def eventually(cond: Callable[[], bool], timeout: float = STEP) -> None:
    await eventually_async(cond, timeout, 0.001)


class Collected:
    """Consume a supervised stream in the background so the test can read events with a timeout."""

    def __init__(self, events: AsyncIterator[OrderEvent]) -> None:
        self.queue: asyncio.Queue[OrderEvent | BaseException] = asyncio.Queue()
        self.task = asyncio.create_task(self._pump(events))

    async def _pump(self, events: AsyncIterator[OrderEvent]) -> None:
        try:
            async for event in events:
                self.queue.put_nowait(event)
        except Exception as exc:  # noqa: BLE001 - handed to the test, which re-raises it
            self.queue.put_nowait(exc)

    async def next(self) -> OrderEvent:
        item = await asyncio.wait_for(self.queue.get(), STEP)
        if isinstance(item, BaseException):
            raise item
        return item

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def next_event(events: Collected) -> OrderEvent:
    return await events.next()


@contextlib.asynccontextmanager
async def running(
    venue: FakeRestVenue, stream: FakeStream, config: SupervisorConfig = FAST, symbol: str | None = "BTC"
) -> AsyncIterator[tuple[StreamSupervisor, Collected]]:
    supervisor = StreamSupervisor(venue, stream.connect, symbol=symbol, config=config)
    events = Collected(supervisor.events())
    try:
        yield supervisor, events
    finally:
        await events.close()


async def up(supervisor: StreamSupervisor, stream: FakeStream, sessions: int) -> None:
    await eventually(lambda: len(stream.sessions) >= sessions and supervisor.state is StreamState.UP)
    await eventually(lambda: supervisor.stats.reconciles >= sessions)


async def test_stream_events_pass_through_in_order() -> None:
    venue, stream = FakeRestVenue(), FakeStream()
    async with running(venue, stream) as (supervisor, events):
        await up(supervisor, stream, 1)
        order = venue.place("1")
        stream.current.push(order)
        filled, fill = venue.fill("1", "1", "t1")
        stream.current.push(filled, fill)
        first, second = await next_event(events), await next_event(events)
    assert (first.order.status, first.fill, first.source) == (OrderStatus.NEW, None, EventSource.STREAM)
    assert second.fill == fill
    assert second.order.filled_qty == 1
    assert second.source is EventSource.STREAM


async def test_duplicate_and_stale_events_are_applied_once() -> None:
    venue, stream = FakeRestVenue(), FakeStream()
    async with running(venue, stream) as (supervisor, events):
        await up(supervisor, stream, 1)
        accepted = venue.place("1")
        half, fill1 = venue.fill("1", "0.5", "t1")
        full, fill2 = venue.fill("1", "0.5", "t2")
        session = stream.current
        session.push(accepted)
        session.push(half, fill1)
        session.push(half, fill1)  # the same trade again
        session.push(accepted)  # a stale state after a fill
        session.push(replace(half, status=OrderStatus.PARTIALLY_FILLED))  # no progress
        session.push(full, fill2)
        session.push(full, fill2)
        marker = venue.place("2")
        session.push(marker)
        seen = [await next_event(events) for _ in range(4)]
    assert [(e.order.order_id, e.order.filled_qty, e.fill and e.fill.trade_id) for e in seen] == [
        ("1", 0, None),
        ("1", Decimal("0.5"), "t1"),
        ("1", 1, "t2"),
        ("2", 0, None),
    ]
    assert supervisor.stats.duplicates >= 4


async def test_fill_missed_while_disconnected_arrives_once_by_reconciliation() -> None:
    venue, stream = FakeRestVenue(), FakeStream()
    async with running(venue, stream, NO_POLL) as (supervisor, events):
        await up(supervisor, stream, 1)
        order = venue.place("1")
        stream.current.push(order)
        assert (await next_event(events)).order.status is OrderStatus.NEW
        stream.gate.clear()  # the next connect waits until the test lets it through
        stream.current.drop()
        await eventually(lambda: supervisor.state is StreamState.DOWN and supervisor.stats.polls >= 1)
        filled, fill = venue.fill("1", "1", "t9")  # happens while nobody listens
        stream.gate.set()
        reconciled = await next_event(events)
        assert reconciled.source is EventSource.RECONCILE
        assert reconciled.fill == fill
        assert reconciled.order.status is OrderStatus.FILLED
        # The venue also replays it on the new connection: it must not be applied twice.
        await up(supervisor, stream, 2)
        stream.current.push(filled, fill)
        marker = venue.place("2")
        stream.current.push(marker)
        assert (await next_event(events)).order.order_id == "2"


async def test_several_missed_fills_are_emitted_with_a_growing_cumulative_quantity() -> None:
    venue, stream = FakeRestVenue(), FakeStream()
    async with running(venue, stream, NO_POLL) as (supervisor, events):
        await up(supervisor, stream, 1)
        stream.current.push(venue.place("1", qty="1"))
        await next_event(events)
        stream.gate.clear()
        stream.current.drop()
        await eventually(lambda: supervisor.stats.polls >= 1)
        venue.fill("1", "0.25", "a")
        venue.fill("1", "0.75", "b")
        stream.gate.set()
        first, second = await next_event(events), await next_event(events)
    assert [(e.fill.trade_id if e.fill else None, e.order.filled_qty, e.order.status) for e in (first, second)] == [
        ("a", Decimal("0.25"), OrderStatus.PARTIALLY_FILLED),
        ("b", Decimal(1), OrderStatus.FILLED),
    ]


async def test_polling_takes_over_while_the_stream_is_down_and_stops_when_it_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    venue, stream = FakeRestVenue(), FakeStream()
    stream.refuse = ConnectionRefusedError("no stream today")
    caplog.set_level(logging.WARNING)
    async with running(venue, stream) as (supervisor, events):
        await eventually(lambda: stream.attempts >= 3 and supervisor.stats.polls >= 2)
        order = venue.place("1")
        assert (await next_event(events)).order == order
        _, fill = venue.fill("1", "1", "t1")
        polled = await next_event(events)
        assert (polled.source, polled.fill) == (EventSource.POLL, fill)
        stream.refuse = None
        await up(supervisor, stream, 1)
        calls = len(venue.calls)
        # Nothing to wait for: check that no poll happens over many poll intervals.
        await asyncio.sleep(FAST.poll_interval_s * 5)
        assert len(venue.calls) == calls
    warnings = [r for r in caplog.records if "order stream down" in r.getMessage()]
    assert len(warnings) == 1  # one per outage, however many reconnects failed


async def test_a_cancel_missed_while_down_is_found_by_reading_the_order() -> None:
    venue, stream = FakeRestVenue(), FakeStream()
    async with running(venue, stream, NO_POLL) as (supervisor, events):
        await up(supervisor, stream, 1)
        stream.current.push(venue.place("1"))
        await next_event(events)
        stream.gate.clear()
        stream.current.drop()
        await eventually(lambda: supervisor.stats.polls >= 1)
        venue.cancel("1")
        stream.gate.set()
        event = await next_event(events)
    assert (event.order.status, event.fill, event.source) == (OrderStatus.CANCELED, None, EventSource.RECONCILE)
    assert "order" in venue.calls


async def test_rest_failures_while_polling_are_absorbed_and_retried() -> None:
    venue, stream = FakeRestVenue(), FakeStream()
    stream.refuse = ConnectionRefusedError("down")
    venue.fail_with = Unavailable("fake", "maintenance")
    async with running(venue, stream) as (supervisor, events):
        await eventually(lambda: len(venue.calls) >= 4)
        venue.fail_with = None
        venue.place("1")
        event = await next_event(events)
    assert event.source is EventSource.POLL
    assert supervisor.state is StreamState.CLOSED


async def test_an_auth_error_from_rest_ends_the_stream() -> None:
    venue, stream = FakeRestVenue(), FakeStream()
    stream.refuse = ConnectionRefusedError("down")
    venue.fail_with = AuthError("fake", "key revoked")
    async with running(venue, stream) as (_, events):
        with pytest.raises(AuthError):
            await next_event(events)


async def test_a_url_the_host_guard_refuses_ends_the_stream() -> None:
    venue, stream = FakeRestVenue(), FakeStream()
    stream.refuse = ConfigError("fake: refusing a request to wss://elsewhere")
    async with running(venue, stream) as (_, events):
        with pytest.raises(ConfigError, match="refusing"):
            await next_event(events)
    assert stream.attempts == 1


async def test_a_refused_subscription_keeps_polling() -> None:
    venue, stream = FakeRestVenue(), FakeStream()
    stream.refuse = AuthError("fake", "invalid signature")
    async with running(venue, stream) as (supervisor, events):
        venue.place("1")
        event = await next_event(events)
    assert event.source is EventSource.POLL
    assert supervisor.stats.connects == 0


async def test_events_of_other_symbols_are_ignored_when_a_symbol_is_given() -> None:
    venue, stream = FakeRestVenue(), FakeStream()
    async with running(venue, stream) as (supervisor, events):
        await up(supervisor, stream, 1)
        stream.current.push(replace(venue.place("1"), symbol="ETH"))
        stream.current.push(venue.place("2"))
        assert (await next_event(events)).order.order_id == "2"


async def test_memory_stays_bounded() -> None:
    venue, stream = FakeRestVenue(), FakeStream()
    config = replace(FAST, max_remembered=5)
    async with running(venue, stream, config) as (supervisor, events):
        await up(supervisor, stream, 1)
        for n in range(20):
            order = venue.place(str(n))
            stream.current.push(*venue.fill(str(n), "1", f"t{n}"))
            del order
        for _ in range(20):
            await next_event(events)
        assert supervisor.remembered == (5, 5)


async def test_the_supervisor_runs_once() -> None:
    venue, stream = FakeRestVenue(), FakeStream()
    async with running(venue, stream) as (supervisor, _):
        await up(supervisor, stream, 1)
        with pytest.raises(RuntimeError, match="runs once"):
            await anext(supervisor.events())


def test_horizon_starts_a_lookback_before_now() -> None:
    config = replace(FAST, lookback_s=30.0)
    before = datetime.now(UTC)
    supervisor = StreamSupervisor(FakeRestVenue(), FakeStream().connect, config=config)
    assert before - timedelta(seconds=31) < supervisor.horizon <= before - timedelta(seconds=29)
