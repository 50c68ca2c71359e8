from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.quantity import NoCommonQuantity, accepts, common_quantity, refusal
from hedgectl.domain.rounding import common_step, floor_to_step
from hedgectl.domain.symbols import canonical_symbol
from hedgectl.domain.types import Market
from hedgectl.errors import UsageError


def _market(venue: str, step: str, min_qty: str, min_notional: str = "0", contract: str = "1") -> Market:
    return Market(venue=venue, symbol="BTC", venue_symbol="X", base="BTC", quote="USDT", tick_size=Decimal("0.1"),
                  step_size=Decimal(step), min_qty=Decimal(min_qty), min_notional=Decimal(min_notional),
                  contract_size=Decimal(contract))


BINANCE = _market("binance", "0.001", "0.001", "100")
OKX = _market("okx", "0.0001", "0.0001", contract="0.01")  # lotSz 0.01 contracts x ctVal 0.01


def test_seed_example_300_usdt_of_btc_at_96234() -> None:
    plan = common_quantity([BINANCE, OKX], Decimal(300), Decimal("96234.5"))
    assert plan.qty == Decimal("0.003")
    assert plan.notional <= 300


def test_no_common_quantity_says_why_with_numbers() -> None:
    with pytest.raises(NoCommonQuantity, match=r"smallest quantity all accept is 0\.002"):
        common_quantity([BINANCE, OKX], Decimal(100), Decimal("96000"))


def test_common_step_is_the_lcm_of_steps() -> None:
    assert common_step([Decimal("0.001"), Decimal("0.0001")]) == Decimal("0.001")
    assert common_step([Decimal("0.04"), Decimal("0.06")]) == Decimal("0.12")
    assert common_step([Decimal("1"), Decimal("0.1")]) == Decimal("1")


steps = st.sampled_from(["0.001", "0.0001", "0.01", "0.1", "1", "10", "0.005", "0.04"]).map(Decimal)


@given(
    step_a=steps,
    step_b=steps,
    min_notional=st.sampled_from(["0", "5", "100"]).map(Decimal),
    notional=st.decimals(min_value=1, max_value=100_000, places=2),
    price=st.decimals(min_value=Decimal("0.01"), max_value=200_000, places=2),
)
def test_common_quantity_is_accepted_by_both_and_never_exceeds_the_notional(
    step_a: Decimal, step_b: Decimal, min_notional: Decimal, notional: Decimal, price: Decimal
) -> None:
    a = _market("a", str(step_a), str(step_a), str(min_notional))
    b = _market("b", str(step_b), str(step_b))
    try:
        plan = common_quantity([a, b], notional, price)
    except NoCommonQuantity:
        # Then even one common step (or the minimums) would exceed the notional.
        smallest = common_step([step_a, step_b])
        assert smallest * price > notional or min_notional > notional or not accepts(a, smallest, price)
        return
    assert accepts(a, plan.qty, price)
    assert accepts(b, plan.qty, price)
    assert plan.qty * price <= notional
    # Largest: one more common step would exceed the notional.
    assert (plan.qty + plan.step) * price > notional


@given(value=st.decimals(min_value=0, max_value=10**9, places=8), step=steps)
def test_floor_to_step_never_rounds_up_and_lands_on_the_grid(value: Decimal, step: Decimal) -> None:
    rounded = floor_to_step(value, step)
    assert rounded <= value
    assert value - rounded < step
    assert rounded % step == 0


@pytest.mark.parametrize(
    ("text", "base"),
    [("BTC", "BTC"), ("btc/usdt", "BTC"), ("BTC/USDT:USDT", "BTC"), ("BTCUSDT", "BTC"), ("BTC-USDT-SWAP", "BTC"),
     ("ASTER_USDC_PERP", "ASTER"), ("aster", "ASTER"), ("ETHUSDC", "ETH")],
)
def test_symbols_users_type_map_to_the_base(text: str, base: str) -> None:
    assert canonical_symbol(text) == base


@pytest.mark.parametrize("text", ["", "  ", "BTC USDT", "B$C", "../etc"])
def test_bad_symbols_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        canonical_symbol(text)


def test_recent_client_ids_stay_bounded_and_keep_the_newest() -> None:
    from hedgectl.domain.ids import RecentClientIds

    ids = RecentClientIds(limit=3)
    for n in range(10):
        ids[n] = f"hc{n}"
    assert list(ids) == [7, 8, 9]
    ids[7] = "hc7"  # touched again: now the newest
    ids[10] = "hc10"
    assert list(ids) == [9, 7, 10]


@pytest.mark.parametrize(
    ("qty", "market_order", "reason"),
    [
        ("1000000000000", False, "above an order's max qty 1000"),
        ("500", True, "above a market order's max qty 100"),
        ("0.05", False, "below the min qty 0.1"),
        ("0.15", False, "not a multiple of the step 0.1"),
        ("0.2", False, "below the min notional 5"),
        ("0", False, "a quantity must be above 0"),
    ],
)
def test_a_refused_quantity_names_the_rule_it_breaks(qty: str, market_order: bool, reason: str) -> None:
    market = dataclasses.replace(
        _market("backpack", "0.1", "0.1", min_notional="5"), max_qty=Decimal(1000), max_market_qty=Decimal(100)
    )
    found = refusal(market, Decimal(qty), Decimal(1), market_order=market_order)
    assert found is not None
    assert found.startswith(reason)
    assert not accepts(market, Decimal(qty), Decimal(1), market_order=market_order)


@given(st.integers(min_value=1, max_value=10**6))
def test_a_quantity_is_refused_exactly_when_a_reason_is_given(tenths: int) -> None:
    market = dataclasses.replace(_market("aster", "0.1", "0.1", min_notional="5"), max_qty=Decimal(1000))
    qty = Decimal(tenths) / 10
    assert accepts(market, qty, Decimal(1)) is (refusal(market, qty, Decimal(1)) is None)
    assert accepts(market, qty, Decimal(1)) is (Decimal(5) <= qty <= 1000)
