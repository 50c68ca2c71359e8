"""Private order streams of Binance, OKX and Aster: recorded-shape parsing, URLs and the host guard, and end to
end against the simulator (a fill pushed, a fill while the stream is cut delivered exactly once, a duplicate
event applied once, listen-key expiry and keep-alive)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hedgectl.domain.ids import new_client_order_id
from hedgectl.domain.types import Market, Mode, Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from hedgectl.errors import AuthError, BadResponse, ConfigError, Unavailable
from hedgectl.sim.credentials import all_credentials
from hedgectl.sim.server import Running
from hedgectl.venues.aster import AsterVenue
from hedgectl.venues.aster.stream import aster_stream
from hedgectl.venues.binance import BinanceVenue
from hedgectl.venues.binance.stream import binance_stream
from hedgectl.venues.binance_family.stream import ClientListenKeys, UserDataStream, parse_order_trade_update
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.okx import OkxVenue
from hedgectl.venues.okx.stream import OkxOrderStream, parse_frame, parse_order_push
from hedgectl.venues.streams import Connect, EventSource, OrderEvent, Ready, StreamingVenue, StreamState
from hedgectl.venues.streams.supervisor import SupervisorConfig, supervise
from hedgectl.venues.ws_common import loads, open_socket
from tests.waiting import eventually_async

D = Decimal
STEP = 5.0  # seconds any single expected event may take
FAST = SupervisorConfig(
    poll_interval_s=0.02, backoff_initial_s=0.01, backoff_max_s=0.05, connect_grace_s=0.2, connect_timeout_s=5.0
)
BTCUSDT = Market("binance", "BTC", "BTCUSDT", "BTC", "USDT", D("0.1"), D("0.001"), D("0.001"))
OKX_BTC = Market("okx", "BTC", "BTC-USDT-SWAP", "BTC", "USDT", D("0.1"), D("0.01"), D("0.01"), contract_size=D("0.01"))

# ---- recorded shapes --------------------------------------------------------------------------------------

# Binance's documented ORDER_TRADE_UPDATE (as ccxt.pro quotes it in parse_ws_order), a NEW stop order...
BINANCE_NEW = {
    "e": "ORDER_TRADE_UPDATE",
    "E": 1568879465651,
    "T": 1568879465650,
    "o": {
        "s": "BTCUSDT", "c": "TEST", "S": "SELL", "o": "TRAILING_STOP_MARKET", "f": "GTC", "q": "0.001", "p": "0",
        "ap": "0", "sp": "7103.04", "x": "NEW", "X": "NEW", "i": 8886774, "l": "0", "z": "0", "L": "0", "N": "USDT",
        "n": "0", "T": 1568879465651, "t": 0, "b": "0", "a": "9.91", "m": False, "R": False, "wt": "CONTRACT_PRICE",
        "ot": "TRAILING_STOP_MARKET", "ps": "LONG", "cp": False, "AP": "7476.89", "cr": "5.0", "rp": "0",
    },
}  # fmt: skip
# ...and the same layout for a maker fill of a limit order (values of the documented fields).
BINANCE_TRADE = {
    "e": "ORDER_TRADE_UPDATE",
    "E": 1568879465700,
    "T": 1568879465699,
    "o": {
        "s": "BTCUSDT", "c": "hc1", "S": "BUY", "o": "LIMIT", "f": "GTX", "q": "0.010", "p": "65000.0",
        "ap": "65000.0", "sp": "0", "x": "TRADE", "X": "PARTIALLY_FILLED", "i": 8886775, "l": "0.004",
        "z": "0.004", "L": "65000.0", "N": "USDT", "n": "0.05200000", "T": 1568879465699, "t": 1234567, "b": "390",
        "a": "0", "m": True, "R": False, "wt": "CONTRACT_PRICE", "ot": "LIMIT", "ps": "BOTH", "cp": False,
        "rp": "0", "pP": False, "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0,
    },
}  # fmt: skip
# OKX's orders-channel entry in the shape ccxt.pro's handle_orders documents, moved to a swap: live, then filled.
OKX_LIVE = {
    "accFillSz": "0", "amendResult": "", "avgPx": "", "cTime": "1634548275191", "category": "normal", "ccy": "",
    "clOrdId": "e847386590ce4dBC330547db94a08ba0", "code": "0", "execType": "", "fee": "0", "feeCcy": "USDT",
    "fillFee": "0", "fillFeeCcy": "", "fillNotionalUsd": "", "fillPx": "", "fillSz": "0", "fillTime": "",
    "instId": "BTC-USDT-SWAP", "instType": "SWAP", "lever": "10", "msg": "", "notionalUsd": "451.4516256",
    "ordId": "370257534141235201", "ordType": "post_only", "pnl": "0", "posSide": "net", "px": "60000",
    "rebate": "0", "rebateCcy": "USDT", "reqId": "", "side": "sell", "slOrdPx": "", "slTriggerPx": "",
    "state": "live", "sz": "3", "tag": "", "tdMode": "cross", "tgtCcy": "", "tpOrdPx": "", "tpTriggerPx": "",
    "tradeId": "", "uTime": "1634548275191",
}  # fmt: skip
OKX_FILLED = {
    **OKX_LIVE, "accFillSz": "3", "avgPx": "60000", "execType": "M", "fee": "-0.36", "fillFee": "-0.36",
    "fillFeeCcy": "USDT", "fillPx": "60000", "fillSz": "3", "fillTime": "1634548276000", "state": "filled",
    "tradeId": "242589207", "uTime": "1634548276000",
}  # fmt: skip


def test_binance_new_order_update_has_no_fill_and_decimal_fields() -> None:
    event = parse_order_trade_update(BINANCE_NEW, {"BTCUSDT": BTCUSDT}, "binance")
    assert event is not None
    assert (event.source, event.fill) == (EventSource.STREAM, None)
    order = event.order
    assert (order.symbol, order.order_id, order.client_order_id, order.side) == ("BTC", "8886774", "TEST", Side.SELL)
    assert (order.status, order.qty, order.filled_qty, order.avg_price, order.price) == (
        OrderStatus.NEW, D("0.001"), D(0), None, None,
    )  # fmt: skip
    assert order.created_at is not None
    assert order.created_at.year == 2019


def test_binance_trade_update_carries_the_fill() -> None:
    event = parse_order_trade_update(BINANCE_TRADE, {"BTCUSDT": BTCUSDT}, "binance")
    assert event is not None
    assert event.fill is not None
    assert (event.order.status, event.order.filled_qty, event.order.avg_price) == (
        OrderStatus.PARTIALLY_FILLED, D("0.004"), D("65000.0"),
    )  # fmt: skip
    fill = event.fill
    assert (fill.trade_id, fill.order_id, fill.qty, fill.price) == ("1234567", "8886775", D("0.004"), D("65000.0"))
    assert (fill.fee, fill.fee_asset, fill.is_maker, fill.client_order_id) == (D("0.052"), "USDT", True, "hc1")
    assert all(isinstance(v, Decimal) for v in (fill.qty, fill.price, fill.fee))


def test_binance_update_without_commission_carries_the_order_but_no_guessed_fill() -> None:
    o = {k: v for k, v in BINANCE_TRADE["o"].items() if k not in ("N", "n")}  # type: ignore[union-attr]
    event = parse_order_trade_update({**BINANCE_TRADE, "o": o}, {"BTCUSDT": BTCUSDT}, "binance")
    assert event is not None
    assert event.order.filled_qty == D("0.004")
    assert event.fill is None  # the fee comes from the fills endpoint, never a 0 guessed here
    assert parse_order_trade_update(BINANCE_TRADE, {}, "binance") is None


def test_binance_garbled_update_is_a_bad_response() -> None:
    bad = {**BINANCE_TRADE, "o": {**BINANCE_TRADE["o"], "X": "WEIRD"}}  # type: ignore[dict-item]
    with pytest.raises(BadResponse, match="WEIRD"):
        parse_order_trade_update(bad, {"BTCUSDT": BTCUSDT}, "binance")
    with pytest.raises(BadResponse):
        parse_order_trade_update({**BINANCE_TRADE, "o": {**BINANCE_TRADE["o"], "z": "x"}}, {"BTCUSDT": BTCUSDT}, "b")  # type: ignore[dict-item]


def test_okx_pushes_convert_contracts_and_fees() -> None:
    seen: OrderedDict[str, None] = OrderedDict()
    live = parse_order_push(OKX_LIVE, {"BTC-USDT-SWAP": OKX_BTC}, seen)
    assert live is not None
    assert (live.fill, live.order.status, live.order.qty) == (None, OrderStatus.NEW, D("0.03"))
    assert live.order.side is Side.SELL
    done = parse_order_push(OKX_FILLED, {"BTC-USDT-SWAP": OKX_BTC}, seen)
    assert done is not None
    assert done.fill is not None
    assert (done.order.status, done.order.filled_qty, done.order.fee) == (OrderStatus.FILLED, D("0.03"), D("0.36"))
    fill = done.fill
    assert (fill.trade_id, fill.qty, fill.price, fill.fee, fill.fee_asset, fill.is_maker) == (
        "242589207", D("0.03"), D("60000"), D("0.36"), "USDT", True,
    )  # fmt: skip


def test_okx_update_repeating_the_last_fill_is_a_state_change_not_a_second_fill() -> None:
    seen: OrderedDict[str, None] = OrderedDict()
    partial = {**OKX_FILLED, "state": "partially_filled", "accFillSz": "1", "fillSz": "1"}
    cancelled = {**partial, "state": "canceled"}
    first = parse_order_push(partial, {"BTC-USDT-SWAP": OKX_BTC}, seen)
    again = parse_order_push(cancelled, {"BTC-USDT-SWAP": OKX_BTC}, seen)
    assert first is not None
    assert first.fill is not None
    assert again is not None
    assert again.fill is None
    assert again.order.status is OrderStatus.CANCELED


def test_okx_frames_other_than_order_pushes_yield_nothing_and_errors_raise() -> None:
    markets = {"BTC-USDT-SWAP": OKX_BTC}
    seen: OrderedDict[str, None] = OrderedDict()
    assert parse_frame("pong", markets, seen) == []
    assert parse_frame('{"event":"subscribe","arg":{"channel":"orders"},"connId":"a"}', markets, seen) == []
    other = '{"arg":{"channel":"orders","instType":"SWAP"},"data":[{"instId":"DOGE-USDT-SWAP"}]}'
    assert parse_frame(other, markets, seen) == []
    with pytest.raises(Unavailable, match="60012"):
        parse_frame('{"event":"error","code":"60012","msg":"Illegal request"}', markets, seen)
    with pytest.raises(BadResponse):
        parse_frame('{"arg":{"channel":"orders"},"data":{"not":"a list"}}', markets, seen)


# The OKX login signature's reference vector: test_okx_auth.py::test_ws_login_matches_the_reference_vector.


def test_frames_decode_floats_as_decimal() -> None:
    assert loads('{"p": 0.1}') == {"p": D("0.1")}


# ---- URLs and the host guard -----------------------------------------------------------------------------


def config(name: str, mode: Mode, base_url: str, **creds: str) -> VenueConfig:
    return VenueConfig(name, mode, base_url, credentials={k: SecretStr(v) for k, v in creds.items()})


async def no_markets() -> dict[str, Market]:
    return {}


@pytest.mark.parametrize(
    ("mode", "base_url", "expected"),
    [
        (Mode.PAPER, "http://127.0.0.1:9/binance", "ws://127.0.0.1:9/binance/private/ws?listenKey=K"),
        (Mode.LIVE, "https://fapi.binance.com", "wss://fstream.binance.com/private/ws?listenKey=K"),
        (Mode.TESTNET, "https://demo-fapi.binance.com", "wss://fstream.binancefuture.com/private/ws?listenKey=K"),
    ],
)
def test_binance_user_data_url_per_mode(mode: Mode, base_url: str, expected: str) -> None:
    stream = binance_stream(config("binance", mode, base_url), None, no_markets)  # type: ignore[arg-type]
    assert stream.url_for("K") == expected


@pytest.mark.parametrize(
    ("mode", "base_url", "expected"),
    [
        (Mode.PAPER, "http://127.0.0.1:9/okx", "ws://127.0.0.1:9/okx/ws/v5/private"),
        (Mode.LIVE, "https://www.okx.com", "wss://ws.okx.com:8443/ws/v5/private"),
        (Mode.TESTNET, "https://www.okx.com", "wss://wspap.okx.com:8443/ws/v5/private?brokerId=9999"),
    ],
)
def test_okx_private_url_per_mode(mode: Mode, base_url: str, expected: str) -> None:
    stream = OkxOrderStream(config("okx", mode, base_url, api_key="k", api_secret="s", passphrase="p"), no_markets)
    assert repr(stream) == f"OkxOrderStream(url={expected!r})"


@pytest.mark.parametrize(
    ("mode", "base_url", "expected"),
    [
        (Mode.PAPER, "http://127.0.0.1:9/aster", "ws://127.0.0.1:9/aster/ws/K"),
        (Mode.LIVE, "https://fapi.asterdex.com", "wss://fstream.asterdex.com/ws/K"),
        (Mode.TESTNET, "https://fapi.asterdex-testnet.com", "wss://fstream.asterdex-testnet.com/ws/K"),
    ],
)
def test_aster_user_data_url_per_mode(mode: Mode, base_url: str, expected: str) -> None:
    stream = aster_stream(config("aster", mode, base_url), None, no_markets)  # type: ignore[arg-type]
    assert stream.url_for("K") == expected


async def test_the_host_guard_refuses_a_stream_url_outside_the_mode() -> None:
    with pytest.raises(ConfigError, match="refusing"):
        async with open_socket("wss://fstream.example.com/ws/K", "wss://fstream.binance.com", venue="binance"):
            pass
    with pytest.raises(ConfigError, match="refusing"):
        async with open_socket("ws://127.0.0.1:1/okx/ws/v5/private", "wss://ws.okx.com:8443", venue="okx"):
            pass


def test_okx_stream_needs_the_passphrase() -> None:
    with pytest.raises(ConfigError, match="passphrase"):
        OkxOrderStream(config("okx", Mode.PAPER, "http://127.0.0.1:9/okx", api_key="k", api_secret="s"), no_markets)


# ---- end to end against the simulator ----------------------------------------------------------------------

VENUES = ["binance", "okx", "aster-v3", "aster-v1"]
KEYS = {"aster-v3": ("user", "signer", "private_key"), "aster-v1": ("api_key", "api_secret")}


def sim_name(kind: str) -> str:
    return kind.split("-")[0]


AnyVenue = OkxVenue | AsterVenue | BinanceVenue


def make_venue(sim: Running, kind: str) -> AnyVenue:
    name = sim_name(kind)
    creds = all_credentials()[name]
    keys = KEYS.get(kind, tuple(creds))
    cfg = VenueConfig(name, Mode.PAPER, f"{sim.url}/{name}", credentials={k: SecretStr(creds[k]) for k in keys})
    if name == "okx":
        return OkxVenue(cfg)
    if name == "binance":
        return BinanceVenue(cfg)
    return AsterVenue(cfg)


@pytest.fixture(params=VENUES)
async def venue(request: pytest.FixtureRequest, sim_server: Running) -> AsyncIterator[AnyVenue]:
    adapter = make_venue(sim_server, request.param)
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
        """The next event about `order_id` (events about other orders are skipped)."""
        while True:
            event = await asyncio.wait_for(self.queue.get(), STEP)
            if event.order.order_id == order_id:
                return event

    def fills_of(self, order_id: str) -> list[str]:
        return [e.fill.trade_id for e in self.seen if e.order.order_id == order_id and e.fill is not None]

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@contextlib.asynccontextmanager
async def watching(events: AsyncIterator[OrderEvent]) -> AsyncIterator[Watched]:
    watched = Watched(events)
    try:
        yield watched
    finally:
        await watched.close()


async def eventually(cond: Callable[[], bool], timeout: float = STEP) -> None:
    await eventually_async(cond, timeout, 0.005)


async def resting_buy(venue: AnyVenue, qty: str = "0.02") -> Order:
    request = OrderRequest(
        "BTC", Side.BUY, OrderType.LIMIT, D(qty), new_client_order_id(), price=D("50000"), time_in_force=TimeInForce.GTC
    )
    return await venue.place_order(request)


async def sim_fill(control: httpx.AsyncClient, venue: AnyVenue, order: Order, ratio: str = "1") -> Any:
    reply = await control.post("/_sim/fill", json={"venue": venue.name, "order_id": order.order_id, "ratio": ratio})
    assert reply.status_code == 200, reply.text
    [fill] = reply.json()["fills"]
    return fill


def stream_live(sim: Running, venue: str) -> bool:
    from hedgectl.sim.stream_hub import hub_of

    return hub_of(sim.sim).count(venue) > 0


@pytest.mark.e2e
async def test_the_venues_are_streaming_venues(venue: AnyVenue) -> None:
    assert isinstance(venue, StreamingVenue)


@pytest.mark.e2e
async def test_a_fill_at_the_simulator_arrives_as_a_stream_event(
    venue: AnyVenue, sim_server: Running, control: httpx.AsyncClient
) -> None:
    async with watching(venue.order_events("BTC", config=FAST)) as events:
        await eventually(lambda: stream_live(sim_server, venue.name) and sim_server.sim.engine.bus.active)
        order = await resting_buy(venue)
        accepted = await events.next_for(order.order_id)
        assert (accepted.order.status, accepted.order.client_order_id) == (OrderStatus.NEW, order.client_order_id)
        half = await sim_fill(control, venue, order, "0.5")
        first = await events.next_for(order.order_id)
        rest = await sim_fill(control, venue, order)
        second = await events.next_for(order.order_id)
    assert (first.source, second.source) == (EventSource.STREAM, EventSource.STREAM)
    assert first.fill is not None
    assert second.fill is not None
    assert (first.fill.trade_id, first.fill.qty, first.fill.price) == (half["fill_id"], D("0.01"), D("50000"))
    assert (first.fill.fee, first.fill.is_maker, first.fill.symbol) == (D(half["fee"]), True, "BTC")
    assert (first.order.status, first.order.filled_qty) == (OrderStatus.PARTIALLY_FILLED, D("0.01"))
    assert second.fill.trade_id == rest["fill_id"]
    assert (second.order.status, second.order.filled_qty, second.order.avg_price) == (
        OrderStatus.FILLED, D("0.02"), D("50000"),
    )  # fmt: skip


@pytest.mark.e2e
async def test_a_fill_while_the_stream_is_cut_is_delivered_exactly_once(
    venue: AnyVenue, sim_server: Running, control: httpx.AsyncClient
) -> None:
    states: list[StreamState] = []
    events_source = venue.order_events("BTC", config=FAST, on_state=lambda state, _reason: states.append(state))
    async with watching(events_source) as events:
        await eventually(lambda: stream_live(sim_server, venue.name))
        order = await resting_buy(venue)
        await events.next_for(order.order_id)
        half = await sim_fill(control, venue, order, "0.5")  # the stream sees this one...
        assert (await events.next_for(order.order_id)).fill is not None
        # ...then the line is cut and kept cut while the rest fills: only REST can tell.
        await control.post("/_sim/streams", json={"venue": venue.name, "refuse": True})
        assert (await control.post("/_sim/streams/drop", json={"venue": venue.name})).json()["dropped"] == 1
        rest = await sim_fill(control, venue, order)
        recovered = await events.next_for(order.order_id)
        assert recovered.source is EventSource.POLL
        assert recovered.fill is not None
        assert recovered.fill.trade_id == rest["fill_id"]
        assert (recovered.order.status, recovered.order.filled_qty) == (OrderStatus.FILLED, D("0.02"))
        assert StreamState.DOWN in states
        # Back up: the reconciliation re-reads both fills and must deliver neither a second time.
        await control.post("/_sim/streams", json={"venue": venue.name, "refuse": False})
        await eventually(lambda: states[-1] is StreamState.UP and stream_live(sim_server, venue.name))
        marker = await resting_buy(venue)
        assert (await events.next_for(marker.order_id)).order.status is OrderStatus.NEW
        await sim_fill(control, venue, marker)
        assert (await events.next_for(marker.order_id)).source is EventSource.STREAM
    assert events.fills_of(order.order_id) == [half["fill_id"], rest["fill_id"]]


def twice(connect: Connect) -> Connect:
    """A connector whose venue sends every message twice."""

    async def doubled(ready: Ready) -> AsyncGenerator[OrderEvent, None]:
        async with contextlib.aclosing(connect(ready)) as events:
            async for event in events:
                yield event
                yield event

    return doubled


@pytest.mark.e2e
async def test_a_duplicate_event_is_applied_once(
    venue: AnyVenue, sim_server: Running, control: httpx.AsyncClient
) -> None:
    async with watching(supervise(venue, twice(venue.stream_connector()), "BTC", config=FAST)) as events:
        await eventually(lambda: stream_live(sim_server, venue.name))
        order = await resting_buy(venue)
        await events.next_for(order.order_id)  # NEW first: place_order returns at the ack, before the stream's event
        await sim_fill(control, venue, order, "0.5")
        await sim_fill(control, venue, order)
        await eventually(lambda: any(e.order.status is OrderStatus.FILLED for e in events.seen))
        marker = await resting_buy(venue)
        await events.next_for(marker.order_id)
    about_order = [e for e in events.seen if e.order.order_id == order.order_id]
    assert [(e.order.status, e.fill is not None) for e in about_order] == [
        (OrderStatus.NEW, False), (OrderStatus.PARTIALLY_FILLED, True), (OrderStatus.FILLED, True),
    ]  # fmt: skip
    assert len(set(events.fills_of(order.order_id))) == 2


# ---- listen keys (Binance family) ---------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["binance", "aster-v1"])
async def test_listen_key_expiry_ends_the_session(sim_server: Running, control: httpx.AsyncClient, kind: str) -> None:
    venue = make_venue(sim_server, kind)
    try:
        connect = venue.stream_connector()
        ready: list[bool] = []
        session = connect(lambda: ready.append(True))
        async with contextlib.aclosing(session):
            pending = asyncio.ensure_future(session.__anext__())
            await eventually(lambda: bool(ready) and stream_live(sim_server, venue.name))
            key_header = {"X-MBX-APIKEY": all_credentials()[venue.name]["api_key"]}
            r = await control.delete(f"/{venue.name}/fapi/v1/listenKey", headers=key_header)
            assert r.status_code == 200
            with pytest.raises(Unavailable, match="listen key expired"):
                await asyncio.wait_for(pending, STEP)
    finally:
        await venue.close()


class FakeKeys:
    """Listen-key endpoints that hand out the simulator's key and count (or refuse) keep-alives."""

    def __init__(self, control: httpx.AsyncClient, *, refuse: bool) -> None:
        self._control = control
        self.refuse = refuse
        self.keepalives = 0

    async def create(self) -> str:
        reply = await self._control.post(
            "/binance/fapi/v1/listenKey", headers={"X-MBX-APIKEY": all_credentials()["binance"]["api_key"]}
        )
        return str(reply.json()["listenKey"])

    async def keepalive(self, key: str) -> None:
        self.keepalives += 1
        if self.refuse:
            raise AuthError("binance", "This listenKey does not exist.", code="-1125")


