"""Dispatcher.send_journaled_many: every leg prepared before any is sent, all or none, journaled like one send."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import FundingPayment, Order, OrderRequest, OrderStatus, OrderType, Side
from hedgectl.engine.orders import dispatch
from hedgectl.engine.orders.dispatch import Dispatcher, Sent
from hedgectl.errors import AmbiguousOrderState, OrderRejected, SymbolNotListed, Unavailable
from hedgectl.journal import Journal
from hedgectl.journal.repository import ACKED, FAILED, UNKNOWN
from hedgectl.venues import base
from hedgectl.venues.base import PreparedOrder
from tests.engine.fakes import FakeVenue
from tests.waiting import FakeClock, eventually_async, loop_turns


@pytest.fixture
def dispatcher(journal: Journal) -> Dispatcher:
    return Dispatcher(journal, journal.start_run("test", "paper"))


def legs(dispatcher: Dispatcher, *venues: FakeVenue) -> list[tuple[FakeVenue, OrderRequest]]:
    """One market buy per venue, its intent journaled (as the caller does before sending)."""
    pairs = []
    for venue in venues:
        request = OrderRequest("X", Side.BUY, OrderType.MARKET, Decimal(1), new_client_order_id())
        dispatcher.journal.record_intent(dispatcher.run_id, venue.name, request, "open")
        pairs.append((venue, request))
    return pairs


def state(journal: Journal, request: OrderRequest) -> str:
    row = journal.order(request.client_order_id)
    assert row is not None
    return row.state


def trace(venue: FakeVenue, log: list[str], *, slow: Callable[[], Awaitable[object]] | None = None) -> None:
    """Log the venue's prepares and sends in one shared list (`slow` runs inside each preparation)."""
    prepare = venue.prepare_order

    async def traced(request: OrderRequest) -> PreparedOrder:
        log.append(f"prepare {venue.name}")
        if slow is not None:
            await slow()
        prepared = await prepare(request)

        async def send() -> Order:
            log.append(f"send {venue.name}")
            return await prepared.send()

        return PreparedOrder(request, prepared.wire, send)

    venue.prepare_order = traced  # type: ignore[method-assign]


async def test_every_leg_is_prepared_before_any_is_sent(dispatcher: Dispatcher) -> None:
    a, b = FakeVenue("backpack"), FakeVenue("aster")
    log: list[str] = []
    trace(a, log, slow=lambda: loop_turns(5))  # the first leg is the slow one to prepare
    trace(b, log)
    outcomes = await dispatcher.send_journaled_many(legs(dispatcher, a, b))
    assert log == ["prepare backpack", "prepare aster", "send backpack", "send aster"]
    assert all(isinstance(o, Sent) and o.order.status is OrderStatus.FILLED for o in outcomes)
    assert a.position == b.position == 1


async def test_outcomes_are_journaled_in_order(dispatcher: Dispatcher, journal: Journal) -> None:
    pairs = legs(dispatcher, FakeVenue("backpack"), FakeVenue("aster"))
    outcomes = await dispatcher.send_journaled_many(pairs)
    for (venue, request), outcome in zip(pairs, outcomes, strict=True):
        assert isinstance(outcome, Sent)
        assert outcome.order.venue == venue.name
        assert outcome.order.client_order_id == request.client_order_id
        assert state(journal, request) == ACKED


async def test_one_leg_that_cannot_be_prepared_sends_none(dispatcher: Dispatcher, journal: Journal) -> None:
    a, b = FakeVenue("backpack"), FakeVenue("aster")
    b.fail("prepare_order", SymbolNotListed("aster", "no perpetual for X"))
    (_, request_a), (_, request_b) = pairs = legs(dispatcher, a, b)
    held_back, refused = await dispatcher.send_journaled_many(pairs)
    assert isinstance(refused, SymbolNotListed)
    assert isinstance(held_back, Unavailable)
    assert "not sent" in str(held_back)
    assert "aster leg could not be prepared" in str(held_back)
    assert not a.orders
    assert not b.orders
    assert a.position == b.position == 0
    assert state(journal, request_a) == state(journal, request_b) == FAILED  # nothing left: nothing ambiguous


async def test_a_failed_send_does_not_stop_the_other_leg(dispatcher: Dispatcher, journal: Journal) -> None:
    a, b = FakeVenue("backpack"), FakeVenue("aster")
    b.fail("place_order", OrderRejected("aster", "reduce-only order would not reduce"))
    (_, request_a), (_, request_b) = pairs = legs(dispatcher, a, b)
    sent, rejected = await dispatcher.send_journaled_many(pairs)
    assert isinstance(sent, Sent)
    assert isinstance(rejected, OrderRejected)
    assert a.position == 1
    assert (state(journal, request_a), state(journal, request_b)) == (ACKED, FAILED)


