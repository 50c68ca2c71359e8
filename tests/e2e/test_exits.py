"""Exit codes and their messages, through the real CLI and simulator: an unknown symbol is a usage error (2), the
third Ctrl+C names what is open (3), and a command whose output's reader went away stops (141 for a read-only
watch, 130 after the graceful stop of a trading command)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.conftest import Sim, eventually, hedgectl, orders_placed, spawn
from tests.sim.market_files import book, write

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("how", ["--yes", "--dry-run"])
def test_a_flatten_of_a_symbol_no_venue_lists_is_a_usage_error_naming_it(sim: Sim, how: str) -> None:
    proc = hedgectl("flatten", "--all", "--symbol", "NOPE", how)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "error: unknown symbol 'NOPE': not listed on binance, okx, backpack, aster"
    assert sim.requests("create_order") == []


def test_a_flatten_of_a_symbol_some_venues_list_flattens_those_and_names_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A replayed market lists only what it recorded: ASTER on Backpack and Aster, BTC alone on Binance and OKX.
    market = write(
        tmp_path / "aster-not-everywhere.jsonl",
        [
            book(ms, venue, base, [(bid, "900")], [(ask, "900")])
            for ms in range(0, 60_000, 1000)
            for venue, base, bid, ask in (
                ("backpack", "ASTER", "1.1995", "1.2005"),
                ("aster", "ASTER", "1.1995", "1.2005"),
                ("binance", "BTC", "94999.9", "95000.1"),
                ("okx", "BTC", "94999.9", "95000.1"),
            )
        ],
    )
    monkeypatch.setenv("HEDGECTL_SIM_MARKET", f"replay:{market}")
    proc = hedgectl("flatten", "--all", "--symbol", "ASTER", "--yes", "--json")
    assert proc.returncode == 0, proc.stderr  # flat where it is listed; not "exposure remains: unknown"
    document = json.loads(proc.stdout)
    assert document["not_listed"] == ["binance", "okx"]
    assert sorted(document["venues"]) == ["aster", "backpack"]
    assert "ASTER is not listed on binance, okx: nothing can be open there" in proc.stderr


def test_a_loop_of_a_symbol_its_venues_do_not_list_is_a_usage_error(sim: Sim) -> None:
    proc = hedgectl("bp-aster", "loop", "--symbol", "DOGE", "--cycles", "1", "--yes")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "error: unknown symbol 'DOGE': not listed on backpack, aster"
    assert sim.requests("create_order") == []


def _journal(home: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(home / "journal.sqlite")
    try:
        return list(conn.execute(sql))
    finally:
        conn.close()


class Stderr:
    """What a running process has written to stderr so far, read without waiting for it to end."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        self.fd = proc.stderr.fileno()
        os.set_blocking(self.fd, False)
        self.text = ""

    def wait_for(self, fragment: str) -> None:
        def seen() -> bool:
            with contextlib.suppress(BlockingIOError):  # nothing new yet
                self.text += os.read(self.fd, 1 << 16).decode(errors="replace")
            return fragment in self.text

        eventually(seen, timeout=20)


def _abort_line(err: str) -> str:
    return next(line for line in err.splitlines() if line.startswith("aborted by the user: "))


