"""`hedgectl carry`'s options as a user types them: bad values refused before any order, a stop with the pair
kept is an interrupted run (130), `--resume` honours the exit rules given with it, and what the terminal shows.

The real CLI against the simulator over loopback, the real adapters; the end state is read from `/_sim/state`.
"""

from __future__ import annotations

import json
import re
import signal
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.conftest import Sim, eventually, hedgectl, spawn
from tests.e2e.test_carry import FAST, Carry, carries, opened, start

D = Decimal
pytestmark = pytest.mark.e2e
__all__ = ["carries"]  # the fixture, shared with test_carry.py
TEXT = ("--refresh-s", "0.2", "--max-slippage-bps", "50")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--take-profit", "-1"),
        ("--take-profit", "0"),
        ("--max-loss-pct", "-2"),
        ("--max-delta-pct", "0"),
        ("--min-liq-distance-pct", "-5"),
        ("--until", "0s"),
        ("--refresh-s", "0"),
        ("--maker-timeout", "0"),
    ],
)
def test_an_option_value_out_of_range_is_one_line_and_exit_2_before_any_order(
    sim: Sim, isolated_env: Path, option: str, value: str
) -> None:
    refused = hedgectl("carry", "--notional", "300", "--until", "1h", *FAST, option, value)
    assert refused.returncode == 2, refused.stderr
    assert option in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "Traceback" not in refused.stderr
    assert sim.requests("create_order") == []


def test_a_stop_with_on_exit_keep_exits_130_and_says_the_pair_was_kept(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    carry = start(carries, "--notional", "300", "--on-exit", "keep", *FAST)
    carry.wait(opened(carry))
    qty = D(carry.of("open")[0]["qty"])
    carry.proc.send_signal(signal.SIGTERM)
    assert carry.finish() == 130, carry.err
    result = carry.result
    assert (result["ok"], result["exit_code"], result["kept"]) == (False, 130, True)
    assert "SIGTERM" in result["exit_reason"]
    assert "kept open" in result["exit_reason"]
    assert sim.positions("binance")["BTC"] == qty
    assert sim.positions("okx")["BTC"] == -qty
    listing = json.loads(hedgectl("history", "--json").stdout)
    assert [r["status"] for r in listing["runs"] if r["command"] == "carry"] == ["kept"]  # what --resume looks for
    assert hedgectl("flatten", "--all", "--yes").returncode == 0


def test_resume_honours_the_until_given_with_it(sim: Sim, isolated_env: Path, carries: list[Carry]) -> None:
    kept = start(carries, "--notional", "300", "--on-exit", "keep", *FAST)
    kept.wait(opened(kept))
    kept.proc.send_signal(signal.SIGINT)
    assert kept.finish() == 130, kept.err
    resumed = start(carries, "--resume", "--until", "0.3s", *FAST)
    assert resumed.finish(timeout=60) == 0, resumed.err  # it ends by itself, at its --until
    assert "--until" in resumed.result["exit_reason"]
    assert sim.all_flat()


def test_resume_refuses_a_pair_option_that_differs_from_the_journaled_pair(
    sim: Sim, isolated_env: Path, carries: list[Carry]
) -> None:
    kept = start(carries, "--notional", "300", "--on-exit", "keep", *FAST)
    kept.wait(opened(kept))
    kept.proc.send_signal(signal.SIGINT)
    assert kept.finish() == 130, kept.err
    orders = len(sim.requests("create_order"))
    refused = hedgectl("carry", "--resume", "--long", "aster", *FAST)
    assert refused.returncode == 2, refused.stderr
    assert "--long" in refused.stderr
    assert len(sim.requests("create_order")) == orders
    assert hedgectl("flatten", "--all", "--yes").returncode == 0


def test_the_terminal_shows_the_kept_lines_after_the_live_view(sim: Sim, isolated_env: Path) -> None:
    proc = spawn("carry", "--notional", "300", "--on-exit", "keep", *TEXT)
    try:
        eventually(lambda: sim.positions("okx").get("BTC", D(0)) != 0 and len(sim.requests("fetch_positions")) > 6)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "[kept]" in out
    assert out.rindex("liq. dist.") < out.index("[kept]")  # the live table ends above the final lines
    assert hedgectl("flatten", "--all", "--yes").returncode == 0


def test_the_pnl_table_is_rounded_with_a_total_row(sim: Sim, isolated_env: Path) -> None:
    done = hedgectl("carry", "--notional", "300", "--until", "0.3s", *TEXT)
    assert done.returncode == 0, done.stderr
    table = done.stdout[done.stdout.index("PnL (USDT)") :]
    rows = {line.split()[1]: line for line in table.splitlines() if line.startswith("│")}
    assert {"binance", "okx", "total"} <= set(rows)
    numbers = re.findall(r"-?\d+\.\d+", rows["total"])
    assert len(numbers) == 4
    assert all(len(n.split(".")[1]) == 4 for n in numbers)
    net = [D(re.findall(r"-?\d+\.\d+", rows[v])[-1]) for v in ("binance", "okx")]
    # Each figure is rounded on its own (the JSON keeps them exact): the total may differ from the sum of the
    # rounded nets by the rounding of the two legs, never more.
    assert abs(D(numbers[-1]) - sum(net)) <= D("0.0001")
