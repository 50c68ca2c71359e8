"""A venue that can only read: what a read-only command (connect, prices, positions, a dry run) is given.

Read-only commands run in live mode without --live, so the guarantee that they send nothing must not
depend on each command's code paths: every operation that would create or cancel an order is refused here,
before any request is built.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from hedgectl.domain.types import (
    AccountConfig,
    Balance,
    Candle,
    Fill,
    FundingPayment,
    Market,
    Order,
    OrderBook,
    OrderRequest,
    Position,
    PositionMode,
    Quote,
)
from hedgectl.errors import ConfigError
from hedgectl.venues.base import REFERENCE_SYMBOL, AccountConfigured, AccountFees, PreparedOrder, Venue


def read_only(inner: Venue) -> Venue:
    """`inner` behind the read-only wrapper, keeping the optional read capabilities it has (account config,
    the account's fee tier): a wrapper has a capability exactly when its adapter does."""
    configured, fees = isinstance(inner, AccountConfigured), isinstance(inner, AccountFees)
    if configured and fees:
        return ReadOnlyAccountFeesVenue(inner)
    if configured:
        return ReadOnlyAccountVenue(inner)
    return ReadOnlyFeesVenue(inner) if fees else ReadOnlyVenue(inner)


class ReadOnlyVenue:
    """Delegates every read to `inner`; refuses every order operation with a ConfigError (exit 2)."""

    def __init__(self, inner: Venue) -> None:
        self.inner = inner
        self.name = inner.name
        self.mode = inner.mode
        self.host = inner.host

    def __repr__(self) -> str:
        return f"ReadOnlyVenue({self.inner!r})"

    def _refuse(self, what: str) -> ConfigError:
        return ConfigError(f"{self.name}: {what} refused: this command is read-only")

    async def load_markets(self, *, reload: bool = False) -> dict[str, Market]:
        return await self.inner.load_markets(reload=reload)

    async def market(self, symbol: str) -> Market:
        return await self.inner.market(symbol)

    async def fetch_quote(self, symbol: str) -> Quote:
        return await self.inner.fetch_quote(symbol)

    async def fetch_book(self, symbol: str, depth: int = 20) -> OrderBook:
        return await self.inner.fetch_book(symbol, depth)

    async def fetch_candles(self, symbol: str, interval: timedelta, limit: int) -> list[Candle]:
        return await self.inner.fetch_candles(symbol, interval, limit)

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        raise self._refuse("placing an order")

    async def place_order(self, request: OrderRequest) -> Order:
        raise self._refuse("placing an order")

    async def cancel_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        raise self._refuse("cancelling an order")

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        return await self.inner.fetch_order(symbol, order_id=order_id, client_order_id=client_order_id)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        return await self.inner.fetch_open_orders(symbol)

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        raise self._refuse("cancelling orders")

    async def fetch_positions(self, symbol: str | None = None) -> list[Position]:
        return await self.inner.fetch_positions(symbol)

    async def fetch_balances(self) -> list[Balance]:
        return await self.inner.fetch_balances()

    async def fetch_fills(
        self, symbol: str, *, order_id: str | None = None, since: datetime | None = None
    ) -> list[Fill]:
        return await self.inner.fetch_fills(symbol, order_id=order_id, since=since)

    async def funding_payments(
        self, symbol: str | None, since: datetime, until: datetime | None = None
    ) -> list[FundingPayment]:
        return await self.inner.funding_payments(symbol, since, until)

    async def fetch_server_time(self) -> datetime:
        return await self.inner.fetch_server_time()

    async def close(self) -> None:
        await self.inner.close()


class ReadOnlyAccountVenue(ReadOnlyVenue):
    """A read-only venue whose adapter also reports the account's position mode, margin mode and leverage."""

    async def position_mode(self) -> PositionMode:
        assert isinstance(self.inner, AccountConfigured)  # noqa: S101 - chosen by read_only()
        return await self.inner.position_mode()

    async def fetch_account_config(self, symbol: str = REFERENCE_SYMBOL) -> AccountConfig:
        assert isinstance(self.inner, AccountConfigured)  # noqa: S101 - chosen by read_only()
        return await self.inner.fetch_account_config(symbol)


class _FeesRead(ReadOnlyVenue):
    """The account's own taker fee tier: a read, passed through."""

    async def fetch_taker_fee_rate(self, symbol: str) -> Decimal:
        assert isinstance(self.inner, AccountFees)  # noqa: S101 - chosen by read_only()
        return await self.inner.fetch_taker_fee_rate(symbol)


class ReadOnlyFeesVenue(_FeesRead):
    """A read-only venue whose adapter reads the account's fee tier (Backpack)."""


class ReadOnlyAccountFeesVenue(ReadOnlyAccountVenue, _FeesRead):
    """A read-only venue with account config and the account's fee tier (Binance, OKX, Aster)."""
