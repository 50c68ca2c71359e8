"""End-to-end fixtures: a real simulator server on a loopback port, the CLI as a subprocess or in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from hedgectl.sim.embedded import EmbeddedSimulator
from tests import forked_cli
from tests.waiting import eventually as eventually  # the shared helper; e2e tests import it from here


@dataclass
class Sim:
    url: str
    http: httpx.Client

    def state(self) -> dict[str, Any]:
        return self.http.get("/_sim/state").json()["venues"]

    def positions(self, venue: str) -> dict[str, Decimal]:
        return {p["base"]: Decimal(p["qty"]) for p in self.state()[venue]["positions"] if Decimal(p["qty"]) != 0}

    def all_flat(self) -> bool:
        return all(not self.positions(v) for v in self.state())

    def requests(self, op: str | None = None) -> list[dict[str, Any]]:
        rows = self.http.get("/_sim/requests").json()
        rows = rows["requests"] if isinstance(rows, dict) else rows
        return [r for r in rows if op is None or r["op"] == op]

    def fault(self, **body: Any) -> None:
        self.http.post("/_sim/faults", json=body).raise_for_status()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    """A fresh simulator on 127.0.0.1:<ephemeral>, and HEDGECTL_SIM_URL pointing every command at it."""
    server = EmbeddedSimulator(None, seed=3)
    url = server.start().rstrip("/")
    monkeypatch.setenv("HEDGECTL_SIM_URL", url)
    monkeypatch.setenv("HEDGECTL_HTTP_TIMEOUT_S", "2")
    with httpx.Client(base_url=url, timeout=10) as http:
        yield Sim(url=url, http=http)
    server.stop()


def cli_env() -> dict[str, str]:
    """The test's environment for a CLI subprocess, at the width a piped command renders (xdist workers set
    COLUMNS=80, which would wrap the tables' headers differently from a plain `pytest` run)."""
    return {**os.environ, "COLUMNS": "140"}


def hedgectl(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a process of its own with the test's environment (forked warm: tests/forked_cli.py)."""
    if forked_cli.use_fork():
        return forked_cli.run(list(args), cli_env(), timeout)
    return subprocess.run(
        [sys.executable, "-m", "hedgectl", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=cli_env(),
        check=False,
    )


def spawn(*args: str) -> subprocess.Popen[str]:
    """The real CLI, running, in a process of its own (forked warm: tests/forked_cli.py); stdout/stderr piped."""
    if forked_cli.use_fork():
        return cast("subprocess.Popen[str]", forked_cli.ForkedProcess(list(args), cli_env()))
    return subprocess.Popen(
        [sys.executable, "-m", "hedgectl", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )


def orders_placed(proc: subprocess.Popen[str], sim: Sim, count: int, timeout: float = 30.0) -> None:
    """Wait until the simulator has `count` create_order requests; if the command exits (or the wait times out)
    first, kill it and fail with what it said - never leave it running into the next test."""

    def placed() -> bool:
        if len(sim.requests("create_order")) >= count:
            return True
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the command exited ({proc.returncode}) before placing {count} orders: {err}{out}")
        return False

    try:
        eventually(placed, timeout, interval=0.05)
    except AssertionError:
        if proc.poll() is None:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"fewer than {count} orders after {timeout:g} s: {err}{out}") from None
        raise


def journal_client_ids(home: Path) -> set[str]:
    import sqlite3

    conn = sqlite3.connect(home / "journal.sqlite")
    try:
        return {row[0] for row in conn.execute("SELECT client_order_id FROM orders")}
    finally:
        conn.close()
