"""Binance USDⓈ-M user data streams (also Aster's): listen keys and the private WebSocket.

Flow (reference §2.6, §5.5): POST `/fapi/v1/listenKey` (API-key header only; Aster V3: signed) returns
the account's key, the same one while it is valid; PUT extends it by 60 minutes (-1125 once it is
gone); DELETE closes it. The WebSocket is `<prefix>/ws/<key>` (Binance's legacy form, Aster's only
form) or `<prefix>/private/ws?listenKey=<key>` (the form ccxt 4.5.90 builds for Binance). Frames are
raw event objects with no stream envelope: `ORDER_TRADE_UPDATE` per order change, and
`listenKeyExpired` (then the connection closes) when the key lapses or is deleted.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hedgectl.sim.dialects import binance_errors as errors
from hedgectl.sim.dialects.base import Call, Reply, json_response
from hedgectl.sim.dialects.binance_wire import POSITION_SIDE_TO_WIRE, STATUS_TO_WIRE, TIF_TO_WIRE, fmt8, px, qty
from hedgectl.sim.dialects.private_ws import PrivateSocket, dumps, serve
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import ZERO, EngineEvent, EventKind, OrderType, Side

if TYPE_CHECKING:
    from hedgectl.sim.dialects.base import Dialect

# A key lives 60 minutes after its last POST/PUT (module-level so a test can shorten it).
LISTEN_KEY_TTL_S = 3600.0
LEGACY_PATH = "/ws/{listen_key}"
SPLIT_PATH = "/private/ws"
EXECUTION_TYPE = {
    EventKind.NEW: "NEW",
    EventKind.FILL: "TRADE",
    EventKind.CANCELED: "CANCELED",
    EventKind.EXPIRED: "EXPIRED",
}


def order_trade_update(inst: Instrument, event: EngineEvent, fee_asset: str) -> dict[str, Any]:
    """The ORDER_TRADE_UPDATE event for one engine event (an order change, with its fill if any)."""
    order = event.order
    if order is None:
        raise ValueError("an ORDER_TRADE_UPDATE needs an order")
    fill = event.fill
    kind = "MARKET" if order.type is OrderType.MARKET else "LIMIT"
    stamp = fill.time_ms if fill is not None else (order.updated_ms or order.created_ms)
    return {
        "e": "ORDER_TRADE_UPDATE",
        "E": event.event_ns // 1_000_000,
        "T": stamp,
        "o": {
            "s": order.symbol,
            "c": order.client_order_id or "",
            "S": "BUY" if order.side is Side.BUY else "SELL",
            "o": kind,
            "f": TIF_TO_WIRE[order.tif],
            "q": qty(inst, order.qty),
            "p": px(inst, order.price or ZERO),
            "ap": px(inst, order.avg_price),
            "sp": "0",
            "x": EXECUTION_TYPE[event.kind],
            "X": STATUS_TO_WIRE[order.status],
            "i": order.order_id,
            "l": qty(inst, fill.qty if fill is not None else ZERO),
            "z": qty(inst, order.filled_qty),
            "L": px(inst, fill.price if fill is not None else ZERO),
            "N": fill.fee_asset if fill is not None else fee_asset,
            "n": fmt8(fill.fee if fill is not None else ZERO),
            "T": stamp,
            "t": fill.fill_id if fill is not None else 0,
            "b": "0",
            "a": "0",
            "m": fill.maker if fill is not None else False,
            "R": order.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": kind,
            "ps": POSITION_SIDE_TO_WIRE[order.position_side],
            "cp": False,
            "rp": fmt8(fill.realized_pnl if fill is not None else ZERO),
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "EXPIRE_MAKER",
            "pm": "NONE",
            "gtd": 0,
        },
    }


class ListenKey:
    """The account's current key; its timer fires `listenKeyExpired` unless a PUT moves it."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.sockets: set[PrivateSocket] = set()
        self.alive = True
        self._timer: asyncio.TimerHandle | None = None

    def extend(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(LISTEN_KEY_TTL_S, self.expire)

    def expire(self) -> None:
        """Tell every connection on this key that it lapsed, then close them."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.alive = False
        frame = dumps({"e": "listenKeyExpired", "E": int(time.time() * 1000), "listenKey": self.value})
        for sock in list(self.sockets):
            sock.send(frame)
            sock.close_soon()


class UserDataStreams:
    """Listen-key endpoints and user-data WebSocket routes of one Binance-family dialect."""

    def __init__(self, dialect: Dialect, *, split_path: bool) -> None:
        self._dialect = dialect
        self._split_path = split_path
        self._key: ListenKey | None = None

    @property
    def _venue(self) -> str:
        return self._dialect.venue

    # ---- REST: POST / PUT / DELETE fapi/v1/listenKey -------------------------------------------

    def new_key(self, call: Call) -> web.StreamResponse:
        """POST: the current key (extended) or a fresh one."""
        if self._key is None or not self._key.alive:
            self._key = ListenKey(secrets.token_hex(32))
        self._key.extend()
        return json_response({"listenKey": self._key.value})

    def _current(self, call: Call) -> ListenKey:
        given = call.get("listenKey")
        key = self._key
        if key is None or not key.alive or (given is not None and given != key.value):
            raise Reply(errors.error(-1125, "This listenKey does not exist."))
        return key

    def keepalive(self, call: Call) -> web.StreamResponse:
        """PUT: another 60 minutes."""
        key = self._current(call)
        key.extend()
        return json_response({"listenKey": key.value})

    def close_key(self, call: Call) -> web.StreamResponse:
        """DELETE: the key and its connections end now."""
        self._current(call).expire()
        return json_response({})

    # ---- WebSocket -------------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        prefix = self._dialect.prefix
        routes = [web.get(prefix + LEGACY_PATH, self._legacy)]
        if self._split_path:
            routes.append(web.get(prefix + SPLIT_PATH, self._split))
        return routes

    async def _legacy(self, request: web.Request) -> web.StreamResponse:
        return await self._connect(request, request.match_info["listen_key"])

    async def _split(self, request: web.Request) -> web.StreamResponse:
        return await self._connect(request, request.query.get("listenKey", ""))

    async def _connect(self, request: web.Request, value: str) -> web.StreamResponse:
        key = self._key
        if key is None or not key.alive or not secrets.compare_digest(value.encode(), key.value.encode()):
            return json_response({"code": -1125, "msg": "This listenKey does not exist."}, status=400)
        engine = self._dialect.engine
        asset = engine.account(self._venue).asset

        def render(event: EngineEvent) -> list[str]:
            if event.order is None:
                return []
            inst = engine.instrument(self._venue, event.order.symbol)
            return [dumps(order_trade_update(inst, event, asset))]

        def on_open(sock: PrivateSocket) -> None:
            key.sockets.add(sock)
            sock.subscribe(engine.bus, self._venue, render)

        return await serve(self._dialect, request, on_open, _ignore, key.sockets.discard)


def _ignore(sock: PrivateSocket, text: str) -> None:
    """A user data stream takes no requests; whatever the client sends is ignored."""
