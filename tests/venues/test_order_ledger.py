"""The order ledger behind the stream supervisor: what is delivered once, what REST replays after an outage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.types import Fill, Order, OrderStatus, OrderType, Side
from hedgectl.venues.streams import EventSource, OrderEvent
from hedgectl.venues.streams.ledger import OrderLedger, brings_progress

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def ledger(symbol: str | None = "BTC", limit: int = 100) -> OrderLedger:
    return OrderLedger(symbol=symbol, horizon=T0, lookback=timedelta(seconds=10), limit=limit)


def order(order_id: str = "1", filled: str = "0", qty: str = "1", symbol: str = "BTC") -> Order:
    done = Decimal(filled)
    status = (
        OrderStatus.NEW if done == 0 else OrderStatus.FILLED if done == Decimal(qty) else OrderStatus.PARTIALLY_FILLED
    )
    return Order("x", symbol, order_id, None, Side.BUY, OrderType.LIMIT, status, Decimal(qty), done)


def fill(trade_id: str, qty: str, order_id: str = "1", at: datetime = T0) -> Fill:
    return Fill("x", "BTC", order_id, trade_id, Side.BUY, Decimal(qty), Decimal(100), Decimal(0), "USDC", at=at)


def event(o: Order, f: Fill | None = None, source: EventSource = EventSource.STREAM) -> OrderEvent:
    return OrderEvent(o, f, source, 0)


def test_a_fill_already_counted_by_a_later_cumulative_is_not_counted_again() -> None:
    book = ledger()
    assert book.accept(event(order(filled="1"), fill("t2", "0.5")))  # t1 was missed: t2's cumulative covers it
    new = book.unseen([fill("t1", "0.5"), fill("t2", "0.5")], T0)
    assert [f.trade_id for f in new] == ["t1"]
    replayed = book.replay({"1": order(filled="1")}, new, EventSource.RECONCILE, 1)
    assert [book.accept(e) for e in replayed] == [False, False]
    assert book.filled("1") == 1


def test_missed_fills_replay_with_a_growing_cumulative_and_the_final_state_last() -> None:
    book = ledger()
    book.accept(event(order()))
    new = book.unseen(
        [fill("b", "0.6", at=T0 + timedelta(seconds=2)), fill("a", "0.4", at=T0 + timedelta(seconds=1))], T0
    )
    replayed = book.replay({"1": order(filled="1")}, new, EventSource.POLL, 7)
    accepted = [e for e in replayed if book.accept(e)]
    assert [(e.fill.trade_id if e.fill else None, e.order.filled_qty, e.order.status) for e in accepted] == [
        ("a", Decimal("0.4"), OrderStatus.PARTIALLY_FILLED),
        ("b", Decimal(1), OrderStatus.FILLED),
    ]
    assert accepted[0].order.avg_price is None  # not known for a partial state rebuilt from fills


def test_orders_to_read_one_by_one() -> None:
    book = ledger()
    book.accept(event(order("open")))
    book.accept(event(order("gone")))
    book.accept(event(order("done", filled="1")))
    snapshots = {"open": order("open"), "lagging": order("lagging")}
    new = [fill("f1", "0.5", order_id="lagging"), fill("f2", "0.5", order_id="elsewhere")]
    assert book.stale(snapshots, new) == {"lagging": "BTC", "elsewhere": "BTC", "gone": "BTC"}


def test_other_symbols_are_not_ours() -> None:
    book = ledger("BTC")
    assert not book.accept(event(order(symbol="ETH")))
    assert book.symbols({"ETH"}) == {"BTC"}
    anything = ledger(None)
    assert anything.accept(event(order(symbol="ETH")))
    assert anything.symbols({"SOL"}) == {"ETH", "SOL"}


def test_the_horizon_follows_fills_and_passes_but_never_goes_back() -> None:
    book = ledger()
    book.accept(event(order(filled="0.5"), fill("t", "0.5", at=T0 + timedelta(minutes=5))))
    assert book.horizon == T0 + timedelta(minutes=5) - timedelta(seconds=10)
    book.advance(T0)
    assert book.horizon == T0 + timedelta(minutes=5) - timedelta(seconds=10)


def test_memory_is_bounded() -> None:
    book = ledger(limit=3)
    for n in range(10):
        book.accept(event(order(str(n), filled="1"), fill(f"t{n}", "1", order_id=str(n))))
    assert book.remembered == (3, 3)


@given(
    lots=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=6),
    picks=st.lists(st.integers(min_value=0, max_value=20), max_size=30),
)
def test_any_mix_of_repeats_and_stale_events_delivers_each_fill_once_in_order(
    lots: list[int], picks: list[int]
) -> None:
    """Stream events, their repeats and stale copies in any order: what is accepted only ever progresses, and
    the last event of the sequence brings the consumer to the order's final cumulative quantity."""
    total = sum(lots)
    events = [event(order(qty=str(total)))]
    done = 0
    for n, lot in enumerate(lots):
        done += lot
        events.append(event(order(filled=str(done), qty=str(total)), fill(f"t{n}", str(lot))))
    book = ledger()
    accepted = [e for e in [events[p % len(events)] for p in picks] + [events[-1]] if book.accept(e)]
    progress = [(e.order.filled_qty, e.order.status.is_final) for e in accepted]
    assert progress == sorted(set(progress))
    trade_ids = [e.fill.trade_id for e in accepted if e.fill]
    assert len(trade_ids) == len(set(trade_ids))
    assert book.filled("1") == total


_states = st.builds(
    lambda filled, status: Order("x", "BTC", "1", None, Side.BUY, OrderType.LIMIT, status, Decimal(4), Decimal(filled)),
    st.integers(0, 4),
    st.sampled_from(list(OrderStatus)),
)


@given(_states, _states)
def test_progress_is_one_strict_order_the_ledger_and_the_engine_share(a: Order, b: Order) -> None:
    assert not brings_progress(a, a)
    assert not (brings_progress(a, b) and brings_progress(b, a))
    if a.filled_qty > b.filled_qty:
        assert brings_progress(a, b)
    # The ledger accepts exactly the events that bring progress over what it delivered.
    book = ledger()
    assert book.accept(event(b))
    assert book.accept(event(a)) == brings_progress(a, b)


def test_another_orders_state_is_never_progress() -> None:
    assert not brings_progress(order(order_id="2", filled="1"), order(order_id="1"))
