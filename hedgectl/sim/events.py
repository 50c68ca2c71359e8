"""The engine's event bus: order, fill and funding events for private streams (WebSocket later)."""

from __future__ import annotations

from collections.abc import Callable

from hedgectl.sim.model import EngineEvent

Subscriber = Callable[[EngineEvent], None]


class EventBus:
    """Synchronous fan-out of engine events (order streams subscribe here)."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Register `subscriber`; return a function that unregisters it."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    @property
    def active(self) -> bool:
        return bool(self._subscribers)

    def publish(self, event: EngineEvent) -> None:
        for subscriber in list(self._subscribers):
            subscriber(event)
