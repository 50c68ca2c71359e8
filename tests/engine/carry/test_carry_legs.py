"""A carry's legs as its journal knows them (engine/carry/legs.py): the order of its trades, and when an outside
change of a leg may be judged (never while one of the carry's own orders or fills is still on its way)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hedgectl.domain.lots import Trade, realise
from hedgectl.domain.types import Fill, Order, OrderRequest, OrderStatus, OrderType, Side
from hedgectl.engine.carry.legs import leg_books, orders_settled
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.journal import Journal

D = Decimal


def _fill(order_id: str, side: Side, qty: str, price: str, n: int) -> Fill:
    return Fill(venue="okx", symbol="BTC", order_id=order_id, trade_id=f"t{n}", side=side, qty=D(qty),
                price=D(price), fee=D("0.1"), fee_asset="USDT")  # fmt: skip


def test_an_outside_close_sits_between_the_fills_it_came_between(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    run = journal.start_run("carry", "paper")
    dispatcher = Dispatcher(journal, run)
    dispatcher.journal_fills([_fill("o1", Side.SELL, "0.003", "95000", 1)])
    dispatcher.event("carry.outside", {"venue": "okx", "qty": "0.003", "after_fills": 1})
    dispatcher.journal_fills([_fill("o2", Side.SELL, "0.003", "96000", 2), _fill("o3", Side.BUY, "0.003", "95500", 3)])
    [book] = leg_books(journal, [run], ["okx"], "BTC").values()
    assert book.trades() == [
        Trade(D("-0.003"), D(95000)),
        Trade(D("0.003"), None),
        Trade(D("-0.003"), D(96000)),
        Trade(D("0.003"), D(95500)),
    ]
    assert book.qty == 0
    realised = realise(book.trades())
    assert realised.gross == D("0.003") * (96000 - 95500)  # the re-hedge's short, closed by the carry
    assert realised.uncounted_qty == D("0.003")  # the first short, closed outside
    journal.close()


def test_an_outside_change_is_not_judged_while_an_order_of_the_carry_is_unfinished(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite")
    run = journal.start_run("carry", "paper")
    dispatcher = Dispatcher(journal, run)
    request = OrderRequest("BTC", Side.SELL, OrderType.MARKET, D("0.003"), client_order_id="c1")
    dispatcher.journal_intent("okx", request, "carry_rehedge")
    assert not orders_settled(journal, [run], leg_books(journal, [run], ["okx"], "BTC")["okx"], "BTC")
    filled = Order("okx", "BTC", "o1", "c1", Side.SELL, OrderType.MARKET, OrderStatus.FILLED, D("0.003"), D("0.003"))
    dispatcher.journal_state("c1", filled)
    # Final, but its fill not journaled yet: the venue's position already holds it, the journal does not.
    assert not orders_settled(journal, [run], leg_books(journal, [run], ["okx"], "BTC")["okx"], "BTC")
    dispatcher.journal_fills([_fill("o1", Side.SELL, "0.003", "95000", 1)])
    assert orders_settled(journal, [run], leg_books(journal, [run], ["okx"], "BTC")["okx"], "BTC")
    journal.close()
