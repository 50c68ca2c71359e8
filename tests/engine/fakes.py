"""A small, honest in-memory Venue for engine tests: resting and market orders, fills, cancels racing fills,
404s and injected faults. Quantities in base units; prices on the tick; one symbol.

Fills of resting orders happen only when a test asks: `fill(...)` directly, or `autofill`, a script of ratios
applied one per read of a resting order (deterministic: no timing involved).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hedgectl.domain.rounding import floor_to_step
from hedgectl.domain.types import (
    Balance,
    BookLevel,
    Candle,
    Fill,
    FundingPayment,
    Market,
    Mode,
    Order,
    OrderBook,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Side,
    TimeInForce,
)
from hedgectl.errors import OrderNotFound, OrderRejected, VenueError
from hedgectl.venues.base import PreparedOrder, WireRequest

_ids = itertools.count(1)


@dataclass
class _Order:
    order_id: str
    request: OrderRequest
    status: OrderStatus = OrderStatus.NEW
    filled: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)


@dataclass
class _Fault:
    exc: VenueError
    takes_effect: bool = False  # the request is carried out, then the error is raised (reply lost)


@dataclass
class FakeVenue:
    name: str
    price: Decimal = Decimal("1.2")
    tick: Decimal = Decimal("0.0001")
    step: Decimal = Decimal("0.1")
    min_qty: Decimal = Decimal("0.1")
    min_notional: Decimal = Decimal(0)
    max_market_qty: Decimal | None = None
    maker_fee_rate: Decimal = Decimal("0.0002")
    taker_fee_rate: Decimal = Decimal("0.0005")
    symbol: str = "ASTER"
    next_funding_at: datetime | None = None
    funding_interval: timedelta | None = None
    funding_rate: Decimal | None = None
    last: Decimal | None = None  # the last trade when it differs from the mid (a print between ticks)
    stale_quotes: list[Decimal] = field(default_factory=list)  # mids the next quotes show, the book elsewhere
    mode: Mode = Mode.PAPER
    position: Decimal = Decimal(0)
    orders: dict[str, _Order] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    faults: dict[str, list[_Fault]] = field(default_factory=dict)
    autofill: list[Decimal] = field(default_factory=list)
    autofill_default: Decimal = Decimal(0)
    market_fill_ratio: Decimal = Decimal(1)
    forget_closed: bool = False  # like Backpack's GET /order: closed orders 404 (no history lookup)
    on_cancel: Callable[[FakeVenue, str], None] | None = None  # runs before the cancel takes effect
    on_place: Callable[[FakeVenue, str], None] | None = None  # runs after the order is placed, before the reply
    calls: list[str] = field(default_factory=list)
    funding: list[FundingPayment] = field(default_factory=list)  # what funding_payments reports
    candles: list[Candle] = field(default_factory=list)  # what fetch_candles reports

    def __post_init__(self) -> None:
        self.host = f"fake://{self.name}"

    # -- test controls ------------------------------------------------------------------------------
    def fail(self, op: str, exc: VenueError, *, count: int = 1, takes_effect: bool = False) -> None:
        self.faults.setdefault(op, []).extend(_Fault(exc, takes_effect) for _ in range(count))

    def _fault(self, op: str) -> _Fault | None:
        self.calls.append(op)
        queue = self.faults.get(op)
        return queue.pop(0) if queue else None

    def resting(self) -> list[_Order]:
        return [o for o in self.orders.values() if o.status.is_open]

    def fill(self, order_id: str | None = None, ratio: Decimal = Decimal(1)) -> Decimal:
        """Fill `ratio` of the remaining quantity of one (or every) resting order at its limit, as maker."""
        total = Decimal(0)
        for order in [self.orders[order_id]] if order_id else self.resting():
            if not order.status.is_open:
                continue
            remaining = order.request.qty - order.filled
            qty = remaining if ratio >= 1 else floor_to_step(remaining * ratio, self.step)
            if qty > 0:
                assert order.request.price is not None
                self._execute(order, qty, order.request.price, maker=True)
                total += qty
        return total

    def set_price(self, price: Decimal) -> None:
        self.price = price

    # -- the Venue protocol -------------------------------------------------------------------------
    @property
    def bid(self) -> Decimal:
        return self.price - self.tick

    @property
    def ask(self) -> Decimal:
        return self.price + self.tick

    def _market(self) -> Market:
        return Market(
            venue=self.name,
            symbol=self.symbol,
            venue_symbol=f"{self.symbol}-PERP",
            base=self.symbol,
            quote="USDT",
            tick_size=self.tick,
            step_size=self.step,
            min_qty=self.min_qty,
            min_notional=self.min_notional,
            max_market_qty=self.max_market_qty,
            maker_fee_rate=self.maker_fee_rate,
            taker_fee_rate=self.taker_fee_rate,
        )

    async def load_markets(self, *, reload: bool = False) -> dict[str, Market]:
        return {self.symbol: self._market()}

    async def market(self, symbol: str) -> Market:
        return self._market()

    async def fetch_quote(self, symbol: str) -> Quote:
        fault = self._fault("fetch_quote")
        if fault:
            raise fault.exc
        mid = self.stale_quotes.pop(0) if self.stale_quotes else self.price
        return Quote(
            venue=self.name,
            symbol=symbol,
            bid=mid - self.tick,
            ask=mid + self.tick,
            last=self.last if self.last is not None else mid,
            mark=mid,
            next_funding_at=self.next_funding_at,
            funding_interval=self.funding_interval,
            funding_rate=self.funding_rate,
        )

    async def fetch_book(self, symbol: str, depth: int = 20) -> OrderBook:
        return OrderBook(
            self.name, symbol, (BookLevel(self.bid, Decimal(10**6)),), (BookLevel(self.ask, Decimal(10**6)),)
        )

    async def fetch_candles(self, symbol: str, interval: timedelta, limit: int) -> list[Candle]:
        """`self.candles`, the last `limit` of them; none set: a flat minute series at the price (no volatility).
        A `fetch_candles` fault raises."""
        fault = self._fault("fetch_candles")
        if fault:
            raise fault.exc
        if self.candles:
            return self.candles[-limit:]
        start = datetime(2026, 12, 7, tzinfo=UTC)
        p = self.price
        return [Candle(self.name, symbol, start + i * interval, interval, p, p, p, p) for i in range(limit)]

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        """Nothing to sign here; a `prepare_order` fault fails it, and `send()` is place_order."""
        fault = self._fault("prepare_order")
        if fault:
            raise fault.exc
        wire = WireRequest("POST", f"fake://{self.name}/order", {}, None)
        return PreparedOrder(request, wire, lambda: self.place_order(request))

    async def place_order(self, request: OrderRequest) -> Order:
        fault = self._fault("place_order")
        if fault and not fault.takes_effect:
            raise fault.exc
        order = self._place(request)
        if self.on_place is not None:
            self.on_place(self, order.order_id)
        if fault:
            raise fault.exc
        return order

    def _place(self, request: OrderRequest) -> Order:
        qty, step = request.qty, self.step
        if qty <= 0 or qty % step or qty < self.min_qty:
            raise OrderRejected(self.name, f"quantity {qty} breaks step {step} / min {self.min_qty}")
        price = request.price if request.price is not None else (self.ask if request.side is Side.BUY else self.bid)
        if request.reduce_only:
            if self.position == 0 or (self.position > 0) == (request.side is Side.BUY):
                raise OrderRejected(self.name, "reduce-only order would not reduce")
        elif qty * price < self.min_notional:
            raise OrderRejected(self.name, f"notional {qty * price} below {self.min_notional}")
        order = _Order(order_id=str(next(_ids)), request=request)
        self.orders[order.order_id] = order
        if request.type is OrderType.MARKET:
            fill_qty = floor_to_step(qty * self.market_fill_ratio, step)
            if request.reduce_only:
                fill_qty = min(fill_qty, abs(self.position))
            if fill_qty > 0:
                self._execute(order, fill_qty, price, maker=False)
            if order.status.is_open:
                order.status = OrderStatus.EXPIRED
            return self._view(order)
        crosses = request.price is not None and (
            request.price >= self.ask if request.side is Side.BUY else request.price <= self.bid
        )
        if crosses and request.time_in_force is TimeInForce.POST_ONLY:
            order.status = OrderStatus.EXPIRED
        elif crosses:
            self._execute(order, qty, price, maker=False)
        return self._view(order)

    def _execute(self, order: _Order, qty: Decimal, price: Decimal, *, maker: bool) -> None:
        rate = self.maker_fee_rate if maker else self.taker_fee_rate
        fee = qty * price * rate
        order.filled += qty
        order.cost += qty * price
        order.fee += fee
        order.status = OrderStatus.FILLED if order.filled == order.request.qty else OrderStatus.PARTIALLY_FILLED
        self.position += order.request.side.sign * qty
        self.fills.append(
            Fill(
                venue=self.name,
                symbol=self.symbol,
                order_id=order.order_id,
                trade_id=str(next(_ids)),
                side=order.request.side,
                qty=qty,
                price=price,
                fee=fee,
                fee_asset="USDT",
                is_maker=maker,
                client_order_id=order.request.client_order_id,
                at=datetime.now(UTC),
            )
        )

    def _view(self, order: _Order) -> Order:
        r = order.request
        return Order(
            venue=self.name,
            symbol=r.symbol,
            order_id=order.order_id,
            client_order_id=r.client_order_id,
            side=r.side,
            type=r.type,
            status=order.status,
            qty=r.qty,
            filled_qty=order.filled,
            avg_price=order.cost / order.filled if order.filled else None,
            price=r.price,
            fee=order.fee if order.filled else None,
            reduce_only=r.reduce_only,
        )

    def _find(self, order_id: str | None, client_order_id: str | None) -> _Order:
        for order in self.orders.values():
            if order.order_id == order_id or (client_order_id and order.request.client_order_id == client_order_id):
                return order
        raise OrderNotFound(self.name, f"order {order_id or client_order_id} not found")

    async def cancel_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        fault = self._fault("cancel_order")
        if fault and not fault.takes_effect:
            raise fault.exc
        order = self._find(order_id, client_order_id)
        if self.on_cancel is not None:
            self.on_cancel(self, order.order_id)  # e.g. a fill that races the cancel
        if not order.status.is_open:
            raise OrderNotFound(self.name, f"order {order.order_id} is not open (unknown order)")
        order.status = OrderStatus.CANCELED
        if fault:
            raise fault.exc
        return self._view(order)

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        fault = self._fault("fetch_order")
        if fault:
            raise fault.exc
        order = self._find(order_id, client_order_id)
        if order.status.is_open:
            ratio = self.autofill.pop(0) if self.autofill else self.autofill_default
            if ratio > 0:
                self.fill(order.order_id, ratio)
        if not order.status.is_open and self.forget_closed:
            raise OrderNotFound(self.name, f"order {order.order_id} not found")
        return self._view(order)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        return [self._view(o) for o in self.resting()]

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        self.calls.append("cancel_all_orders")
        out = []
        for order in self.resting():
            order.status = OrderStatus.CANCELED
            out.append(self._view(order))
        return out

    async def fetch_positions(self, symbol: str | None = None) -> list[Position]:
        fault = self._fault("fetch_positions")
        if fault:
            raise fault.exc
        return [Position(self.name, self.symbol, self.position)] if self.position else []

    async def fetch_balances(self) -> list[Balance]:
        return [Balance("USDT", Decimal(10_000), Decimal(10_000))]

    async def fetch_fills(
        self, symbol: str, *, order_id: str | None = None, since: datetime | None = None
    ) -> list[Fill]:
        return [f for f in self.fills if order_id is None or f.order_id == order_id]

    async def funding_payments(
        self, symbol: str | None, since: datetime, until: datetime | None = None
    ) -> list[FundingPayment]:
        fault = self._fault("funding_payments")
        if fault is not None:
            raise fault.exc
        return [
            p
            for p in self.funding
            if (symbol is None or p.symbol == symbol) and p.at >= since and (until is None or p.at < until)
        ]

    async def fetch_server_time(self) -> datetime:
        return datetime.now(UTC)

    async def close(self) -> None:
        return None
