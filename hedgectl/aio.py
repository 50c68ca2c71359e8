"""Cancellation-safe waits and bounded task shutdown: the one place background tasks are stopped.

Why not `asyncio.wait_for`: on Python 3.11 it loses a cancellation when the awaited operation finishes in
the same loop iteration as the cancel (CPython gh-86296, fixed in 3.12 by building it on `asyncio.timeout`).
An order stream cancelled just as the OKX login ack arrived carried on, logged in, reading frames forever,
and whoever awaited it hung with it. `within` and `wait_event` are built on `asyncio.timeout`, which counts
cancellations and never turns one that came from outside into a return.

Why `stop_tasks`: awaiting a cancelled task is a wait like any other. Unbounded, one task that does not
end (a swallowed cancel, a close that never completes) hangs its owner; wrapped in
`suppress(CancelledError)`, it also swallows the owner's own cancellation. `stop_tasks` cancels, waits a
bounded time, cancels once more (a lost cancel is a race, the second one lands), then abandons what is
left, and lets the caller's cancellation through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

STOP_TIMEOUT_S = 2.0  # how long a stopped task gets to finish before it is abandoned


async def within(awaitable: Awaitable[T], timeout_s: float | None) -> T:
    """Await `awaitable`, raising TimeoutError after `timeout_s` (None: no limit); a cancel always propagates."""
    if timeout_s is None:
        return await awaitable
    async with asyncio.timeout(max(0.0, timeout_s)):
        return await awaitable


async def wait_event(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait up to `timeout_s` for `event`; True if it is set."""
    if not event.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, timeout_s)):
                await event.wait()
    return event.is_set()


async def stop_tasks(
    tasks: Iterable[asyncio.Task[Any]], *, timeout_s: float = STOP_TIMEOUT_S, what: str = "task"
) -> list[asyncio.Task[Any]]:
    """Cancel `tasks` and wait for them, at most about `timeout_s`; return those abandoned (still running).

    Never awaits the calling task itself. A cancellation of the caller propagates (the tasks stay cancelled).
    """
    current = asyncio.current_task()
    todo = [t for t in tasks if t is not current]
    pending = {t for t in todo if not t.done()}
    for round_s in (timeout_s * 3 / 4, timeout_s / 4):
        if not pending:
            break
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=round_s)
    for task in todo:
        if task in pending:
            log.debug("%s %s did not stop within %.1f s: abandoned", what, task.get_name(), timeout_s)
        elif not task.cancelled() and task.exception() is not None:  # retrieved: no "never retrieved" noise
            log.debug("%s %s ended with %r", what, task.get_name(), task.exception())
    return list(pending)
