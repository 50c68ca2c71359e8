"""OKX v5 private WebSocket (`/okx/ws/v5/private`): login, the `orders` channel, text ping/pong.

Flow (reference §3.6): `{"op":"login","args":[{apiKey, passphrase, timestamp (unix seconds), sign}]}`
with `sign = base64(HMAC_SHA256(secret, timestamp + "GET" + "/users/self/verify"))`, checked like the
venue (an `{"event":"error"}` frame on failure; the connection stays open for another try); then
`{"op":"subscribe","args":[{"channel":"orders","instType":"SWAP"|"ANY", instId?, instFamily?}]}`.
Each order change is pushed as `{"arg":{channel, instType, uid[, instId]},"data":[order]}`: the REST
order fields (sizes in CONTRACTS) plus this update's fill (fillPx, fillSz, tradeId, fillTime,
fillFee, fillFeeCcy, execType) — empty unless the update is a fill. A text `ping` is answered `pong`.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hedgectl.sim.dialects import okx_trade_wire
from hedgectl.sim.dialects.okx_auth import OkxKey, okx_signature
from hedgectl.sim.dialects.okx_wire import fmt
from hedgectl.sim.dialects.private_ws import PrivateSocket, dumps, serve
from hedgectl.sim.model import EngineEvent, EventKind, Fill

if TYPE_CHECKING:
    from hedgectl.sim.dialects.base import Dialect

PRIVATE_PATH = "/ws/v5/private"
VERIFY_PATH = "/users/self/verify"
LOGIN_WINDOW_S = 30
INST_TYPES = frozenset({"ANY", "SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"})
# Subscriptions that can see the simulator's orders (all of them are swaps).
SWAP_TYPES = frozenset({"ANY", "SWAP"})


class LoginRefused(Exception):
    def __init__(self, code: str, msg: str) -> None:
        super().__init__(code)
        self.code = code
        self.msg = msg


def verify_login(keys: Mapping[str, OkxKey], args: Any, now_s: float) -> OkxKey:
    """Check one login argument the way OKX does; return the key or raise LoginRefused."""
    if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], Mapping):
        raise LoginRefused("60012", "Illegal request")
    arg = args[0]
    api_key, passphrase = str(arg.get("apiKey") or ""), str(arg.get("passphrase") or "")
    stamp, sign = str(arg.get("timestamp") or ""), str(arg.get("sign") or "")
    if not api_key:
        raise LoginRefused("60001", '"OK-ACCESS-KEY" can not be empty')
    if not sign:
        raise LoginRefused("60002", '"OK-ACCESS-SIGN" can not be empty')
    if not passphrase:
        raise LoginRefused("60003", '"OK-ACCESS-PASSPHRASE" can not be empty')
    if not (stamp.isascii() and stamp.isdigit()):
        raise LoginRefused("60004", "Invalid OK-ACCESS-TIMESTAMP")
    if abs(now_s - int(stamp)) > LOGIN_WINDOW_S:
        raise LoginRefused("60006", "Timestamp request expired")
    key = keys.get(api_key)
    if key is None:
        raise LoginRefused("60005", "Invalid OK-ACCESS-KEY")
    if not hmac.compare_digest(passphrase.encode(), key.passphrase.encode()):
        raise LoginRefused("60024", "Wrong passphrase")
    expected = okx_signature(key.api_secret, stamp, "GET", VERIFY_PATH)
    if not hmac.compare_digest(sign.encode(), expected.encode()):
        raise LoginRefused("60007", "Invalid sign")
    return key


def order_push(order_fields: dict[str, Any], fill: Fill | None) -> dict[str, Any]:
    """Add the WebSocket-only fields to a rendered order: this update's fill fee and execution type."""
    return {
        **order_fields,
        "amendResult": "",
        "code": "0",
        "msg": "",
        "reqId": "",
        "fillNotionalUsd": fmt(fill.qty * fill.price) if fill else "",
        "fillFee": fmt(-fill.fee) if fill else "0",
        "fillFeeCcy": fill.fee_asset if fill else "",
        "fillPnl": fmt(fill.realized_pnl) if fill else "0",
        "execType": ("M" if fill.maker else "T") if fill else "",
    }


