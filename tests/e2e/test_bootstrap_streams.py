"""`bootstrap` takes its fills from the private order streams when they arrive first; polling stays the fallback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hedgectl.engine.bootstrap.plan import HedgePlan
from tests.e2e.bootstrap_rig import (
    VENUES,
    account,
    assert_exact_pnl,
    assert_fills_journaled_once,
    cycle_rig,
    live_streams,
    ops,
    until,
)
from tests.e2e.conftest import Sim, hedgectl, orders_placed, spawn

pytestmark = pytest.mark.e2e

READS_OF_AN_ORDER = ("fetch_order", "fetch_my_trades")  # order status, fills


def _doc(proc: object) -> dict[str, object]:
    lines = [line for line in proc.stdout.splitlines() if line.strip()]  # type: ignore[attr-defined]
    assert len(lines) == 1, proc.stdout  # type: ignore[attr-defined]
    return json.loads(lines[0])


def _legs(doc: dict[str, object]) -> list[dict[str, object]]:
    legs = doc["legs"]
    assert isinstance(legs, dict)
    return [legs[v][phase] for v in VENUES for phase in ("open", "close")]


async def test_open_and_close_fills_are_pushed_and_no_order_or_fill_is_read_by_rest(
    sim: Sim, isolated_env: Path
) -> None:
    mark: dict[str, int] = {}

    async def confirm(plan: HedgePlan) -> bool:
        # Both streams are up; let their one post-connect REST reconciliation (a fills read each) land first.
        await until(lambda: all(ops(sim.requests(), v, "fetch_my_trades") for v in VENUES))
        mark["asked"] = len(sim.requests())
        return True

    before = account(sim)
    async with cycle_rig(sim, isolated_env) as rig:
        result = await rig.run(confirm=confirm)
        journal = {v: rig.journal_fills(v) for v in VENUES}
    assert result.ok, result.error
    after = sim.requests()[mark["asked"] :]
    assert len(ops(after, op="create_order")) == 4
    assert [r for r in after if r["op"] in READS_OF_AN_ORDER] == []  # OKX's ids-only ack included
    for leg in result.opened + result.closed:
        assert leg.fills_source == "stream", leg
        assert sum(f.qty for f in leg.fills) == leg.filled_qty
    assert sim.all_flat()
    assert_exact_pnl(sim, before, result.pnl)
    for venue in VENUES:
        assert_fills_journaled_once(journal[venue], result.opened + result.closed, venue)


def test_the_cli_takes_fills_from_the_streams_by_default(sim: Sim) -> None:
    before = account(sim)
    proc = hedgectl("bootstrap", "--notional", "300", "--hold", "0", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = _doc(proc)
    assert [leg["fills_from"] for leg in _legs(doc)] == ["stream"] * 4
    assert ops(sim.requests(), op="fetch_order") == []  # OKX's open leg was not polled
    assert sim.all_flat()
    assert_exact_pnl(sim, before, doc["pnl"])  # type: ignore[arg-type]


def test_no_streams_confirms_fills_by_polling(sim: Sim) -> None:
    before = account(sim)
    proc = hedgectl("bootstrap", "--notional", "300", "--hold", "0", "--no-streams", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = _doc(proc)
    assert [leg["fills_from"] for leg in _legs(doc)] == ["rest"] * 4
    rows = sim.requests()
    assert ops(rows, "binance", "listen_key") == []  # no stream was opened
    assert len(ops(rows, "okx", "fetch_order")) >= 2  # OKX's ack carries only ids: its legs were polled
    for venue in VENUES:
        assert len(ops(rows, venue, "fetch_my_trades")) >= 2  # the fills of both legs, read by REST
    assert live_streams(sim) == dict.fromkeys(live_streams(sim), 0)
    assert sim.all_flat()
    assert_exact_pnl(sim, before, doc["pnl"])  # type: ignore[arg-type]


async def test_streams_cut_before_the_open_fall_back_to_polling_flat_and_exact(sim: Sim, isolated_env: Path) -> None:
    async def confirm(plan: HedgePlan) -> bool:
        mark = len(sim.requests())
        for venue in VENUES:  # cut both streams and refuse them back: the open is confirmed by REST alone
            sim.post("/_sim/streams", {"venue": venue, "refuse": True})
            sim.post("/_sim/streams/drop", {"venue": venue})
        # A supervisor that sees its stream go down starts polling at once: both have noticed.
        await until(lambda: all(ops(sim.requests()[mark:], v, "fetch_open_orders") for v in VENUES))
        return True

    before = account(sim)
    async with cycle_rig(sim, isolated_env) as rig:
        result = await rig.run(confirm=confirm)
        journal = {v: rig.journal_fills(v) for v in VENUES}
    assert result.ok, result.error
    assert sim.all_flat()
    assert_exact_pnl(sim, before, result.pnl)
    for venue in VENUES:
        assert_fills_journaled_once(journal[venue], result.opened + result.closed, venue)


@pytest.mark.parametrize("refuse", [True, False], ids=["stays-down", "reconnects"])
def test_a_stream_dropped_mid_hold_still_ends_flat_with_exact_pnl(sim: Sim, refuse: bool) -> None:
    before = account(sim)
    proc = spawn("bootstrap", "--notional", "300", "--hold", "1", "--json")
    orders_placed(proc, sim, 2)  # the streams are cut well inside the hold (a few requests after the open)
    for venue in VENUES:
        sim.post("/_sim/streams", {"venue": venue, "refuse": refuse})
        sim.post("/_sim/streams/drop", {"venue": venue})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    doc = json.loads(out)
    assert sim.all_flat()
    assert_exact_pnl(sim, before, doc["pnl"])
