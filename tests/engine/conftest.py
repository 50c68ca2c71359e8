"""Engine fixtures: a journal on disk, two fake venues (Backpack-like maker, Aster-like taker), a loop runner."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hedgectl.clock import SYSTEM_CLOCK, Clock
from hedgectl.engine import maker_taker_base
from hedgectl.engine.dispatch import Dispatcher
from hedgectl.engine.interrupts import Interrupts
from hedgectl.engine.loop_config import LoopConfig
from hedgectl.engine.maker_taker import LoopResult, preflight, run_loop
from hedgectl.engine.maker_taker_base import LoopEvent
from hedgectl.engine.maker_taker_stats import StatsSnapshot
from hedgectl.journal import Journal
from tests.engine.fakes import FakeVenue

FAST = LoopConfig(
    qty=Decimal(10),
    requote_after_s=0.05,
    between_legs_s=0,
    cycle_sleep_s=0,
    stop_before_funding_min=0,
    cycles=1,
    poll_interval_s=0.002,
)


@dataclass
class Recorder:
    """A reporter that keeps everything, and can act on an event (e.g. request a stop)."""

    events: list[LoopEvent] = field(default_factory=list)
    snapshots: list[StatsSnapshot] = field(default_factory=list)
    countdowns: list[str | None] = field(default_factory=list)
    on_event: Callable[[LoopEvent], None] | None = None
    stats_at: list[StatsSnapshot | None] = field(default_factory=list)  # the table as shown with each event

    def event(self, event: LoopEvent) -> None:
        self.events.append(event)
        self.stats_at.append(self.snapshots[-1] if self.snapshots else None)
        if self.on_event is not None:
            self.on_event(event)

    def stats(self, snapshot: StatsSnapshot) -> None:
        self.snapshots.append(snapshot)

    def countdown(self, text: str | None) -> None:
        self.countdowns.append(text)

    def of(self, kind: str, **match: Any) -> list[LoopEvent]:
        return [e for e in self.events if e.kind == kind and all(e.data.get(k) == v for k, v in match.items())]

    def shown_with(self, event: LoopEvent) -> StatsSnapshot:
        """The stats the reporter had been given when it was told `event`."""
        snapshot = self.stats_at[next(i for i, e in enumerate(self.events) if e is event)]
        assert snapshot is not None, f"no stats shown before {event.kind}"
        return snapshot


@dataclass
class Rig:
    maker: FakeVenue
    taker: FakeVenue
    journal: Journal
    recorder: Recorder = field(default_factory=Recorder)
    interrupts: Interrupts = field(default_factory=lambda: Interrupts(lambda _text: None))
    before_loop: Callable[[], None] | None = None  # runs after the start-up check (e.g. to arm faults)

    async def run(self, config: LoopConfig = FAST, *, clock: Clock = SYSTEM_CLOCK, **changes: Any) -> LoopResult:
        config = replace(config, **changes)
        run_id = self.journal.start_run("bp-aster loop", "paper")
        checked = await preflight(self.maker, self.taker, config, max_notional=Decimal(10**6))
        if self.before_loop is not None:
            self.before_loop()
        return await asyncio.wait_for(
            run_loop(
                self.maker,
                self.taker,
                Dispatcher(self.journal, run_id),
                config,
                self.recorder,
                self.interrupts,
                checked,
                clock=clock,
            ),
            timeout=30,
        )

    def stop_on(self, kind: str, **match: Any) -> None:
        """Request a stop (as Ctrl+C would) when the first matching event is reported."""

        def check(event: LoopEvent) -> None:
            if event.kind == kind and all(event.data.get(k) == v for k, v in match.items()):
                self.interrupts.stop.set()

        self.recorder.on_event = check

    def taker_orders(self, intent: str | None = None) -> list[tuple[str, Decimal]]:
        rows = [o for r in self.journal.runs() for o in self.journal.orders(r.id) if o.venue == self.taker.name]
        return [(o.side, Decimal(o.qty)) for o in rows if intent is None or o.intent == intent]


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoffs of milliseconds instead of seconds: the logic is the same, the suite stays quick."""
    monkeypatch.setattr(maker_taker_base, "BACKOFF_START_S", 0.001)
    monkeypatch.setattr(maker_taker_base, "RATE_LIMIT_MIN_S", 0.001)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    j = Journal(tmp_path / "journal.sqlite")
    yield j
    j.close()


@pytest.fixture
def rig(journal: Journal) -> Rig:
    maker = FakeVenue("backpack", step=Decimal("0.1"), min_qty=Decimal("0.1"))
    taker = FakeVenue("aster", step=Decimal(1), min_qty=Decimal(1), min_notional=Decimal(5), tick=Decimal("0.00001"))
    return Rig(maker=maker, taker=taker, journal=journal)
