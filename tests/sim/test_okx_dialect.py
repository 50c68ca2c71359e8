"""The /okx dialect over raw HTTP: OKX's envelopes, per-order sCodes and refusals, bytes as sent."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hedgectl.sim import credentials
from hedgectl.sim.dialects.okx_auth import okx_signature
from hedgectl.sim.server import Running

API = "/api/v5"


def iso_now(shift_s: float = 0.0) -> str:
    moment = datetime.fromtimestamp(datetime.now(tz=UTC).timestamp() + shift_s, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class OkxClient:
    """A minimal signed OKX client: signs exactly the bytes it sends."""

    def __init__(self, http: httpx.AsyncClient, secret: str = credentials.OKX_API_SECRET) -> None:
        self.http = http
        self.secret = secret
        self.passphrase = credentials.OKX_PASSPHRASE
        self.skew_s = 0.0

    def headers(self, method: str, path: str, body: str) -> dict[str, str]:
        ts = iso_now(self.skew_s)
        return {
            "OK-ACCESS-KEY": credentials.OKX_API_KEY,
            "OK-ACCESS-PASSPHRASE": self.passphrase,
            "OK-ACCESS-TIMESTAMP": ts,
            "OK-ACCESS-SIGN": okx_signature(self.secret, ts, method, path, body),
            "Content-Type": "application/json",
        }

    async def get(self, path: str, query: str = "") -> httpx.Response:
        full = API + path + (f"?{query}" if query else "")
        return await self.http.get("/okx" + full, headers=self.headers("GET", full, ""))

    async def post(self, path: str, payload: Any = None, raw: str | None = None) -> httpx.Response:
        body = raw if raw is not None else json.dumps(payload, separators=(",", ":"))
        full = API + path
        return await self.http.post("/okx" + full, content=body.encode(), headers=self.headers("POST", full, body))


@pytest.fixture
async def client(sim_server: Running) -> AsyncIterator[OkxClient]:
    async with httpx.AsyncClient(base_url=sim_server.url, timeout=10.0) as http:
        yield OkxClient(http)


def market_order(**fields: str) -> dict[str, str]:
    return {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy", "ordType": "market", "sz": "1", **fields}


async def test_server_time_is_an_ms_string_in_the_envelope(client: OkxClient) -> None:
    body = (await client.http.get("/okx/api/v5/public/time")).json()
    assert (body["code"], body["msg"]) == ("0", "")
    assert abs(int(body["data"][0]["ts"]) - datetime.now(tz=UTC).timestamp() * 1000) < 5000


async def test_swap_instruments_take_base_and_quote_from_uly(client: OkxClient) -> None:
    body = (await client.http.get("/okx/api/v5/public/instruments", params={"instType": "SWAP"})).json()
    btc = next(row for row in body["data"] if row["instId"] == "BTC-USDT-SWAP")
    assert (btc["uly"], btc["baseCcy"], btc["quoteCcy"], btc["settleCcy"]) == ("BTC-USDT", "", "", "USDT")
    assert (btc["ctVal"], btc["ctValCcy"], btc["ctType"], btc["lotSz"], btc["minSz"]) == (
        "0.01",
        "BTC",
        "linear",
        "0.01",
        "0.01",
    )
    spot = (await client.http.get("/okx/api/v5/public/instruments", params={"instType": "SPOT"})).json()
    assert spot == {"code": "0", "msg": "", "data": []}


async def test_instruments_without_inst_type_is_a_missing_parameter(client: OkxClient) -> None:
    response = await client.http.get("/okx/api/v5/public/instruments")
    assert response.status_code == 400
    assert response.json()["code"] == "50014"


async def test_unknown_instrument_on_public_and_trade_endpoints(client: OkxClient) -> None:
    response = await client.http.get("/okx/api/v5/market/ticker", params={"instId": "DOGE-USDT-SWAP"})
    assert response.json()["code"] == "51001"
    placed = (await client.post("/trade/order", market_order(instId="DOGE-USDT-SWAP"))).json()
    assert placed["code"] == "1"
    assert placed["data"][0]["sCode"] == "51001"


async def test_mark_price_and_funding_rate_shapes(client: OkxClient, sim_server: Running) -> None:
    mark = (
        await client.http.get("/okx/api/v5/public/mark-price", params={"instType": "SWAP", "instId": "ETH-USDT-SWAP"})
    ).json()
    assert Decimal(mark["data"][0]["markPx"]) == sim_server.sim.engine.mark_price("okx", "ETH-USDT-SWAP")
    funding = (await client.http.get("/okx/api/v5/public/funding-rate", params={"instId": "ETH-USDT-SWAP"})).json()[
        "data"
    ][0]
    assert int(funding["nextFundingTime"]) - int(funding["fundingTime"]) == 8 * 3_600_000


async def test_malformed_json_is_okx_json_format_error(client: OkxClient) -> None:
    response = await client.post("/trade/order", raw='{"instId": "BTC-USDT-SWAP",')
    assert response.status_code == 400
    assert response.json() == {"code": "50002", "msg": "Json data format error", "data": []}


async def test_a_tampered_body_fails_the_signature_and_places_nothing(
    client: OkxClient, control: httpx.AsyncClient
) -> None:
    body = json.dumps(market_order(), separators=(",", ":"))
    headers = client.headers("POST", API + "/trade/order", body)
    tampered = body.replace('"sz":"1"', '"sz":"9"')
    response = await client.http.post("/okx/api/v5/trade/order", content=tampered.encode(), headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "50113"
    state = (await control.get("/_sim/state")).json()["venues"]["okx"]
    assert state["positions"] == []


async def test_a_stale_timestamp_has_expired(client: OkxClient) -> None:
    client.skew_s = -60
    response = await client.get("/account/balance")
    assert response.status_code == 401
    assert response.json()["code"] == "50102"


async def test_missing_key_header_is_50103(client: OkxClient) -> None:
    response = await client.http.get("/okx/api/v5/account/balance")
    assert response.json()["code"] == "50103"


async def test_a_lot_size_violation_is_51121(client: OkxClient) -> None:
    off_lot = (await client.post("/trade/order", market_order(sz="1.005"))).json()
    assert (off_lot["code"], off_lot["data"][0]["sCode"]) == ("1", "51121")
    below_one_lot = (await client.post("/trade/order", market_order(instId="ASTER-USDT-SWAP", sz="0.5"))).json()
    assert below_one_lot["data"][0]["sCode"] == "51121"


async def test_batch_with_one_bad_order_is_a_partial_success(client: OkxClient, control: httpx.AsyncClient) -> None:
    response = (
        await client.post("/trade/batch-orders", [market_order(clOrdId="good1"), market_order(sz="0.001")])
    ).json()
    assert response["code"] == "2"
    assert [entry["sCode"] for entry in response["data"]] == ["0", "51121"]
    assert response["data"][0]["clOrdId"] == "good1"
    positions = (await control.get("/_sim/state")).json()["venues"]["okx"]["positions"]
    assert [(p["symbol"], p["qty"]) for p in positions] == [("BTC-USDT-SWAP", "0.01")]


async def test_cancel_of_a_filled_order_says_completed(client: OkxClient) -> None:
    placed = (await client.post("/trade/order", market_order())).json()["data"][0]
    cancel = (await client.post("/trade/cancel-order", {"instId": "BTC-USDT-SWAP", "ordId": placed["ordId"]})).json()
    assert cancel["code"] == "1"
    assert cancel["data"][0]["sCode"] == "51402"
    missing = (await client.post("/trade/cancel-order", {"instId": "BTC-USDT-SWAP", "ordId": "123"})).json()
    assert missing["data"][0]["sCode"] == "51400"


async def test_order_detail_of_an_unknown_order_is_51603(client: OkxClient) -> None:
    body = (await client.get("/trade/order", "instId=BTC-USDT-SWAP&ordId=42")).json()
    assert body["code"] == "51603"


async def test_long_short_position_side_is_refused_in_net_mode(client: OkxClient) -> None:
    body = (await client.post("/trade/order", market_order(posSide="long"))).json()
    assert body["data"][0]["sCode"] == "51000"


async def test_cancel_batch_cancels_resting_orders(client: OkxClient, sim_server: Running) -> None:
    bid = sim_server.sim.engine.book("okx", "BTC-USDT-SWAP").best_bid
    px = str((bid * Decimal("0.9")).quantize(Decimal("0.1")))
    placed = (
        await client.post(
            "/trade/batch-orders", [market_order(ordType="limit", px=px, clOrdId=f"c{i}") for i in range(3)]
        )
    ).json()
    assert placed["code"] == "0"
    cancel = [{"instId": "BTC-USDT-SWAP", "clOrdId": f"c{i}"} for i in range(3)]
    body = (await client.post("/trade/cancel-batch-orders", cancel)).json()
    assert body["code"] == "0"
    assert sim_server.sim.engine.open_orders("okx") == []


async def test_balance_and_account_config(client: OkxClient) -> None:
    balance = (await client.get("/account/balance", "ccy=USDT")).json()["data"][0]
    assert balance["details"][0]["ccy"] == "USDT"
    assert Decimal(balance["totalEq"]) == Decimal("10000")
    config = (await client.get("/account/config")).json()["data"][0]
    assert config["posMode"] == "net_mode"


async def test_unknown_route_is_a_json_404(client: OkxClient) -> None:
    response = await client.http.get("/okx/api/v5/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "404"


async def test_set_leverage_changes_the_position_leverage(client: OkxClient) -> None:
    body = (
        await client.post("/account/set-leverage", {"instId": "BTC-USDT-SWAP", "lever": "5", "mgnMode": "cross"})
    ).json()
    assert body["data"][0]["lever"] == "5"
    await client.post("/trade/order", market_order(sz="2"))
    position = (await client.get("/account/positions", "instType=SWAP")).json()["data"][0]
    assert position["lever"] == "5"
    assert Decimal(position["imr"]) == (Decimal(position["notionalUsd"]) / 5).quantize(Decimal("0.00000001"))


async def test_trade_fee_reports_the_accounts_swap_tier_negated_as_okx_does(
    client: OkxClient, sim_server: Running
) -> None:
    inst = sim_server.sim.engine.instruments["okx"]["BTC-USDT-SWAP"]
    for query in ("instType=SWAP&instFamily=BTC-USDT", "instType=SWAP&uly=BTC-USDT", "instType=SWAP"):
        reply = (await client.get("/account/trade-fee", query)).json()
        assert reply["code"] == "0", query
        (row,) = reply["data"]
        assert (row["instType"], row["level"]) == ("SWAP", "Lv1")
        assert Decimal(row["takerU"]) == -inst.taker_fee
        assert Decimal(row["makerU"]) == -inst.maker_fee


async def test_trade_fee_refuses_other_instrument_types_unknown_families_and_unsigned_asks(
    client: OkxClient, sim_server: Running
) -> None:
    assert (await client.get("/account/trade-fee", "instType=SPOT&instId=BTC-USDT")).json()["code"] == "51000"
    assert (await client.get("/account/trade-fee", "instType=SWAP&instFamily=NOPE-USDT")).json()["code"] == "51001"
    assert (await client.get("/account/trade-fee", "")).json()["code"] != "0"
    unsigned = await client.http.get("/okx/api/v5/account/trade-fee", params={"instType": "SWAP"})
    assert unsigned.json()["code"] != "0"
