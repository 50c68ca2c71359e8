"""The protocol types of private order streams: the event every stream yields, its states, the plug-in
signatures, and the protocol adapters offer.

A stream is a speed-up, never the only source of truth: a supervisor reconnects with backoff, reconciles by
REST after every (re)connect (open orders, fills since the last event) so no fill is missed, falls back to
polling while the stream is down (and says so), and drops duplicate or stale events. Consumers (the
bp-aster loop, bootstrap's fill confirmation) see one ordered stream of OrderEvents per venue.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from hedgectl.domain.types import Fill, Order


class EventSource(StrEnum):
    STREAM = "stream"  # pushed by the venue's private WebSocket
    RECONCILE = "reconcile"  # synthesized from REST after a (re)connect
    POLL = "poll"  # synthesized from REST polling while the stream is down


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """One change to one of our orders: its cumulative state, and the fill that caused it if any."""

    order: Order  # cumulative: status, filled_qty, avg_price as of this event
    fill: Fill | None  # the execution this event reports (None for new/cancel/expire events)
    source: EventSource
    received_ns: int  # SYSTEM_CLOCK.time_ns() when the event reached this process


Ready = Callable[[], None]
Connect = Callable[[Ready], AsyncGenerator[OrderEvent, None]]


class OrderSource(Protocol):
    """The part of the Venue protocol the supervisor reads by REST."""

    name: str

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]: ...

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order: ...

    async def fetch_fills(
        self, symbol: str, *, order_id: str | None = None, since: datetime | None = None
    ) -> list[Fill]: ...


class StreamState(StrEnum):
    CONNECTING = "connecting"  # first connection attempt in progress (nothing polled yet)
    UP = "up"  # subscribed: the venue pushes changes
    DOWN = "down"  # disconnected or refused: polling REST until the stream is back
    CLOSED = "closed"


StateHook = Callable[[StreamState, str], None]


@runtime_checkable
class StreamingVenue(Protocol):
    """A venue that can push our order updates."""

    name: str

    def order_events(
        self, symbol: str | None = None, *, on_state: StateHook | None = None
    ) -> AsyncIterator[OrderEvent]:
        """Yield our order events (supervised: reconnects, reconciles, falls back to polling) until closed;
        `on_state` hears every change of the stream's state (connecting, up, down, closed) with its reason."""
        ...
