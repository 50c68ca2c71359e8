"""ccxt's aster (privateKey / EIP-712 mode), unchanged but for its URLs, against the Aster dialect."""

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

SYMBOL = "BTC/USDT:USDT"


def make_aster(url: str, private_key: str = credentials.ASTER_PRIVATE_KEY) -> Any:
    ex = ccxt.aster(
        {**LOOPBACK_CCXT, "privateKey": private_key, "options": {"defaultType": "swap", "builderFee": False}}
    )
    ex.urls["api"]["fapiPublic"] = ex.urls["api"]["fapiPrivate"] = f"{url}/aster/fapi"
    ex.urls["api"]["sapiPublic"] = ex.urls["api"]["sapiPrivate"] = f"{url}/aster/api"
    return ex


@pytest.fixture
async def exchange(sim_server: Running) -> AsyncIterator[Any]:
    ex = make_aster(sim_server.url)
    try:
        yield ex
    finally:
        await ex.close()


async def test_load_markets_lists_real_symbols(exchange: Any) -> None:
    markets = await exchange.load_markets()
    assert markets[SYMBOL]["id"] == "BTCUSDT"
    assert markets["ASTER/USDT:USDT"]["id"] == "ASTERUSDT"
    assert markets[SYMBOL]["limits"]["cost"]["min"] == 5
    assert markets[SYMBOL]["precision"]["amount"] == 0.001


async def test_ticker_book_funding(exchange: Any, control: httpx.AsyncClient) -> None:
    await control.post("/_sim/price", json={"symbol": "ETH", "price": "3200", "venue": "aster"})
    assert (await exchange.fetch_ticker("ETH/USDT:USDT"))["last"] == 3200
    book = await exchange.fetch_order_book("ETH/USDT:USDT", 5)
    assert book["bids"][0][0] < 3200 < book["asks"][0][0]
    funding = await exchange.fetch_funding_rate("ASTER/USDT:USDT")
    assert funding["nextFundingTimestamp"] % (4 * 3_600_000) == 0
    assert funding["fundingRate"] is not None


async def test_market_buy_opens_a_long_and_trades_show_fees(exchange: Any, sim_server: Running) -> None:
    assert (await exchange.fetch_balance())["USDT"]["total"] == 10000
    order = await exchange.create_order(SYMBOL, "market", "buy", 0.01)
    # Aster's default newOrderRespType is ACK: the order comes back as accepted, then fills.
    assert order["id"] is not None
    fetched = await exchange.fetch_order(order["id"], SYMBOL)
    assert (fetched["status"], fetched["filled"]) == ("closed", 0.01)
    positions = await exchange.fetch_positions([SYMBOL])
    assert [(p["side"], p["contracts"]) for p in positions] == [("long", 0.01)]
    trades = await exchange.fetch_my_trades(SYMBOL)
    assert len(trades) == 1
    fee = Decimal(str(trades[0]["fee"]["cost"]))
    assert fee == Decimal(str(fetched["average"])) * Decimal("0.01") * Decimal("0.00035")
    assert sim_server.sim.engine.positions("aster")[0].qty == Decimal("0.010")


async def test_limit_reduce_only_with_client_id_rests_and_cancels(exchange: Any) -> None:
    await exchange.create_order(SYMBOL, "market", "sell", 0.003)
    order = await exchange.create_order(
        SYMBOL, "limit", "buy", 0.003, 90000, {"reduceOnly": True, "clientOrderId": "aster-leg-1"}
    )
    fetched = await exchange.fetch_order(order["id"], SYMBOL)
    assert (fetched["status"], fetched["clientOrderId"], fetched["reduceOnly"]) == ("open", "aster-leg-1", True)
    assert [o["id"] for o in await exchange.fetch_open_orders(SYMBOL)] == [order["id"]]
    assert (await exchange.cancel_order(order["id"], SYMBOL))["status"] == "canceled"
    assert await exchange.fetch_open_orders(SYMBOL) == []
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order(order["id"], SYMBOL)


async def test_rules_map_to_aster_ccxt_exceptions(exchange: Any) -> None:
    await exchange.load_markets()
    with pytest.raises(ccxt.InvalidOrder, match="-4164"):
        await exchange.create_order("SOL/USDT:USDT", "limit", "buy", 0.01, 150)
    with pytest.raises(ccxt.InsufficientFunds, match="-2019"):
        await exchange.create_order(SYMBOL, "market", "buy", 5)
    with pytest.raises(ccxt.BadSymbol):
        await exchange.fapiPublicGetV3Depth({"symbol": "NOPEUSDT"})


async def test_a_foreign_private_key_is_refused(sim_server: Running) -> None:
    ex = make_aster(sim_server.url, "0x" + "11" * 32)
    try:
        with pytest.raises(ccxt.AuthenticationError):
            await ex.fapiPrivateGetV3Balance()
    finally:
        await ex.close()
