"""Binance and Aster trade without ccxt: a command on them never imports it (issue 14; OKX still does)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e.conftest import Sim, cli_env

pytestmark = pytest.mark.e2e


def imported_modules(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the CLI under `-X importtime`: its result, and every module it imported (from the import log)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "hedgectl", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env(),
        check=False,
    )
    modules = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return done, modules


@pytest.mark.parametrize("command", ["prices", "connect"])
def test_a_binance_and_aster_command_runs_without_importing_ccxt(sim: Sim, command: str) -> None:
    done, modules = imported_modules(command, "--venue", "binance", "--venue", "aster")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "hedgectl.venues.binance.venue" in modules  # the log is read: the adapter shows in it
    assert not {m for m in modules if m == "ccxt" or m.startswith(("ccxt.", "aiohttp"))}
