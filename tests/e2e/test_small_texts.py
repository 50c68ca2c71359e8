"""Small texts through the real CLI against the simulator: what an interrupted entry with no fill prints, the
flatten caption's signed rule, the connect table's clock skew."""

from __future__ import annotations

import signal
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.cli.connect_cmd import _skew
from hedgectl.domain.types import Side
from tests.e2e.conftest import Sim, eventually, hedgectl, spawn
from tests.e2e.test_flatten import _open_positions

pytestmark = pytest.mark.e2e


def test_an_entry_interrupted_before_any_fill_prints_no_fill_tables_and_no_close_phase(sim: Sim) -> None:
    sim.post("/_sim/clock", {"frozen": True})  # the post-only order rests, unfilled
    proc = spawn(
        "bootstrap", "--long", "okx", "--short", "backpack", "--symbol", "BTC", "--notional", "300", "--hold", "0",
        "--entry", "maker-first", "--maker-timeout", "60", "--yes",
    )  # fmt: skip
    try:
        eventually(lambda: len(sim.state()["okx"]["open_orders"]) == 1, timeout=30)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "interrupted" in out
    assert "order id" not in out  # neither the Opened nor the Closed table
    assert "close phase" not in out
    assert "skew:" not in out  # no skew shown, none explained
    assert sim.all_flat()


async def test_the_flatten_caption_gives_the_rule_for_both_sides(sim: Sim) -> None:
    await _open_positions({"okx": Side.SELL})
    sim.post("/_sim/clock", {"frozen": True})
    proc = hedgectl("flatten", "--venue", "okx", "--yes")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "cost vs mark = (mark - fill) x q + fee" in text
    assert "- closing a short (a buy)" in text
    assert "+ closing a long (a sell)" in text


@given(st.floats(min_value=-5000, max_value=5000, allow_nan=False))
def test_a_clock_skew_is_whole_ms_and_never_minus_zero(ms: float) -> None:
    shown = _skew(ms)
    assert shown is not None
    assert shown != "-0"
    assert Decimal(shown) == round(ms)
    assert shown == "0" or shown[0] in "+-"
