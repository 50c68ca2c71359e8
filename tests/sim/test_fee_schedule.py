"""Paper fees: the venues' published base tier by default, HEDGECTL_SIM_FEES (venue=maker/taker) to change it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hedgectl.sim.core import Simulator
from hedgectl.sim.instruments import FEES, parse_fees
from hedgectl.sim.model import OrderRequest, OrderType, Side
from tests.e2e.conftest import hedgectl

D = Decimal


def _market_buy_fee(sim: Simulator, venue: str, symbol: str) -> tuple[Decimal, Decimal]:
    order = sim.engine.place_order(venue, OrderRequest(symbol, Side.BUY, OrderType.MARKET, D(1)))
    return order.fee, order.filled_quote


def test_fills_pay_the_published_taker_fee_by_default() -> None:
    sim = Simulator(1, frozen=True)
    fee, quote = _market_buy_fee(sim, "aster", "SOLUSDT")
    assert fee == (quote * FEES["aster"][1]).quantize(D("1e-8"))
    assert fee > 0


def test_a_fee_override_applies_to_that_venue_only() -> None:
    sim = Simulator(1, frozen=True, fees=parse_fees("aster=0.0001/0.001"))
    fee, quote = _market_buy_fee(sim, "aster", "SOLUSDT")
    assert fee == (quote * D("0.001")).quantize(D("1e-8"))
    other, other_quote = _market_buy_fee(sim, "okx", "SOL-USDT-SWAP")
    assert other == other_quote * FEES["okx"][1]


def test_fee_settings_read_as_given() -> None:
    assert parse_fees(None) == {}
    assert parse_fees(" Aster=0.0001/0.00035 , backpack=-0.0001/0.0004") == {
        "aster": (D("0.0001"), D("0.00035")),
        "backpack": (D("-0.0001"), D("0.0004")),
    }


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("kraken=0.1/0.2", "unknown venue"),
        ("aster=cheap", "write maker/taker as fractions"),
        ("aster=0.0002/5", "rates are fractions"),
        ("aster=0.0002/-0.1", "rates are fractions"),
    ],
)
def test_a_bad_fee_setting_says_why(raw: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_fees(raw)


def test_a_bad_fee_setting_stops_a_paper_command_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGECTL_SIM_FEES", "aster=free")
    proc = hedgectl("prices", "-s", "ASTER")
    assert proc.returncode == 2, proc.stderr
    assert "HEDGECTL_SIM_FEES: aster: write maker/taker" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
