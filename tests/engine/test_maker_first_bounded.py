"""Maker-first entry on fake venues: its waits end with --maker-timeout even while the maker venue cannot be read
(the loop would retry until stopped), and the rest is then taken as in the taker entry."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

from hedgectl.engine.dispatch import Dispatcher
from hedgectl.engine.hedge import run_hedge_cycle
from hedgectl.engine.hedge_plan import Entry, HedgeConfig, HedgePlan
from hedgectl.engine.interrupts import Interrupts
from hedgectl.errors import Unavailable
from hedgectl.journal import Journal
from tests.e2e.bootstrap_rig import Recorder
from tests.engine.fakes import FakeVenue


async def test_a_maker_venue_that_cannot_be_read_ends_the_entry_at_its_timeout(tmp_path: Path) -> None:
    long = FakeVenue("okx", price=Decimal(100), tick=Decimal("0.01"), step=Decimal("0.01"), min_qty=Decimal("0.01"))
    short = FakeVenue("aster", price=Decimal(100), tick=Decimal("0.01"), step=Decimal("0.01"), min_qty=Decimal("0.01"))

    async def confirm(plan: HedgePlan) -> bool:
        # Planned; from now on every quote of the maker (okx, the long: both charge the same taker fee)
        # fails, as an outage would.
        long.fail("fetch_quote", Unavailable("okx", "503 Service Unavailable"), count=10_000)
        return True

    config = HedgeConfig(
        symbol="ASTER", notional_usdt=Decimal(100), max_position_duration_seconds=0.0, max_slippage_bps=Decimal(500),
        long_venue="okx", short_venue="aster", entry=Entry.MAKER_FIRST, maker_timeout_s=1.0,
    )  # fmt: skip
    journal = Journal(tmp_path / "journal.sqlite")
    run_id = journal.start_run("bootstrap", "paper")
    started = time.monotonic()
    try:
        result = await asyncio.wait_for(
            run_hedge_cycle(
                long, short, Dispatcher(journal, run_id), config, Recorder(), Interrupts(lambda _t: None),
                streams=False, confirm=confirm,
            ),
            timeout=30,
        )  # fmt: skip
    finally:
        journal.close()
    assert time.monotonic() - started < 30
    assert result.error is None, result.error
    assert result.entry is not None
    assert (result.entry.maker, result.entry.maker_filled, result.entry.timed_out) == ("okx", 0, True)
    assert result.plan is not None
    assert result.entry.taken == result.plan.qty
    assert long.position == 0
    assert short.position == 0
