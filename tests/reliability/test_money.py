"""Money math: PnL is the sum over fills; the common quantity fits both venues' rules and the notional.

tests/test_quantity.py covers steps and min notional with min qty = step; this adds a min qty above the
step and a max qty (the rules the venues' markets really carry). The fault matrix checks the other end:
the PnL bootstrap reports equals the money that moved on each simulated account.
"""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.pnl import leg_pnl
from hedgectl.domain.quantity import NoCommonQuantity, accepts, common_quantity
from hedgectl.domain.types import Fill, Market, Side

prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(200_000), places=4)
sizes = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(1000), places=3)
fees = st.decimals(min_value=Decimal(-1), max_value=Decimal(10), places=8)


def _fill(side: Side, qty: Decimal, price: Decimal, fee: Decimal, n: int) -> Fill:
    return Fill(venue="okx", symbol="BTC", order_id=f"o{n}", trade_id=f"t{n}", side=side, qty=qty, price=price,
                fee=fee, fee_asset="USDT")


@given(st.lists(st.tuples(st.sampled_from(Side), sizes, prices, fees), max_size=12))
def test_pnl_is_the_cash_flow_of_the_fills_and_fees_their_sum(
    rows: list[tuple[Side, Decimal, Decimal, Decimal]],
) -> None:
    fills = [_fill(side, qty, price, fee, n) for n, (side, qty, price, fee) in enumerate(rows)]
    pnl = leg_pnl(fills)
    assert pnl.gross == sum((f.qty * f.price * (1 if f.side is Side.SELL else -1) for f in fills), Decimal(0))
    assert pnl.fees == sum((f.fee for f in fills), Decimal(0))
    assert pnl.net == pnl.gross - pnl.fees


@given(
    trades=st.lists(st.tuples(sizes, prices, prices), min_size=1, max_size=6),
    side=st.sampled_from(Side),
    shuffle=st.randoms(use_true_random=False),
)
def test_a_round_trip_pnl_is_the_price_move_times_the_size(
    trades: list[tuple[Decimal, Decimal, Decimal]], side: Side, shuffle: random.Random
) -> None:
    """Open in several fills, close the same pieces at other prices, in any order: gross = sign x sum of
    size x (exit - entry), exactly (Decimal, no float anywhere)."""
    fills = [_fill(side, q, entry, Decimal(0), n) for n, (q, entry, _) in enumerate(trades)]
    fills += [_fill(side.opposite, q, exit_, Decimal(0), 100 + n) for n, (q, _, exit_) in enumerate(trades)]
    shuffle.shuffle(fills)
    sign = 1 if side is Side.BUY else -1
    assert leg_pnl(fills).gross == sign * sum((q * (exit_ - entry) for q, entry, exit_ in trades), Decimal(0))


steps = st.sampled_from(["0.001", "0.01", "0.1", "1", "0.005"]).map(Decimal)


def _market(venue: str, step: Decimal, min_steps: int, max_steps: int | None, min_notional: Decimal) -> Market:
    return Market(venue=venue, symbol="BTC", venue_symbol="X", base="BTC", quote="USDT", tick_size=Decimal("0.1"),
                  step_size=step, min_qty=step * min_steps, min_notional=min_notional,
                  max_qty=None if max_steps is None else step * max_steps)


@given(
    step_a=steps, step_b=steps,
    min_a=st.integers(1, 50), min_b=st.integers(1, 50),
    max_a=st.one_of(st.none(), st.integers(50, 10**6)), max_b=st.one_of(st.none(), st.integers(50, 10**6)),
    min_notional=st.sampled_from(["0", "5", "100"]).map(Decimal),
    notional=st.decimals(min_value=1, max_value=1_000_000, places=2),
    price=st.decimals(min_value=Decimal("0.01"), max_value=200_000, places=2),
)
def test_the_common_quantity_honours_min_and_max_quantities_too(
    step_a: Decimal, step_b: Decimal, min_a: int, min_b: int, max_a: int | None, max_b: int | None,
    min_notional: Decimal, notional: Decimal, price: Decimal,
) -> None:
    a = _market("a", step_a, min_a, max_a, min_notional)
    b = _market("b", step_b, min_b, max_b, Decimal(0))
    try:
        plan = common_quantity([a, b], notional, price)
    except NoCommonQuantity:
        return
    assert accepts(a, plan.qty, price)
    assert accepts(b, plan.qty, price)
    assert plan.qty * price <= notional
    assert plan.notional == plan.qty * price


@given(
    qty=sizes,
    maker_prices=st.tuples(prices, prices),
    taker_prices=st.tuples(prices, prices),
    fee_rows=st.tuples(fees, fees, fees, fees),
    funding=st.tuples(fees, fees),
)
def test_cost_per_10k_of_a_flat_maker_taker_cycle_is_minus_its_net_pnl_per_10k(
    qty: Decimal,
    maker_prices: tuple[Decimal, Decimal],
    taker_prices: tuple[Decimal, Decimal],
    fee_rows: tuple[Decimal, Decimal, Decimal, Decimal],
    funding: tuple[Decimal, Decimal],
) -> None:
    from hedgectl.domain.pnl import cost_per_10k
    from hedgectl.engine.maker_taker_stats import LoopStats

    # Leg 1: the maker sells, the taker buys; leg 2: the maker buys back, the taker sells. Flat at the end.
    stats = LoopStats(maker_venue="backpack", taker_venue="aster")
    (m_sell, m_buy), (t_buy, t_sell) = maker_prices, taker_prices
    stats.maker.add(Side.SELL, qty, m_sell, fee_rows[0])
    stats.taker.add(Side.BUY, qty, t_buy, fee_rows[1])
    stats.add_slippage(Side.BUY, qty, t_buy, m_sell)
    stats.maker.add(Side.BUY, qty, m_buy, fee_rows[2])
    stats.taker.add(Side.SELL, qty, t_sell, fee_rows[3])
    stats.add_slippage(Side.SELL, qty, t_sell, m_buy)
    stats.set_funding("backpack", funding[0])
    stats.set_funding("aster", funding[1])
    snap = stats.snapshot()
    volume = snap.maker_volume + snap.taker_volume
    expected = cost_per_10k(sum(fee_rows, Decimal(0)), sum(funding, Decimal(0)), snap.slippage, volume)
    assert expected is not None
    assert snap.cost_per_10k == expected.quantize(Decimal("0.0001"))
    assert (-snap.net_pnl / volume * 10_000).quantize(Decimal("0.0001")) == snap.cost_per_10k