@pytest.mark.e2e
async def test_a_refused_keep_alive_ends_the_session_with_its_error(
    sim_server: Running, control: httpx.AsyncClient
) -> None:
    keys = FakeKeys(control, refuse=True)
    base = sim_server.url.replace("http://", "ws://") + "/binance"

    async def markets() -> dict[str, Market]:
        return {"BTC": BTCUSDT}

    stream = UserDataStream(
        "binance", keys, markets, ws_base=base, url_for=lambda k: f"{base}/ws/{k}", keepalive_s=0.01
    )
    with pytest.raises(AuthError, match="listenKey does not exist"):
        async for _ in stream.connect(lambda: None):
            pass
    assert keys.keepalives == 1


@pytest.mark.e2e
async def test_the_listen_key_is_kept_alive_on_a_timer(sim_server: Running, control: httpx.AsyncClient) -> None:
    venue = make_venue(sim_server, "binance")
    assert isinstance(venue, BinanceVenue)
    keys = ClientListenKeys(venue._client)  # the adapter's raw client and error edge
    base = sim_server.url.replace("http://", "ws://") + "/binance"

    async def markets() -> dict[str, Market]:
        return await venue.load_markets()

    stream = UserDataStream(
        "binance", keys, markets, ws_base=base, url_for=lambda k: f"{base}/ws/{k}", keepalive_s=0.01
    )

    async def puts() -> int:
        rows = (await control.get("/_sim/requests", params={"venue": "binance"})).json()
        return sum(1 for r in rows if r["method"] == "PUT" and r["path"].endswith("/listenKey") and r["status"] == 200)

    counted: list[int] = [0]
    try:
        async with contextlib.aclosing(stream.connect(lambda: None)) as session:
            pending = asyncio.ensure_future(session.__anext__())

            async def two_puts() -> bool:
                counted[0] = await puts()
                return counted[0] >= 2

            await eventually_async(two_puts, STEP, 0.01, what="a keep-alive PUT")
            assert not pending.done()  # kept alive: the session is still open
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
    finally:
        await venue.close()


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["binance", "okx"])
async def test_no_secret_or_listen_key_reaches_the_logs_even_at_debug(
    sim_server: Running, control: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    caplog.set_level(logging.DEBUG)
    venue = make_venue(sim_server, kind)
    try:
        async with watching(venue.order_events("BTC", config=FAST)) as events:
            await eventually(lambda: stream_live(sim_server, venue.name))
            order = await resting_buy(venue)
            await events.next_for(order.order_id)
    finally:
        await venue.close()
    secrets = [v for k, v in all_credentials()[kind].items() if k != "api_key"]
    if kind == "binance":
        secrets.append(await listen_key_of(control))
    assert all(secret not in caplog.text for secret in secrets)


async def listen_key_of(control: httpx.AsyncClient) -> str:
    headers = {"X-MBX-APIKEY": all_credentials()["binance"]["api_key"]}
    return str((await control.post("/binance/fapi/v1/listenKey", headers=headers)).json()["listenKey"])
