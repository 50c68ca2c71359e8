"""A hypothesis state machine over the matching engine: money conserved, fills bounded, book sane."""

from __future__ import annotations

import contextlib
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hedgectl.sim.engine import Engine
from hedgectl.sim.instruments import START_BALANCE, VENUES
from hedgectl.sim.market import round_down
from hedgectl.sim.model import ZERO, OrderRequest, OrderType, Side, SimError, TimeInForce

D = Decimal
venues = st.sampled_from(VENUES)
bases = st.sampled_from(["BTC", "ETH", "SOL", "ASTER"])
sides = st.sampled_from([Side.BUY, Side.SELL])


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine(seed=5, frozen=True)

    def _inst(self, venue: str, base: str):  # type: ignore[no-untyped-def]
        return self.engine.instrument_for_base(venue, base)

    @rule(venue=venues, base=bases, side=sides, lots=st.integers(1, 400), reduce=st.booleans())
    def market_order(self, venue: str, base: str, side: Side, lots: int, reduce: bool) -> None:
        inst = self._inst(venue, base)
        qty = inst.min_qty * lots
        with contextlib.suppress(SimError):
            self.engine.place_order(venue, OrderRequest(inst.symbol, side, OrderType.MARKET, qty, reduce_only=reduce))

    @rule(
        venue=venues,
        base=bases,
        side=sides,
        lots=st.integers(1, 400),
        offset_bp=st.integers(-30, 30),
        tif=st.sampled_from(list(TimeInForce)),
    )
    def limit_order(self, venue: str, base: str, side: Side, lots: int, offset_bp: int, tif: TimeInForce) -> None:
        inst = self._inst(venue, base)
        mid = self.engine.book(venue, inst.symbol).mid
        price = round_down(mid * (1 + D(offset_bp) / 10_000), inst.tick_size)
        req = OrderRequest(inst.symbol, side, OrderType.LIMIT, inst.min_qty * lots, price, tif=tif)
        with contextlib.suppress(SimError):
            self.engine.place_order(venue, req)

    @rule(venue=venues, data=st.data())
    def cancel(self, venue: str, data: st.DataObject) -> None:
        orders = self.engine.open_orders(venue)
        if orders:
            order = data.draw(st.sampled_from(orders))
            self.engine.cancel_order(venue, order_id=order.order_id)

    @rule(ticks=st.integers(1, 40))
    def time_passes(self, ticks: int) -> None:
        self.engine.clock.step(ticks)
        self.engine.sync()

    @rule(base=bases, move_bp=st.integers(-100, 100), venue=st.none() | venues)
    def price_jumps(self, base: str, move_bp: int, venue: str | None) -> None:
        ref = self.engine.book(venue or "binance", self._inst(venue or "binance", base).symbol).mid
        self.engine.set_price(base, ref * (1 + D(move_bp) / 10_000), venue)

    @rule(venue=venues, ratio=st.sampled_from([D("0.3"), D("0.5"), D("1")]))
    def forced_fill(self, venue: str, ratio: Decimal) -> None:
        self.engine.force_fill(venue, all_orders=True, ratio=ratio)

    @invariant()
    def money_is_conserved_net_of_fees_and_funding(self) -> None:
        for venue in VENUES:
            acct = self.engine.account(venue)
            fills = list(acct.fills)
            expected = (
                START_BALANCE[venue]
                + sum((f.realized_pnl - f.fee for f in fills), ZERO)
                + sum((p.amount for p in acct.funding), ZERO)
            )
            assert acct.balance == expected

    @invariant()
    def positions_are_the_sum_of_fills(self) -> None:
        for venue in VENUES:
            totals: dict[str, Decimal] = {}
            for f in self.engine.account(venue).fills:
                totals[f.symbol] = totals.get(f.symbol, ZERO) + f.qty * f.side.sign
            for symbol, pos in self.engine.account(venue).positions.items():
                assert pos.qty == totals.get(symbol, ZERO)
                assert (pos.qty == 0) == (pos.entry_price == 0)

    @invariant()
    def filled_never_exceeds_ordered(self) -> None:
        for venue in VENUES:
            per_order: dict[int, Decimal] = {}
            for f in self.engine.account(venue).fills:
                per_order[f.order_id] = per_order.get(f.order_id, ZERO) + f.qty
            for order in self.engine.account(venue).all_orders():
                assert ZERO <= order.filled_qty <= order.qty
                assert order.filled_qty == per_order.get(order.order_id, ZERO)
                assert order.status.is_open == (order.order_id in self.engine.account(venue).open_orders)

    @invariant()
    def book_is_never_crossed(self) -> None:
        self.engine.sync()
        for venue in VENUES:
            for inst in self.engine.instruments[venue].values():
                book = self.engine.book(venue, inst.symbol)
                assert book.best_bid < book.best_ask
                for order in self.engine.open_orders(venue, inst.symbol):
                    assert order.price is not None
                    if order.side is Side.BUY:
                        assert order.price < book.best_ask
                    else:
                        assert order.price > book.best_bid


EngineMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
test_engine_state_machine = EngineMachine.TestCase
