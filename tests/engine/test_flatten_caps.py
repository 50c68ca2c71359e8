"""flatten closes a position larger than the venue's market-order cap in several orders, each within the cap."""

from __future__ import annotations

from decimal import Decimal

from hedgectl.domain.types import Market, OrderType
from hedgectl.engine.flatten import close_quantities, flatten
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.journal import Journal
from tests.engine.fakes import FakeVenue

D = Decimal


def _market(cap: str | None) -> Market:
    return Market("okx", "BTC", "BTC-USDT-SWAP", "BTC", "USDT", D("0.1"), D("0.01"), D("0.01"),
                  max_market_qty=None if cap is None else D(cap))  # fmt: skip


def test_close_quantities_cut_at_the_cap_in_whole_steps() -> None:
    assert close_quantities(D("250.5"), _market("120")) == [D(120), D(120), D("10.5")]
    assert close_quantities(D("240"), _market("120")) == [D(120), D(120)]
    assert close_quantities(D("5"), _market("120")) == [D(5)]
    assert close_quantities(D("250.5"), _market(None)) == [D("250.5")]
    assert close_quantities(D("1"), _market("0.405")) == [D("0.4"), D("0.4"), D("0.2")]


async def test_flatten_closes_an_over_cap_position_in_parts_each_journaled(journal: Journal) -> None:
    venue = FakeVenue("okx", max_market_qty=D("1.0"), position=D("-2.5"))
    run_id = journal.start_run("flatten", "paper")
    report = await flatten([venue], Dispatcher(journal, run_id), retry_delay_s=0)
    assert venue.position == 0
    sent = [o.request for o in venue.orders.values()]
    assert [r.qty for r in sent] == [D("1.0"), D("1.0"), D("0.5")]
    assert all(r.type is OrderType.MARKET and r.reduce_only for r in sent)
    assert len(journal.orders(run_id)) == 3
    assert report.venues[0].positions_after == []
