"""Maker-first entry parts: which venue rests the post-only order, and the fee saving's arithmetic."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.types import Fill, Order, OrderStatus, OrderType, Side
from hedgectl.engine.hedge_settle import LegOutcome
from hedgectl.engine.maker_first import EntryReport

D = Decimal
amounts = st.decimals(min_value=D("0.001"), max_value=D(100), places=3)
prices = st.decimals(min_value=D("0.01"), max_value=D(100000), places=2)


def _leg(venue: str, kind: OrderType, fills: list[tuple[Decimal, Decimal, Decimal]]) -> LegOutcome:
    qty = sum((q for q, _, _ in fills), D(0))
    order = Order(venue, "BTC", f"{venue}-{kind}", None, Side.BUY, kind, OrderStatus.FILLED, qty, qty)
    return LegOutcome(
        venue=venue,
        side=Side.BUY,
        order=order,
        fills=[
            Fill(venue, "BTC", order.order_id, f"t{i}", Side.BUY, q, p, fee, "USDT")
            for i, (q, p, fee) in enumerate(fills)
        ],
    )


def _report(rate: Decimal) -> EntryReport:
    return EntryReport(
        maker="okx",
        taker="aster",
        maker_side=Side.BUY,
        timeout_s=30,
        taker_rates={"okx": rate, "aster": D("0.00035")},
        rate_sources={"okx": "default", "aster": "default"},
        assets={"okx": "USDT", "aster": "USDC"},
    )


@given(
    st.lists(st.tuples(amounts, prices, amounts), min_size=1, max_size=5),
    st.lists(st.tuples(amounts, prices, amounts), max_size=5),
    st.decimals(min_value=D(0), max_value=D("0.01"), places=5),
)
def test_the_saving_is_each_maker_fill_at_the_taker_rate_less_the_fee_it_paid(
    maker_fills: list[tuple[Decimal, Decimal, Decimal]], taken: list[tuple[Decimal, Decimal, Decimal]], rate: Decimal
) -> None:
    report = _report(rate)
    legs = [_leg("okx", OrderType.LIMIT, maker_fills)]
    if taken:
        legs += [_leg("okx", OrderType.MARKET, taken), _leg("aster", OrderType.MARKET, taken)]
    report.account(legs)
    expected = sum((q * p * rate - fee for q, p, fee in maker_fills), D(0))
    assert report.saving["okx"] == expected
    assert report.saving["aster"] == 0  # taken orders paid the taker fee: nothing saved, nothing lost
    assert report.fees["okx"] == sum((fee for _, _, fee in maker_fills + taken), D(0))
    assert report.saving_total == expected  # USDC counted at par; aster's saving is 0 anyway
