"""Backpack's private order stream: a signed `account.orderUpdate` subscription over one WebSocket.

Wire (Backpack docs, "Streams"): connect to wss://ws.backpack.exchange and send
`{"method": "SUBSCRIBE", "params": ["account.orderUpdate"], "signature": [apiKey, sig, ts, window]}`, where
`sig` is the ED25519 signature of `instruction=subscribe&timestamp=<ts ms>&window=<window ms>`. Success is
not acknowledged; a refusal is `{"id": null, "error": {"code": ..., "message": ...}}`. Updates arrive as
`{"stream": "account.orderUpdate[.<symbol>]", "data": {...}}` with one-letter keys: `e` event, `E`/`T`
microseconds, `s` symbol, `i` order id, `c` clientId (uint32), `S` side, `o` type, `q` quantity, `p` price,
`X` status, `z`/`Z` executed quantity/quote, and on `orderFill` only: `t` trade id, `l` fill quantity,
`L` fill price, `m` maker, `n` fee, `N` fee asset. The server pings every 60 s; websockets answers.

Pure functions (URL, subscribe message, parsing) come first; `BackpackStream.connect` is the connector the
stream supervisor (hedgectl.venues.streams.supervisor) runs, reconnects and reconciles.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from websockets.asyncio.client import connect as ws_connect

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.types import Fill, Market, Mode, Order, OrderType, Side
from hedgectl.errors import AuthError, BadResponse, ConfigError
from hedgectl.venues.backpack import auth
from hedgectl.venues.backpack.parse_orders import ORDER_STATUSES
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.host_guard import ensure_allowed, is_loopback
from hedgectl.venues.kit.time_offset import TimeOffset
from hedgectl.venues.kit.wire import WireReader, decode_json, is_none, to_number
from hedgectl.venues.streams import EventSource, OrderEvent

VENUE = "backpack"
LIVE_WS_URL = "wss://ws.backpack.exchange"
WS_PATH = "/ws"  # the simulator serves the stream beside its REST routes: <base_url>/ws
ORDER_STREAM = "account.orderUpdate"
PING_INTERVAL_S = 10.0  # our own pings: a silent dead connection is noticed within ~20 s
PING_TIMEOUT_S = 10.0
MAX_MESSAGE_BYTES = 1 << 20

_SIDES = {"Bid": Side.BUY, "Ask": Side.SELL}
_TYPES = {"LIMIT": OrderType.LIMIT, "MARKET": OrderType.MARKET}
ORDER_EVENTS = frozenset(
    {"orderAccepted", "orderCancelled", "orderExpired", "orderFill", "orderModified", "triggerPlaced", "triggerFailed"}
)

# --- URL and subscription (pure) ------------------------------------------------------------------------


def stream_url(config: VenueConfig) -> str:
    """The WebSocket URL: Backpack's documented host live; in paper, `<base_url>/ws` (http->ws, https->wss)."""
    if config.mode is Mode.LIVE:
        return LIVE_WS_URL
    base = config.base_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base.removeprefix("https://") + WS_PATH
    if base.startswith("http://"):
        return "ws://" + base.removeprefix("http://") + WS_PATH
    raise ConfigError(f"{VENUE}: cannot derive a WebSocket URL from {base!r}")


def check_stream_url(url: str, config: VenueConfig) -> None:
    """Host guard for the stream: live only Backpack's WS host; otherwise the same origin as base_url."""
    if config.mode is Mode.LIVE:
        ensure_allowed(url, LIVE_WS_URL, venue=VENUE)
        return
    scheme, _, rest = url.partition("://")
    http = {"ws": "http", "wss": "https"}.get(scheme)
    if http is None:
        raise ConfigError(f"{VENUE}: refusing a stream URL that is not ws:// or wss://")
    ensure_allowed(f"{http}://{rest}", config.base_url, venue=VENUE)


