"""`hedgectl positions` against the simulator: read-only, every venue, figures as the simulator holds them."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from hedgectl.domain.types import Side
from tests.e2e.conftest import Sim, hedgectl
from tests.e2e.test_flatten import _open_positions

pytestmark = pytest.mark.e2e

ALL_FOUR = {"binance": Side.BUY, "okx": Side.SELL, "backpack": Side.BUY, "aster": Side.SELL}


async def test_positions_reports_every_venue_as_the_simulator_holds_it_and_changes_nothing(sim: Sim) -> None:
    await _open_positions(ALL_FOUR, resting=True)
    sim.post("/_sim/clock", {"frozen": True})  # marks stand still, so PnL and liquidation compare to the digit
    before = sim.state()
    requests_before = len(sim.requests("create_order")) + len(sim.requests("cancel_order"))

    proc = hedgectl("positions", "--json")

    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True
    assert doc["run_id"]
    for venue, side in ALL_FOUR.items():
        [held] = before[venue]["positions"]
        [row] = doc["venues"][venue]["positions"]
        qty, entry, mark = Decimal(held["qty"]), Decimal(held["entry_price"]), Decimal(held["mark_price"])
        assert Decimal(row["qty"]) == qty
        assert row["side"] == ("long" if side is Side.BUY else "short")
        assert Decimal(row["entry_price"]) == entry
        assert Decimal(row["mark_price"]) == mark
        assert Decimal(row["unrealized_pnl"]) == pytest.approx((mark - entry) * qty, abs=Decimal("0.00000001"))
        # cross margin: the account's equity less maintenance (0.4 %) gone on this position
        equity = Decimal(before[venue]["equity"])
        liq = mark - (equity - abs(qty * mark) * Decimal("0.004")) / qty
        if liq <= 0:  # a small long on a large account cannot be liquidated: venues send 0, shown as none
            assert row["liquidation_price"] is None
        else:  # OKX rounds liqPx to 0.1, Backpack to the tick
            assert abs(Decimal(row["liquidation_price"]) - liq) <= Decimal("0.1")
        assert row["pnl_asset"] == ("USDC" if venue == "backpack" else "USDT")
        [resting] = before[venue]["open_orders"]
        [order] = doc["venues"][venue]["open_orders"]
        assert order["order_id"] == resting["order_id"]
        assert Decimal(order["price"]) == Decimal(resting["price"])
    assert doc["venues"]["okx"]["positions"][0]["margin_mode"] == "cross"
    assert Decimal(doc["venues"]["okx"]["positions"][0]["leverage"]) > 0
    assert Decimal(doc["venues"]["aster"]["positions"][0]["leverage"]) > 0
    [btc] = doc["net_exposure"]
    assert btc["symbol"] == "BTC"
    assert Decimal(btc["net_qty"]) == sum(Decimal(before[v]["positions"][0]["qty"]) for v in ALL_FOUR)
    # read-only: nothing was sent and nothing changed
    assert len(sim.requests("create_order")) + len(sim.requests("cancel_order")) == requests_before
    after = sim.state()
    assert [after[v]["positions"] for v in ALL_FOUR] == [before[v]["positions"] for v in ALL_FOUR]


async def test_positions_screen_shows_the_table_open_orders_and_net_exposure(sim: Sim) -> None:
    await _open_positions({"binance": Side.BUY, "okx": Side.SELL})
    proc = hedgectl("positions", "--venue", "binance", "--venue", "okx", "--symbol", "BTC")
    assert proc.returncode == 0, proc.stderr
    assert "long" in proc.stdout
    assert "short" in proc.stdout
    assert "liq. price" in proc.stdout
    assert "net exposure" in proc.stdout
    assert "BTC" in proc.stdout
    assert "open orders: none" in proc.stdout


def test_positions_on_a_flat_account_and_a_bad_venue(sim: Sim) -> None:
    proc = hedgectl("positions", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["net_exposure"] == []
    assert all(not v["positions"] for v in doc["venues"].values())
    bad = hedgectl("positions", "--venue", "nope")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error:")
    assert "Traceback" not in bad.stderr


def test_a_symbol_no_venue_lists_is_a_usage_error(sim: Sim) -> None:
    proc = hedgectl("positions", "--symbol", "XYZ")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no venue lists a perpetual for XYZ")
    assert "Traceback" not in proc.stderr
    some = hedgectl("positions", "--symbol", "BTC", "--json")
    assert some.returncode == 0, some.stderr
    assert all(v["listed"] for v in json.loads(some.stdout)["venues"].values())


def test_a_venue_that_cannot_be_read_makes_the_net_exposure_unknown_never_flat(sim: Sim) -> None:
    sim.fault(venue="okx", op="fetch_positions", kind="http_500", count=1000)
    proc = hedgectl("positions")
    assert proc.returncode == 1, proc.stderr
    assert "net exposure: unknown - okx could not be read" in proc.stdout
    assert "flat everywhere" not in proc.stdout
