"""The simulator's own value types: orders, fills, positions, engine errors and events.

Everything is in base units and the venue's quote asset; dialects translate to wire shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

ZERO = Decimal(0)


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"


class OrderStatus(StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class PositionMode(StrEnum):
    """How an account holds positions: one net position per symbol, or a long and a short side (hedge)."""

    ONE_WAY = "one_way"
    HEDGE = "hedge"


class PosSide(StrEnum):
    """The position an order acts on: the net one (one-way mode) or one side of a hedge-mode account."""

    BOTH = "both"
    LONG = "long"
    SHORT = "short"


def position_key(symbol: str, side: PosSide) -> str:
    return symbol if side is PosSide.BOTH else f"{symbol}|{side.value}"


class Reason(StrEnum):
    """Why the engine refused a request; each dialect maps these to its venue's codes."""

    UNKNOWN_SYMBOL = "unknown_symbol"
    BAD_PARAMETER = "bad_parameter"
    QTY_NOT_POSITIVE = "qty_not_positive"
    QTY_BELOW_MIN = "qty_below_min"
    QTY_ABOVE_MAX = "qty_above_max"
    QTY_STEP = "qty_step"
    PRICE_NOT_POSITIVE = "price_not_positive"
    PRICE_TICK = "price_tick"
    PRICE_ABOVE_MAX = "price_above_max"
    MIN_NOTIONAL = "min_notional"
    INSUFFICIENT_MARGIN = "insufficient_margin"
    REDUCE_ONLY_REJECTED = "reduce_only_rejected"
    POST_ONLY_WOULD_TAKE = "post_only_would_take"
    FOK_UNFILLABLE = "fok_unfillable"
    DUPLICATE_CLIENT_ID = "duplicate_client_id"
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_NOT_OPEN = "order_not_open"
    POSITION_SIDE_MISMATCH = "position_side_mismatch"


