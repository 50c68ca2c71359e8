"""Plumbing shared by the simulator's private WebSocket streams of Binance, Aster and OKX.

One `PrivateSocket` per connection: engine events are rendered synchronously in the bus callback,
queued as text frames, and written by a pump task, so a slow client never stalls the matching engine.
Every connection is registered in the simulator's stream hub (`hedgectl/sim/stream_hub.py`), so
`POST /_sim/streams/drop` can cut it (the transport is aborted: the client sees a network failure, not
a polite close) and a refused venue gets no new connection (HTTP 503 at the handshake).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from hedgectl.sim.events import EventBus
from hedgectl.sim.model import EngineEvent
from hedgectl.sim.stream_hub import hub_of

if TYPE_CHECKING:
    from hedgectl.sim.dialects.base import Dialect

log = logging.getLogger("hedgectl.sim")

MAX_FRAME_BYTES = 64 * 1024
Render = Callable[[EngineEvent], list[str]]


def dumps(payload: Any) -> str:
    """Compact JSON, as venues send it."""
    return json.dumps(payload, separators=(",", ":"))


class PrivateSocket:
    """One private WebSocket: its outgoing queue, its engine subscription, and its pump."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self.request = request
        self.ws = ws
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()  # None: close after what is queued
        self._unsubscribe: Callable[[], None] | None = None

    def send(self, text: str) -> None:
        """Queue one text frame (callable from a synchronous bus callback)."""
        self._queue.put_nowait(text)

    def send_json(self, payload: Any) -> None:
        self.send(dumps(payload))

    def close_soon(self) -> None:
        """Close the connection once the frames already queued are written."""
        self._queue.put_nowait(None)

    def subscribe(self, bus: EventBus, venue: str, render: Render) -> None:
        """Queue every rendered order event of `venue` (a second call is ignored)."""
        if self._unsubscribe is not None:
            return

        def on_event(event: EngineEvent) -> None:
            if event.venue == venue and event.order is not None:
                for text in render(event):
                    self._queue.put_nowait(text)

        self._unsubscribe = bus.subscribe(on_event)

    def unsubscribe(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def drop(self) -> None:
        """Stop delivering and cut the TCP connection without a close frame (a network drop)."""
        self.unsubscribe()
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def pump(self) -> None:
        while True:
            text = await self._queue.get()
            if text is None:
                await self.ws.close()
                return
            await self.ws.send_str(text)


async def serve(
    dialect: Dialect,
    request: web.Request,
    on_open: Callable[[PrivateSocket], None],
    on_text: Callable[[PrivateSocket, str], Awaitable[None] | None],
    on_close: Callable[[PrivateSocket], None] | None = None,
) -> web.StreamResponse:
    """Accept one private stream of `dialect`'s venue and run it until either side closes.

    `on_open` runs before the handshake completes, so a subscription it makes sees every event from
    the moment the client could first act on the open connection.
    """
    hub = hub_of(dialect.sim)
    if hub.refusing(dialect.venue):
        return web.json_response({"ok": False, "error": "streams refused by the simulator"}, status=503)
    ws = web.WebSocketResponse(autoping=True, max_msg_size=MAX_FRAME_BYTES)
    sock = PrivateSocket(request, ws)
    unregister = hub.add(dialect.venue, sock)
    pump: asyncio.Task[None] | None = None
    try:
        on_open(sock)
        await ws.prepare(request)
        pump = asyncio.get_running_loop().create_task(sock.pump(), name=f"sim-{dialect.venue}-private-ws")
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                try:
                    result = on_text(sock, msg.data)
                    if result is not None:
                        await result
                except Exception:  # the referee must not fall over: log it, end this connection only
                    log.exception("simulator %s: private stream handler failed", dialect.venue)
                    break
            elif msg.type is WSMsgType.ERROR or pump.done():
                break
    finally:
        sock.unsubscribe()
        unregister()
        if on_close is not None:
            on_close(sock)
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
                await pump
        if ws.prepared and not ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.close()
    return ws
