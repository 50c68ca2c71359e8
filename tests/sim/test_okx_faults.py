"""Every fault kind on the /okx dialect, seen through ccxt's unchanged okx client."""

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

BTC = "BTC/USDT:USDT"
BTC_ID = "BTC-USDT-SWAP"


@pytest.fixture
async def okx(sim_server: Running) -> AsyncIterator[Any]:
    exchange = ccxt.okx(
        {
            **LOOPBACK_CCXT,
            "apiKey": credentials.OKX_API_KEY,
            "secret": credentials.OKX_API_SECRET,
            "password": credentials.OKX_PASSPHRASE,
            "options": {"fetchMarkets": {"types": ["swap"]}},
            "timeout": 400,
        }
    )
    exchange.has["fetchCurrencies"] = False
    exchange.urls["api"]["rest"] = sim_server.url + "/okx"
    try:
        await exchange.load_markets()
        yield exchange
    finally:
        await exchange.close()


async def arm(control: httpx.AsyncClient, **fault: Any) -> None:
    response = await control.post("/_sim/faults", json={"venue": "okx", **fault})
    response.raise_for_status()


async def positions(control: httpx.AsyncClient) -> dict[str, Decimal]:
    state = (await control.get("/_sim/state")).json()["venues"]["okx"]
    return {p["symbol"]: Decimal(p["qty"]) for p in state["positions"]}


async def far_bid(okx: Any) -> float:
    bid = (await okx.fetch_ticker(BTC))["bid"]
    return float(round(Decimal(str(bid)) * Decimal("0.9"), 1))


async def test_reject_on_create_is_okx_insufficient_margin_and_places_nothing(
    okx: Any, control: httpx.AsyncClient
) -> None:
    await arm(control, op="create_order", kind="reject")
    with pytest.raises(ccxt.InsufficientFunds, match="51008"):
        await okx.create_order(BTC, "market", "buy", 1)
    assert await positions(control) == {}


async def test_reject_honours_a_code_override(okx: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="create_order", kind="reject", code="51121", msg="lot size")
    with pytest.raises(ccxt.InvalidOrder, match="51121"):
        await okx.create_order(BTC, "market", "buy", 1)


async def test_reject_on_cancel_is_order_not_found_and_leaves_the_order(okx: Any, control: httpx.AsyncClient) -> None:
    order = await okx.create_order(BTC, "limit", "buy", 1, await far_bid(okx))
    await arm(control, op="cancel_order", kind="reject")
    with pytest.raises(ccxt.OrderNotFound, match="51400"):
        await okx.cancel_order(order["id"], BTC)
    assert (await okx.fetch_order(order["id"], BTC))["status"] == "open"


async def test_reject_on_fetch_order_and_fetch_positions(okx: Any, control: httpx.AsyncClient) -> None:
    order = await okx.create_order(BTC, "market", "buy", 1)
    await arm(control, op="fetch_order", kind="reject")
    await arm(control, op="fetch_positions", kind="reject")
    with pytest.raises(ccxt.OrderNotFound, match="51603"):
        await okx.fetch_order(order["id"], BTC)
    with pytest.raises(ccxt.ExchangeNotAvailable, match="50013"):
        await okx.fetch_positions()
    assert len(await okx.fetch_positions()) == 1


async def test_http_500_is_okx_system_error(okx: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="any", kind="http_500")
    with pytest.raises(ccxt.ExchangeNotAvailable, match="50026"):
        await okx.fetch_balance()
    records = (await control.get("/_sim/requests", params={"venue": "okx"})).json()
    assert [r["status"] for r in records if r["fault"] == "http_500"] == [500]


async def test_rate_limit_is_okx_429_and_after_skips_requests(okx: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="fetch_positions", kind="rate_limit", after=1)
    assert await okx.fetch_positions() == []
    with pytest.raises(ccxt.RateLimitExceeded, match="50011"):
        await okx.fetch_positions()
    assert await okx.fetch_positions() == []
    records = (await control.get("/_sim/requests", params={"venue": "okx"})).json()
    assert [r["status"] for r in records if r["op"] == "fetch_positions"] == [200, 429, 200]


async def test_timeout_places_nothing_and_never_answers(okx: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="create_order", kind="timeout")
    with pytest.raises(ccxt.RequestTimeout):
        await okx.create_order(BTC, "market", "buy", 1, None, {"clientOrderId": "lost1"})
    assert await positions(control) == {}
    with pytest.raises(ccxt.OrderNotFound):
        await okx.fetch_order(None, BTC, {"clientOrderId": "lost1"})
    records = (await control.get("/_sim/requests", params={"venue": "okx"})).json()
    assert any(r["client_order_id"] == "lost1" and r["fault"] == "timeout" for r in records)


async def test_accept_then_timeout_places_the_order_but_loses_the_reply(okx: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="create_order", kind="accept_then_timeout")
    with pytest.raises(ccxt.RequestTimeout):
        await okx.create_order(BTC, "market", "buy", 2, None, {"clientOrderId": "ghost1"})
    assert await positions(control) == {BTC_ID: Decimal("0.02")}
    found = await okx.fetch_order(None, BTC, {"clientOrderId": "ghost1"})
    assert (found["status"], found["filled"]) == ("closed", 2)


async def test_partial_fill_leaves_a_limit_open_with_the_rest(okx: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="create_order", kind="partial_fill", fill_ratio="0.5")
    order = await okx.create_order(BTC, "limit", "buy", 4, await far_bid(okx))
    detail = await okx.fetch_order(order["id"], BTC)
    assert (detail["status"], detail["filled"], detail["remaining"]) == ("open", 2, 2)
    assert detail["info"]["state"] == "partially_filled"
    assert await positions(control) == {BTC_ID: Decimal("0.02")}


async def test_partial_fill_cancels_the_rest_of_a_market_order(okx: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="create_order", kind="partial_fill", fill_ratio="0.5")
    order = await okx.create_order(BTC, "market", "sell", 4)
    detail = await okx.fetch_order(order["id"], BTC)
    assert (detail["status"], detail["filled"]) == ("canceled", 2)
    assert await positions(control) == {BTC_ID: Decimal("-0.02")}


async def test_disconnect_drops_the_connection_and_places_nothing(okx: Any, control: httpx.AsyncClient) -> None:
    await arm(control, op="create_order", kind="disconnect")
    with pytest.raises(ccxt.NetworkError):
        await okx.create_order(BTC, "market", "buy", 1)
    assert await positions(control) == {}
