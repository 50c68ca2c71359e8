"""Backpack perpetuals behind the Venue protocol (native: httpx + ED25519).

Order lookups follow Backpack's rule that GET /api/v1/order only knows resting orders: once an order is
filled, cancelled or expired it is resolved through order history and fills, never assumed. An order POST
whose outcome is unknown is reconciled by its clientId (a uint32 derived from our string id) through the
kit's placement helper (`venues/kit/placement.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hedgectl.clock import SYSTEM_CLOCK, Clock, ms_from_utc, utc_from_ms
from hedgectl.domain.ids import RecentClientIds, is_valid_client_order_id, uint32_client_id
from hedgectl.domain.rounding import is_multiple
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
    OrderType,
    Position,
    Quote,
    TimeInForce,
)
from hedgectl.errors import (
    AmbiguousOrderState,
    AuthError,
    BadResponse,
    ConfigError,
    OrderNotFound,
    OrderRejected,
)
from hedgectl.venues.backpack import parse
from hedgectl.venues.backpack.auth import KeyFormatError, check_keypair
from hedgectl.venues.backpack.client import BackpackClient
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
FUNDING_PAGE = 1000  # /wapi/v1/history/funding's largest page
FUNDING_MAX_PAGES = 50  # every read is bounded: 50,000 hourly payments is years of one symbol

# Pauses between order-history lookups while history catches up with the matching engine.
HISTORY_DELAYS_S = (0.1, 0.2, 0.4, 0.8)
# Extra wait past the signature window before a missing order is taken as never placed.
WINDOW_MARGIN_S = 0.5
RECONCILE_DELAY_S = 0.25
RECONCILE_MAX_DELAY_S = 1.0
# Lookups after the window has expired, so that failed lookups near its end still leave a conclusive one.
RECONCILE_EXTRA_LOOKUPS = 2
HISTORY_SCAN_LIMIT = 100


def _check_credentials(config: VenueConfig) -> None:
    has_key, has_secret = config.has("api_key"), config.has("api_secret")
    if has_key != has_secret:
        raise ConfigError(f"{VENUE}: api_key and api_secret must be given together")
    if not has_key:
        return
    try:
        matches = check_keypair(config.secret("api_key"), config.secret("api_secret"))
    except KeyFormatError as exc:
        raise ConfigError(f"{VENUE}: {exc}") from None
    if not matches:
        raise AuthError(VENUE, "api_secret does not derive api_key: the key pair does not match")


class BackpackVenue:
    """One Backpack account's perpetuals (USDC-settled)."""

    name = VENUE

    def __init__(self, config: VenueConfig, *, clock: Clock = SYSTEM_CLOCK) -> None:
        if config.mode is Mode.TESTNET:
            raise ConfigError(f"{VENUE} has no test environment; use paper (the simulator) or live")
        _check_credentials(config)
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
        _validate(request, market)
        body = parse.to_wire_order(request, market)
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
            order = parse.parse_order(wire, market.symbol, self._client_ids)  # unreadable: BadResponse, reconciled
            refused = parse.refusal(order, wire)
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
            lambda: self._find_by_client_id(market, client_id),
            plan,
            venue=VENUE,
            client_order_id=request.client_order_id,
            absent_from=absent_from,
        )

    async def _find_by_client_id(self, market: Market, client_id: int) -> Order | None:
        try:
            wire = await self._client.get_order(market.venue_symbol, client_id=client_id)
        except OrderNotFound:
            pass
        else:
            return await self._with_fills(market, parse.parse_order(wire, market.symbol, self._client_ids))
        history = await self._client.get_order_history(symbol=market.venue_symbol, limit=HISTORY_SCAN_LIMIT)
        for row in _rows(history, "order history"):
            if parse.wire_client_id(row) == client_id:
                order = parse.parse_order(row, market.symbol, self._client_ids)
                return await self._with_fills(market, order, attempts=len(HISTORY_DELAYS_S) + 1)
        return None

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """GET /api/v1/order; on 404 GET /wapi/v1/history/orders then /wapi/v1/history/fills."""
        market = await self.market(symbol)
        client_id = self._client_id(order_id, client_order_id)
        try:
            wire = await self._client.get_order(market.venue_symbol, order_id=order_id, client_id=client_id)
        except OrderNotFound:
            return await self._from_history(market, order_id, client_id, client_order_id)
        return await self._with_fills(market, parse.parse_order(wire, market.symbol, self._client_ids))

    def _client_id(self, order_id: str | None, client_order_id: str | None) -> int | None:
        if (order_id is None) == (client_order_id is None):
            raise ValueError("give exactly one of order_id and client_order_id")
        if client_order_id is None:
            return None
        client_id = uint32_client_id(client_order_id)
        self._client_ids[client_id] = client_order_id
        return client_id

    async def _from_history(
        self, market: Market, order_id: str | None, client_id: int | None, client_order_id: str | None
    ) -> Order:
        """Resolve an order that is not resting: history (retried while it lags), then its fills."""
        for delay in (*HISTORY_DELAYS_S, None):
            if order_id is not None:
                history = await self._client.get_order_history(symbol=market.venue_symbol, order_id=order_id)
            else:
                history = await self._client.get_order_history(symbol=market.venue_symbol, limit=HISTORY_SCAN_LIMIT)
            for row in _rows(history, "order history"):
                if (order_id is not None and parse.wire_order_id(row) == order_id) or (
                    client_id is not None and parse.wire_client_id(row) == client_id
                ):
                    order = parse.parse_order(row, market.symbol, self._client_ids)
                    return await self._with_fills(market, order, attempts=len(HISTORY_DELAYS_S) + 1)
            if delay is not None:
                await self._clock.sleep(delay)
        raise OrderNotFound(VENUE, f"order {order_id or client_order_id} is neither open nor in order history")

    async def _with_fills(self, market: Market, order: Order, attempts: int = 1) -> Order:
        """Average price and fee from the order's fills, once the fills add up to its executed quantity."""
        if order.filled_qty == 0:
            return order
        for attempt in range(attempts):
            fills = await self._client.get_fills(symbol=market.venue_symbol, order_id=order.order_id)
            merged = parse.with_fills(order, [parse.parse_fill(f, market.symbol) for f in _rows(fills, "fills")])
            if merged is not order:
                return merged
            if attempt + 1 < attempts:
                await self._clock.sleep(HISTORY_DELAYS_S[min(attempt, len(HISTORY_DELAYS_S) - 1)])
        return order

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
                return await self._from_history(market, order_id, client_id, client_order_id)
            except OrderRejected as exc:
                if exc.code != "INVALID_ORDER":
                    raise
                return await self._from_history(market, order_id, client_id, client_order_id)
            except (AmbiguousOrderState, BadResponse):
                # Cancelling twice is harmless: look first, cancel again only if it still rests.
                order = await self.fetch_order(symbol, order_id=order_id, client_order_id=client_order_id)
                if order.status.is_final:
                    return order
                continue
            order = parse.parse_order(wire, market.symbol, self._client_ids)
            if order.status.is_open:
                order = await self._await_final(symbol, order)
            return await self._with_fills(market, order)
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
        for row in _rows(await self._client.get_open_orders(venue_symbol), "open orders"):
            canonical = self._markets.canonical(parse.wire_symbol(row, "order"))
            if canonical is not None:
                orders.append(parse.parse_order(row, canonical, self._client_ids))
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
            cancelled.extend(parse.parse_order(row, canonical, self._client_ids) for row in _rows(wire, "cancel"))
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
        venue_symbol = (await self.market(symbol)).venue_symbol if symbol else None
        await self.load_markets()
        positions = []
        for row in _rows(await self._client.get_positions(venue_symbol), "positions"):
            canonical = self._markets.canonical(parse.wire_symbol(row, "position"))
            if canonical is None or (symbol is not None and canonical != symbol.upper()):
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
            parse.parse_fill(row, market.symbol, self._client_ids)
            for row in _rows(wire, "fills")
            if parse.wire_symbol(row, "fill") == market.venue_symbol
        ]
        return sorted(fills, key=lambda f: (f.at or _EPOCH, f.trade_id))

    async def funding_payments(
        self, symbol: str | None, since: datetime, until: datetime | None = None
    ) -> list[FundingPayment]:
        """GET /wapi/v1/history/funding, newest first by offset, until a page reaches back past `since`."""
        markets = await self.load_markets()
        wanted = (await self.market(symbol)).venue_symbol if symbol is not None else None
        payments: list[FundingPayment] = []
        for page_no in range(FUNDING_MAX_PAGES):
            wire = await self._client.get_funding_history(
                symbol=wanted, limit=FUNDING_PAGE, offset=page_no * FUNDING_PAGE, sort_direction="Desc"
            )
            rows = _rows(wire, "funding payments")
            oldest: datetime | None = None
            for row in rows:
                venue_symbol = parse.wire_symbol(row, "funding payment")
                canonical = self._markets.canonical(venue_symbol)
                market = markets.get(canonical) if canonical is not None else None
                payment = parse.parse_funding_payment(row, canonical or venue_symbol, market.quote if market else "")
                oldest = payment.at if oldest is None else min(oldest, payment.at)
                if market is not None and (wanted is None or venue_symbol == wanted):
                    payments.append(payment)  # a spot or unlisted symbol is not one of our perps
            if len(rows) < FUNDING_PAGE or (oldest is not None and oldest < since):
                break
        else:
            raise BadResponse(VENUE, f"funding history: more than {FUNDING_MAX_PAGES} pages since {since:%Y-%m-%d}")
        kept = {p.payment_id: p for p in payments if p.at >= since and (until is None or p.at < until)}
        return sorted(kept.values(), key=lambda p: (p.at, p.payment_id))