class OkxPrivateStream:
    """The `/okx/ws/v5/private` route of the OKX dialect."""

    def __init__(self, dialect: Dialect, keys: Mapping[str, OkxKey]) -> None:
        self._dialect = dialect
        self._keys = keys

    def routes(self) -> list[web.RouteDef]:
        return [web.get(self._dialect.prefix + PRIVATE_PATH, self._connect)]

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        session = _Session(self._dialect, self._keys)
        return await serve(self._dialect, request, _nothing, session.on_text)


def _nothing(sock: PrivateSocket) -> None:
    """Nothing to do at connect: OKX waits for the login."""


class _Session:
    """One connection's state: logged in or not, and its `orders` subscriptions."""

    def __init__(self, dialect: Dialect, keys: Mapping[str, OkxKey]) -> None:
        self._dialect = dialect
        self._keys = keys
        self._conn_id = secrets.token_hex(4)
        self._logged_in = False
        self._subs: list[dict[str, str]] = []

    def _error(self, sock: PrivateSocket, code: str, msg: str) -> None:
        sock.send_json({"event": "error", "code": code, "msg": msg, "connId": self._conn_id})

    def on_text(self, sock: PrivateSocket, text: str) -> None:
        if text == "ping":
            sock.send("pong")
            return
        try:
            message = json.loads(text)
        except ValueError:
            self._error(sock, "60012", f"Illegal request: {text[:200]}")
            return
        op = message.get("op") if isinstance(message, dict) else None
        if op == "login":
            self._login(sock, message.get("args"))
        elif op in ("subscribe", "unsubscribe"):
            self._subscribe(sock, op, message.get("args"))
        else:
            self._error(sock, "60019" if op else "60012", f"Invalid op: {op}" if op else f"Illegal request: {text}")

    def _login(self, sock: PrivateSocket, args: Any) -> None:
        if self._logged_in:
            self._error(sock, "60010", "Already logged in")
            return
        try:
            verify_login(self._keys, args, time.time())
        except LoginRefused as exc:
            self._error(sock, exc.code, exc.msg)
            return
        self._logged_in = True
        sock.send_json({"event": "login", "code": "0", "msg": "", "connId": self._conn_id})

    def _subscribe(self, sock: PrivateSocket, op: str, args: Any) -> None:
        if not self._logged_in:
            self._error(sock, "60011", "Please log in")
            return
        if not isinstance(args, list) or not args or not all(isinstance(a, Mapping) for a in args):
            self._error(sock, "60012", "Illegal request")
            return
        for raw in args:
            arg = {str(k): str(v) for k, v in raw.items()}
            if arg.get("channel") != "orders" or arg.get("instType") not in INST_TYPES:
                self._error(sock, "60018", f"{arg.get('channel')} {arg.get('instType')} doesn't exist")
                continue
            if op == "subscribe":
                if arg not in self._subs:
                    self._subs.append(arg)
            elif arg in self._subs:
                self._subs.remove(arg)
            sock.send_json({"event": op, "arg": arg, "connId": self._conn_id})
        if self._subs:
            sock.subscribe(self._dialect.engine.bus, self._dialect.venue, self._render)
        else:
            sock.unsubscribe()

    def _render(self, event: EngineEvent) -> list[str]:
        order = event.order
        if order is None:
            return []
        engine = self._dialect.engine
        inst = engine.instrument(self._dialect.venue, order.symbol)
        family = f"{inst.base}-{inst.quote}"
        frames: list[str] = []
        body: dict[str, Any] | None = None
        for sub in self._subs:
            if sub["instType"] not in SWAP_TYPES:
                continue
            if sub.get("instId", order.symbol) != order.symbol or sub.get("instFamily", family) != family:
                continue
            if body is None:
                fill = event.fill if event.kind is EventKind.FILL else None
                lever = engine.account(self._dialect.venue).leverage
                body = order_push(okx_trade_wire.render_order(order, inst, lever, fill), fill)
            arg = {**sub, "uid": okx_trade_wire.UID}
            frames.append(dumps({"arg": arg, "data": [body]}))
        return frames
