"""The placement helper sends once and, on an unknown outcome, finds the order by client id; never a resend."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.errors import AmbiguousOrderState, BadResponse, OrderNotFound, OrderRejected, Unavailable
from hedgectl.venues.kit.placement import ReconcilePlan, covering_plan, place

CID = "hx1abc"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.pauses: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


class Venue:
    """A send that fails as told, and lookups that answer from a script (an order, None, or an error)."""

    def __init__(self, send_error: Exception | None, *lookups: object) -> None:
        self.send_error = send_error
        self.lookups = list(lookups)
        self.sends = 0
        self.lookup_calls = 0

    async def send(self) -> str:
        self.sends += 1
        if self.send_error is not None:
            raise self.send_error
        return "acked"

    async def lookup(self) -> str | None:
        self.lookup_calls += 1
        answer = self.lookups.pop(0) if self.lookups else None
        if isinstance(answer, Exception):
            raise answer
        assert answer is None or isinstance(answer, str)
        return answer


def _plan(clock: FakeClock, *delays: float) -> ReconcilePlan:
    return ReconcilePlan(delays or (0.0, 0.5, 1.0), clock.sleep, clock.monotonic)


async def test_an_acked_order_is_returned_without_any_lookup() -> None:
    clock, venue = FakeClock(), Venue(None)
    assert await place(venue.send, venue.lookup, _plan(clock), venue="aster", client_order_id=CID) == "acked"
    assert (venue.sends, venue.lookup_calls) == (1, 0)


async def test_an_order_found_by_client_id_after_a_timeout_is_returned_and_not_resent() -> None:
    clock, venue = FakeClock(), Venue(AmbiguousOrderState("aster", "timeout"), OrderNotFound("aster", "?"), "found")
    assert await place(venue.send, venue.lookup, _plan(clock), venue="aster", client_order_id=CID) == "found"
    assert venue.sends == 1
    assert venue.lookup_calls == 2
    assert clock.pauses == [0.5]


async def test_an_unreadable_ack_is_reconciled_like_a_timeout() -> None:
    clock, venue = FakeClock(), Venue(BadResponse("okx", "garbled"), "found")
    assert await place(venue.send, venue.lookup, _plan(clock), venue="okx", client_order_id=CID) == "found"


async def test_a_refusal_is_raised_as_is_without_lookups() -> None:
    clock, venue = FakeClock(), Venue(OrderRejected("aster", "post-only would take"))
    with pytest.raises(OrderRejected):
        await place(venue.send, venue.lookup, _plan(clock), venue="aster", client_order_id=CID)
    assert venue.lookup_calls == 0


async def test_absent_at_the_last_lookup_means_not_placed() -> None:
    clock, venue = FakeClock(), Venue(AmbiguousOrderState("aster", "timeout"), None, None, None)
    with pytest.raises(Unavailable, match=f"order {CID} was not placed"):
        await place(venue.send, venue.lookup, _plan(clock), venue="aster", client_order_id=CID)
    assert venue.lookup_calls == 3
    assert venue.sends == 1


async def test_lookups_that_all_fail_leave_it_ambiguous_naming_the_client_id() -> None:
    down = Unavailable("aster", "lookup down")
    clock, venue = FakeClock(), Venue(AmbiguousOrderState("aster", "timeout"), down, down, down, down)
    with pytest.raises(AmbiguousOrderState, match=f"order {CID} may or may not have been placed") as caught:
        await place(venue.send, venue.lookup, _plan(clock), venue="aster", client_order_id=CID)
    assert "lookup down" in caught.value.message
    assert venue.lookup_calls == 3  # bounded by the plan


async def test_absent_then_a_failed_lookup_is_not_taken_as_absent() -> None:
    down = Unavailable("aster", "lookup down")
    clock, venue = FakeClock(), Venue(AmbiguousOrderState("aster", "timeout"), None, None, down)
    with pytest.raises(AmbiguousOrderState):
        await place(venue.send, venue.lookup, _plan(clock), venue="aster", client_order_id=CID)


async def test_absent_proves_nothing_before_absent_from_and_everything_after() -> None:
    clock = FakeClock()
    venue = Venue(AmbiguousOrderState("backpack", "timeout"), None, None, None, None, None, None)
    with pytest.raises(Unavailable, match="was not placed"):
        await place(
            venue.send,
            venue.lookup,
            _plan(clock, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0),
            venue="backpack",
            client_order_id=CID,
            absent_from=102.5,
        )
    assert venue.lookup_calls == 4  # at 100, 101, 102 nothing is proven; at 103 absent is final
    assert clock.now == 103.0


async def test_a_plan_that_ends_inside_the_window_leaves_it_ambiguous() -> None:
    clock, venue = FakeClock(), Venue(AmbiguousOrderState("backpack", "timeout"), None, None)
    with pytest.raises(AmbiguousOrderState):
        await place(
            venue.send,
            venue.lookup,
            _plan(clock, 0.0, 1.0),
            venue="backpack",
            client_order_id=CID,
            absent_from=110.0,
        )


def test_a_covering_plan_outlasts_its_span() -> None:
    plan = covering_plan(5.5, first_s=0.25, max_s=1.0, extra=2)
    assert plan.delays_s[0] == 0.0
    assert sum(plan.delays_s[:-2]) > 5.5
    assert max(plan.delays_s) == 1.0


def test_an_empty_plan_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one lookup"):
        ReconcilePlan(())


_ANSWERS = st.sampled_from(["found", None, "not_found", "down", "garbled"])


@given(
    answers=st.lists(_ANSWERS, max_size=8), delays=st.lists(st.sampled_from([0.0, 0.25, 1.0]), min_size=1, max_size=6)
)
async def test_whatever_the_lookups_say_the_order_is_sent_once_and_the_plan_bounds_the_lookups(
    answers: list[str | None], delays: list[float]
) -> None:
    errors = {
        "not_found": OrderNotFound("okx", "no such order"),
        "down": Unavailable("okx", "down"),
        "garbled": BadResponse("okx", "garbled"),
    }
    clock = FakeClock()
    venue = Venue(AmbiguousOrderState("okx", "timeout"), *[errors.get(a or "", a) for a in answers])
    plan = ReconcilePlan(tuple(delays), clock.sleep, clock.monotonic)
    seen = (answers + [None] * len(delays))[: len(delays)]  # a lookup past the script finds nothing
    if "found" in seen:
        assert await place(venue.send, venue.lookup, plan, venue="okx", client_order_id=CID) == "found"
        assert venue.lookup_calls == seen.index("found") + 1
    else:
        # Absent is believed only from the last lookup of the plan; any failure there leaves it ambiguous.
        expected = Unavailable if seen[-1] in (None, "not_found") else AmbiguousOrderState
        with pytest.raises(expected, match=CID):
            await place(venue.send, venue.lookup, plan, venue="okx", client_order_id=CID)
        assert venue.lookup_calls == len(delays)
    assert venue.sends == 1
