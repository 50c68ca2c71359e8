"""Value types every venue adapter speaks: markets, quotes, orders, fills, positions, balances.

Quantities are always in BASE units (e.g. BTC), whatever the venue's wire unit (OKX contracts are
converted in the OKX adapter). Prices and money are Decimal; times are tz-aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum


class Mode(StrEnum):
    PAPER = "paper"
    TESTNET = "testnet"
    LIVE = "live"


class PositionMode(StrEnum):
    """How an account holds positions: one net position per symbol, or a long and a short side (hedge).

    Binance/Aster call hedge mode `dualSidePosition`, OKX `long_short_mode`; Backpack has one-way only.
    """

    ONE_WAY = "one_way"
    HEDGE = "hedge"


class PositionSide(StrEnum):
    """The side of a hedge-mode account an order acts on."""

    LONG = "long"
    SHORT = "short"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: the change in signed position per unit filled."""
        return 1 if self is Side.BUY else -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


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
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @property
    def is_open(self) -> bool:
        return not self.is_final


_FINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


@dataclass(frozen=True, slots=True)
class Market:
    """One venue's linear perpetual for one base asset, with its trading rules in base units."""

    venue: str
    symbol: str  # canonical base asset, e.g. "BTC"
    venue_symbol: str  # e.g. "BTCUSDT", "BTC-USDT-SWAP", "BTC_USDC_PERP"
    base: str
    quote: str  # settlement/quote asset: USDT, or USDC on Backpack
    tick_size: Decimal
    step_size: Decimal  # base units (OKX: lotSz * ctVal)
    min_qty: Decimal  # base units (OKX: minSz * ctVal)
    min_notional: Decimal = Decimal(0)  # quote units; 0 when the venue has none
    contract_size: Decimal = Decimal(1)  # base units per wire unit (OKX ctVal); 1 elsewhere
    max_qty: Decimal | None = None  # per order (limit orders; market orders too unless max_market_qty says less)
    max_market_qty: Decimal | None = None  # per market order (Binance/Aster MARKET_LOT_SIZE, OKX maxMktSz)
    maker_fee_rate: Decimal | None = None
    taker_fee_rate: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book plus mark and funding for one venue and symbol."""

    venue: str
    symbol: str
    bid: Decimal
    ask: Decimal
    last: Decimal | None = None
    mark: Decimal | None = None
    funding_rate: Decimal | None = None
    next_funding_at: datetime | None = None
    funding_interval: timedelta | None = None
    at: datetime | None = None

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2

    @property
    def spread_bps(self) -> Decimal:
        mid = self.mid
        return (self.ask - self.bid) / mid * 10_000 if mid else Decimal(0)


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    qty: Decimal  # base units


@dataclass(frozen=True, slots=True)
class OrderBook:
    venue: str
    symbol: str
    bids: tuple[BookLevel, ...]  # best (highest) first
    asks: tuple[BookLevel, ...]  # best (lowest) first
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What we ask a venue to do. `client_order_id` is journaled before the request is sent."""

    symbol: str
    side: Side
    type: OrderType
    qty: Decimal  # base units
    client_order_id: str
    price: Decimal | None = None
    reduce_only: bool = False
    time_in_force: TimeInForce | None = None  # None: the venue default (GTC for limits, IOC-like for market)

    @property
    def position_side(self) -> PositionSide:
        """The side it acts on in hedge mode: a buy opens the long and a reduce-only buy closes the short."""
        return PositionSide.LONG if (self.side is Side.BUY) != self.reduce_only else PositionSide.SHORT


@dataclass(frozen=True, slots=True)
class Order:
    """A venue's view of one order, parsed into domain terms."""

    venue: str
    symbol: str
    order_id: str
    client_order_id: str | None
    side: Side
    type: OrderType
    status: OrderStatus
    qty: Decimal
    filled_qty: Decimal = Decimal(0)
    avg_price: Decimal | None = None
    price: Decimal | None = None
    fee: Decimal | None = None  # quote units, positive = paid; None when the reply does not say
    fee_asset: str | None = None
    reduce_only: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def remaining_qty(self) -> Decimal:
        return self.qty - self.filled_qty


@dataclass(frozen=True, slots=True)
class Fill:
    venue: str
    symbol: str
    order_id: str
    trade_id: str
    side: Side
    qty: Decimal  # base units
    price: Decimal
    fee: Decimal  # positive = paid, in fee_asset
    fee_asset: str
    is_maker: bool = False
    client_order_id: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Position:
    venue: str
    symbol: str
    qty: Decimal  # signed base units: long > 0, short < 0
    entry_price: Decimal | None = None
    mark_price: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    # What the venue reports about risk, None where it does not say (Binance's v3 positionRisk has no leverage
    # or margin mode; Backpack's position has no leverage). A liquidation price the venue sends as 0 or "" is None.
    liquidation_price: Decimal | None = None
    leverage: Decimal | None = None
    margin_mode: str | None = None  # "cross" | "isolated"
    position_side: PositionSide | None = None  # hedge mode: which side of the account it is; None: net

    @property
    def label(self) -> str:
        """The symbol, with the hedge-mode side when it has one ("BTC long")."""
        return self.symbol if self.position_side is None else f"{self.symbol} {self.position_side.value}"

    @property
    def side(self) -> Side | None:
        if self.qty > 0:
            return Side.BUY
        if self.qty < 0:
            return Side.SELL
        return None


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """One funding settlement on one of our positions, signed from the account's side: + received, - paid.

    `payment_id` is the venue's own id of the payment (income tranId, bill id, ...): journaled once per
    (venue, payment_id), so reading the same history twice never counts a payment twice.
    """

    venue: str
    symbol: str  # canonical, as Market.symbol
    payment_id: str
    at: datetime
    asset: str
    amount: Decimal  # + received, - paid, in `asset`
    position_qty: Decimal | None = None  # signed base qty the payment was on (long > 0), None where not said
    rate: Decimal | None = None  # the funding rate applied, where the venue says


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    total: Decimal
    free: Decimal
    used: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """How the account trades: position mode, margin mode and leverage (None where the venue does not say)."""

    venue: str
    position_mode: PositionMode
    margin_mode: str | None = None  # "cross" | "isolated"
    leverage: Decimal | None = None


@dataclass(frozen=True, slots=True)
class VenueInfo:
    """What `connect` reports about one venue besides balances."""

    venue: str
    mode: Mode
    host: str
    extras: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Candle:
    """One candle (kline) of a venue's trade prices: open/high/low/close over [open_at, open_at + interval).

    The newest candle of a read is usually still forming: its close is the latest price.
    """

    venue: str
    symbol: str  # canonical, as Market.symbol
    open_at: datetime
    interval: timedelta
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal | None = None  # base units where the venue says
