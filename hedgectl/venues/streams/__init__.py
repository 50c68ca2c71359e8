"""Private order streams, one package: what a stream yields, how it is supervised, how it is deduplicated.

- `types`: the protocol types every stream speaks (OrderEvent and its EventSource, StreamState and the
  StateHook that hears it, the connector's Ready/Connect signature, the REST OrderSource, the
  StreamingVenue protocol adapters offer). Re-exported here; nothing in it imports the other modules.
- `ledger`: OrderLedger, the one dedupe rule (pure bookkeeping: a new trade id that brings progress).
- `supervisor`: supervise()/StreamSupervisor, the reconnect + REST reconcile + polling loop that turns a
  venue's connector into a gap-free, duplicate-free stream; the only place that polls for order state.

Dependencies point one way: supervisor -> ledger -> types.
"""

from hedgectl.venues.streams.types import (
    Connect,
    EventSource,
    OrderEvent,
    OrderSource,
    Ready,
    StateHook,
    StreamingVenue,
    StreamState,
)

__all__ = [
    "Connect",
    "EventSource",
    "OrderEvent",
    "OrderSource",
    "Ready",
    "StateHook",
    "StreamState",
    "StreamingVenue",
]