def _validate(request: OrderRequest, market: Market) -> None:
    """Refuse locally what Backpack would refuse, with the numbers in the message."""
    problems = []
    if not is_valid_client_order_id(request.client_order_id):
        problems.append(f"client order id {request.client_order_id!r} is not 1-32 letters and digits")
    if request.qty <= 0 or not is_multiple(request.qty, market.step_size):
        problems.append(f"quantity {request.qty} is not a positive multiple of the step {market.step_size}")
    elif request.qty < market.min_qty:
        problems.append(f"quantity {request.qty} is below the minimum {market.min_qty}")
    elif market.max_qty is not None and request.qty > market.max_qty:
        problems.append(f"quantity {request.qty} is above the maximum {market.max_qty}")
    if request.type is OrderType.LIMIT:
        if request.price is None or request.price <= 0:
            problems.append("a limit order needs a positive price")
        elif not is_multiple(request.price, market.tick_size):
            problems.append(f"price {request.price} is not a multiple of the tick {market.tick_size}")
    elif request.time_in_force is TimeInForce.POST_ONLY:
        problems.append("a market order cannot be post-only")
    if problems:
        raise OrderRejected(VENUE, f"{market.venue_symbol}: " + "; ".join(problems))


def _rows(wire: object, what: str) -> list[object]:
    if not isinstance(wire, list):
        raise BadResponse(VENUE, f"{what}: expected a list, got {type(wire).__name__}")
    return wire


async def _gather(*calls: Awaitable[Any]) -> list[Any]:
    """Run calls concurrently; raise the first failure only after all have finished (none left dangling)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return list(results)
