"""Signals at random moments of each phase, SIGTERM as SIGINT, and kill -9 followed by a cold `flatten`.

The e2e suites send signals at fixed points; here the moment inside each phase is drawn at random (the seed
is in every failure message: set HEDGECTL_SIGNAL_SEED to replay it). Each phase is stretched by the
simulator (a reply held until the client's 1.5 s timeout) so that the random moment falls inside it. Every case
must end flat with no order left resting, and exit 130 (0 for a cold flatten).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from reliability.rig import Rig, eventually, stop

pytestmark = pytest.mark.e2e

SEED = int(os.environ.get("HEDGECTL_SIGNAL_SEED", str(time.time_ns() % 2**32)))
BOOTSTRAP = ["bootstrap", "--notional", "300", "--long", "backpack", "--short", "aster", "--max-slippage-bps", "50",
             "--json"]  # fmt: skip
LOOP = ["bp-aster", "loop", "--qty", "10", "--requote-after", "0.5", "--cycle-sleep", "0", "--stop-before-funding",
        "0", "--json", "--yes"]  # fmt: skip


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return random.Random(f"{SEED}-{request.node.name}")


@pytest.fixture
def r(sim_rig: Rig) -> Rig:
    # How long a held reply keeps an order in flight: longer than any random window below (1 s where a reply
    # is held), with room for the request to be seen before the window starts.
    sim_rig.env["HEDGECTL_HTTP_TIMEOUT_S"] = "1.5"
    return sim_rig


def _at_random_moment(rng: random.Random, proc: subprocess.Popen[str], sig: int, window_s: float) -> float:
    """Send `sig` at a moment drawn uniformly from the next `window_s` seconds (the signal's timing is the
    test's input, not a wait for something)."""
    delay = rng.uniform(0, window_s)
    time.sleep(delay)
    assert proc.poll() is None, f"the process ended before the signal (seed {SEED})"
    proc.send_signal(sig)
    return delay


def _finish(r: Rig, proc: subprocess.Popen[str], delay: float) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=90)
    finally:
        stop(proc)
    where = f"signal {delay:.3f} s into the phase, seed {SEED}"
    assert "Traceback" not in err, f"{where}: {err}"
    assert not r.exposure(), f"{where}: not flat: {r.exposure()}\n{err}"
    assert not r.resting(), f"{where}: orders left resting: {r.resting()}"
    assert proc.returncode == 130, f"{where}: exit {proc.returncode}\n{err}"
    return out, err


def _creates(r: Rig, venue: str | None = None) -> list[dict[str, object]]:
    return [q for q in r.requests("create_order") if venue is None or q["venue"] == venue]


@pytest.mark.parametrize("phase", ["open", "hold", "close"])
def test_sigint_at_a_random_moment_of_a_bootstrap_phase_ends_flat(r: Rig, rng: random.Random, phase: str) -> None:
    # The short leg's open, or its close, is placed but its reply held: in flight when the signal comes.
    held = {"open": 0, "close": 1}
    if phase in held:
        r.fault(venue="aster", op="create_order", kind="accept_then_timeout", count=1, after=held[phase])
    proc = r.spawn(*BOOTSTRAP, "--hold", "30" if phase == "hold" else "0")
    eventually(lambda: len(_creates(r)) >= (4 if phase == "close" else 2), timeout=30)
    window = {"open": 1.0, "hold": 1.5, "close": 1.0}[phase]
    delay = _at_random_moment(rng, proc, signal.SIGINT, window)
    out, _ = _finish(r, proc, delay)
    assert json.loads(out)["interrupted"] is True


@contextmanager
def _filling(r: Rig, venue: str) -> Iterator[threading.Event]:
    """Fill `venue`'s resting orders as they appear, while the returned event is set."""
    enabled, done = threading.Event(), threading.Event()
    enabled.set()

    def run() -> None:
        while not done.is_set():
            if enabled.is_set() and r.state()[venue]["open_orders"]:
                r.post("/_sim/fill", {"venue": venue, "all": True})
            done.wait(0.02)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield enabled
    finally:
        done.set()
        thread.join(timeout=10)


