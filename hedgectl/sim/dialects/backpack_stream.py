"""Backpack's private order stream in the simulator: `GET /backpack/ws`, a signed SUBSCRIBE, then order updates.

The client sends `{"method": "SUBSCRIBE", "params": ["account.orderUpdate[.<symbol>]"], "signature": [apiKey,
sig, timestamp_ms, window_ms]}`; the signature is checked as Backpack checks it (ED25519 by the key whose
base64 public half is apiKey, over `instruction=subscribe&timestamp=..&window=..`, window at most 60 s).
A good subscription is not acknowledged (Backpack sends nothing); a refused one gets
`{"id": null, "error": {"code", "message"}}` and, for a bad signature, the connection is closed.
Updates are `{"stream": <name>, "data": {e, E, s, c, S, o, f, q, p, X, i, z, Z, T, ...}}` with E and T in
microseconds, and on `orderFill` also t, l, L, m, n, N. They are pushed without the venue's injected REST
latency. Error codes: 4006 "Invalid stream" is what ccxt documents; the others are the simulator's own
(Backpack does not publish its WebSocket error codes).

This module re-implements the verification instead of importing the adapter: the simulator is the referee.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from hedgectl.sim.core import Simulator
from hedgectl.sim.dialects.backpack_auth import (
    DEFAULT_WINDOW_MS,
    MAX_WINDOW_MS,
    BackpackKey,
    signing_string,
)
from hedgectl.sim.dialects.backpack_market import now_ms
from hedgectl.sim.dialects.backpack_wire import client_id_of, expiry_reason, fmt, status_of, wire_side
from hedgectl.sim.dialects.base import json_response
from hedgectl.sim.model import EngineEvent, EventKind, Order, OrderType, TimeInForce
from hedgectl.sim.stream_hub import hub_of

log = logging.getLogger("hedgectl.sim")

VENUE = "backpack"
WS_PATH = "/backpack/ws"
ORDER_STREAM = "account.orderUpdate"
HEARTBEAT_S = 60.0  # Backpack pings every 60 s
MAX_REQUEST_BYTES = 16 * 1024

INVALID_STREAM = 4006
INVALID_REQUEST = 4000
INVALID_SIGNATURE = 4001
EXPIRED = 4002

_EVENTS = {
    EventKind.NEW: "orderAccepted",
    EventKind.FILL: "orderFill",
    EventKind.CANCELED: "orderCancelled",
    EventKind.EXPIRED: "orderExpired",
}


class StreamRefusal(Exception):
    """A subscription the venue refuses: its error code, message and whether the connection is closed."""

    def __init__(self, code: int, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.close = close


# --- verification and rendering (pure) --------------------------------------------------------------------


def verify_subscription(keys: Mapping[str, BackpackKey], signature: object, now: int) -> BackpackKey:
    """Check a SUBSCRIBE's `signature` array; return the key or raise StreamRefusal (closing)."""
    if (
        not isinstance(signature, list)
        or len(signature) not in (3, 4)
        or not all(isinstance(v, str) for v in signature)
    ):
        raise StreamRefusal(INVALID_SIGNATURE, "Signature must be [apiKey, signature, timestamp, window]", close=True)
    api_key, sig_b64, timestamp_text = signature[:3]
    window_text = signature[3] if len(signature) == 4 else str(DEFAULT_WINDOW_MS)
    try:
        timestamp, window = int(timestamp_text), int(window_text)
    except ValueError:
        raise StreamRefusal(INVALID_REQUEST, "Invalid timestamp or window", close=True) from None
    if not 0 < window <= MAX_WINDOW_MS:
        raise StreamRefusal(INVALID_REQUEST, f"Window must be at most {MAX_WINDOW_MS}", close=True)
    if abs(now - timestamp) > window:
        raise StreamRefusal(EXPIRED, "Request has expired", close=True)
    key = keys.get(api_key)
    if key is None:
        raise StreamRefusal(INVALID_SIGNATURE, "API key not found", close=True)
    message = signing_string("subscribe", {}, timestamp_text, window_text)
    try:
        VerifyKey(base64.b64decode(key.api_key)).verify(message.encode(), base64.b64decode(sig_b64, validate=True))
    except (BadSignatureError, binascii.Error, ValueError):
        raise StreamRefusal(INVALID_SIGNATURE, "Invalid signature", close=True) from None
    return key


def _wire_type(order: Order) -> str:
    return "LIMIT" if order.type is OrderType.LIMIT else "MARKET"


def _wire_tif(order: Order) -> str:
    if order.type is OrderType.MARKET or order.tif is TimeInForce.IOC:
        return "IOC"
    return "FOK" if order.tif is TimeInForce.FOK else "GTC"


