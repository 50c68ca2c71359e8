"""Realised PnL lot by lot (domain/lots.py): the cash flow when the trades open and close the whole leg, and
never a profit made of a close whose open is not in the list (or the other way round)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.lots import Trade, realise

D = Decimal
prices = st.decimals(min_value=D("0.01"), max_value=D(200_000), places=2)
sizes = st.decimals(min_value=D("0.001"), max_value=D(100), places=3)
signed = st.tuples(st.sampled_from((1, -1)), sizes).map(lambda t: t[0] * t[1])


@given(st.lists(st.tuples(signed, prices), min_size=1, max_size=12), prices)
def test_trades_that_end_flat_realise_exactly_their_cash_flow(
    rows: list[tuple[Decimal, Decimal]], last: Decimal
) -> None:
    trades = [Trade(qty, price) for qty, price in rows]
    held = sum((t.qty for t in trades), D(0))
    if held:
        trades.append(Trade(-held, last))  # the close of whatever is left
    realised = realise(trades)
    assert realised.gross == -sum((t.qty * t.price for t in trades if t.price is not None), D(0))
    assert realised.uncounted_qty == 0
    assert realised.open_qty == 0


@given(sizes, prices, prices, prices)
def test_a_leg_closed_outside_and_reopened_realises_only_what_it_opened_and_closed_itself(
    qty: Decimal, opened: Decimal, reopened: Decimal, closed: Decimal
) -> None:
    # The carry's short, closed by a trade it did not make, re-hedged with a new short, closed by the carry.
    realised = realise([Trade(-qty, opened), Trade(qty, None), Trade(-qty, reopened), Trade(qty, closed)])
    assert realised.gross == qty * (reopened - closed)
    assert realised.uncounted_qty == qty
    assert realised.open_qty == 0


@given(sizes, prices, prices)
def test_a_close_without_its_open_is_unmatched_never_a_profit(qty: Decimal, opened: Decimal, closed: Decimal) -> None:
    # What a cash-flow sum gets wrong: two sells and one buy in the list (the other buy was someone else's).
    realised = realise([Trade(-qty, opened), Trade(-qty, opened), Trade(qty, closed)])
    assert realised.gross == qty * (opened - closed)
    assert realised.open_qty == -qty  # the part whose close is not in the list: left open, not counted


@given(sizes, prices, prices)
def test_a_position_taken_over_without_a_price_closes_uncounted(qty: Decimal, opened: Decimal, closed: Decimal) -> None:
    assert realise([Trade(qty, None), Trade(-qty, closed)]).uncounted_qty == qty
    assert realise([Trade(qty, opened), Trade(-qty, closed)]).gross == qty * (closed - opened)
