from __future__ import annotations

import multiprocessing
import os
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from hedgectl.domain.types import Order, OrderRequest, OrderStatus, OrderType, Side
from hedgectl.journal import Journal


def _request(cid: str = "hcabc") -> OrderRequest:
    return OrderRequest(symbol="BTC", side=Side.BUY, type=OrderType.MARKET, qty=Decimal("0.003"), client_order_id=cid)


def test_intent_is_on_disk_before_the_send_and_visible_to_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    run = journal.start_run("bootstrap", "paper")
    journal.record_intent(run, "binance", _request(), "open")
    # Another connection (another process after a crash) sees it without any commit call.
    other = sqlite3.connect(path)
    row = other.execute("SELECT state, intent, qty FROM orders WHERE client_order_id='hcabc'").fetchone()
    assert row == ("intent", "open", "0.003")


def test_a_duplicate_client_order_id_is_refused(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    run = journal.start_run("bootstrap", "paper")
    journal.record_intent(run, "binance", _request(), "open")
    with pytest.raises(sqlite3.IntegrityError):
        journal.record_intent(run, "okx", _request(), "open")


def test_ack_updates_the_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    run = journal.start_run("bootstrap", "paper")
    journal.record_intent(run, "binance", _request(), "open")
    order = Order(venue="binance", symbol="BTC", order_id="42", client_order_id="hcabc", side=Side.BUY,
                  type=OrderType.MARKET, status=OrderStatus.FILLED, qty=Decimal("0.003"),
                  filled_qty=Decimal("0.003"), avg_price=Decimal("95000.1"), fee=Decimal("0.14"))
    journal.record_order("hcabc", order)
    row = journal.order("hcabc")
    assert row is not None
    assert (row.state, row.venue_order_id, row.status, row.avg_price) == ("acked", "42", "filled", "95000.1")
    assert journal.unacknowledged_orders() == []


def _crash_after_intent(path: str) -> None:
    journal = Journal(Path(path))
    run = journal.start_run("bootstrap", "paper")
    journal.record_intent(run, "okx", _request("hccrash"), "open")
    os._exit(9)  # dies before sending or acknowledging anything


def test_a_crash_leaves_a_visible_unacknowledged_intent_and_an_unfinished_run(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    proc = multiprocessing.get_context("spawn").Process(target=_crash_after_intent, args=(str(path),))
    proc.start()
    proc.join(30)
    assert proc.exitcode == 9
    journal = Journal(path)
    pending = journal.unacknowledged_orders()
    assert [o.client_order_id for o in pending] == ["hccrash"]
    unfinished = journal.unfinished_runs()
    assert len(unfinished) == 1
    assert unfinished[0].ended_at is None
    assert unfinished[0].id == pending[0].run_id


def test_runs_end_with_status_and_pnl(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    run = journal.start_run("bootstrap", "paper", {"notional": "300"})
    journal.end_run(run, status="ok", exit_code=0, net_pnl=Decimal("-0.31"), volume=Decimal("1200"))
    [row] = journal.runs()
    assert (row.status, row.exit_code, row.net_pnl, row.volume) == ("ok", 0, "-0.31", "1200")
    assert row.args == {"notional": "300"}
    assert journal.unfinished_runs() == []


def test_schema_is_migrated_once_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    journal = Journal(path)
    assert journal._conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert journal._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
