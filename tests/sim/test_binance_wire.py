"""Raw Binance wire checks: signature rules, the venue's error shapes, robustness to bad input."""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
import pytest

from hedgectl.sim import credentials
from hedgectl.sim.dialects.binance_auth import strip_signature

from .helpers import binance_query

KEY = {"X-MBX-APIKEY": credentials.BINANCE_API_KEY}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_hmac_matches_the_documented_vector() -> None:
    secret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
    total = (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
        "&recvWindow=5000&timestamp=1591702613943"
    )
    signed = f"{total}&signature=3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    payload = strip_signature(signed)
    assert hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest() == signed.rsplit("=", 1)[1]
    # Mixed query + body: the two parts are concatenated with no '&' between them.
    query = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    body = "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"
    expected = "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4"
    assert hmac.new(secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest() == expected


async def test_signed_order_in_query_and_body_mix_is_accepted(control: httpx.AsyncClient) -> None:
    query = "symbol=BTCUSDT&side=BUY&type=MARKET"
    body = f"quantity=0.002&newOrderRespType=RESULT&timestamp={int(time.time() * 1000)}"
    sig = hmac.new(credentials.BINANCE_API_SECRET.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
    r = await control.post(
        f"/binance/fapi/v1/order?{query}", content=f"{body}&signature={sig}", headers={**KEY, **FORM}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["executedQty"]) == ("FILLED", "0.002")


@pytest.mark.parametrize(
    ("headers", "mutate", "status", "code"),
    [
        ({}, None, 401, -2014),
        ({"X-MBX-APIKEY": "nope"}, None, 401, -2015),
        (KEY, "bad_signature", 400, -1022),
        (KEY, "stale", 400, -1021),
        (KEY, "ahead", 400, -1021),
        (KEY, "no_signature", 400, -1102),
        (KEY, "huge_recv_window", 400, -1131),
    ],
)
async def test_auth_failures_get_binance_replies(
    control: httpx.AsyncClient, headers: dict[str, str], mutate: str | None, status: int, code: int
) -> None:
    now = int(time.time() * 1000)
    params = {"recvWindow": "70000"} if mutate == "huge_recv_window" else {}
    stamp = {"stale": now - 10_000, "ahead": now + 5_000}.get(mutate or "", now)
    query = binance_query(params, credentials.BINANCE_API_SECRET, timestamp_ms=stamp)
    if mutate == "bad_signature":
        query = query[:-4] + "0000"
    if mutate == "no_signature":
        query = query.rsplit("&signature=", 1)[0]
    r = await control.get(f"/binance/fapi/v3/account?{query}", headers=headers)
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert set(r.json()) == {"code", "msg"}


async def test_bad_input_gets_venue_errors_never_tracebacks(control: httpx.AsyncClient) -> None:
    r = await control.get("/binance/fapi/v1/depth", params={"symbol": "DOGEUSDT"})
    assert (r.status_code, r.json()) == (400, {"code": -1121, "msg": "Invalid symbol."})
    r = await control.get("/binance/fapi/v1/depth")
    assert r.json()["code"] == -1102
    r = await control.get("/binance/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": "ten"})
    assert r.json()["code"] == -1100
    r = await control.get("/binance/fapi/v9/nothing")
    assert (r.status_code, r.json()["code"]) == (404, -5000)
    r = await control.post("/binance/fapi/v1/order", content=b"a=%zz&&=" + b"x" * 10, headers={**KEY, **FORM})
    assert r.status_code == 400
    assert "Traceback" not in r.text
    r = await control.post(
        "/binance/fapi/v1/order", content=b"{not json", headers={**KEY, "Content-Type": "application/json"}
    )
    assert r.json()["code"] == -1100
    r = await control.post("/binance/fapi/v1/order", content=b"q=" + b"1" * 300_000, headers={**KEY, **FORM})
    assert (r.status_code, r.json()["code"]) == (413, -1000)
    assert (await control.get("/_sim/health")).json() == {"ok": True}


async def test_order_parameter_rules(control: httpx.AsyncClient) -> None:
    async def place(**params: str) -> httpx.Response:
        body = binance_query({"symbol": "BTCUSDT", **params}, credentials.BINANCE_API_SECRET)
        return await control.post("/binance/fapi/v1/order", content=body, headers={**KEY, **FORM})

    cases = [
        ({"side": "UP", "type": "MARKET", "quantity": "0.01"}, -1117),
        ({"side": "BUY", "type": "STOP_MARKET", "quantity": "0.01"}, -4120),
        ({"side": "BUY", "type": "MARKET", "quantity": "0.0011"}, -1111),
        ({"side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "90000.05", "timeInForce": "GTC"}, -1111),
        ({"side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "90000"}, -1102),
        ({"side": "BUY", "type": "MARKET", "quantity": "0"}, -4003),
        ({"side": "BUY", "type": "MARKET", "quantity": "0.01", "positionSide": "LONG"}, -4061),
        ({"side": "BUY", "type": "MARKET", "quantity": "0.01", "newClientOrderId": "bad id!"}, -4015),
        ({"side": "BUY", "type": "MARKET", "quantity": "0.01", "price": "1"}, -1106),
        ({"side": "BUY", "type": "MARKET", "quantity": "1e400"}, -4005),
        ({"side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "9" * 40, "timeInForce": "GTC"}, -4016),
        ({"side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "1e400", "timeInForce": "GTC"}, -4016),
    ]
    for params, code in cases:
        r = await place(**params)
        assert r.json().get("code") == code, (params, r.text)
    ok = await place(side="BUY", type="LIMIT", quantity="0.01", price="90000", timeInForce="GTC")
    assert ok.json()["status"] == "NEW"  # ACK is the default response type


async def test_cancel_all_and_listen_key(control: httpx.AsyncClient) -> None:
    for price in ("90000", "90001"):
        body = binance_query(
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "quantity": "0.002",
                "price": price,
                "timeInForce": "GTC",
            },
            credentials.BINANCE_API_SECRET,
        )
        assert (await control.post("/binance/fapi/v1/order", content=body, headers={**KEY, **FORM})).status_code == 200
    query = binance_query({"symbol": "BTCUSDT"}, credentials.BINANCE_API_SECRET)
    r = await control.delete(f"/binance/fapi/v1/allOpenOrders?{query}", headers=KEY)
    assert r.json() == {"code": 200, "msg": "The operation of cancel all open order is done."}
    state = (await control.get("/_sim/state")).json()
    assert state["venues"]["binance"]["open_orders"] == []
    r = await control.post("/binance/fapi/v1/listenKey", headers=KEY)
    assert len(r.json()["listenKey"]) == 64
