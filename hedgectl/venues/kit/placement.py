"""The one placement helper: send an order once; if its outcome is unknown, find it by client order id.

An order POST that times out, drops, answers 5xx or answers something unreadable may or may not have been
placed. Resending could double the position, so it is never resent: the order is looked up by its client
order id on a bounded schedule until one of three things is known:

    found                         -> the venue's Order is returned (the caller goes on as if acked)
    certainly absent              -> Unavailable naming the client id: it was not placed, a new order may be sent
    still unknown after the plan  -> AmbiguousOrderState naming the client id: reconcile before anything else

"Certainly absent" is the venue's knowledge, spelled by the caller: by default the last lookup of the plan
saying "no such order" (Aster, Binance, OKX answer lookups from the matching engine itself). A venue whose
lookups can lag, or that can still accept a delayed request, gives `absent_from`: a monotonic time (e.g. the
end of the signature window) before which "no such order" proves nothing (Backpack).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from hedgectl.errors import AmbiguousOrderState, BadResponse, OrderNotFound, Unavailable, VenueError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]
# A lookup by client order id: the order, or None / OrderNotFound when the venue has no such order.
Lookup = Callable[[], Awaitable[T | None]]


@dataclass(frozen=True)
class ReconcilePlan:
    """When to look an order up: one lookup after each pause of `delays_s` (0 for at once). Bounded by design."""

    delays_s: tuple[float, ...] = (0.0, 0.5, 1.0)
    sleep: Sleep = field(default=asyncio.sleep, compare=False)
    monotonic: Monotonic = field(default=time.monotonic, compare=False)

    def __post_init__(self) -> None:
        if not self.delays_s or any(d < 0 for d in self.delays_s):
            raise ValueError("a reconcile plan needs at least one lookup and no negative pause")


def covering_plan(
    span_s: float,
    *,
    first_s: float = 0.25,
    max_s: float = 1.0,
    extra: int = 2,
    sleep: Sleep = asyncio.sleep,
    monotonic: Monotonic = time.monotonic,
) -> ReconcilePlan:
    """A plan whose pauses double from `first_s` up to `max_s` until they add up past `span_s`, plus `extra`."""
    delays = [0.0]
    delay, total = first_s, 0.0
    while total <= span_s:
        delays.append(delay)
        total += delay
        delay = min(delay * 2, max_s)
    delays.extend([max_s] * extra)
    return ReconcilePlan(tuple(delays), sleep, monotonic)


async def place(
    send: Callable[[], Awaitable[T]],
    lookup: Lookup[T],
    plan: ReconcilePlan,
    *,
    venue: str,
    client_order_id: str,
    absent_from: float | None = None,
) -> T:
    """Send once; on AmbiguousOrderState (or an unreadable ack, BadResponse) reconcile by client order id."""
    try:
        return await send()
    except (AmbiguousOrderState, BadResponse) as exc:
        return await reconcile(
            lookup, plan, venue=venue, client_order_id=client_order_id, cause=exc, absent_from=absent_from
        )


async def reconcile(
    lookup: Lookup[T],
    plan: ReconcilePlan,
    *,
    venue: str,
    client_order_id: str,
    cause: VenueError,
    absent_from: float | None = None,
) -> T:
    """Look an order whose POST got no usable reply up by client order id, on `plan`; never resend it."""
    last_error: VenueError | None = None
    absent = False
    started = float("-inf")
    for delay in plan.delays_s:
        if delay:
            await plan.sleep(delay)
        started = plan.monotonic()
        try:
            found = await lookup()
        except OrderNotFound:
            found = None
        except VenueError as exc:  # the lookup itself failed: this round says nothing
            last_error, absent = exc, False
            continue
        if found is not None:
            return found
        absent = True
        if absent_from is not None and started >= absent_from:
            break
    if absent and (absent_from is None or started >= absent_from):
        raise Unavailable(
            venue,
            f"order {client_order_id} was not placed: no usable reply ({cause.reason}), and the venue has no "
            "order with that client id",
        ) from cause
    tried = f"{len(plan.delays_s)} lookups by client id"
    detail = f", the last failed with: {last_error.reason}" if last_error is not None and not absent else ""
    raise AmbiguousOrderState(
        venue,
        f"order {client_order_id} may or may not have been placed ({cause.reason}); {tried} settled nothing"
        f"{detail}: reconcile by client order id before anything else",
        code=cause.code,
    ) from cause
