"""Bootstrap's figures against the simulator's own books: the hold line, the notional base, latency fields."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hedgectl.cli.bootstrap_view import hold_line
from hedgectl.domain.pnl import HoldMark
from hedgectl.engine.bootstrap.plan import HedgePlan
from tests.e2e.bootstrap_rig import VENUES, Recorder, account, cycle_rig
from tests.e2e.conftest import Sim, hedgectl

pytestmark = pytest.mark.e2e


class _StateAtTick(Recorder):
    """Records, with each hold tick, the simulator's state at that moment."""

    def __init__(self, sim: Sim) -> None:
        super().__init__()
        self.sim = sim
        self.states: list[dict[str, Any]] = []

    def hold_tick(self, remaining_s: float, mark: HoldMark) -> None:
        super().hold_tick(remaining_s, mark)
        self.states.append(self.sim.state())


async def test_hold_line_values_the_legs_at_the_marks_net_of_fees_paid_and_estimated_closing_fees(
    sim: Sim, isolated_env: Path
) -> None:
    async def confirm(plan: HedgePlan) -> bool:
        sim.post("/_sim/clock", {"frozen": True})  # the marks stand still from here: exact comparison
        return True

    before = account(sim)
    async with cycle_rig(sim, isolated_env) as rig:
        rig.reporter = reporter = _StateAtTick(sim)
        result = await rig.run(hold_s=0.6, confirm=confirm)
    assert result.ok, result.error
    # The estimated closing fees are shown, not counted by the loss guard (alone they reach 0.2 % of notional).
    assert not result.closed_early, result.warnings
    assert len(reporter.marks) >= 2
    mark, state = reporter.marks[0], reporter.states[0]
    est_close = Decimal(0)
    for venue in VENUES:
        [pos] = state[venue]["positions"]
        qty, entry, price = Decimal(pos["qty"]), Decimal(pos["entry_price"]), Decimal(pos["mark_price"])
        assert mark.upnl[venue] == (price - entry) * qty
        paid = Decimal(state[venue]["fees_paid"]) - before[venue][1]
        est_close += abs(qty) * price * paid / (abs(qty) * entry)
    assert mark.fees_paid == sum(Decimal(state[v]["fees_paid"]) - before[v][1] for v in VENUES)
    assert mark.est_close_fees == est_close > 0
    assert mark.net == sum(mark.upnl.values()) - mark.fees_paid - est_close
    text = hold_line(1.0, mark)
    assert f"net if closed {mark.net:+.4f}" in text
    assert f"est. close fees {est_close:.4f}" in text


def _numbers(doc: Any, key: str | None = None) -> set[str | None]:
    """The keys whose values are JSON numbers, anywhere in the document."""
    if isinstance(doc, dict):
        return set().union(*(_numbers(v, k) for k, v in doc.items()))
    if isinstance(doc, list):
        return set().union(*(_numbers(v, key) for v in doc))
    return {key} if isinstance(doc, int | float) and not isinstance(doc, bool) else set()


def test_net_bps_is_taken_on_the_opened_notional_and_latency_fields_are_named_with_units(sim: Sim) -> None:
    proc = hedgectl("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "0", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    opened = Decimal(0)
    for venue in VENUES:
        leg = doc["legs"][venue]["open"]
        opened += Decimal(leg["qty"]) * Decimal(leg["avg_price"])
        assert leg["ack_ms"] > 0
        assert leg["fill_ms"] > 0
        assert "latency_ms" not in leg
    assert Decimal(doc["notional_opened"]) == opened / 2
    assert doc["notional_target"] == "300"  # money is a string, as every other amount in the document
    assert _numbers(doc) == {"ack_ms", "fill_ms", "open_phase", "close_phase", "open_skew", "exit_code"}
    assert doc["pnl"]["bps_base"] == "notional_opened"
    net = Decimal(doc["pnl"]["net"])
    assert Decimal(doc["pnl"]["net_bps"]) == (net / (opened / 2) * 10_000).quantize(Decimal("0.01"))
    assert set(doc["latency_ms"]) == {"open_phase", "close_phase", "open_skew"}
    assert doc["latency_ms"]["open_phase"] > 0


def test_screen_names_the_bps_base_and_defines_every_latency(sim: Sim) -> None:
    proc = hedgectl("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "0")
    assert proc.returncode == 0, proc.stderr
    assert "target notional 300 USDT per leg" in proc.stdout
    assert "opened per leg)" in proc.stdout
    assert "ack ms: request sent -> acknowledged; fill ms: request sent -> fully filled known" in proc.stdout
    assert "phase: both orders built -> both acknowledged" in proc.stdout


def test_usdc_and_usdt_legs_are_summed_at_a_stated_rate_and_reconcile_with_the_simulator(sim: Sim) -> None:
    def money() -> dict[str, tuple[str, Decimal, Decimal]]:
        state = sim.state()
        return {
            v: (asset, Decimal(bal), Decimal(state[v]["fees_paid"]))
            for v in ("backpack", "aster")
            for asset, bal in state[v]["balances"].items()
        }

    before = money()
    proc = hedgectl(
        "bootstrap", "--long", "backpack", "--short", "aster", "--notional", "300", "--max-slippage-bps", "50",
        "--hold", "0", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    after = money()
    pnl = doc["pnl"]
    for venue, asset in (("backpack", "USDC"), ("aster", "USDT")):
        assert pnl[venue]["asset"] == after[venue][0] == asset
        assert Decimal(pnl[venue]["fees"]) == after[venue][2] - before[venue][2]
        assert Decimal(pnl[venue]["net"]) == after[venue][1] - before[venue][1]
    assert pnl["asset"] == "USDT"
    assert pnl["conversion"] == "USDC converted at 1 USDC = 1 USDT"
    assert Decimal(pnl["fees"]) == Decimal(pnl["backpack"]["fees"]) + Decimal(pnl["aster"]["fees"])
    assert Decimal(pnl["net"]) == sum(after[v][1] - before[v][1] for v in ("backpack", "aster"))


def test_on_a_terminal_a_usdc_usdt_pairs_hold_line_stays_one_line_of_140_and_says_the_conversion_once(
    sim: Sim,
) -> None:
    from tests.e2e.test_bp_aster_loop import Terminal

    term = Terminal(
        "bootstrap", "--symbol", "ASTER", "--long", "backpack", "--short", "aster", "--notional", "100",
        "--hold", "1.5", "--max-slippage-bps", "50",
    )  # fmt: skip
    assert term.finish() == 0, term.text[-3000:]
    raw = b"".join(term._chunks).decode("utf-8", errors="replace")
    hold = raw[raw.index("Holding for") : raw.index("latency:")]
    assert "\x1b[1A" not in hold  # never redrawn over two lines (a wrapped live line moves the cursor up)
    frames = [Terminal.ANSI.sub("", f) for f in re.split(r"\r|\n", hold) if "s left" in f]
    assert frames, term.text[-3000:]
    for frame in frames:
        assert len(frame) <= 140, frame
        assert re.search(r"net if closed [+-]\d+\.\d{4} USDT$", frame), frame
    assert term.text.count("uPnL, fees and net in USDT: USDC converted at 1 USDC = 1 USDT") == 1
