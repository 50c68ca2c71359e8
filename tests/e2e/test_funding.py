"""Funding in every PnL, end to end: the simulator settles funding while a command holds a position, and the
command reports, per venue, exactly what the simulator paid (its `/_sim/state` funding history), journals it
once, and shows it again from the journal (`history`)."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Sim, eventually, hedgectl, spawn
from tests.e2e.test_bp_aster_loop import FAST, Loop, _fill_when_resting

D = Decimal

pytestmark = pytest.mark.e2e

VENUES = ("binance", "okx")


def settle_now(sim: Sim, venue: str, base: str, rate: str) -> None:
    """Cross a funding time now: a settlement time already passed settles at once."""
    sim.post(
        "/_sim/funding", {"venue": venue, "symbol": base, "rate": rate, "next_funding_ms": time.time_ns() // 10**6 - 1}
    )


def funding_paid(state: dict[str, Any], venue: str, after: int = 0) -> Decimal:
    return sum((Decimal(p["amount"]) for p in state[venue]["funding"][after:]), Decimal(0))


def balance(state: dict[str, Any], venue: str) -> Decimal:
    return Decimal(state[venue]["balances"]["USDT"])


def test_bootstrap_whose_hold_crosses_a_settlement_reports_each_legs_funding(sim: Sim, isolated_env: Path) -> None:
    before = sim.state()
    proc = spawn("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "2", "--json")
    try:
        eventually(lambda: all(sim.positions(v).get("BTC") for v in VENUES), timeout=30)
        settle_now(sim, "binance", "BTC", "0.0005")  # the long pays
        settle_now(sim, "okx", "BTC", "0.0003")  # the short receives
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    doc = json.loads(out)
    after = sim.state()
    pnl = doc["pnl"]
    for venue in VENUES:
        paid = funding_paid(after, venue, len(before[venue]["funding"]))
        assert paid != 0
        assert Decimal(pnl[venue]["funding"]) == paid
        assert len(pnl[venue]["funding_payments"]) == 1
        assert Decimal(pnl[venue]["net"]) == balance(after, venue) - balance(before, venue)
    assert Decimal(pnl["binance"]["funding"]) < 0 < Decimal(pnl["okx"]["funding"])
    assert Decimal(pnl["funding"]) == sum(Decimal(pnl[v]["funding"]) for v in VENUES)
    equity_change = sum(Decimal(after[v]["equity"]) - Decimal(before[v]["equity"]) for v in VENUES)
    assert Decimal(pnl["net"]) == equity_change

    # The journal has them, once: history shows the same funding per run, however often it is asked.
    listing = json.loads(hedgectl("history", "--json").stdout)
    [run] = [r for r in listing["runs"] if r["command"] == "bootstrap"]
    assert {a: Decimal(v) for a, v in run["funding"].items()} == {"USDT": Decimal(pnl["funding"])}
    fees = sum(Decimal(v) for v in run["fees"].values())
    expected_cost = (fees - Decimal(pnl["funding"])) / Decimal(run["volume"]) * 10_000
    assert Decimal(run["cost_per_10k"]) == expected_cost.quantize(Decimal("0.0001"))  # 4 places, as the report
    again = json.loads(hedgectl("history", "--json").stdout)
    assert again["runs"] == listing["runs"]
    shown = json.loads(hedgectl("history", "show", run["id"], "--json").stdout)
    for venue in VENUES:
        assert Decimal(shown["pnl"]["venues"][venue]["funding"]) == Decimal(pnl[venue]["funding"])
    assert len(shown["funding"]) == 2
    assert Decimal(shown["pnl"]["net"]) == Decimal(pnl["net"])


def test_a_loop_across_two_settlements_reports_funding_per_venue(sim: Sim, isolated_env: Path) -> None:
    sim.post("/_sim/clock", {"frozen": True})
    # The first settlement: a time the venues quote, far enough ahead for the loop to start and leg 1 to fill.
    soon = time.time_ns() // 10**6 + 10_000
    for venue in ("backpack", "aster"):
        sim.post("/_sim/funding", {"venue": venue, "symbol": "ASTER", "rate": "0.0004", "next_funding_ms": soon})
    loop = Loop("--qty", "10", "--cycles", "2", *FAST)
    _fill_when_resting(sim)  # leg 1: backpack short, aster long, held until leg 2 fills
    loop.wait_for("leg", count=1, action="end")
    assert time.time_ns() // 10**6 < soon, "leg 1 filled after the settlement time: the machine is too slow"
    eventually(lambda: all(sim.state()[v]["funding"] for v in ("backpack", "aster")), timeout=20)
    _fill_when_resting(sim)
    loop.wait_for("leg", count=2, action="end")
    # The next leg starts after both venues' settlement time: the loop reads their payments then, live.
    first = {e["venue"]: D(e["net"]) for e in (loop.wait_for("funding", venue=v) for v in ("backpack", "aster"))}
    state = sim.state()
    assert first == {v: funding_paid(state, v) for v in ("backpack", "aster")}
    assert first["backpack"] > 0 > first["aster"]  # the short received, the long paid
    _fill_when_resting(sim)
    loop.wait_for("leg", count=3, action="end")
    for venue in ("backpack", "aster"):  # the second settlement, crossed on demand
        settle_now(sim, venue, "ASTER", "-0.0002")
    _fill_when_resting(sim)
    assert loop.finish() == 0, loop.stderr
    stats = loop.summary["stats"]
    state = sim.state()
    assert all(len(state[v]["funding"]) == 2 for v in ("backpack", "aster"))
    assert {v: D(a) for v, a in stats["funding_by_venue"].items()} == {
        v: funding_paid(state, v) for v in ("backpack", "aster")
    }
    assert stats["funding_known"] is True
    assert D(stats["funding"]) == sum(funding_paid(state, v) for v in ("backpack", "aster"))
    volume = D(stats["maker_volume"]) + D(stats["taker_volume"])
    fees = sum(D(f) for f in stats["fees"].values())
    cost = (fees - D(stats["funding"]) + D(stats["slippage"])) / volume * 10_000
    assert D(stats["cost_per_10k"]) == cost.quantize(D("0.0001"))
    assert set(stats["cost_per_10k_by_venue"]) == {"backpack", "aster"}
    # history has the same figure for the run, from the journal: fees, funding and the hedges' slippage.
    [run] = [r for r in json.loads(hedgectl("history", "--json").stdout)["runs"] if r["command"].startswith("bp-aster")]
    assert D(run["slippage"]) == D(stats["slippage"])
    assert {a: D(v) for a, v in run["funding"].items()} == {
        "USDC": funding_paid(state, "backpack"),
        "USDT": funding_paid(state, "aster"),
    }
    assert abs(D(run["cost_per_10k"]) - D(stats["cost_per_10k"])) <= D("0.01")


def test_positions_shows_funding_on_a_position_left_open_against_the_run_that_opened_it(
    sim: Sim, isolated_env: Path
) -> None:
    proc = spawn("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "120", "--json")
    try:
        eventually(lambda: all(sim.positions(v).get("BTC") for v in VENUES), timeout=30)
    finally:
        proc.kill()  # no flatten: the hedge stays open between commands
        proc.communicate()
    before = sim.state()
    settle_now(sim, "binance", "BTC", "0.0002")
    settle_now(sim, "okx", "BTC", "0.0002")
    after = sim.state()
    listing = json.loads(hedgectl("history", "--json").stdout)
    [opener] = [r["id"] for r in listing["runs"] if r["command"] == "bootstrap"]
    for _ in range(2):  # read twice: the same payments, journaled once
        doc = json.loads(hedgectl("positions", "--json").stdout)
        for venue in VENUES:
            [pos] = doc["venues"][venue]["positions"]
            funding = pos["funding"]
            assert funding["run_id"] == opener
            assert funding["payments"] == 1
            assert D(funding["amount"]) == funding_paid(after, venue, len(before[venue]["funding"]))
    shown = json.loads(hedgectl("history", "show", opener, "--json").stdout)
    assert len(shown["funding"]) == 2
    screen = hedgectl("positions")
    assert f"(run {opener})" in screen.stdout
    assert hedgectl("flatten", "--all", "--yes").returncode == 0


def test_bootstrap_with_unreadable_funding_says_unknown_never_zero(sim: Sim, isolated_env: Path) -> None:
    sim.fault(venue="okx", op="fetch_funding_history", kind="http_500", count=20)
    proc = hedgectl("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "0", "--json")
    assert proc.returncode == 0, proc.stderr  # flat, and the fills' PnL stands
    doc = json.loads(proc.stdout)
    assert doc["pnl"]["okx"]["funding"] is None
    assert D(doc["pnl"]["binance"]["funding"]) == 0
    assert any("okx: funding unknown" in w for w in doc["warnings"])
    sim.fault(venue="okx", op="fetch_funding_history", kind="http_500", count=20)
    screen = hedgectl("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "0")
    assert screen.returncode == 0, screen.stderr
    assert "okx: funding unknown" in screen.stderr + screen.stdout
    pnl_table = screen.stdout[screen.stdout.index("PnL (net") :]
    [okx_row] = [line for line in pnl_table.splitlines() if line.strip("│ ").startswith("okx ")]
    assert "unknown" in okx_row
