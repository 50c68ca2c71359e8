"""The abort's account of what is open, from the journal's order rows alone."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hedgectl.cli.exposure_note import describe_open, journal_open
from hedgectl.journal import OrderRow


def _row(cid: str, venue: str, side: str, qty: str, *, state: str = "acked", status: str | None = "filled",
         filled: str | None = None, reduce_only: bool = False) -> OrderRow:  # fmt: skip
    return OrderRow(
        client_order_id=cid, run_id="r", venue=venue, symbol="BTC", side=side, type="market", qty=qty, price=None,
        reduce_only=reduce_only, intent="open", state=state, venue_order_id="1", status=status,
        filled_qty=qty if filled is None and status == "filled" else filled, avg_price=None, fee=None, error=None,
        created_at="", acked_at=None, updated_at="",
    )  # fmt: skip


def test_filled_legs_are_named_with_their_signed_quantities() -> None:
    rows = [_row("a", "binance", "buy", "0.003"), _row("b", "okx", "sell", "0.0030")]
    assert describe_open(rows) == "open per the journal: binance BTC +0.003, okx BTC -0.003"


def test_an_order_of_unknown_outcome_is_named_by_its_client_order_id() -> None:
    rows = [
        _row("a", "binance", "buy", "0.003"),
        _row("b", "binance", "sell", "0.003", state="intent", status=None, reduce_only=True),
    ]
    assert describe_open(rows) == (
        "open per the journal: binance BTC +0.003; may be open: orders whose outcome is not known yet (each may "
        "have filled): binance sell 0.003 BTC (a close, client order id b)"
    )


def test_a_refused_order_counts_for_nothing_and_a_closed_pair_is_nothing_open() -> None:
    rows = [
        _row("a", "okx", "sell", "0.003"),
        _row("b", "okx", "buy", "0.003", state="failed", status=None),
        _row("c", "okx", "buy", "0.003", reduce_only=True),
    ]
    assert describe_open(rows) is None


def test_a_flatten_never_says_nothing_is_open() -> None:
    assert describe_open([], flattening=True) == "positions the flatten had not closed yet may remain open"


@given(st.lists(st.tuples(st.sampled_from(["binance", "okx"]), st.sampled_from(["buy", "sell"]),
                          st.decimals(min_value=Decimal("0.001"), max_value=100, places=3))))  # fmt: skip
def test_the_net_is_the_signed_sum_of_the_fills(legs: list[tuple[str, str, Decimal]]) -> None:
    rows = [_row(str(i), v, side, str(q)) for i, (v, side, q) in enumerate(legs)]
    known = journal_open(rows)
    for venue in ("binance", "okx"):
        expected = sum((q if side == "buy" else -q for v, side, q in legs if v == venue), Decimal(0))
        assert known.net.get((venue, "BTC"), Decimal(0)) == expected
    assert (describe_open(rows) is None) == all(q == 0 for q in known.net.values())
