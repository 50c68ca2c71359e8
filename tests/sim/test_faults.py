"""Every fault kind, with `after` and `count`, as a client sees it and as the account ends up."""

from __future__ import annotations

import time
from typing import Any

import ccxt.async_support as ccxt
import httpx
import pytest

from hedgectl.sim import credentials
from hedgectl.sim.server import Running
from tests.sim.helpers import LOOPBACK_CCXT
from tests.waiting import loop_turns

from .helpers import binance_query

HEADERS = {"X-MBX-APIKEY": credentials.BINANCE_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}


async def place(client: httpx.AsyncClient, *, timeout: float = 5.0, **params: str) -> httpx.Response:
    fields = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.002", "newOrderRespType": "RESULT"}
    body = binance_query({**fields, **params}, credentials.BINANCE_API_SECRET)
    return await client.post("/binance/fapi/v1/order", content=body, headers=HEADERS, timeout=timeout)


async def arm(control: httpx.AsyncClient, **spec: Any) -> None:
    r = await control.post("/_sim/faults", json={"venue": "binance", "op": "create_order", **spec})
    assert r.json()["ok"], r.text


async def venue_state(control: httpx.AsyncClient) -> dict[str, Any]:
    return (await control.get("/_sim/state")).json()["venues"]["binance"]


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("reject", 400, -2010), ("http_500", 500, -1001), ("rate_limit", 429, -1003)],
)
async def test_rendered_faults_answer_like_binance_and_change_nothing(
    control: httpx.AsyncClient, kind: str, status: int, code: int
) -> None:
    await arm(control, kind=kind)
    r = await place(control, newClientOrderId="f-1")
    assert (r.status_code, r.json()["code"]) == (status, code)
    if kind == "rate_limit":
        assert r.headers["Retry-After"] == "1"
    assert (await venue_state(control))["positions"] == []
    assert (await place(control)).status_code == 200  # count=1: the next request goes through
    log = (await control.get("/_sim/requests")).json()
    assert next((e["op"], e["client_order_id"], e["fault"]) for e in log) == ("create_order", "f-1", kind)


async def test_reject_code_can_be_overridden(control: httpx.AsyncClient) -> None:
    await arm(control, kind="reject", code=-2019, msg="Margin is insufficient.")
    assert (await place(control)).json() == {"code": -2019, "msg": "Margin is insufficient."}


async def test_timeout_places_nothing_and_never_answers(control: httpx.AsyncClient) -> None:
    await arm(control, kind="timeout")
    with pytest.raises(httpx.ReadTimeout):
        await place(control, timeout=0.3, newClientOrderId="t-1")
    assert (await venue_state(control))["positions"] == []
    log = (await control.get("/_sim/requests")).json()
    assert log[0]["client_order_id"] == "t-1"
    assert log[0]["fault"] == "timeout"


async def test_accept_then_timeout_places_the_order_but_the_reply_is_lost(control: httpx.AsyncClient) -> None:
    await arm(control, kind="accept_then_timeout")
    with pytest.raises(httpx.ReadTimeout):
        await place(control, timeout=0.3, newClientOrderId="att-1")
    [position] = (await venue_state(control))["positions"]
    assert position["qty"] == "0.002"
    query = binance_query({"symbol": "BTCUSDT", "origClientOrderId": "att-1"}, credentials.BINANCE_API_SECRET)
    r = await control.get(f"/binance/fapi/v1/order?{query}", headers=HEADERS)
    assert (r.json()["status"], r.json()["executedQty"]) == ("FILLED", "0.002")


async def test_disconnect_drops_the_connection_and_places_nothing(control: httpx.AsyncClient) -> None:
    await arm(control, kind="disconnect")
    with pytest.raises(httpx.RemoteProtocolError):
        await place(control)
    assert (await venue_state(control))["positions"] == []


async def test_partial_fill_on_a_market_order_expires_the_rest(control: httpx.AsyncClient) -> None:
    await arm(control, kind="partial_fill", fill_ratio="0.5")
    r = await place(control, quantity="0.010")
    assert (r.json()["status"], r.json()["executedQty"], r.json()["origQty"]) == ("EXPIRED", "0.005", "0.010")
    [position] = (await venue_state(control))["positions"]
    assert position["qty"] == "0.005"


