"""The simulator's private order streams: Binance/Aster user data (listenKey) and OKX login + orders.

Raw WebSocket clients check the wire (paths, auth, event shapes); ccxt.pro's watch_orders, unchanged but
for its URLs, is the conformance check that a real client library understands what the simulator sends.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import ccxt.pro as ccxt_pro
import httpx
import pytest

from hedgectl.sim import credentials
from hedgectl.sim.dialects import binance_stream
from hedgectl.sim.dialects.okx_auth import okx_signature
from hedgectl.sim.server import Running
from tests.sim.helpers import LOOPBACK_CCXT
from tests.waiting import loop_turns

from .helpers import binance_query, eventually
from .test_aster_wire import v3_sign

BINANCE_KEY = {"X-MBX-APIKEY": credentials.BINANCE_API_KEY}
ASTER_KEY = {"X-MBX-APIKEY": credentials.ASTER_API_KEY}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
FRAME_TIMEOUT_S = 5.0


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def ws_url(sim: Running, path: str) -> str:
    return f"ws://127.0.0.1:{sim.port}{path}"


async def next_json(ws: aiohttp.ClientWebSocketResponse) -> Any:
    msg = await asyncio.wait_for(ws.receive(), FRAME_TIMEOUT_S)
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def next_event(ws: aiohttp.ClientWebSocketResponse, execution: str) -> dict[str, Any]:
    """The next ORDER_TRADE_UPDATE with execution type `execution` (earlier ones are skipped)."""
    while True:
        event = await next_json(ws)
        if event.get("e") == "ORDER_TRADE_UPDATE" and event["o"]["x"] == execution:
            return event


async def listen_key(
    control: httpx.AsyncClient, prefix: str = "/binance", headers: dict[str, str] = BINANCE_KEY
) -> str:
    r = await control.post(f"{prefix}/fapi/v1/listenKey", headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["listenKey"])


async def place_limit(control: httpx.AsyncClient, prefix: str, secret: str, key_headers: dict[str, str]) -> Any:
    """A resting 0.01 BTC limit buy at 50,000 with client id stream-1."""
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010"}
    body = binance_query({**params, "price": "50000", "newClientOrderId": "stream-1"}, secret)
    r = await control.post(f"{prefix}/fapi/v1/order", content=body, headers={**key_headers, **FORM})
    assert r.status_code == 200, r.text
    return r.json()


# ---- Binance: listen keys -------------------------------------------------------------------------------


async def test_listen_key_needs_the_api_key_header_only_and_is_stable_while_valid(control: httpx.AsyncClient) -> None:
    missing = await control.post("/binance/fapi/v1/listenKey")
    assert (missing.status_code, missing.json()["code"]) == (401, -2014)
    wrong = await control.post("/binance/fapi/v1/listenKey", headers={"X-MBX-APIKEY": "nope"})
    assert (wrong.status_code, wrong.json()["code"]) == (401, -2015)
    first = await listen_key(control)
    assert len(first) == 64
    assert await listen_key(control) == first
    put = await control.put("/binance/fapi/v1/listenKey", headers=BINANCE_KEY)
    assert put.json() == {"listenKey": first}
    assert (await control.delete("/binance/fapi/v1/listenKey", headers=BINANCE_KEY)).status_code == 200
    gone = await control.put("/binance/fapi/v1/listenKey", headers=BINANCE_KEY)
    assert (gone.status_code, gone.json()["code"]) == (400, -1125)
    assert await listen_key(control) != first


async def test_unknown_listen_key_is_refused_at_the_handshake(sim_server: Running, http: aiohttp.ClientSession) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(ws_url(sim_server, "/binance/ws/" + "0" * 64))
    assert refused.value.status == 400


@pytest.mark.parametrize("form", ["legacy", "split"])
async def test_binance_order_and_fill_arrive_as_order_trade_update(
    sim_server: Running, control: httpx.AsyncClient, http: aiohttp.ClientSession, form: str
) -> None:
    key = await listen_key(control)
    path = f"/binance/ws/{key}" if form == "legacy" else f"/binance/private/ws?listenKey={key}"
    async with http.ws_connect(ws_url(sim_server, path)) as ws:
        order = await place_limit(control, "/binance", credentials.BINANCE_API_SECRET, BINANCE_KEY)
        new = await next_event(ws, "NEW")
        assert set(new) == {"e", "E", "T", "o"}  # raw event: no {"stream", "data"} envelope
        o = new["o"]
        assert (o["s"], o["c"], o["S"], o["o"], o["f"], o["X"], o["i"]) == (
            "BTCUSDT", "stream-1", "BUY", "LIMIT", "GTC", "NEW", order["orderId"],
        )  # fmt: skip
        assert (o["q"], o["p"], o["z"], o["l"], o["ps"]) == ("0.010", "50000.0", "0.000", "0.000", "BOTH")
        await control.post("/_sim/fill", json={"venue": "binance", "order_id": order["orderId"], "ratio": "0.5"})
        part = (await next_event(ws, "TRADE"))["o"]
        assert (part["X"], part["l"], part["z"], part["L"], part["ap"], part["m"]) == (
            "PARTIALLY_FILLED", "0.005", "0.005", "50000.0", "50000.0", True,
        )  # fmt: skip
        fills = sim_server.sim.engine.fills("binance", order_id=order["orderId"])
        assert (part["t"], part["n"], part["N"]) == (fills[0].fill_id, f"{fills[0].fee:.8f}", "USDT")
        await control.post("/_sim/fill", json={"venue": "binance", "order_id": order["orderId"]})
        done = (await next_event(ws, "TRADE"))["o"]
        assert (done["X"], done["l"], done["z"]) == ("FILLED", "0.005", "0.010")
        assert done["t"] != part["t"]


async def test_a_cancel_is_reported(
    sim_server: Running, control: httpx.AsyncClient, http: aiohttp.ClientSession
) -> None:
    key = await listen_key(control)
    async with http.ws_connect(ws_url(sim_server, f"/binance/ws/{key}")) as ws:
        order = await place_limit(control, "/binance", credentials.BINANCE_API_SECRET, BINANCE_KEY)
        sim_server.sim.engine.cancel_order("binance", order_id=order["orderId"])
        cancelled = (await next_event(ws, "CANCELED"))["o"]
        assert (cancelled["i"], cancelled["X"]) == (order["orderId"], "CANCELED")


async def test_deleting_the_key_sends_listen_key_expired_and_closes(
    sim_server: Running, control: httpx.AsyncClient, http: aiohttp.ClientSession
) -> None:
    key = await listen_key(control)
    async with http.ws_connect(ws_url(sim_server, f"/binance/ws/{key}")) as ws:
        await control.delete("/binance/fapi/v1/listenKey", headers=BINANCE_KEY)
        event = await next_json(ws)
        assert (event["e"], event["listenKey"]) == ("listenKeyExpired", key)
        closing = await asyncio.wait_for(ws.receive(), FRAME_TIMEOUT_S)
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_a_key_that_is_not_kept_alive_expires(
    sim_server: Running, control: httpx.AsyncClient, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(binance_stream, "LISTEN_KEY_TTL_S", 0.05)
    key = await listen_key(control)
    async with http.ws_connect(ws_url(sim_server, f"/binance/ws/{key}")) as ws:
        assert (await next_json(ws))["e"] == "listenKeyExpired"
    gone = await control.put("/binance/fapi/v1/listenKey", headers=BINANCE_KEY)
    assert gone.json()["code"] == -1125


async def test_events_of_other_venues_do_not_leak_into_the_stream(
    sim_server: Running, control: httpx.AsyncClient, http: aiohttp.ClientSession
) -> None:
    key = await listen_key(control)
    async with http.ws_connect(ws_url(sim_server, f"/binance/ws/{key}")) as ws:
        await place_limit(control, "/aster", credentials.ASTER_API_SECRET, ASTER_KEY)
        order = await place_limit(control, "/binance", credentials.BINANCE_API_SECRET, BINANCE_KEY)
        assert (await next_event(ws, "NEW"))["o"]["i"] == order["orderId"]


# ---- Aster: V1 and V3 listen keys, /aster/ws/<key> -------------------------------------------------------


async def test_aster_v1_and_v3_listen_keys_feed_the_same_stream(
    sim_server: Running, control: httpx.AsyncClient, http: aiohttp.ClientSession
) -> None:
    v1 = await listen_key(control, "/aster", ASTER_KEY)
    unsigned = await control.post("/aster/fapi/v3/listenKey")
    assert unsigned.status_code == 400  # V3 wants nonce/user/signer/signature
    v3 = await control.post("/aster/fapi/v3/listenKey", content=v3_sign({}), headers=FORM)
    assert v3.json()["listenKey"] == v1
    refreshed = await control.put("/aster/fapi/v3/listenKey", content=v3_sign({}), headers=FORM)
    assert refreshed.status_code == 200
    async with http.ws_connect(ws_url(sim_server, f"/aster/ws/{v1}")) as ws:
        order = await place_limit(control, "/aster", credentials.ASTER_API_SECRET, ASTER_KEY)
        new = await next_event(ws, "NEW")
        assert (new["o"]["i"], new["o"]["s"]) == (int(order["orderId"]), "BTCUSDT")  # the POST may say "9000000001"
        await control.post("/_sim/fill", json={"venue": "aster", "order_id": int(order["orderId"])})
        fill = (await next_event(ws, "TRADE"))["o"]
        assert (fill["X"], fill["l"], fill["z"], fill["L"]) == ("FILLED", "0.010", "0.010", "50000.0")


async def test_aster_has_no_split_private_path(sim_server: Running, control: httpx.AsyncClient) -> None:
    key = await listen_key(control, "/aster", ASTER_KEY)
    r = await control.get(f"/aster/private/ws?listenKey={key}")
    assert r.status_code == 404


# ---- OKX: login, orders channel, ping -------------------------------------------------------------------


def okx_login(secret: str = credentials.OKX_API_SECRET, *, stamp: str | None = None) -> dict[str, Any]:
    timestamp = stamp or str(int(time.time()))
    digest = hmac.new(secret.encode(), f"{timestamp}GET/users/self/verify".encode(), hashlib.sha256).digest()
    arg = {
        "apiKey": credentials.OKX_API_KEY,
        "passphrase": credentials.OKX_PASSPHRASE,
        "timestamp": timestamp,
        "sign": base64.b64encode(digest).decode(),
    }
    return {"op": "login", "args": [arg]}


async def okx_order(control: httpx.AsyncClient, inst_id: str = "BTC-USDT-SWAP") -> str:
    """A resting 2-contract limit buy, placed over the signed REST API; returns its ordId."""
    order = {"instId": inst_id, "tdMode": "cross", "side": "buy", "ordType": "limit", "px": "1000", "sz": "2"}
    body = json.dumps(order)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    headers = {
        "OK-ACCESS-KEY": credentials.OKX_API_KEY,
        "OK-ACCESS-PASSPHRASE": credentials.OKX_PASSPHRASE,
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-SIGN": okx_signature(credentials.OKX_API_SECRET, stamp, "POST", "/api/v5/trade/order", body),
        "Content-Type": "application/json",
    }
    r = await control.post("/okx/api/v5/trade/order", content=body, headers=headers)
    assert r.json()["code"] == "0", r.text
    return str(r.json()["data"][0]["ordId"])


async def test_okx_login_is_verified_and_subscribing_needs_it(sim_server: Running, http: aiohttp.ClientSession) -> None:
    async with http.ws_connect(ws_url(sim_server, "/okx/ws/v5/private")) as ws:
        await ws.send_str("ping")
        pong = await asyncio.wait_for(ws.receive(), FRAME_TIMEOUT_S)
        assert pong.data == "pong"
        await ws.send_json({"op": "subscribe", "args": [{"channel": "orders", "instType": "SWAP"}]})
        assert (await next_json(ws))["code"] == "60011"
        await ws.send_json(okx_login("0" * 32))
        refused = await next_json(ws)
        assert (refused["event"], refused["code"]) == ("error", "60007")
        await ws.send_json(okx_login(stamp=str(int(time.time()) - 120)))
        assert (await next_json(ws))["code"] == "60006"
        await ws.send_json(okx_login())
        ok = await next_json(ws)
        assert (ok["event"], ok["code"]) == ("login", "0")
        await ws.send_json({"op": "subscribe", "args": [{"channel": "nope", "instType": "SWAP"}]})
        assert (await next_json(ws))["code"] == "60018"


async def test_okx_orders_channel_pushes_contracts_and_fill_details(
    sim_server: Running, control: httpx.AsyncClient, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(ws_url(sim_server, "/okx/ws/v5/private")) as ws:
        await ws.send_json(okx_login())
        assert (await next_json(ws))["event"] == "login"
        sub = {"channel": "orders", "instType": "SWAP", "instId": "BTC-USDT-SWAP"}
        await ws.send_json({"op": "subscribe", "args": [sub]})
        ack = await next_json(ws)
        assert (ack["event"], ack["arg"]) == ("subscribe", sub)
        await okx_order(control, "ETH-USDT-SWAP")  # filtered out by instId
        ord_id = await okx_order(control)
        live = await next_json(ws)
        assert live["arg"]["channel"] == "orders"
        assert live["arg"]["instId"] == "BTC-USDT-SWAP"
        assert live["arg"]["uid"]
        order = live["data"][0]
        assert (order["ordId"], order["state"], order["sz"], order["accFillSz"]) == (ord_id, "live", "2", "0")
        assert (order["tradeId"], order["fillSz"], order["execType"]) == ("", "0", "")
        await control.post("/_sim/fill", json={"venue": "okx", "order_id": ord_id, "ratio": "0.5"})
        part = (await next_json(ws))["data"][0]
        fills = sim_server.sim.engine.fills("okx", order_id=int(ord_id))
        assert (part["state"], part["fillSz"], part["accFillSz"]) == ("partially_filled", "1", "1")
        assert part["fillPx"] == "1000"
        assert (part["tradeId"], part["execType"], part["fillFeeCcy"]) == (str(fills[0].fill_id), "M", "USDT")
        assert part["fillFee"] == f"{-fills[0].fee.normalize():f}"
        assert part["fillTime"] == str(fills[0].time_ms)
        await control.post("/_sim/fill", json={"venue": "okx", "order_id": ord_id})
        done = (await next_json(ws))["data"][0]
        assert (done["state"], done["fillSz"], done["accFillSz"], done["avgPx"]) == ("filled", "1", "2", "1000")


# ---- ccxt.pro conformance -----------------------------------------------------------------------------


async def watch_until(watch: Any, done: Any) -> list[dict[str, Any]]:
    """Call `watch()` until one of the orders it returns satisfies `done`."""
    while True:
        orders = await asyncio.wait_for(watch(), FRAME_TIMEOUT_S)
        if any(done(o) for o in orders):
            return list(orders)


async def test_ccxt_pro_binanceusdm_watch_orders_sees_the_fill(sim_server: Running, control: httpx.AsyncClient) -> None:
    ex = ccxt_pro.binanceusdm(
        {
            **LOOPBACK_CCXT,
            "apiKey": credentials.BINANCE_API_KEY,
            "secret": credentials.BINANCE_API_SECRET,
            "options": {"fetchCurrencies": False, "fetchMargins": False},
        }
    )
    base = f"{sim_server.url}/binance/fapi"
    for version, suffix in ((1, ""), (2, "V2"), (3, "V3")):
        ex.urls["api"][f"fapiPublic{suffix}"] = ex.urls["api"][f"fapiPrivate{suffix}"] = f"{base}/v{version}"
    ex.urls["api"]["ws"]["linear"] = ws_url(sim_server, "/binance/ws")  # ccxt turns it into /binance/private/ws
    try:
        await ex.load_markets()
        watching = asyncio.ensure_future(watch_until(lambda: ex.watch_orders("BTC/USDT:USDT"), lambda o: True))
        await _wait_for_socket(sim_server, "binance")
        order = await ex.create_order("BTC/USDT:USDT", "limit", "buy", 0.01, 50000)
        seen = await watching
        assert seen[-1]["id"] == order["id"]
        watching = asyncio.ensure_future(
            watch_until(lambda: ex.watch_orders("BTC/USDT:USDT"), lambda o: o["status"] == "closed")
        )
        await loop_turns()
        await control.post("/_sim/fill", json={"venue": "binance", "order_id": order["id"]})
        closed = next(o for o in await watching if o["status"] == "closed")
        assert (closed["filled"], closed["average"], closed["trades"][0]["fee"]["cost"]) == (0.01, 50000.0, 0.1)
    finally:
        await ex.close()


async def test_ccxt_pro_okx_watch_orders_sees_the_fill(sim_server: Running, control: httpx.AsyncClient) -> None:
    ex = ccxt_pro.okx(
        {
            **LOOPBACK_CCXT,
            "apiKey": credentials.OKX_API_KEY,
            "secret": credentials.OKX_API_SECRET,
            "password": credentials.OKX_PASSPHRASE,
            "options": {"fetchMarkets": {"types": ["swap"]}},
        }
    )
    ex.has["fetchCurrencies"] = False
    ex.urls["api"]["rest"] = sim_server.url + "/okx"
    ex.urls["api"]["ws"] = ws_url(sim_server, "/okx/ws/v5")
    try:
        await ex.load_markets()
        watching = asyncio.ensure_future(watch_until(ex.watch_orders, lambda o: True))
        await _wait_for_socket(sim_server, "okx")
        order = await ex.create_order("BTC/USDT:USDT", "limit", "buy", 1, 1000)
        assert (await watching)[-1]["id"] == order["id"]
        watching = asyncio.ensure_future(watch_until(ex.watch_orders, lambda o: o["status"] == "closed"))
        await loop_turns()
        await control.post("/_sim/fill", json={"venue": "okx", "order_id": order["id"]})
        closed = next(o for o in await watching if o["status"] == "closed")
        assert (closed["amount"], closed["filled"], closed["average"]) == (1.0, 1.0, 1000.0)
    finally:
        await ex.close()


async def _wait_for_socket(sim: Running, venue: str) -> None:
    """Until the venue's private stream has a subscriber (ccxt.pro subscribes in the background)."""
    await eventually(lambda: sim.sim.engine.bus.active)


