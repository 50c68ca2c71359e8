"""ccxt's unchanged `backpack` client against the simulator's /backpack dialect (reference §6.7)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt
import httpx
import pytest

from hedgectl.sim import credentials
from hedgectl.sim.dialects.backpack_auth import public_key_of
from hedgectl.sim.server import Running
from tests.sim.helpers import LOOPBACK_CCXT

BTC = "BTC/USDC:USDC"
BTC_ID = "BTC_USDC_PERP"
START = Decimal("10000")


def make_backpack(url: str, **overrides: Any) -> Any:
    exchange = ccxt.backpack(
        {
            **LOOPBACK_CCXT,
            "apiKey": credentials.BACKPACK_API_KEY,
            "secret": credentials.BACKPACK_API_SECRET,
            **overrides,
        }
    )
    exchange.urls["api"]["public"] = url + "/backpack"
    exchange.urls["api"]["private"] = url + "/backpack"
    return exchange


@pytest.fixture
async def backpack(sim_server: Running) -> AsyncIterator[Any]:
    exchange = make_backpack(sim_server.url)
    try:
        await exchange.load_markets(False, {"marketType": "swap"})
        yield exchange
    finally:
        await exchange.close()


async def backpack_state(control: httpx.AsyncClient) -> dict[str, Any]:
    response = await control.get("/_sim/state")
    response.raise_for_status()
    venue: dict[str, Any] = response.json()["venues"]["backpack"]
    return venue


def position_qty(state: dict[str, Any], symbol: str = BTC_ID) -> Decimal:
    return sum((Decimal(p["qty"]) for p in state["positions"] if p["symbol"] == symbol), Decimal(0))


async def far_bid(backpack: Any) -> float:
    book = await backpack.fetch_order_book(BTC, 5)
    return float(round(Decimal(str(book["bids"][0][0])) * Decimal("0.9"), 1))


async def test_load_markets_lists_usdc_perps_with_hourly_funding(backpack: Any) -> None:
    market = backpack.market(BTC)
    assert (market["id"], market["swap"], market["linear"], market["active"]) == (BTC_ID, True, True, True)
    assert (market["settle"], market["contractSize"]) == ("USDC", 1)
    assert market["precision"]["amount"] == pytest.approx(0.0001)
    assert market["precision"]["price"] == pytest.approx(0.1)
    assert market["info"]["fundingInterval"] == "3600000"  # a string on the real venue
    assert {"ETH/USDC:USDC", "SOL/USDC:USDC", "ASTER/USDC:USDC"} <= set(backpack.markets)


async def test_default_load_markets_with_currencies_and_securities_succeeds(sim_server: Running) -> None:
    exchange = make_backpack(sim_server.url)
    try:
        markets = await exchange.load_markets()
    finally:
        await exchange.close()
    assert BTC in markets
    assert {"BTC", "USDC"} <= set(exchange.currencies)


async def test_ticker_has_24h_stats_but_no_bid_ask(backpack: Any, sim_server: Running) -> None:
    ticker = await backpack.fetch_ticker(BTC)
    assert (ticker["bid"], ticker["ask"]) == (None, None)
    assert Decimal(str(ticker["last"])) == sim_server.sim.engine.mark_price("backpack", BTC_ID)
    assert ticker["baseVolume"] > 0


async def test_order_book_is_sorted_best_first_with_a_nonce(backpack: Any, sim_server: Running) -> None:
    book = await backpack.fetch_order_book(BTC, 5)
    engine_book = sim_server.sim.engine.book("backpack", BTC_ID)
    assert [Decimal(str(px)) for px, *_ in book["bids"]] == [level.price for level in engine_book.bids[:5]]
    assert [Decimal(str(px)) for px, *_ in book["asks"]] == [level.price for level in engine_book.asks[:5]]
    assert isinstance(book["nonce"], int)
    assert book["timestamp"] is not None


async def test_balance_starts_at_ten_thousand_usdc(backpack: Any) -> None:
    balance = await backpack.fetch_balance()
    assert balance["USDC"]["free"] == pytest.approx(float(START))
    assert balance["USDC"]["used"] == pytest.approx(0)


async def test_market_buy_opens_a_long_and_charges_the_taker_fee(backpack: Any, control: httpx.AsyncClient) -> None:
    order = await backpack.create_order(BTC, "market", "buy", 0.02)
    assert (order["status"], order["filled"]) == ("closed", pytest.approx(0.02))
    state = await backpack_state(control)
    assert position_qty(state) == Decimal("0.02")
    trades = await backpack.fetch_my_trades(BTC)
    fee = sum(Decimal(t["info"]["fee"]) for t in trades)
    cost = sum(Decimal(t["info"]["price"]) * Decimal(t["info"]["quantity"]) for t in trades)
    assert fee == cost * Decimal("0.0005")
    assert Decimal(state["balances"]["USDC"]) == START - fee
    assert all(t["takerOrMaker"] == "taker" and t["order"] == order["id"] for t in trades)


async def test_limit_with_client_id_rests_then_cancels_and_history_knows_it(
    backpack: Any, control: httpx.AsyncClient
) -> None:
    order = await backpack.create_order(BTC, "limit", "buy", 0.01, await far_bid(backpack), {"clientOrderId": 4242})
    assert (order["status"], order["clientOrderId"]) == ("open", "4242")
    listed = await backpack.fetch_open_orders(BTC)
    assert [(o["id"], o["clientOrderId"]) for o in listed] == [(order["id"], "4242")]
    assert (await backpack.fetch_order(order["id"], BTC))["status"] == "open"
    cancelled = await backpack.cancel_order(order["id"], BTC)
    assert cancelled["status"] == "canceled"
    assert await backpack.fetch_open_orders(BTC) == []
    # Gone from the book: ccxt finds the final state in /wapi/v1/history/orders.
    assert (await backpack.fetch_order(order["id"], BTC))["status"] == "canceled"
    assert (await backpack_state(control))["open_orders"] == []


async def test_resting_limit_fills_when_the_price_crosses_it(backpack: Any, control: httpx.AsyncClient) -> None:
    book = await backpack.fetch_order_book(BTC, 5)
    limit = (Decimal(str(book["bids"][0][0])) * Decimal("0.998")).quantize(Decimal("0.1"))
    order = await backpack.create_order(BTC, "limit", "buy", 0.01, float(limit))
    response = await control.post("/_sim/price", json={"symbol": "BTC", "price": str(limit * Decimal("0.99"))})
    response.raise_for_status()
    filled = await backpack.fetch_order(order["id"], BTC)
    assert (filled["status"], filled["filled"]) == ("closed", pytest.approx(0.01))
    trades = await backpack.fetch_my_trades(BTC)
    assert [(t["takerOrMaker"], Decimal(str(t["price"]))) for t in trades] == [("maker", limit)]
    assert position_qty(await backpack_state(control)) == Decimal("0.01")


async def test_reduce_only_sell_closes_the_long_and_is_refused_when_flat(
    backpack: Any, control: httpx.AsyncClient
) -> None:
    await backpack.create_order(BTC, "market", "buy", 0.01)
    closing = await backpack.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})
    assert closing["reduceOnly"] is True
    assert position_qty(await backpack_state(control)) == 0
    with pytest.raises(ccxt.InvalidOrder, match="INVALID_ORDER"):
        await backpack.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})


async def test_positions_carry_signed_quantity_and_side(backpack: Any) -> None:
    await backpack.create_order("SOL/USDC:USDC", "market", "sell", 3)
    positions = await backpack.fetch_positions()
    assert len(positions) == 1
    position = positions[0]
    assert (position["symbol"], position["side"]) == ("SOL/USDC:USDC", "short")
    assert Decimal(str(position["contracts"])) == 3
    assert position["info"]["netQuantity"] == "-3"
    assert Decimal(position["info"]["netCost"]) < 0


async def test_funding_rate_matches_the_engine(backpack: Any, sim_server: Running) -> None:
    funding = await backpack.fetch_funding_rate(BTC)
    state = sim_server.sim.engine.funding_state("backpack", BTC_ID)
    assert Decimal(funding["info"]["fundingRate"]) == state.rate
    assert funding["nextFundingTimestamp"] == state.next_ms
    assert funding["interval"] == "1h"


async def test_post_only_that_would_take_expires(backpack: Any) -> None:
    book = await backpack.fetch_order_book(BTC, 5)
    order = await backpack.create_order(BTC, "limit", "buy", 0.01, book["asks"][0][0], {"postOnly": True})
    assert (order["status"], order["filled"]) == ("canceled", 0)
    assert order["info"]["status"] == "Expired"
    assert order["info"]["expiryReason"] == "PostOnlyTaker"


async def test_a_wrong_secret_is_an_authentication_error(sim_server: Running) -> None:
    other_seed = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    exchange = make_backpack(sim_server.url, secret=other_seed)
    try:
        with pytest.raises(ccxt.AuthenticationError, match="INVALID_SIGNATURE"):
            await exchange.fetch_balance()
    finally:
        await exchange.close()


async def test_an_unknown_key_is_unauthorized(sim_server: Running) -> None:
    other_seed = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    exchange = make_backpack(sim_server.url, secret=other_seed, apiKey=public_key_of(other_seed))
    try:
        with pytest.raises(ccxt.AuthenticationError, match="UNAUTHORIZED"):
            await exchange.fetch_positions()
    finally:
        await exchange.close()


async def test_duplicate_client_id_is_refused(backpack: Any) -> None:
    price = await far_bid(backpack)
    await backpack.create_order(BTC, "limit", "buy", 0.01, price, {"clientOrderId": 77})
    with pytest.raises(ccxt.InvalidOrder, match="INVALID_ORDER"):
        await backpack.create_order(BTC, "limit", "buy", 0.01, price, {"clientOrderId": 77})


async def test_insufficient_margin_is_insufficient_funds(backpack: Any, control: httpx.AsyncClient) -> None:
    with pytest.raises(ccxt.InsufficientFunds, match="INSUFFICIENT_MARGIN"):
        await backpack.create_order(BTC, "market", "buy", 5)
    assert position_qty(await backpack_state(control)) == 0


async def test_cancel_all_orders_cancels_the_symbols_resting_orders(backpack: Any, sim_server: Running) -> None:
    price = await far_bid(backpack)
    for client_id in (1, 2):
        await backpack.create_order(BTC, "limit", "buy", 0.01, price, {"clientOrderId": client_id})
    cancelled = await backpack.cancel_all_orders(BTC)
    assert sorted(o["clientOrderId"] for o in cancelled) == ["1", "2"]
    assert sim_server.sim.engine.open_orders("backpack") == []
