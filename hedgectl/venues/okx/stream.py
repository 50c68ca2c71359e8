"""OKX's private order stream: `/ws/v5/private`, login, the `orders` channel for SWAP, text ping (reference §3.6).

Native WebSockets (the `websockets` client, as the other venues' streams), not ccxt.pro (ws_common.py
records why). A session is short: it logs in, subscribes, yields every order update parsed with the same
readers as REST (parse.py), and ends cleanly so the supervisor (streams/supervisor.py) reconnects and
reconciles by REST.

Hosts: live `wss://ws.okx.com:8443`, demo `wss://wspap.okx.com:8443` with `?brokerId=9999`; OKX_HOST=eea|my
moves both to wseea/wseeapap (VenueConfig.ws_url). Paper mode: the simulator beside the REST base
(`ws://HOST:PORT/okx/ws/v5/private`).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping

from websockets.asyncio.client import ClientConnection

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.types import Fill, Market, Mode
from hedgectl.errors import AuthError, BadResponse, ConfigError, Unavailable
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.wire import Wire, WireReader
from hedgectl.venues.okx import parse, parse_orders
from hedgectl.venues.okx.auth import keys_from_config, ws_login
from hedgectl.venues.okx.codes import WS_RETRYABLE_LOGIN
from hedgectl.venues.order_rules import checked_fill
from hedgectl.venues.streams import EventSource, OrderEvent, Ready
from hedgectl.venues.ws_common import dumps, loads, open_socket, send_text, text_frames, ws_base

VENUE = "okx"
_R = WireReader(VENUE)
Markets = Callable[[], Awaitable[Mapping[str, Market]]]  # the adapter's (cached) market rules
OKX_WS: dict[Mode, str] = {Mode.LIVE: "wss://ws.okx.com:8443", Mode.TESTNET: "wss://wspap.okx.com:8443"}
PRIVATE_PATH = "/ws/v5/private"
DEMO_QUERY = "?brokerId=9999"
ORDERS_SWAP = {"channel": "orders", "instType": "SWAP"}
PING_S = 15.0  # OKX closes a connection silent for 30 s; ccxt pings every 18 s
PONG_TIMEOUT_S = 10.0
ACK_TIMEOUT_S = 10.0
REMEMBERED_TRADES = 10_000


def parse_order_push(row: Wire, markets: Mapping[str, Market], seen: OrderedDict[str, None]) -> OrderEvent | None:
    """One `orders` channel entry as an OrderEvent (sizes from contracts); None for an instrument not ours.

    The entry is a REST order object (posSide included, read as REST reads it) plus the last fill: fillPx,
    fillSz, tradeId, fillFee (negative when paid), fillFeeCcy, execType M/T. `seen` remembers this session's
    trade ids, so an update that repeats the last fill (a cancel after a partial fill) is a state change only.
    """
    market = markets.get(_R.text(row, "instId", "orders push"))
    if market is None:
        return None
    order = parse_orders.parse_order(row, market)
    fill = None
    trade_id = _R.opt_ident(row, "tradeId", "orders push")
    size = _R.opt_dec(row, "fillSz", "orders push")
    key = f"{order.order_id}:{trade_id}"
    # No fillFee, no Fill: the fee is read from fills-history then, never guessed as 0.
    fee = _R.opt_dec(row, "fillFee", "orders push")
    if trade_id and size and fee is not None and key not in seen:
        fill = checked_fill(
            Fill(
                venue=VENUE,
                symbol=market.symbol,
                order_id=order.order_id,
                trade_id=trade_id,
                side=order.side,
                qty=size * market.contract_size,
                price=_R.positive(row, "fillPx", "orders push"),
                fee=-fee,
                fee_asset=_R.opt_text(row, "fillFeeCcy") or _R.opt_text(row, "feeCcy") or market.quote,
                is_maker=row.get("execType") == "M",
                client_order_id=order.client_order_id,
                at=_R.opt_ms(row, "fillTime", "orders push") or _R.opt_ms(row, "uTime", "orders push"),
            )
        )
        seen[key] = None
        while len(seen) > REMEMBERED_TRADES:
            seen.popitem(last=False)
    return OrderEvent(order=order, fill=fill, source=EventSource.STREAM, received_ns=SYSTEM_CLOCK.time_ns())


def parse_frame(frame: str, markets: Mapping[str, Market], seen: OrderedDict[str, None]) -> list[OrderEvent]:
    """The order events of one frame of the private connection (none for pong, acks, other channels)."""
    if frame == "pong":
        return []
    message = loads(frame)
    if not isinstance(message, Mapping):
        raise BadResponse(VENUE, "order stream sent a non-object frame")
    if message.get("event") == "error":
        raise Unavailable(VENUE, f"order stream error {message.get('code')}: {str(message.get('msg'))[:200]}")
    arg = message.get("arg")
    if not isinstance(arg, Mapping) or arg.get("channel") != "orders" or "data" not in message:
        return []
    events = (parse_order_push(row, markets, seen) for row in _R.rows(message["data"], "orders push"))
    return [event for event in events if event is not None]


class OkxOrderStream:
    """The connector (see venues/streams/supervisor.py) of an OKX account: login, `orders` for SWAP, text ping."""

    def __init__(
        self, config: VenueConfig, markets: Markets, *, clock_offset_ms: Callable[[], int] = lambda: 0
    ) -> None:
        keys = keys_from_config(config)
        if keys is None:
            raise ConfigError("okx: the order stream needs api_key, api_secret and passphrase")
        self._keys = keys
        self._markets = markets
        self._offset_ms = clock_offset_ms
        self._base = ws_base(config, OKX_WS)
        self._url = self._base + PRIVATE_PATH + (DEMO_QUERY if config.mode is Mode.TESTNET else "")

    def __repr__(self) -> str:
        return f"OkxOrderStream(url={self._url!r})"

    async def connect(self, ready: Ready) -> AsyncGenerator[OrderEvent, None]:
        """One session: log in, subscribe to `orders` (instType SWAP), yield each order update."""
        markets = parse.by_venue_symbol(await self._markets())
        seen: OrderedDict[str, None] = OrderedDict()
        async with open_socket(self._url, self._base, venue=VENUE, ping_interval_s=None) as ws:
            now_s = SYSTEM_CLOCK.time() + self._offset_ms() / 1000
            await send_text(ws, VENUE, dumps(ws_login(self._keys, now_s)))
            await _ack(ws, "login")
            await send_text(ws, VENUE, dumps({"op": "subscribe", "args": [ORDERS_SWAP]}))
            await _ack(ws, "subscribe")
            ready()
            frames = text_frames(ws, VENUE, idle_s=PING_S, ping="ping", pong_timeout_s=PONG_TIMEOUT_S)
            async with contextlib.aclosing(frames):
                async for frame in frames:
                    for event in parse_frame(frame, markets, seen):
                        yield event


async def _ack(ws: ClientConnection, event: str) -> None:
    """Wait for the `{"event": event}` reply; an error event is AuthError (or Unavailable if retryable)."""
    async with contextlib.aclosing(text_frames(ws, VENUE, idle_s=ACK_TIMEOUT_S)) as frames:
        async for frame in frames:
            message = loads(frame) if frame != "pong" else None
            if not isinstance(message, Mapping):
                continue
            if message.get("event") == event:
                return
            if message.get("event") == "error":
                code, msg = str(message.get("code")), str(message.get("msg"))[:200]
                if code in WS_RETRYABLE_LOGIN:
                    raise Unavailable(VENUE, f"order stream {event} refused ({code} {msg})", code=code)
                raise AuthError(VENUE, f"order stream {event} refused ({code} {msg})", code=code)
    raise Unavailable(VENUE, f"order stream closed before the {event} reply")
