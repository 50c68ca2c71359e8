"""WebSocket plumbing of the private order streams of Binance, OKX and Aster: where, guarded connect, frames.

The `websockets` client, as Backpack's stream uses; not ccxt.pro. ccxt.pro works against the simulator
(tests/sim proves it), but as a trading feed it falls short: `watch_orders` returns a cache keyed by order id,
so two fills of one order between two awaits collapse into one entry and the first fill's trade id, price and
fee are lost; an update that arrives while nobody awaits resolves no future; every number becomes a float; it
reconnects only when awaited again, with no sign of having been blind meanwhile; and it adds a parsing layer to
the fill -> hedge hot path. A native session is short, yields every message, keeps Decimal, and ends cleanly so
the supervisor (streams/supervisor.py) reconnects and reconciles by REST.

Every failure is translated here into the error taxonomy (Unavailable), with no URL in the message: user data
stream URLs carry listen keys.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosedOK, InvalidStatus, WebSocketException

from hedgectl.aio import within
from hedgectl.domain.types import Mode
from hedgectl.errors import ConfigError, Unavailable
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.host_guard import ensure_allowed, is_loopback

MAX_FRAME_BYTES = 1 << 22
# websockets logs request lines and every frame at DEBUG: listen keys, OKX's login (passphrase). Never below INFO.
WS_LOGGER = logging.getLogger("hedgectl.venues.ws")
WS_LOGGER.setLevel(logging.INFO)
PING_INTERVAL_S = 20.0  # protocol pings; a connection that does not pong within PING_TIMEOUT_S is dead
PING_TIMEOUT_S = 10.0


def ws_twin(rest_base: str) -> str:
    """The WebSocket base next to a REST base (the simulator serves both): http -> ws, https -> wss."""
    parts = urlsplit(rest_base.rstrip("/"))
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme)
    if scheme is None:
        raise ConfigError(f"cannot derive a WebSocket URL from {parts.scheme}://{parts.netloc}")
    return urlunsplit((scheme, parts.netloc, parts.path, "", ""))


def ws_base(config: VenueConfig, documented: Mapping[Mode, str]) -> str:
    """The WebSocket base of the mode: the venue's documented host live/testnet, the REST base's twin on paper."""
    if config.mode is Mode.PAPER:
        return ws_twin(config.base_url)
    base = config.ws_url or documented.get(config.mode)
    if base is None:
        raise ConfigError(f"{config.name}: no private stream in {config.mode.value} mode")
    return base


def loads(text: str | bytes) -> Any:
    """Decode one frame; JSON floats become Decimal (money never passes through a binary float)."""
    return json.loads(text, parse_float=Decimal)


def dumps(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"))


@asynccontextmanager
async def open_socket(
    url: str,
    allowed_base: str,
    *,
    venue: str,
    open_timeout_s: float = 10.0,
    ping_interval_s: float | None = PING_INTERVAL_S,
) -> AsyncIterator[ClientConnection]:
    """Connect to `url` once the host guard allows it; close on exit. Failures are Unavailable."""
    ensure_allowed(url, allowed_base, venue=venue)
    try:
        ws = await ws_connect(
            url,
            open_timeout=open_timeout_s,
            ping_interval=ping_interval_s,
            ping_timeout=PING_TIMEOUT_S,
            close_timeout=1.0,
            max_size=MAX_FRAME_BYTES,
            compression=None,  # small frames: deflate costs latency and buys nothing
            user_agent_header="hedgectl",
            proxy=None if is_loopback(url) else True,
            logger=WS_LOGGER,
        )
    except InvalidStatus as exc:
        raise Unavailable(venue, f"order stream refused the connection (HTTP {exc.response.status_code})") from exc
    except (OSError, TimeoutError, WebSocketException) as exc:
        raise Unavailable(venue, f"cannot connect the order stream ({type(exc).__name__})") from exc
    try:
        yield ws
    finally:
        await ws.close()


async def text_frames(
    ws: ClientConnection,
    venue: str,
    *,
    idle_s: float | None = None,
    ping: str | None = None,
    pong_timeout_s: float = 10.0,
) -> AsyncGenerator[str, None]:
    """Text frames until the venue closes the connection cleanly (then return) or it fails (Unavailable).

    With `idle_s` and `ping`: after `idle_s` without a frame send the text `ping`; a connection that stays
    silent `pong_timeout_s` longer is dead (OKX's text keep-alive). Without `ping`, `idle_s` silence is fatal.
    """
    waited = False
    while True:
        timeout = None if idle_s is None else (pong_timeout_s if waited else idle_s)
        try:
            frame = await within(ws.recv(), timeout)
        except TimeoutError:
            if waited or ping is None:
                raise Unavailable(venue, "order stream went silent") from None
            await send_text(ws, venue, ping)
            waited = True
            continue
        except ConnectionClosedOK:
            return
        except WebSocketException as exc:
            raise Unavailable(venue, f"order stream lost ({type(exc).__name__})") from exc
        except OSError as exc:
            raise Unavailable(venue, f"order stream lost ({type(exc).__name__})") from exc
        waited = False
        yield frame if isinstance(frame, str) else frame.decode("utf-8", "replace")


async def send_text(ws: ClientConnection, venue: str, text: str) -> None:
    """Send one text frame; a broken connection is Unavailable."""
    try:
        await ws.send(text)
    except (WebSocketException, OSError) as exc:
        raise Unavailable(venue, f"order stream lost ({type(exc).__name__})") from exc
