"""The /_sim/ control API: every call, and that it drives the venues the way it says."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hedgectl.sim import credentials
from hedgectl.sim.server import Running

from .helpers import binance_query

HEADERS = {"X-MBX-APIKEY": credentials.BINANCE_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}


async def order(control: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    fields = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.002", "timeInForce": "GTC"}
    body = binance_query({**fields, **params}, credentials.BINANCE_API_SECRET)
    r = await control.post("/binance/fapi/v1/order", content=body, headers=HEADERS)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


async def test_health_and_unknown_control_paths(control: httpx.AsyncClient) -> None:
    assert (await control.get("/_sim/health")).json() == {"ok": True}
    r = await control.get("/_sim/nothing")
    assert r.status_code == 404
    assert r.json()["ok"] is False


async def test_state_shows_every_venue_with_signed_positions(control: httpx.AsyncClient) -> None:
    await order(control, type="MARKET", side="SELL", quantity="0.003", timeInForce="")
    await order(control, price="90000", newClientOrderId="rest-1")
    state = (await control.get("/_sim/state")).json()["venues"]
    assert set(state) == {"binance", "okx", "backpack", "aster"}
    assert state["backpack"]["balances"] == {"USDC": "10000"}
    assert state["okx"]["balances"] == {"USDT": "10000"}
    [position] = state["binance"]["positions"]
    assert (position["symbol"], position["base"], position["qty"]) == ("BTCUSDT", "BTC", "-0.003")
    assert Decimal(position["entry_price"]) > 0
    [open_order] = state["binance"]["open_orders"]
    assert (open_order["client_order_id"], open_order["price"], open_order["side"]) == ("rest-1", "90000", "buy")
    assert Decimal(state["binance"]["balances"]["USDT"]) < 10000  # the taker fee


async def test_reset_forgets_everything(control: httpx.AsyncClient) -> None:
    await order(control, type="MARKET", quantity="0.002", timeInForce="")
    await control.post("/_sim/faults", json={"venue": "binance", "op": "any", "kind": "reject"})
    assert (await control.post("/_sim/reset")).json() == {"ok": True}
    state = (await control.get("/_sim/state")).json()["venues"]["binance"]
    assert (state["positions"], state["balances"]) == ([], {"USDT": "10000"})
    assert (await control.get("/_sim/faults")).json() == {"faults": []}
    assert (await control.get("/_sim/requests")).json() == []


async def test_price_moves_one_venue_or_all(control: httpx.AsyncClient) -> None:
    r = await control.post("/_sim/price", json={"symbol": "SOL", "price": "150", "venue": "okx"})
    assert Decimal(r.json()["mids"]["okx"]) == 150
    assert Decimal(r.json()["mids"]["binance"]) != 150
    r = await control.post("/_sim/price", json={"symbol": "SOL", "price": "151"})
    assert all(Decimal(v) == 151 for v in r.json()["mids"].values())
    book = (await control.get("/binance/fapi/v1/ticker/bookTicker", params={"symbol": "SOLUSDT"})).json()
    assert Decimal(book["bidPrice"]) < 151 < Decimal(book["askPrice"])
    for bad in ({"symbol": "DOGE", "price": "1"}, {"symbol": "BTC", "price": "-1"}, {"symbol": "BTC", "price": "x"}):
        assert (await control.post("/_sim/price", json=bad)).status_code == 400


async def test_latency_delays_replies_of_that_venue_only(control: httpx.AsyncClient) -> None:
    await control.post("/_sim/latency", json={"venue": "binance", "ms": 150})
    started = time.monotonic()
    await control.get("/binance/fapi/v1/time")
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    await control.get("/_sim/health")
    assert time.monotonic() - started < 0.15
    await control.post("/_sim/latency", json={"venue": "binance", "ms": 0})
    assert (await control.post("/_sim/latency", json={"venue": "binance", "ms": -1})).status_code == 400


async def test_latency_with_an_op_delays_that_operation_only_and_still_runs_it(control: httpx.AsyncClient) -> None:
    r = await control.post("/_sim/latency", json={"venue": "binance", "op": "create_order", "ms": 60_000})
    assert r.json() == {"ok": True, "latency_ms": {}, "op_latency_ms": {"binance:create_order": 60_000}}
    await control.get("/binance/fapi/v1/time", timeout=20)  # another operation of that venue: not held
    fields = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.002", "timeInForce": "GTC"}
    body = binance_query({**fields, "price": "90000", "newClientOrderId": "held-1"}, credentials.BINANCE_API_SECRET)
    with pytest.raises(httpx.ReadTimeout):  # the order's reply is held...
        await control.post("/binance/fapi/v1/order", content=body, headers=HEADERS, timeout=0.5)
    (placed,) = (await control.get("/_sim/state")).json()["venues"]["binance"]["open_orders"]
    assert placed["client_order_id"] == "held-1"  # ...but the order was placed, as a venue would
    r = await control.post("/_sim/latency", json={"venue": "binance", "op": "create_order", "ms": 0})
    assert r.json()["op_latency_ms"] == {}
    assert (await order(control, price="89000"))["status"] == "NEW"
    for bad in ({"op": "any"}, {"op": "nothing"}, {"op": ["create_order"]}):
        r = await control.post("/_sim/latency", json={"venue": "binance", "ms": 10, **bad})
        assert r.status_code == 400, bad
    await control.post("/_sim/latency", json={"venue": "okx", "op": "fetch_order", "ms": 5})
    await control.post("/_sim/reset", json={})
    assert (await control.post("/_sim/latency", json={"venue": "okx", "ms": 0})).json()["op_latency_ms"] == {}


async def test_fill_by_id_client_id_or_all_reports_fills_with_filled_ns(control: httpx.AsyncClient) -> None:
    first = await order(control, price="90000", newClientOrderId="a-1")
    await order(control, price="90100", newClientOrderId="a-2", quantity="0.004")
    before_ns = time.time_ns()
    r = (await control.post("/_sim/fill", json={"venue": "binance", "order_id": first["orderId"]})).json()
    [fill] = r["fills"]
    assert (fill["client_order_id"], fill["qty"], fill["price"], fill["maker"]) == ("a-1", "0.002", "90000", True)
    assert before_ns <= fill["filled_ns"] <= time.time_ns()
    r = (await control.post("/_sim/fill", json={"venue": "binance", "client_order_id": "a-2", "ratio": "0.5"})).json()
    assert [f["qty"] for f in r["fills"]] == ["0.002"]
    r = (await control.post("/_sim/fill", json={"venue": "binance", "all": True})).json()
    assert [f["client_order_id"] for f in r["fills"]] == ["a-2"]
    state = (await control.get("/_sim/state")).json()["venues"]["binance"]
    assert state["open_orders"] == []
    assert state["positions"][0]["qty"] == "0.006"
    r = await control.post("/_sim/fill", json={"venue": "binance", "client_order_id": "a-1"})
    assert r.status_code == 400  # already filled
    assert (await control.post("/_sim/fill", json={"venue": "binance"})).status_code == 400


async def test_funding_settles_when_its_time_has_come(control: httpx.AsyncClient, sim_server: Running) -> None:
    await order(control, type="MARKET", quantity="0.010", timeInForce="")
    engine = sim_server.sim.engine
    wallet = engine.account("binance").balance
    mark = engine.mark_price("binance", "BTCUSDT")
    future = int(time.time() * 1000) + 3_600_000
    r = await control.post(
        "/_sim/funding", json={"venue": "binance", "symbol": "BTC", "rate": "0.001", "next_funding_ms": future}
    )
    assert (r.json()["rate"], r.json()["next_funding_ms"], r.json()["settled"]) == ("0.001", future, "0")
    premium = (await control.get("/binance/fapi/v1/premiumIndex", params={"symbol": "BTCUSDT"})).json()
    assert (premium["lastFundingRate"], premium["nextFundingTime"]) == ("0.00100000", future)
    past = int(time.time() * 1000) - 1
    r = await control.post(
        "/_sim/funding", json={"venue": "binance", "symbol": "BTCUSDT", "rate": "0.001", "next_funding_ms": past}
    )
    assert Decimal(r.json()["settled"]) == -Decimal("0.010") * mark * Decimal("0.001")
    assert engine.account("binance").balance == wallet + Decimal(r.json()["settled"])
    assert r.json()["next_funding_ms"] % (8 * 3_600_000) == 0
    query = binance_query({"incomeType": "FUNDING_FEE"}, credentials.BINANCE_API_SECRET)
    income = (await control.get(f"/binance/fapi/v1/income?{query}", headers=HEADERS)).json()
    assert [Decimal(i["income"]) for i in income] == [Decimal(r.json()["settled"])]


async def test_requests_log_records_op_client_id_and_time(control: httpx.AsyncClient) -> None:
    started = time.time_ns()
    await order(control, price="90000", newClientOrderId="log-1")
    await control.get("/binance/fapi/v1/depth", params={"symbol": "BTCUSDT"})
    log = (await control.get("/_sim/requests")).json()
    assert [(e["venue"], e["method"], e["path"], e["op"], e["client_order_id"]) for e in log] == [
        ("binance", "POST", "/binance/fapi/v1/order", "create_order", "log-1"),
        ("binance", "GET", "/binance/fapi/v1/depth", "fetch_order_book", None),
    ]
    assert started <= log[0]["received_ns"] <= log[1]["received_ns"] <= time.time_ns()
    assert (await control.get("/_sim/requests", params={"venue": "okx"})).json() == []
    since = (await control.get("/_sim/requests", params={"since_ns": log[1]["received_ns"]})).json()
    assert [e["op"] for e in since] == ["fetch_order_book"]
    await control.post("/_sim/requests/clear")
    assert (await control.get("/_sim/requests")).json() == []


async def test_clock_steps_the_frozen_price_path(control: httpx.AsyncClient) -> None:
    clock = (await control.get("/_sim/clock")).json()
    assert clock["frozen"] is True
    before = (await control.get("/binance/fapi/v1/ticker/price", params={"symbol": "BTCUSDT"})).json()["price"]
    again = (await control.get("/binance/fapi/v1/ticker/price", params={"symbol": "BTCUSDT"})).json()["price"]
    assert before == again
    stepped = (await control.post("/_sim/clock", json={"step": 40})).json()
    assert stepped["tick"] == clock["tick"] + 40
    after = (await control.get("/binance/fapi/v1/ticker/price", params={"symbol": "BTCUSDT"})).json()["price"]
    assert after != before
    assert (await control.post("/_sim/clock", json={"step": -1})).status_code == 400
    live = (await control.post("/_sim/clock", json={"frozen": False})).json()
    assert live["frozen"] is False
