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
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection

from hedgectl.aio import stop_tasks
from hedgectl.domain.types import Fill, Market, Order, Side
from hedgectl.errors import Unavailable
from hedgectl.venues.binance_family.codes import ORDER_STATUS, ORDER_TYPE
from hedgectl.venues.kit.wire import Wire, WireReader
from hedgectl.venues.order_rules import by_venue_symbol
from hedgectl.venues.stream_supervisor import Ready
from hedgectl.venues.streams import EventSource, OrderEvent
from hedgectl.venues.ws_common import PING_INTERVAL_S, loads, open_socket, text_frames

KEEPALIVE_S = 20 * 60.0  # a key lives 60 min after its last POST/PUT; ccxt renews every 20 min too

Markets = Callable[[], Awaitable[Mapping[str, Market]]]


class ListenKeyClient(Protocol):
    """The raw client's listen-key endpoints (binance_family/client.py)."""

    venue: str

    async def post_listen_key(self) -> Any: ...

    async def put_listen_key(self) -> Any: ...


class ListenKeys(Protocol):
    """The venue's listen-key endpoints, errors already translated."""

    async def create(self) -> str:
        """POST listenKey"""
        ...

    async def keepalive(self, key: str) -> None:
        """PUT listenKey"""
        ...


def unwrap(message: Any) -> Any:
    """The event of a frame: bare, or inside the combined-stream envelope `{"stream": ..., "data": {...}}`.

    Binance's `/private/ws?listenKey=` endpoint may deliver either form (ccxt accepts both), so do we.
    """
    if isinstance(message, Mapping) and "e" not in message and isinstance(message.get("data"), Mapping):
        return message["data"]
    return message


def parse_order_trade_update(message: Wire, markets: Mapping[str, Market], venue: str) -> OrderEvent | None:
    """One ORDER_TRADE_UPDATE as an OrderEvent; None for a symbol outside `markets` (venue symbol -> Market).

    A TRADE without its commission (`n`: "will not push if no commission") carries no Fill: the fee is
    read from the fills endpoint then, never guessed as 0.
    """
    r = WireReader(venue)
    o = r.obj(message.get("o"), "ORDER_TRADE_UPDATE.o")
    market = markets.get(str(o.get("s")))
    if market is None:
        return None
    what = "ORDER_TRADE_UPDATE.o"
    status = r.enum(o, "X", ORDER_STATUS, what)
    side = r.enum(o, "S", {"BUY": Side.BUY, "SELL": Side.SELL}, what)
    # `ot` is the type as placed (a triggered STOP_MARKET reports o=MARKET); portfolio-margin events lack `ot`.
    kind = r.enum(o, "ot" if o.get("ot") else "o", ORDER_TYPE, what)
    at = r.opt_ms(o, "T", what) or r.opt_ms(message, "T", "event") or r.opt_ms(message, "E", "event")
    order = Order(
        venue=venue,
        symbol=market.symbol,
        order_id=r.ident(o, "i", what),
        client_order_id=r.opt_text(o, "c"),
        side=side,
        type=kind,
        status=status,
        qty=r.dec(o, "q", what),
        filled_qty=r.dec(o, "z", what),
        avg_price=r.opt_dec(o, "ap", what) or None,  # "0" until something fills
        price=r.opt_dec(o, "p", what) or None,  # "0" on market orders
        reduce_only=r.flag(o, "R", what),
        created_at=at if o.get("x") == "NEW" else None,
        updated_at=at,
    )
    fill = None
    last_qty = r.opt_dec(o, "l", what)
    fee = r.opt_dec(o, "n", what)
    if o.get("x") == "TRADE" and last_qty and fee is not None:
        fill = Fill(
            venue=venue,
            symbol=market.symbol,
            order_id=order.order_id,
            trade_id=r.ident(o, "t", what),
            side=order.side,
            qty=last_qty,
            price=r.dec(o, "L", what),
            fee=fee,
            fee_asset=r.text(o, "N", what),
            is_maker=r.flag(o, "m", what),
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
                        message = unwrap(loads(frame))
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


class ClientListenKeys:
    """The listen-key endpoints through the adapter's raw client (its auth, host guard and error map)."""

    def __init__(self, client: ListenKeyClient) -> None:
        self._client = client

    async def create(self) -> str:
        """POST listenKey"""
        r = WireReader(self._client.venue)
        return r.text(r.obj(await self._client.post_listen_key(), "listenKey"), "listenKey", "listenKey")

    async def keepalive(self, key: str) -> None:
        """PUT listenKey"""
        await self._client.put_listen_key()
