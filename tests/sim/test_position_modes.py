"""Position modes in the simulator: one-way vs Binance/Aster hedge (dualSidePosition) and OKX long_short_mode."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from hedgectl.sim import credentials

from .helpers import binance_query
from .test_okx_dialect import OkxClient

HEADERS = {"X-MBX-APIKEY": credentials.BINANCE_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}


async def binance(control: httpx.AsyncClient, method: str, path: str, **params: str) -> httpx.Response:
    query = binance_query(params, credentials.BINANCE_API_SECRET)
    if method == "GET":
        return await control.get(f"/binance{path}?{query}", headers=HEADERS)
    return await control.post(f"/binance{path}", content=query, headers=HEADERS)


async def market(control: httpx.AsyncClient, side: str, cid: str, **params: str) -> httpx.Response:
    fields = {"symbol": "BTCUSDT", "side": side, "type": "MARKET", "quantity": "0.002", "newClientOrderId": cid}
    fields["newOrderRespType"] = "RESULT"
    return await binance(control, "POST", "/fapi/v1/order", **{**fields, **params})


async def set_mode(control: httpx.AsyncClient, venue: str, mode: str) -> dict[str, Any]:
    r = await control.post("/_sim/account", json={"venue": venue, "position_mode": mode})
    result: dict[str, Any] = r.json()
    return result


async def test_binance_hedge_mode_is_read_and_refuses_orders_without_a_position_side(
    control: httpx.AsyncClient,
) -> None:
    assert (await binance(control, "GET", "/fapi/v1/positionSide/dual")).json() == {"dualSidePosition": False}
    assert (await set_mode(control, "binance", "hedge"))["ok"] is True
    assert (await binance(control, "GET", "/fapi/v1/positionSide/dual")).json() == {"dualSidePosition": True}
    refused = await market(control, "BUY", "plain1")
    assert refused.json()["code"] == -4061
    with_reduce = await market(control, "SELL", "reduce1", positionSide="LONG", reduceOnly="true")
    assert with_reduce.json()["code"] == -1106
    log = (await control.get("/_sim/requests", params={"venue": "binance"})).json()
    orders = [r for r in log if r["op"] == "create_order"]
    assert [(r["client_order_id"], r["side"], r["qty"], r["reduce_only"], r["position_side"]) for r in orders] == [
        ("plain1", "buy", "0.002", False, "both"),
        ("reduce1", "sell", "0.002", True, "long"),
    ]


async def test_binance_hedge_mode_holds_both_sides_and_closes_each(control: httpx.AsyncClient) -> None:
    await set_mode(control, "binance", "hedge")
    assert (await market(control, "BUY", "long1", positionSide="LONG")).json()["positionSide"] == "LONG"
    assert (await market(control, "SELL", "short1", positionSide="SHORT")).status_code == 200
    rows = (await binance(control, "GET", "/fapi/v3/positionRisk")).json()
    assert sorted((r["positionSide"], r["positionAmt"]) for r in rows) == [("LONG", "0.002"), ("SHORT", "-0.002")]
    # A close larger than the side is capped to it: it never opens the other way.
    closed = (await market(control, "SELL", "close1", positionSide="LONG", quantity="0.004")).json()
    assert closed["executedQty"] == "0.002"
    assert (await market(control, "BUY", "close2", positionSide="SHORT")).status_code == 200
    state = (await control.get("/_sim/state")).json()["venues"]["binance"]
    assert state["positions"] == []
    assert state["position_mode"] == "hedge"
    trades = (await binance(control, "GET", "/fapi/v1/userTrades", symbol="BTCUSDT")).json()
    assert sorted((t["side"], t["positionSide"]) for t in trades) == [
        ("BUY", "LONG"), ("BUY", "SHORT"), ("SELL", "LONG"), ("SELL", "SHORT"),
    ]


async def test_binance_one_way_refuses_a_position_side(control: httpx.AsyncClient) -> None:
    assert (await market(control, "BUY", "side1", positionSide="LONG")).json()["code"] == -4061


async def test_mode_switch_is_refused_with_a_position_and_on_backpack(control: httpx.AsyncClient) -> None:
    assert (await market(control, "BUY", "open1")).status_code == 200
    assert (await set_mode(control, "binance", "hedge"))["ok"] is False
    assert (await set_mode(control, "backpack", "hedge"))["ok"] is False
    assert (await set_mode(control, "okx", "sideways"))["ok"] is False


async def test_okx_long_short_mode_needs_pos_side_and_reports_positive_pos_per_side(
    control: httpx.AsyncClient,
) -> None:
    okx = OkxClient(control)
    config = (await okx.get("/account/config")).json()["data"][0]
    assert config["posMode"] == "net_mode"
    await set_mode(control, "okx", "hedge")
    assert (await okx.get("/account/config")).json()["data"][0]["posMode"] == "long_short_mode"
    order = {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "ordType": "market", "sz": "1"}
    refused = (await okx.post("/trade/order", {**order, "side": "buy", "clOrdId": "n1"})).json()
    assert refused["data"][0]["sCode"] == "51000"
    opened = await okx.post("/trade/order", {**order, "side": "sell", "posSide": "short", "clOrdId": "s1"})
    assert opened.json()["data"][0]["sCode"] == "0"
    [row] = (await okx.get("/account/positions")).json()["data"]
    assert (row["posSide"], Decimal(row["pos"])) == ("short", Decimal(1))
    closed = await okx.post("/trade/order", {**order, "side": "buy", "posSide": "short", "clOrdId": "c1"})
    assert closed.json()["data"][0]["sCode"] == "0"
    assert (await okx.get("/account/positions")).json()["data"] == []
    fills = (await okx.get("/trade/fills", "instType=SWAP")).json()["data"]
    assert sorted((f["side"], f["posSide"]) for f in fills) == [("buy", "short"), ("sell", "short")]
