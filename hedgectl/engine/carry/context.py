"""What every part of a carry shares: its result, the pair it takes over, what it tells its user, and one context.

`Ctx` holds the carry's venues, Dispatcher, config, reporter, stop signal, alerts, breaker limits and clock, its
result as it grows and the run chain whose fills and funding count; `event` journals, shows and alerts one carry
event (every journal write through the Dispatcher), `warn` keeps and shows a warning.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from hedgectl.clock import Clock
from hedgectl.domain.pnl import LegPnl
from hedgectl.engine.bootstrap.leg_fills import LegOutcome
from hedgectl.engine.bootstrap.plan import HedgePlan
from hedgectl.engine.carry.breaker import BreakerLimits
from hedgectl.engine.carry.config import CarryConfig
from hedgectl.engine.carry.notify import Notifier
from hedgectl.engine.carry.view import CarryView
from hedgectl.engine.flatten import FlattenReport
from hedgectl.engine.interrupts import Interrupts
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.engine.orders.tracker import OrderTracker
from hedgectl.venues.base import Venue

# The carry events also sent as alerts (the others are journaled and shown only).
ALERTED = ("open", "close", "trip", "exposure", "rehedge", "resume", "adopt")


class CarryReporter(Protocol):
    """What the carry tells its user as it goes (a Rich live view, or JSON Lines)."""

    def phase(self, title: str) -> None: ...
    def plan(self, plan: HedgePlan) -> None: ...
    def view(self, view: CarryView) -> None: ...
    def event(self, kind: str, text: str, data: dict[str, Any]) -> None: ...
    def warning(self, text: str) -> None: ...


@dataclass(frozen=True)
class Resume:
    """A pair to take over instead of opening one: a crashed or kept carry (`runs`: its run chain, oldest first,
    whose fills and funding count), or one adopted from the venues (`runs` empty)."""

    runs: tuple[str, ...] = ()
    since: datetime | None = None  # when the pair was opened (the funding window's start)


@dataclass
class CarryResult:
    """How the carry went: what it opened, why it ended, how it closed, its PnL; `exit_code` says it in one number."""

    config: CarryConfig
    plan: HedgePlan | None = None
    opened: list[LegOutcome] = field(default_factory=list)
    target_qty: Decimal = Decimal(0)
    opened_notional: Decimal | None = None  # per leg, at the entry prices (the % figures are of it)
    opened_at: datetime | None = None
    exit_reason: str | None = None
    kept: bool = False  # --on-exit keep: the pair was left open on purpose
    final: FlattenReport | None = None
    open_per_venue: dict[str, Decimal] = field(default_factory=dict)  # with `kept`: what stays open
    last_view: CarryView | None = None
    rehedges: int = 0
    pnl: dict[str, LegPnl] = field(default_factory=dict)
    funding_known: bool = True
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    interrupted: bool = False
    tripped: str | None = None  # the breaker trip this carry caused

    @property
    def flat(self) -> bool:
        return self.final is None or self.final.flat

    @property
    def exit_code(self) -> int:
        if not self.flat:
            return 3
        if self.tripped is not None:
            return 4
        if self.interrupted:  # flattened, or kept open on request (--on-exit keep): a stop either way
            return 130
        return 0 if self.error is None else 1

    @property
    def net(self) -> Decimal | None:
        if not self.pnl:
            return None
        return sum((p.net for p in self.pnl.values()), Decimal(0))


@dataclass
class Ctx:
    """One carry's venues, services and state, passed to each of its parts."""

    long: Venue
    short: Venue
    dispatcher: Dispatcher
    config: CarryConfig
    reporter: CarryReporter
    interrupts: Interrupts
    notifier: Notifier
    limits: BreakerLimits
    clock: Clock
    result: CarryResult
    runs: tuple[str, ...]  # every run whose fills and funding are this carry's (the current one last)
    streams: OrderTracker | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # set by any order event on either venue

    @property
    def venues(self) -> tuple[Venue, Venue]:
        return (self.long, self.short)


async def venue_qty(venue: Venue, symbol: str) -> Decimal:
    """The signed size `venue` holds in `symbol`, as it reports it."""
    return sum((p.qty for p in await venue.fetch_positions(symbol)), Decimal(0))


def event(ctx: Ctx, kind: str, text: str, **data: Any) -> None:
    """Journal, show and alert one carry event."""
    ctx.dispatcher.event(f"carry.{kind}", {"text": text, **data})
    ctx.reporter.event(kind, text, data)
    if kind in ALERTED:
        ctx.notifier.send(kind, text, run_id=ctx.dispatcher.run_id, symbol=ctx.config.symbol, **data)


def warn(ctx: Ctx, text: str) -> None:
    """Keep a warning for the summary and show it now."""
    ctx.result.warnings.append(text)
    ctx.reporter.warning(text)
