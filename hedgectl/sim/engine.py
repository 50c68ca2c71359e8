"""The matching engine: validates orders against instrument rules and matches them against the market source's
books (the synthetic walk, a replay or live data: sim/market_source/); per-venue accounts behind it. Pure Python,
single-threaded (the server's event loop), no I/O; it lazily catches up with the clock on every call (`sync`).

What a fill does to an account, the tape and the event bus is `booking.py`'s; funding rates and their settlement
are `funding.py`'s; the engine decides when each happens.
"""

from __future__ import annotations

import time
from collections import deque
from decimal import Decimal
from typing import Any

from hedgectl.sim import funding as sim_funding
from hedgectl.sim.accounts import Account, FundingState, MarginView, id_floor
from hedgectl.sim.booking import Booking
from hedgectl.sim.books import Books
from hedgectl.sim.events import EventBus
from hedgectl.sim.instruments import VENUES, Instrument, build_instruments
from hedgectl.sim.market import DEFAULT_TICK_MS, Book, PriceProcess, SimClock, round_down
from hedgectl.sim.market_source.base import MarketSource
from hedgectl.sim.market_source.records import Trade
from hedgectl.sim.model import (
    ZERO,
    EventKind,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    PositionMode,
    PosSide,
    Reason,
    Side,
    SimError,
    TimeInForce,
)
from hedgectl.sim.queue_fills import QueueFills
from hedgectl.sim.rules import check_order, check_position_side


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Engine:
    """All venues' books and accounts behind one seeded price process."""

    def __init__(
        self,
        seed: int = 0,
        *,
        tick_ms: int = DEFAULT_TICK_MS,
        frozen: bool = False,
        market: MarketSource | None = None,
        fees: dict[str, tuple[Decimal, Decimal]] | None = None,
        unique_ids: bool = False,
    ) -> None:
        """`market`: a recorded or live source (None: the seeded synthetic walk, rebuilt on every reset);
        `fees`: maker/taker rates per venue instead of the published base tier (instruments.FEES);
        `unique_ids`: ids start above a floor that grows with the wall clock (a saved paper account: see
        `Account.raise_ids`); without, every account's ids start at its venue's base (reproducible tests)."""
        self.seed = seed
        self.unique_ids = unique_ids
        self.fees = fees
        self.clock = SimClock(tick_ms, frozen=frozen)
        self.market = market
        self.bus = EventBus()
        self._init_state()

    def _init_state(self) -> None:
        self.prices: PriceProcess | MarketSource = (
            self.market if self.market is not None else PriceProcess(self.seed, self.clock.tick_ms)
        )
        self.list_instruments()
        self.accounts: dict[str, Account] = {venue: Account.fresh(venue, id_floor(self.unique_ids)) for venue in VENUES}
        stamp = now_ms()
        self.funding: sim_funding.Rates = sim_funding.opening_rates(
            self.seed, self.instruments, trade_driven=self.prices.trade_driven, stamp_ms=stamp
        )
        self._tick = self.clock.tick
        # The simulator's time of tick 0: tick i is at epoch_ms + i * tick_ms (candles are stamped with it;
        # with a frozen clock, that time moves only when the clock is stepped).
        self.epoch_ms = stamp - self._tick * self.clock.tick_ms
        self.books = Books(self.prices, self._tick)
        self.booking = Booking(self.accounts, self.books, self.bus, self.open_orders)
        self.tape: dict[tuple[str, str], deque[Trade]] = self.booking.tape
        self.queue = QueueFills(
            self.books, lambda inst, order, qty, price: self.booking.fill(inst, order, qty, price, maker=True)
        )

    def list_instruments(self) -> None:
        """List the instruments the market source has data for (all of them for the synthetic walk)."""
        self.instruments: dict[str, dict[str, Instrument]] = {
            venue: {s: i for s, i in per_venue.items() if self.prices.covers(venue, i.base)}
            for venue, per_venue in build_instruments(self.fees).items()
        }
        funding = getattr(self, "funding", None)
        if funding is not None:
            for key in [k for k in funding if k[1] not in self.instruments[k[0]]]:
                del funding[key]

    def reset(self) -> None:
        """Forget every account and price move; the seed, clock rate and subscribers stay."""
        self.clock.reset()
        self._init_state()

    # ---- lookups -------------------------------------------------------------------------------

    def instrument(self, venue: str, symbol: str) -> Instrument:
        inst = self.instruments.get(venue, {}).get(symbol)
        if inst is None:
            raise SimError(Reason.UNKNOWN_SYMBOL, symbol, symbol=symbol)
        return inst

    def instrument_for_base(self, venue: str, base: str) -> Instrument:
        for inst in self.instruments[venue].values():
            if inst.base == base:
                return inst
        raise SimError(Reason.UNKNOWN_SYMBOL, base, symbol=base)

    def account(self, venue: str) -> Account:
        return self.accounts[venue]

    def book(self, venue: str, symbol: str) -> Book:
        """The current book with this tick's market-order takes already removed."""
        self.sync()
        return self.books.book(self.instrument(venue, symbol))

    def mark_price(self, venue: str, symbol: str) -> Decimal:
        self.sync()
        return self.books.mark(self.instrument(venue, symbol))

    def index_price(self, venue: str, symbol: str) -> Decimal:
        """The common mid without the venue's basis, at the venue's tick size."""
        self.sync()
        inst = self.instrument(venue, symbol)
        return round_down(self.prices.index(inst.base, venue, self._tick), inst.tick_size)

    def open_price_24h(self, venue: str, symbol: str) -> Decimal:
        inst = self.instrument(venue, symbol)
        ticks_per_day = 86_400_000 // self.clock.tick_ms
        # A recorded or live market has no day of history here: its open is the current mid.
        tick = self._tick if self.prices.trade_driven else max(0, self._tick - ticks_per_day)
        return round_down(self.prices.mid(venue, inst.base, tick), inst.tick_size)

    def public_trades(self, venue: str, symbol: str, limit: int) -> list[Trade]:
        """The instrument's last `limit` public trades, oldest first (the simulator's fills, as a venue prints them)."""
        self.sync()
        inst = self.instrument(venue, symbol)
        tape = self.tape.get((venue, inst.symbol), ())
        return list(tape)[-limit:] if limit > 0 else []

    def open_orders(self, venue: str, symbol: str | None = None) -> list[Order]:
        self.sync()
        orders = self.accounts[venue].open_orders.values()
        return [o for o in orders if symbol is None or o.symbol == symbol]

    def get_order(self, venue: str, *, order_id: int | None = None, client_order_id: str | None = None) -> Order:
        self.sync()
        order = self.accounts[venue].find_order(order_id, client_order_id)
        if order is None:
            raise SimError(Reason.ORDER_NOT_FOUND, str(order_id or client_order_id))
        return order

    def fills(self, venue: str, symbol: str | None = None, order_id: int | None = None) -> list[Fill]:
        self.sync()
        return [
            f
            for f in self.accounts[venue].fills
            if (symbol is None or f.symbol == symbol) and (order_id is None or f.order_id == order_id)
        ]

    def positions(self, venue: str) -> list[Position]:
        """Positions with a non-zero quantity."""
        self.sync()
        return [p for p in self.accounts[venue].positions.values() if p.qty != 0]

    def position(self, venue: str, symbol: str, side: PosSide = PosSide.BOTH) -> Position:
        self.sync()
        inst = self.instrument(venue, symbol)
        return self.accounts[venue].position(symbol, inst.base, side)

    def set_position_mode(self, venue: str, mode: PositionMode) -> None:
        """Switch one venue's account between one-way and hedge mode; refused while it holds positions or orders."""
        self.sync()
        acct = self.accounts[venue]
        if acct.position_mode is mode:
            return
        if any(p.qty for p in acct.positions.values()) or acct.open_orders:
            raise SimError(Reason.POSITION_SIDE_MISMATCH, f"{venue}: positions or open orders exist")
        acct.positions.clear()
        acct.position_mode = mode

    def margin(self, venue: str) -> MarginView:
        self.sync()
        return self.accounts[venue].margin(lambda symbol: self.mark_price(venue, symbol))

    def liquidation_price(self, venue: str, pos: Position, maint_rate: Decimal = Decimal("0.004")) -> Decimal:
        """Cross margin: the mark at which the account's equity, less maintenance on `pos`, is gone (0: none)."""
        if not pos.qty:
            return ZERO
        mark = self.mark_price(venue, pos.symbol)
        maint = abs(pos.qty * mark) * maint_rate
        return max(ZERO, mark - (self.margin(venue).equity - maint) / pos.qty)

    def funding_state(self, venue: str, symbol: str) -> FundingState:
        self.sync()
        self.instrument(venue, symbol)
        return self.funding[(venue, symbol)]

    # ---- control -------------------------------------------------------------------------------

    def set_price(self, base: str, price: Decimal, venue: str | None = None) -> None:
        """Move the mid of `base` to `price` now (one venue or all); resting orders it crosses fill."""
        if price <= 0:
            raise SimError(Reason.PRICE_NOT_POSITIVE, str(price))
        if not isinstance(self.prices, PriceProcess):
            raise SimError(Reason.BAD_PARAMETER, f"prices come from the {self.prices.kind} market source")
        venues = VENUES if venue is None else (venue,)
        if price > min(self.instrument_for_base(v, base).max_price for v in venues):
            raise SimError(Reason.PRICE_ABOVE_MAX, str(price))
        self.sync()
        self.prices.set_mid(base, price, self._tick, venue)
        self.books.repriced()
        self._match_resting(self._tick)

    def set_funding(self, venue: str, symbol: str, rate: Decimal, next_ms: int | None) -> None:
        """Set the funding rate (and next settlement time); a time in the past settles on next sync."""
        self.sync()
        state = self.funding_state(venue, symbol)
        state.rate = rate
        if next_ms is not None:
            state.next_ms = next_ms
        self._settle_funding()

    def sync(self) -> None:
        """Catch up with the clock: fill resting orders the path crossed, settle due funding."""
        tick = self.clock.tick
        before = self._tick
        if tick > self._tick:
            if not self.prices.trade_driven and any(acct.open_orders for acct in self.accounts.values()):
                for t in range(self._tick + 1, tick + 1):
                    self._match_resting(t)
            self._tick = tick
            self.books.advance(tick)
        if self.prices.trade_driven:
            self._match_trades(before, tick)
            sim_funding.follow_source(self.funding, self.prices, self.instruments, tick)
        self._settle_funding()

    # ---- orders --------------------------------------------------------------------------------

    def place_order(self, venue: str, req: OrderRequest, *, fill_ratio: Decimal | None = None) -> Order:
        """Validate, record and match a new order; `fill_ratio` forces a partial fill (fault)."""
        self.sync()
        acct = self.accounts[venue]
        inst = self.instrument(venue, req.symbol)
        book = self.books.book(inst)
        check_position_side(acct, inst, req)
        check_order(acct, inst, req, book, lambda: self.margin(venue).available)
        book = self.books.book(inst)
        if req.price is None:  # a market order (_validate guarantees limits carry a price)
            crosses = True
        else:
            crosses = req.price >= book.best_ask if req.side is Side.BUY else req.price <= book.best_bid
        if req.tif is TimeInForce.POST_ONLY and crosses and req.post_only_reject:
            raise SimError(Reason.POST_ONLY_WOULD_TAKE, inst.symbol)
        if req.tif is TimeInForce.FOK and self.books.liquidity(inst, req.side, req.price) < req.qty:
            raise SimError(Reason.FOK_UNFILLABLE, inst.symbol)
        stamp = now_ms()
        order = Order(
            venue=venue,
            order_id=acct.new_order_id(),
            symbol=inst.symbol,
            base=inst.base,
            side=req.side,
            type=req.type,
            tif=req.tif,
            qty=req.qty,
            price=req.price,
            reduce_only=req.reduce_only,
            client_order_id=req.client_order_id,
            position_side=req.position_side,
            created_ms=stamp,
            created_ns=time.time_ns(),
            updated_ms=stamp,
        )
        acct.open_orders[order.order_id] = order
        self.booking.publish(EventKind.NEW, order)
        if req.tif is TimeInForce.POST_ONLY and crosses:
            self.booking.finish(order, OrderStatus.EXPIRED)
            return order
        target = order.qty if fill_ratio is None else round_down(order.qty * fill_ratio, inst.step_size)
        if crosses:
            self.booking.take(inst, order, target)
        if fill_ratio is not None and order.price is not None and order.filled_qty < target:
            self.booking.fill(inst, order, target - order.filled_qty, order.price, maker=not crosses)
        if order.status.is_open and (order.type is OrderType.MARKET or order.tif in (TimeInForce.IOC, TimeInForce.FOK)):
            self.booking.finish(order, OrderStatus.EXPIRED)
        if order.status.is_open and self.prices.trade_driven:
            self.queue.join(inst, order)
        return order

    def cancel_order(self, venue: str, *, order_id: int | None = None, client_order_id: str | None = None) -> Order:
        self.sync()
        acct = self.accounts[venue]
        order = acct.find_order(order_id, client_order_id)
        if order is None:
            raise SimError(Reason.ORDER_NOT_FOUND, str(order_id or client_order_id))
        if not order.status.is_open:
            raise SimError(Reason.ORDER_NOT_OPEN, str(order.order_id), status=order.status.value)
        self.booking.finish(order, OrderStatus.CANCELED)
        return order

    def cancel_all(self, venue: str, symbol: str | None = None) -> list[Order]:
        self.sync()
        if symbol is not None:
            self.instrument(venue, symbol)
        orders = self.open_orders(venue, symbol)
        for order in orders:
            self.booking.finish(order, OrderStatus.CANCELED)
        return orders

    def force_fill(
        self,
        venue: str,
        *,
        order_id: int | None = None,
        client_order_id: str | None = None,
        all_orders: bool = False,
        ratio: Decimal = Decimal(1),
    ) -> list[Fill]:
        """Fill `ratio` of the remaining quantity of resting orders at their limit price (as maker)."""
        self.sync()
        acct = self.accounts[venue]
        if all_orders:
            targets = list(acct.open_orders.values())
        else:
            order = acct.find_order(order_id, client_order_id)
            if order is None:
                raise SimError(Reason.ORDER_NOT_FOUND, str(order_id or client_order_id))
            if not order.status.is_open:
                raise SimError(Reason.ORDER_NOT_OPEN, str(order.order_id), status=order.status.value)
            targets = [order]
        made: list[Fill] = []
        for order in targets:
            inst = self.instrument(venue, order.symbol)
            qty = order.remaining if ratio >= 1 else round_down(order.remaining * ratio, inst.step_size)
            if qty > 0 and order.price is not None and order.status.is_open:
                fill = self.booking.fill(inst, order, qty, order.price, maker=True)
                if fill is not None:
                    made.append(fill)
        return made

    # ---- internals -----------------------------------------------------------------------------

    @staticmethod
    def _crosses(order: Order, best_bid: Decimal, best_ask: Decimal) -> bool:
        if order.price is None:
            return True
        return order.price >= best_ask if order.side is Side.BUY else order.price <= best_bid

    def _match_resting(self, tick: int) -> None:
        for venue, acct in self.accounts.items():
            if not acct.open_orders:
                continue
            for order in list(acct.open_orders.values()):
                if order.price is None or not order.status.is_open:
                    continue
                inst = self.instruments[venue][order.symbol]
                bid, ask = self.books.top(inst, tick)
                if self._crosses(order, bid, ask):
                    self.booking.fill(inst, order, order.remaining, order.price, maker=True)

    def _settle_funding(self) -> None:
        sim_funding.settle_due(self.funding, self.accounts, self.instruments, self.books, self.bus, now_ms())

    def _match_trades(self, after_tick: int, upto_tick: int) -> None:
        """Fill resting orders from the market source's trades (sim/queue_fills.py: the queue model)."""
        for venue, per_venue in self.instruments.items():
            for inst in per_venue.values():
                trades = self.prices.trades(inst, after_tick, upto_tick)
                if trades:
                    resting = [o for o in self.accounts[venue].open_orders.values() if o.symbol == inst.symbol]
                    self.queue.match(inst, resting, trades)

    # ---- persistence ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The paper account (balances, positions, orders, fills, funding) as JSON-able data."""
        self.sync()
        return {
            "version": 1,
            "seed": self.seed,
            "accounts": {venue: acct.to_json() for venue, acct in self.accounts.items()},
            "funding": sim_funding.rates_to_json(self.funding),
        }

    def load_json(self, raw: dict[str, Any]) -> None:
        """Restore what `to_json` produced (prices restart from the seed)."""
        if raw.get("version") != 1:
            raise ValueError("unsupported paper-account format")
        for venue, acct in raw["accounts"].items():
            if venue in self.accounts:
                self.accounts[venue] = Account.from_json(acct)
                self.accounts[venue].raise_ids(id_floor(self.unique_ids))
        sim_funding.restore_rates(self.funding, raw.get("funding", {}))
