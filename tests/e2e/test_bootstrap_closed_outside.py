"""A bootstrap whose legs are closed by someone else during the hold never claims the close as its own.

The real CLI against the simulator: a second `hedgectl flatten` closes both legs while the bootstrap holds;
the bootstrap's reduce-only closes are then refused by the venues (nothing left to reduce).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.conftest import Sim, eventually, hedgectl, orders_placed, spawn

D = Decimal
pytestmark = pytest.mark.e2e


def _both_open(sim: Sim) -> bool:
    return all(sim.positions(v) for v in ("binance", "okx"))


def test_legs_flattened_by_another_command_are_said_closed_outside_and_never_counted(
    sim: Sim, isolated_env: Path
) -> None:
    proc = spawn("bootstrap", "--notional", "300", "--hold", "8", "--json")
    orders_placed(proc, sim, 2)
    eventually(lambda: _both_open(sim), timeout=30)
    qty = sim.positions("binance")["BTC"]
    flattened = hedgectl("flatten", "--all", "--yes", "--json")
    assert flattened.returncode == 0, flattened.stderr
    assert sim.all_flat()
    out, err = proc.communicate(timeout=90)
    doc = json.loads(out)
    assert proc.returncode == 0, err  # flat: done, with a warning
    assert {v: D(q) for v, q in doc["closed_outside"].items()} == {"binance": abs(qty), "okx": abs(qty)}
    assert sum(1 for w in doc["warnings"] if "closed outside this run" in w) == 2
    pnl = doc["pnl"]
    for venue in ("binance", "okx"):
        # Only the bootstrap's own fills: its opens, no close of its own, so nothing realised and no
        # notional-sized gross on one venue against the other.
        assert D(pnl[venue]["gross"]) == 0
        assert D(pnl[venue]["uncounted_qty"]) == abs(qty)
        assert D(pnl[venue]["fees"]) > 0
    assert D(pnl["net"]) == -(D(pnl["binance"]["fees"]) + D(pnl["okx"]["fees"])) + D(pnl["funding"])


def test_the_human_output_says_the_run_did_not_close_the_hedge(sim: Sim, isolated_env: Path) -> None:
    proc = spawn("bootstrap", "--notional", "300", "--hold", "8")
    orders_placed(proc, sim, 2)
    eventually(lambda: _both_open(sim), timeout=30)
    assert hedgectl("flatten", "--all", "--yes").returncode == 0
    out, err = proc.communicate(timeout=90)
    text = out + err
    assert proc.returncode == 0, text
    assert "HEDGE CYCLE COMPLETED" not in text
    assert "NOT CLOSED BY THIS RUN" in text
