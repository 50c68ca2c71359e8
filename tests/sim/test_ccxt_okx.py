"""ccxt's unchanged `okx` client against the simulator's /okx dialect (reference §6.7 construction)."""

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
CT_VAL = Decimal("0.01")
START = Decimal("10000")


def make_okx(url: str, **overrides: Any) -> Any:
    exchange = ccxt.okx(
        {
            **LOOPBACK_CCXT,
            "apiKey": credentials.OKX_API_KEY,
            "secret": credentials.OKX_API_SECRET,
            "password": credentials.OKX_PASSPHRASE,
            "options": {"fetchMarkets": {"types": ["swap"]}},
            **overrides,
        }
    )
    exchange.has["fetchCurrencies"] = False
    exchange.urls["api"]["rest"] = url + "/okx"
    return exchange


@pytest.fixture
async def okx(sim_server: Running) -> AsyncIterator[Any]:
    exchange = make_okx(sim_server.url)
    try:
        await exchange.load_markets()
        yield exchange
    finally:
        await exchange.close()


async def okx_state(control: httpx.AsyncClient) -> dict[str, Any]:
    response = await control.get("/_sim/state")
    response.raise_for_status()
    venue: dict[str, Any] = response.json()["venues"]["okx"]
    return venue


def position_qty(state: dict[str, Any], symbol: str = BTC_ID) -> Decimal:
    return sum((Decimal(p["qty"]) for p in state["positions"] if p["symbol"] == symbol), Decimal(0))


async def test_load_markets_lists_linear_usdt_swaps_with_contract_values(okx: Any) -> None:
    market = okx.market(BTC)
    assert market["id"] == BTC_ID
    assert (market["swap"], market["linear"], market["active"]) == (True, True, True)
    assert market["settle"] == "USDT"
    assert market["contractSize"] == pytest.approx(0.01)
    assert market["precision"]["amount"] == pytest.approx(0.01)
    assert market["limits"]["amount"]["min"] == pytest.approx(0.01)
    assert {"ETH/USDT:USDT", "SOL/USDT:USDT", "ASTER/USDT:USDT"} <= set(okx.markets)


async def test_load_markets_with_keys_and_currencies_still_succeeds(sim_server: Running) -> None:
    exchange = make_okx(sim_server.url)
    exchange.has["fetchCurrencies"] = True  # ccxt then calls the signed /asset/currencies first
    try:
        markets = await exchange.load_markets()
    finally:
        await exchange.close()
    assert BTC in markets


async def test_ticker_quotes_the_simulated_top_of_book(okx: Any, sim_server: Running) -> None:
    ticker = await okx.fetch_ticker(BTC)
    book = sim_server.sim.engine.book("okx", BTC_ID)
    assert Decimal(str(ticker["bid"])) == book.best_bid
    assert Decimal(str(ticker["ask"])) == book.best_ask
    assert ticker["bid"] < ticker["last"] < ticker["ask"] or ticker["bid"] <= ticker["last"] <= ticker["ask"]


async def test_order_book_sizes_are_contracts(okx: Any, sim_server: Running) -> None:
    book = await okx.fetch_order_book(BTC, 5)
    engine_book = sim_server.sim.engine.book("okx", BTC_ID)
    assert (len(book["bids"]), len(book["asks"])) == (5, 5)
    best_bid_px, best_bid_sz = book["bids"][0][:2]
    assert Decimal(str(best_bid_px)) == engine_book.best_bid
    assert Decimal(str(best_bid_sz)) == engine_book.bids[0].qty / CT_VAL
    assert book["bids"][0][0] > book["bids"][1][0]
    assert book["asks"][0][0] < book["asks"][1][0]


async def test_balance_starts_at_ten_thousand_usdt(okx: Any) -> None:
    balance = await okx.fetch_balance()
    assert balance["USDT"]["total"] == pytest.approx(float(START))
    assert balance["USDT"]["free"] == pytest.approx(float(START))


