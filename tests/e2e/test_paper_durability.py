"""The paper account survives a crash or an abort as a venue would: what a command was told is on disk.

Paper mode's simulator runs inside the command, so a kill -9 or the third Ctrl+C (os._exit) takes it down with
the command. Every order, fill and cancel it acknowledged must be in the saved account all the same, and
`hedgectl sim reset` must not pretend to reset an account a running command holds.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import cli_env, eventually, hedgectl

pytestmark = pytest.mark.e2e

BOOTSTRAP = ("bootstrap", "--notional", "300", "--max-slippage-bps", "100", "--yes")


@contextmanager
def _running(*args: str) -> Iterator[tuple[subprocess.Popen[str], Callable[[str], None]]]:
    """A paper command (human output, unbuffered) and `wait_for(text)`: block until a line holds `text`."""
    env = {**cli_env(), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hedgectl", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    lines: list[str] = []
    seen = threading.Condition()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with seen:
                lines.append(line)
                seen.notify_all()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def wait_for(text: str) -> None:
        with seen:
            if not seen.wait_for(lambda: any(text in line for line in lines) or proc.poll() is not None, 60):
                raise AssertionError(f"no {text!r} within 60 s: {''.join(lines)}")
            assert any(text in line for line in lines), f"exited {proc.returncode} before {text!r}: {''.join(lines)}"

    try:
        yield proc, wait_for
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        reader.join(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def _exposure(home: Path) -> tuple[dict[str, object], int]:
    """(positions by venue, open orders) as `hedgectl positions` reads the saved account."""
    shown = hedgectl("positions", "--json")
    assert shown.returncode == 0, shown.stderr
    venues = json.loads(shown.stdout)["venues"]
    held = {v: doc["positions"] for v, doc in venues.items() if doc["positions"]}
    return held, sum(len(doc.get("open_orders", [])) for doc in venues.values())


def _saved_open_orders(home: Path) -> list[str]:
    """The open orders of the paper account as saved (what a command started now would load)."""
    from hedgectl.sim import persist
    from hedgectl.sim.model import OrderStatus

    doc = persist.read(home / "paper" / "sim-state.json")
    accounts = doc["accounts"].values() if doc is not None else []
    return [o["order_id"] for a in accounts for o in a["orders"] if OrderStatus(o["status"]).is_open]


def test_a_bootstrap_killed_with_minus_9_right_after_opened_leaves_both_legs_for_flatten(isolated_env: Path) -> None:
    with _running(*BOOTSTRAP, "--hold", "60") as (proc, wait_for):
        wait_for("Opened")
        proc.kill()  # at once: no time for a periodic save
    held, _ = _exposure(isolated_env)
    assert set(held) == {"binance", "okx"}, held
    dry = hedgectl("flatten", "--all", "--dry-run", "--json")
    assert set(json.loads(dry.stdout)["exposure_after"]) == {"binance", "okx"}, dry.stdout  # not "all flat"
    flat = hedgectl("flatten", "--all", "--yes", "--json")
    assert flat.returncode == 0, flat.stderr
    assert _exposure(isolated_env) == ({}, 0)


def test_the_third_ctrl_c_after_a_cancel_leaves_the_cancel_saved(isolated_env: Path) -> None:
    lock = isolated_env / "paper" / "sim-state.json.lock"
    with _running("bp-aster", "loop", "--qty", "10", "--yes") as (proc, wait_for):
        wait_for("posted")
        eventually(lambda: bool(_saved_open_orders(isolated_env)), timeout=30)  # as a venue holds it
        url = lock.read_text().split()[1]  # the command's own simulator (sim/account_lock.py)
        # Aster answers slowly from now on: after the maker order's cancel, the flatten's reads keep the command
        # alive long enough for two more Ctrl+C, which abort it at once (os._exit: no save at stop).
        httpx.post(f"{url}/_sim/latency", json={"venue": "aster", "ms": 3000}, timeout=10).raise_for_status()
        proc.send_signal(signal.SIGINT)
        wait_for("cancelled")
        proc.send_signal(signal.SIGINT)
        wait_for("a third time")  # two signals at once would count as one
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    assert _saved_open_orders(isolated_env) == []
    assert _exposure(isolated_env) == ({}, 0)
    dry = json.loads(hedgectl("flatten", "--all", "--dry-run", "--json").stdout)
    assert not any(doc["open_orders_before"] for doc in dry["venues"].values()), dry


def test_sim_reset_refuses_while_a_command_runs_on_the_paper_account(isolated_env: Path) -> None:
    with _running(*BOOTSTRAP, "--hold", "60") as (proc, wait_for):
        wait_for("Opened")
        refused = hedgectl("sim", "reset")
        assert refused.returncode == 2, refused.stdout
        assert f"pid {proc.pid}" in refused.stderr, refused.stderr
        assert "bootstrap" in refused.stderr, refused.stderr
        assert "nothing was reset" in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        proc.send_signal(signal.SIGINT)  # the run closes its legs and ends
        assert proc.wait(timeout=60) == 130
    assert hedgectl("sim", "reset").returncode == 0
    assert not (isolated_env / "paper" / "sim-state.json").exists()
    balances = json.loads(hedgectl("positions", "--json").stdout)["venues"]
    assert {v: doc["positions"] for v, doc in balances.items() if doc["positions"]} == {}
