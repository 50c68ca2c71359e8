"""Sums over USDC- and USDT-settled venues: converted at a stated rate, in one shared place."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from hedgectl.domain.pnl import conversion_note, hold_mark, sum_in_report_asset
from hedgectl.domain.types import Side
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
