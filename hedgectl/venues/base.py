"""The Venue protocol: the operations every exchange adapter offers, in domain types only.

Adapters translate every foreign error (ccxt.*, httpx.*, a venue's error body) into hedgectl.errors
exactly once, at their edge. Nothing above `venues/` sees a ccxt or httpx exception.

Order placement is never blindly retried: on a timeout or dropped connection after the request may have
reached the venue, the adapter looks the order up by client order id; if it still cannot tell, it raises
AmbiguousOrderState. Reads (GETs) are retried with backoff and jitter on Unavailable / RateLimited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from hedgectl.domain.types import (
    Balance,
    Fill,
    Market,
    Mode,
    Order,
    OrderBook,
    OrderRequest,
    Position,
    Quote,
)

VENUE_IDS: tuple[str, ...] = ("binance", "okx", "backpack", "aster")


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

    async def place_order(self, request: OrderRequest) -> Order:
        """Send one order. Never blindly retried; reconciles by client order id on an ambiguous outcome."""
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

    async def fetch_server_time(self) -> datetime:
        """The venue's clock (used for skew measurement and request timestamps)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
