"""A command's process imports what that command needs, nothing more: the start-up cost every spawn pays.

The root group loads a command's module only when that command is looked up (hedgectl/cli/lazy_group.py), the
venue adapters load only when a venue is built (websockets only when a stream is opened: that is held by
test_no_ccxt_on_trading_path, on the commands it already runs against the simulator). Each case runs the
real CLI in a subprocess and reads `sys.modules` at exit: `-X importtime` does not list modules loaded by
`importlib.import_module`, which is how the lazy group and the venue registry load theirs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import cli_env

pytestmark = pytest.mark.e2e

PROBE = (
    "import atexit, json, runpy, sys\n"
    "out = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(out, 'w').write(json.dumps(sorted(sys.modules))))\n"
    "sys.argv[0] = 'hedgectl'\n"
    "runpy.run_module('hedgectl', run_name='__main__', alter_sys=True)\n"
)

COMMAND_MODULES = {
    "hedgectl.cli.bootstrap_cmd", "hedgectl.cli.bp_aster_cmd", "hedgectl.cli.breaker_cmd", "hedgectl.cli.carry_cmd",
    "hedgectl.cli.connect_cmd", "hedgectl.cli.flatten_cmd", "hedgectl.cli.history_cmd", "hedgectl.cli.positions_cmd",
    "hedgectl.cli.prices_cmd", "hedgectl.cli.report_cmd", "hedgectl.cli.scan_cmd", "hedgectl.cli.sim_cmd",
}  # fmt: skip
ADAPTER_PACKAGES = ("binance", "binance_family", "okx", "backpack", "aster", "kit", "streams")


def _modules_after(tmp_path: Path, *args: str) -> set[str]:
    out = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return set(json.loads(out.read_text()))


def _under(modules: set[str], *packages: str) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(f"{p}.") for p in packages))


def test_help_lists_every_command_without_settings_the_session_or_the_venue_layer(tmp_path: Path) -> None:
    modules = _modules_after(tmp_path, "--help")
    assert modules >= COMMAND_MODULES, "--help did not list every command"
    heavy = _under(
        modules, "httpx", "hedgectl.settings", "hedgectl.cli.session", "hedgectl.venues", "hedgectl.engine",
        "hedgectl.journal",
    )  # fmt: skip
    assert not heavy, f"--help imported {heavy[:8]}"


def test_history_loads_its_own_command_and_no_venue_adapter(tmp_path: Path) -> None:
    modules = _modules_after(tmp_path, "history", "--json")
    assert "hedgectl.journal.repository" in modules, "history did not read the journal"
    assert modules & COMMAND_MODULES == {"hedgectl.cli.history_cmd"}
    adapters = _under(modules, "httpx", *(f"hedgectl.venues.{p}" for p in ADAPTER_PACKAGES))
    assert not adapters, f"history imported {adapters[:8]}"