async def test_partial_fill_on_a_limit_order_leaves_the_rest_open(control: httpx.AsyncClient) -> None:
    await arm(control, kind="partial_fill", fill_ratio="0.25")
    r = await place(control, type="LIMIT", price="90000", timeInForce="GTC", quantity="0.004")
    assert (r.json()["status"], r.json()["executedQty"]) == ("PARTIALLY_FILLED", "0.001")
    [order] = (await venue_state(control))["open_orders"]
    assert (order["filled_qty"], order["qty"]) == ("0.001", "0.004")


async def test_after_skips_and_count_repeats(control: httpx.AsyncClient) -> None:
    await arm(control, kind="reject", after=1, count=2)
    statuses = [(await place(control)).status_code for _ in range(4)]
    assert statuses == [200, 400, 400, 200]


async def test_faults_only_hit_their_op_unless_op_is_any(control: httpx.AsyncClient) -> None:
    await control.post("/_sim/faults", json={"venue": "binance", "op": "fetch_positions", "kind": "http_500"})
    assert (await place(control)).status_code == 200
    query = binance_query({}, credentials.BINANCE_API_SECRET)
    r = await control.get(f"/binance/fapi/v3/positionRisk?{query}", headers=HEADERS)
    assert r.status_code == 500
    await control.post("/_sim/faults", json={"venue": "binance", "op": "any", "kind": "rate_limit"})
    assert (await control.get("/binance/fapi/v1/time")).status_code == 429
    await control.post("/_sim/faults", json={"venue": "okx", "op": "any", "kind": "rate_limit"})
    assert (await control.get("/binance/fapi/v1/time")).status_code == 200


async def test_cancel_and_fetch_order_faults(control: httpx.AsyncClient) -> None:
    r = await place(control, type="LIMIT", price="90000", timeInForce="GTC", newClientOrderId="c-1")
    assert r.status_code == 200
    for op, _code in (("cancel_order", -2011), ("fetch_order", -2013)):
        await control.post("/_sim/faults", json={"venue": "binance", "op": op, "kind": "reject"})
    query = binance_query({"symbol": "BTCUSDT", "origClientOrderId": "c-1"}, credentials.BINANCE_API_SECRET)
    assert (await control.delete(f"/binance/fapi/v1/order?{query}", headers=HEADERS)).json()["code"] == -2011
    query = binance_query({"symbol": "BTCUSDT", "origClientOrderId": "c-1"}, credentials.BINANCE_API_SECRET)
    assert (await control.get(f"/binance/fapi/v1/order?{query}", headers=HEADERS)).json()["code"] == -2013
    assert len((await venue_state(control))["open_orders"]) == 1  # the faulted cancel did nothing


async def test_bad_fault_specs_are_refused(control: httpx.AsyncClient) -> None:
    for spec in (
        {"venue": "kraken", "op": "any", "kind": "reject"},
        {"venue": "binance", "op": "withdraw", "kind": "reject"},
        {"venue": "binance", "op": "any", "kind": "explode"},
        {"venue": "binance", "op": "any", "kind": "reject", "count": 0},
        {"venue": "binance", "op": "any", "kind": "partial_fill", "fill_ratio": "2"},
    ):
        r = await control.post("/_sim/faults", json=spec)
        assert r.status_code == 400
        assert r.json()["ok"] is False
    assert (await control.get("/_sim/faults")).json() == {"faults": []}


async def test_ccxt_sees_rate_limit_and_timeouts_as_its_own_errors(
    sim_server: Running, control: httpx.AsyncClient
) -> None:
    ex = ccxt.binanceusdm(
        {
            **LOOPBACK_CCXT,
            "apiKey": credentials.BINANCE_API_KEY,
            "secret": credentials.BINANCE_API_SECRET,
            "timeout": 400,
            "options": {"fetchCurrencies": False, "fetchMargins": False},
        }
    )
    for key in ("fapiPublic", "fapiPrivate"):
        ex.urls["api"][key] = f"{sim_server.url}/binance/fapi/v1"
    try:
        await ex.load_markets()
        await control.post("/_sim/faults", json={"venue": "binance", "op": "create_order", "kind": "rate_limit"})
        with pytest.raises(ccxt.DDoSProtection):  # what ccxt raises for a Binance 429
            await ex.create_order("BTC/USDT:USDT", "market", "buy", 0.002)
        await control.post("/_sim/faults", json={"venue": "binance", "op": "create_order", "kind": "timeout"})
        started = time.monotonic()
        with pytest.raises(ccxt.RequestTimeout):
            await ex.create_order("BTC/USDT:USDT", "market", "buy", 0.002)
        assert time.monotonic() - started < 5
    finally:
        await ex.close()
    await loop_turns()
