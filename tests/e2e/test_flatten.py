"""`hedgectl flatten` against the simulator: the kill switch, from a cold start."""

from __future__ import annotations

import json
import signal
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hedgectl.cli.paper import PaperSimulator
from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.rounding import floor_to_step
from hedgectl.domain.types import OrderRequest, OrderType, Side
from hedgectl.settings import load_settings
from hedgectl.venues.registry import Registry
from tests.e2e.conftest import Sim, eventually, hedgectl, orders_placed, spawn

pytestmark = pytest.mark.e2e

SIZES = {"binance": "0.002", "okx": "0.002", "backpack": "0.002", "aster": "0.002"}


async def _open_positions(sides: dict[str, Side], *, resting: bool = False) -> None:
    """Open a market position on each venue through the real adapters (and optionally a resting limit)."""
    settings = load_settings()
    registry = Registry(settings, paper=PaperSimulator(settings))
    try:
        for venue, side in sides.items():
            adapter = registry.venue(venue)
            await adapter.place_order(OrderRequest(symbol="BTC", side=side, type=OrderType.MARKET,
                                                   qty=Decimal(SIZES[venue]), client_order_id=new_client_order_id()))
            if resting:
                quote = await adapter.fetch_quote("BTC")
                market = await adapter.market("BTC")
                price = floor_to_step(quote.bid * Decimal("0.995"), market.tick_size)
                await adapter.place_order(OrderRequest(symbol="BTC", side=Side.BUY, type=OrderType.LIMIT,
                                                       qty=Decimal(SIZES[venue]), price=price,
                                                       client_order_id=new_client_order_id()))
    finally:
        await registry.aclose()


ALL_FOUR = {"binance": Side.BUY, "okx": Side.SELL, "backpack": Side.BUY, "aster": Side.SELL}


