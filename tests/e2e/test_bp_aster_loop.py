"""`hedgectl bp-aster loop` against the simulator, through the real Backpack and Aster adapters, as a real process.

The simulator's clock is frozen, so prices stand still and no resting order fills by itself: every maker
fill is made by the test with POST /_sim/fill. Each case ends with the pair flat or exactly hedged, read
from /_sim/state.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Sim, eventually, hedgectl, spawn

pytestmark = pytest.mark.e2e

D = Decimal
FAST = ["--requote-after", "1", "--between-legs", "0", "--cycle-sleep", "0", "--stop-before-funding", "0"]


class Loop:
    """The CLI running in the background with --json; its event lines collected as they come."""

    def __init__(self, *args: str) -> None:
        self.proc = spawn("bp-aster", "loop", "--json", *args)
        self.lines: list[dict[str, Any]] = []
        self._err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read_out, daemon=True),
            threading.Thread(target=self._read_err, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip():
                self.lines.append(json.loads(line))

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._err.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self._err)

    def events(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        return [e for e in list(self.lines) if e.get("event") == kind and all(e.get(k) == v for k, v in match.items())]

    def wait_for(self, kind: str, count: int = 1, timeout: float = 30, **match: Any) -> dict[str, Any]:
        eventually(lambda: len(self.events(kind, **match)) >= count or self.proc.poll() is not None, timeout)
        found = self.events(kind, **match)
        assert len(found) >= count, f"no {kind} {match} event; exit {self.proc.poll()}: {self.stderr}"
        return found[count - 1]

    def interrupt(self) -> None:
        self.proc.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 90) -> int:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            for reader in self._readers:
                reader.join(timeout=5)
            for pipe in (self.proc.stdout, self.proc.stderr):
                if pipe is not None:
                    pipe.close()
        return self.proc.returncode

    @property
    def summary(self) -> dict[str, Any]:
        assert self.lines, self.stderr
        assert self.lines[-1]["event"] == "summary", self.lines[-3:]
        return self.lines[-1]

    def hedges(self, leg: int | None = None) -> list[Decimal]:
        return [D(e["filled"]) for e in self.events("hedge") if leg is None or e["leg"] == leg]


@pytest.fixture
def frozen_sim(sim: Sim) -> Sim:
    """Prices stand still, and no funding is due for two hours (so a test never meets the real funding gate)."""
    sim.post("/_sim/clock", {"frozen": True})
    later_ms = int(time.time() * 1000) + 2 * 3_600_000
    for venue in ("backpack", "aster"):
        sim.post("/_sim/funding", {"venue": venue, "symbol": "ASTER", "rate": "0.0001", "next_funding_ms": later_ms})
    return sim


def _open_orders(sim: Sim, venue: str = "backpack") -> list[dict[str, Any]]:
    return list(sim.state()[venue]["open_orders"])


def _fill_when_resting(sim: Sim, ratio: str = "1") -> None:
    eventually(lambda: bool(_open_orders(sim)))
    sim.post("/_sim/fill", {"venue": "backpack", "all": True, "ratio": ratio})


def _hedged_exactly(sim: Sim) -> bool:
    return sim.positions("backpack").get("ASTER", D(0)) + sim.positions("aster").get("ASTER", D(0)) == 0


def test_full_fills_run_the_cycles_and_end_flat(frozen_sim: Sim, isolated_env: Path) -> None:
    loop = Loop("--qty", "10", "--cycles", "2", *FAST)
    for leg in range(1, 5):
        _fill_when_resting(frozen_sim)
        loop.wait_for("leg", count=leg, action="end")
    assert loop.finish() == 0, loop.stderr
    summary = loop.summary
    assert summary["ok"] is True
    assert summary["flat"] is True
    stats = summary["stats"]
    assert stats["cycles"] == 2
    assert stats["hedges"] == 4
    assert D(stats["maker_volume"]) > 0
    assert D(stats["taker_volume"]) > 0
    assert D(stats["fees"]["backpack"]) > 0
    assert D(stats["fees"]["aster"]) > 0
    assert stats["reaction_ms_p50"] is not None
    assert stats["funding_known"] is True  # both venues' payments were read (none settled: 0)
    assert {v: D(a) for v, a in stats["funding_by_venue"].items()} == {"backpack": 0, "aster": 0}
    assert loop.hedges() == [D(10)] * 4
    assert [e["side"] for e in loop.events("hedge")] == ["buy", "sell", "buy", "sell"]
    assert frozen_sim.all_flat()
    assert not _open_orders(frozen_sim)


def test_partial_fills_in_several_steps_are_hedged_as_they_come(frozen_sim: Sim) -> None:
    loop = Loop("--qty", "10", "--cycles", "1", "--requote-after", "30", *FAST[2:])
    _fill_when_resting(frozen_sim, "0.5")  # 5: hedged at once
    loop.wait_for("hedge")
    frozen_sim.post("/_sim/fill", {"venue": "backpack", "all": True, "ratio": "0.5"})  # 2.5: below Aster's minimum
    loop.wait_for("fill", count=2)
    assert len(loop.events("hedge")) == 1  # carried
    assert _open_orders(frozen_sim)  # the maker order still rests for the rest
    frozen_sim.post("/_sim/fill", {"venue": "backpack", "all": True, "ratio": "1"})
    loop.wait_for("leg", action="end")
    _fill_when_resting(frozen_sim)
    assert loop.finish() == 0, loop.stderr
    assert loop.hedges(leg=1) == [D(5), D(5)]
    assert loop.hedges(leg=2) == [D(10)]
    assert frozen_sim.all_flat()


def test_a_fill_racing_the_cancel_is_hedged(frozen_sim: Sim) -> None:
    loop = Loop("--qty", "10", "--cycles", "1", *FAST)
    eventually(lambda: bool(_open_orders(frozen_sim)))
    # The next cancel is held without a reply; while it hangs, half the order fills.
    frozen_sim.fault(venue="backpack", op="cancel_order", kind="timeout", count=1)
    eventually(lambda: len(frozen_sim.requests("cancel_order")) >= 1)
    frozen_sim.post("/_sim/fill", {"venue": "backpack", "all": True, "ratio": "0.5"})
    loop.wait_for("hedge")
    assert loop.hedges(leg=1) == [D(5)]
    reposted = loop.wait_for("order", count=2, action="placed")
    assert D(reposted["qty"]) == 5  # only the remainder is re-posted
    _fill_when_resting(frozen_sim)
    loop.wait_for("leg", action="end")
    _fill_when_resting(frozen_sim)
    assert loop.finish() == 0, loop.stderr
    assert frozen_sim.all_flat()


def test_an_unfilled_order_is_requoted_at_the_moved_price(frozen_sim: Sim) -> None:
    loop = Loop("--qty", "10", "--cycles", "1", *FAST)
    first = loop.wait_for("order", action="placed")
    # The market falls away from the resting sell: it never fills, and each re-quote follows the price down.
    frozen_sim.post("/_sim/price", {"symbol": "ASTER", "price": str(D(first["price"]) * D("0.95"))})
    moved = loop.wait_for("order", count=3, action="placed")
    assert D(moved["price"]) < D(first["price"]) * D("0.96")
    assert len(loop.events("order", action="cancelled")) >= 2
    _fill_when_resting(frozen_sim)
    loop.wait_for("leg", action="end")
    _fill_when_resting(frozen_sim)
    assert loop.finish() == 0, loop.stderr
    assert loop.summary["stats"]["requotes"] >= 2
    assert frozen_sim.all_flat()


def test_a_taker_reject_is_retried_and_the_loop_recovers(frozen_sim: Sim) -> None:
    frozen_sim.fault(venue="aster", op="create_order", kind="reject", count=1)
    loop = Loop("--qty", "10", "--cycles", "1", *FAST)
    _fill_when_resting(frozen_sim)
    loop.wait_for("leg", action="end")
    _fill_when_resting(frozen_sim)
    assert loop.finish() == 0, loop.stderr
    assert loop.events("hedge_rejected")
    assert loop.hedges() == [D(10), D(10)]
    assert frozen_sim.all_flat()


def test_a_filled_order_that_404s_is_resolved_through_history(frozen_sim: Sim) -> None:
    # Backpack's GET /api/v1/order only knows resting orders: once filled, the adapter reads history.
    # (Polling: with the order stream on, the fill is pushed and the order is never re-read.)
    loop = Loop("--qty", "10", "--cycles", "1", "--requote-after", "30", "--no-streams", *FAST[2:])
    _fill_when_resting(frozen_sim)
    loop.wait_for("leg", action="end")
    _fill_when_resting(frozen_sim)
    assert loop.finish() == 0, loop.stderr
    history = [r for r in frozen_sim.requests() if r["venue"] == "backpack" and "history/orders" in r["path"]]
    assert history
    assert loop.hedges() == [D(10), D(10)]
    assert frozen_sim.all_flat()


def test_no_leg_starts_inside_the_funding_window(frozen_sim: Sim) -> None:
    soon_ms = int(time.time() * 1000) + 120_000
    frozen_sim.post(
        "/_sim/funding", {"venue": "aster", "symbol": "ASTER", "rate": "0.0001", "next_funding_ms": soon_ms}
    )
    loop = Loop("--qty", "10", "--cycles", "1", "--requote-after", "1", "--stop-before-funding", "5")
    pause = loop.wait_for("pause")
    assert pause["venue"] == "aster"
    assert pause["funding_time_source"] == "venue"
    assert 100 < pause["seconds"] <= 125
    loop.wait_for("wait", reason="funding")  # the later marker: the loop is counting down, not starting a leg
    loop.interrupt()
    assert loop.finish() == 130, loop.stderr
    assert loop.summary["interrupted"] is True
    assert not frozen_sim.requests("create_order")  # over the whole run, the pause included
    assert frozen_sim.all_flat()


@pytest.mark.parametrize("on_exit", ["flatten", "keep-hedged"])
def test_sigint_while_the_maker_order_rests(frozen_sim: Sim, on_exit: str) -> None:
    loop = Loop("--qty", "10", "--requote-after", "30", "--on-exit", on_exit, *FAST[2:])
    loop.wait_for("order", action="placed")
    loop.interrupt()
    assert loop.finish() == 130, loop.stderr
    assert not _open_orders(frozen_sim)
    assert len(frozen_sim.requests("create_order")) == 1  # only the maker order: nothing to hedge or close
    assert frozen_sim.all_flat()


def test_sigint_after_a_partial_fill_hedges_it_then_flattens(frozen_sim: Sim) -> None:
    loop = Loop("--qty", "10", "--requote-after", "30", *FAST[2:])
    _fill_when_resting(frozen_sim, "0.5")
    loop.wait_for("hedge")
    loop.interrupt()
    assert loop.finish() == 130, loop.stderr
    assert loop.summary["flat"] is True
    assert frozen_sim.all_flat()
    assert not _open_orders(frozen_sim)


def test_sigint_with_an_unhedgeable_residual_closes_it_on_the_maker(frozen_sim: Sim) -> None:
    loop = Loop("--qty", "10", "--requote-after", "30", "--on-exit", "keep-hedged", *FAST[2:])
    _fill_when_resting(frozen_sim, "0.3")  # 3 ASTER: under Aster's 5 USDT minimum notional
    loop.wait_for("fill")
    loop.interrupt()
    assert loop.finish() == 130, loop.stderr
    close = loop.events("residual_close")
    assert close
    assert D(close[0]["filled"]) == 3
    assert not loop.events("hedge")
    assert frozen_sim.all_flat()


def test_sigint_while_a_hedge_is_in_flight(frozen_sim: Sim) -> None:
    loop = Loop("--qty", "10", "--requote-after", "30", *FAST[2:])
    eventually(lambda: bool(_open_orders(frozen_sim)))
    # Only Aster's orders are slow (the hedge, then the close): the exit's reads of Aster need not wait too.
    frozen_sim.post("/_sim/latency", {"venue": "aster", "op": "create_order", "ms": 400})
    frozen_sim.post("/_sim/fill", {"venue": "backpack", "all": True, "ratio": "1"})
    eventually(lambda: len(frozen_sim.requests("create_order")) >= 2)  # the hedge reached Aster
    loop.interrupt()
    assert loop.finish() == 130, loop.stderr
    assert loop.hedges() == [D(10)]
    assert frozen_sim.all_flat()


@pytest.mark.parametrize("on_exit", ["flatten", "keep-hedged"])
def test_sigint_between_legs(frozen_sim: Sim, on_exit: str) -> None:
    loop = Loop("--qty", "10", "--requote-after", "30", "--between-legs", "60", "--on-exit", on_exit)
    _fill_when_resting(frozen_sim)
    loop.wait_for("leg", action="end")
    loop.interrupt()
    assert loop.finish() == 130, loop.stderr
    if on_exit == "flatten":
        assert frozen_sim.all_flat()
    else:
        assert frozen_sim.positions("backpack") == {"ASTER": D(-10)}
        assert frozen_sim.positions("aster") == {"ASTER": D(10)}
        assert loop.summary["positions_after"] == {"backpack": "-10", "aster": "10"}
    assert _hedged_exactly(frozen_sim)


def test_sigterm_is_treated_as_sigint(frozen_sim: Sim) -> None:
    loop = Loop("--qty", "10", "--requote-after", "30", *FAST[2:])
    _fill_when_resting(frozen_sim, "0.5")
    loop.wait_for("hedge")
    loop.proc.send_signal(signal.SIGTERM)
    assert loop.finish() == 130, loop.stderr
    assert frozen_sim.all_flat()


def test_a_maker_disconnect_is_survived(frozen_sim: Sim) -> None:
    loop = Loop("--qty", "10", "--cycles", "1", "--requote-after", "30", "--no-streams", *FAST[2:])
    eventually(lambda: bool(_open_orders(frozen_sim)))
    frozen_sim.fault(venue="backpack", op="any", kind="disconnect", count=4)
    eventually(lambda: not frozen_sim.http.get("/_sim/faults").json()["faults"])  # every drop has happened
    frozen_sim.post("/_sim/fill", {"venue": "backpack", "all": True, "ratio": "1"})
    loop.wait_for("leg", action="end")
    _fill_when_resting(frozen_sim)
    assert loop.finish() == 0, loop.stderr
    assert loop.hedges() == [D(10), D(10)]
    assert frozen_sim.all_flat()


def test_a_maker_stream_dropped_mid_leg_still_hedges_the_fill_exactly_once(frozen_sim: Sim) -> None:
    loop = Loop("--qty", "10", "--cycles", "1", "--requote-after", "30", *FAST[2:])
    eventually(lambda: bool(_open_orders(frozen_sim)))
    eventually(lambda: frozen_sim.http.get("/_sim/streams").json().get("backpack", {}).get("live", 0) > 0)
    frozen_sim.post("/_sim/streams/drop", {"venue": "backpack"})
    frozen_sim.post("/_sim/fill", {"venue": "backpack", "all": True, "ratio": "0.5"})
    frozen_sim.post("/_sim/fill", {"venue": "backpack", "all": True, "ratio": "1"})
    loop.wait_for("leg", action="end")
    _fill_when_resting(frozen_sim)
    assert loop.finish() == 0, loop.stderr
    hedges = loop.hedges()
    # Each unit the maker filled is hedged exactly once, whether the two fills arrive apart or together.
    assert sum(hedges) == D(20)
    assert hedges[-1] == D(10)
    assert frozen_sim.all_flat()


def test_the_acceptance_run_prints_the_stats_table_and_ends_flat(frozen_sim: Sim) -> None:
    stop = threading.Event()

    def filler() -> None:
        while not stop.wait(0.05):  # a market that fills whatever rests, until the test says stop
            if _open_orders(frozen_sim):
                frozen_sim.post("/_sim/fill", {"venue": "backpack", "all": True, "ratio": "1"})

    thread = threading.Thread(target=filler, daemon=True)
    thread.start()
    try:
        proc = hedgectl(
            "bp-aster", "loop", "--qty", "10", "--cycles", "2", "--requote-after", "2", "--between-legs", "0",
            "--cycle-sleep", "0",
        )  # fmt: skip
    finally:
        stop.set()
        thread.join(timeout=5)
    assert proc.returncode == 0, proc.stderr
    for fragment in ("bp-aster loop stats", "cycles (legs)", "2 (4)", "hedge reaction p50 / p99", "COMPLETED"):
        assert fragment in proc.stdout
    assert frozen_sim.all_flat()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--qty", "0.5"], "not a quantity aster takes"),
        (["--qty", "2"], "min notional 5"),
        (["--qty", "1e12"], "above an order's max qty"),  # too large, said so (not the step and minimum)
        (["--offset-pct", "0"], "--offset-pct must be above 0 and below 50"),
        (["--offset-pct", "50"], "--offset-pct must be above 0 and below 50"),
        (["--on-exit", "maybe"], "--on-exit must be flatten or keep-hedged"),
    ],
)
def test_bad_input_exits_2_with_one_line(frozen_sim: Sim, args: list[str], fragment: str) -> None:
    proc = hedgectl("bp-aster", "loop", *args)
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
    assert not frozen_sim.requests("create_order")


def test_a_config_file_with_an_unknown_key_exits_2(frozen_sim: Sim, tmp_path: Path) -> None:
    path = tmp_path / "hedge_futures.yaml"
    path.write_text("trade:\n  quantity: '10'\n  offset_percent: 0.2\n  turbo: true\n", encoding="utf-8")
    proc = hedgectl("bp-aster", "loop", "--config", str(path), "--json")
    assert proc.returncode == 2
    assert "unknown key trade.turbo" in proc.stderr
    assert json.loads(proc.stdout)["ok"] is False


def test_every_wait_is_a_json_event_with_its_reason_and_length(frozen_sim: Sim) -> None:
    loop = Loop(
        "--qty", "10", "--cycles", "2", "--requote-after", "30", "--between-legs", "0.2", "--cycle-sleep", "0.3",
        "--stop-before-funding", "0",
    )  # fmt: skip
    for leg in range(1, 5):
        _fill_when_resting(frozen_sim)
        loop.wait_for("leg", count=leg, action="end")
    assert loop.finish() == 0, loop.stderr
    waits = [(e["reason"], e["seconds"], e["cycle"], e["leg"]) for e in loop.events("wait")]
    assert [w for w in waits if w[0] == "requote"] == [("requote", 30.0, c, leg) for c in (1, 2) for leg in (1, 2)]
    assert [w for w in waits if w[0] != "requote"] == [
        ("between_legs", 0.2, 1, None),
        ("cycle_sleep", 0.3, 1, None),
        ("between_legs", 0.2, 2, None),
    ]
    placed = loop.events("order", action="placed")
    assert [e["order_id"] for e in loop.events("wait", reason="requote")] == [e["order_id"] for e in placed]


@pytest.mark.parametrize("on_exit", ["flatten", "keep-hedged"])
def test_a_second_sigint_while_stopping_still_ends_with_the_outcome(frozen_sim: Sim, on_exit: str) -> None:
    loop = Loop("--qty", "10", "--requote-after", "30", "--between-legs", "60", "--on-exit", on_exit)
    _fill_when_resting(frozen_sim)
    loop.wait_for("leg", action="end")  # both legs open and hedged: the exit step has work to do
    loop.interrupt()
    loop.wait_for("exit")
    loop.interrupt()  # the second press, while the command finishes
    assert loop.finish() == 130, loop.stderr
    assert loop.summary["interrupted"] is True
    assert "Traceback" not in loop.stderr
    assert _hedged_exactly(frozen_sim)
    if on_exit == "flatten":
        assert "then flattening both venues" in loop.stderr
        assert frozen_sim.all_flat()
    else:
        assert "keeping the pair hedged" in loop.stderr
        assert "flattening" not in loop.stderr
    assert "Ctrl+C twice more aborts at once" in loop.stderr


class Terminal:
    """The CLI on a pseudo-terminal (Rich's live table and countdowns), its screen output collected as it comes."""

    ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")

    def __init__(self, *args: str) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 140, 0, 0))
        env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1"}
        env.pop("COLUMNS", None)
        env.pop("LINES", None)  # xdist exports LINES=24: the terminal's own size (60 x 140) must rule
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hedgectl", *args], stdin=slave, stdout=slave, stderr=slave, env=env,
            close_fds=True,
        )  # fmt: skip
        os.close(slave)
        self._master = master
        self._chunks: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: the process closed the terminal
                return
            if not chunk:
                return
            self._chunks.append(chunk)

    @property
    def text(self) -> str:
        return self.ANSI.sub("", b"".join(list(self._chunks)).decode("utf-8", errors="replace"))

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 30) -> None:
        eventually(lambda: len(re.findall(pattern, self.text)) >= count or self.proc.poll() is not None, timeout)
        assert len(re.findall(pattern, self.text)) >= count, f"no {pattern!r} x{count}: {self.text[-3000:]}"

    def finish(self, timeout: float = 60) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._reader.join(timeout=5)
            os.close(self._master)
        return code


