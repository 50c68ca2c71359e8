"""The stream side of order tracking: one background pump per (venue, symbol), and a watch of one order.

A pump reads the venue's supervised `order_events` (which reconnects, reconciles by REST and polls while its
socket is down) and routes each event by order id to whoever listens for that order. It remembers recent
orders - their latest event and every fill seen, by trade id - so an event pushed before anyone listens (a
fill can arrive before the order's own ack) is not lost. It also keeps the stream's state when the venue
reports it (`on_state`), so a caller can wait for the streams to be up before trading.

The OrderTracker (hedgectl.engine.orders.tracker) opens the pumps of a run and is their only user besides
the carry's wake-up (`OrderPump.on_any`): it follows one order through an `OrderWatch`, and polls REST itself
where there is no pump or the pump failed.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal

from hedgectl.aio import stop_tasks, wait_event
from hedgectl.domain.types import Fill, Order
from hedgectl.venues.streams import OrderEvent, StreamingVenue, StreamState

REMEMBERED_ORDERS = 1024

Listener = Callable[[OrderEvent | None], None]  # None: the stream failed for good (see OrderPump.failure)


@dataclass
class SeenOrder:
    """What a stream has said about one order: its latest event and its fills (trade id -> fill)."""

    latest: OrderEvent
    fills: dict[str, Fill] = field(default_factory=dict)


class OrderPump:
    """Reads one venue's supervised order stream for one symbol and routes its events by order id."""

    def __init__(self, venue: StreamingVenue, symbol: str, remember: int = REMEMBERED_ORDERS) -> None:
        self.venue_name = venue.name
        self.symbol = symbol
        self.failure: BaseException | None = None
        self.state = StreamState.CONNECTING
        self.seen: OrderedDict[str, SeenOrder] = OrderedDict()
        self._remember = remember
        self._listeners: dict[str, set[Listener]] = {}
        self._state_listeners: set[Callable[[], None]] = set()
        self._any_listeners: set[Callable[[], None]] = set()
        self._up = asyncio.Event()
        events = venue.order_events(symbol, on_state=self._on_state)
        self.task = asyncio.create_task(self._run(events), name=f"hedgectl-order-pump-{venue.name}")

    @property
    def up(self) -> bool:
        """The venue pushes every change now (False while connecting, down or failed)."""
        return self.failure is None and self.state is StreamState.UP

    def _on_state(self, state: StreamState, _reason: str) -> None:
        self.state = state
        if state is StreamState.UP:
            self._up.set()
        else:
            self._up.clear()
        for notify in list(self._state_listeners):
            notify()

    async def _run(self, events: AsyncIterator[OrderEvent]) -> None:
        try:
            async for event in events:
                self._record(event)
                for listener in list(self._listeners.get(event.order.order_id, ())):
                    listener(event)
                for notify in list(self._any_listeners):
                    notify()
        except Exception as exc:  # noqa: BLE001 - reported to every listener, which falls back to polling
            self.failure = exc
            self._up.clear()
            for listeners in list(self._listeners.values()):
                for listener in list(listeners):
                    listener(None)
            for notify in list(self._state_listeners):
                notify()

    def _record(self, event: OrderEvent) -> None:
        order_id = event.order.order_id
        seen = self.seen.get(order_id)
        if seen is None:
            seen = self.seen[order_id] = SeenOrder(event)
        else:
            seen.latest = event
            self.seen.move_to_end(order_id)
        if event.fill is not None:
            seen.fills.setdefault(event.fill.trade_id, event.fill)
        while len(self.seen) > self._remember:
            self.seen.popitem(last=False)

    def listen(self, order_id: str, listener: Listener) -> Callable[[], None]:
        """Call `listener` with each later event of `order_id` (None if the stream fails); returns the undo."""
        self._listeners.setdefault(order_id, set()).add(listener)

        def stop() -> None:
            listeners = self._listeners.get(order_id)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[order_id]

        return stop

    def on_any(self, notify: Callable[[], None]) -> Callable[[], None]:
        """Call `notify` on every event of any order, ours or not (a manual trade, a liquidation); returns the undo."""
        self._any_listeners.add(notify)
        return lambda: self._any_listeners.discard(notify)

    def on_state(self, notify: Callable[[], None]) -> Callable[[], None]:
        """Call `notify` whenever the stream's state changes or it fails; returns the undo."""
        self._state_listeners.add(notify)
        return lambda: self._state_listeners.discard(notify)

    async def wait_up(self, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the stream to be up; True if it is."""
        if self.failure is not None:
            return False
        await wait_event(self._up, timeout_s)
        return self.up

    async def aclose(self) -> None:
        """Stop the pump (and its supervised stream), waiting a bounded time; a pump that will not stop is
        abandoned."""
        await stop_tasks([self.task], what=f"{self.venue_name} order pump")


class OrderWatch:
    """One order as its venue's stream reports it: the latest state, the fills seen, and a wake-up on change.

    Also woken when the stream goes down or fails, so a waiter can switch to polling at once.
    """

    def __init__(self, pump: OrderPump, order_id: str) -> None:
        self._pump = pump
        self.order_id = order_id
        self.latest: Order | None = None
        self.events: deque[OrderEvent] = deque()  # not yet taken by the tracker, oldest first
        self.fills: dict[str, Fill] = {}
        self._changed = asyncio.Event()
        seen = pump.seen.get(order_id)
        if seen is not None:
            self.latest = seen.latest.order
            self.events.append(seen.latest)
            self.fills = dict(seen.fills)
            self._changed.set()
        self._undo = (pump.listen(order_id, self._on_event), pump.on_state(self._changed.set))

    @property
    def up(self) -> bool:
        return self._pump.up

    @property
    def failure(self) -> BaseException | None:
        """Why the stream failed for good (then the tracker polls); None while it serves."""
        return self._pump.failure

    @property
    def changed_event(self) -> asyncio.Event:
        """Set on an event of this order or a change of the stream's state (cleared by whoever waits on it)."""
        return self._changed

    def _on_event(self, event: OrderEvent | None) -> None:
        if event is not None:
            self.latest = event.order
            self.events.append(event)
            if event.fill is not None:
                self.fills.setdefault(event.fill.trade_id, event.fill)
        self._changed.set()

    def fills_for(self, order: Order) -> list[Fill] | None:
        """The stream's fills of `order` if they account for exactly its filled quantity, else None."""
        fills = [f for f in self.fills.values() if f.order_id == order.order_id]
        if sum((f.qty for f in fills), Decimal(0)) != order.filled_qty:
            return None
        return fills

    def close(self) -> None:
        for undo in self._undo:
            undo()
