"""Shared wire helpers of the ccxt-backed adapters: strict field readers and the per-venue dialect protocol.

The field readers are the kit's (`venues/kit/wire.py`), bound to the venue here for the ccxt dialects.
Replies reach us already JSON-decoded by ccxt, with floats decoded as Decimal (see ccxt_venue).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from hedgectl.domain.types import (
    AccountConfig,
    Balance,
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
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.wire import Wire as Wire
from hedgectl.venues.kit.wire import WireReader
from hedgectl.venues.kit.wire import plain as plain
from hedgectl.venues.order_rules import by_venue_symbol as by_venue_symbol
from hedgectl.venues.order_rules import check_order_rules as check_order_rules
from hedgectl.venues.order_rules import checked_fill as checked_fill
from hedgectl.venues.order_rules import checked_market as checked_market
from hedgectl.venues.order_rules import checked_order as checked_order
from hedgectl.venues.order_rules import checked_position as checked_position
from hedgectl.venues.order_rules import sum_fills as sum_fills


def _reader(venue: str) -> WireReader:
    return WireReader(venue)


def dec(row: Wire, key: str, venue: str) -> Decimal:
    """A required decimal field (a JSON number or a numeric string)."""
    return _reader(venue).dec(row, key)


def opt_dec(row: Wire, key: str, venue: str) -> Decimal | None:
    """An optional decimal field: None when absent, null or empty, BadResponse when present but not a number."""
    return _reader(venue).opt_dec(row, key)


def text(row: Wire, key: str, venue: str) -> str:
    """A required id or name (ints, e.g. Binance order ids, are accepted and stringified)."""
    return _reader(venue).ident(row, key)


opt_text = WireReader.opt_text


def ms_time(row: Wire, key: str, venue: str) -> datetime | None:
    """An optional epoch-milliseconds field as a UTC datetime (0 and "" count as absent)."""
    return _reader(venue).opt_ms(row, key)


def flag(row: Wire, key: str, venue: str) -> bool:
    """A boolean that venues send as true/false or "true"/"false" (absent: False)."""
    return _reader(venue).flag(row, key)


def dict_rows(reply: Any, venue: str, what: str) -> list[Wire]:
    """A reply that must be a list of objects."""
    return _reader(venue).rows(reply, what)


def one_dict(reply: Any, venue: str, what: str) -> Wire:
    return _reader(venue).obj(reply, what)


class Dialect(Protocol):
    """One venue's endpoints through ccxt's implicit (raw) API: wire dicts in, domain types out.

    `ex` is the configured ccxt exchange. Methods make the requests named in their docstrings and raise
    ccxt's exceptions untouched: the adapter maps them once, at its edge.
    """

    venue: str
    ccxt_id: str
    rate_per_s: float
    burst: int
    order_rate_per_s: float  # order POSTs: their own bucket, so reads never delay an order
    order_burst: int
    # The ccxt implicit-API method of the order POST: the adapter signs through its route (ex.sign) when it
    # prepares an order and sends the signed request later, so both legs of a hedge are signed before either leaves.
    order_endpoint: str
    native_cancel_all: bool  # False: no cancel-all endpoint; the adapter cancels each open order

    def configure(self, ex: Any, config: VenueConfig) -> None: ...
    def credentials(self, config: VenueConfig) -> dict[str, str]: ...
    async def server_time_ms(self, ex: Any) -> int: ...
    async def markets(self, ex: Any) -> tuple[list[Market], dict[str, str]]: ...
    async def quote(self, ex: Any, market: Market) -> Quote: ...
    async def book(self, ex: Any, market: Market, depth: int) -> OrderBook: ...
    async def position_mode(self, ex: Any) -> PositionMode: ...
    async def account_config(self, ex: Any, market: Market) -> AccountConfig: ...

    def order_params(self, market: Market, request: OrderRequest, mode: PositionMode) -> dict[str, Any]:
        """The order POST's parameters; OrderRejected for what the venue would refuse."""
        ...

    def parse_order_ack(self, reply: Any, market: Market, request: OrderRequest) -> Order:
        """The order POST's reply as is (OKX's carries only ids: NEW, nothing filled); raises its per-order error."""
        ...

    async def fetch_order(
        self, ex: Any, market: Market, order_id: str | None, client_order_id: str | None
    ) -> Order: ...
    async def cancel_order(
        self, ex: Any, market: Market, order_id: str | None, client_order_id: str | None
    ) -> Order: ...
    async def open_orders(self, ex: Any, markets: Mapping[str, Market], market: Market | None) -> list[Order]: ...
    async def cancel_all_symbol(self, ex: Any, market: Market) -> None: ...
    async def positions(self, ex: Any, markets: Mapping[str, Market], market: Market | None) -> list[Position]: ...
    async def balances(self, ex: Any) -> list[Balance]: ...
    async def fills(self, ex: Any, market: Market, order_id: str | None, since: datetime | None) -> list[Fill]: ...
    async def funding_payments(
        self, ex: Any, markets: Mapping[str, Market], market: Market | None, since_ms: int, until_ms: int | None
    ) -> list[FundingPayment]: ...

