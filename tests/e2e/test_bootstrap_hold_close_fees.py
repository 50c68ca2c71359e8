"""The hold line's estimated close fees: the close is a market order, so each venue's taker rate, whatever
the entry paid (a maker-first entry pays the maker rate on its resting leg).

In process against the simulator (frozen clock: the post-only order fills only when the test fills it, and
the price does not move between the hold and the close)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from hedgectl.engine.bootstrap.accounting import fees_paid
from hedgectl.engine.bootstrap.cycle import run_hedge_cycle
from hedgectl.engine.bootstrap.plan import Entry, HedgeConfig
from hedgectl.engine.orders.dispatch import Dispatcher
from tests.e2e.bootstrap_rig import cycle_rig, until
from tests.e2e.conftest import Sim

pytestmark = pytest.mark.e2e
LONG, SHORT = "okx", "backpack"  # equal taker fees: the post-only order rests on the long venue


async def test_a_maker_first_hold_estimates_the_close_at_the_taker_rate(sim: Sim, isolated_env: Path) -> None:
    sim.post("/_sim/clock", {"frozen": True})
    config = HedgeConfig(
        long_venue=LONG,
        short_venue=SHORT,
        max_position_duration_seconds=0.6,  # the hold's first mark is taken at once, a second 0.5 s on
        entry=Entry.MAKER_FIRST,
        maker_timeout_s=30,
    )
    async with cycle_rig(sim, isolated_env) as rig:
        dispatcher = Dispatcher(rig.journal, rig.run_id)
        long_v, short_v = rig.registry.venue(LONG), rig.registry.venue(SHORT)
        cycle = asyncio.create_task(run_hedge_cycle(long_v, short_v, dispatcher, config, rig.reporter, rig.interrupts))
        await until(lambda: len(sim.state()[LONG]["open_orders"]) == 1, 30)
        [maker_fill] = sim.post("/_sim/fill", {"venue": LONG, "all": True, "ratio": "1"})["fills"]
        result = await asyncio.wait_for(cycle, 60)
    assert result.ok, result.error
    assert maker_fill["maker"]
    assert rig.reporter.marks, "no hold line was shown"
    estimated = rig.reporter.marks[-1].est_close_fees
    paid = sum((fees_paid(leg) for leg in result.closed), Decimal(0))
    assert paid > 0
    # The marks and the fill prices differ by half a spread at most: the estimate is the close's fees to 1 %
    # (at the entry's rates it is ~30 % short: okx's maker rate is 0.02 % against its taker 0.05 %).
    assert abs(estimated - paid) / paid < Decimal("0.01"), (estimated, paid)