# ---- the stream-drop control ---------------------------------------------------------------------------------


async def open_private(sim: Running, control: httpx.AsyncClient, http: aiohttp.ClientSession, venue: str) -> Any:
    """An open private stream of `venue` (OKX: logged in and subscribed)."""
    if venue == "okx":
        ws = await http.ws_connect(ws_url(sim, "/okx/ws/v5/private"))
        await ws.send_json(okx_login())
        await next_json(ws)
        await ws.send_json({"op": "subscribe", "args": [{"channel": "orders", "instType": "ANY"}]})
        await next_json(ws)
        return ws
    headers = BINANCE_KEY if venue == "binance" else ASTER_KEY
    key = await listen_key(control, f"/{venue}", headers)
    return await http.ws_connect(ws_url(sim, f"/{venue}/ws/{key}"))


@pytest.mark.parametrize("venue", ["binance", "okx", "aster"])
async def test_the_drop_control_cuts_the_private_streams_and_refuse_keeps_them_out(
    sim_server: Running, control: httpx.AsyncClient, http: aiohttp.ClientSession, venue: str
) -> None:
    ws = await open_private(sim_server, control, http, venue)
    try:
        assert (await control.get("/_sim/streams")).json()[venue]["live"] == 1
        assert (await control.post("/_sim/streams", json={"venue": venue, "refuse": True})).status_code == 200
        dropped = await control.post("/_sim/streams/drop", json={"venue": venue})
        assert dropped.json() == {"ok": True, "dropped": 1}
        gone = await asyncio.wait_for(ws.receive(), FRAME_TIMEOUT_S)
        assert gone.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)  # no close frame: a network drop
        await eventually(lambda: not sim_server.sim.engine.bus.active)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await open_private(sim_server, control, http, venue)
        assert refused.value.status == 503
        await control.post("/_sim/streams", json={"venue": venue, "refuse": False})
        again = await open_private(sim_server, control, http, venue)
        await again.close()
    finally:
        await ws.close()