async def test_market_buy_of_n_contracts_opens_a_long_of_n_times_ctval(okx: Any, control: httpx.AsyncClient) -> None:
    order = await okx.create_order(BTC, "market", "buy", 3)
    state = await okx_state(control)
    assert position_qty(state) == 3 * CT_VAL
    detail = await okx.fetch_order(order["id"], BTC)
    assert detail["status"] == "closed"
    assert detail["filled"] == pytest.approx(3)
    fee = Decimal(str(detail["fee"]["cost"]))
    notional = Decimal(str(detail["average"])) * 3 * CT_VAL
    assert fee == pytest.approx(notional * Decimal("0.0005"))
    assert Decimal(state["balances"]["USDT"]) == START - Decimal(detail["info"]["fee"]).copy_abs()


async def test_limit_order_with_client_id_rests_is_listed_and_cancels(okx: Any, control: httpx.AsyncClient) -> None:
    bid = (await okx.fetch_ticker(BTC))["bid"]
    order = await okx.create_order(BTC, "limit", "buy", 2, round(bid * 0.9, 1), {"clientOrderId": "hedgeAbc123"})
    assert order["clientOrderId"] == "hedgeAbc123"
    open_orders = await okx.fetch_open_orders(BTC)
    assert [(o["id"], o["clientOrderId"], o["amount"]) for o in open_orders] == [(order["id"], "hedgeAbc123", 2)]
    assert (await okx.fetch_order(order["id"], BTC))["status"] == "open"
    by_client_id = await okx.fetch_order(None, BTC, {"clientOrderId": "hedgeAbc123"})
    assert by_client_id["id"] == order["id"]
    await okx.cancel_order(order["id"], BTC)
    assert (await okx.fetch_order(order["id"], BTC))["status"] == "canceled"
    assert await okx.fetch_open_orders(BTC) == []
    assert (await okx_state(control))["open_orders"] == []


async def test_resting_limit_fills_when_the_price_crosses_it(okx: Any, control: httpx.AsyncClient) -> None:
    bid = Decimal(str((await okx.fetch_ticker(BTC))["bid"]))
    limit = (bid * Decimal("0.998")).quantize(Decimal("0.1"))
    order = await okx.create_order(BTC, "limit", "buy", 1, float(limit))
    assert (await okx.fetch_order(order["id"], BTC))["status"] == "open"
    moved = await control.post("/_sim/price", json={"symbol": "BTC", "price": str(limit * Decimal("0.99"))})
    moved.raise_for_status()
    filled = await okx.fetch_order(order["id"], BTC)
    assert filled["status"] == "closed"
    assert Decimal(str(filled["average"])) == limit
    trades = await okx.fetch_my_trades(BTC)
    assert [t["takerOrMaker"] for t in trades] == ["maker"]
    assert position_qty(await okx_state(control)) == CT_VAL


async def test_reduce_only_sell_closes_the_long_and_is_refused_when_flat(okx: Any, control: httpx.AsyncClient) -> None:
    await okx.create_order(BTC, "market", "buy", 2)
    await okx.create_order(BTC, "market", "sell", 2, None, {"reduceOnly": True})
    assert position_qty(await okx_state(control)) == 0
    with pytest.raises(ccxt.InvalidOrder, match="51205"):
        await okx.create_order(BTC, "market", "sell", 1, None, {"reduceOnly": True})


async def test_positions_report_signed_net_contracts(okx: Any) -> None:
    await okx.create_order("ETH/USDT:USDT", "market", "sell", 4)
    positions = await okx.fetch_positions()
    assert len(positions) == 1
    position = positions[0]
    assert position["symbol"] == "ETH/USDT:USDT"
    assert position["side"] == "short"
    assert position["contracts"] == pytest.approx(4)
    assert position["contractSize"] == pytest.approx(0.1)
    assert position["info"]["pos"] == "-4"
    assert position["entryPrice"] > 0


