"""The hold line's close-fee estimate: at the close's own rate (a market close: the taker rate), not at the rate
the opening fills happened to pay."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.pnl import hold_mark

_qty = st.decimals(min_value=D("0.001"), max_value=D(10), places=3)
_price = st.decimals(min_value=D(1), max_value=D(200000), places=2)
_rate = st.decimals(min_value=D(0), max_value=D("0.002"), places=5)


@given(_qty, _price, _price, _rate, _rate)
def test_the_close_is_estimated_at_the_given_rate_whatever_the_open_paid(
    qty: D, entry: D, mark: D, open_rate: D, close_rate: D
) -> None:
    paid = qty * entry * open_rate
    held = {"okx": (qty, entry, paid), "binance": (-qty, entry, paid)}
    marks = {"okx": mark, "binance": mark}
    estimated = hold_mark(held, marks, close_rates={"okx": close_rate, "binance": close_rate})
    assert estimated.est_close_fees == 2 * qty * mark * close_rate
    assert estimated.net == sum(estimated.upnl.values()) - 2 * paid - 2 * qty * mark * close_rate
    # Without a close rate the opening fills' rate stands (the old estimate, kept for callers that know no rate).
    assert hold_mark(held, marks).est_close_fees == 2 * qty * mark * paid / (qty * entry)