class SimError(Exception):
    """A request the engine refuses; `detail` is a human hint, `values` feed venue messages."""

    def __init__(self, reason: Reason, detail: str = "", **values: Any) -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail
        self.values = values


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order as the engine understands it (base units)."""

    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None = None
    tif: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    client_order_id: str | None = None
    # What a post-only order that would take liquidity becomes: refused with SimError
    # (Binance/Aster -5022) or recorded as an EXPIRED order (OKX/Backpack style).
    post_only_reject: bool = True
    position_side: PosSide = PosSide.BOTH


@dataclass(slots=True)
class Order:
    venue: str
    order_id: int
    symbol: str
    base: str
    side: Side
    type: OrderType
    tif: TimeInForce
    qty: Decimal
    price: Decimal | None
    reduce_only: bool
    client_order_id: str | None
    created_ms: int
    created_ns: int
    status: OrderStatus = OrderStatus.NEW
    filled_qty: Decimal = ZERO
    filled_quote: Decimal = ZERO
    fee: Decimal = ZERO
    updated_ms: int = 0
    position_side: PosSide = PosSide.BOTH

    @property
    def closes(self) -> bool:
        """Whether it may only reduce its position: reduce-only, or a hedge-mode sell of the long / buy of the short."""
        if self.position_side is PosSide.BOTH:
            return self.reduce_only
        return (self.position_side is PosSide.LONG) == (self.side is Side.SELL)

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def avg_price(self) -> Decimal:
        return self.filled_quote / self.filled_qty if self.filled_qty else ZERO

    def to_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "order_id": str(self.order_id),
            "symbol": self.symbol,
            "base": self.base,
            "side": self.side.value,
            "type": self.type.value,
            "tif": self.tif.value,
            "qty": str(self.qty),
            "price": None if self.price is None else str(self.price),
            "reduce_only": self.reduce_only,
            "client_order_id": self.client_order_id,
            "created_ms": self.created_ms,
            "created_ns": self.created_ns,
            "status": self.status.value,
            "filled_qty": str(self.filled_qty),
            "filled_quote": str(self.filled_quote),
            "fee": str(self.fee),
            "updated_ms": self.updated_ms,
            "position_side": self.position_side.value,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Order:
        return cls(
            venue=raw["venue"],
            order_id=int(raw["order_id"]),
            symbol=raw["symbol"],
            base=raw["base"],
            side=Side(raw["side"]),
            type=OrderType(raw["type"]),
            tif=TimeInForce(raw["tif"]),
            qty=Decimal(raw["qty"]),
            price=None if raw["price"] is None else Decimal(raw["price"]),
            reduce_only=bool(raw["reduce_only"]),
            client_order_id=raw["client_order_id"],
            created_ms=int(raw["created_ms"]),
            created_ns=int(raw["created_ns"]),
            status=OrderStatus(raw["status"]),
            filled_qty=Decimal(raw["filled_qty"]),
            filled_quote=Decimal(raw["filled_quote"]),
            fee=Decimal(raw["fee"]),
            updated_ms=int(raw["updated_ms"]),
            position_side=PosSide(raw.get("position_side", "both")),
        )


@dataclass(frozen=True, slots=True)
class Fill:
    venue: str
    fill_id: int
    order_id: int
    client_order_id: str | None
    symbol: str
    base: str
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_asset: str
    maker: bool
    realized_pnl: Decimal
    time_ms: int
    filled_ns: int
    position_side: PosSide = PosSide.BOTH  # the side of a hedge-mode account its order acted on

    @property
    def quote_qty(self) -> Decimal:
        return self.price * self.qty

    def to_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "fill_id": str(self.fill_id),
            "order_id": str(self.order_id),
            "client_order_id": self.client_order_id,
            "symbol": self.symbol,
            "base": self.base,
            "side": self.side.value,
            "price": str(self.price),
            "qty": str(self.qty),
            "fee": str(self.fee),
            "fee_asset": self.fee_asset,
            "maker": self.maker,
            "realized_pnl": str(self.realized_pnl),
            "time_ms": self.time_ms,
            "filled_ns": self.filled_ns,
            "position_side": self.position_side.value,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Fill:
        return cls(
            venue=raw["venue"],
            fill_id=int(raw["fill_id"]),
            order_id=int(raw["order_id"]),
            client_order_id=raw["client_order_id"],
            symbol=raw["symbol"],
            base=raw["base"],
            side=Side(raw["side"]),
            price=Decimal(raw["price"]),
            qty=Decimal(raw["qty"]),
            fee=Decimal(raw["fee"]),
            fee_asset=raw["fee_asset"],
            maker=bool(raw["maker"]),
            realized_pnl=Decimal(raw["realized_pnl"]),
            time_ms=int(raw["time_ms"]),
            filled_ns=int(raw["filled_ns"]),
            position_side=PosSide(raw.get("position_side", "both")),
        )


MONEY_QUANTUM = Decimal("1e-10")


@dataclass(slots=True)
class Position:
    symbol: str
    base: str
    qty: Decimal = ZERO  # signed: long > 0, short < 0
    entry_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    updated_ms: int = 0
    side: PosSide = PosSide.BOTH  # LONG/SHORT: one side of a hedge-mode account (qty >= 0 / <= 0)

    @property
    def key(self) -> str:
        """Its key in Account.positions: the symbol, or symbol|side for a hedge-mode side."""
        return position_key(self.symbol, self.side)

    def apply(self, side: Side, qty: Decimal, price: Decimal) -> Decimal:
        """Apply a fill; return the PnL it realizes."""
        signed = qty * side.sign
        realized = ZERO
        if self.qty == 0 or (self.qty > 0) == (signed > 0):
            total = abs(self.qty) + qty
            # Venues keep money to a fixed precision: so does the simulator (sums stay exact).
            self.entry_price = ((abs(self.qty) * self.entry_price + qty * price) / total).quantize(MONEY_QUANTUM)
            self.qty += signed
        else:
            closing = min(abs(self.qty), qty)
            direction = 1 if self.qty > 0 else -1
            realized = (closing * (price - self.entry_price) * direction).quantize(MONEY_QUANTUM)
            opening = qty - closing
            self.qty += signed
            if opening > 0:
                self.entry_price = price
            elif self.qty == 0:
                self.entry_price = ZERO
        self.realized_pnl += realized
        return realized

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "base": self.base,
            "qty": str(self.qty),
            "entry_price": str(self.entry_price),
            "realized_pnl": str(self.realized_pnl),
            "updated_ms": self.updated_ms,
            "side": self.side.value,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Position:
        return cls(
            symbol=raw["symbol"],
            base=raw["base"],
            qty=Decimal(raw["qty"]),
            entry_price=Decimal(raw["entry_price"]),
            realized_pnl=Decimal(raw["realized_pnl"]),
            updated_ms=int(raw["updated_ms"]),
            side=PosSide(raw.get("side", "both")),
        )


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """One settlement on one position: `amount` credited to the balance (negative = paid)."""

    venue: str
    symbol: str
    rate: Decimal
    amount: Decimal  # credited to the balance (negative = paid)
    time_ms: int
    payment_id: int = 0  # unique per account: income tranId, bill id
    position_qty: Decimal = ZERO  # signed base qty the payment was on (long > 0)
    side: PosSide = PosSide.BOTH
    balance_after: Decimal = ZERO  # the account's balance right after (OKX bills `bal`)

    def to_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "rate": str(self.rate),
            "amount": str(self.amount),
            "time_ms": self.time_ms,
            "payment_id": self.payment_id,
            "position_qty": str(self.position_qty),
            "side": self.side.value,
            "balance_after": str(self.balance_after),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FundingPayment:
        return cls(
            raw["venue"],
            raw["symbol"],
            Decimal(raw["rate"]),
            Decimal(raw["amount"]),
            int(raw["time_ms"]),
            payment_id=int(raw.get("payment_id", 0)),
            position_qty=Decimal(raw.get("position_qty", "0")),
            side=PosSide(raw.get("side", "both")),
            balance_after=Decimal(raw.get("balance_after", "0")),
        )


class EventKind(StrEnum):
    NEW = "new"
    FILL = "fill"
    CANCELED = "canceled"
    EXPIRED = "expired"
    FUNDING = "funding"


@dataclass(frozen=True, slots=True)
class EngineEvent:
    """One thing that happened to an account; private order streams render these."""

    venue: str
    kind: EventKind
    order: Order | None = None
    fill: Fill | None = None
    funding: FundingPayment | None = None
    event_ns: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
