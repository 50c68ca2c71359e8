"""Every fault kind on the /backpack dialect, seen through ccxt's unchanged backpack client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt
import httpx
import pytest

from hedgectl.sim import credentials
from hedgectl.sim.server import Running
from tests.sim.helpers import LOOPBACK_CCXT

BTC = "BTC/USDC:USDC"
BTC_ID = "BTC_USDC_PERP"


@pytest.fixture
async def backpack(sim_server: Running) -> AsyncIterator[Any]:
    exchange = ccxt.backpack(
        {
            **LOOPBACK_CCXT,
            "apiKey": credentials.BACKPACK_API_KEY,
            "secret": credentials.BACKPACK_API_SECRET,
            "timeout": 400,
        }
    )
    exchange.urls["api"]["public"] = sim_server.url + "/backpack"
    exchange.urls["api"]["private"] = sim_server.url + "/backpack"
    try:
        await exchange.load_markets(False, {"marketType": "swap"})
        yield exchange
    finally:
        await exchange.close()


async def arm(control: httpx.AsyncClient, **fault: Any) -> None:
    response = await control.post("/_sim/faults", json={"venue": "backpack", **fault})
    response.raise_for_status()


async def positions(control: httpx.AsyncClient) -> dict[str, Decimal]:
    state = (await control.get("/_sim/state")).json()["venues"]["backpack"]
    return {p["symbol"]: Decimal(p["qty"]) for p in state["positions"]}


async def far_bid(sim_server: Running) -> float:
    bid = sim_server.sim.engine.book("backpack", BTC_ID).best_bid
    return float((bid * Decimal("0.9")).quantize(Decimal("0.1")))


async def test_reject_on_create_is_insufficient_margin_and_places_nothing(
    backpack: Any, control: httpx.AsyncClient
) -> None:
    await arm(control, op="create_order", kind="reject")
    with pytest.raises(ccxt.InsufficientFunds, match="INSUFFICIENT_MARGIN"):
        await backpack.create_order(BTC, "market", "buy", 0.01)
    assert await positions(control) == {}


async def test_reject_honours_a_code_override(backpack: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="create_order", kind="reject", code="INVALID_PRICE", msg="Price is too far")
    with pytest.raises(ccxt.InvalidOrder, match="Price is too far"):
        await backpack.create_order(BTC, "market", "buy", 0.01)


async def test_reject_on_cancel_leaves_the_order_resting(
    backpack: Any, control: httpx.AsyncClient, sim_server: Running
) -> None:
    order = await backpack.create_order(BTC, "limit", "buy", 0.01, await far_bid(sim_server))
    await arm(control, op="cancel_order", kind="reject")
    with pytest.raises(ccxt.ExchangeNotAvailable, match="RESOURCE_NOT_FOUND"):
        await backpack.cancel_order(order["id"], BTC)
    assert [o["id"] for o in await backpack.fetch_open_orders(BTC)] == [order["id"]]


async def test_reject_on_fetch_positions_is_forbidden(backpack: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="fetch_positions", kind="reject")
    with pytest.raises(ccxt.OperationRejected, match="FORBIDDEN"):
        await backpack.fetch_positions()
    assert await backpack.fetch_positions() == []


async def test_http_500_is_a_server_error(backpack: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="any", kind="http_500")
    with pytest.raises(ccxt.NetworkError, match="SERVER_ERROR"):
        await backpack.fetch_balance()
    records = (await control.get("/_sim/requests", params={"venue": "backpack"})).json()
    assert [r["status"] for r in records if r["fault"] == "http_500"] == [500]


async def test_rate_limit_is_a_429_too_many_requests(backpack: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="fetch_order", kind="rate_limit")
    order = await backpack.create_order(BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.RateLimitExceeded, match="TOO_MANY_REQUESTS"):
        await backpack.fetch_order(order["id"], BTC)
    records = (await control.get("/_sim/requests", params={"venue": "backpack"})).json()
    assert [r["status"] for r in records if r["op"] == "fetch_order"] == [429]


async def test_timeout_places_nothing(backpack: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="create_order", kind="timeout")
    with pytest.raises(ccxt.RequestTimeout):
        await backpack.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": 555})
    assert await positions(control) == {}
    records = (await control.get("/_sim/requests", params={"venue": "backpack"})).json()
    assert any(r["client_order_id"] == "555" and r["fault"] == "timeout" for r in records)


async def test_accept_then_timeout_places_the_order_but_loses_the_reply(
    backpack: Any, control: httpx.AsyncClient
) -> None:
    await arm(control, op="create_order", kind="accept_then_timeout")
    with pytest.raises(ccxt.RequestTimeout):
        await backpack.create_order(BTC, "market", "buy", 0.02, None, {"clientOrderId": 556})
    assert await positions(control) == {BTC_ID: Decimal("0.02")}
    trades = await backpack.fetch_my_trades(BTC)
    assert sum(Decimal(t["info"]["quantity"]) for t in trades) == Decimal("0.02")
    assert {t["info"]["clientId"] for t in trades} == {"556"}


async def test_partial_fill_leaves_a_limit_resting_with_the_rest(
    backpack: Any, control: httpx.AsyncClient, sim_server: Running
) -> None:
    await arm(control, op="create_order", kind="partial_fill", fill_ratio="0.5")
    order = await backpack.create_order(BTC, "limit", "buy", 0.04, await far_bid(sim_server))
    assert (order["status"], order["filled"]) == ("open", pytest.approx(0.02))
    assert order["info"]["status"] == "PartiallyFilled"
    assert await positions(control) == {BTC_ID: Decimal("0.02")}


async def test_partial_fill_expires_the_rest_of_a_market_order(backpack: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="create_order", kind="partial_fill", fill_ratio="0.5")
    order = await backpack.create_order(BTC, "market", "sell", 0.04)
    assert (order["status"], order["filled"]) == ("canceled", pytest.approx(0.02))
    assert order["info"]["status"] == "Expired"
    assert await positions(control) == {BTC_ID: Decimal("-0.02")}


async def test_disconnect_drops_the_connection_and_places_nothing(backpack: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="create_order", kind="disconnect")
    with pytest.raises(ccxt.NetworkError):
        await backpack.create_order(BTC, "market", "buy", 0.01)
    assert await positions(control) == {}
