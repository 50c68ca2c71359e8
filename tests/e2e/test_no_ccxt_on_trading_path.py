"""No trading or account command imports ccxt: ccxt serves `scan`'s market data and the tests, nothing else.

Each command runs for real against the simulator under `python -X importtime`, which lists every module the
process imported; ccxt costs ~0.9 s of start-up and must not be among them. The same run holds the stream code to
the commands that open a stream: websockets is imported when a venue's user stream is opened, not with the adapter.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e.conftest import Sim, cli_env

pytestmark = pytest.mark.e2e

STREAMING = {"bootstrap"}  # the one command here that opens the venues' order streams
COMMANDS = [
    ("bootstrap", "--notional", "300", "--hold", "0", "--yes", "--json", "--max-slippage-bps", "100"),
    ("flatten", "--all", "--yes", "--json"),
    ("connect", "--json"),
    ("prices", "--json"),
    ("positions", "--json"),
    ("history", "--json"),
]


def _imported_modules(*args: str) -> tuple[int, set[str], str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "hedgectl", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env(),
        check=False,
    )
    modules = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    return proc.returncode, modules, proc.stderr


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_the_command_never_imports_ccxt(sim: Sim, args: tuple[str, ...]) -> None:
    code, modules, stderr = _imported_modules(*args)
    assert code == 0, stderr[-2000:]
    assert any(m.startswith("hedgectl.venues") for m in modules), "the command did not reach the venue layer"
    leaked = sorted(m for m in modules if m == "ccxt" or m.startswith("ccxt."))
    assert not leaked, f"{args[0]} imported {leaked[:5]}"
    if args[0] not in STREAMING:
        streams = sorted(m for m in modules if m == "websockets" or m.startswith("websockets."))
        assert not streams, f"{args[0]} opens no stream but imported {streams[:5]}"
