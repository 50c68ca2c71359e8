"""What the maker/taker loop tells its user: one LoopEvent per thing that happened, through a LoopReporter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from hedgectl.engine.maker_taker.stats import StatsSnapshot


@dataclass(frozen=True, slots=True)
class LoopEvent:
    """One thing that happened: an order, a fill, a hedge, a pause, a cycle... (one JSON line each)."""

    kind: str
    at: datetime
    cycle: int
    leg: int | None
    data: dict[str, Any]


class LoopReporter(Protocol):
    """What the loop tells its user as it goes (a live Rich table, or JSON Lines)."""

    def event(self, event: LoopEvent) -> None: ...
    def stats(self, snapshot: StatsSnapshot) -> None: ...
    def countdown(self, text: str | None) -> None:
        """Show `text` as a line updated in place (a wait's countdown); None ends it."""
        ...