def test_sigint_at_a_random_moment_while_the_maker_order_rests_ends_flat(r: Rig, rng: random.Random) -> None:
    proc = r.spawn(*LOOP, "--between-legs", "0")
    eventually(lambda: bool(r.state()["backpack"]["open_orders"]))
    delay = _at_random_moment(rng, proc, signal.SIGINT, 1.0)  # spans a re-quote or two
    _finish(r, proc, delay)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_at_a_random_moment_while_a_hedge_is_in_flight_ends_flat(r: Rig, rng: random.Random, sig: int) -> None:
    r.fault(venue="aster", op="create_order", kind="accept_then_timeout", count=1)  # the first hedge is held
    proc = r.spawn(*LOOP, "--between-legs", "0")
    with _filling(r, "backpack"):
        eventually(lambda: bool(_creates(r, "aster")), timeout=60)
        delay = _at_random_moment(rng, proc, sig, 1.0)
        _finish(r, proc, delay)


def test_kill_9_of_the_loop_with_both_legs_open_then_a_cold_flatten_ends_flat(r: Rig) -> None:
    proc = r.spawn(*LOOP, "--between-legs", "60")
    with _filling(r, "backpack"):
        eventually(lambda: {"backpack", "aster"} <= set(r.exposure()), timeout=60)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    assert r.exposure(), "the loop should have died holding both legs"
    flat = r.run("flatten", "--all", "--yes", "--json")
    assert flat.returncode == 0, flat.stderr
    assert "did not finish" in flat.stderr  # the crashed run is named
    doc = json.loads(flat.stdout)
    assert any(p["runs"] for v in doc["venues"].values() for p in v["positions_before"]), doc
    assert not r.exposure()
    assert not r.resting()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_flatten_lets_it_finish_flat_then_exits_130(r: Rig, rng: random.Random, sig: int) -> None:
    """The kill switch is not cut short: before this, Ctrl+C cancelled flatten's closes mid-flight (exit 130, no
    report, an unacknowledged close in the journal) and SIGTERM killed it outright."""
    r.open_positions({"binance": "buy", "okx": "sell", "backpack": "buy", "aster": "sell"})
    r.clear_requests()
    r.fault(venue="okx", op="create_order", kind="accept_then_timeout", count=1)  # okx's close is held
    proc = r.spawn("flatten", "--all", "--yes", "--json")
    eventually(lambda: bool(_creates(r, "okx")), timeout=30)
    delay = _at_random_moment(rng, proc, sig, 1.0)
    out, err = _finish(r, proc, delay)
    doc = json.loads(out)
    assert doc["ok"] is True
    assert all(v["flat"] for v in doc["venues"].values())
    assert "interrupted" in err
    assert [o for o in r.journal_orders() if o["state"] in ("intent", "unknown")] == []  # nothing left unresolved


@pytest.mark.parametrize("second_at", ["closing", "after_the_closes"])
def test_a_second_sigint_while_a_bootstrap_closes_still_prints_the_outcome(r: Rig, second_at: str) -> None:
    human = [a for a in BOOTSTRAP if a != "--json"]
    if second_at == "closing":
        r.fault(venue="aster", op="create_order", kind="accept_then_timeout", count=1, after=1)  # its close is held
    proc = r.spawn(*human, "--hold", "30")
    eventually(lambda: len(_creates(r)) >= 2, timeout=30)
    proc.send_signal(signal.SIGINT)
    eventually(lambda: len(_creates(r)) >= 4, timeout=30)  # both closes sent
    if second_at == "after_the_closes":
        eventually(lambda: not r.exposure(), timeout=30)
    proc.send_signal(signal.SIGINT)
    out, err = _finish(r, proc, 0.0)
    assert "interrupted: both venues are flat" in out, err
    assert "Ctrl+C twice more aborts at once" in err
