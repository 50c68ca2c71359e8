"""`history` and `report` show one set of figures for the same runs: a taker bootstrap, a maker-first one, one
interrupted after its maker fill was hedged, a loop, and an aborted run (fills in the journal, no volume recorded
as it ended: what the third Ctrl+C leaves, journaled here as it does).

Each run's volume, fees, funding, slippage, net PnL and cost per 10k are read from `history --json` and from the
report page's embedded data, and both are checked against the journal's own rows: cost per 10k =
(fees + funding paid - funding received + the hedges' slippage) / volume x 10,000."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hedgectl.journal import Journal
from tests.e2e.conftest import Sim, eventually, hedgectl, spawn
from tests.e2e.test_bp_aster_loop import FAST, Loop, _fill_when_resting
from tests.e2e.test_history_numbers import _journal_run
from tests.report.page_checks import embedded_data

pytestmark = pytest.mark.e2e

D = Decimal
MAKER_FIRST = [
    "bootstrap", "--long", "okx", "--short", "backpack", "--symbol", "BTC", "--notional", "300", "--hold", "0",
    "--entry", "maker-first", "--maker-timeout", "60", "--yes", "--json",
]  # fmt: skip


def _rows(home: Path, sql: str, *args: Any) -> list[sqlite3.Row]:
    conn = sqlite3.connect(home / "journal.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()


def _maker_first(sim: Sim, *, interrupt: bool) -> int:
    proc = spawn(*MAKER_FIRST)
    try:
        eventually(lambda: len(sim.state()["okx"]["open_orders"]) == 1, timeout=30)
        hedges = len([r for r in sim.requests("create_order") if r["venue"] == "backpack"])
        sim.post("/_sim/fill", {"venue": "okx", "all": True, "ratio": "0.5" if interrupt else "1"})
        if interrupt:
            eventually(lambda: len([r for r in sim.requests("create_order") if r["venue"] == "backpack"]) > hedges)
            proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode


def _from_the_journal(home: Path, run_id: str) -> dict[str, Decimal]:
    """The figures by their rule, from the raw rows (every asset here is USDT or USDC, at par)."""
    fills = _rows(home, "SELECT qty, price, fee FROM fills WHERE run_id=?", run_id)
    funding = _rows(home, "SELECT amount FROM funding WHERE run_id=?", run_id)
    hedges = [json.loads(r["data"]) for r in _rows(home, "SELECT data FROM events WHERE run_id=?", run_id)]
    volume = sum((D(r["qty"]) * D(r["price"]) for r in fills), D(0))
    fees = sum((D(r["fee"]) for r in fills), D(0))
    received = sum((D(r["amount"]) for r in funding), D(0))
    slippage = sum((D(str(h["slippage"])) for h in hedges if h.get("slippage") is not None), D(0))
    cost = ((fees - received + slippage) / volume * 10_000).quantize(D("0.0001"))
    return {"volume": volume, "fees": fees, "funding": received, "slippage": slippage, "cost_per_10k": cost}


def test_history_and_the_report_show_the_same_figures_for_every_kind_of_run(sim: Sim, isolated_env: Path) -> None:
    taker = hedgectl("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "0", "--yes", "--json")
    assert taker.returncode == 0, taker.stderr
    sim.post("/_sim/clock", {"frozen": True})  # a resting order fills only when the test fills it
    later_ms = int(time.time() * 1000) + 2 * 3_600_000  # and the loop meets no funding gate
    for venue in ("backpack", "aster"):
        sim.post("/_sim/funding", {"venue": venue, "symbol": "ASTER", "rate": "0.0001", "next_funding_ms": later_ms})
    assert _maker_first(sim, interrupt=False) == 0
    assert _maker_first(sim, interrupt=True) == 130
    loop = Loop("--qty", "10", "--cycles", "1", *FAST)
    for leg in (1, 2):
        _fill_when_resting(sim)
        loop.wait_for("leg", count=leg, action="end")
    assert loop.finish() == 0, loop.stderr
    aborted = _journal_run(isolated_env, D(380), D("-0.5"), end=False)
    journal = Journal(isolated_env / "journal.sqlite")
    try:
        journal.end_run(aborted, status="aborted", exit_code=3, error="aborted by the user")
    finally:
        journal.close()

    listing = hedgectl("history", "--json")
    assert listing.returncode == 0, listing.stderr
    history = json.loads(listing.stdout)
    made = hedgectl("report", "--since", "2000-01-01", "--out", "report.html")
    assert made.returncode == 0, made.stderr
    page = Path("report.html").read_text()
    report = embedded_data(page)

    listed = {r["id"]: r for r in history["runs"]}
    rows = {r["run_id"]: r for r in report["summary"]["runs"]}
    totals = {r["run"]["id"]: r["totals"] for r in report["runs"]}
    assert set(listed) == set(rows) == set(totals)
    assert sorted(r["status"] for r in listed.values()) == ["aborted", "interrupted", "ok", "ok", "ok"]
    recorded = _rows(isolated_env, "SELECT volume FROM runs WHERE id=?", aborted)
    assert recorded[0]["volume"] is None  # it traded, but recorded no volume as it ended
    for run_id, shown in listed.items():
        row, run_totals, truth = rows[run_id], totals[run_id], _from_the_journal(isolated_env, run_id)
        assert truth["volume"] > 0, run_id
        assert D(shown["volume"]) == D(row["volume"]) == D(run_totals["volume"]) == truth["volume"], run_id
        assert sum(D(v) for v in shown["fees"].values()) == D(row["fees"]) == truth["fees"], run_id
        assert sum((D(v) for v in shown["funding"].values()), D(0)) == D(row["funding"]) == truth["funding"]
        assert D(shown["slippage"] or 0) == D(run_totals["slippage"]) == truth["slippage"], run_id
        assert D(shown["cost_per_10k"]) == D(row["cost_per_10k"]) == truth["cost_per_10k"], run_id
        assert shown["net_pnl"] == row["net_pnl"], run_id
    maker_first = [r for r in listed.values() if r["command"] == "bootstrap" and r["slippage"] is not None]
    assert len(maker_first) == 2  # the maker-first entries' hedges count; the taker bootstrap has none
    assert D(history["totals"]["volume"]) == D(report["summary"]["totals"]["volume"])
    assert D(history["totals"]["net_pnl"]) == D(report["summary"]["totals"]["net_pnl"])
    assert D(history["totals"]["cost_per_10k"]) == D(report["summary"]["totals"]["cost_per_10k"])
    assert "cost per 10k = (fees + funding paid - funding received" in page
