"""A plan that is refused, or a signal while planning, ends the command at once: no hang, no false exit 3,
and no "did not finish" warning afterwards (nothing was sent)."""

from __future__ import annotations

import signal
import subprocess

import pytest

from .conftest import Sim, eventually, hedgectl, spawn

pytestmark = pytest.mark.e2e

REFUSED = ["bootstrap", "--notional", "5", "--hold", "0", "--yes"]
BOUND_S = 30.0  # generous: a hang is forever; a loaded 2-core machine takes ~8 s to start the CLI


def _no_unfinished_warning() -> None:
    after = hedgectl("history", timeout=BOUND_S)
    assert after.returncode == 0, after.stderr
    assert "did not finish" not in after.stderr


def test_a_refused_plan_exits_1_with_its_reason_every_time(sim: Sim) -> None:
    # Closing the order streams used to hang on most runs (a cancel lost as the OKX login ack arrived).
    for run in range(5):
        done = hedgectl(*REFUSED, timeout=BOUND_S)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1, f"run {run}: {done.stderr}"
        assert "Traceback" not in done.stderr
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith("error: ")
        assert "no quantity fits 5" in lines[0]
    _no_unfinished_warning()
    assert sim.requests("create_order") == []


def test_sigterm_while_planning_exits_130_promptly_and_nothing_is_left_unfinished(
    sim: Sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Planning waits on OKX's replies, held longer than the bound: a stop must not wait for them.
    monkeypatch.setenv("HEDGECTL_HTTP_TIMEOUT_S", str(BOUND_S * 2))
    sim.fault(venue="okx", op="any", kind="timeout", count=1000)
    proc = spawn("bootstrap", "--notional", "300", "--hold", "0", "--yes")
    try:
        eventually(lambda: any(r["venue"] == "okx" for r in sim.requests()) or proc.poll() is not None, timeout=60)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=BOUND_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"still running {BOUND_S:g} s after SIGTERM: {err}") from None
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert sim.requests("create_order") == []
    sim.http.delete("/_sim/faults")
    _no_unfinished_warning()
