"""Recovery completes the journal: an order of an aborted run whose outcome the run never learned is looked up by
the next `flatten --all` (or `carry --resume`), and its final state and fills are journaled to that run, so history
shows the run's real volume and fees, and the run no longer warns of unacknowledged orders."""

from __future__ import annotations

import json
import signal
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.conftest import Sim, eventually, hedgectl, orders_placed, spawn
from tests.e2e.test_exits import Stderr

pytestmark = pytest.mark.e2e


def _rows(home: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(home / "journal.sqlite")
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()


def _abort_during_open(sim: Sim, home: Path, *args: str) -> str:
    """Start a command, slow OKX's order replies so its opening order is in flight, abort with a third Ctrl+C;
    the run's id. Only the order is held: the command's start-up reads of OKX answer at once."""
    sim.post("/_sim/latency", {"venue": "okx", "op": "create_order", "ms": 2500})
    proc = spawn(*args)
    stderr = Stderr(proc)
    orders_placed(proc, sim, 2, timeout=60)
    for expected in ("Ctrl+C", "Press Ctrl+C a third time"):
        proc.send_signal(signal.SIGINT)
        stderr.wait_for(expected)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, stderr.text + err
    sim.post("/_sim/latency", {"venue": "okx", "op": "create_order", "ms": 0})
    ((run_id,),) = _rows(home, "SELECT id FROM runs WHERE command = ?", args[0])
    return str(run_id)


def test_a_flatten_after_an_abort_during_the_open_journals_the_runs_orders_and_fills(
    sim: Sim, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEDGECTL_HTTP_TIMEOUT_S", "10")  # the OKX order's reply takes 2.5 s
    run_id = _abort_during_open(
        sim, isolated_env, "bootstrap", "--notional", "300", "--hold", "30", "--max-slippage-bps", "50"
    )
    flatten = hedgectl("flatten", "--all", "--yes")
    assert flatten.returncode == 0, flatten.stderr
    assert f"run {run_id}: " in flatten.stdout  # what recovery journaled to it is said
    orders = _rows(isolated_env, "SELECT venue, state, status, filled_qty FROM orders WHERE run_id = ?", run_id)
    opened = [o for o in orders if o[3] not in (None, "0")]
    assert {(v, state, status) for v, state, status, _ in opened} >= {("binance", "acked", "filled")}
    assert all(state in ("acked", "failed") for _, state, _, _ in orders), orders
    fills = _rows(isolated_env, "SELECT venue, order_id, trade_id FROM fills WHERE run_id = ?", run_id)
    assert {v for v, *_ in fills} == {v for v, *_ in opened}, (fills, orders)
    history = hedgectl("history", "--json")
    assert history.returncode == 0, history.stderr
    (row,) = [r for r in json.loads(history.stdout)["runs"] if r["id"] == run_id]
    assert row["volume"] is not None  # was None: no fill journaled
    assert Decimal(row["volume"]) > 500  # both 0.003 BTC legs, ~285 USDT each
    assert Decimal(row["fees"]["USDT"]) > 0
    show = " ".join(hedgectl("history", "show", run_id).stdout.split())
    assert "fees only: not closed in this run" in show  # the run opened its pair itself; a flatten closed it
    assert "None" not in show
    again = hedgectl("flatten", "--all", "--yes")
    assert "did not finish" not in again.stderr
    assert len(_rows(isolated_env, "SELECT 1 FROM fills WHERE run_id = ?", run_id)) == len(fills)  # once per trade
    eventually(sim.all_flat)


def test_a_carry_resumed_after_an_abort_during_its_open_counts_the_open_and_leaves_no_warning(
    sim: Sim, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEDGECTL_HTTP_TIMEOUT_S", "10")
    fast = ("--refresh-s", "0.2", "--max-slippage-bps", "50", "--json")
    run_id = _abort_during_open(sim, isolated_env, "carry", "--notional", "300", "--until", "1h", *fast)
    resumed = spawn("carry", "--resume", "--until", "1s", *fast)
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert "outside the carry" not in err  # the legs it resumed are the aborted run's own orders, now journaled
    fills = _rows(isolated_env, "SELECT venue FROM fills WHERE run_id = ?", run_id)
    assert sorted(v for (v,) in fills) == ["binance", "okx"]
    assert all(
        state == "acked" for (state,) in _rows(isolated_env, "SELECT state FROM orders WHERE run_id = ?", run_id)
    )
    assert sim.all_flat()
    later = hedgectl("flatten", "--all", "--dry-run")  # any command that opens a session names unfinished runs
    assert later.returncode == 0, later.stderr
    assert "did not finish" not in later.stderr, later.stderr


def test_an_order_recovery_cannot_read_is_left_as_it_was_and_said_so(
    sim: Sim, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEDGECTL_HTTP_TIMEOUT_S", "10")
    run_id = _abort_during_open(
        sim, isolated_env, "bootstrap", "--notional", "300", "--hold", "30", "--max-slippage-bps", "50"
    )
    sim.fault(venue="okx", op="fetch_order", kind="http_500", count=1000)
    flatten = hedgectl("flatten", "--all", "--yes")
    assert "that order is left as the journal had it" in flatten.stderr, flatten.stderr
    okx = _rows(isolated_env, "SELECT state FROM orders WHERE run_id = ? AND venue = 'okx'", run_id)
    assert okx in ([("intent",)], [("unknown",)])  # as the aborted run left it
    assert _rows(isolated_env, "SELECT venue FROM fills WHERE run_id = ? AND venue = 'okx'", run_id) == []
    later = hedgectl("flatten", "--all", "--dry-run")
    assert "did not finish with 1 unacknowledged order(s)" in later.stderr, later.stderr


def test_a_flatten_after_an_abort_during_the_close_journals_both_closes_and_their_fills(
    sim: Sim, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEDGECTL_HTTP_TIMEOUT_S", "10")
    proc = spawn("bootstrap", "--notional", "300", "--hold", "30", "--max-slippage-bps", "50")
    stderr = Stderr(proc)
    orders_placed(proc, sim, 2, timeout=60)
    eventually(lambda: bool(sim.positions("binance")) and bool(sim.positions("okx")))
    sim.post("/_sim/latency", {"venue": "okx", "op": "create_order", "ms": 2500})  # the short leg's close is in flight
    proc.send_signal(signal.SIGINT)
    eventually(lambda: len(sim.requests("create_order")) >= 4, timeout=30)
    proc.send_signal(signal.SIGINT)
    stderr.wait_for("Press Ctrl+C a third time")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, stderr.text + err
    sim.post("/_sim/latency", {"venue": "okx", "op": "create_order", "ms": 0})
    ((run_id,),) = _rows(isolated_env, "SELECT id FROM runs WHERE command = 'bootstrap'")
    flatten = hedgectl("flatten", "--all", "--yes", "--json")
    assert flatten.returncode == 0, flatten.stderr
    (recovered,) = json.loads(flatten.stdout)["recovered"]
    assert recovered["run"] == run_id
    assert recovered["fills_journaled"] >= 1
    orders = _rows(isolated_env, "SELECT venue, state, status, filled_qty FROM orders WHERE run_id = ?", run_id)
    assert [(v, s, st) for v, s, st, _ in orders if s != "failed" and st != "filled"] == [], orders
    filled = sorted(str(v) for v, s, st, _ in orders if st == "filled")
    fills = sorted(str(v) for (v,) in _rows(isolated_env, "SELECT venue FROM fills WHERE run_id = ?", run_id))
    assert fills == filled == ["binance", "binance", "okx", "okx"], (orders, fills)
    assert sim.all_flat()
