"""Sums over USDC- and USDT-settled venues: converted at a stated rate, in one shared place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.pnl import conversion_note, hold_mark, net_with_later_funding, sum_in_report_asset
from hedgectl.domain.types import FundingPayment, Side
from hedgectl.engine.maker_taker.stats import LoopStats


def test_usdc_is_converted_at_the_stated_rate_and_an_unknown_asset_is_refused() -> None:
    assert sum_in_report_asset([(D("1.5"), "USDC"), (D("2"), "USDT")]) == D("3.5")
    assert conversion_note(["USDT", "USDC"]) == "USDC converted at 1 USDC = 1 USDT"
    assert conversion_note(["USDT"]) is None
    with pytest.raises(ValueError, match="EUR"):
        sum_in_report_asset([(D(1), "EUR")])


def test_loop_stats_say_how_the_venues_assets_were_summed() -> None:
    stats = LoopStats(maker_venue="backpack", taker_venue="aster", maker_asset="USDC", taker_asset="USDT")
    stats.maker.add(Side.SELL, D(10), D("1.5"), D("0.003"))
    stats.taker.add(Side.BUY, D(10), D("1.4"), D("0.007"))
    snap = stats.snapshot()
    assert snap.net_pnl == -(D("0.003") + D("0.007"))  # each leg held at its last price: only the fees
    assert snap.fee_assets == {"backpack": "USDC", "aster": "USDT"}
    assert snap.pnl_conversion == "USDC converted at 1 USDC = 1 USDT"


def test_hold_mark_sums_fees_in_usdt_and_says_so() -> None:
    mark = hold_mark(
        {"backpack": (D("0.003"), D(95000), D("0.1425")), "aster": (D("-0.003"), D(95010), D("0.14"))},
        {"backpack": D(95100), "aster": D(95100)},
        {"backpack": "USDC", "aster": "USDT"},
    )
    assert mark.upnl == {"backpack": D("0.3"), "aster": D("-0.27")}
    assert mark.fees_paid == D("0.2825")
    assert mark.conversion == "USDC converted at 1 USDC = 1 USDT"
    assert mark.net == D("0.03") - D("0.2825") - mark.est_close_fees


_END = datetime(2026, 12, 1, 8, tzinfo=UTC)
_amounts = st.decimals(min_value=-1000, max_value=1000, places=6, allow_nan=False, allow_infinity=False)
_payments = st.lists(
    st.tuples(st.integers(-3600, 3600), st.sampled_from(["USDT", "USDC"]), _amounts),
    max_size=8,
    unique_by=lambda p: p[0],
)


@given(_amounts, _payments)
def test_a_runs_net_adds_exactly_the_funding_settled_after_it_ended(
    recorded: D, rows: list[tuple[int, str, D]]
) -> None:
    payments = [
        FundingPayment(venue="okx", symbol="BTC", payment_id=str(n), at=_END + timedelta(seconds=s), asset=a, amount=x)
        for n, (s, a, x) in enumerate(rows)
    ]
    net, later = net_with_later_funding(recorded, _END, payments)
    after = [(x, a) for s, a, x in rows if s > 0]
    assert net == recorded + sum((x for x, _ in after), D(0))  # USDC at par
    assert later == {a: sum(x for x, b in after if b == a) for _, a in after}
    assert net_with_later_funding(None, _END, payments) == (None, later)


def test_funding_in_an_asset_without_a_stated_rate_leaves_the_net_unknown() -> None:
    odd = FundingPayment(venue="x", symbol="BTC", payment_id="1", at=_END + timedelta(1), asset="EUR", amount=D(1))
    assert net_with_later_funding(D(1), _END, [odd]) == (None, {"EUR": D(1)})
