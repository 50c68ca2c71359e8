"""Binance-family user data streams (Binance USDⓈ-M, Aster): the listen-key session and ORDER_TRADE_UPDATE.

One session (reference §2.6, §5.5): POST listenKey (the account's key, the same one while it is valid),
connect the WebSocket, PUT the key every `keepalive_s` (a refused PUT ends the session, so the supervisor
reconnects with a fresh key), and turn each `ORDER_TRADE_UPDATE` into an OrderEvent. `listenKeyExpired`
ends the session too. The venue sends no subscription ack, so the session is ready once connected.
Keys are never DELETEd: every consumer of the account shares the one key, and an unused key lapses.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Protocol

from websockets.asyncio.client import ClientConnection

from hedgectl.aio import stop_tasks
from hedgectl.domain.types import Fill, Market, Order, OrderType, Side
from hedgectl.errors import BadResponse, Unavailable
from hedgectl.venues.binance_codes import ORDER_STATUS
from hedgectl.venues.ccxt_wire import Wire, by_venue_symbol, dec, flag, ms_time, opt_dec, opt_text, text
from hedgectl.venues.stream_supervisor import Ready
from hedgectl.venues.streams import EventSource, OrderEvent
from hedgectl.venues.ws_common import PING_INTERVAL_S, loads, open_socket, text_frames

KEEPALIVE_S = 20 * 60.0  # a key lives 60 min after its last POST/PUT; ccxt renews every 20 min too

Markets = Callable[[], Awaitable[Mapping[str, Market]]]


class ListenKeys(Protocol):
    """The venue's listen-key endpoints, errors already translated."""

    async def create(self) -> str:
        """POST listenKey"""
        ...

    async def keepalive(self, key: str) -> None:
        """PUT listenKey"""
        ...


def parse_order_trade_update(message: Wire, markets: Mapping[str, Market], venue: str) -> OrderEvent | None:
    """One ORDER_TRADE_UPDATE as an OrderEvent; None for a symbol outside `markets` (venue symbol -> Market)."""
    o = message.get("o")
    if not isinstance(o, Mapping):
        raise BadResponse(venue, "ORDER_TRADE_UPDATE without its order object")
    market = markets.get(str(o.get("s")))
    if market is None:
        return None
    status = ORDER_STATUS.get(str(o.get("X")))
    if status is None:
        raise BadResponse(venue, f"unknown order status {o.get('X')!r}")
    side = str(o.get("S", "")).lower()
    if side not in ("buy", "sell"):
        raise BadResponse(venue, f"unknown side {o.get('S')!r}")
    at = ms_time(o, "T", venue) or ms_time(message, "T", venue) or ms_time(message, "E", venue)
    order = Order(
        venue=venue,
        symbol=market.symbol,
        order_id=text(o, "i", venue),
        client_order_id=opt_text(o, "c"),
        side=Side(side),
        type=OrderType.MARKET if (o.get("ot") or o.get("o")) == "MARKET" else OrderType.LIMIT,
        status=status,
        qty=dec(o, "q", venue),
        filled_qty=dec(o, "z", venue),
        avg_price=opt_dec(o, "ap", venue) or None,  # "0" until something fills
        price=opt_dec(o, "p", venue) or None,  # "0" on market orders
        reduce_only=flag(o, "R"),
        created_at=at if o.get("x") == "NEW" else None,
        updated_at=at,
    )
    fill = None
    last_qty = opt_dec(o, "l", venue)
    if o.get("x") == "TRADE" and last_qty:
        fill = Fill(
            venue=venue,
            symbol=market.symbol,
            order_id=order.order_id,
            trade_id=text(o, "t", venue),
            side=order.side,
            qty=last_qty,
            price=dec(o, "L", venue),
            fee=opt_dec(o, "n", venue) or Decimal(0),
            fee_asset=opt_text(o, "N") or market.quote,
            is_maker=flag(o, "m"),
            client_order_id=order.client_order_id,
            at=at,
        )
    return OrderEvent(order=order, fill=fill, source=EventSource.STREAM, received_ns=time.time_ns())


class UserDataStream:
    """The connector (see stream_supervisor) of one Binance-family account."""

    def __init__(
        self,
        venue: str,
        keys: ListenKeys,
        markets: Markets,
        *,
        ws_base: str,
        url_for: Callable[[str], str],
        keepalive_s: float = KEEPALIVE_S,
        ping_interval_s: float = PING_INTERVAL_S,
    ) -> None:
        self.venue = venue
        self._keys = keys
        self._markets = markets
        self._ws_base = ws_base
        self.url_for = url_for
        self._keepalive_s = keepalive_s
        self._ping_interval_s = ping_interval_s

    def __repr__(self) -> str:
        return f"UserDataStream(venue={self.venue!r}, ws_base={self._ws_base!r})"

    async def connect(self, ready: Ready) -> AsyncGenerator[OrderEvent, None]:
        """One session: POST listenKey, connect, keep the key alive, yield each order update."""
        markets = by_venue_symbol(await self._markets())
        key = await self._keys.create()
        url = self.url_for(key)
        async with open_socket(url, self._ws_base, venue=self.venue, ping_interval_s=self._ping_interval_s) as ws:
            ready()
            failures: list[Exception] = []
            keeper = asyncio.create_task(self._keep_alive(key, ws, failures), name=f"{self.venue}-listen-key")
            try:
                async with contextlib.aclosing(text_frames(ws, self.venue)) as frames:
                    async for frame in frames:
                        message = loads(frame)
                        kind = message.get("e") if isinstance(message, Mapping) else None
                        if kind == "ORDER_TRADE_UPDATE":
                            event = parse_order_trade_update(message, markets, self.venue)
                            if event is not None:
                                yield event
                        elif kind == "listenKeyExpired":
                            raise Unavailable(self.venue, "the listen key expired")
                if failures:
                    raise failures[0]
            finally:
                await stop_tasks([keeper], what=f"{self.venue} listen-key keeper")

    async def _keep_alive(self, key: str, ws: ClientConnection, failures: list[Exception]) -> None:
        """PUT the key on a timer; if the venue refuses, close the socket: the session ends and restarts."""
        while True:
            await asyncio.sleep(self._keepalive_s)
            try:
                await self._keys.keepalive(key)
            except Exception as exc:  # noqa: BLE001 - whatever the cause, this session's key is unusable
                failures.append(exc)
                await ws.close()
                return
