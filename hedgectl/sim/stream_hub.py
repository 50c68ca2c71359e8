"""Live private WebSocket streams per venue, so the control API can drop them or refuse new ones.

Every dialect's stream handler registers its connections here (`hub_of(sim).add(...)`) and asks
`refusing(venue)` before accepting one. `POST /_sim/streams/drop` then cuts every live stream of a venue
at once (events in flight are lost, as on a real disconnect); `POST /_sim/streams {"refuse": true}`
keeps new connections out until it is set back to false (tests and the bench's "streams off" figure).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hedgectl.sim.core import Simulator


class LiveStream(Protocol):
    """One open private stream connection."""

    def drop(self) -> None:
        """Stop delivering at once and close the connection (in the background)."""
        ...


class StreamHub:
    """The open private streams of one simulator, by venue."""

    def __init__(self) -> None:
        self._live: dict[str, set[LiveStream]] = {}
        self._refused: set[str] = set()

    def add(self, venue: str, stream: LiveStream) -> Callable[[], None]:
        """Register `stream`; return the function that unregisters it."""
        self._live.setdefault(venue, set()).add(stream)
        return lambda: self._live.get(venue, set()).discard(stream)

    def count(self, venue: str) -> int:
        return len(self._live.get(venue, ()))

    def drop(self, venue: str) -> int:
        """Drop every live stream of `venue`; return how many there were."""
        streams = list(self._live.pop(venue, ()))
        for stream in streams:
            stream.drop()
        return len(streams)

    def refuse(self, venue: str, refused: bool) -> None:
        if refused:
            self._refused.add(venue)
        else:
            self._refused.discard(venue)

    def refusing(self, venue: str) -> bool:
        return venue in self._refused


_HUBS: weakref.WeakKeyDictionary[Simulator, StreamHub] = weakref.WeakKeyDictionary()


def hub_of(sim: Simulator) -> StreamHub:
    """The stream hub of `sim` (created on first use)."""
    hub = _HUBS.get(sim)
    if hub is None:
        hub = _HUBS[sim] = StreamHub()
    return hub