async def test_a_send_whose_outcome_stays_unknown_is_journaled_ambiguous_and_sent_once(
    dispatcher: Dispatcher, journal: Journal
) -> None:
    a, b = FakeVenue("backpack"), FakeVenue("aster")
    b.fail("place_order", AmbiguousOrderState("aster", "no reply; lookups by client id failed"), takes_effect=True)
    (_, _), (_, request_b) = pairs = legs(dispatcher, a, b)
    _, unknown = await dispatcher.send_journaled_many(pairs)
    assert isinstance(unknown, AmbiguousOrderState)
    assert state(journal, request_b) == UNKNOWN
    assert len(b.orders) == 1  # it did land, once: the journal says to reconcile it, nothing resent it


async def test_a_leg_that_waited_too_long_for_the_others_is_signed_again(
    dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(base, "SYSTEM_CLOCK", clock)  # a prepared order's age
    a, b = FakeVenue("backpack"), FakeVenue("aster")
    log: list[str] = []
    trace(a, log)
    # e.g. the aster leg had to load its markets first
    trace(b, log, slow=lambda: clock.sleep(dispatch.RESIGN_AFTER_S + 1))
    outcomes = await dispatcher.send_journaled_many(legs(dispatcher, a, b))
    assert log == ["prepare backpack", "prepare aster", "prepare backpack", "send backpack", "send aster"]
    assert all(isinstance(o, Sent) for o in outcomes)
    assert len(a.orders) == len(b.orders) == 1


async def test_cancelled_while_preparing_sends_nothing_and_journals_failed(
    dispatcher: Dispatcher, journal: Journal
) -> None:
    a, b = FakeVenue("backpack"), FakeVenue("aster")
    log: list[str] = []
    trace(b, log, slow=asyncio.Event().wait)  # a preparation that never ends
    pairs = legs(dispatcher, a, b)
    task = asyncio.create_task(dispatcher.send_journaled_many(pairs))
    await eventually_async(lambda: log == ["prepare aster"])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not a.orders
    assert not b.orders
    assert [state(journal, r) for _, r in pairs] == [FAILED, FAILED]


async def test_cancelled_in_flight_is_journaled_ambiguous(dispatcher: Dispatcher, journal: Journal) -> None:
    a = FakeVenue("backpack")
    started = asyncio.Event()
    place = a.place_order

    async def slow_place(request: OrderRequest) -> Order:
        started.set()
        await asyncio.Event().wait()  # no reply until the cancel
        return await place(request)

    a.place_order = slow_place  # type: ignore[method-assign]
    pairs = legs(dispatcher, a)
    task = asyncio.create_task(dispatcher.send_journaled_many(pairs))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert state(journal, pairs[0][1]) == UNKNOWN


async def test_a_prepared_order_is_never_sent_twice() -> None:
    venue = FakeVenue("backpack")
    prepared = await venue.prepare_order(OrderRequest("X", Side.BUY, OrderType.MARKET, Decimal(1), "abc123"))
    await prepared.send()
    with pytest.raises(RuntimeError, match="never sent twice"):
        await prepared.send()
    assert len(venue.orders) == 1


async def test_no_legs_is_no_outcomes(dispatcher: Dispatcher) -> None:
    assert await dispatcher.send_journaled_many([]) == []


async def test_a_cancel_through_the_dispatcher_journals_the_state_the_venue_answered(dispatcher: Dispatcher) -> None:
    venue = FakeVenue("backpack")
    request = OrderRequest("X", Side.BUY, OrderType.LIMIT, Decimal(1), new_client_order_id(), price=venue.bid - 1)
    sent = await dispatcher.place(venue, request, "maker")
    assert state(dispatcher.journal, request) == ACKED
    cancelled = await dispatcher.cancel(venue, sent.order)
    assert cancelled.status is OrderStatus.CANCELED
    row = dispatcher.journal.order(request.client_order_id)
    assert row is not None
    assert row.status == OrderStatus.CANCELED.value


async def test_funding_journaled_to_one_run_is_not_counted_again_by_another(journal: Journal) -> None:
    first = Dispatcher(journal, journal.start_run("a", "paper"))
    second = Dispatcher(journal, journal.start_run("b", "paper"))
    payment = FundingPayment("aster", "BTC/USDT", "p1", datetime(2026, 1, 1, tzinfo=UTC), "USDT", Decimal("-0.5"))
    assert first.journal_funding([payment]) == [payment]
    assert first.journal_funding([payment]) == [payment]  # read twice: still this run's, once
    assert second.journal_funding([payment]) == []