def test_an_abort_names_each_open_leg_and_each_order_of_unknown_outcome(sim: Sim, isolated_env: Path) -> None:
    proc = spawn("bootstrap", "--notional", "300", "--hold", "30", "--json", "--max-slippage-bps", "50")
    stderr = Stderr(proc)
    orders_placed(proc, sim, 2, timeout=60)
    sim.fault(venue="okx", op="create_order", kind="timeout", count=1000)  # OKX's closes are never answered
    proc.send_signal(signal.SIGINT)  # the stop: both legs are closed, OKX's close hangs
    eventually(lambda: len(sim.requests("create_order")) >= 4, timeout=30)
    proc.send_signal(signal.SIGINT)
    stderr.wait_for("Press Ctrl+C a third time")  # two signals sent back to back may arrive as one
    proc.send_signal(signal.SIGINT)
    os.set_blocking(stderr.fd, True)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, stderr.text + err
    okx_closes = [
        cid
        for cid, venue, intent in _journal(isolated_env, "SELECT client_order_id, venue, intent FROM orders")
        if venue == "okx" and intent != "open"
    ]
    abort = _abort_line(stderr.text + err)
    assert "okx BTC -0.003" in abort  # its opening fill, which nothing is known to have closed
    assert f"okx buy 0.003 BTC (a close, client order id {okx_closes[0]})" in abort
    assert abort.endswith("run `hedgectl flatten --all`")
    assert sim.positions("okx") == {"BTC": Decimal("-0.003")}
    # The next look at it says what to do next, not to run itself again.
    dry_run = hedgectl("flatten", "--all", "--dry-run")
    assert "did not finish with" in dry_run.stderr
    assert "what is open is listed below; `hedgectl flatten --all` closes it" in dry_run.stderr

    # A flatten aborted while its close is unanswered names that close, and never claims that nothing is open.
    sent = len(sim.requests("create_order"))
    flatten = spawn("flatten", "--all", "--yes")
    stderr = Stderr(flatten)
    eventually(lambda: len(sim.requests("create_order")) > sent, timeout=30)
    flatten.send_signal(signal.SIGINT)
    stderr.wait_for("Ctrl+C twice more")
    flatten.send_signal(signal.SIGINT)
    stderr.wait_for("Press Ctrl+C a third time")
    flatten.send_signal(signal.SIGINT)
    os.set_blocking(stderr.fd, True)
    _, err = flatten.communicate(timeout=60)
    assert flatten.returncode == 3, stderr.text + err
    (flatten_close,) = (
        cid
        for (cid,) in _journal(
            isolated_env,
            "SELECT o.client_order_id FROM orders o JOIN runs r ON o.run_id = r.id WHERE r.command = 'flatten'",
        )
    )
    abort = _abort_line(stderr.text + err)
    assert f"okx buy 0.003 BTC (a close, client order id {flatten_close})" in abort
    assert "positions the flatten had not closed yet may remain open" in abort


@pytest.mark.parametrize(
    "args", [("prices", "--watch", "--json"), ("scan", "--symbols", "BTC", "--watch", "--json", "--interval", "1")]
)
def test_a_read_only_watch_ends_quietly_when_its_output_is_gone(sim: Sim, args: tuple[str, ...]) -> None:
    proc = spawn(*args)
    assert proc.stdout is not None
    first = proc.stdout.readline()  # `... | head -1`
    assert json.loads(first)["ok"] is True
    proc.stdout.close()
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 141, err
    assert "error" not in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ("bp-aster", "loop", "--json", "--yes", "--qty", "20"),
        ("carry", "--json", "--yes", "--until", "10m", "--max-slippage-bps", "50"),
        ("bootstrap", "--yes", "--hold", "60", "--max-slippage-bps", "50"),
    ],
    ids=["loop", "carry", "bootstrap"],
)
def test_a_trading_command_whose_output_is_gone_stops_as_for_sigterm(
    sim: Sim, isolated_env: Path, args: tuple[str, ...]
) -> None:
    proc = spawn(*args)
    orders_placed(proc, sim, 1, timeout=60)  # trading: `... | head -1` has its line and is gone
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    proc.stdout.read()
    proc.stdout.close()
    try:
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "the output's reader went away: stopping as for Ctrl+C" in err
    assert "Traceback" not in err
    eventually(sim.all_flat, timeout=10)
    assert _journal(isolated_env, "SELECT status, exit_code FROM runs") == [("interrupted", 130)]


def test_a_failed_open_says_its_close_was_the_rollback(sim: Sim) -> None:
    sim.fault(venue="okx", op="create_order", kind="reject", count=1)
    proc = hedgectl("bootstrap", "--notional", "300", "--hold", "0", "--json")
    assert proc.returncode == 1, proc.stderr
    warnings = json.loads(proc.stdout)["warnings"]
    assert "binance: rolled back the opened leg: closed 0.003 BTC" in warnings, warnings
    assert sim.all_flat()


def test_a_live_mode_chosen_with_the_flag_is_named_as_the_flag(sim: Sim) -> None:
    proc = hedgectl("--mode", "live", "flatten", "--all", "--yes")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "error: --mode live trades real money: add --live to this command to confirm"


def test_a_flatten_answered_no_says_nothing_was_sent(sim: Sim) -> None:
    from tests.e2e.test_bp_aster_loop import Terminal

    term = Terminal("flatten", "--all")
    term.wait_for(r"Cancel these orders and close these positions\?")
    os.write(term._master, b"n\n")
    assert term.finish() == 2
    assert "flatten not confirmed: nothing was sent (no order cancelled, no position closed)" in term.text
    assert sim.requests("create_order") == []
