"""A carry whose whole pair is closed outside it (a `flatten --all` in another shell) ends by itself: there is
nothing left to carry, and it says why, instead of watching two flat legs until its exit rule."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.conftest import Sim, eventually, hedgectl
from tests.e2e.test_carry import FAST, Carry, carries, opened, start
from tests.e2e.test_report import _journal, _report

D = Decimal
pytestmark = pytest.mark.e2e
__all__ = ["carries"]  # the fixture, imported for this module's tests


def test_a_pair_flattened_by_another_command_ends_the_carry_flat_with_exit_0(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    carry = start(carries, "--notional", "300", "--until", "1h", *FAST)
    carry.wait(opened(carry))
    qty = D(carry.of("open")[0]["qty"])
    flattened = hedgectl("flatten", "--all", "--yes", "--json")
    assert flattened.returncode == 0, flattened.stderr
    assert carry.finish(timeout=60) == 0, carry.err  # long before --until 1h: it ended by itself
    assert sim.all_flat()
    result = carry.result
    assert "closed outside the carry" in result["exit_reason"]
    pnl = result["pnl"]
    for venue in ("binance", "okx"):
        assert D(pnl[venue]["uncounted_qty"]) == qty  # closed outside: unknown, never counted as money
        assert abs(D(pnl[venue]["gross"])) < D("0.5")
    # The report agrees: it marked the quantity the carry never closed at the last price (another net than the
    # carry's and history's), and now says what it leaves out.
    [(run_id,)] = _journal(isolated_env, "SELECT id FROM runs WHERE command = 'carry'")
    _, data = _report(run_id)
    (run,) = data["runs"]
    assert D(run["totals"]["net"]) == D(pnl["net"]) == D(run["run"]["net_pnl"])
    assert any("not closed by this run" in w for w in run["warnings"]), run["warnings"]
    # history show: the carry opened its pair (it said "opened in another run": a carry's opens were not counted)
    shown = " ".join(hedgectl("history", "show", run_id).stdout.split())
    assert "fees only: not closed in this run" in shown
    assert "opened in another run" not in shown


def test_a_carry_stopped_while_it_plans_says_no_order_was_sent(sim: Sim, isolated_env: Path) -> None:
    """It said "closing the pair" and "CARRY CLOSED ... both venues flat" of a pair it never opened."""
    import signal

    from tests.e2e.conftest import spawn

    sim.post("/_sim/latency", {"venue": "okx", "ms": 1500})  # the plan's reads wait: Ctrl+C lands before the open
    proc = spawn("carry", "--notional", "300", "--until", "1h", "--refresh-s", "0.2")
    eventually(lambda: len(sim.requests()) > 0, timeout=30)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "no order was sent" in out + err  # while it checked the venues, or planned ("CARRY STOPPED before ...")
    assert "CARRY CLOSED" not in out
    assert sim.requests("create_order") == []
