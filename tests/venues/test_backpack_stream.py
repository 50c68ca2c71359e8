"""Backpack's private order stream: message parsing (recorded shapes), the signed SUBSCRIBE, the URL guard,
and end to end against the simulator's /backpack/ws (fills pushed, a dropped stream recovered exactly once,
a bad signature refused)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from hedgectl.domain.ids import new_client_order_id, uint32_client_id
from hedgectl.domain.types import Mode, Order, OrderRequest, OrderStatus, OrderType, Side
from hedgectl.errors import AuthError, BadResponse, ConfigError
from hedgectl.sim import credentials
from hedgectl.sim.dialects.backpack_auth import BackpackKey
from hedgectl.sim.dialects.backpack_stream import StreamRefusal, verify_subscription
from hedgectl.sim.server import Running
from hedgectl.venues.backpack import BackpackVenue
from hedgectl.venues.backpack.auth import public_key_b64
from hedgectl.venues.backpack.stream import (
    LIVE_WS_URL,
    BackpackStream,
    check_stream_url,
    parse_message,
    stream_url,
    subscribe_message,
)
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit.time_offset import TimeOffset
from hedgectl.venues.streams import EventSource, OrderEvent, StreamState
from hedgectl.venues.streams.supervisor import SupervisorConfig
from tests.waiting import eventually_async

# The keypair and vector of exchanges.md §4.2 (Backpack's own guide; ED25519 is deterministic).
DOC_KEY = "zDIJj9qneWIY0IYZ5aXoHcNMCm+XDhVcTssiT0HyY0A="
DOC_SEED = "4odxgSUxFrC/zsKWZF4OQwYAgnNu9hnWH3NxWfLAPz4="
DOC_SUBSCRIBE_SIG = "JET04e2DKxa3MzJX+vHAvZ2t85IDCQV0Yvkne6ZioCLxZhaDPHACzfEFkaACTR+J2WlVJjGX2nICcJMwOK8zAw=="
OTHER_SEED = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

# ccxt's recorded account.orderUpdate messages (ccxt/pro/backpack.py, handle_order / parse_ws_order).
CCXT_ACCEPTED: dict[str, Any] = {
    "data": {
        "E": "1754939110175843",
        "O": "USER",
        "Q": "4.30",
        "S": "Bid",
        "T": "1754939110174703",
        "V": "RejectTaker",
        "X": "New",
        "Z": "0",
        "e": "orderAccepted",
        "f": "GTC",
        "i": "5406825793",
        "o": "MARKET",
        "q": "0.0010",
        "r": False,
        "s": "ETH_USDC",
        "t": None,
        "z": "0",
    },
    "stream": "account.orderUpdate.ETH_USDC",
}
CCXT_FILL: dict[str, Any] = {
    "data": {
        "E": "1754939110175879",
        "L": "4299.16",
        "N": "ETH",
        "O": "USER",
        "Q": "4.30",
        "S": "Bid",
        "T": "1754939110174705",
        "V": "RejectTaker",
        "X": "Filled",
        "Z": "4.299160",
        "e": "orderFill",
        "f": "GTC",
        "i": "5406825793",
        "l": "0.0010",
        "m": False,
        "n": "0.000001",
        "o": "MARKET",
        "q": "0.0010",
        "r": False,
        "s": "ETH_USDC",
        "t": 2888471,
        "z": "0.0010",
    },
    "stream": "account.orderUpdate.ETH_USDC",
}
# The documented shape: integer microsecond times, a uint32 clientId.
DOC_PARTIAL_FILL: dict[str, Any] = {
    "stream": "account.orderUpdate",
    "data": {
        "e": "orderFill",
        "E": 1694687692980000,
        "s": "BTC_USDC_PERP",
        "c": 123,
        "S": "Ask",
        "o": "LIMIT",
        "f": "GTC",
        "q": "2",
        "p": "60000",
        "X": "PartiallyFilled",
        "i": "1111343026172067",
        "t": 567,
        "l": "0.5",
        "z": "0.5",
        "Z": "30000",
        "L": "60000",
        "m": True,
        "n": "3",
        "N": "USDC",
        "V": "RejectTaker",
        "T": 1694687692989999,
        "O": "USER",
        "r": True,
        "y": True,
    },
}
CANONICAL = {"ETH_USDC": "ETH", "BTC_USDC_PERP": "BTC"}

FAST = SupervisorConfig(
    poll_interval_s=0.02, backoff_initial_s=0.01, backoff_max_s=0.05, connect_grace_s=0.5, lookback_s=10.0
)
STEP = 5.0


# --- parsing ----------------------------------------------------------------------------------------------


def test_ccxt_recorded_accept_and_fill_parse_into_cumulative_orders() -> None:
    accepted = parse_message(json.dumps(CCXT_ACCEPTED), CANONICAL, received_ns=1)
    filled = parse_message(json.dumps(CCXT_FILL), CANONICAL, received_ns=2)
    assert accepted is not None
    assert filled is not None
    assert (accepted.order.symbol, accepted.order.order_id, accepted.order.status) == ("ETH", "5406825793", "new")
    assert (accepted.order.type, accepted.order.side, accepted.order.qty) == (
        OrderType.MARKET,
        Side.BUY,
        Decimal("0.0010"),
    )
    assert accepted.fill is None
    assert accepted.received_ns == 1
    assert accepted.source is EventSource.STREAM
    order, fill = filled.order, filled.fill
    assert (order.status, order.filled_qty, order.avg_price) == (
        OrderStatus.FILLED,
        Decimal("0.0010"),
        Decimal("4299.16"),
    )
    assert fill is not None
    assert (fill.trade_id, fill.qty, fill.price, fill.fee, fill.fee_asset, fill.is_maker) == (
        "2888471",
        Decimal("0.0010"),
        Decimal("4299.16"),
        Decimal("0.000001"),
        "ETH",
        False,
    )
    assert fill.at is not None
    assert fill.at.timestamp() == pytest.approx(1754939110.174705)


def test_documented_shape_maps_the_client_id_back_to_ours() -> None:
    event = parse_message(json.dumps(DOC_PARTIAL_FILL), CANONICAL, {123: "hcours"})
    assert event is not None
    assert event.order.client_order_id == "hcours"
    assert (event.order.status, event.order.filled_qty, event.order.price) == (
        OrderStatus.PARTIALLY_FILLED,
        Decimal("0.5"),
        Decimal(60000),
    )
    assert event.order.reduce_only is True
    assert event.fill is not None
    assert (event.fill.qty, event.fill.is_maker, event.fill.client_order_id) == (Decimal("0.5"), True, "hcours")
    unknown = parse_message(json.dumps(DOC_PARTIAL_FILL), CANONICAL)
    assert unknown is not None
    assert unknown.order.client_order_id == "123"


@pytest.mark.parametrize(
    "message",
    [
        {"stream": "account.positionUpdate", "data": {"e": "positionOpened", "s": "BTC_USDC_PERP"}},
        {"stream": "account.orderUpdate", "data": {**DOC_PARTIAL_FILL["data"], "s": "BTC_USDC"}},  # a spot market
        {"stream": "account.orderUpdate", "data": {**DOC_PARTIAL_FILL["data"], "e": "rfqActive"}},
    ],
)
def test_messages_about_other_things_are_skipped(message: dict[str, Any]) -> None:
    assert parse_message(json.dumps(message), CANONICAL) is None


def test_an_error_reply_is_a_refusal() -> None:
    with pytest.raises(AuthError, match="Invalid signature") as caught:
        parse_message('{"id": null, "error": {"code": 4001, "message": "Invalid signature"}}', CANONICAL)
    assert caught.value.code == "4001"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("z", "3"),
        ("l", "0"),
        ("q", "1,5"),
        ("q", [1]),
        ("m", "yes"),
        ("X", "Weird"),
        ("E", "soon"),
        ("i", None),
        ("L", "-1"),
    ],
)
def test_untrustworthy_numbers_are_refused_not_guessed(key: str, value: object) -> None:
    data = {**DOC_PARTIAL_FILL["data"], key: value}
    with pytest.raises(BadResponse):
        parse_message(json.dumps({"stream": "account.orderUpdate", "data": data}), CANONICAL)


def test_frames_that_are_not_json_objects_are_bad_responses() -> None:
    for raw in ("not json", "[1]", '{"stream": "account.orderUpdate", "data": 5}'):
        with pytest.raises(BadResponse):
            parse_message(raw, CANONICAL)


# --- subscription and URL ---------------------------------------------------------------------------------


def test_subscribe_is_signed_as_the_documented_vector() -> None:
    message = subscribe_message(DOC_SEED, ["account.orderUpdate"], 1614550000000, 5000)
    assert message == {
        "method": "SUBSCRIBE",
        "params": ["account.orderUpdate"],
        "signature": [DOC_KEY, DOC_SUBSCRIBE_SIG, "1614550000000", "5000"],
    }


def test_the_simulator_verifies_the_subscription_like_the_venue() -> None:
    keys = {DOC_KEY: BackpackKey(DOC_KEY, DOC_SEED)}
    signature = subscribe_message(DOC_SEED, ["account.orderUpdate"], 1614550000000, 5000)["signature"]
    assert verify_subscription(keys, signature, 1614550004000).api_key == DOC_KEY
    with pytest.raises(StreamRefusal, match="expired"):
        verify_subscription(keys, signature, 1614550005001)
    with pytest.raises(StreamRefusal, match="Invalid signature"):
        verify_subscription(keys, [DOC_KEY, DOC_SUBSCRIBE_SIG, "1614550000001", "5000"], 1614550000000)
    with pytest.raises(StreamRefusal, match="API key not found"):
        verify_subscription({}, signature, 1614550000000)
    with pytest.raises(StreamRefusal, match="at most"):
        verify_subscription(keys, [*signature[:3], "60001"], 1614550000000)


def paper_config(base_url: str, **overrides: Any) -> VenueConfig:
    fields: dict[str, Any] = {
        "name": "backpack",
        "mode": Mode.PAPER,
        "base_url": base_url,
        "credentials": {
            "api_key": SecretStr(credentials.BACKPACK_API_KEY),
            "api_secret": SecretStr(credentials.BACKPACK_API_SECRET),
        },
        "timeout_s": 2.0,
    }
    fields.update(overrides)
    return VenueConfig(**fields)


def test_stream_url_follows_the_rest_base_in_paper_and_is_the_documented_host_live() -> None:
    assert stream_url(paper_config("http://127.0.0.1:8765/backpack")) == "ws://127.0.0.1:8765/backpack/ws"
    assert stream_url(paper_config("https://sim.local/backpack/")) == "wss://sim.local/backpack/ws"
    live = paper_config("https://api.backpack.exchange", mode=Mode.LIVE)
    assert stream_url(live) == LIVE_WS_URL == "wss://ws.backpack.exchange"


def test_the_host_guard_checks_the_stream_url() -> None:
    paper = paper_config("http://127.0.0.1:8765/backpack")
    check_stream_url("ws://127.0.0.1:8765/backpack/ws", paper)
    for url in ("ws://127.0.0.1:9999/backpack/ws", "wss://ws.backpack.exchange", "ws://127.0.0.1:8765/okx/ws"):
        with pytest.raises(ConfigError, match="refusing"):
            check_stream_url(url, paper)
    live = paper_config("https://api.backpack.exchange", mode=Mode.LIVE)
    check_stream_url(LIVE_WS_URL, live)
    with pytest.raises(ConfigError, match="refusing"):
        check_stream_url("wss://evil.example/ws", live)


# --- end to end against the simulator ---------------------------------------------------------------------


@pytest.fixture
async def venue(sim_server: Running) -> AsyncIterator[BackpackVenue]:
    v = BackpackVenue(paper_config(sim_server.url + "/backpack"))
    yield v
    await v.close()


class Watched:
    """A supervised stream consumed in the background; the test reads it with timeouts."""

    def __init__(self, events: AsyncIterator[OrderEvent]) -> None:
        self.queue: asyncio.Queue[OrderEvent] = asyncio.Queue()
        self.task = asyncio.create_task(self._pump(events))

    async def _pump(self, events: AsyncIterator[OrderEvent]) -> None:
        async for event in events:
            self.queue.put_nowait(event)

    async def next_for(self, order_id: str) -> OrderEvent:
        """The next event about `order_id` (events about other orders are skipped)."""
        while True:
            event = await asyncio.wait_for(self.queue.get(), STEP)
            if event.order.order_id == order_id:
                return event

    def drain(self) -> list[OrderEvent]:
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@contextlib.asynccontextmanager
async def watching(
    venue: BackpackVenue, states: list[StreamState] | None = None, symbol: str | None = "BTC"
) -> AsyncIterator[Watched]:
    def hook(state: StreamState, _reason: str) -> None:
        if states is not None:
            states.append(state)

    watched = Watched(venue.order_events(symbol, config=FAST, on_state=hook))
    try:
        yield watched
    finally:
        await watched.close()


async def eventually(cond: Callable[[], bool], timeout: float = STEP) -> None:
    await eventually_async(cond, timeout, 0.005)


async def resting_buy(venue: BackpackVenue, qty: str = "0.01") -> Order:
    quote = await venue.fetch_quote("BTC")
    price = (quote.bid * Decimal("0.98")).quantize(Decimal("0.1"))
    return await venue.place_order(
        OrderRequest("BTC", Side.BUY, OrderType.LIMIT, Decimal(qty), new_client_order_id(), price=price)
    )


async def sim_fill(control: httpx.AsyncClient, order: Order, ratio: str = "1") -> dict[str, Any]:
    reply = await control.post("/_sim/fill", json={"venue": "backpack", "order_id": order.order_id, "ratio": ratio})
    assert reply.status_code == 200, reply.text
    [fill] = reply.json()["fills"]
    return dict(fill)


@pytest.mark.e2e
@pytest.mark.parametrize("symbol", ["BTC", None])
async def test_a_fill_at_the_simulator_arrives_as_a_stream_event(
    venue: BackpackVenue, sim_server: Running, control: httpx.AsyncClient, symbol: str | None
) -> None:
    async with watching(venue, symbol=symbol) as events:
        await eventually(lambda: sim_server.sim.engine.bus.active)  # the SUBSCRIBE was accepted
        order = await resting_buy(venue)
        accepted = await events.next_for(order.order_id)
        assert accepted.order.status is OrderStatus.NEW
        assert accepted.order.client_order_id == order.client_order_id
        half = await sim_fill(control, order, "0.5")
        first = await events.next_for(order.order_id)
        rest = await sim_fill(control, order)
        second = await events.next_for(order.order_id)
    assert first.source is EventSource.STREAM
    assert first.fill is not None
    assert (first.fill.trade_id, first.fill.qty, first.fill.price) == (
        half["fill_id"],
        Decimal(half["qty"]),
        order.price,
    )
    assert first.fill.is_maker is True
    assert (first.order.status, first.order.filled_qty) == (OrderStatus.PARTIALLY_FILLED, Decimal("0.005"))
    assert second.fill is not None
    assert second.fill.trade_id == rest["fill_id"]
    assert (second.order.status, second.order.filled_qty) == (OrderStatus.FILLED, Decimal("0.01"))
    assert second.received_ns >= first.received_ns


@pytest.mark.e2e
async def test_a_fill_while_the_stream_is_cut_is_delivered_exactly_once(
    venue: BackpackVenue, sim_server: Running, control: httpx.AsyncClient
) -> None:
    states: list[StreamState] = []
    async with watching(venue, states) as events:
        await eventually(lambda: sim_server.sim.engine.bus.active)
        order = await resting_buy(venue)
        assert (await events.next_for(order.order_id)).order.status is OrderStatus.NEW
        # Cut the line and keep it cut while the maker order fills.
        assert (await control.post("/_sim/streams", json={"venue": "backpack", "refuse": True})).status_code == 200
        dropped = await control.post("/_sim/streams/drop", json={"venue": "backpack"})
        assert dropped.json()["dropped"] == 1
        fill = await sim_fill(control, order)
        recovered = await events.next_for(order.order_id)
        assert recovered.source in (EventSource.POLL, EventSource.RECONCILE)
        assert recovered.fill is not None
        assert recovered.fill.trade_id == fill["fill_id"]
        assert (recovered.order.status, recovered.order.filled_qty) == (OrderStatus.FILLED, order.qty)
        assert StreamState.DOWN in states
        # Let it reconnect: the reconciliation must not deliver the fill a second time.
        await control.post("/_sim/streams", json={"venue": "backpack", "refuse": False})
        await eventually(lambda: states[-1] is StreamState.UP and sim_server.sim.engine.bus.active)
        marker = await resting_buy(venue)
        assert (await events.next_for(marker.order_id)).order.status is OrderStatus.NEW
        assert [e for e in events.drain() if e.order.order_id == order.order_id] == []
        streams = (await control.get("/_sim/streams")).json()
        assert streams["backpack"] == {"live": 1, "refused": False}


@pytest.mark.e2e
async def test_a_fill_racing_a_drop_is_not_lost(
    venue: BackpackVenue, sim_server: Running, control: httpx.AsyncClient
) -> None:
    async with watching(venue) as events:
        await eventually(lambda: sim_server.sim.engine.bus.active)
        order = await resting_buy(venue)
        await events.next_for(order.order_id)
        await control.post("/_sim/streams/drop", json={"venue": "backpack"})
        fill = await sim_fill(control, order)
        got = await events.next_for(order.order_id)
        assert got.fill is not None
        assert got.fill.trade_id == fill["fill_id"]
        marker = await resting_buy(venue)
        await events.next_for(marker.order_id)
        assert [e for e in events.drain() if e.order.order_id == order.order_id] == []


@pytest.mark.e2e
async def test_a_bad_signature_is_answered_with_an_error_and_closed(sim_server: Running) -> None:
    url = sim_server.url.replace("http://", "ws://") + "/backpack/ws"
    now_ms = int(time.time() * 1000)
    request = subscribe_message(credentials.BACKPACK_API_SECRET, ["account.orderUpdate"], now_ms, 5000)
    request["signature"][1] = subscribe_message(OTHER_SEED, ["x"], now_ms, 5000)["signature"][1]
    async with ws_connect(url, proxy=None) as ws:
        await ws.send(json.dumps(request))
        reply = json.loads(await asyncio.wait_for(ws.recv(), STEP))
        assert reply["error"]["message"] == "Invalid signature"
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), STEP)
    assert not sim_server.sim.engine.bus.active


@pytest.mark.e2e
async def test_a_key_the_venue_does_not_know_is_a_refusal(sim_server: Running) -> None:
    config = paper_config(
        sim_server.url + "/backpack",
        credentials={"api_key": SecretStr(public_key_b64(OTHER_SEED)), "api_secret": SecretStr(OTHER_SEED)},
    )
    offset = TimeOffset()
    offset.rtt_ms = 0.0

    async def markets() -> dict[str, Any]:
        return {}

    async def measure() -> int:
        return 0

    stream = BackpackStream(config, markets=markets, offset=offset, measure_offset=measure, client_ids={})
    ready: list[bool] = []
    with pytest.raises(AuthError, match="API key not found"):
        async for _ in stream.connect(lambda: ready.append(True)):
            pass
    assert ready == [True]


@pytest.mark.e2e
async def test_the_simulator_refuses_streams_it_does_not_serve(sim_server: Running) -> None:
    url = sim_server.url.replace("http://", "ws://") + "/backpack/ws"
    request = subscribe_message(
        credentials.BACKPACK_API_SECRET, ["account.positionUpdate"], int(time.time() * 1000), 5000
    )
    async with ws_connect(url, proxy=None) as ws:
        await ws.send(json.dumps(request))
        reply = json.loads(await asyncio.wait_for(ws.recv(), STEP))
    assert reply["error"]["code"] == 4006


def test_client_ids_are_the_uint32_we_derived() -> None:
    cid = new_client_order_id()
    data = {**DOC_PARTIAL_FILL["data"], "c": uint32_client_id(cid)}
    event = parse_message(
        json.dumps({"stream": "account.orderUpdate", "data": data}), CANONICAL, {uint32_client_id(cid): cid}
    )
    assert event is not None
    assert event.order.client_order_id == cid
