"""`hedgectl report` of runs made through the real CLI against the simulator: the page references nothing outside
itself, its embedded data and its charts hold the journal's numbers, and it draws in headless Chromium with the
network refused, without a console error."""

from __future__ import annotations

import json
import sqlite3
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Sim, hedgectl
from tests.e2e.test_bp_aster_loop import FAST, Loop, _fill_when_resting
from tests.report.browser import load_page
from tests.report.page_checks import embedded_data, external_references, figures, trace

pytestmark = pytest.mark.e2e

D = Decimal


def _journal(home: Path, sql: str, *args: Any) -> list[sqlite3.Row]:
    conn = sqlite3.connect(home / "journal.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()


def _report(*args: str) -> tuple[str, dict[str, Any]]:
    made = hedgectl("report", *args, "--out", "report.html")
    assert made.returncode == 0, made.stderr
    assert "report.html" in made.stdout
    page = Path("report.html").read_text()
    assert external_references(page) == []
    return page, embedded_data(page)


def _opens_offline_without_errors(path: Path) -> None:
    load = load_page(path)
    assert load.errors == []
    assert load.requests == [path.resolve().as_uri()]  # the page itself, nothing else
    assert load.charts_drawn == load.charts_embedded > 0


def _fills_match_the_journal(run: dict[str, Any], rows: list[sqlite3.Row]) -> None:
    def key(venue: str, side: str, qty: Any, price: Any, fee: Any) -> tuple[str, str, Decimal, Decimal, Decimal]:
        return venue, side, D(qty), D(price), D(fee)

    assert sorted(key(f["venue"], f["side"], f["qty"], f["price"], f["fee"]) for f in run["fills"]) == sorted(
        key(r["venue"], r["side"], r["qty"], r["price"], r["fee"]) for r in rows
    )


def test_the_report_of_a_bootstrap_holds_its_numbers_and_draws_offline(sim: Sim, isolated_env: Path) -> None:
    done = hedgectl("bootstrap", "--notional", "300", "--hold", "1", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    boot = json.loads(done.stdout)

    page, data = _report(boot["run_id"])

    (run,) = data["runs"]
    rows = _journal(isolated_env, "SELECT * FROM fills WHERE run_id=?", boot["run_id"])
    (recorded,) = _journal(isolated_env, "SELECT * FROM runs WHERE id=?", boot["run_id"])
    funding = _journal(isolated_env, "SELECT amount FROM funding WHERE run_id=?", boot["run_id"])
    assert run["kind"] == "bootstrap"
    _fills_match_the_journal(run, rows)
    totals = run["totals"]
    assert D(totals["net"]) == D(recorded["net_pnl"]) == D(boot["pnl"]["net"])
    assert D(totals["fees"]) == sum((D(r["fee"]) for r in rows), D(0)) == D(boot["pnl"]["fees"])
    assert D(totals["price_pnl"]) == D(boot["pnl"]["gross"])
    assert D(totals["funding"]) == sum((D(r["amount"]) for r in funding), D(0))
    assert D(totals["volume"]) == D(recorded["volume"])
    for venue, pnl in run["venues"].items():
        assert D(pnl["net"]) == D(boot["pnl"][venue]["net"])
        assert D(pnl["position"]) == 0
    # Latency as bootstrap measured and reported it.
    latency = run["latency"]
    assert latency["open_phase_ms"] == boot["latency_ms"]["open_phase"]
    assert latency["close_phase_ms"] == boot["latency_ms"]["close_phase"]
    assert latency["open_skew_ms"] == boot["latency_ms"]["open_skew"]
    for venue, leg in boot["legs"].items():
        assert latency["legs"][venue]["open"] == {"ack_ms": leg["open"]["ack_ms"], "fill_ms": leg["open"]["fill_ms"]}
        assert latency["legs"][venue]["close"] == {"ack_ms": leg["close"]["ack_ms"], "fill_ms": leg["close"]["fill_ms"]}
    # The hold was marked: the curve has points between the opening and the closing fills.
    assert run["marks"]
    assert {p["cause"] for p in run["pnl"]} >= {"fill", "mark"}

    charts = figures(page)
    pnl = charts["pnl"][0]
    assert trace(pnl, "net PnL")["y"] == [float(p["net"]) for p in run["pnl"]]
    assert trace(pnl, "net PnL")["y"][-1] == float(recorded["net_pnl"])
    assert trace(pnl, "fees (cost)")["y"][-1] == -float(totals["fees"])
    prices = charts["prices"][0]
    for r in rows:
        assert float(r["price"]) in trace(prices, f"{r['venue']} {r['side']}")["y"]
    bars = charts["latency"][0]
    assert trace(bars, "open ack ms")["y"] == [boot["legs"][v]["open"]["ack_ms"] for v in sorted(boot["legs"])]

    _opens_offline_without_errors(Path("report.html"))


@pytest.fixture
def frozen_sim(sim: Sim) -> Sim:
    sim.post("/_sim/clock", {"frozen": True})
    later_ms = int(time.time() * 1000) + 2 * 3_600_000
    for venue in ("backpack", "aster"):
        sim.post("/_sim/funding", {"venue": venue, "symbol": "ASTER", "rate": "0.0001", "next_funding_ms": later_ms})
    return sim


def test_the_report_of_a_loop_holds_its_hedges_volume_and_pnl(frozen_sim: Sim, isolated_env: Path) -> None:
    loop = Loop("--qty", "10", "--cycles", "1", *FAST)
    for leg in (1, 2):
        _fill_when_resting(frozen_sim)
        loop.wait_for("leg", count=leg, action="end")
    assert loop.finish() == 0, loop.stderr
    stats = loop.summary["stats"]
    run_id = loop.summary["run_id"]
    reactions = [e["reaction_ms"] for e in loop.events("hedge") if e["reaction_ms"] is not None]
    assert reactions

    page, data = _report("--since", "2000-01-01")

    (run,) = [r for r in data["runs"] if r["run"]["id"] == run_id]
    rows = _journal(isolated_env, "SELECT * FROM fills WHERE run_id=?", run_id)
    (recorded,) = _journal(isolated_env, "SELECT * FROM runs WHERE id=?", run_id)
    assert run["kind"] == "loop"
    _fills_match_the_journal(run, rows)
    assert run["hedge_reaction_ms"] == reactions
    totals = run["totals"]
    # Backpack settles in USDC, counted at par: the loop's own stats say the same.
    assert D(totals["volume"]) == D(stats["maker_volume"]) + D(stats["taker_volume"])
    assert D(totals["net"]) == D(stats["net_pnl"]) == D(recorded["net_pnl"])
    assert D(totals["cost_per_10k"]) == D(stats["cost_per_10k"])
    assert {v: D(p["fees"]) for v, p in run["venues"].items()} == {v: D(f) for v, f in stats["fees"].items()}
    assert [m["cycle"] for m in run["markers"] if m["kind"] == "cycle"] == [1]
    summary = data["summary"]
    assert [r["run_id"] for r in summary["runs"]] == [run_id]
    assert D(summary["totals"]["net_pnl"]) == D(recorded["net_pnl"])

    charts = figures(page)
    assert trace(charts["reaction"][0], "hedges")["x"] == reactions
    volume = charts["volume"][0]
    assert trace(volume, f"volume ({run['asset']})")["y"][-1] == float(totals["volume"])
    assert trace(volume, "cost per 10k")["y"][-1] == float(totals["cost_per_10k"])
    assert trace(charts["pnl"][0], "net PnL")["y"][-1] == float(recorded["net_pnl"])

    _opens_offline_without_errors(Path("report.html"))
