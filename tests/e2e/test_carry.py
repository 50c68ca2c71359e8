"""`hedgectl carry` end to end: the real CLI against the simulator over loopback, the real adapters.

Funding settlements are crossed on demand (`POST /_sim/funding` with a time already passed) and prices moved
with `POST /_sim/price`: no test sleeps for a settlement or a price. Each test waits on the carry's own JSON
events (one per change) and reads the end state from `/_sim/state`.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Sim, eventually, hedgectl, spawn

D = Decimal
pytestmark = pytest.mark.e2e

VENUES = ("binance", "okx")
FAST = ("--refresh-s", "0.2", "--max-slippage-bps", "50", "--json")


def settle_now(sim: Sim, venue: str, rate: str, symbol: str = "BTC") -> None:
    """Cross a funding time now: a settlement time already passed settles at once (at `rate`)."""
    now_ms = time.time_ns() // 10**6
    sim.post("/_sim/funding", {"venue": venue, "symbol": symbol, "rate": rate, "next_funding_ms": now_ms - 1})


class Carry:
    """A running `hedgectl carry --json`: its events as they arrive (read by a thread), waited on by predicate."""

    def __init__(self, *args: str) -> None:
        self.proc = spawn("carry", *args)
        self.events: list[dict[str, Any]] = []
        self._errors: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._read_err, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip():
                self.events.append(json.loads(line))

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        self._errors.extend(self.proc.stderr)

    @property
    def err(self) -> str:
        return "".join(self._errors)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in list(self.events) if e["event"] == kind]

    def wait(self, cond: Callable[[], bool], timeout: float = 30) -> None:
        try:
            eventually(lambda: cond() or self.proc.poll() is not None, timeout=timeout)
        except AssertionError:
            self.kill()
            raise
        if not cond():
            self.finish()
            raise AssertionError(f"carry exited ({self.proc.returncode}) first: {self.err} {self.events[-3:]}")

    def finish(self, timeout: float = 60) -> int:
        try:
            self.proc.wait(timeout=timeout)
        finally:
            self.kill()
        for reader in self._readers:
            reader.join(timeout=5)
        self._close_pipes()
        return self.proc.returncode

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def result(self) -> dict[str, Any]:
        [result] = self.of("result")
        return result


@pytest.fixture
def carries() -> Iterator[list[Carry]]:
    """Every carry a test starts is killed at its end, whatever happened."""
    started: list[Carry] = []
    yield started
    for carry in started:
        carry.kill()
        carry.finish()


def start(carries: list[Carry], *args: str) -> Carry:
    carry = Carry(*args)
    carries.append(carry)
    return carry


def opened(carry: Carry) -> Callable[[], bool]:
    return lambda: bool(carry.of("open") or carry.of("resume") or carry.of("adopt")) and bool(carry.of("view"))


def test_a_carry_across_three_settlements_collects_exactly_the_funding_the_simulator_paid(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    before = sim.state()
    carry = start(carries, "--notional", "300", "--until", "1h", *FAST)
    carry.wait(opened(carry))
    for n, (long_rate, short_rate) in enumerate((("0.0004", "0.0005"), ("-0.0001", "0.0002"), ("0.0003", "0.0001"))):
        settle_now(sim, "binance", long_rate)
        settle_now(sim, "okx", short_rate)
        carry.wait(lambda n=n: len(carry.of("funding")) == 2 * (n + 1))
    carry.proc.send_signal(signal.SIGINT)  # Ctrl+C: closes both legs through flatten
    assert carry.finish() == 130, carry.err
    after = sim.state()
    assert sim.all_flat()
    pnl = carry.result["pnl"]
    for venue in VENUES:
        new = after[venue]["funding"][len(before[venue]["funding"]) :]
        assert len(new) == 3
        assert D(pnl[venue]["funding"]) == sum(D(p["amount"]) for p in new)
    # What the watch showed before the close is the same money.
    last_view = carry.of("view")[-1]
    assert D(last_view["funding"]) == D(pnl["binance"]["funding"]) + D(pnl["okx"]["funding"])
    listing = json.loads(hedgectl("history", "--json").stdout)
    [run] = [r for r in listing["runs"] if r["command"] == "carry"]
    assert D(run["funding"]["USDT"]) == D(pnl["binance"]["funding"]) + D(pnl["okx"]["funding"])


def test_a_price_jump_that_brings_a_leg_near_liquidation_closes_both(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    carry = start(carries, "--notional", "300", "--min-liq-distance-pct", "2000", "--max-loss-pct", "50", *FAST)
    carry.wait(opened(carry))
    distance = min(
        D(leg["liq_distance_pct"]) for leg in carry.of("view")[-1]["legs"].values() if leg["liq_distance_pct"]
    )
    assert distance > 2000  # the simulator's margin leaves the short far from liquidation at first
    sim.post("/_sim/price", {"symbol": "BTC", "price": "200000"})
    assert carry.finish() == 0, carry.err
    assert "liquidation" in carry.result["exit_reason"]
    assert sim.all_flat()


def test_a_funding_spread_below_the_floor_closes_after_the_configured_settlements(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    carry = start(carries, "--notional", "300", "--min-funding-apr", "5", "--min-funding-settlements", "2", *FAST)
    carry.wait(opened(carry))
    # The spread flips: the long now pays more than the short receives.
    settle_now(sim, "binance", "0.0005")
    settle_now(sim, "okx", "0.0001")
    carry.wait(lambda: len(carry.of("funding")) == 2 and D(carry.of("view")[-1]["spread_apr_pct"]) < 5)
    assert carry.proc.poll() is None  # one settlement (per venue, at one time) is not yet two
    # The second settlement time below the floor closes it (on each venue's own time).
    settle_now(sim, "binance", "0.0005")
    assert carry.finish() == 0, carry.err
    assert "--min-funding-apr" in carry.result["exit_reason"]
    assert sim.all_flat()


def test_an_outside_trade_on_one_leg_is_re_hedged_on_that_leg(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    # The watch reads the venues every 60 s: what wakes it here is the outside order's event on the okx stream.
    slow = ("--refresh-s", "60", "--max-slippage-bps", "50", "--json")
    carry = start(carries, "--notional", "300", "--max-delta-pct", "5", *slow)
    carry.wait(opened(carry))
    qty = D(carry.of("open")[0]["qty"])
    # A manual trade on the short venue: its leg is closed outside the carry.
    closed = hedgectl("flatten", "--venue", "okx", "--yes", "--json")
    assert closed.returncode == 0, closed.stderr
    carry.wait(lambda: bool(carry.of("rehedge")))
    [rehedge] = carry.of("rehedge")
    assert rehedge["venue"] == "okx"
    assert D(rehedge["qty"]) == qty
    carry.wait(lambda: D(carry.of("view")[-1]["delta"]) == 0)
    assert sim.positions("okx")["BTC"] == -qty
    assert sim.positions("binance")["BTC"] == qty
    carry.proc.send_signal(signal.SIGTERM)
    assert carry.finish() == 130, carry.err
    assert sim.all_flat()


def test_a_carry_killed_mid_hold_is_resumed_and_later_closed_flat(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    first = start(carries, "--notional", "300", "--until", "1h", *FAST)
    first.wait(opened(first))
    qty = D(first.of("open")[0]["qty"])
    settle_now(sim, "binance", "0.0002")
    settle_now(sim, "okx", "0.0004")
    first.wait(lambda: len(first.of("funding")) == 2)
    os.kill(first.proc.pid, signal.SIGKILL)  # kill -9: no close, no end of run in the journal
    first.finish()
    assert sim.positions("binance")["BTC"] == qty
    assert sim.positions("okx")["BTC"] == -qty

    second = start(carries, "--resume", *FAST)
    second.wait(opened(second))
    assert D(second.of("resume")[0]["qty"]) == qty
    settle_now(sim, "binance", "0.0002")
    settle_now(sim, "okx", "0.0004")
    second.wait(lambda: len(second.of("funding")) == 4)  # the first run's two payments, then the new ones
    second.proc.send_signal(signal.SIGINT)
    assert second.finish() == 130, second.err
    assert sim.all_flat()
    state = sim.state()
    pnl = second.result["pnl"]
    for venue in VENUES:  # all four payments, journaled under one run or the other, counted once each
        assert D(pnl[venue]["funding"]) == sum(D(p["amount"]) for p in state[venue]["funding"])
    listing = json.loads(hedgectl("history", "--json").stdout)
    statuses = {r["status"] for r in listing["runs"] if r["command"] == "carry"}
    assert "running" not in statuses


def test_resume_with_nothing_open_says_so(sim: Sim, isolated_env: Path) -> None:
    done = hedgectl("carry", "--notional", "300", "--until", "0.3s", *FAST)
    assert done.returncode == 0, done.stderr
    again = hedgectl("carry", "--resume", *FAST)
    assert again.returncode == 2
    assert "no carry to resume" in again.stderr


def test_the_breaker_trips_on_the_daily_loss_and_refuses_bootstrap_with_4_until_reset(
    sim: Sim, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEDGECTL_BREAKER_DAILY_LOSS_USDT", "0.01")  # the fees of one round trip pass it
    done = hedgectl("carry", "--notional", "300", "--until", "0.3s", *FAST)
    assert done.returncode == 0, done.stderr  # it closed as asked; its own loss trips the breaker at its end
    assert sim.all_flat()
    trips = [json.loads(line) for line in done.stdout.splitlines() if '"event":"trip"' in line]
    assert [t["breaker"] for t in trips] == ["daily_loss"]
    status = hedgectl("breaker", "status", "--json")
    assert status.returncode == 4
    assert json.loads(status.stdout)["trips"][0]["kind"] == "daily_loss"
    refused = hedgectl("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "0", "--json")
    assert refused.returncode == 4
    assert "circuit breaker tripped" in refused.stderr
    assert "daily_loss" in refused.stderr
    opens_before = len(sim.requests("create_order"))
    refused_carry = hedgectl("carry", "--notional", "300", *FAST)
    assert refused_carry.returncode == 4
    assert len(sim.requests("create_order")) == opens_before  # ... and nothing was sent since
    reset = hedgectl("breaker", "reset")
    assert reset.returncode == 0
    assert hedgectl("breaker", "status").returncode == 0
    ok = hedgectl("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "0", "--json")
    assert ok.returncode == 0, ok.stderr


class Receiver:
    """A loopback webhook receiver: /ok/... records each JSON body; /hang/... holds every request until released."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.bodies: list[dict[str, Any]] = []
        self.hanging = 0
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path.startswith("/hang/"):
                    receiver.hanging += 1
                    receiver.release.wait(30)
                else:
                    receiver.bodies.append(body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None: ...

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_alerts_reach_a_webhook_and_a_hanging_receiver_does_not_hold_up_the_close(
    sim: Sim, isolated_env: Path, receiver: Receiver
) -> None:
    token = "s3cr3tT0kenValue42"
    good, hanging = f"{receiver.url}/ok/{token}", f"{receiver.url}/hang/{token}?key={token}"
    done = hedgectl("carry", "--notional", "300", "--until", "0.3s", "--notify", hanging, "--notify", good, *FAST)
    assert done.returncode == 0, done.stderr
    assert sim.all_flat()
    # The close was sent, filled and the command ended while the hanging receiver still held the first alert.
    assert receiver.hanging >= 1
    assert not receiver.release.is_set()
    kinds = [b["kind"] for b in receiver.bodies]
    assert kinds == ["open", "close"]
    assert receiver.bodies[1]["symbol"] == "BTC"
    assert "both venues flat" in receiver.bodies[1]["text"]
    assert token not in done.stdout + done.stderr
    assert "alert to http://127.0.0.1" in done.stderr  # the hanging one timed out or was cut at the end: said once


def test_notify_urls_from_the_setting_are_used_and_never_printed(
    sim: Sim, isolated_env: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "an0therS3cretT0ken"
    monkeypatch.setenv("HEDGECTL_NOTIFY", f"{receiver.url}/ok/{token}")
    done = hedgectl("carry", "--notional", "300", "--until", "0.3s", *FAST, "-v")
    assert done.returncode == 0, done.stderr
    assert [b["kind"] for b in receiver.bodies] == ["open", "close"]
    assert token not in done.stdout + done.stderr


def test_on_exit_keep_leaves_the_pair_open_and_resume_takes_it_over(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    first = start(carries, "--notional", "300", "--on-exit", "keep", *FAST)
    first.wait(opened(first))
    qty = D(first.of("open")[0]["qty"])
    first.proc.send_signal(signal.SIGINT)
    assert first.finish() == 130, first.err  # interrupted, the pair kept on request
    assert first.result["kept"] is True
    assert sim.positions("binance")["BTC"] == qty
    assert sim.positions("okx")["BTC"] == -qty
    second = start(carries, "--resume", *FAST)
    second.wait(opened(second))
    assert second.proc.poll() is None
    second.proc.send_signal(signal.SIGINT)  # the resumed run keeps the kept run's rules: --on-exit keep
    assert second.finish() == 130, second.err
    assert sim.positions("okx")["BTC"] == -qty
    closed = hedgectl("flatten", "--all", "--yes", "--json")
    assert closed.returncode == 0, closed.stderr
    assert sim.all_flat()


def test_adopt_carries_a_pair_opened_elsewhere_and_closes_it(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    kept = start(carries, "--notional", "300", "--on-exit", "keep", *FAST)
    kept.wait(opened(kept))
    kept.proc.send_signal(signal.SIGINT)
    assert kept.finish() == 130, kept.err
    adopted = hedgectl("carry", "--adopt", "--notional", "300", "--until", "0.3s", *FAST)
    assert adopted.returncode == 0, adopted.stderr
    docs = [json.loads(line) for line in adopted.stdout.splitlines()]
    assert [d["event"] for d in docs if d["event"] in ("adopt", "close")] == ["adopt", "close"]
    assert "adopted the pair" in next(d["text"] for d in docs if d["event"] == "adopt")
    assert sim.all_flat()


def test_resume_with_only_one_leg_open_says_what_is_open_and_exits_3(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    first = start(carries, "--notional", "300", "--until", "1h", *FAST)
    first.wait(opened(first))
    os.kill(first.proc.pid, signal.SIGKILL)
    first.finish()
    assert hedgectl("flatten", "--venue", "okx", "--yes").returncode == 0
    again = hedgectl("carry", "--resume", *FAST)
    assert again.returncode == 3
    assert "not a pair to carry" in again.stderr
    assert "binance +0.003" in again.stderr
    assert sim.positions("binance")["BTC"] == D("0.003")  # nothing was traded: the user decides


def test_a_burst_of_venue_errors_trips_the_breaker_and_closes_the_pair(
    sim: Sim, isolated_env: Path, carries: list[Carry], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEDGECTL_BREAKER_ERROR_BURST", "3")
    carry = start(carries, "--notional", "300", *FAST)
    carry.wait(opened(carry))
    sim.fault(venue="okx", op="fetch_positions", kind="http_500", count=1000)
    carry.wait(lambda: bool(carry.of("trip")))
    sim.http.delete("/_sim/faults").raise_for_status()  # the venue recovers: the close goes through
    assert carry.finish() == 4, carry.err
    assert carry.of("trip")[0]["breaker"] == "error_burst"
    assert sim.all_flat()
    assert hedgectl("breaker", "status").returncode == 4


def test_a_carry_on_hedge_mode_accounts_re_hedges_and_closes_on_the_right_sides(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    for venue in VENUES:
        sim.post("/_sim/account", {"venue": venue, "position_mode": "hedge"})
    carry = start(carries, "--notional", "300", *FAST)
    carry.wait(opened(carry))
    qty = D(carry.of("open")[0]["qty"])
    assert hedgectl("flatten", "--venue", "okx", "--yes").returncode == 0
    carry.wait(lambda: bool(carry.of("rehedge")) and D(carry.of("view")[-1]["delta"]) == 0)
    state = sim.state()
    sides = {(p["position_side"], D(p["qty"])) for p in state["okx"]["positions"] if D(p["qty"])}
    assert sides == {("short", -qty)}
    carry.proc.send_signal(signal.SIGINT)
    assert carry.finish() == 130, carry.err
    assert sim.all_flat()


def test_a_delta_that_cannot_be_repaired_trips_the_breaker_and_closes_what_is_left(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    carry = start(carries, "--notional", "300", *FAST)
    carry.wait(opened(carry))
    # The outside close of the okx leg goes through; the carry's two re-hedges on okx after it are refused.
    sim.fault(venue="okx", op="create_order", kind="reject", count=2, after=1)
    assert hedgectl("flatten", "--venue", "okx", "--yes").returncode == 0
    assert carry.finish() == 4, carry.err
    assert [t["breaker"] for t in carry.of("trip")] == ["delta_breach"]
    assert len(carry.of("rehedge")) == 0  # neither re-hedge filled
    assert sim.all_flat()  # the binance leg, naked now, was closed
    status = json.loads(hedgectl("breaker", "status", "--json").stdout)
    assert [t["kind"] for t in status["trips"]] == ["delta_breach"]


def test_a_maker_first_entry_rests_hedges_each_fill_and_carries_what_opened(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    carry = start(carries, "--notional", "300", "--entry", "maker-first", "--maker-timeout", "60", *FAST)

    def resting() -> str | None:
        state = sim.state()
        return next((v for v in VENUES if state[v]["open_orders"]), None)

    carry.wait(lambda: resting() is not None)
    maker = resting()
    assert maker is not None
    # An order rested on the maker venue (a market order never rests); it fills at its price.
    sim.post("/_sim/fill", {"venue": maker, "all": True})
    carry.wait(opened(carry))
    qty = D(carry.of("open")[0]["qty"])
    assert sim.positions("binance")["BTC"] == qty
    assert sim.positions("okx")["BTC"] == -qty
    assert carry.of("entry")
    carry.proc.send_signal(signal.SIGINT)
    assert carry.finish() == 130, carry.err
    assert sim.all_flat()