async def test_funding_rate_matches_the_engine(okx: Any, sim_server: Running) -> None:
    funding = await okx.fetch_funding_rate(BTC)
    state = sim_server.sim.engine.funding_state("okx", BTC_ID)
    assert Decimal(funding["info"]["fundingRate"]) == state.rate
    assert funding["fundingTimestamp"] == state.next_ms
    assert funding["interval"] == "8h"


async def test_my_trades_carry_contracts_price_and_fee(okx: Any) -> None:
    order = await okx.create_order("SOL/USDT:USDT", "market", "buy", 5)
    trades = await okx.fetch_my_trades("SOL/USDT:USDT")
    assert {t["order"] for t in trades} == {order["id"]}
    assert sum(t["amount"] for t in trades) == pytest.approx(5)
    assert all(t["fee"]["currency"] == "USDT" and t["fee"]["cost"] > 0 for t in trades)
    assert all(t["takerOrMaker"] == "taker" and t["side"] == "buy" for t in trades)


async def test_single_order_endpoint_works_too(sim_server: Running, control: httpx.AsyncClient) -> None:
    exchange = make_okx(sim_server.url)
    exchange.options["createOrder"] = "privatePostTradeOrder"
    try:
        order = await exchange.create_order(BTC, "market", "sell", 1)
        assert (await exchange.fetch_order(order["id"], BTC))["status"] == "closed"
    finally:
        await exchange.close()
    assert position_qty(await okx_state(control)) == -CT_VAL


async def test_demo_trading_header_is_accepted(sim_server: Running) -> None:
    exchange = make_okx(sim_server.url)
    exchange.set_sandbox_mode(True)  # swaps in urls["test"]: point that at the simulator as well
    exchange.urls["api"]["rest"] = sim_server.url + "/okx"
    try:
        balance = await exchange.fetch_balance()
    finally:
        await exchange.close()
    assert exchange.headers["x-simulated-trading"] == "1"
    assert balance["USDT"]["total"] == pytest.approx(float(START))


async def test_a_wrong_secret_is_an_authentication_error(sim_server: Running) -> None:
    exchange = make_okx(sim_server.url, secret="0" * 32)
    try:
        with pytest.raises(ccxt.AuthenticationError, match="50113"):
            await exchange.fetch_balance()
    finally:
        await exchange.close()


async def test_a_wrong_passphrase_is_an_authentication_error(sim_server: Running) -> None:
    exchange = make_okx(sim_server.url, password="not-the-passphrase")
    try:
        with pytest.raises(ccxt.AuthenticationError, match="50105"):
            await exchange.fetch_balance()
    finally:
        await exchange.close()


async def test_duplicate_client_order_id_is_refused(okx: Any) -> None:
    bid = (await okx.fetch_ticker(BTC))["bid"]
    await okx.create_order(BTC, "limit", "buy", 1, round(bid * 0.9, 1), {"clientOrderId": "dup1"})
    with pytest.raises(ccxt.InvalidOrder, match="51016"):
        await okx.create_order(BTC, "limit", "buy", 1, round(bid * 0.9, 1), {"clientOrderId": "dup1"})


async def test_insufficient_margin_is_insufficient_funds(okx: Any, control: httpx.AsyncClient) -> None:
    with pytest.raises(ccxt.InsufficientFunds, match="51008"):
        await okx.create_order(BTC, "market", "buy", 2000)
    assert position_qty(await okx_state(control)) == 0


async def test_post_only_that_would_take_comes_back_canceled(okx: Any) -> None:
    ask = (await okx.fetch_ticker(BTC))["ask"]
    order = await okx.create_order(BTC, "limit", "buy", 1, ask, {"postOnly": True})
    detail = await okx.fetch_order(order["id"], BTC)
    assert detail["status"] == "canceled"
    assert detail["postOnly"] is True
    assert detail["info"]["cancelSource"] == "31"
    assert detail["filled"] == 0
