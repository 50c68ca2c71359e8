"""Backpack perpetuals behind the Venue protocol (native: httpx + ED25519).

Order lookups follow Backpack's rule that GET /api/v1/order only knows resting orders: once an order is
filled, cancelled or expired it is resolved through order history and fills (history.py), never assumed.
An order POST whose outcome is unknown is reconciled by its clientId (a uint32 derived from our string id)
through the kit's placement helper (`venues/kit/placement.py`). Market rules come from the kit's loader
(`venues/kit/markets.py`); wire shapes are read in parse.py (markets, prices, account) and parse_orders.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hedgectl.clock import SYSTEM_CLOCK, Clock, ms_from_utc, utc_from_ms
from hedgectl.domain.ids import RecentClientIds, uint32_client_id
from hedgectl.domain.types import (
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
    Quote,
)
from hedgectl.errors import (
    AmbiguousOrderState,
    BadResponse,
    ConfigError,
    OrderNotFound,
    OrderRejected,
)
from hedgectl.venues.backpack import parse, parse_orders
from hedgectl.venues.backpack.auth import check_credentials
from hedgectl.venues.backpack.client import BackpackClient
from hedgectl.venues.backpack.history import HISTORY_DELAYS_S, AccountHistory
from hedgectl.venues.base import PreparedOrder, WireRequest
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.candles import check_limit, interval_name
from hedgectl.venues.kit.fees import FeeCache
from hedgectl.venues.kit.host_guard import origin
from hedgectl.venues.kit.markets import MarketRules
from hedgectl.venues.kit.placement import covering_plan, place

if TYPE_CHECKING:
    import httpx

    from hedgectl.venues.streams import OrderEvent, StateHook
    from hedgectl.venues.streams.supervisor import SupervisorConfig

VENUE = "backpack"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Extra wait past the signature window before a missing order is taken as never placed.
WINDOW_MARGIN_S = 0.5
RECONCILE_DELAY_S = 0.25
RECONCILE_MAX_DELAY_S = 1.0
# Lookups after the window has expired, so that failed lookups near its end still leave a conclusive one.
RECONCILE_EXTRA_LOOKUPS = 2


class BackpackVenue:
    """One Backpack account's perpetuals (USDC-settled)."""

    name = VENUE

    def __init__(self, config: VenueConfig, *, clock: Clock = SYSTEM_CLOCK) -> None:
        if config.mode is Mode.TESTNET:
            raise ConfigError(f"{VENUE} has no test environment; use paper (the simulator) or live")
        check_credentials(config)
        self.mode: Mode = config.mode
        self.host = origin(config.base_url)
        self._config = config
        self._clock = clock
        self._client = BackpackClient(config, sleep=clock.sleep)
        self._markets = MarketRules(
            config,
            self._fetch_markets,
            venue=VENUE,
            not_listed=lambda base: f"no perpetual for {base} (looked for {base}_USDC_PERP)",
        )
        self._funding_intervals: dict[str, timedelta | None] = {}
        # uint32 clientIds this process derived -> our string ids, so replies carry our ids back.
        self._client_ids: dict[int, str] = RecentClientIds()
        self._taker_fee = FeeCache()
        self._history = AccountHistory(self._client, clock, self._client_ids)

    def __repr__(self) -> str:
        return f"BackpackVenue(mode={self.mode.value!r}, host={self.host!r})"

    @property
    def client(self) -> BackpackClient:
        return self._client

    async def close(self) -> None:
        """Release the keep-alive connections."""
        await self._client.aclose()

    # --- markets and prices ---------------------------------------------------------------------------

    async def load_markets(self, *, reload: bool = False) -> dict[str, Market]:
        """GET /api/v1/markets?marketType=PERP (or the on-disk cache while it is fresh)."""
        return await self._markets.load(reload=reload)

    async def _fetch_markets(self) -> tuple[dict[str, Market], dict[str, str]]:
        broken: dict[str, str] = {}  # base -> why its market row could not be read
        parsed = parse.parse_markets(await self._client.get_markets(), broken)
        self._funding_intervals.update({m.venue_symbol: interval for m, interval in parsed.values()})
        return {symbol: market for symbol, (market, _) in parsed.items()}, broken

    async def market(self, symbol: str) -> Market:
        """One perp by canonical base; SymbolNotListed when Backpack has none (a miss in cached rules reloads)."""
        return await self._markets.get(symbol)

    async def _funding_interval(self, market: Market) -> timedelta | None:
        # Known from the markets list; after a load from the disk cache, GET /api/v1/market once.
        if market.venue_symbol not in self._funding_intervals:
            wire = await self._client.get_market(market.venue_symbol)
            self._funding_intervals[market.venue_symbol] = parse.parse_funding_interval(wire)
        return self._funding_intervals[market.venue_symbol]

    async def fetch_quote(self, symbol: str) -> Quote:
        """GET /api/v1/depth (limit 5), /api/v1/ticker and /api/v1/markPrices, concurrently."""
        market = await self.market(symbol)
        depth, ticker, marks, interval = await _gather(
            self._client.get_depth(market.venue_symbol, 5),
            self._client.get_ticker(market.venue_symbol),
            self._client.get_mark_prices(market.venue_symbol),
            self._funding_interval(market),
        )
        book = parse.parse_depth(depth, market.symbol, 5)
        if not book.bids or not book.asks:
            raise BadResponse(VENUE, f"the {market.venue_symbol} book has no bid or no ask")
        mark = parse.parse_mark_price(marks, market.venue_symbol)
        return Quote(
            venue=VENUE,
            symbol=market.symbol,
            bid=book.bids[0].price,
            ask=book.asks[0].price,
            last=parse.parse_last_price(ticker),
            mark=mark.mark,
            funding_rate=mark.funding_rate,
            next_funding_at=mark.next_funding_at,
            funding_interval=interval,
            at=book.at,
        )

    async def fetch_book(self, symbol: str, depth: int = 20) -> OrderBook:
        """GET /api/v1/depth."""
        market = await self.market(symbol)
        return parse.parse_depth(await self._client.get_depth(market.venue_symbol, depth), market.symbol, depth)

    async def fetch_candles(self, symbol: str, interval: timedelta, limit: int) -> list[Candle]:
        """GET /api/v1/klines from `limit` intervals ago (newest last; the last one is still forming)."""
        name = interval_name(self.name, interval)
        check_limit(self.name, limit)
        market = await self.market(symbol)
        # Two intervals to spare: our clock and the venue's differ a little, and the reply is cut to `limit`.
        start = self._clock.now() - interval * (limit + 2)
        reply = await self._client.get_klines(market.venue_symbol, name, int(start.timestamp()))
        return parse.parse_klines(reply, market.symbol, interval)[-limit:]

    async def fetch_server_time(self) -> datetime:
        """GET /api/v1/time."""
        return utc_from_ms(await self._client.get_time())

    # --- orders ---------------------------------------------------------------------------------------

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        """Validate, build and sign POST /api/v1/order (orderExecute); nothing is sent."""
        market = await self.market(request.symbol)
        parse_orders.validate_order(request, market)
        body = parse_orders.to_wire_order(request, market)
        client_id = uint32_client_id(request.client_order_id)
        self._client_ids[client_id] = request.client_order_id
        http_request = await self._client.prepare_order_post(body)
        # Backpack refuses a request it receives later than X-Timestamp + X-Window: past that, absent is absent.
        window_ends = self._clock.monotonic() + self._config.recv_window_ms / 1000
        wire = WireRequest(
            http_request.method, str(http_request.url), dict(http_request.headers), http_request.content or None
        )
        return PreparedOrder(
            request, wire, lambda: self._send_order(market, request, client_id, window_ends, http_request)
        )

    async def place_order(self, request: OrderRequest) -> Order:
        """POST /api/v1/order. Never resent: an unknown outcome is reconciled by clientId.

        A post-only order that would take comes back as an Order in status EXPIRED (Backpack's
        `PostOnlyTaker`), not as an error.
        """
        return await (await self.prepare_order(request)).send()

    async def _send_order(
        self, market: Market, request: OrderRequest, client_id: int, window_ends: float, http_request: httpx.Request
    ) -> Order:
        """Send the prepared POST once; parse its ack, or find the order by clientId when the outcome is unknown.

        "No such order" is only conclusive once a lookup starts after the signature window has expired.
        """

        async def send() -> Order:
            wire = await self._client.send_order_post(http_request)
            order = parse_orders.parse_order(
                wire, market.symbol, self._client_ids
            )  # unreadable: BadResponse, reconciled
            refused = parse_orders.refusal(order, wire)
            if refused is not None:
                raise OrderRejected(VENUE, f"{market.symbol}: {refused}")
            return order

        absent_from = window_ends + WINDOW_MARGIN_S
        plan = covering_plan(
            absent_from - self._clock.monotonic(),
            first_s=RECONCILE_DELAY_S,
            max_s=RECONCILE_MAX_DELAY_S,
            extra=RECONCILE_EXTRA_LOOKUPS,
            sleep=self._clock.sleep,
            monotonic=self._clock.monotonic,
        )
        return await place(
            send,
            lambda: self._history.find_by_client_id(market, client_id),
            plan,
            venue=VENUE,
            client_order_id=request.client_order_id,
            absent_from=absent_from,
        )

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """GET /api/v1/order; on 404 GET /wapi/v1/history/orders then /wapi/v1/history/fills."""
        market = await self.market(symbol)
        client_id = self._client_id(order_id, client_order_id)
        try:
            wire = await self._client.get_order(market.venue_symbol, order_id=order_id, client_id=client_id)
        except OrderNotFound:
            return await self._history.resolve(market, order_id, client_id, client_order_id)
        return await self._history.with_fills(market, parse_orders.parse_order(wire, market.symbol, self._client_ids))

    def _client_id(self, order_id: str | None, client_order_id: str | None) -> int | None:
        if (order_id is None) == (client_order_id is None):
            raise ValueError("give exactly one of order_id and client_order_id")
        if client_order_id is None:
            return None
        client_id = uint32_client_id(client_order_id)
        self._client_ids[client_id] = client_order_id
        return client_id

    async def cancel_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """DELETE /api/v1/order; the final state, with what filled before the cancel.

        An order that is no longer resting (404, or INVALID_ORDER) is resolved through history.
        """
        market = await self.market(symbol)
        client_id = self._client_id(order_id, client_order_id)
        for _ in range(2):
            try:
                wire = await self._client.delete_order(market.venue_symbol, order_id=order_id, client_id=client_id)
            except OrderNotFound:
                return await self._history.resolve(market, order_id, client_id, client_order_id)
            except OrderRejected as exc:
                if exc.code != "INVALID_ORDER":
                    raise
                return await self._history.resolve(market, order_id, client_id, client_order_id)
            except (AmbiguousOrderState, BadResponse):
                # Cancelling twice is harmless: look first, cancel again only if it still rests.
                order = await self.fetch_order(symbol, order_id=order_id, client_order_id=client_order_id)
                if order.status.is_final:
                    return order
                continue
            order = parse_orders.parse_order(wire, market.symbol, self._client_ids)
            if order.status.is_open:
                order = await self._await_final(symbol, order)
            return await self._history.with_fills(market, order)
        raise AmbiguousOrderState(VENUE, f"cancel of {order_id or client_order_id} got no reply twice")

    async def _await_final(self, symbol: str, order: Order) -> Order:
        # A 202 reply means the cancel was queued: poll until the order leaves the book.
        for delay in HISTORY_DELAYS_S:
            await self._clock.sleep(delay)
            order = await self.fetch_order(symbol, order_id=order.order_id)
            if order.status.is_final:
                break
        return order

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """GET /api/v1/orders?marketType=PERP."""
        venue_symbol = (await self.market(symbol)).venue_symbol if symbol else None
        await self.load_markets()
        orders = []
        for row in parse.rows(await self._client.get_open_orders(venue_symbol), "open orders"):
            canonical = self._markets.canonical(parse_orders.wire_symbol(row, "order"))
            if canonical is not None:
                orders.append(parse_orders.parse_order(row, canonical, self._client_ids))
        return orders

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """DELETE /api/v1/orders per symbol (every symbol with open orders when none is given)."""
        if symbol is not None:
            venue_symbols = [(await self.market(symbol)).venue_symbol]
        else:
            open_orders = await self.fetch_open_orders()
            markets = await self.load_markets()
            venue_symbols = sorted({markets[o.symbol].venue_symbol for o in open_orders})
        cancelled: list[Order] = []
        for venue_symbol in venue_symbols:
            try:
                wire = await self._client.delete_orders(venue_symbol)
            except AmbiguousOrderState:
                wire = await self._client.delete_orders(venue_symbol)  # idempotent: safe to repeat once
            canonical = self._markets.canonical(venue_symbol) or venue_symbol
            cancelled.extend(
                parse_orders.parse_order(row, canonical, self._client_ids) for row in parse.rows(wire, "cancel")
            )
        return cancelled

    # --- order stream ---------------------------------------------------------------------------------

    def order_events(
        self,
        symbol: str | None = None,
        *,
        config: SupervisorConfig | None = None,
        on_state: StateHook | None = None,
    ) -> AsyncIterator[OrderEvent]:
        """Our order updates from the signed `account.orderUpdate` WebSocket, supervised: reconnects,
        reconciles by REST and polls while it is down (hedgectl.venues.streams.supervisor)."""
        # Imported here: commands that never stream do not load websockets.
        from hedgectl.venues.backpack.stream import BackpackStream
        from hedgectl.venues.streams.supervisor import supervise

        stream = BackpackStream(
            self._config,
            markets=self.load_markets,
            offset=self._client.offset,
            measure_offset=self._client.measure_offset,
            client_ids=self._client_ids,
            symbol=symbol,
        )
        return supervise(self, stream.connect, symbol, config=config, on_state=on_state)

    # --- account --------------------------------------------------------------------------------------

    async def fetch_positions(self, symbol: str | None = None) -> list[Position]:
        """GET /api/v1/position (non-zero netQuantity only)."""
        wanted = await self.market(symbol) if symbol else None
        await self.load_markets()
        positions = []
        venue_symbol = wanted.venue_symbol if wanted is not None else None
        for row in parse.rows(await self._client.get_positions(venue_symbol), "positions"):
            canonical = self._markets.canonical(parse_orders.wire_symbol(row, "position"))
            if canonical is None or (wanted is not None and canonical != wanted.symbol):
                continue
            position = parse.parse_position(row, canonical)
            if position.qty != 0:
                positions.append(position)
        return positions

    async def fetch_balances(self) -> list[Balance]:
        """GET /api/v1/capital/collateral: the margin account's collateral per asset."""
        return parse.parse_collateral(await self._client.get_collateral())

    async def fetch_taker_fee_rate(self, symbol: str) -> Decimal:
        """GET /api/v1/account (accountQuery): the account's perp taker tier, one rate for every market, read
        once per session (`symbol` must be listed)."""
        await self.market(symbol)

        async def read() -> Decimal:
            return parse.parse_taker_fee_rate(await self._client.get_account())

        return await self._taker_fee.get("account", read)

    async def fetch_fills(
        self, symbol: str, *, order_id: str | None = None, since: datetime | None = None
    ) -> list[Fill]:
        """GET /wapi/v1/history/fills?fillType=User, oldest first."""
        market = await self.market(symbol)
        wire = await self._client.get_fills(
            symbol=market.venue_symbol,
            order_id=order_id,
            from_ms=ms_from_utc(since) if since is not None else None,
            limit=1000,
        )
        fills = [
            parse_orders.parse_fill(row, market.symbol, self._client_ids)
            for row in parse.rows(wire, "fills")
            if parse_orders.wire_symbol(row, "fill") == market.venue_symbol
        ]
        return sorted(fills, key=lambda f: (f.at or _EPOCH, f.trade_id))

    async def funding_payments(
        self, symbol: str | None, since: datetime, until: datetime | None = None
    ) -> list[FundingPayment]:
        """GET /wapi/v1/history/funding, newest first by offset, until a page reaches back past `since` (history.py)."""
        markets = await self.load_markets()
        wanted = (await self.market(symbol)).venue_symbol if symbol is not None else None
        return await self._history.funding_payments(markets, self._markets.canonical, wanted, since, until)


async def _gather(*calls: Awaitable[Any]) -> list[Any]:
    """Run calls concurrently; raise the first failure only after all have finished (none left dangling)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)
