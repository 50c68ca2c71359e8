"""A carry's PnL when its legs were not all traded by the carry: an outside close, a pair adopted.

The real CLI against the simulator over loopback; the money is checked against what the simulator charged and
what `history` and `breaker status` then say (the breaker's daily loss is the sum of the runs' net PnL).
"""

from __future__ import annotations

import json
import signal
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.conftest import Sim, hedgectl
from tests.e2e.test_carry import FAST, Carry, carries, opened, start

D = Decimal
pytestmark = pytest.mark.e2e
__all__ = ["carries"]  # the fixture, shared with test_carry.py


def _run_net(run_id: str) -> Decimal:
    listing = json.loads(hedgectl("history", "--json").stdout)
    [run] = [r for r in listing["runs"] if r["id"] == run_id]
    return D(run["net_pnl"])


def test_a_leg_closed_outside_the_carry_is_not_counted_as_profit_and_the_breaker_sees_the_real_loss(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    carry = start(carries, "--notional", "300", *FAST)
    carry.wait(opened(carry))
    qty = D(carry.of("open")[0]["qty"])
    closed = hedgectl("flatten", "--venue", "okx", "--symbol", "BTC", "--yes", "--json")
    assert closed.returncode == 0, closed.stderr
    carry.wait(lambda: bool(carry.of("rehedge")) and D(carry.of("view")[-1]["delta"]) == 0)
    [outside] = carry.of("outside")
    assert (outside["venue"], D(outside["qty"])) == ("okx", qty)
    carry.proc.send_signal(signal.SIGINT)
    assert carry.finish() == 130, carry.err
    assert sim.all_flat()
    result = carry.result
    pnl = result["pnl"]
    # The price did not move: what the carry made on what it opened and closed itself is minus its fees.
    fees = sum(D(pnl[v]["fees"]) for v in ("binance", "okx"))
    assert fees > 0
    assert abs(D(pnl["net"]) + fees) < D("0.5")
    assert abs(D(pnl["okx"]["gross"])) < D("0.5")
    assert D(pnl["okx"]["uncounted_qty"]) == qty  # the part closed outside: unknown, and said so
    assert any("outside the carry" in w for w in result["warnings"])
    run_id = json.loads(hedgectl("history", "--json").stdout)["runs"]
    [carry_run] = [r for r in run_id if r["command"] == "carry"]
    assert D(carry_run["net_pnl"]) == D(pnl["net"])
    status = json.loads(hedgectl("breaker", "status", "--json").stdout)
    # Today's realised PnL is the carry's and the outside flatten's (the venue's realised PnL of its close).
    assert D(status["realised_today"]) < 0
    assert abs(D(status["realised_today"])) < D(2)


def test_an_adopted_pair_is_priced_at_the_venues_entry_prices(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    kept = start(carries, "--notional", "300", "--on-exit", "keep", *FAST)
    kept.wait(opened(kept))
    kept.proc.send_signal(signal.SIGINT)
    kept.finish()
    sim.post("/_sim/price", {"symbol": "BTC", "price": "100000"})
    entry = {v: D(p["entry_price"]) for v in ("binance", "okx") for p in sim.state()[v]["positions"] if D(p["qty"])}
    qty = sim.positions("binance")["BTC"]
    adopted = hedgectl("carry", "--adopt", "--notional", "300", "--until", "0.3s", "--max-loss-pct", "50", *FAST)
    assert adopted.returncode == 0, adopted.stderr
    assert sim.all_flat()
    [result] = [json.loads(line) for line in adopted.stdout.splitlines() if '"event":"result"' in line]
    pnl = result["pnl"]
    # Each leg's gross is its own price move from the venue's entry, not the cash of its close alone.
    close = {v: D(pnl[v]["gross"]) for v in ("binance", "okx")}
    assert abs(close["binance"] - qty * (D(100000) - entry["binance"])) < qty * 200
    assert abs(close["okx"] + qty * (D(100000) - entry["okx"])) < qty * 200
    assert abs(close["binance"] + close["okx"]) < D(2)
    assert D(pnl["binance"]["uncounted_qty"]) == 0
