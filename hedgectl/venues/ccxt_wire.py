"""Shared wire helpers of the ccxt-backed adapters: strict field readers and the per-venue dialect protocol.

The field readers are the kit's (`venues/kit/wire.py`), bound to the venue here for the ccxt dialects.
Replies reach us already JSON-decoded by ccxt, with floats decoded as Decimal (see ccxt_venue).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from hedgectl.domain.quantity import max_order_qty
from hedgectl.domain.types import (
    AccountConfig,
    Balance,
    Fill,
    FundingPayment,
    Market,
    Order,
    OrderBook,
    OrderRequest,
    OrderType,
    Position,
    PositionMode,
    Quote,
)
from hedgectl.errors import BadResponse, OrderRejected
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.wire import Wire as Wire
from hedgectl.venues.kit.wire import WireReader
from hedgectl.venues.kit.wire import plain as plain


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


def checked_market(market: Market) -> Market:
    """Refuse market rules no venue could have (a garbled reply read as numbers)."""
    if market.tick_size <= 0 or market.step_size <= 0 or market.contract_size <= 0:
        problem = "tick, step or contract size is not positive"
    elif market.min_qty < 0 or market.min_notional < 0:
        problem = "a minimum is negative"
    elif market.max_qty is not None and market.max_qty < market.min_qty:
        problem = "the maximum quantity is below the minimum"
    else:
        return market
    raise BadResponse(market.venue, f"{market.venue_symbol}: {problem}")


def checked_order(order: Order) -> Order:
    """Refuse an order no venue could report: a size that is not positive, fills outside it, a negative price."""
    if order.qty <= 0:
        problem = f"size {order.qty} is not positive"
    elif not 0 <= order.filled_qty <= order.qty:
        problem = f"filled {order.filled_qty} of {order.qty}"
    elif any(p is not None and p <= 0 for p in (order.price, order.avg_price)):
        problem = "a price is not positive"
    else:
        return order
    raise BadResponse(order.venue, f"order {order.order_id}: {problem}")


def checked_fill(fill: Fill) -> Fill:
    """Refuse a fill no venue could report: a size or price that is not positive."""
    if fill.qty <= 0 or fill.price <= 0:
        raise BadResponse(fill.venue, f"fill {fill.trade_id}: size {fill.qty} at {fill.price}")
    return fill


def checked_position(position: Position) -> Position:
    """Refuse a position with a negative entry price (the quantity is signed, any value can be true)."""
    if position.entry_price is not None and position.entry_price <= 0:
        raise BadResponse(position.venue, f"{position.symbol}: entry price {position.entry_price}")
    return position


def flag(row: Wire, key: str, venue: str) -> bool:
    """A boolean that venues send as true/false or "true"/"false" (absent: False)."""
    return _reader(venue).flag(row, key)


def dict_rows(reply: Any, venue: str, what: str) -> list[Wire]:
    """A reply that must be a list of objects."""
    return _reader(venue).rows(reply, what)


def one_dict(reply: Any, venue: str, what: str) -> Wire:
    return _reader(venue).obj(reply, what)


def check_order_rules(market: Market, request: OrderRequest) -> None:
    """Refuse, before sending, a quantity off the step (OKX: not whole lots of contracts) or a price off the tick."""
    if request.qty <= 0:
        raise OrderRejected(market.venue, f"{market.symbol}: quantity must be positive, got {request.qty}")
    if request.qty % market.step_size != 0:
        unit = f" ({market.step_size / market.contract_size} contracts of {market.contract_size})"
        raise OrderRejected(
            market.venue,
            f"{market.symbol}: quantity {request.qty} is not a multiple of the step {market.step_size}"
            + (unit if market.contract_size != 1 else ""),
        )
    cap = max_order_qty(market, market_order=request.type is OrderType.MARKET)
    if cap is not None and request.qty > cap:
        raise OrderRejected(
            market.venue, f"{market.symbol}: quantity {request.qty} is above the {request.type.value} order cap {cap}"
        )
    if request.price is not None and (request.price <= 0 or request.price % market.tick_size != 0):
        raise OrderRejected(
            market.venue, f"{market.symbol}: price {request.price} is not a positive multiple of {market.tick_size}"
        )


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


def by_venue_symbol(markets: Mapping[str, Market]) -> dict[str, Market]:
    return {m.venue_symbol: m for m in markets.values()}


def sum_fills(fills: Sequence[Fill], quote: str) -> tuple[Decimal, Decimal | None, Decimal | None, str | None]:
    """(filled qty, average price, fee, fee asset) of one order's fills; fees in several assets sum the quote's."""
    qty = sum((f.qty for f in fills), Decimal(0))
    if not qty:
        return Decimal(0), None, None, None
    avg = sum((f.qty * f.price for f in fills), Decimal(0)) / qty
    assets = {f.fee_asset for f in fills}
    asset = assets.pop() if len(assets) == 1 else quote
    fee = sum((f.fee for f in fills if f.fee_asset == asset), Decimal(0))
    return qty, avg, fee, asset
