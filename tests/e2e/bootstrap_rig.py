"""Running the bootstrap hedge cycle in-process against the e2e simulator, and the simulator's ground truth."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from hedgectl.cli.paper import PaperSimulator
from hedgectl.domain.pnl import HoldMark
from hedgectl.domain.types import Balance
from hedgectl.engine.bootstrap.cycle import HedgeResult, LegOutcome, run_hedge_cycle
from hedgectl.engine.bootstrap.plan import HedgeConfig, HedgePlan
from hedgectl.engine.interrupts import Interrupts
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.journal import Journal
from hedgectl.settings import load_settings
from hedgectl.venues.registry import Registry
from tests.e2e.conftest import Sim
from tests.waiting import eventually_async

VENUES = ("binance", "okx")


@dataclass
class Recorder:
    """A HedgeReporter that keeps what it is told."""

    phases: list[str] = field(default_factory=list)
    plans: list[HedgePlan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    marks: list[HoldMark] = field(default_factory=list)
    entry_lines: list[str] = field(default_factory=list)

    def phase(self, title: str) -> None:
        self.phases.append(title)

    def balances(self, title: str, balances: dict[str, list[Balance]]) -> None:
        return None

    def plan(self, plan: HedgePlan) -> None:
        self.plans.append(plan)

    def fills(self, title: str, legs: Sequence[LegOutcome]) -> None:
        return None

    def hold_tick(self, remaining_s: float, mark: HoldMark) -> None:
        self.marks.append(mark)

    def warning(self, text: str) -> None:
        self.warnings.append(text)

    def entry_event(self, text: str) -> None:
        self.entry_lines.append(text)


@dataclass
class CycleRig:
    sim: Sim
    registry: Registry
    journal: Journal
    run_id: str
    reporter: Recorder = field(default_factory=Recorder)
    interrupts: Interrupts = field(default_factory=lambda: Interrupts(lambda _text: None))

    async def run(self, hold_s: float = 0.0, **kwargs: Any) -> HedgeResult:
        config = HedgeConfig(max_position_duration_seconds=hold_s)
        dispatcher = Dispatcher(self.journal, self.run_id)
        long_v, short_v = self.registry.venue("binance"), self.registry.venue("okx")
        return await asyncio.wait_for(
            run_hedge_cycle(long_v, short_v, dispatcher, config, self.reporter, self.interrupts, **kwargs), 60
        )

    def journal_fills(self, venue: str) -> list[dict[str, Any]]:
        return [f for f in self.journal.fills(self.run_id) if f["venue"] == venue]


@contextlib.asynccontextmanager
async def cycle_rig(sim: Sim, home: Path) -> AsyncIterator[CycleRig]:
    """Venues built by the registry (paper mode, pointed at `sim`), a journal, a run."""
    settings = load_settings()
    registry = Registry(settings, paper=PaperSimulator(settings))
    journal = Journal(home / "journal.sqlite")
    try:
        yield CycleRig(sim, registry, journal, journal.start_run("bootstrap", "paper"))
    finally:
        await registry.aclose()
        journal.close()


def ops(rows: list[dict[str, Any]], venue: str | None = None, op: str | None = None) -> list[dict[str, Any]]:
    return [r for r in rows if (venue is None or r["venue"] == venue) and (op is None or r["op"] == op)]


async def until(cond: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait (without blocking the event loop) until `cond()` holds."""
    await eventually_async(cond, timeout_s)


def live_streams(sim: Sim) -> dict[str, int]:
    return {v: int(s["live"]) for v, s in sim.http.get("/_sim/streams").json().items()}


def account(sim: Sim) -> dict[str, tuple[Decimal, Decimal]]:
    """venue -> (USDT balance, fees paid) as the simulator keeps them: the PnL ground truth."""
    state = sim.state()
    return {v: (Decimal(state[v]["balances"]["USDT"]), Decimal(state[v]["fees_paid"])) for v in VENUES}


def assert_exact_pnl(sim: Sim, before: dict[str, tuple[Decimal, Decimal]], pnl: dict[str, Any]) -> None:
    """The cycle's PnL per venue is the simulator's, to the last digit: fees as charged, gross as the balance
    moved net of them (a document's strings or LegPnl values)."""
    after = account(sim)
    for venue in VENUES:
        fees = after[venue][1] - before[venue][1]
        gross = after[venue][0] - before[venue][0] + fees
        got = pnl[venue]
        got_gross, got_fees = (
            (Decimal(got["gross"]), Decimal(got["fees"])) if isinstance(got, dict) else (got.gross, got.fees)
        )
        assert (got_gross, got_fees) == (gross, fees), venue
        assert fees > 0


def assert_fills_journaled_once(journal: list[dict[str, Any]], legs: list[Any], venue: str) -> None:
    """Every fill of the venue's legs is in the journal once: same trade ids, same total quantity."""
    mine = [leg for leg in legs if leg.venue == venue]
    assert sorted(f["trade_id"] for f in journal) == sorted(f.trade_id for leg in mine for f in leg.fills)
    assert sum(Decimal(f["qty"]) for f in journal) == sum(leg.filled_qty for leg in mine)
