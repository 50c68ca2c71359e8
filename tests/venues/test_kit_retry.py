"""The read-retry helper reads the error's action: retry and back-off are retried, everything else is raised."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.errors import (
    Action,
    AmbiguousOrderState,
    AuthError,
    BadResponse,
    HedgectlError,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    Unavailable,
    VenueError,
)
from hedgectl.venues.kit.retry import retry_delay_s, retry_read


class Script:
    """A read that fails with the given errors, then answers "ok"; records the pauses asked for."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.pauses: list[float] = []

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)


async def test_unavailable_and_rate_limited_are_retried_until_the_read_succeeds() -> None:
    read = Script(Unavailable("x", "down"), RateLimited("x", "slow down"))
    assert await retry_read(read, sleep=read.sleep) == "ok"
    assert read.calls == 3
    assert len(read.pauses) == 2


@pytest.mark.parametrize(
    "error",
    [
        AuthError("x", "bad key"),
        OrderRejected("x", "no"),
        OrderNotFound("x", "gone"),
        BadResponse("x", "garbled"),
        AmbiguousOrderState("x", "unknown"),
        VenueError("x", "odd"),
        HedgectlError("ours"),
        ValueError("not ours"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_every_other_error_is_raised_at_once(error: Exception) -> None:
    read = Script(error)
    with pytest.raises(type(error)):
        await retry_read(read, sleep=read.sleep)
    assert read.calls == 1
    assert read.pauses == []


async def test_the_action_decides_not_the_class() -> None:
    class Flaky(OrderRejected):
        action = Action.RETRY

    read = Script(Flaky("x", "try again"))
    assert await retry_read(read, sleep=read.sleep) == "ok"
    assert read.calls == 2


async def test_attempts_are_bounded_and_the_last_error_is_raised() -> None:
    read = Script(*[Unavailable("x", f"down {i}") for i in range(10)])
    with pytest.raises(Unavailable, match="down 2"):
        await retry_read(read, attempts=3, sleep=read.sleep)
    assert read.calls == 3


async def test_a_rate_limit_waits_longer_than_an_outage() -> None:
    outage, limited = Script(Unavailable("x", "down")), Script(RateLimited("x", "slow"))
    rng_a, rng_b = random.Random(1), random.Random(1)
    await retry_read(outage, sleep=outage.sleep, rng=rng_a)
    await retry_read(limited, sleep=limited.sleep, rng=rng_b)
    assert limited.pauses[0] == pytest.approx(2 * outage.pauses[0])


@given(
    attempt=st.integers(1, 30),
    base=st.floats(0.001, 5),
    cap=st.floats(0.001, 60),
)
def test_pauses_never_exceed_their_cap(attempt: int, base: float, cap: float) -> None:
    assert retry_delay_s(Action.RETRY, attempt, base, cap) <= cap
    assert retry_delay_s(Action.BACK_OFF, attempt, base, cap) <= 2 * cap
    assert retry_delay_s(Action.BACK_OFF, attempt, base, cap) >= retry_delay_s(Action.RETRY, attempt, base, cap)
