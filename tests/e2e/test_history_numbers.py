"""`history` and `history show`: plain numbers, fees, the PnL breakdown, totals over a period."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from hedgectl.domain.types import Fill, FundingPayment, Order, OrderRequest, OrderStatus, OrderType, Side
from hedgectl.journal import Journal
from tests.e2e.bootstrap_rig import VENUES, account
from tests.e2e.conftest import Sim, hedgectl

pytestmark = pytest.mark.e2e


def test_history_show_breaks_a_bootstrap_down_as_the_simulator_accounted_it(sim: Sim, isolated_env: Path) -> None:
    before = account(sim)
    run = hedgectl("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "0", "--json")
    assert run.returncode == 0, run.stderr
    boot = json.loads(run.stdout)
    listing = json.loads(hedgectl("history", "--json").stdout)
    run_id = listing["runs"][0]["id"]
    shown = json.loads(hedgectl("history", "show", run_id, "--json").stdout)
    after = account(sim)
    for venue in VENUES:
        fees = after[venue][1] - before[venue][1]
        gross = after[venue][0] - before[venue][0] + fees
        got = shown["pnl"]["venues"][venue]
        assert (Decimal(got["gross"]), Decimal(got["fees"])) == (gross, fees)
        assert Decimal(got["net"]) == gross - fees
    assert Decimal(shown["pnl"]["net"]) == Decimal(listing["runs"][0]["net_pnl"])
    assert shown["pnl"]["net_bps"] == boot["pnl"]["net_bps"]  # the same base as bootstrap's own report
    assert shown["pnl"]["notional_opened"] == boot["notional_opened"]
    for order in shown["orders"]:  # the fee column is filled from the order's fills
        assert Decimal(order["fee"]["USDT"]) > 0
    assert sum(Decimal(o["fee"]["USDT"]) for o in shown["orders"]) == sum(after[v][1] - before[v][1] for v in VENUES)
    [(asset, total_fees)] = listing["runs"][0]["fees"].items()
    assert (asset, Decimal(total_fees)) == ("USDT", sum(after[v][1] - before[v][1] for v in VENUES))
    screen = hedgectl("history", "show", run_id)
    assert "PnL from the recorded fills" in screen.stdout
    assert "exit 0" in screen.stdout


def _journal_run(home: Path, qty: Decimal, net: Decimal, *, end: bool = True) -> str:
    journal = Journal(home / "journal.sqlite")
    try:
        run_id = journal.start_run("bp-aster loop", "paper", {})
        cid = "c1" + run_id
        request = OrderRequest(symbol="ASTER", side=Side.BUY, type=OrderType.MARKET, qty=qty, client_order_id=cid)
        journal.record_intent(run_id, "aster", request, "hedge")
        journal.record_order(
            request.client_order_id,
            Order(venue="aster", symbol="ASTER", order_id="o" + run_id, client_order_id=request.client_order_id,
                  side=Side.BUY, type=OrderType.MARKET, status=OrderStatus.FILLED, qty=qty, filled_qty=qty,
                  avg_price=Decimal("1.5")),
        )  # fmt: skip
        journal.record_fill(
            run_id,
            Fill(venue="aster", symbol="ASTER", order_id="o" + run_id, trade_id="t" + run_id, side=Side.BUY, qty=qty,
                 price=Decimal("1.5"), fee=Decimal("0.006"), fee_asset="USDT", at=datetime.now(UTC)),
        )  # fmt: skip
        if end:
            journal.end_run(run_id, status="ok", exit_code=0, net_pnl=net, volume=qty * Decimal("1.5"))
        return run_id
    finally:
        journal.close()


def test_history_show_prints_quantities_in_plain_notation_and_never_exit_none(isolated_env: Path) -> None:
    run_id = _journal_run(isolated_env, Decimal("1E+1"), Decimal("-0.01"), end=False)
    shown = hedgectl("history", "show", run_id)
    assert shown.returncode == 0, shown.stderr
    assert "1E+1" not in shown.stdout
    assert " 10 " in shown.stdout
    assert "exit None" not in shown.stdout
    assert "None" not in shown.stdout


def test_history_totals_pnl_fees_and_volume_over_a_period(isolated_env: Path) -> None:
    _journal_run(isolated_env, Decimal(10), Decimal("-0.25"))
    _journal_run(isolated_env, Decimal(20), Decimal("0.5"))
    proc = hedgectl("history", "--since", "2000-01-01", "--until", "2100-01-01", "--limit", "1", "--json")
    doc = json.loads(proc.stdout)
    assert len(doc["runs"]) == 1  # --limit limits the listing, not the totals
    assert doc["totals"]["runs"] == 2
    assert Decimal(doc["totals"]["net_pnl"]) == Decimal("0.25")
    assert Decimal(doc["totals"]["volume"]) == Decimal(45)
    assert doc["totals"]["fees"] == {"USDT": "0.012"}
    empty = json.loads(hedgectl("history", "--since", "2100-01-01", "--json").stdout)
    assert empty["totals"]["runs"] == 0
    assert empty["runs"] == []
    screen = hedgectl("history")
    assert "total (2 runs)" in screen.stdout
    assert "0.0120 USDT" in screen.stdout  # rounded to 4 places in the table; every digit in --json
    bad = hedgectl("history", "--until", "yesterday")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: --until")


def test_history_leaves_read_only_runs_out_unless_asked(isolated_env: Path) -> None:
    _journal_run(isolated_env, Decimal(10), Decimal("-0.25"))
    journal = Journal(isolated_env / "journal.sqlite")
    try:
        for command, args in (("prices", {}), ("scan", {}), ("flatten", {"dry_run": "True"})):
            journal.end_run(journal.start_run(command, "paper", args), status="ok", exit_code=0)
    finally:
        journal.close()
    listed = json.loads(hedgectl("history", "--json").stdout)
    assert [r["command"] for r in listed["runs"]] == ["bp-aster loop"]
    everything = json.loads(hedgectl("history", "--all", "--json").stdout)
    assert sorted(r["command"] for r in everything["runs"]) == ["bp-aster loop", "flatten", "prices", "scan"]
    screen = hedgectl("history")
    assert re.search(r"\d{8}-\d{6}-[0-9a-f]{6}", screen.stdout)  # a run id on one line, whole, to copy


def _funding(home: Path, run_id: str, venue: str, pid: str, at: datetime, asset: str, amount: str) -> None:
    journal = Journal(home / "journal.sqlite")
    try:
        payment = FundingPayment(
            venue=venue, symbol="ASTER", payment_id=pid, at=at, asset=asset, amount=Decimal(amount)
        )
        assert journal.record_funding(run_id, [payment]) == [payment]
    finally:
        journal.close()


def test_a_runs_net_pnl_counts_the_funding_its_funding_column_shows_also_settled_after_it_ended(
    isolated_env: Path,
) -> None:
    during = datetime.now(UTC)
    run_id = _journal_run(isolated_env, Decimal(10), Decimal("-0.25"))  # its net, recorded at its end
    _funding(isolated_env, run_id, "aster", "p1", during, "USDT", "0.05")  # settled while it ran: in the -0.25
    _funding(isolated_env, run_id, "backpack", "p2", datetime.now(UTC), "USDC", "0.1")  # after: read later
    doc = json.loads(hedgectl("history", "--json").stdout)
    [run] = doc["runs"]
    assert run["funding"] == {"USDT": "0.05", "USDC": "0.1"}
    assert run["funding_after_end"] == {"USDC": "0.1"}
    assert (Decimal(run["net_pnl_at_end"]), Decimal(run["net_pnl"])) == (Decimal("-0.25"), Decimal("-0.15"))
    assert Decimal(doc["totals"]["net_pnl"]) == Decimal("-0.15")
    assert "settled after it ended" in doc["net_pnl_includes"]
    shown = json.loads(hedgectl("history", "show", run_id, "--json").stdout)
    assert Decimal(shown["run"]["net_pnl"]) == Decimal("-0.15")
    screen = hedgectl("history")
    assert "-0.1500" in screen.stdout
    assert "also settled after it ended" in screen.stdout
    header = hedgectl("history", "show", run_id).stdout.splitlines()[0]
    assert "net pnl -0.15" in header
    assert re.search(r" \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\.\d\d:\d\d:\d\d UTC,", header), header  # when it ran


def test_the_runs_table_fits_140_columns_one_row_per_run_over_two_lines(isolated_env: Path) -> None:
    ids = [_journal_run(isolated_env, Decimal("123456.789"), Decimal("-12345.678901")) for _ in range(3)]
    for n, run_id in enumerate(ids):  # two currencies in both money columns, the widest a loop shows
        _funding(isolated_env, run_id, "aster", f"a{n}", datetime.now(UTC), "USDT", "-123.456789")
        _funding(isolated_env, run_id, "backpack", f"b{n}", datetime.now(UTC), "USDC", "-1234.56789")
    journal = Journal(isolated_env / "journal.sqlite")
    try:
        failed = journal.start_run("bootstrap", "paper", {})
        journal.end_run(failed, status="failed", exit_code=2, net_pnl=Decimal("-0.5"), volume=Decimal(1))
    finally:
        journal.close()
    proc = hedgectl("history")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 140, proc.stdout
    body = [line for line in lines if line.startswith("│")]
    assert len(body) == 2 * (len(ids) + 2)  # each run and the total: two lines, none wrapped further
    for run_id in [*ids, failed]:
        assert sum(run_id in line for line in lines) == 1  # whole, on one line
    assert re.search(r"failed .*\n.*exit 2", proc.stdout)  # the exit code where the status does not say it