def test_on_a_terminal_every_wait_counts_down_and_the_table_shows_each_event(frozen_sim: Sim) -> None:
    term = Terminal(
        "bp-aster", "loop", "--qty", "10", "--cycles", "1", "--requote-after", "1", "--between-legs", "2",
        "--cycle-sleep", "0", "--stop-before-funding", "0",
    )  # fmt: skip
    term.wait_for(r"\[cycle 1 leg 1\] backpack sell 10 @ \S+ posted", count=2)  # re-quoted at least once
    _fill_when_resting(frozen_sim)
    term.wait_for(r"\[cycle 1 leg 2\] backpack buy 10 @ \S+ posted")
    _fill_when_resting(frozen_sim)
    assert term.finish() == 0, term.text[-3000:]
    text = term.text
    requote = r"leg 1: backpack sell 10 @ \S+ resting, re-quoting in 0:01 unless filled \(Ctrl\+C to stop\)"
    assert re.search(requote, text)
    # a countdown frame of the 2 s wait (a loaded machine may first draw it at 0:01)
    assert re.search(r"between legs: leg 2 starts in 0:0[12] \(Ctrl\+C to stop\)", text)
    assert "[cycle 1] waiting 2 s before leg 2" in text
    # The table already shows each event when its line is printed, not one event later.
    leg_two = text.index("[cycle 1 leg 2]")
    assert re.search(r"cycles \(legs\)\s*│\s*0 \(1\)", text[:leg_two]), "leg 1's end not in the table before leg 2"
    posted = len(re.findall(r"\[cycle 1 leg 1\] backpack sell 10 @ \S+ posted", text))
    leg_two_fill = text.index("[cycle 1 leg 2] backpack filled")
    assert re.search(rf"maker orders / requotes\s*│\s*{posted + 1} / {posted - 1}\s*│", text[:leg_two_fill]), (
        "leg 2's order not counted when it was posted"
    )
    assert "BP-ASTER LOOP COMPLETED" in text
    assert frozen_sim.all_flat()


