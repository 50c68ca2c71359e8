"""The Venue protocol: the operations every exchange adapter offers, in domain types only.

Adapters translate every foreign error (httpx.*, websockets.*, a venue's error body) into hedgectl.errors
exactly once, at their edge. Nothing above `venues/` sees a ccxt, httpx or websockets exception.

Order placement is never blindly retried: on a timeout or dropped connection after the request may have
reached the venue, the adapter looks the order up by client order id; if it still cannot tell, it raises
AmbiguousOrderState. Reads (GETs) are retried with backoff and jitter on Unavailable / RateLimited.

Placing an order has two halves, so that the legs of a hedge can all be built and signed before any of
them is sent (hedgectl.engine.orders.dispatch.Dispatcher.send_journaled_many): `prepare_order` does everything
that may wait or fail locally (market rules, validation, server-time offset, rate-limit token, signing)
and sends no order; `PreparedOrder.send` is the one HTTP exchange and what follows it (ack parsing, error
mapping, reconciliation by client order id). `place_order` is exactly the two in a row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol, runtime_checkable

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.types import (
    AccountConfig,
    Balance,
    Candle,
    Fill,
    FundingPayment,
    Market,
    Mode,
    Order,
    OrderBook,
    OrderRequest,
    Position,
    PositionMode,
    Quote,
)

VENUE_IDS: tuple[str, ...] = ("binance", "okx", "backpack", "aster")
REFERENCE_SYMBOL = "BTC"  # whose leverage and margin mode `connect` reports where the venue sets them per symbol


@dataclass(frozen=True, slots=True)
class WireRequest:
    """An HTTP request exactly as it will be written: method, signed URL, headers and body.

    Headers carry API keys (and OKX's passphrase), so they are left out of the repr.
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes | None = field(repr=False)


class PreparedOrder:
    """One order request, built and signed, that has not left the process: `send()` writes it, once.

    Send it at once and never keep one: the signature carries the time it was made (Binance's and Aster V1's
    timestamp + recvWindow, Backpack's X-Timestamp + X-Window, OKX's 30 s, Aster V3's nonce), so a prepared
    order goes stale within seconds, and its rate-limit token was taken when it was prepared. A second
    `send()` raises: a resend is a new order with a new client order id, never the same request again.
    """

    __slots__ = ("_send", "_sent", "prepared_at", "request", "wire")

    def __init__(self, request: OrderRequest, wire: WireRequest, send: Callable[[], Awaitable[Order]]) -> None:
        self.request = request
        self.wire = wire
        self.prepared_at = SYSTEM_CLOCK.monotonic()
        self._send = send
        self._sent = False

    def __repr__(self) -> str:
        return f"PreparedOrder({self.request.client_order_id!r}, {self.wire!r})"

    @property
    def age_s(self) -> float:
        """Seconds since it was signed."""
        return SYSTEM_CLOCK.monotonic() - self.prepared_at

    async def send(self) -> Order:
        """Send the request once and return the acknowledged order (same errors and reconciliation as place_order)."""
        if self._sent:
            raise RuntimeError(f"order {self.request.client_order_id} was already sent; it is never sent twice")
        self._sent = True
        return await self._send()


@runtime_checkable
class Venue(Protocol):
    """One exchange account's linear perpetuals. Symbols are canonical bases ("BTC")."""

    name: str  # "binance" | "okx" | "backpack" | "aster"
    mode: Mode
    host: str  # scheme://host[:port] requests go to (for display and guards)

    async def load_markets(self, *, reload: bool = False) -> dict[str, Market]:
        """Return the venue's linear perpetual markets keyed by canonical symbol (cached)."""
        ...

    async def market(self, symbol: str) -> Market:
        """Return one market; raise SymbolNotListed when the venue has no perp for it."""
        ...

    async def fetch_quote(self, symbol: str) -> Quote:
        """Best bid/ask, last, mark and funding (rate, next time, interval)."""
        ...

    async def fetch_book(self, symbol: str, depth: int = 20) -> OrderBook:
        """Order book levels in base units, best first."""
        ...

    async def fetch_candles(self, symbol: str, interval: timedelta, limit: int) -> list[Candle]:
        """The last `limit` candles of `interval` (1m, 5m, 15m, 1h, ...), oldest first; the newest is still forming.

        An interval the venue does not offer, or a limit outside 1..1000, is a UsageError before any request."""
        ...

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        """Build and sign one order request without sending it (any I/O it needs - markets, clock - happens here)."""
        ...

    async def place_order(self, request: OrderRequest) -> Order:
        """Send one order (prepare_order, then send). Never blindly retried; reconciles by client order id."""
        ...

    async def cancel_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """Cancel one order and return its final state (including the filled quantity at cancel time)."""
        ...

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """Look an order up, open or not (venues that 404 closed orders are resolved through history)."""
        ...

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Open orders, for one symbol or all."""
        ...

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """Cancel every open order in scope; return what was cancelled."""
        ...

    async def fetch_positions(self, symbol: str | None = None) -> list[Position]:
        """Non-zero positions (signed base qty), for one symbol or all."""
        ...

    async def fetch_balances(self) -> list[Balance]:
        """Balances of the futures/collateral account."""
        ...

    async def fetch_fills(
        self, symbol: str, *, order_id: str | None = None, since: datetime | None = None
    ) -> list[Fill]:
        """Our own fills (trades), newest last."""
        ...

    async def funding_payments(
        self, symbol: str | None, since: datetime, until: datetime | None = None
    ) -> list[FundingPayment]:
        """Funding paid or received on our positions in [since, until), oldest first, every page read.

        Signed from the account's side (+ received, - paid); `symbol` None means every symbol.
        """
        ...

    async def fetch_server_time(self) -> datetime:
        """The venue's clock (used for skew measurement and request timestamps)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class AccountConfigured(Protocol):
    """A venue with account-level position modes (Binance, OKX, Aster): what `connect` reports."""

    async def position_mode(self) -> PositionMode:
        """The account's position mode (read once per session, then cached)."""
        ...

    async def fetch_account_config(self, symbol: str = REFERENCE_SYMBOL) -> AccountConfig:
        """Position mode, margin mode and leverage (of `symbol` where the venue sets them per symbol)."""
        ...


@runtime_checkable
class AccountFees(Protocol):
    """A venue whose adapter reads the account's own fee tier (where keys are set): what `scan` prices with."""

    async def fetch_taker_fee_rate(self, symbol: str) -> Decimal:
        """The account's taker fee rate for `symbol` (a fraction: 0.0005 is 0.05 %)."""
        ...
