"""Tables in a real terminal of 80 and 140 columns: a number, an order id or a venue name is never split across
lines, and a line never runs past the terminal's width (the simulator's clock is frozen: prices stand still, so
the terminal's figures are the --json ones)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from decimal import Decimal

import pytest

from tests.e2e.conftest import Sim, cli_env, hedgectl

pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]")


def _in_terminal(columns: int, *args: str) -> tuple[int, list[str]]:
    """Run the CLI on a terminal `columns` wide to its end; its exit code and the lines it drew."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {**cli_env(), "TERM": "xterm", "NO_COLOR": "1"}
    env.pop("COLUMNS", None)  # xdist exports COLUMNS=80 and LINES=24: the terminal's own size must rule
    env.pop("LINES", None)
    proc = subprocess.Popen([sys.executable, "-m", "hedgectl", *args], stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    code = proc.wait(timeout=120)
    text = ANSI.sub("", b"".join(chunks).decode("utf-8", errors="replace"))
    return code, text.replace("\r\n", "\n").split("\n")


def _cells(lines: list[str]) -> set[str]:
    """Every table cell's text, one per line of a cell."""
    return {c.strip() for line in lines if "│" in line for c in line.split("│")}


def _plain(value: object) -> str:
    return format(Decimal(str(value)).normalize(), "f")


@pytest.fixture
def still(sim: Sim) -> Sim:
    sim.post("/_sim/clock", {"frozen": True})
    return sim


@pytest.mark.parametrize("columns", [80, 140])
def test_prices_keep_every_number_and_venue_whole(still: Sim, columns: int) -> None:
    code, lines = _in_terminal(columns, "prices", "--symbol", "BTC")
    assert code == 0, lines
    assert max(len(line) for line in lines) <= columns
    venues = json.loads(hedgectl("prices", "--symbol", "BTC", "--json").stdout)["venues"]
    cells = _cells(lines)
    for venue, quote in venues.items():
        assert venue in cells
        for key in ("bid", "ask", "mid", "mark"):
            assert _plain(quote[key]) in cells, (key, quote[key])
    if columns == 140:  # the title on one line: "APR" ends it, not a line of its own
        (title,) = [line for line in lines if "best funding spread" in line]
        assert "prices" in title
        assert title.rstrip().endswith("APR")


def test_bootstraps_opened_and_closed_tables_keep_prices_and_ids_whole_at_80_columns(still: Sim) -> None:
    code, lines = _in_terminal(80, "bootstrap", "--notional", "300", "--hold", "0", "--yes")
    assert code == 0, "\n".join(lines)
    assert max(len(line) for line in lines) <= 80
    run_id = json.loads(hedgectl("history", "--json").stdout)["runs"][0]["id"]
    shown = json.loads(hedgectl("history", "show", run_id, "--json").stdout)
    cells = _cells(lines)
    assert {o["venue"] for o in shown["orders"]} <= cells
    for order in shown["orders"]:
        assert _plain(order["avg_price"]) in cells, order["avg_price"]
    for fill in shown["fills"]:
        assert fill["order_id"] in cells, fill["order_id"]
