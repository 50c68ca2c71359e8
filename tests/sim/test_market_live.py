"""The `live` market source, its public-data client pointed at a second simulator standing in for the venues.

The stand-in (`sim_server`, frozen, seed 7) is what "the real venues" answer: its books, its public trades (its
own fills) and its funding rates. The paper simulator under test reads them over the venues' real public REST
routes, exactly as it would read fapi.binance.com, www.okx.com, api.backpack.exchange and fapi.asterdex.com.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from hedgectl.errors import ConfigError
from hedgectl.sim.core import Simulator
from hedgectl.sim.market_source import MarketSpec
from hedgectl.sim.model import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from hedgectl.sim.server import Running, start

from .helpers import eventually

D = Decimal
VENUES = ("binance", "okx", "backpack", "aster")


@pytest.fixture
async def paper(sim_server: Running) -> AsyncIterator[Running]:
    spec = MarketSpec("live", venues=VENUES, symbols=("ASTER", "BTC"), live_url=sim_server.url, poll_ms=50)
    running = await start(Simulator(0, frozen=True, market=spec), "127.0.0.1", 0)
    try:
        yield running
    finally:
        await running.stop()


async def test_paper_books_are_the_stand_in_venues_books(sim_server: Running, paper: Running) -> None:
    real, ours = sim_server.sim.engine, paper.sim.engine
    for venue in VENUES:
        for symbol, inst in ours.instruments[venue].items():
            theirs = real.book(venue, symbol)
            mine = ours.book(venue, symbol)
            # OKX quotes contracts: the client converted them back to base units with the listed face value.
            assert [(lv.price, lv.qty) for lv in mine.bids] == [(lv.price, lv.qty) for lv in theirs.bids[:20]], inst
            assert [(lv.price, lv.qty) for lv in mine.asks] == [(lv.price, lv.qty) for lv in theirs.asks[:20]], inst
    assert sorted(ours.instruments["okx"]) == ["ASTER-USDT-SWAP", "BTC-USDT-SWAP"]  # only what was asked for


async def test_a_resting_order_fills_when_a_trade_on_the_venue_goes_through_it(
    sim_server: Running, paper: Running
) -> None:
    real, ours = sim_server.sim.engine, paper.sim.engine
    best = real.book("aster", "ASTERUSDT").bids[0]
    mine = ours.place_order(
        "aster", OrderRequest("ASTERUSDT", Side.BUY, OrderType.LIMIT, D(10), best.price, TimeInForce.POST_ONLY)
    )
    assert mine.status is OrderStatus.NEW
    # Someone sells on the venue: the whole best bid, then 30 more one level down.
    taken = real.place_order("aster", OrderRequest("ASTERUSDT", Side.SELL, OrderType.MARKET, best.qty + 30))
    assert taken.filled_qty == best.qty + 30

    await eventually(lambda: ours.get_order("aster", order_id=mine.order_id).status is OrderStatus.FILLED, timeout=10)
    fills = ours.fills("aster", order_id=mine.order_id)
    assert sum(f.qty for f in fills) == 10
    assert {(f.price, f.maker) for f in fills} == {(best.price, True)}
    assert ours.fills("binance") == []  # nothing traded elsewhere


async def test_trades_at_the_price_first_eat_the_queue_ahead(sim_server: Running, paper: Running) -> None:
    real, ours = sim_server.sim.engine, paper.sim.engine
    symbol = "ASTER_USDC_PERP"
    best = real.book("backpack", symbol).bids[0]
    mine = ours.place_order(
        "backpack", OrderRequest(symbol, Side.BUY, OrderType.LIMIT, D(10), best.price, TimeInForce.POST_ONLY)
    )
    half = (best.qty / 2).quantize(D("0.1"))
    # Half the displayed bid trades (the queue ahead of the order shrinks), then the rest of it and 5 one level
    # down: only those 5, through the order's price, reach it. Without a queue it would have filled 10 at once.
    real.place_order("backpack", OrderRequest(symbol, Side.SELL, OrderType.MARKET, half))
    real.place_order("backpack", OrderRequest(symbol, Side.SELL, OrderType.MARKET, best.qty - half + 5))
    await eventually(lambda: ours.get_order("backpack", order_id=mine.order_id).filled_qty > 0, timeout=10)
    order = ours.get_order("backpack", order_id=mine.order_id)
    assert order.filled_qty == 5
    assert order.status is OrderStatus.PARTIALLY_FILLED


async def test_funding_rates_follow_the_venue(sim_server: Running, paper: Running) -> None:
    sim_server.sim.engine.set_funding("okx", "ASTER-USDT-SWAP", D("0.00123"), None)
    await eventually(lambda: paper.sim.engine.funding_state("okx", "ASTER-USDT-SWAP").rate == D("0.00123"), timeout=10)


async def test_the_control_api_says_which_market_runs(paper: Running) -> None:
    async with httpx.AsyncClient(base_url=paper.url, timeout=5) as http:
        body = (await http.get("/_sim/market")).json()
        refused = await http.post("/_sim/price", json={"symbol": "ASTER", "price": "2"})
    assert body["source"] == "live"
    assert "aster:ASTER" in body["pairs"]
    assert refused.status_code == 400


async def test_live_with_no_venue_answering_refuses_to_start() -> None:
    spec = MarketSpec("live", venues=("aster",), symbols=("ASTER",), live_url="http://127.0.0.1:9")
    with pytest.raises(ConfigError, match="no venue answered"):
        await start(Simulator(0, frozen=True, market=spec), "127.0.0.1", 0)
