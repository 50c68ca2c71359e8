"""`hedgectl bootstrap` against the simulator, through the real adapters, as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.conftest import Sim, cli_env, eventually, hedgectl, journal_client_ids, orders_placed, spawn

pytestmark = pytest.mark.e2e


def _doc(proc: object) -> dict[str, object]:
    out = proc.stdout  # type: ignore[attr-defined]
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1, out
    return json.loads(lines[0])


# The client's HTTP timeout in the tests that wait one out (a held reply): long enough for any loopback reply
# under load, shorter than the `sim` fixture's 2 s; what follows the timeout is the same.
HELD_REPLY_TIMEOUT_S = "1"
HELD = ("timeout", "accept_then_timeout")


def _creates(sim: Sim) -> set[str]:
    return {r["client_order_id"] for r in sim.requests("create_order") if r.get("client_order_id")}


def test_happy_path_opens_holds_closes_flat_and_accounts(sim: Sim, isolated_env: Path) -> None:
    proc = hedgectl("bootstrap", "--notional", "300", "--hold", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = _doc(proc)
    assert doc["ok"] is True
    assert doc["error"] is None
    assert doc["mode"] == "paper"
    assert doc["symbol"] == "BTC"
    qty = Decimal(doc["qty"])
    assert qty > 0
    assert Decimal(doc["notional"]) <= 300
    legs = doc["legs"]
    assert legs["binance"]["side"] == "buy"
    assert legs["okx"]["side"] == "sell"
    for venue in ("binance", "okx"):
        assert Decimal(legs[venue]["open"]["qty"]) == qty
        assert Decimal(legs[venue]["close"]["qty"]) == qty
        assert Decimal(doc["pnl"][venue]["fees"]) > 0
    pnl = doc["pnl"]
    assert Decimal(pnl["net"]) == Decimal(pnl["gross"]) - Decimal(pnl["fees"]) + Decimal(pnl["funding"])
    assert doc["exposure_after"] == {"binance": "0", "okx": "0"}
    assert sim.all_flat()
    # The journal holds every order the simulator saw.
    assert _creates(sim) <= journal_client_ids(isolated_env)
    assert len(_creates(sim)) == 4


def test_human_output_shows_the_tables(sim: Sim) -> None:
    proc = hedgectl("bootstrap", "--notional", "300", "--hold", "0")
    assert proc.returncode == 0, proc.stderr
    for fragment in ("Plan:", "Opened", "Closed", "PnL", "Balances before", "Balances after", "COMPLETED"):
        assert fragment in proc.stdout


@pytest.mark.parametrize("venue", ["binance", "okx"])
@pytest.mark.parametrize("kind", ["reject", "http_500", "rate_limit"])
def test_a_leg_refused_on_open_rolls_back_the_other_and_exits_1_flat(
    sim: Sim, isolated_env: Path, venue: str, kind: str
) -> None:
    sim.fault(venue=venue, op="create_order", kind=kind, count=1)
    proc = hedgectl("bootstrap", "--notional", "300", "--hold", "0", "--json")
    assert proc.returncode == 1, proc.stderr
    doc = _doc(proc)
    assert doc["ok"] is False
    assert doc["error"].count(f"{venue}: ") == 1, doc["error"]  # the venue named once, not "okx: okx: ..."
    assert sim.all_flat()
    assert _creates(sim) <= journal_client_ids(isolated_env)


@pytest.mark.parametrize("kind", ["timeout", "accept_then_timeout", "disconnect"])
def test_an_ambiguous_open_is_reconciled_and_ends_flat(
    sim: Sim, isolated_env: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if kind in HELD:
        monkeypatch.setenv("HEDGECTL_HTTP_TIMEOUT_S", HELD_REPLY_TIMEOUT_S)
    sim.fault(venue="okx", op="create_order", kind=kind, count=1)
    proc = hedgectl("bootstrap", "--notional", "300", "--hold", "0", "--json")
    doc = _doc(proc)
    assert sim.all_flat()
    assert proc.returncode in (0, 1), proc.stderr
    if kind == "accept_then_timeout":
        # The order was placed; found by client id, it is a normal leg and the cycle completes.
        assert proc.returncode == 0, doc
    assert _creates(sim) <= journal_client_ids(isolated_env)


def test_a_partly_filled_leg_is_rolled_back(sim: Sim) -> None:
    sim.fault(venue="binance", op="create_order", kind="partial_fill", fill_ratio="0.5", count=1)
    proc = hedgectl("bootstrap", "--notional", "300", "--hold", "0", "--json")
    assert proc.returncode == 1, proc.stderr
    assert "filled" in _doc(proc)["error"]
    assert sim.all_flat()


@pytest.mark.parametrize("kind", ["reject", "http_500", "rate_limit", "timeout"])
def test_a_failed_close_is_escalated_until_flat(sim: Sim, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if kind in HELD:
        monkeypatch.setenv("HEDGECTL_HTTP_TIMEOUT_S", HELD_REPLY_TIMEOUT_S)
    sim.fault(venue="okx", op="create_order", kind=kind, count=1, after=1)
    proc = hedgectl("bootstrap", "--notional", "300", "--hold", "0", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = _doc(proc)
    assert doc["exposure_after"] == {"binance": "0", "okx": "0"}
    assert sim.all_flat()


def test_a_price_spike_past_the_loss_limit_closes_early(sim: Sim) -> None:
    proc = spawn("bootstrap", "--notional", "300", "--hold", "30", "--json")
    orders_placed(proc, sim, 2)
    book = sim.http.get("/binance/fapi/v1/ticker/bookTicker", params={"symbol": "BTCUSDT"}).json()
    mid = (Decimal(book["bidPrice"]) + Decimal(book["askPrice"])) / 2
    sim.post("/_sim/price", {"symbol": "BTC", "price": str(mid * Decimal("0.98")), "venue": "binance"})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    doc = json.loads(out)
    assert doc["closed_early"] is True
    assert any("max-loss-pct" in w for w in doc["warnings"])
    assert sim.all_flat()


@pytest.mark.parametrize("phase", ["open", "hold", "close"])
def test_sigint_flattens_and_exits_130(sim: Sim, phase: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if phase == "open":
        monkeypatch.setenv("HEDGECTL_HTTP_TIMEOUT_S", HELD_REPLY_TIMEOUT_S)
        sim.fault(venue="okx", op="create_order", kind="timeout", count=1)  # the short leg is still in flight
    proc = spawn("bootstrap", "--notional", "300", "--hold", "30" if phase == "hold" else "1", "--json")
    eventually(lambda: len(sim.requests("create_order")) >= 2)
    if phase == "close":
        # The short leg's close is in flight (only the order waits: the hold, flatten and report reads do not).
        sim.post("/_sim/latency", {"venue": "okx", "op": "create_order", "ms": 1500})
        eventually(lambda: len(sim.requests("create_order")) >= 3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert sim.all_flat(), err
    assert proc.returncode == 130, err
    assert json.loads(out)["interrupted"] is True


def test_sigterm_is_treated_as_sigint(sim: Sim) -> None:
    proc = spawn("bootstrap", "--notional", "300", "--hold", "30", "--json")
    eventually(lambda: len(sim.requests("create_order")) >= 2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert sim.all_flat()


def test_a_venue_disconnecting_mid_hold_still_ends_flat(sim: Sim) -> None:
    proc = spawn("bootstrap", "--notional", "300", "--hold", "1", "--json")
    eventually(lambda: len(sim.requests("create_order")) >= 2)
    sim.fault(venue="okx", op="any", kind="disconnect", count=2)  # met by the hold's next price read, 0.5 s on
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err + out  # with --json, the reason is in the document on stdout
    assert sim.all_flat()


def _stderr_so_far(proc: subprocess.Popen[str]) -> str:
    """What the process has written to stderr so far, without waiting for it to end."""
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    chunk = proc.stderr.read() or ""
    _STDERR[proc.pid] = _STDERR.get(proc.pid, "") + chunk
    return _STDERR[proc.pid]


_STDERR: dict[int, str] = {}


def _runs(home: Path) -> list[tuple[str, str, int | None]]:
    import sqlite3

    conn = sqlite3.connect(home / "journal.sqlite")
    try:
        return [tuple(r) for r in conn.execute("SELECT command, status, exit_code FROM runs ORDER BY started_at")]
    finally:
        conn.close()


def test_a_third_sigint_with_a_leg_open_ends_the_run_as_aborted_until_a_flatten_recovers_it(
    sim: Sim, isolated_env: Path
) -> None:
    proc = spawn("bootstrap", "--notional", "300", "--hold", "30", "--json", "--max-slippage-bps", "50")
    orders_placed(proc, sim, 2, timeout=60)
    sim.post("/_sim/latency", {"venue": "okx", "ms": 20_000})  # the closes hang on the short venue
    proc.send_signal(signal.SIGINT)  # flatten starts; OKX's close hangs
    eventually(lambda: len(sim.requests("create_order")) >= 3, timeout=30)
    proc.send_signal(signal.SIGINT)
    eventually(lambda: "Press Ctrl+C a third time" in _stderr_so_far(proc), timeout=10)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert "aborted by the user: " in err
    assert "nothing is open" not in err
    assert ("bootstrap", "aborted", 3) in _runs(isolated_env)
    sim.post("/_sim/latency", {"venue": "okx", "ms": 0})
    # the next command says the run did not finish; a flatten recovers it
    flatten = hedgectl("flatten", "--all", "--yes", "--json")
    assert flatten.returncode == 0, flatten.stderr
    assert "did not finish" in flatten.stderr
    assert ("bootstrap", "aborted, recovered", 3) in _runs(isolated_env)
    assert sim.all_flat()
    again = hedgectl("history", "--json")
    assert "did not finish" not in again.stderr


def test_an_unreachable_venue_fails_saying_no_order_was_sent_never_that_it_is_flat(sim: Sim) -> None:
    sim.fault(venue="okx", op="any", kind="disconnect", count=1000)
    proc = hedgectl("bootstrap", "--notional", "300", "--hold", "1", "--yes")
    assert proc.returncode == 1, proc.stderr
    assert "failed before any order was sent" in proc.stderr
    assert "flat" not in proc.stderr  # okx could not be read: nothing may claim it is flat
    assert sim.requests("create_order") == []


def test_a_closed_output_pipe_never_stops_the_flatten(sim: Sim, isolated_env: Path) -> None:
    """`hedgectl bootstrap | tee log` and Ctrl+C: the shell kills `tee` too, and every later write hits a closed
    pipe. The cycle must still close both legs and exit 130, never die half-way on the write."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hedgectl", "bootstrap", "--notional", "300", "--hold", "30",
         "--max-slippage-bps", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(),
    )  # fmt: skip
    orders_placed(proc, sim, 2, timeout=60)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "unexpected" not in err
    assert sim.all_flat()
    assert ("bootstrap", "interrupted", 130) in _runs(isolated_env)