def subscribe_message(
    seed_b64: str, streams: list[str], timestamp_ms: int, window_ms: int, *, method: str = "SUBSCRIBE"
) -> dict[str, Any]:
    """The signed SUBSCRIBE (or UNSUBSCRIBE) request for private streams."""
    message = auth.signing_string("subscribe", None, timestamp_ms, window_ms)
    return {
        "method": method,
        "params": list(streams),
        "signature": [auth.public_key_b64(seed_b64), auth.sign(seed_b64, message), str(timestamp_ms), str(window_ms)],
    }


def order_stream_name(venue_symbol: str | None) -> str:
    return ORDER_STREAM if venue_symbol is None else f"{ORDER_STREAM}.{venue_symbol}"


# --- parsing (pure) ---------------------------------------------------------------------------------------


_r = WireReader(f"{VENUE}")
_WHAT = "order stream"


def _bad(message: str) -> BadResponse:
    return BadResponse(VENUE, f"order stream: {message}")


def _micros(data: Mapping[str, Any], key: str) -> datetime | None:
    # Event and engine times are epoch microseconds, numbers or (as ccxt's recordings show) strings.
    value = data.get(key)
    return None if is_none(value) else _r.epoch(value, f"{_WHAT}.{key}", per_second=1_000_000)


def decode_message(raw: str | bytes) -> dict[str, Any]:
    """One WebSocket text frame as a JSON object; an error reply raises AuthError (the venue refused us)."""
    message = decode_json(raw, VENUE)  # BadResponse for an empty or non-JSON frame
    if not isinstance(message, dict):
        raise _bad("a message is not an object")
    error = message.get("error")
    if error is not None:
        details = error if isinstance(error, dict) else {}
        text = str(details.get("message") or error)[:200]
        code = details.get("code")
        raise AuthError(VENUE, f"order stream refused: {text}", code=None if code is None else str(code))
    return message


def parse_order_update(
    data: Mapping[str, Any],
    canonical: Mapping[str, str],
    client_ids: Mapping[int, str] | None = None,
    received_ns: int | None = None,
) -> OrderEvent | None:
    """One `account.orderUpdate` payload -> OrderEvent; None for other events or markets we do not trade."""
    if data.get("e") not in ORDER_EVENTS:
        return None
    symbol = canonical.get(str(data.get("s")))
    if symbol is None:
        return None
    order_id = _r.ident(data, "i", _WHAT)
    # A trigger order's update says q "0" and carries its size in Y (trigger quantity).
    qty = _r.nonneg(data, "q", _WHAT)
    filled = _r.nonneg(data, "z", _WHAT)
    if not qty and data.get("Y") is not None:
        if to_number(data["Y"]) is None and not filled:
            # A trigger order sized as a share of the position ("80%"): not one of ours (we place none), and
            # nothing executed, so there is no base quantity to report and nothing to track.
            return None
        qty = _r.positive(data, "Y", _WHAT)
    if filled > qty:
        raise _bad(f"order {order_id[:40]}: executed {filled} exceeds quantity {qty}")
    quote = _r.opt_dec(data, "Z", _WHAT)
    client_order_id = None
    if data.get("c") is not None:
        text = _r.ident(data, "c", _WHAT)
        client_order_id = (client_ids or {}).get(int(text), text) if text.isdigit() else text
    price = _r.opt_dec(data, "p", _WHAT)
    at = _micros(data, "E")
    side = _r.enum(data, "S", _SIDES, _WHAT)
    order = Order(
        venue=VENUE,
        symbol=symbol,
        order_id=order_id,
        client_order_id=client_order_id,
        side=side,
        type=_r.enum(data, "o", _TYPES, _WHAT),
        status=_r.enum(data, "X", ORDER_STATUSES, _WHAT),
        qty=qty,
        filled_qty=filled,
        avg_price=quote / filled if filled > 0 and quote else None,
        price=price if price else None,
        reduce_only=_r.flag(data, "r", _WHAT),
        updated_at=at,
    )
    fill = None
    if data.get("e") == "orderFill":
        if data.get("m") is None:
            raise _bad("field 'm' is missing")
        maker = _r.flag(data, "m", _WHAT)
        fill_qty = _r.dec(data, "l", _WHAT)
        if fill_qty <= 0 or fill_qty > filled:
            raise _bad(f"order {order_id[:40]}: fill quantity {fill_qty} is not within (0, {filled}]")
        fill = Fill(
            venue=VENUE,
            symbol=symbol,
            order_id=order_id,
            trade_id=_r.ident(data, "t", _WHAT),
            side=side,
            qty=fill_qty,
            price=_r.positive(data, "L", _WHAT),
            fee=_r.dec(data, "n", _WHAT),  # negative: a maker rebate
            fee_asset=_r.text(data, "N", _WHAT),
            is_maker=maker,
            client_order_id=client_order_id,
            at=_micros(data, "T") or at,
        )
    return OrderEvent(
        order=order, fill=fill, source=EventSource.STREAM, received_ns=received_ns or SYSTEM_CLOCK.time_ns()
    )


