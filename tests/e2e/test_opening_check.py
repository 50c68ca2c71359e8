"""The opening check bootstrap and carry share (`cli.common.legs_listed`), through the real CLI and simulator:
the symbol must be listed on both legs' venues, and a stop while that is read ends the run with no order sent."""

from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.conftest import Sim, eventually, hedgectl, spawn

pytestmark = pytest.mark.e2e

COMMANDS = {
    "bootstrap": ("bootstrap", "--notional", "300", "--hold", "1", "--json"),
    "carry": ("carry", "--notional", "300", "--until", "1s", "--json"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_stop_while_the_venues_are_checked_sends_no_order_and_exits_130(sim: Sim, command: str) -> None:
    sim.post("/_sim/latency", {"venue": "okx", "ms": 1500})  # OKX's market list is still on its way
    proc = spawn(*COMMANDS[command])
    eventually(lambda: any(r["venue"] == "okx" for r in sim.requests("fetch_markets")))
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted while checking the venues: no order was sent" in err
    assert sim.requests("create_order") == []
    history = json.loads(hedgectl("history", "--json").stdout)
    assert [run["status"] for run in history["runs"] if run["command"] == command] == ["interrupted"]


def test_a_carry_of_a_symbol_one_venue_does_not_list_is_a_usage_error(sim: Sim) -> None:
    proc = hedgectl("carry", "--symbol", "FOO", "--notional", "300", "--until", "1s", "--json")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "error: unknown symbol 'FOO': not listed on binance, okx"
    assert sim.requests("create_order") == []
