"""Private order streams: the event type every venue's stream yields, and the protocol adapters offer.

A stream is a speed-up, never the only source of truth: a supervisor reconnects with backoff, reconciles by
REST after every (re)connect (open orders, fills since the last event) so no fill is missed, falls back to
polling while the stream is down (and says so), and drops duplicate or stale events. Consumers (the
bp-aster loop, bootstrap's fill confirmation) see one ordered stream of OrderEvents per venue.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from hedgectl.domain.types import Fill, Order

if TYPE_CHECKING:
    from hedgectl.venues.stream_supervisor import StateHook


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
    received_ns: int  # time.time_ns() when the event reached this process


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