async def test_positions_and_open_orders_on_all_four_venues_are_flattened(sim: Sim) -> None:
    await _open_positions(ALL_FOUR, resting=True)
    assert all(sim.positions(v) for v in ALL_FOUR)
    proc = hedgectl("flatten", "--all", "--yes", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True
    for venue in ALL_FOUR:
        assert doc["venues"][venue]["flat"] is True
        assert doc["venues"][venue]["positions_before"]
        assert doc["venues"][venue]["cancelled"]
        # each close as the venue reports it after the send, not OKX's id-only ack
        assert [c["status"] for c in doc["venues"][venue]["closes"]] == ["filled"]
    state = sim.state()
    assert sim.all_flat()
    assert all(not state[v]["open_orders"] for v in ALL_FOUR)


async def test_dry_run_changes_nothing(sim: Sim) -> None:
    await _open_positions({"binance": Side.BUY, "okx": Side.SELL}, resting=True)
    before = sim.state()
    proc = hedgectl("flatten", "--all", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["dry_run"] is True
    assert doc["venues"]["binance"]["positions_before"][0]["qty"] == "0.002"
    def book(state: dict[str, Any]) -> dict[str, Any]:
        return {
            v: ([(p["base"], p["qty"], p["entry_price"]) for p in s["positions"]],
                sorted(o["order_id"] for o in s["open_orders"]), s["balances"])
            for v, s in state.items()
        }

    assert book(sim.state()) == book(before)
    assert not sim.requests("create_order")[2 * 2:]  # nothing sent beyond the setup orders


async def test_a_close_rejected_once_and_a_429_are_retried_until_flat(sim: Sim) -> None:
    await _open_positions({"binance": Side.BUY, "okx": Side.SELL})
    sim.fault(venue="binance", op="create_order", kind="reject", count=1)
    sim.fault(venue="okx", op="create_order", kind="rate_limit", count=1)
    proc = hedgectl("flatten", "--all", "--yes", "--json")
    assert proc.returncode == 0, proc.stderr
    assert sim.all_flat()


async def test_a_venue_down_is_reported_and_the_others_still_flattened(sim: Sim) -> None:
    await _open_positions({"binance": Side.BUY, "okx": Side.SELL})
    sim.fault(venue="okx", op="any", kind="http_500", count=1000)
    proc = hedgectl("flatten", "--venue", "binance", "--venue", "okx", "--yes", "--json", "--rounds", "2")
    assert proc.returncode == 3, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["venues"]["binance"]["flat"] is True
    assert doc["venues"]["okx"]["flat"] is False
    assert "okx" in doc["exposure_after"]
    assert "exposure remains" in proc.stderr
    assert not sim.positions("binance")


def test_kill_9_of_a_running_bootstrap_then_flatten_from_a_new_process(sim: Sim, isolated_env: Path) -> None:
    proc = spawn("bootstrap", "--notional", "300", "--hold", "60", "--json")
    eventually(lambda: len(sim.requests("create_order")) >= 2)
    eventually(lambda: bool(sim.positions("binance")) and bool(sim.positions("okx")))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    assert not sim.all_flat()
    flat = hedgectl("flatten", "--all", "--yes", "--json")
    assert flat.returncode == 0, flat.stderr
    assert "did not finish" in flat.stderr  # the crashed run is named
    doc = json.loads(flat.stdout)
    labelled = [p for v in doc["venues"].values() for p in v["positions_before"] if p["runs"]]
    assert labelled, doc
    assert sim.all_flat()
    # The crashed run is now recorded as recovered: no more warnings.
    again = hedgectl("flatten", "--all", "--yes", "--json")
    assert "did not finish" not in again.stderr


def test_flatten_without_a_terminal_or_yes_refuses(sim: Sim) -> None:
    proc = hedgectl("flatten", "--all")
    assert proc.returncode == 2
    assert "needs --yes" in proc.stderr


def test_a_dry_run_that_cannot_read_a_venues_positions_says_unknown_and_fails_never_flat(sim: Sim) -> None:
    sim.fault(venue="okx", op="fetch_positions", kind="http_500", count=1000)
    proc = hedgectl("flatten", "--all", "--dry-run", "--json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["venues"]["okx"]["positions_before"] is None
    assert doc["venues"]["okx"]["flat"] is False
    assert doc["venues"]["binance"]["positions_before"] == []
    screen = hedgectl("flatten", "--all", "--dry-run")
    assert screen.returncode == 1, screen.stderr
    okx_row = next(line for line in screen.stdout.splitlines() if "okx" in line)
    assert "unknown" in okx_row, screen.stdout
    assert "flat" not in okx_row, screen.stdout


def test_a_dry_run_that_finds_everything_flat_settles_a_crashed_runs_warning(sim: Sim, isolated_env: Path) -> None:
    proc = spawn("bootstrap", "--notional", "300", "--hold", "60", "--json", "--max-slippage-bps", "50")
    orders_placed(proc, sim, 2, timeout=60)
    # The request log names an order before the venue has answered: kill only once the journal holds both
    # answers (a kill before that leaves an outcome unknown, which a dry run rightly keeps reporting).
    eventually(lambda: _acked_orders(isolated_env) >= 2, 30)
    proc.kill()  # kill -9: the run never ends in the journal
    proc.communicate(timeout=30)
    sim.post("/_sim/reset", {})  # its legs are gone by other means (closed by hand on the venues)
    dry = hedgectl("flatten", "--all", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "did not finish" in dry.stderr  # said once more, by the dry run that finds it flat
    again = hedgectl("flatten", "--all", "--dry-run")
    assert again.returncode == 0, again.stderr
    assert "did not finish" not in again.stderr


def _acked_orders(home: Path) -> int:
    """How many orders the journal in `home` holds with the venue's answer (0 before the journal exists)."""
    import sqlite3

    if not (home / "journal.sqlite").exists():
        return 0
    conn = sqlite3.connect(home / "journal.sqlite")
    try:
        return int(conn.execute("SELECT COUNT(*) FROM orders WHERE state = 'acked'").fetchone()[0])
    finally:
        conn.close()