def render_order_update(event: EngineEvent) -> dict[str, Any] | None:
    """The `data` of one account.orderUpdate message (None for events that are not about an order)."""
    order = event.order
    name = _EVENTS.get(event.kind)
    if order is None or name is None:
        return None
    event_us = event.event_ns // 1000
    data: dict[str, Any] = {
        "e": name,
        "E": event_us,
        "s": order.symbol,
        "S": wire_side(order.side),
        "o": _wire_type(order),
        "f": _wire_tif(order),
        "q": fmt(order.qty),
        "X": status_of(order),
        "i": str(order.order_id),
        "z": fmt(order.filled_qty),
        "Z": fmt(order.filled_quote),
        "V": "RejectTaker",
        "T": event_us,
        "O": "USER",
        "r": order.reduce_only,
        "y": order.tif is TimeInForce.POST_ONLY,
    }
    client_id = client_id_of(order)
    if client_id is not None:
        data["c"] = client_id
    if order.price is not None:
        data["p"] = fmt(order.price)
    if event.kind is EventKind.EXPIRED:
        data["R"] = expiry_reason(order)
    fill = event.fill
    if event.kind is EventKind.FILL and fill is not None:
        data.update(
            {
                "t": fill.fill_id,
                "l": fmt(fill.qty),
                "L": fmt(fill.price),
                "m": fill.maker,
                "n": fmt(fill.fee),
                "N": fill.fee_asset,
                "T": fill.filled_ns // 1000,
            }
        )
    return data


def _error(code: int, message: str, request_id: object = None) -> str:
    return json.dumps({"id": request_id, "error": {"code": code, "message": message}}, separators=(",", ":"))


# --- connections ------------------------------------------------------------------------------------------


class _Connection:
    """One client socket: its subscriptions, its outgoing queue, its link to the engine bus."""

    def __init__(
        self, request: web.Request, ws: web.WebSocketResponse, sim: Simulator, keys: Mapping[str, BackpackKey]
    ) -> None:
        self.http_request = request
        self.ws = ws
        self.sim = sim
        self.keys = keys
        self.streams: set[str] = set()
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None

    # the hub's LiveStream protocol
    def drop(self) -> None:
        """Stop delivering at once (queued frames are lost) and cut the TCP connection without a close
        frame: the client sees a network failure, as with the other venues' streams."""
        self.stop()
        while not self._outbox.empty():
            self._outbox.get_nowait()
        transport = self.http_request.transport
        if transport is not None:
            transport.abort()

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._sender is not None:
            self._sender.cancel()
            self._sender = None

    async def request(self, text: str) -> None:
        """Handle one client frame: SUBSCRIBE or UNSUBSCRIBE."""
        try:
            message = json.loads(text, parse_float=Decimal)
        except ValueError:
            await self.ws.send_str(_error(INVALID_REQUEST, "Invalid JSON"))
            return
        request_id = message.get("id") if isinstance(message, dict) else None
        try:
            self._apply(message)
        except StreamRefusal as refusal:
            await self.ws.send_str(_error(refusal.code, refusal.message, request_id))
            if refusal.close:
                await self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=refusal.message.encode()[:120])

    def _apply(self, message: object) -> None:
        if not isinstance(message, dict) or message.get("method") not in ("SUBSCRIBE", "UNSUBSCRIBE"):
            raise StreamRefusal(INVALID_REQUEST, "Invalid method")
        streams = message.get("params")
        if not isinstance(streams, list) or not streams or not all(isinstance(s, str) for s in streams):
            raise StreamRefusal(INVALID_REQUEST, "Invalid params")
        if message["method"] == "UNSUBSCRIBE":
            self.streams.difference_update(streams)
            if not self.streams:
                self.stop()
            return
        for stream in streams:
            self._check_stream(stream)
        verify_subscription(self.keys, message.get("signature"), now_ms())
        self.streams.update(streams)
        self._start()

    def _check_stream(self, stream: str) -> None:
        if stream == ORDER_STREAM:
            return
        symbol = stream.removeprefix(ORDER_STREAM + ".")
        if stream.startswith(ORDER_STREAM + ".") and symbol in self.sim.engine.instruments[VENUE]:
            return
        raise StreamRefusal(INVALID_STREAM, f"Invalid stream {stream[:60]} (the simulator serves {ORDER_STREAM})")

    def _start(self) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = self.sim.engine.bus.subscribe(self._on_event)
        if self._sender is None:
            self._sender = asyncio.ensure_future(self._send_loop())

    def _on_event(self, event: EngineEvent) -> None:
        if event.venue != VENUE or event.order is None:
            return
        data = render_order_update(event)
        if data is None:
            return
        for stream in (ORDER_STREAM, f"{ORDER_STREAM}.{event.order.symbol}"):
            if stream in self.streams:
                self._outbox.put_nowait(json.dumps({"stream": stream, "data": data}, separators=(",", ":")))

    async def _send_loop(self) -> None:
        while True:
            text = await self._outbox.get()
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):  # the client is gone (or the socket is closing)
                return


class BackpackStreams:
    """The /backpack/ws route of the Backpack dialect."""

    def __init__(self, sim: Simulator, keys: Mapping[str, BackpackKey]) -> None:
        self.sim = sim
        self.keys = keys

    def routes(self) -> list[web.RouteDef]:
        return [web.get(WS_PATH, self.handle)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        hub = hub_of(self.sim)
        if hub.refusing(VENUE):
            return json_response({"code": "SERVICE_UNAVAILABLE", "message": "Streams are unavailable"}, status=503)
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_REQUEST_BYTES)
        await ws.prepare(request)
        connection = _Connection(request, ws, self.sim, self.keys)
        unregister = hub.add(VENUE, connection)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await connection.request(msg.data)
                elif msg.type is WSMsgType.BINARY:
                    await ws.send_str(_error(INVALID_REQUEST, "Binary frames are not supported"))
        except ConnectionError:
            log.debug("simulator backpack: a stream client went away")
        finally:
            unregister()
            connection.stop()
            with contextlib.suppress(ConnectionError):
                await ws.close()
        return ws
