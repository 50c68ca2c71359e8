"""ccxt's binanceusdm, unchanged but for its URLs, against the simulator's Binance dialect."""

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


@pytest.fixture
async def exchange(sim_server: Running) -> AsyncIterator[Any]:
    ex = ccxt.binanceusdm(
        {
            **LOOPBACK_CCXT,
            "apiKey": credentials.BINANCE_API_KEY,
            "secret": credentials.BINANCE_API_SECRET,
            "options": {"fetchCurrencies": False, "fetchMargins": False},
        }
    )
    base = f"{sim_server.url}/binance/fapi"
    for key, version in (
        ("fapiPublic", "v1"),
        ("fapiPublicV2", "v2"),
        ("fapiPublicV3", "v3"),
        ("fapiPrivate", "v1"),
        ("fapiPrivateV2", "v2"),
        ("fapiPrivateV3", "v3"),
    ):
        ex.urls["api"][key] = f"{base}/{version}"
    try:
        yield ex
    finally:
        await ex.close()


async def test_load_markets_has_real_symbols_and_rules(exchange: Any) -> None:
    markets = await exchange.load_markets()
    btc = markets[SYMBOL]
    assert btc["id"] == "BTCUSDT"
    assert btc["swap"]
    assert btc["linear"]
    assert btc["settle"] == "USDT"
    assert btc["precision"]["amount"] == 0.001
    assert btc["precision"]["price"] == 0.1
    assert btc["limits"]["cost"]["min"] == 100
    assert {"ETH/USDT:USDT", "SOL/USDT:USDT", "ASTER/USDT:USDT"} <= set(markets)


async def test_ticker_book_and_funding_agree_with_the_mid(exchange: Any, control: httpx.AsyncClient) -> None:
    await control.post("/_sim/price", json={"symbol": "BTC", "price": "90000", "venue": "binance"})
    ticker = await exchange.fetch_ticker(SYMBOL)
    assert ticker["last"] == 90000
    book = await exchange.fetch_order_book(SYMBOL, 10)
    assert len(book["bids"]) == 10
    assert len(book["asks"]) == 10
    assert book["bids"][0][0] < 90000 < book["asks"][0][0]
    assert all(a[0] < b[0] for a, b in zip(book["asks"], book["asks"][1:], strict=False))
    funding = await exchange.fetch_funding_rate(SYMBOL)
    assert funding["markPrice"] == 90000
    assert funding["fundingTimestamp"] % (8 * 3_600_000) == 0
    assert isinstance(funding["fundingRate"], float)


async def test_market_buy_opens_a_long_of_that_size(exchange: Any, sim_server: Running) -> None:
    balance = await exchange.fetch_balance()
    assert balance["USDT"]["total"] == 10000
    order = await exchange.create_order(SYMBOL, "market", "buy", 0.01)
    assert order["status"] == "closed"
    assert order["filled"] == 0.01
    positions = await exchange.fetch_positions([SYMBOL])
    assert [(p["symbol"], p["side"], p["contracts"]) for p in positions] == [(SYMBOL, "long", 0.01)]
    assert positions[0]["entryPrice"] == order["average"]
    trades = await exchange.fetch_my_trades(SYMBOL)
    assert [(t["side"], t["amount"], t["takerOrMaker"]) for t in trades] == [("buy", 0.01, "taker")]
    fee = Decimal(str(trades[0]["fee"]["cost"]))
    assert fee == Decimal(str(order["average"])) * Decimal("0.01") * Decimal("0.0005")
    after = await exchange.fetch_balance()
    wallet = Decimal(after["info"]["assets"][0]["walletBalance"])
    assert wallet == Decimal(10000) - fee
    unrealized = Decimal(after["info"]["assets"][0]["unrealizedProfit"])
    assert Decimal(str(after["USDT"]["total"])) == wallet + unrealized
    assert sim_server.sim.engine.positions("binance")[0].qty == Decimal("0.010")


async def test_limit_reduce_only_with_client_id_rests_then_cancels(exchange: Any) -> None:
    await exchange.create_order(SYMBOL, "market", "buy", 0.002)
    order = await exchange.create_order(
        SYMBOL, "limit", "sell", 0.002, 99000, {"reduceOnly": True, "clientOrderId": "hedge-leg-1"}
    )
    assert order["status"] == "open"
    assert order["clientOrderId"] == "hedge-leg-1"
    assert order["reduceOnly"] is True
    fetched = await exchange.fetch_order(order["id"], SYMBOL)
    assert (fetched["status"], fetched["price"], fetched["amount"]) == ("open", 99000, 0.002)
    by_client = await exchange.fetch_order(None, SYMBOL, {"origClientOrderId": "hedge-leg-1"})
    assert by_client["id"] == order["id"]
    assert [o["id"] for o in await exchange.fetch_open_orders(SYMBOL)] == [order["id"]]
    canceled = await exchange.cancel_order(order["id"], SYMBOL)
    assert canceled["status"] == "canceled"
    assert await exchange.fetch_open_orders(SYMBOL) == []
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order(order["id"], SYMBOL)


async def test_resting_limit_fills_when_the_price_crosses(exchange: Any, control: httpx.AsyncClient) -> None:
    order = await exchange.create_order(SYMBOL, "limit", "buy", 0.002, 94000)
    assert order["status"] == "open"
    await control.post("/_sim/price", json={"symbol": "BTC", "price": "93900"})
    filled = await exchange.fetch_order(order["id"], SYMBOL)
    assert (filled["status"], filled["filled"], filled["average"]) == ("closed", 0.002, 94000)
    trades = await exchange.fetch_my_trades(SYMBOL)
    assert trades[-1]["takerOrMaker"] == "maker"


async def test_venue_rules_reject_with_ccxt_exceptions(exchange: Any) -> None:
    # Off Binance's own hosts ccxt applies only its global code table (reference 2.5), so several
    # codes surface as plain ExchangeError; the code in the message is what the venue said.
    await exchange.load_markets()
    with pytest.raises(ccxt.ExchangeError, match="-4164"):  # notional below 100 USDT
        await exchange.create_order(SYMBOL, "limit", "buy", 0.001, 90000)
    with pytest.raises(ccxt.ExchangeError, match="-2022"):  # nothing to reduce
        await exchange.create_order(SYMBOL, "market", "sell", 0.01, None, {"reduceOnly": True})
    with pytest.raises(ccxt.InvalidOrder, match="-5022"):  # post-only would take
        await exchange.create_order(SYMBOL, "limit", "buy", 0.01, 99000, {"postOnly": True})
    await exchange.create_order(SYMBOL, "limit", "buy", 0.002, 90000, {"clientOrderId": "dup-1"})
    with pytest.raises(ccxt.ExchangeError, match="-4116"):
        await exchange.create_order(SYMBOL, "limit", "buy", 0.002, 90000, {"clientOrderId": "dup-1"})
    with pytest.raises(ccxt.ExchangeError, match="-2019"):  # 20x leverage on 10k USDT
        await exchange.create_order(SYMBOL, "market", "buy", 5)


async def test_wrong_secret_is_an_authentication_error(sim_server: Running) -> None:
    ex = ccxt.binanceusdm(
        {
            **LOOPBACK_CCXT,
            "apiKey": credentials.BINANCE_API_KEY,
            "secret": "0" * 64,
            "options": {"fetchCurrencies": False},
        }
    )
    ex.urls["api"]["fapiPrivateV3"] = f"{sim_server.url}/binance/fapi/v3"
    try:
        with pytest.raises(ccxt.AuthenticationError, match="-1022"):
            await ex.fapiPrivateV3GetAccount()
    finally:
        await ex.close()
