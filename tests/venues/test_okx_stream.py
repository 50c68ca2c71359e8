"""OKX's private order stream: pushes parsed with the REST readers, URLs per mode, and end to end against the
simulator (login, a fill pushed, a fill while the stream is cut delivered exactly once, no secret in the logs)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from okx_samples import BTC, D
from pydantic import SecretStr

from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import Market, Mode, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from hedgectl.errors import AuthError, BadResponse, ConfigError, Unavailable
from hedgectl.sim.credentials import all_credentials
from hedgectl.sim.server import Running
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.okx import OkxVenue
from hedgectl.venues.okx.stream import OkxOrderStream, parse_frame, parse_order_push
from hedgectl.venues.streams import EventSource, OrderEvent, StreamingVenue, StreamState
from hedgectl.venues.streams.supervisor import SupervisorConfig
from tests.waiting import eventually_async

STEP = 5.0  # seconds any single expected event may take
FAST = SupervisorConfig(
    poll_interval_s=0.02, backoff_initial_s=0.01, backoff_max_s=0.05, connect_grace_s=0.2, connect_timeout_s=5.0
)
MARKETS = {"BTC-USDT-SWAP": BTC}

# An `orders` channel entry of a swap, in the shape OKX pushes (every field a string, "" for none): live...
LIVE = {
    "instType": "SWAP", "instId": "BTC-USDT-SWAP", "ordId": "3001", "clOrdId": "hc9", "tag": "", "px": "60000",
    "sz": "3", "ordType": "post_only", "side": "sell", "posSide": "net", "tdMode": "cross", "accFillSz": "0",
    "avgPx": "0", "state": "live", "lever": "10", "fee": "0", "feeCcy": "USDT", "rebate": "0", "rebateCcy": "USDT",
    "reduceOnly": "false", "fillPx": "", "tradeId": "", "fillSz": "0", "fillTime": "", "fillFee": "0",
    "fillFeeCcy": "", "execType": "", "cTime": "1765000000000", "uTime": "1765000000000", "code": "0", "msg": "",
}  # fmt: skip
# ...then filled as maker.
FILLED = {
    **LIVE, "accFillSz": "3", "avgPx": "60000", "execType": "M", "fee": "-0.36", "fillFee": "-0.36",
    "fillFeeCcy": "USDT", "fillPx": "60000", "fillSz": "3", "fillTime": "1765000001000", "state": "filled",
    "tradeId": "777", "uTime": "1765000001000",
}  # fmt: skip


def test_pushes_convert_contracts_and_fees() -> None:
    seen: OrderedDict[str, None] = OrderedDict()
    live = parse_order_push(LIVE, MARKETS, seen)
    assert live is not None
    assert (live.fill, live.order.status, live.order.qty, live.order.avg_price) == (
        None,
        OrderStatus.NEW,
        D("0.03"),
        None,
    )
    done = parse_order_push(FILLED, MARKETS, seen)
    assert done is not None
    assert done.fill is not None
    assert (done.source, done.order.status, done.order.filled_qty, done.order.fee) == (
        EventSource.STREAM, OrderStatus.FILLED, D("0.03"), D("0.36"),
    )  # fmt: skip
    fill = done.fill
    assert (fill.trade_id, fill.qty, fill.price, fill.fee, fill.fee_asset, fill.is_maker, fill.client_order_id) == (
        "777", D("0.03"), D("60000"), D("0.36"), "USDT", True, "hc9",
    )  # fmt: skip


def test_a_hedge_mode_push_names_its_side_and_a_garbled_side_is_refused() -> None:
    closing = {**LIVE, "posSide": "short", "side": "buy", "reduceOnly": "true"}
    event = parse_order_push(closing, MARKETS, OrderedDict())
    assert event is not None
    assert (event.order.side, event.order.reduce_only) == (Side.BUY, True)
    with pytest.raises(BadResponse, match="posSide"):
        parse_order_push({**LIVE, "posSide": "both"}, MARKETS, OrderedDict())


@pytest.mark.parametrize("broken", [{"fillSz": "-1"}, {"fillPx": "0"}, {"fillPx": ""}, {"fillFee": "x"}])
def test_a_push_with_an_impossible_fill_is_a_bad_response_and_not_remembered(broken: dict[str, str]) -> None:
    seen: OrderedDict[str, None] = OrderedDict()
    with pytest.raises(BadResponse):
        parse_order_push({**FILLED, **broken}, MARKETS, seen)
    assert not seen


def test_an_update_repeating_the_last_fill_is_a_state_change_not_a_second_fill() -> None:
    seen: OrderedDict[str, None] = OrderedDict()
    partial = {**FILLED, "state": "partially_filled", "accFillSz": "1", "fillSz": "1"}
    first = parse_order_push(partial, MARKETS, seen)
    again = parse_order_push({**partial, "state": "canceled"}, MARKETS, seen)
    assert first is not None
    assert first.fill is not None
    assert again is not None
    assert (again.fill, again.order.status) == (None, OrderStatus.CANCELED)


def test_a_push_without_its_fee_carries_the_order_but_no_guessed_fill() -> None:
    event = parse_order_push({**FILLED, "fillFee": ""}, MARKETS, OrderedDict())
    assert event is not None
    assert (event.order.filled_qty, event.fill) == (D("0.03"), None)
    assert parse_order_push(FILLED, {}, OrderedDict()) is None  # not one of our instruments


def test_frames_other_than_order_pushes_yield_nothing_and_errors_raise() -> None:
    seen: OrderedDict[str, None] = OrderedDict()
    assert parse_frame("pong", MARKETS, seen) == []
    assert parse_frame('{"event":"subscribe","arg":{"channel":"orders"},"connId":"a"}', MARKETS, seen) == []
    other = '{"arg":{"channel":"orders","instType":"SWAP"},"data":[{"instId":"DOGE-USDT-SWAP"}]}'
    assert parse_frame(other, MARKETS, seen) == []
    assert parse_frame('{"arg":{"channel":"positions"},"data":[{"x":1}]}', MARKETS, seen) == []
    with pytest.raises(Unavailable, match="60012"):
        parse_frame('{"event":"error","code":"60012","msg":"Illegal request"}', MARKETS, seen)
    with pytest.raises(BadResponse):
        parse_frame('{"arg":{"channel":"orders"},"data":{"not":"a list"}}', MARKETS, seen)
    with pytest.raises(BadResponse):
        parse_frame('["not", "an object"]', MARKETS, seen)


def _config(mode: Mode, base_url: str, **creds: str) -> VenueConfig:
    return VenueConfig("okx", mode, base_url, credentials={k: SecretStr(v) for k, v in creds.items()})


async def _no_markets() -> dict[str, Market]:
    return {}


@pytest.mark.parametrize(
    ("mode", "base_url", "ws_url", "expected"),
    [
        (Mode.PAPER, "http://127.0.0.1:9/okx", None, "ws://127.0.0.1:9/okx/ws/v5/private"),
        (Mode.LIVE, "https://www.okx.com", None, "wss://ws.okx.com:8443/ws/v5/private"),
        (Mode.TESTNET, "https://www.okx.com", None, "wss://wspap.okx.com:8443/ws/v5/private?brokerId=9999"),
        (Mode.LIVE, "https://eea.okx.com", "wss://wseea.okx.com:8443", "wss://wseea.okx.com:8443/ws/v5/private"),
    ],
)
def test_private_url_per_mode_and_region(mode: Mode, base_url: str, ws_url: str | None, expected: str) -> None:
    creds = {k: SecretStr(v) for k, v in {"api_key": "k", "api_secret": "s", "passphrase": "p"}.items()}
    config = VenueConfig("okx", mode, base_url, credentials=creds, ws_url=ws_url)
    assert repr(OkxOrderStream(config, _no_markets)) == f"OkxOrderStream(url={expected!r})"


def test_the_stream_needs_the_passphrase() -> None:
    with pytest.raises(ConfigError, match="OKX_PASSPHRASE"):
        OkxOrderStream(_config(Mode.PAPER, "http://127.0.0.1:9/okx", api_key="k", api_secret="s"), _no_markets)
    with pytest.raises(ConfigError, match="order stream needs"):
        OkxOrderStream(_config(Mode.PAPER, "http://127.0.0.1:9/okx"), _no_markets)


# ---- end to end against the simulator ----------------------------------------------------------------------


@pytest.fixture
async def venue(sim_server: Running) -> AsyncIterator[OkxVenue]:
    creds = {k: SecretStr(v) for k, v in all_credentials()["okx"].items()}
    adapter = OkxVenue(VenueConfig("okx", Mode.PAPER, f"{sim_server.url}/okx", credentials=creds))
    try:
        yield adapter
    finally:
        await adapter.close()


class Watched:
    """A supervised stream consumed in the background; the test reads it with timeouts."""

    def __init__(self, events: AsyncIterator[OrderEvent]) -> None:
        self.queue: asyncio.Queue[OrderEvent] = asyncio.Queue()
        self.seen: list[OrderEvent] = []
        self.task = asyncio.create_task(self._pump(events))

    async def _pump(self, events: AsyncIterator[OrderEvent]) -> None:
        async for event in events:
            self.seen.append(event)
            self.queue.put_nowait(event)

    async def next_for(self, order_id: str) -> OrderEvent:
        while True:
            event = await asyncio.wait_for(self.queue.get(), STEP)
            if event.order.order_id == order_id:
                return event

    def fills_of(self, order_id: str) -> list[str]:
        return [e.fill.trade_id for e in self.seen if e.order.order_id == order_id and e.fill is not None]


@contextlib.asynccontextmanager
async def watching(events: AsyncIterator[OrderEvent]) -> AsyncIterator[Watched]:
    watched = Watched(events)
    try:
        yield watched
    finally:
        watched.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watched.task


async def eventually(cond: Callable[[], bool], timeout: float = STEP) -> None:
    await eventually_async(cond, timeout, 0.005)


def stream_live(sim: Running) -> bool:
    from hedgectl.sim.stream_hub import hub_of

    return hub_of(sim.sim).count("okx") > 0


async def resting_buy(venue: OkxVenue, qty: str = "0.02") -> Order:
    request = OrderRequest(
        "BTC", Side.BUY, OrderType.LIMIT, D(qty), new_client_order_id(), price=D("50000"), time_in_force=TimeInForce.GTC
    )
    return await venue.place_order(request)


async def sim_fill(control: httpx.AsyncClient, order: Order, ratio: str = "1") -> Any:
    reply = await control.post("/_sim/fill", json={"venue": "okx", "order_id": order.order_id, "ratio": ratio})
    assert reply.status_code == 200, reply.text
    [fill] = reply.json()["fills"]
    return fill


@pytest.mark.e2e
async def test_a_fill_at_the_simulator_arrives_as_a_stream_event(
    venue: OkxVenue, sim_server: Running, control: httpx.AsyncClient
) -> None:
    assert isinstance(venue, StreamingVenue)
    async with watching(venue.order_events("BTC", config=FAST)) as events:
        await eventually(lambda: stream_live(sim_server) and sim_server.sim.engine.bus.active)
        order = await resting_buy(venue)
        accepted = await events.next_for(order.order_id)
        assert (accepted.order.status, accepted.order.client_order_id) == (OrderStatus.NEW, order.client_order_id)
        half = await sim_fill(control, order, "0.5")
        first = await events.next_for(order.order_id)
        rest = await sim_fill(control, order)
        second = await events.next_for(order.order_id)
    assert (first.source, second.source) == (EventSource.STREAM, EventSource.STREAM)
    assert first.fill is not None
    assert second.fill is not None
    assert (first.fill.trade_id, first.fill.qty, first.fill.price) == (half["fill_id"], D("0.01"), D("50000"))
    assert (first.fill.fee, first.fill.is_maker, first.fill.symbol) == (D(half["fee"]), True, "BTC")
    assert second.fill.trade_id == rest["fill_id"]
    assert (second.order.status, second.order.filled_qty, second.order.avg_price) == (
        OrderStatus.FILLED, D("0.02"), D("50000"),
    )  # fmt: skip


@pytest.mark.e2e
async def test_a_fill_while_the_stream_is_cut_is_delivered_exactly_once(
    venue: OkxVenue, sim_server: Running, control: httpx.AsyncClient
) -> None:
    states: list[StreamState] = []
    source = venue.order_events("BTC", config=FAST, on_state=lambda state, _reason: states.append(state))
    async with watching(source) as events:
        await eventually(lambda: stream_live(sim_server))
        order = await resting_buy(venue)
        await events.next_for(order.order_id)
        half = await sim_fill(control, order, "0.5")
        assert (await events.next_for(order.order_id)).fill is not None
        await control.post("/_sim/streams", json={"venue": "okx", "refuse": True})
        assert (await control.post("/_sim/streams/drop", json={"venue": "okx"})).json()["dropped"] == 1
        rest = await sim_fill(control, order)
        recovered = await events.next_for(order.order_id)
        assert recovered.source is EventSource.POLL
        assert recovered.fill is not None
        assert recovered.fill.trade_id == rest["fill_id"]
        assert StreamState.DOWN in states
        await control.post("/_sim/streams", json={"venue": "okx", "refuse": False})
        await eventually(lambda: states[-1] is StreamState.UP and stream_live(sim_server))
        marker = await resting_buy(venue)
        assert (await events.next_for(marker.order_id)).order.status is OrderStatus.NEW
    assert events.fills_of(order.order_id) == [half["fill_id"], rest["fill_id"]]


@pytest.mark.e2e
async def test_bad_credentials_stop_the_stream_with_an_auth_error(sim_server: Running) -> None:
    creds = {**all_credentials()["okx"], "passphrase": "not-the-passphrase"}
    config = VenueConfig("okx", Mode.PAPER, f"{sim_server.url}/okx", {k: SecretStr(v) for k, v in creds.items()})
    venue = OkxVenue(config)
    try:
        session = venue.stream_connector()(lambda: None)
        with pytest.raises(AuthError) as refused:
            await session.__anext__()
        assert "not-the-passphrase" not in str(refused.value)
    finally:
        await venue.close()


@pytest.mark.e2e
async def test_no_secret_reaches_the_logs_even_at_debug(
    venue: OkxVenue, sim_server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with watching(venue.order_events("BTC", config=FAST)) as events:
        await eventually(lambda: stream_live(sim_server))
        order = await resting_buy(venue)
        await events.next_for(order.order_id)
    secrets = [v for k, v in all_credentials()["okx"].items() if k != "api_key"]
    assert all(secret not in caplog.text for secret in secrets)