def parse_message(
    raw: str | bytes,
    canonical: Mapping[str, str],
    client_ids: Mapping[int, str] | None = None,
    received_ns: int | None = None,
) -> OrderEvent | None:
    """One frame -> OrderEvent (None for frames about other streams); AuthError for a refusal."""
    message = decode_message(raw)
    stream = message.get("stream")
    if not isinstance(stream, str) or not stream.startswith(ORDER_STREAM):
        return None
    data = message.get("data")
    if not isinstance(data, dict):
        raise _bad(f"{stream}: data is not an object")
    return parse_order_update(data, canonical, client_ids, received_ns)


# --- the connector ----------------------------------------------------------------------------------------


class BackpackStream:
    """Opens one signed order-update session per `connect` call (the supervisor's plug-in)."""

    def __init__(
        self,
        config: VenueConfig,
        *,
        markets: Callable[[], Awaitable[dict[str, Market]]],
        offset: TimeOffset,
        measure_offset: Callable[[], Awaitable[int]],
        client_ids: Mapping[int, str],
        symbol: str | None = None,
    ) -> None:
        if not config.has("api_key", "api_secret"):
            raise ConfigError(f"{VENUE}: api_key and api_secret are needed for the order stream")
        self._config = config
        self._markets = markets
        self._offset = offset
        self._measure_offset = measure_offset
        self._client_ids = client_ids
        self._symbol = symbol
        self.url = stream_url(config)
        check_stream_url(self.url, config)

    def __repr__(self) -> str:
        return f"BackpackStream(url={self.url!r})"

    async def connect(self, ready: Callable[[], None]) -> AsyncGenerator[OrderEvent, None]:
        """One session: load markets, sign, subscribe, then yield order events until the socket closes."""
        check_stream_url(self.url, self._config)
        markets = await self._markets()
        canonical = {m.venue_symbol: m.symbol for m in markets.values()}
        venue_symbol = None
        if self._symbol is not None:
            market = markets.get(self._symbol.upper())
            if market is None:
                raise ConfigError(f"{VENUE}: no perpetual for {self._symbol}")
            venue_symbol = market.venue_symbol
        if self._offset.rtt_ms is None:
            await self._measure_offset()
        async with ws_connect(
            self.url,
            open_timeout=self._config.timeout_s,
            ping_interval=PING_INTERVAL_S,
            ping_timeout=PING_TIMEOUT_S,
            close_timeout=1.0,
            max_size=MAX_MESSAGE_BYTES,
            compression=None,  # tiny messages: deflate costs latency and buys nothing
            user_agent_header="hedgectl",
            proxy=None if is_loopback(self.url) else True,
        ) as ws:
            request = subscribe_message(
                self._config.secret("api_secret"),
                [order_stream_name(venue_symbol)],
                self._offset.now_ms(),
                self._config.recv_window_ms,
            )
            await ws.send(json.dumps(request, separators=(",", ":")))
            ready()  # Backpack does not acknowledge a subscription: from here on, changes are pushed
            async for raw in ws:
                event = parse_message(raw, canonical, self._client_ids, SYSTEM_CLOCK.time_ns())
                if event is not None:
                    yield event
