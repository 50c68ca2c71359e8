"""The /backpack dialect over raw HTTP: Backpack's payloads, the open-only order lookup, its errors."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hedgectl.sim import credentials
from hedgectl.sim.dialects.backpack_auth import sign, signing_string
from hedgectl.sim.server import Running

BTC = "BTC_USDC_PERP"


class BackpackClient:
    """A minimal signed Backpack client: ED25519 over the instruction and the params it sends."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.skew_ms = 0

    def headers(self, instruction: str, params: Any) -> dict[str, str]:
        ts = str(time.time_ns() // 1_000_000 + self.skew_ms)
        signature = sign(credentials.BACKPACK_API_SECRET, signing_string(instruction, params, ts, "5000"))
        return {
            "X-API-Key": credentials.BACKPACK_API_KEY,
            "X-Signature": signature,
            "X-Timestamp": ts,
            "X-Window": "5000",
            "Content-Type": "application/json",
        }

    async def get(self, path: str, instruction: str, **params: str) -> httpx.Response:
        return await self.http.get("/backpack" + path, params=params, headers=self.headers(instruction, params))

    async def send(self, method: str, path: str, instruction: str, payload: Any) -> httpx.Response:
        content = json.dumps(payload, separators=(",", ":"))
        headers = self.headers(instruction, payload)
        return await self.http.request(method, "/backpack" + path, content=content.encode(), headers=headers)


@pytest.fixture
async def client(sim_server: Running) -> AsyncIterator[BackpackClient]:
    async with httpx.AsyncClient(base_url=sim_server.url, timeout=10.0) as http:
        yield BackpackClient(http)


def market(side: str = "Bid", quantity: str = "0.01", **extra: Any) -> dict[str, Any]:
    return {"symbol": BTC, "side": side, "orderType": "Market", "quantity": quantity, **extra}


def far_limit(sim_server: Running, **extra: Any) -> dict[str, Any]:
    bid = sim_server.sim.engine.book("backpack", BTC).best_bid
    price = str((bid * Decimal("0.9")).quantize(Decimal("0.1")))
    return {"symbol": BTC, "side": "Bid", "orderType": "Limit", "quantity": "0.01", "price": price, **extra}


async def test_time_is_plain_text_milliseconds(client: BackpackClient) -> None:
    response = await client.http.get("/backpack/api/v1/time")
    assert response.headers["content-type"].startswith("text/plain")
    assert abs(int(response.text) - time.time() * 1000) < 5000


async def test_depth_is_ascending_on_both_sides_with_a_microsecond_timestamp(client: BackpackClient) -> None:
    depth = (await client.http.get("/backpack/api/v1/depth", params={"symbol": BTC, "limit": "5"})).json()
    bids = [Decimal(px) for px, _ in depth["bids"]]
    asks = [Decimal(px) for px, _ in depth["asks"]]
    assert bids == sorted(bids)
    assert asks == sorted(asks)
    assert bids[-1] < asks[0]
    assert len(bids) == len(asks) == 5
    assert isinstance(depth["lastUpdateId"], str)
    assert abs(depth["timestamp"] - time.time() * 1_000_000) < 5_000_000


async def test_unknown_symbol_is_invalid_symbol_or_market(client: BackpackClient) -> None:
    ticker = await client.http.get("/backpack/api/v1/ticker", params={"symbol": "DOGE_USDC_PERP"})
    assert (ticker.status_code, ticker.json()["code"]) == (400, "INVALID_SYMBOL")
    order = await client.send("POST", "/api/v1/order", "orderExecute", market(symbol="DOGE_USDC_PERP"))
    assert (order.status_code, order.json()["code"]) == (400, "INVALID_MARKET")


async def test_markets_filter_by_type(client: BackpackClient) -> None:
    perps = (await client.http.get("/backpack/api/v1/markets", params={"marketType": "PERP"})).json()
    assert {m["symbol"] for m in perps} == {"BTC_USDC_PERP", "ETH_USDC_PERP", "SOL_USDC_PERP", "ASTER_USDC_PERP"}
    assert all(m["fundingInterval"] == "3600000" and m["orderBookState"] == "Open" for m in perps)
    spot = (await client.http.get("/backpack/api/v1/markets", params={"marketType": "SPOT"})).json()
    assert spot == []


async def test_a_filled_order_is_404_on_the_book_and_final_in_history(client: BackpackClient) -> None:
    placed = (await client.send("POST", "/api/v1/order", "orderExecute", market(clientId=9))).json()
    assert placed["status"] == "Filled"
    lookup = await client.get("/api/v1/order", "orderQuery", symbol=BTC, orderId=placed["id"])
    assert lookup.status_code == 404
    assert lookup.json()["code"] == "RESOURCE_NOT_FOUND"
    history = (
        await client.get("/wapi/v1/history/orders", "orderHistoryQueryAll", orderId=placed["id"], symbol=BTC)
    ).json()
    assert [(h["id"], h["status"], h["executedQuantity"], h["clientId"]) for h in history] == [
        (placed["id"], "Filled", "0.01", 9)
    ]
    assert "T" in history[0]["createdAt"]
    fills = (
        await client.get("/wapi/v1/history/fills", "fillHistoryQueryAll", orderId=placed["id"], fillType="User")
    ).json()
    assert sum(Decimal(f["quantity"]) for f in fills) == Decimal("0.01")
    assert {f["clientId"] for f in fills} == {"9"}


async def test_a_resting_order_is_found_by_client_id_until_cancelled(
    client: BackpackClient, sim_server: Running
) -> None:
    placed = (await client.send("POST", "/api/v1/order", "orderExecute", far_limit(sim_server, clientId=31337))).json()
    found = (await client.get("/api/v1/order", "orderQuery", symbol=BTC, clientId="31337")).json()
    assert (found["id"], found["status"]) == (placed["id"], "New")
    cancelled = await client.send("DELETE", "/api/v1/order", "orderCancel", {"symbol": BTC, "clientId": 31337})
    assert cancelled.json()["status"] == "Cancelled"
    again = await client.send("DELETE", "/api/v1/order", "orderCancel", {"symbol": BTC, "clientId": 31337})
    assert (again.status_code, again.json()["code"]) == (404, "RESOURCE_NOT_FOUND")


async def test_lookup_needs_exactly_one_id(client: BackpackClient) -> None:
    response = await client.get("/api/v1/order", "orderQuery", symbol=BTC)
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")


async def test_client_id_must_be_a_uint32(client: BackpackClient) -> None:
    response = await client.send("POST", "/api/v1/order", "orderExecute", market(clientId=2**32))
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")


async def test_batch_orders_report_each_order_or_its_error(client: BackpackClient, control: httpx.AsyncClient) -> None:
    batch = [market(clientId=1), market(quantity="0.00001", clientId=2), market(side="Ask", quantity="0.005")]
    results = (await client.send("POST", "/api/v1/orders", "orderExecute", batch)).json()
    assert [r.get("status") or r["code"] for r in results] == ["Filled", "INVALID_QUANTITY", "Filled"]
    state = (await control.get("/_sim/state")).json()["venues"]["backpack"]
    assert [p["qty"] for p in state["positions"]] == ["0.005"]


async def test_quantity_and_price_rules_have_backpack_codes(client: BackpackClient, sim_server: Running) -> None:
    off_step = await client.send("POST", "/api/v1/order", "orderExecute", market(quantity="0.01005"))
    assert off_step.json()["code"] == "INVALID_QUANTITY"
    off_tick = far_limit(sim_server)
    off_tick["price"] = off_tick["price"] + "5"
    response = await client.send("POST", "/api/v1/order", "orderExecute", off_tick)
    assert response.json()["code"] == "INVALID_PRICE"


async def test_malformed_json_is_a_client_request_error(client: BackpackClient) -> None:
    headers = client.headers("orderExecute", {})
    response = await client.http.post("/backpack/api/v1/order", content=b'{"symbol": ', headers=headers)
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")


async def test_a_tampered_body_is_an_invalid_signature(client: BackpackClient, control: httpx.AsyncClient) -> None:
    headers = client.headers("orderExecute", market())
    body = json.dumps(market(quantity="0.5"))
    response = await client.http.post("/backpack/api/v1/order", content=body.encode(), headers=headers)
    assert (response.status_code, response.json()["code"]) == (401, "INVALID_SIGNATURE")
    assert (await control.get("/_sim/state")).json()["venues"]["backpack"]["positions"] == []


async def test_a_signature_for_the_wrong_instruction_is_invalid(client: BackpackClient) -> None:
    headers = client.headers("orderQuery", {})
    response = await client.http.get("/backpack/api/v1/capital", headers=headers)
    assert response.json()["code"] == "INVALID_SIGNATURE"


async def test_a_request_outside_its_window_has_expired(client: BackpackClient) -> None:
    client.skew_ms = -10_000
    response = await client.get("/api/v1/capital", "balanceQuery")
    assert (response.status_code, response.json()["code"]) == (400, "INVALID_CLIENT_REQUEST")


async def test_collateral_and_positions_reflect_a_trade(client: BackpackClient) -> None:
    await client.send("POST", "/api/v1/order", "orderExecute", market(side="Ask", quantity="0.02"))
    positions = (await client.get("/api/v1/position", "positionQuery")).json()
    assert [(p["symbol"], p["netQuantity"], p["netExposureQuantity"]) for p in positions] == [(BTC, "-0.02", "0.02")]
    collateral = (await client.get("/api/v1/capital/collateral", "collateralQuery")).json()
    assert Decimal(collateral["netEquityLocked"]) > 0
    assert Decimal(collateral["netEquity"]) < Decimal("10000")


async def test_funding_payments_show_in_history(client: BackpackClient, control: httpx.AsyncClient) -> None:
    await client.send("POST", "/api/v1/order", "orderExecute", market(quantity="0.01"))
    due = time.time_ns() // 1_000_000 - 1
    settled = await control.post(
        "/_sim/funding", json={"venue": "backpack", "symbol": BTC, "rate": "0.0001", "next_funding_ms": due}
    )
    assert Decimal(settled.json()["settled"]) < 0
    payments = (await client.get("/wapi/v1/history/funding", "fundingHistoryQueryAll", symbol=BTC)).json()
    assert [(p["fundingRate"], Decimal(p["quantity"]) < 0) for p in payments] == [("0.0001", True)]


async def test_unknown_route_is_a_json_404(client: BackpackClient) -> None:
    response = await client.http.get("/backpack/api/v1/nope")
    assert (response.status_code, response.json()["code"]) == (404, "RESOURCE_NOT_FOUND")


async def test_the_account_reports_the_futures_fee_tier_in_basis_points(
    client: BackpackClient, sim_server: Running
) -> None:
    inst = sim_server.sim.engine.instruments["backpack"][BTC]
    account = (await client.get("/api/v1/account", "accountQuery")).json()
    assert Decimal(account["futuresTakerFee"]) / 10_000 == inst.taker_fee
    assert Decimal(account["futuresMakerFee"]) / 10_000 == inst.maker_fee
