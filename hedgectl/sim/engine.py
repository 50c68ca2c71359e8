"""The matching engine: validates orders against instrument rules, matches them against the market source's
books (the synthetic walk, a replay or live data: sim/market_source/), keeps per-venue accounts and settles
funding. Pure Python, single-threaded (the server's event loop), no I/O; it lazily catches up with the clock on
every call (`sync`)."""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import replace
from decimal import Decimal
from typing import Any

from hedgectl.sim.accounts import Account, FundingState, MarginView, id_floor
from hedgectl.sim.books import Books
from hedgectl.sim.events import EventBus
from hedgectl.sim.instruments import VENUES, Instrument, build_instruments
from hedgectl.sim.market import DEFAULT_TICK_MS, Book, PriceProcess, SimClock, round_down
from hedgectl.sim.market_source.base import MarketSource
from hedgectl.sim.market_source.records import Trade
from hedgectl.sim.model import (
    ZERO,
    EngineEvent,
    EventKind,
    Fill,
    FundingPayment,
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

# The precision a venue charges (and reports) fees in; a venue not listed charges them unrounded.
FEE_QUANTUM: dict[str, Decimal] = {"binance": Decimal("1e-8"), "aster": Decimal("1e-8")}
# The funding rate per 8 hours a real venue charges when the premium is nil (Binance's and OKX's interest
# component, 0.01 %): what a recorded or live market pays until its own rate has been read.
BASELINE_FUNDING_8H = Decimal("0.0001")
TAPE_LIMIT = 1000  # public trades kept per instrument (the simulator's own fills, as a venue prints them)


FUNDING_QUANTUM = Decimal("1e-8")


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
        self.funding: dict[tuple[str, str], FundingState] = {}
        stamp = now_ms()
        for venue, per_venue in self.instruments.items():
            for symbol, inst in per_venue.items():
                interval = inst.funding_interval_ms
                if self.prices.trade_driven:
                    rate = BASELINE_FUNDING_8H * interval / (8 * 3_600_000)
                else:
                    rng = random.Random(f"{self.seed}:funding:{venue}:{symbol}")
                    rate = Decimal(rng.randint(-5, 15)) / 100_000
                self.funding[(venue, symbol)] = FundingState(rate, (stamp // interval + 1) * interval, interval)
        self.tape: dict[tuple[str, str], deque[Trade]] = {}
        self._tick = self.clock.tick
        # The simulator's time of tick 0: tick i is at epoch_ms + i * tick_ms (candles are stamped with it;
        # with a frozen clock, that time moves only when the clock is stepped).
        self.epoch_ms = stamp - self._tick * self.clock.tick_ms
        self.books = Books(self.prices, self._tick)
        self.queue = QueueFills(
            self.books, lambda inst, order, qty, price: self._fill(inst, order, qty, price, maker=True)
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
        acct = self.accounts[venue]
        upnl = ZERO
        pos_margin = ZERO
        for pos in acct.positions.values():
            if pos.qty:
                mark = self.mark_price(venue, pos.symbol)
                upnl += pos.qty * (mark - pos.entry_price)
                pos_margin += abs(pos.qty) * mark / acct.leverage
        order_margin = sum(
            (o.remaining * (o.price or ZERO) / acct.leverage for o in acct.open_orders.values() if not o.closes),
            ZERO,
        )
        return MarginView(acct.balance, upnl, pos_margin, order_margin)

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
        self._settle_funding(now_ms())

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
            self._follow_funding(tick)
        self._settle_funding(now_ms())

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
        self._publish(EventKind.NEW, order)
        if req.tif is TimeInForce.POST_ONLY and crosses:
            self._finish(order, OrderStatus.EXPIRED)
            return order
        target = order.qty if fill_ratio is None else round_down(order.qty * fill_ratio, inst.step_size)
        if crosses:
            self._take(inst, order, target)
        if fill_ratio is not None and order.price is not None and order.filled_qty < target:
            self._fill(inst, order, target - order.filled_qty, order.price, maker=not crosses)
        if order.status.is_open and (order.type is OrderType.MARKET or order.tif in (TimeInForce.IOC, TimeInForce.FOK)):
            self._finish(order, OrderStatus.EXPIRED)
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
        self._finish(order, OrderStatus.CANCELED)
        return order

    def cancel_all(self, venue: str, symbol: str | None = None) -> list[Order]:
        self.sync()
        if symbol is not None:
            self.instrument(venue, symbol)
        orders = self.open_orders(venue, symbol)
        for order in orders:
            self._finish(order, OrderStatus.CANCELED)
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
                fill = self._fill(inst, order, qty, order.price, maker=True)
                if fill is not None:
                    made.append(fill)
        return made

    # ---- internals -----------------------------------------------------------------------------

    @staticmethod
    def _crosses(order: Order, best_bid: Decimal, best_ask: Decimal) -> bool:
        if order.price is None:
            return True
        return order.price >= best_ask if order.side is Side.BUY else order.price <= best_bid

    def _take(self, inst: Instrument, order: Order, target: Decimal) -> None:
        """Walk the book for up to `target` filled quantity (taker)."""
        for i, price, avail in list(self.books.levels(inst, order.side, order.price)):
            want = target - order.filled_qty
            if want <= 0 or not order.status.is_open:
                return
            fill = self._fill(inst, order, min(want, avail), price, maker=False)
            if fill is None:
                return
            self.books.consume(inst, order.side, i, fill.qty)

    def _fill(self, inst: Instrument, order: Order, qty: Decimal, price: Decimal, *, maker: bool) -> Fill | None:
        """Record one fill of `order` (quantity capped for reduce-only); None if nothing could fill."""
        acct = self.accounts[inst.venue]
        pos = acct.position(inst.symbol, inst.base, order.position_side)
        qty = min(qty, order.remaining)
        if order.closes:
            reducible = abs(pos.qty) if pos.qty and (pos.qty > 0) != (order.side is Side.BUY) else ZERO
            qty = min(qty, reducible)
        if qty <= 0:
            if order.closes and order.status.is_open:
                self._finish(order, OrderStatus.EXPIRED)
            return None
        stamp_ns = time.time_ns()
        stamp = stamp_ns // 1_000_000
        fee = qty * price * (inst.maker_fee if maker else inst.taker_fee)
        quantum = FEE_QUANTUM.get(inst.venue)
        if quantum is not None:
            # Binance and Aster report a commission to 8 places and charge exactly what they report.
            fee = fee.quantize(quantum)
        realized = pos.apply(order.side, qty, price)
        pos.updated_ms = stamp
        acct.balance += realized - fee
        acct.fees_paid += fee
        order.filled_qty += qty
        order.filled_quote += qty * price
        order.fee += fee
        order.updated_ms = stamp
        order.status = OrderStatus.FILLED if order.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        fill = Fill(
            venue=inst.venue,
            fill_id=acct.new_fill_id(),
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            symbol=inst.symbol,
            base=inst.base,
            side=order.side,
            price=price,
            qty=qty,
            fee=fee,
            fee_asset=acct.asset,
            maker=maker,
            realized_pnl=realized,
            time_ms=stamp,
            filled_ns=stamp_ns,
            position_side=order.position_side,
        )
        acct.fills.append(fill)
        taker = order.side if not maker else (Side.SELL if order.side is Side.BUY else Side.BUY)
        tape = self.tape.setdefault((inst.venue, inst.symbol), deque(maxlen=TAPE_LIMIT))
        tape.append(Trade(inst.venue, inst.base, str(fill.fill_id), price, qty, taker.value, stamp))
        if order.status is OrderStatus.FILLED:
            acct.close(order)
        self._publish(EventKind.FILL, order, fill)
        if pos.qty == 0 or realized:
            self._expire_stale_reduce_only(inst, pos)
        return fill

    def _expire_stale_reduce_only(self, inst: Instrument, pos: Position) -> None:
        for other in self.open_orders(inst.venue, inst.symbol):
            if other.position_side is not pos.side:
                continue
            if other.closes and (pos.qty == 0 or (pos.qty > 0) == (other.side is Side.BUY)):
                self._finish(other, OrderStatus.EXPIRED)

    def _finish(self, order: Order, status: OrderStatus) -> None:
        order.status = status
        order.updated_ms = now_ms()
        self.accounts[order.venue].close(order)
        self._publish(EventKind.CANCELED if status is OrderStatus.CANCELED else EventKind.EXPIRED, order)

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
                    self._fill(inst, order, order.remaining, order.price, maker=True)

    def _match_trades(self, after_tick: int, upto_tick: int) -> None:
        """Fill resting orders from the market source's trades (sim/queue_fills.py: the queue model)."""
        for venue, per_venue in self.instruments.items():
            for inst in per_venue.values():
                trades = self.prices.trades(inst, after_tick, upto_tick)
                if trades:
                    resting = [o for o in self.accounts[venue].open_orders.values() if o.symbol == inst.symbol]
                    self.queue.match(inst, resting, trades)

    def _follow_funding(self, tick: int) -> None:
        """Take the venues' current funding rates from a recorded or live market (settlement times stay ours)."""
        for (venue, symbol), state in self.funding.items():
            quote = self.prices.funding(venue, self.instruments[venue][symbol].base, tick)
            if quote is not None:
                state.rate = quote.rate

    def _settle_funding(self, stamp: int) -> None:
        for (venue, symbol), state in self.funding.items():
            if stamp < state.next_ms:
                continue
            for pos in self.accounts[venue].symbol_positions(symbol):
                if not pos.qty:
                    continue
                inst = self.instruments[venue][symbol]
                mark = self.books.mark(inst)
                # Venues book funding to 8 decimals: the balance moves by exactly what the income row says.
                amount = (-pos.qty * mark * state.rate).quantize(FUNDING_QUANTUM)
                acct = self.accounts[venue]
                acct.balance += amount
                payment = FundingPayment(
                    venue,
                    symbol,
                    state.rate,
                    amount,
                    state.next_ms,
                    payment_id=acct.new_funding_id(),
                    position_qty=pos.qty,
                    side=pos.side,
                    balance_after=acct.balance,
                )
                acct.funding.append(payment)
                self.bus.publish(EngineEvent(venue, EventKind.FUNDING, funding=payment, event_ns=time.time_ns()))
            state.last_settled_ms = state.next_ms
            state.next_ms = (stamp // state.interval_ms + 1) * state.interval_ms

    def _publish(self, kind: EventKind, order: Order, fill: Fill | None = None) -> None:
        if not self.bus.active:
            return  # snapshotting orders costs more than the matching itself
        self.bus.publish(EngineEvent(order.venue, kind, order=replace(order), fill=fill, event_ns=time.time_ns()))

    # ---- persistence ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The paper account (balances, positions, orders, fills, funding) as JSON-able data."""
        self.sync()
        return {
            "version": 1,
            "seed": self.seed,
            "accounts": {venue: acct.to_json() for venue, acct in self.accounts.items()},
            "funding": {
                f"{venue}|{symbol}": {"rate": str(s.rate), "next_ms": s.next_ms}
                for (venue, symbol), s in self.funding.items()
            },
        }

    def load_json(self, raw: dict[str, Any]) -> None:
        """Restore what `to_json` produced (prices restart from the seed)."""
        if raw.get("version") != 1:
            raise ValueError("unsupported paper-account format")
        for venue, acct in raw["accounts"].items():
            if venue in self.accounts:
                self.accounts[venue] = Account.from_json(acct)
                self.accounts[venue].raise_ids(id_floor(self.unique_ids))
        for key, state in raw.get("funding", {}).items():
            venue, _, symbol = key.partition("|")
            if (venue, symbol) in self.funding:
                self.funding[(venue, symbol)].rate = Decimal(state["rate"])
                self.funding[(venue, symbol)].next_ms = max(
                    int(state["next_ms"]), self.funding[(venue, symbol)].next_ms
                )
