"""`hedgectl report` of a carry run made through the real CLI against the simulator: the PnL split into price, fees
and funding with each settlement marked, both legs' fills and marks, the basis / funding spread / delta series
and the exit, all equal to what the journal and the carry's own result say; the page draws offline in Chromium."""

from __future__ import annotations

import signal
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.conftest import Sim
from tests.e2e.test_carry import FAST, VENUES, Carry, carries, opened, settle_now, start
from tests.e2e.test_report import _fills_match_the_journal, _journal, _opens_offline_without_errors, _report
from tests.report.page_checks import figures, trace

pytestmark = pytest.mark.e2e
__all__ = ["carries"]  # the fixture, shared with test_carry

D = Decimal


def test_the_report_of_a_carry_holds_its_funding_legs_spread_and_exit(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    carry = start(carries, "--notional", "300", "--until", "1h", *FAST)
    carry.wait(opened(carry))
    for n, (long_rate, short_rate) in enumerate((("0.0001", "0.0004"), ("0.0003", "-0.0001"))):
        settle_now(sim, "binance", long_rate)
        settle_now(sim, "okx", short_rate)
        carry.wait(lambda n=n: len(carry.of("funding")) == 2 * (n + 1))
    carry.proc.send_signal(signal.SIGINT)
    assert carry.finish() == 130, carry.err
    result = carry.result
    [(run_id,)] = _journal(isolated_env, "SELECT id FROM runs WHERE command='carry'")

    page, data = _report()  # the latest run that placed orders: the carry

    (run,) = data["runs"]
    assert run["kind"] == "carry"
    rows = _journal(isolated_env, "SELECT * FROM fills WHERE run_id=?", run_id)
    (recorded,) = _journal(isolated_env, "SELECT * FROM runs WHERE id=?", run_id)
    _fills_match_the_journal(run, rows)
    assert {(f["venue"], f["intent"]) for f in run["fills"]} == {
        (v, i) for v in VENUES for i in ("carry_open", "carry_close")
    }
    pnl, totals = result["pnl"], run["totals"]
    # Funding: each venue's and the total exactly what the carry's JSON result says (four settlements, each marked).
    for venue in VENUES:
        assert D(run["venues"][venue]["funding"]) == D(pnl[venue]["funding"])
        assert D(run["venues"][venue]["position"]) == 0
    assert D(totals["funding"]) == sum((D(pnl[v]["funding"]) for v in VENUES), D(0))
    assert D(totals["funding"]) != 0
    assert D(totals["fees"]) == sum((D(r["fee"]) for r in rows), D(0)) == sum((D(pnl[v]["fees"]) for v in VENUES), D(0))
    assert D(totals["net"]) == D(recorded["net_pnl"]) == sum((D(pnl[v]["net"]) for v in VENUES), D(0))
    assert len([m for m in run["markers"] if m["kind"] == "funding"]) == len(run["funding"]) == 4
    # The readings: both venues' marks, the spread as the watch showed it, a flat delta; the exit and its reason.
    assert run["carry"]
    assert all(set(m["marks"]) == set(VENUES) for m in run["marks"])
    shown = {D(v["spread_apr_pct"]) for v in carry.of("view") if v["spread_apr_pct"] is not None}
    assert {D(p["spread_apr_pct"]) for p in run["carry"]} <= shown
    assert D(run["carry"][-1]["spread_apr_pct"]) == D(carry.of("view")[-1]["spread_apr_pct"])
    assert all(D(p["delta"]) == 0 for p in run["carry"])
    [exit_marker] = [m for m in run["markers"] if m["kind"] == "exit"]
    assert exit_marker["event"] == "close"
    assert exit_marker["reason"] == "interrupted"
    assert [m["kind"] for m in run["markers"] if m["kind"] in ("open", "rehedge", "trip")] == ["open"]

    charts = figures(page)
    curve = charts["pnl"][0]
    assert trace(curve, "net PnL")["y"] == [float(p["net"]) for p in run["pnl"]]
    assert trace(curve, "net PnL")["y"][-1] == float(recorded["net_pnl"])
    assert trace(curve, "funding")["y"][-1] == float(totals["funding"])
    settlements = [s for s in curve["layout"]["shapes"] if s["line"].get("dash") == "dot"]
    assert len(settlements) == 4
    assert [a["text"] for a in curve["layout"]["annotations"]] == ["exit"]
    prices = charts["prices"][0]
    for r in rows:
        assert float(r["price"]) in trace(prices, f"{r['venue']} {r['side']}")["y"]
    for venue in VENUES:
        assert trace(prices, f"{venue} mark")["y"] == [float(m["marks"][venue]) for m in run["marks"]]
    basis = charts["basis"][0]
    assert trace(basis, "funding spread APR %")["y"] == [float(p["spread_apr_pct"]) for p in run["carry"]]
    assert trace(basis, "basis bps")["y"] == [float(p["basis_bps"]) for p in run["carry"]]
    assert trace(charts["delta"][0], "delta (base)")["y"] == [0.0] * len(run["carry"])
    assert "interrupted" in page  # the carry's events table

    _opens_offline_without_errors(Path("report.html"))
