"""The plan's expected prices come from the book being traded, and lie within the bid/ask the plan shows."""

from __future__ import annotations

from decimal import Decimal

from hedgectl.engine.bootstrap.plan import HedgeConfig, plan_hedge
from tests.engine.fakes import FakeVenue


async def test_expected_prices_lie_within_the_shown_book_when_the_quote_read_saw_other_prices() -> None:
    # The quote reads see mids 0.02 away from the books (the price moved between the two reads).
    long = FakeVenue("backpack", price=Decimal("1.2000"), stale_quotes=[Decimal("1.1800")])
    short = FakeVenue("aster", price=Decimal("1.2000"), stale_quotes=[Decimal("1.2200")])
    config = HedgeConfig(symbol="ASTER", notional_usdt=Decimal(30), max_slippage_bps=Decimal(500))

    plan, _ = await plan_hedge(long, short, config)  # type: ignore[arg-type]

    assert plan.long.quote.ask == long.ask == plan.long.expected_price  # a buy walks the asks it shows
    assert plan.short.quote.bid == short.bid == plan.short.expected_price  # a sell walks the bids it shows
    for leg in plan.legs:
        assert leg.quote.bid <= leg.expected_price <= leg.quote.ask
    assert plan.reference_price == max(long.ask, short.bid)
    assert plan.cross_spread_bps == 0  # both books have the same mid; the stale quotes did not
