"""Private order streams of the ccxt-backed venues: Binance USDⓈ-M user data and OKX's `orders` channel.

Native WebSockets (the `websockets` client, as Backpack's stream uses), not ccxt.pro. ccxt.pro works
against the simulator (tests/sim proves it), but as a trading feed it falls short: `watch_orders` returns
a cache keyed by order id, so two fills of one order between two awaits collapse into one entry and the
first fill's trade id, price and fee are lost; an update that arrives while nobody awaits resolves no
future; every number becomes a float; it reconnects only when awaited again, with no sign of having been
blind meanwhile; and it adds a parsing layer to the fill -> hedge hot path. A native session is short,
yields every message, keeps Decimal, and ends cleanly so the supervisor (stream_supervisor.py) reconnects
and reconciles by REST.

Binance's listen key is still created and renewed through ccxt's implicit REST methods on the adapter's
ccxt instance (`ex`), so CcxtVenue's host guard, rate limiter and error mapping apply; this module calls
them but never imports ccxt.

WebSocket hosts (reference §2.1, §3.1): Binance live `wss://fstream.binance.com`, demo
`wss://fstream.binancefuture.com`, user data at `/private/ws?listenKey=K` (the form ccxt 4.5.90 builds).
The demo host was checked in 2026-12: ccxt's installed `binanceusdm` (urls.demo.ws.linear) and Binance's
demo-trading announcement (UM futures: REST demo-fapi.binance.com, streams fstream.binancefuture.com) agree;
`demo-fstream.binance.com` appears only in third-party clients (nautilus), so it is not used.
OKX live `wss://ws.okx.com:8443/ws/v5/private`, demo `wss://wspap.okx.com:8443/ws/v5/private?brokerId=9999`;
OKX_HOST=eea|my moves both to wseea/wseeapap (VenueConfig.ws_url).
Paper mode: the simulator beside the REST base (`ws://HOST:PORT/binance/private/ws`, `/okx/ws/v5/private`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any

from websockets.asyncio.client import ClientConnection

from hedgectl.domain.types import Fill, Market, Mode
from hedgectl.errors import AuthError, BadResponse, ConfigError, Unavailable
from hedgectl.venues.binance_family.stream import Markets, UserDataStream
from hedgectl.venues.ccxt_okx import parse_order as parse_okx_order
from hedgectl.venues.ccxt_wire import Wire, by_venue_symbol, dec, ms_time, one_dict, opt_dec, opt_text, text
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.stream_supervisor import Connect, Ready
from hedgectl.venues.streams import EventSource, OrderEvent
from hedgectl.venues.ws_common import dumps, loads, open_socket, send_text, text_frames, ws_base

BINANCE_WS: dict[Mode, str] = {Mode.LIVE: "wss://fstream.binance.com", Mode.TESTNET: "wss://fstream.binancefuture.com"}
OKX_WS: dict[Mode, str] = {Mode.LIVE: "wss://ws.okx.com:8443", Mode.TESTNET: "wss://wspap.okx.com:8443"}
OKX_PRIVATE_PATH = "/ws/v5/private"
ORDERS_SWAP = {"channel": "orders", "instType": "SWAP"}
OKX_DEMO_QUERY = "?brokerId=9999"
OKX_VERIFY = "GET/users/self/verify"
OKX_PING_S = 15.0  # OKX closes a connection silent for 30 s; ccxt pings every 18 s
OKX_PONG_TIMEOUT_S = 10.0
OKX_ACK_TIMEOUT_S = 10.0
# OKX login refusals that a later attempt can overcome (clock, rate); the rest are bad credentials.
OKX_RETRYABLE_LOGIN = frozenset({"60006", "60014", "60023"})
REMEMBERED_TRADES = 10_000

Run = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]


# ---- Binance ------------------------------------------------------------------------------------------


class CcxtListenKeys:
    """Binance's listen-key endpoints through the adapter's ccxt instance (API-key header, no signature)."""

    def __init__(self, ex: Any, run: Run) -> None:
        self._ex = ex
        self._run = run

    async def create(self) -> str:
        """POST /fapi/v1/listenKey"""
        reply = await self._run("listen key", lambda: self._ex.fapiPrivatePostListenKey())
        return text(one_dict(reply, "binance", "listenKey"), "listenKey", "binance")

    async def keepalive(self, key: str) -> None:
        """PUT /fapi/v1/listenKey"""
        await self._run("listen key keep-alive", lambda: self._ex.fapiPrivatePutListenKey({"listenKey": key}))


def binance_stream(config: VenueConfig, ex: Any, run: Run, markets: Markets) -> UserDataStream:
    """The user data stream of a Binance USDⓈ-M account (`<ws>/private/ws?listenKey=K`)."""
    base = ws_base(config, BINANCE_WS)
    return UserDataStream(
        "binance",
        CcxtListenKeys(ex, run),
        markets,
        ws_base=base,
        url_for=lambda key: f"{base}/private/ws?listenKey={key}",
    )


# ---- OKX ----------------------------------------------------------------------------------------------


def okx_ws_sign(secret: str, timestamp: str) -> str:
    """The login signature: base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify"))."""
    digest = hmac.new(secret.encode(), (timestamp + OKX_VERIFY).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def okx_login(api_key: str, passphrase: str, secret: str, now_s: float) -> dict[str, Any]:
    """The `op: login` message (timestamp in whole Unix seconds)."""
    stamp = str(int(now_s))
    arg = {"apiKey": api_key, "passphrase": passphrase, "timestamp": stamp, "sign": okx_ws_sign(secret, stamp)}
    return {"op": "login", "args": [arg]}


def parse_okx_order_push(row: Wire, markets: Mapping[str, Market], seen: OrderedDict[str, None]) -> OrderEvent | None:
    """One `orders` channel entry as an OrderEvent (sizes from contracts); None for an instrument not ours.

    The entry carries the last fill (fillPx, fillSz, tradeId, fillFee negative when paid, execType M/T).
    `seen` remembers this session's trade ids, so an update that repeats the last fill (a cancel after a
    partial fill) is reported as a state change, not as a second fill.
    """
    market = markets.get(str(row.get("instId")))
    if market is None:
        return None
    order = parse_okx_order(row, market)
    fill = None
    trade_id = opt_text(row, "tradeId")
    size = opt_dec(row, "fillSz", "okx")
    key = f"{order.order_id}:{trade_id}"
    fee = opt_dec(row, "fillFee", "okx")
    # No fillFee, no Fill: the fee is read from fills-history then, never guessed as 0.
    if trade_id and size and fee is not None and key not in seen:
        seen[key] = None
        while len(seen) > REMEMBERED_TRADES:
            seen.popitem(last=False)
        fill = Fill(
            venue="okx",
            symbol=market.symbol,
            order_id=order.order_id,
            trade_id=trade_id,
            side=order.side,
            qty=size * market.contract_size,
            price=dec(row, "fillPx", "okx"),
            fee=-fee,
            fee_asset=opt_text(row, "fillFeeCcy") or opt_text(row, "feeCcy") or market.quote,
            is_maker=row.get("execType") == "M",
            client_order_id=order.client_order_id,
            at=ms_time(row, "fillTime", "okx") or ms_time(row, "uTime", "okx"),
        )
    return OrderEvent(order=order, fill=fill, source=EventSource.STREAM, received_ns=time.time_ns())


def parse_okx_frame(frame: str, markets: Mapping[str, Market], seen: OrderedDict[str, None]) -> list[OrderEvent]:
    """The order events of one frame of the private connection (none for pong, acks, other channels)."""
    if frame == "pong":
        return []
    message = loads(frame)
    if not isinstance(message, Mapping):
        raise BadResponse("okx", "order stream sent a non-object frame")
    if message.get("event") == "error":
        raise Unavailable("okx", f"order stream error {message.get('code')}: {str(message.get('msg'))[:200]}")
    arg = message.get("arg")
    if not isinstance(arg, Mapping) or arg.get("channel") != "orders" or "data" not in message:
        return []
    rows = message["data"]
    if not isinstance(rows, list) or not all(isinstance(row, Mapping) for row in rows):
        raise BadResponse("okx", "orders push without a list of order objects")
    events = (parse_okx_order_push(row, markets, seen) for row in rows)
    return [event for event in events if event is not None]


class OkxOrderStream:
    """The connector (see stream_supervisor) of an OKX account: login, `orders` for SWAP, text ping."""

    def __init__(
        self, config: VenueConfig, markets: Markets, *, clock_offset_ms: Callable[[], int] = lambda: 0
    ) -> None:
        if not config.has("api_key", "api_secret", "passphrase"):
            raise ConfigError("okx: the order stream needs api_key, api_secret and passphrase")
        self._config = config
        self._markets = markets
        self._offset_ms = clock_offset_ms
        self._base = ws_base(config, OKX_WS)
        suffix = OKX_DEMO_QUERY if config.mode is Mode.TESTNET else ""
        self._url = self._base + OKX_PRIVATE_PATH + suffix

    def __repr__(self) -> str:
        return f"OkxOrderStream(url={self._url!r})"

    async def connect(self, ready: Ready) -> AsyncGenerator[OrderEvent, None]:
        """One session: log in, subscribe to `orders` (instType SWAP), yield each order update."""
        markets = by_venue_symbol(await self._markets())
        seen: OrderedDict[str, None] = OrderedDict()
        async with open_socket(self._url, self._base, venue="okx", ping_interval_s=None) as ws:
            cfg = self._config
            now_s = time.time() + self._offset_ms() / 1000
            login = okx_login(cfg.secret("api_key"), cfg.secret("passphrase"), cfg.secret("api_secret"), now_s)
            await send_text(ws, "okx", dumps(login))
            await _okx_ack(ws, "login")
            await send_text(ws, "okx", dumps({"op": "subscribe", "args": [ORDERS_SWAP]}))
            await _okx_ack(ws, "subscribe")
            ready()
            frames = text_frames(ws, "okx", idle_s=OKX_PING_S, ping="ping", pong_timeout_s=OKX_PONG_TIMEOUT_S)
            async with contextlib.aclosing(frames):
                async for frame in frames:
                    for event in parse_okx_frame(frame, markets, seen):
                        yield event


async def _okx_ack(ws: ClientConnection, event: str) -> None:
    """Wait for the `{"event": event}` reply; an error event is AuthError (or Unavailable if retryable)."""
    async with contextlib.aclosing(text_frames(ws, "okx", idle_s=OKX_ACK_TIMEOUT_S)) as frames:
        async for frame in frames:
            message = loads(frame) if frame != "pong" else None
            if not isinstance(message, Mapping):
                continue
            if message.get("event") == event:
                return
            if message.get("event") == "error":
                code, msg = str(message.get("code")), str(message.get("msg"))[:200]
                if code in OKX_RETRYABLE_LOGIN:
                    raise Unavailable("okx", f"order stream {event} refused ({code} {msg})", code=code)
                raise AuthError("okx", f"order stream {event} refused ({code} {msg})", code=code)
    raise Unavailable("okx", f"order stream closed before the {event} reply")


def connector(config: VenueConfig, ex: Any, run: Run, markets: Markets, clock_offset_ms: Callable[[], int]) -> Connect:
    """The stream connector of a ccxt-backed venue (`binance` or `okx`)."""
    if config.name == "binance":
        return binance_stream(config, ex, run, markets).connect
    if config.name == "okx":
        return OkxOrderStream(config, markets, clock_offset_ms=clock_offset_ms).connect
    raise ConfigError(f"{config.name}: no order stream")
