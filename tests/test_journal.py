from __future__ import annotations

import multiprocessing
import os
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hedgectl.domain.types import Order, OrderRequest, OrderStatus, OrderType, Side
from hedgectl.journal import Journal
from hedgectl.journal.repository import WAL_RESERVE_BYTES


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
    order = Order(
        venue="binance",
        symbol="BTC",
        order_id="42",
        client_order_id="hcabc",
        side=Side.BUY,
        type=OrderType.MARKET,
        status=OrderStatus.FILLED,
        qty=Decimal("0.003"),
        filled_qty=Decimal("0.003"),
        avg_price=Decimal("95000.1"),
        fee=Decimal("0.14"),
    )
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
    assert journal._conn.execute("PRAGMA user_version").fetchone()[0] == 4
    assert journal._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_journal_of_the_previous_schema_gains_the_breaker_table_and_keeps_its_runs(tmp_path: Path) -> None:
    import sqlite3

    from hedgectl.journal.migrations import MIGRATIONS

    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS[:3], start=1):
        conn.executescript("BEGIN;" + script + f"; PRAGMA user_version = {number}; COMMIT;")
    conn.execute("INSERT INTO runs (id, command, mode, started_at) VALUES ('r0', 'bootstrap', 'paper', '2026-12-01')")
    conn.commit()
    conn.close()
    journal = Journal(path)
    assert journal.run("r0") is not None
    assert journal.breaker_trips() == []
    journal.trip_breaker("delta_breach", "delta +0.001 BTC not repaired", "r0")
    assert [t["kind"] for t in journal.breaker_trips()] == ["delta_breach"]
    journal.close()


def test_only_the_intent_commit_syncs_the_log_and_the_log_is_presized(tmp_path: Path) -> None:
    """An intent commits with synchronous=FULL (the WAL is fsynced, and with it every row written before);
    every other write commits with NORMAL (on disk at the next intent or checkpoint). The log is pre-sized so
    that the intent's fsync does not also have to commit a growing file's size."""
    journal = Journal(tmp_path / "j.sqlite")
    assert Path(f"{tmp_path / 'j.sqlite'}-wal").stat().st_size >= WAL_RESERVE_BYTES
    run_id = journal.start_run("bootstrap", "paper")
    statements: list[str] = []
    journal._conn.set_trace_callback(statements.append)
    request = _request()
    journal.record_intent(run_id, "binance", request, "open")
    journal.record_failure(request.client_order_id, "refused", ambiguous=False)
    journal._conn.set_trace_callback(None)
    kinds = [
        "FULL"
        if s == "PRAGMA synchronous=FULL"
        else "NORMAL"
        if s == "PRAGMA synchronous=NORMAL"
        else "intent"
        if s.startswith("INSERT INTO orders")
        else "update"
        if s.startswith("UPDATE orders")
        else s
        for s in statements
    ]
    assert kinds == ["FULL", "intent", "NORMAL", "update"]
    assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL between intents


def test_a_refused_intent_still_leaves_the_connection_in_normal_mode(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    run_id = journal.start_run("bootstrap", "paper")
    request = _request()
    journal.record_intent(run_id, "binance", request, "open")
    with pytest.raises(sqlite3.IntegrityError):
        journal.record_intent(run_id, "binance", request, "open")
    assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == 1


def _row(venue: str, side: str, filled: str, *, state: str = "acked", status: str | None = "filled") -> Any:
    from hedgectl.journal import OrderRow

    return OrderRow(
        client_order_id=f"{venue}-{side}-{filled}",
        run_id="r",
        venue=venue,
        symbol="BTC",
        side=side,
        type="market",
        qty=filled,
        price=None,
        reduce_only=False,
        intent="open",
        state=state,
        venue_order_id="1",
        status=status,
        filled_qty=filled,
        avg_price=None,
        fee=None,
        error=None,
        created_at="",
        acked_at=None,
        updated_at="",
    )


def test_journal_exposure_is_empty_when_every_leg_closed_and_unknown_while_an_order_is_in_flight() -> None:
    from hedgectl.journal import journal_exposure

    opened = [_row("binance", "buy", "0.003"), _row("okx", "sell", "0.003")]
    closed = [_row("binance", "sell", "0.003"), _row("okx", "buy", "0.003")]
    assert journal_exposure(opened + closed) == {}
    assert journal_exposure(opened) == {"binance BTC": Decimal("0.003"), "okx BTC": Decimal("-0.003")}
    assert journal_exposure([*opened, _row("okx", "buy", "0", state="intent", status=None)]) is None
    assert journal_exposure([*opened, _row("okx", "buy", "0.001", status="partially_filled")]) is None
    assert journal_exposure([*opened, *closed, _row("okx", "buy", "0", state="failed", status=None)]) == {}


def test_funding_payments_are_journaled_once_per_venue_payment_id(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from hedgectl.domain.types import FundingPayment

    journal = Journal(tmp_path / "j.db")
    first = journal.start_run("bootstrap", "paper")
    second = journal.start_run("bootstrap", "paper")
    paid = FundingPayment(
        "binance",
        "BTC",
        "7001",
        datetime(2026, 12, 1, 8, tzinfo=UTC),
        "USDT",
        Decimal("-0.0123"),
        position_qty=Decimal("0.002"),
        rate=Decimal("0.0001"),
    )
    received = FundingPayment("okx", "BTC", "8001", datetime(2026, 12, 1, 8, tzinfo=UTC), "USDT", Decimal("0.0111"))
    assert journal.record_funding(first, [paid, received]) == [paid, received]
    # a re-read of the same history, even from a later run, neither doubles nor moves a payment
    assert journal.record_funding(second, [paid]) == []
    assert journal.run_funding(first) == [paid, received]
    assert journal.run_funding(second) == []
    assert journal.funding_by_run([first, second]) == {first: {"USDT": Decimal("-0.0012")}}


def test_a_ctrl_c_right_after_the_wal_reserve_commits_stays_a_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It surfaced as `cannot open the journal ...: cannot rollback - no transaction is active` (exit 2)."""
    journal = Journal(tmp_path / "j.sqlite")
    real = journal._conn

    class InterruptedAfterCommit:
        def execute(self, sql: str, *args: Any) -> Any:
            result = real.execute(sql, *args)
            if sql == "COMMIT":
                raise KeyboardInterrupt
            return result

        @property
        def in_transaction(self) -> bool:
            return real.in_transaction

    monkeypatch.setattr(journal, "_conn", InterruptedAfterCommit())
    # the log looks empty: the reserve is written again
    monkeypatch.setattr("hedgectl.journal.repository.Path.stat", lambda self: os.stat_result((0,) * 10))
    with pytest.raises(KeyboardInterrupt):
        journal._reserve_wal()
    real.close()