def test_on_a_terminal_a_double_ctrl_c_still_prints_the_final_line(frozen_sim: Sim) -> None:
    term = Terminal("bp-aster", "loop", "--qty", "10", "--requote-after", "30", "--between-legs", "60")
    _fill_when_resting(frozen_sim)
    term.wait_for(r"\[cycle 1 leg 1\] leg done")
    term.proc.send_signal(signal.SIGINT)
    term.wait_for(r"on exit \(flatten\): done")
    term.proc.send_signal(signal.SIGINT)
    assert term.finish() == 130, term.text[-3000:]
    text = term.text
    assert "interrupted: cancelling the resting order, hedging what filled, then flattening both venues" in text
    assert "interrupted: both venues flat" in text
    assert "Traceback" not in text
    assert frozen_sim.all_flat()


def test_the_example_config_file_runs_a_cycle_through_the_cli(frozen_sim: Sim) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "hedge_futures.example.yaml"
    # Only the waits are shortened on the command line; quantity and offset come from the file.
    loop = Loop("--config", str(example), "--cycles", "1", *FAST)
    placed = loop.wait_for("order", action="placed")
    assert D(placed["qty"]) == 10
    _fill_when_resting(frozen_sim)
    loop.wait_for("leg", action="end")
    _fill_when_resting(frozen_sim)
    assert loop.finish() == 0, loop.stderr
    assert loop.summary["qty"] == "10"
    assert "ignored" not in loop.stderr  # the example's hosts and windows are hedgectl's own
    assert frozen_sim.all_flat()


def test_ctrl_c_twice_during_the_start_up_check_exits_130_having_sent_nothing(frozen_sim: Sim) -> None:
    frozen_sim.post("/_sim/latency", {"venue": "aster", "ms": 1500})  # the check's reads take a while
    loop = Loop("--qty", "10", *FAST)
    eventually(lambda: any(r["venue"] == "aster" for r in frozen_sim.requests()))
    loop.interrupt()
    loop.interrupt()
    assert loop.finish() == 130, loop.stderr
    assert loop.summary["interrupted"] is True
    assert loop.summary["error"] == "interrupted before the loop started: nothing was sent"
    assert "Traceback" not in loop.stderr
    assert not frozen_sim.requests("create_order")
