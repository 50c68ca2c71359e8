"""`flatten` reports what its closes cost: fill prices, fees, realised PnL; its history entry has the PnL."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.e2e.conftest import Sim, hedgectl
from tests.e2e.test_flatten import ALL_FOUR, _open_positions

pytestmark = pytest.mark.e2e


def _money(sim: Sim) -> dict[str, tuple[str, Decimal, Decimal]]:
    state = sim.state()
    return {
        v: (asset, Decimal(balance), Decimal(state[v]["fees_paid"]))
        for v in ALL_FOUR
        for asset, balance in state[v]["balances"].items()
    }


async def test_flatten_reports_fill_prices_fees_and_realised_pnl_as_the_simulator_booked_them(sim: Sim) -> None:
    await _open_positions(ALL_FOUR)
    sim.post("/_sim/clock", {"frozen": True})
    held = {v: sim.state()[v]["positions"][0] for v in ALL_FOUR}
    before = _money(sim)

    proc = hedgectl("flatten", "--all", "--yes", "--json")

    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    after = _money(sim)
    assert doc["run_id"]
    for venue in ALL_FOUR:
        [close] = doc["venues"][venue]["closes"]
        asset, balance_before, fees_before = before[venue]
        fees = after[venue][2] - fees_before
        assert (close["fee_asset"], Decimal(close["fees"])) == (asset, fees)
        # the simulator books realised PnL less the fee into the balance
        assert Decimal(close["realised"]) == after[venue][1] - balance_before
        assert Decimal(close["entry_price"]) == Decimal(held[venue]["entry_price"])
        qty = Decimal(held[venue]["qty"])
        price = Decimal(close["price"])
        assert Decimal(close["realised"]) == (price - Decimal(held[venue]["entry_price"])) * qty - fees
        assert Decimal(close["cost_vs_mark"]) == (Decimal(held[venue]["mark_price"]) - price) * qty + fees
    assert Decimal(doc["totals"]["fees"]["USDC"]) == after["backpack"][2] - before["backpack"][2]
    listing = json.loads(hedgectl("history", "--json").stdout)
    entry = next(r for r in listing["runs"] if r["id"] == doc["run_id"])
    realised = sum(Decimal(x) for x in doc["totals"]["realised"].values())
    assert Decimal(entry["net_pnl"]) == realised
    assert Decimal(entry["volume"]) == Decimal(doc["totals"]["volume"])


async def test_flatten_screen_shows_the_closes_and_the_run(sim: Sim) -> None:
    await _open_positions({"binance": ALL_FOUR["binance"]})
    proc = hedgectl("flatten", "--venue", "binance", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "fill price" in proc.stdout
    assert "total: realised" in proc.stdout
    assert "run " in proc.stdout


async def test_history_show_of_a_flatten_gives_fees_not_a_cash_flow_posing_as_pnl(sim: Sim) -> None:
    await _open_positions({"okx": ALL_FOUR["okx"]})
    doc = json.loads(hedgectl("flatten", "--venue", "okx", "--yes", "--json").stdout)
    shown = json.loads(hedgectl("history", "show", doc["run_id"], "--json").stdout)
    okx = shown["pnl"]["venues"]["okx"]
    assert okx["gross"] is None
    assert okx["net"] is None
    assert Decimal(okx["fees"]) == Decimal(doc["totals"]["fees"]["USDT"])
    assert Decimal(shown["run"]["net_pnl"]) == Decimal(doc["totals"]["realised"]["USDT"])
