"""Per-venue paper accounts: wallet balance, positions, orders, fills and funding history."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from hedgectl.sim.instruments import DEFAULT_LEVERAGE, QUOTE_ASSET, START_BALANCE
from hedgectl.sim.model import ZERO, Fill, FundingPayment, Order, Position, PositionMode, PosSide, position_key

HISTORY_LIMIT = 5000  # closed orders and fills kept per venue
_ORDER_ID_BASE: dict[str, int] = {
    "binance": 4_000_000_001,
    "okx": 2_100_000_000_001,
    "backpack": 11_000_000_001,
    "aster": 9_000_000_001,
}

ID_EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: the origin of a saved paper account's id floor


def id_floor(unique: bool) -> int:
    """With `unique` (a saved paper account), the milliseconds since ID_EPOCH_MS: ids issued from then on never
    repeat an earlier account's, across resets and simulators; else 0 (reproducible ids for the tests)."""
    return max(0, time.time_ns() // 1_000_000 - ID_EPOCH_MS) if unique else 0


@dataclass(slots=True)
class Account:
    venue: str
    asset: str
    balance: Decimal
    leverage: int
    positions: dict[str, Position] = field(default_factory=dict)
    open_orders: dict[int, Order] = field(default_factory=dict)
    closed_orders: dict[int, Order] = field(default_factory=dict)
    fills: deque[Fill] = field(default_factory=lambda: deque(maxlen=HISTORY_LIMIT))
    funding: deque[FundingPayment] = field(default_factory=lambda: deque(maxlen=HISTORY_LIMIT))
    next_order_id: int = 1
    next_fill_id: int = 1
    next_funding_id: int = 1
    fees_paid: Decimal = ZERO
    position_mode: PositionMode = PositionMode.ONE_WAY

    @classmethod
    def fresh(cls, venue: str, id_floor: int = 0) -> Account:
        acct = cls(
            venue=venue,
            asset=QUOTE_ASSET[venue],
            balance=START_BALANCE[venue],
            leverage=DEFAULT_LEVERAGE[venue],
            next_order_id=_ORDER_ID_BASE.get(venue, 1),
            next_fill_id=_ORDER_ID_BASE.get(venue, 1) // 10,
            next_funding_id=_ORDER_ID_BASE.get(venue, 1) * 3,
        )
        acct.raise_ids(id_floor)
        return acct

    def raise_ids(self, id_floor: int) -> None:
        """Let every id this account issues from now on lie at least `id_floor` above its venue's base, as a real
        venue's ids never repeat: a paper account reset, or two simulators over one saved account, must not hand
        out an order, trade or payment id that an earlier one did (the journal keeps each once)."""
        base = _ORDER_ID_BASE.get(self.venue, 1)
        self.next_order_id = max(self.next_order_id, base + id_floor)
        self.next_fill_id = max(self.next_fill_id, base // 10 + id_floor)
        self.next_funding_id = max(self.next_funding_id, base * 3 + id_floor)

    def new_order_id(self) -> int:
        oid = self.next_order_id
        self.next_order_id += 1
        return oid

    def new_fill_id(self) -> int:
        fid = self.next_fill_id
        self.next_fill_id += 1
        return fid

    def new_funding_id(self) -> int:
        """A payment id in its own range (a venue's income tranIds and bill ids never repeat a fill's id)."""
        fid = self.next_funding_id
        self.next_funding_id += 1
        return fid

    def position(self, symbol: str, base: str, side: PosSide = PosSide.BOTH) -> Position:
        key = position_key(symbol, side)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = Position(symbol=symbol, base=base, side=side)
        return pos

    def symbol_positions(self, symbol: str) -> list[Position]:
        """Every position held in `symbol`: the net one, or both sides in hedge mode."""
        return [p for p in self.positions.values() if p.symbol == symbol]

    def find_order(self, order_id: int | None, client_order_id: str | None) -> Order | None:
        """Find by id, else by client id (the open order first, then the latest closed one)."""
        if order_id is not None:
            return self.open_orders.get(order_id) or self.closed_orders.get(order_id)
        if client_order_id is None:
            return None
        for order in self.open_orders.values():
            if order.client_order_id == client_order_id:
                return order
        for order in reversed(self.closed_orders.values()):
            if order.client_order_id == client_order_id:
                return order
        return None

    def close(self, order: Order) -> None:
        self.open_orders.pop(order.order_id, None)
        self.closed_orders[order.order_id] = order
        while len(self.closed_orders) > HISTORY_LIMIT:
            del self.closed_orders[next(iter(self.closed_orders))]

    def margin(self, mark: Callable[[str], Decimal]) -> MarginView:
        """Cross margin at the marks `mark(symbol)` gives: unrealized PnL, and the margin positions and resting
        opening orders hold at the account's leverage."""
        upnl = ZERO
        pos_margin = ZERO
        for pos in self.positions.values():
            if pos.qty:
                price = mark(pos.symbol)
                upnl += pos.qty * (price - pos.entry_price)
                pos_margin += abs(pos.qty) * price / self.leverage
        order_margin = sum(
            (o.remaining * (o.price or ZERO) / self.leverage for o in self.open_orders.values() if not o.closes),
            ZERO,
        )
        return MarginView(self.balance, upnl, pos_margin, order_margin)

    def all_orders(self) -> list[Order]:
        return sorted([*self.closed_orders.values(), *self.open_orders.values()], key=lambda o: o.order_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "asset": self.asset,
            "balance": str(self.balance),
            "leverage": self.leverage,
            "positions": [p.to_json() for p in self.positions.values()],
            "orders": [o.to_json() for o in self.all_orders()],
            "fills": [f.to_json() for f in self.fills],
            "funding": [f.to_json() for f in self.funding],
            "next_order_id": self.next_order_id,
            "next_fill_id": self.next_fill_id,
            "next_funding_id": self.next_funding_id,
            "fees_paid": str(self.fees_paid),
            "position_mode": self.position_mode.value,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Account:
        acct = cls(
            venue=raw["venue"],
            asset=raw["asset"],
            balance=Decimal(raw["balance"]),
            leverage=int(raw["leverage"]),
            next_order_id=int(raw["next_order_id"]),
            next_fill_id=int(raw["next_fill_id"]),
            next_funding_id=int(raw.get("next_funding_id", _ORDER_ID_BASE.get(raw["venue"], 1) * 3)),
            fees_paid=Decimal(raw.get("fees_paid", "0")),
            position_mode=PositionMode(raw.get("position_mode", "one_way")),
        )
        for p in raw["positions"]:
            pos = Position.from_json(p)
            acct.positions[pos.key] = pos
        for o in raw["orders"]:
            order = Order.from_json(o)
            if order.status.is_open:
                acct.open_orders[order.order_id] = order
            else:
                acct.closed_orders[order.order_id] = order
        acct.fills.extend(Fill.from_json(f) for f in raw["fills"])
        for f in raw["funding"]:
            payment = FundingPayment.from_json(f)
            if not payment.payment_id:  # saved before payments had ids: give each its own
                payment = replace(payment, payment_id=acct.new_funding_id())
            acct.funding.append(payment)
        return acct


@dataclass(slots=True)
class FundingState:
    rate: Decimal
    next_ms: int
    interval_ms: int
    last_settled_ms: int = 0


@dataclass(frozen=True, slots=True)
class MarginView:
    balance: Decimal
    unrealized_pnl: Decimal
    position_margin: Decimal
    order_margin: Decimal

    @property
    def equity(self) -> Decimal:
        return self.balance + self.unrealized_pnl

    @property
    def available(self) -> Decimal:
        return self.equity - self.position_margin - self.order_margin
