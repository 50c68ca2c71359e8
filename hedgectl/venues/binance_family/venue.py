"""The Binance family's adapter behind the Venue protocol: what Binance USDⓈ-M and Aster do the same way.

Operations in domain types; the raw client (`client.py`) speaks wire, `parse.py` translates. The venues'
own modules (`venues/binance/`, `venues/aster/`) choose the client (paths, signer, limits), the balance
endpoint, the quote's extras and the stream URL; everything else is here, once.

An order POST is sent once (`kit.placement`): if its outcome is unknown the order is looked up by client
order id, and only a venue that answers "no such order" turns the failure into Unavailable (not placed). The account's
position mode is read once per session and cached; a -4061 refusal (the position side does not fit the
mode) drops the cached mode so the next order reads it again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from hedgectl.clock import SYSTEM_CLOCK, ms_from_utc
from hedgectl.domain.symbols import canonical_symbol
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
from hedgectl.errors import (
    AmbiguousOrderState,
    OrderNotFound,
    Unavailable,
    UsageError,
    VenueError,
)
from hedgectl.venues.base import REFERENCE_SYMBOL, PreparedOrder, WireRequest
from hedgectl.venues.binance_family.client import FamilyClient, PreparedCall
from hedgectl.venues.binance_family.errors import POSITION_SIDE_REFUSED
from hedgectl.venues.binance_family.parse import DEFAULT_FUNDING_INTERVAL, FamilyParser, depth_limit
from hedgectl.venues.binance_family.reader import FUNDING_FEE, QUOTE_ASSET
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.candles import check_limit, interval_name
from hedgectl.venues.kit.fees import FeeCache
from hedgectl.venues.kit.host_guard import origin
from hedgectl.venues.kit.markets import MarketRules
from hedgectl.venues.kit.placement import ReconcilePlan, place
from hedgectl.venues.kit.retry import Sleep
from hedgectl.venues.order_rules import check_order_rules
from hedgectl.venues.streams import OrderEvent

if TYPE_CHECKING:
    from hedgectl.venues.binance_family.stream import UserDataStream
    from hedgectl.venues.streams import Connect, StateHook
    from hedgectl.venues.streams.supervisor import SupervisorConfig

log = logging.getLogger(__name__)

FUNDING_INFO_TTL_S = 3600.0
# Lookups by client id after an unknown outcome; a late-landing order gets this long to show up.
RECONCILE_DELAYS_S: tuple[float, ...] = (0.0, 0.5, 1.0)
INCOME_PAGE = 1000  # the income endpoint's largest `limit`
MAX_INCOME_PAGES = 100  # a bound on one history read (100,000 payments); more is a venue that never ends a page


class FamilyVenue:
    """A Binance-family account's USDT-margined perpetuals; subclasses say what differs per venue."""

    name: str
    # Quote: also GET ticker/24hr for the last price (Aster); Binance's quote is book + mark + funding.
    quote_with_last: ClassVar[bool] = False
    # The positionRisk endpoint that still reports leverage and margin type (Binance: v2; v3 dropped them).
    config_risk_endpoint: ClassVar[str] = "positionRisk"

    def __init__(
        self,
        config: VenueConfig,
        client: FamilyClient,
        *,
        sleep: Sleep = SYSTEM_CLOCK.sleep,
        reconcile_delays_s: Sequence[float] = RECONCILE_DELAYS_S,
    ) -> None:
        self.name = config.name
        self.mode = config.mode
        self.host = origin(config.base_url)
        self._config = config
        self._client = client
        self._parse = FamilyParser(config.name)
        self._sleep = sleep
        self._plan = ReconcilePlan(tuple(reconcile_delays_s) or (0.0,), sleep)
        self._markets = MarketRules(
            config, self._fetch_markets, not_listed=lambda base: f"no linear USDT perpetual for {base}"
        )
        self._funding: dict[str, timedelta] = {}
        self._funding_loaded_at: float | None = None
        self._position_mode: PositionMode | None = None
        self._taker_fees = FeeCache()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mode={self.mode.value!r}, host={self.host!r}, auth={self._client.scheme})"

    @property
    def clock_offset_ms(self) -> int:
        """Server minus local clock, as last measured (0 before the first signed request)."""
        return self._client.offset_ms

    # --- markets ------------------------------------------------------------------------------

    async def load_markets(self, *, reload: bool = False) -> dict[str, Market]:
        """GET exchangeInfo (or the on-disk cache): USDT-margined perpetuals that are trading."""
        return await self._markets.load(reload=reload)

    async def _fetch_markets(self) -> tuple[dict[str, Market], dict[str, str]]:
        return self._parse.markets(await self._client.get_exchange_info())

    async def market(self, symbol: str) -> Market:
        """The perpetual of a canonical symbol (BTC -> BTCUSDT); a miss in cached rules reloads them once."""
        return await self._markets.get(symbol)

    def _symbol_of(self, venue_symbol: str) -> str:
        canonical = self._markets.canonical(venue_symbol)
        if canonical is not None:
            return canonical
        return venue_symbol.removesuffix(QUOTE_ASSET) or venue_symbol

    def _venue_symbol(self, symbol: str) -> str:
        markets = self._markets.loaded
        if markets and symbol in markets:
            return markets[symbol].venue_symbol
        return symbol + QUOTE_ASSET

    # --- market data --------------------------------------------------------------------------

    async def fetch_quote(self, symbol: str) -> Quote:
        """GET ticker/bookTicker, premiumIndex (+ ticker/24hr) and the (cached) fundingInfo, concurrently."""
        market = await self.market(symbol)
        vs = market.venue_symbol
        top, premium, interval, day = await asyncio.gather(
            self._client.get_book_ticker(vs),
            self._client.get_premium_index(vs),
            self._funding_interval(vs),
            self._client.get_ticker_24hr(vs) if self.quote_with_last else _none(),
        )
        return self._parse.quote(market.symbol, top, premium, interval, day)

    async def _funding_interval(self, venue_symbol: str) -> timedelta:
        """GET fundingInfo at most hourly; symbols it does not list settle every 8 hours."""
        now = SYSTEM_CLOCK.monotonic()
        if self._funding_loaded_at is None or now - self._funding_loaded_at > FUNDING_INFO_TTL_S:
            self._funding = self._parse.funding_intervals(await self._client.get_funding_info())
            self._funding_loaded_at = now
        return self._funding.get(venue_symbol, DEFAULT_FUNDING_INTERVAL)

    async def fetch_book(self, symbol: str, depth: int = 20) -> OrderBook:
        """GET depth with the smallest allowed limit that covers `depth`."""
        if depth < 1:
            raise UsageError(f"{self.name}: book depth must be at least 1")
        market = await self.market(symbol)
        wire = await self._client.get_depth(market.venue_symbol, depth_limit(depth))
        return self._parse.book(wire, market.symbol, depth)

    async def fetch_candles(self, symbol: str, interval: timedelta, limit: int) -> list[Candle]:
        """GET klines (newest last; the last one is still forming)."""
        name = interval_name(self.name, interval)
        check_limit(self.name, limit)
        market = await self.market(symbol)
        wire = await self._client.get_klines(market.venue_symbol, name, limit)
        return self._parse.candles(wire, market.symbol, interval)[-limit:]

    async def fetch_server_time(self) -> datetime:
        """GET time"""
        return self._parse.server_time(await self._client.get_time())

    # --- orders -------------------------------------------------------------------------------

    async def prepare_order(self, request: OrderRequest) -> PreparedOrder:
        """Sign and build POST order (rate-limit token and clock offset taken here); nothing is sent."""
        market = await self.market(request.symbol)
        check_order_rules(market, request)  # step, tick, and the market-order cap (MARKET_LOT_SIZE) before sending
        params = self._parse.to_wire_order(market.venue_symbol, request, await self.position_mode())
        call = await self._client.prepare_order_post(params)
        wire = WireRequest(call.http.method, str(call.http.url), dict(call.http.headers), call.http.content or None)
        return PreparedOrder(request, wire, lambda: self._send_order(market, request, call))

    async def place_order(self, request: OrderRequest) -> Order:
        """POST order once; on an unknown outcome, GET order by origClientOrderId (never a resend)."""
        return await (await self.prepare_order(request)).send()

    async def _send_order(self, market: Market, request: OrderRequest, call: PreparedCall) -> Order:
        """Send the prepared POST once; its ack, or the order found by client id if the outcome is unknown."""
        cid = request.client_order_id

        async def send() -> Order:
            try:
                return self._parse.order(await self._client.send_order_post(call), self._symbol_of)
            except VenueError as exc:
                if exc.code == POSITION_SIDE_REFUSED:  # the account's mode changed since it was read
                    self._position_mode = None
                raise

        async def lookup() -> Order:
            wire = await self._client.get_order_once(market.venue_symbol, client_order_id=cid)
            return self._parse.order(wire, self._symbol_of)

        return await place(send, lookup, self._plan, venue=self.name, client_order_id=cid)

    async def _with_fees(self, market: Market, order: Order) -> Order:
        """GET userTrades by orderId to add fee (and average price if missing) to a (partly) filled order."""
        if order.filled_qty <= 0 or (order.fee is not None and order.avg_price is not None):
            return order
        try:
            trades = await self._client.get_user_trades(market.venue_symbol, order_id=order.order_id)
            fills = [f for f in self._parse.fills(trades, self._symbol_of) if f.order_id == order.order_id]
        except VenueError as exc:
            # The order stands; only its fee is unknown. Callers read fills later if they need it.
            log.warning("%s: fills of order %s unavailable: %s", self.name, order.order_id, exc)
            return order
        qty = sum((f.qty for f in fills), Decimal(0))
        assets = {f.fee_asset for f in fills}
        if qty != order.filled_qty or len(assets) != 1:
            return order  # fills not all recorded yet (or in mixed assets): leave the fee unknown, never wrong
        avg = order.avg_price or sum((f.qty * f.price for f in fills), Decimal(0)) / qty
        fee = sum((f.fee for f in fills), Decimal(0))
        return dataclasses.replace(order, fee=fee, fee_asset=assets.pop(), avg_price=avg)

    async def cancel_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """DELETE order; an order already final is returned as the venue reports it, an unknown one is OrderNotFound."""
        _require_ref(self.name, order_id, client_order_id)
        market = await self.market(symbol)
        ref = {"order_id": order_id, "client_order_id": client_order_id}
        try:
            wire = await self._client.delete_order(market.venue_symbol, **ref)
        except OrderNotFound as not_found:
            # -2011: filled or cancelled already, or never existed; the lookup tells which.
            order = await self.fetch_order(symbol, **ref)
            if not order.status.is_final:
                raise not_found from None
            return order
        except AmbiguousOrderState:
            order = await self.fetch_order(symbol, **ref)
            if order.status.is_final:
                return order
            # Cancelling is idempotent, so sending it again is safe (unlike an order POST).
            try:
                wire = await self._client.delete_order(market.venue_symbol, **ref)
            except OrderNotFound:
                return await self.fetch_order(symbol, **ref)
        return await self._with_fees(market, self._parse.order(wire, self._symbol_of))

    async def fetch_order(
        self, symbol: str, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """GET order by orderId or origClientOrderId (OrderNotFound on -2013)."""
        _require_ref(self.name, order_id, client_order_id)
        market = await self.market(symbol)
        wire = await self._client.get_order(market.venue_symbol, order_id=order_id, client_order_id=client_order_id)
        order = self._parse.order(wire, self._symbol_of)
        # Fees are fetched once an order is final; polling a working order costs one request, not two.
        return await self._with_fees(market, order) if order.status.is_final else order

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """GET openOrders (one symbol, or all of them, listed markets or not)."""
        venue_symbol = (await self.market(symbol)).venue_symbol if symbol else None
        await self.load_markets()
        wire = await self._client.get_open_orders(venue_symbol)
        return self._parse.orders(wire, self._symbol_of)

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """DELETE allOpenOrders per symbol, then GET order for each one it cancelled."""
        open_orders = await self.fetch_open_orders(symbol)
        symbols = {canonical_symbol(symbol)} if symbol else {o.symbol for o in open_orders}
        for sym in sorted(symbols):
            try:
                ack = await self._client.delete_all_open_orders(self._venue_symbol(sym))
            except AmbiguousOrderState:
                # Cancelling everything is idempotent, so one more try is safe (unlike an order POST).
                ack = await self._client.delete_all_open_orders(self._venue_symbol(sym))
            self._parse.ack(ack)
        return list(await asyncio.gather(*(self.fetch_order(o.symbol, order_id=o.order_id) for o in open_orders)))

    # --- account ------------------------------------------------------------------------------

    async def position_mode(self) -> PositionMode:
        """GET positionSide/dual, once per session: every order's parameters depend on it.

        Read on the first order's path: it spends an order token, so a spent read budget never delays it.
        """
        if self._position_mode is None:
            self._position_mode = self._parse.position_mode(await self._client.get_position_mode(order_path=True))
        return self._position_mode

    async def fetch_account_config(self, symbol: str = REFERENCE_SYMBOL) -> AccountConfig:
        """Position mode (positionSide/dual), margin type and leverage of `symbol` (positionRisk)."""
        market = await self.market(symbol)
        mode_wire, rows = await asyncio.gather(
            self._client.get_position_mode(),
            self._client.get_position_risk(market.venue_symbol, endpoint=self.config_risk_endpoint),
        )
        self._position_mode = self._parse.position_mode(mode_wire)
        return self._parse.account_config(self._position_mode, rows, market.venue_symbol)

    async def fetch_taker_fee_rate(self, symbol: str) -> Decimal:
        """GET commissionRate?symbol= (signed): the account's own taker rate, read once per session and symbol."""
        market = await self.market(symbol)
        vs = market.venue_symbol

        async def read() -> Decimal:
            return self._parse.taker_fee_rate(await self._client.get_commission_rate(vs), vs)

        return await self._taker_fees.get(vs, read)

    async def fetch_positions(self, symbol: str | None = None) -> list[Position]:
        """GET positionRisk: every non-zero position (signed base quantities)."""
        venue_symbol = (await self.market(symbol)).venue_symbol if symbol else None
        await self.load_markets()
        wire = await self._client.get_position_risk(venue_symbol)
        # Every position, listed market or not (a delisted or settling symbol): exposure is never hidden.
        positions = self._parse.positions(wire, self._symbol_of)
        if symbol:
            positions = [p for p in positions if p.symbol == canonical_symbol(symbol)]
        return positions

    async def fetch_balances(self) -> list[Balance]:
        """GET balance (the venue's balance endpoint; Binance reads its account endpoint instead)."""
        return self._parse.balances(await self._client.get_balance())

    async def fetch_fills(
        self, symbol: str, *, order_id: str | None = None, since: datetime | None = None
    ) -> list[Fill]:
        """GET userTrades, oldest first."""
        market = await self.market(symbol)
        start = ms_from_utc(since) if since is not None else None
        wire = await self._client.get_user_trades(market.venue_symbol, order_id=order_id, start_time_ms=start)
        return self._parse.fills(wire, self._symbol_of)

    async def funding_payments(
        self, symbol: str | None, since: datetime, until: datetime | None = None
    ) -> list[FundingPayment]:
        """GET income?incomeType=FUNDING_FEE, every page of [since, until), oldest first, once per tranId.

        A page holds the oldest `limit` rows from startTime; a full page is read on from its last row's time
        (inclusive: rows sharing that millisecond are not skipped; repeats are dropped by tranId).
        """
        venue_symbol = (await self.market(symbol)).venue_symbol if symbol else None
        await self.load_markets()
        start = ms_from_utc(since)
        end = ms_from_utc(until) - 1 if until is not None else None
        seen: dict[str, FundingPayment] = {}
        for _ in range(MAX_INCOME_PAGES):
            wire = await self._client.get_income(
                symbol=venue_symbol, income_type=FUNDING_FEE, start_time_ms=start, end_time_ms=end, limit=INCOME_PAGE
            )
            page = self._parse.funding_payments(wire, self._symbol_of)
            fresh = [p for p in page if p.payment_id not in seen]
            seen.update((p.payment_id, p) for p in fresh)
            rows = len(self._parse.r.seq(wire, "income"))
            if rows < INCOME_PAGE or not page:
                break
            last = max(ms_from_utc(p.at) for p in page)
            start = last if fresh else last + 1  # a full page of one millisecond: step past it
        else:
            raise Unavailable(self.name, f"funding history did not end within {MAX_INCOME_PAGES} pages")
        in_window = (p for p in seen.values() if p.at >= since and (until is None or p.at < until))
        return sorted(in_window, key=lambda p: (p.at, len(p.payment_id), p.payment_id))  # numeric ids in order

    # --- private order stream -----------------------------------------------------------------

    def user_stream(self) -> UserDataStream:
        """This account's user data stream (the venue's host and URL form: venues/<venue>/stream.py)."""
        raise NotImplementedError

    def stream_connector(self) -> Connect:
        """The one-session connector the stream supervisor runs (binance_family/stream.py)."""
        return self.user_stream().connect

    def order_events(
        self, symbol: str | None = None, *, config: SupervisorConfig | None = None, on_state: StateHook | None = None
    ) -> AsyncIterator[OrderEvent]:
        """WS user data stream (POST/PUT listenKey): ORDER_TRADE_UPDATE, supervised."""
        from hedgectl.venues.streams.supervisor import supervise

        return supervise(self, self.stream_connector(), symbol, config=config, on_state=on_state)

    async def close(self) -> None:
        """Close the keep-alive connection pool."""
        await self._client.close()


async def _none() -> None:
    return None


def _require_ref(venue: str, order_id: str | None, client_order_id: str | None) -> None:
    if order_id is None and client_order_id is None:
        raise UsageError(f"{venue}: give an order id or a client order id")
