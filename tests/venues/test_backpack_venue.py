"""BackpackVenue against mocked HTTP: quotes, orders, the 404-then-history path, reconciliation by clientId."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from hedgectl.domain.ids import uint32_client_id
from hedgectl.domain.types import Mode, OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from hedgectl.errors import (
    AmbiguousOrderState,
    AuthError,
    ConfigError,
    OrderNotFound,
    OrderRejected,
    SymbolNotListed,
    Unavailable,
)
from hedgectl.venues.backpack import BackpackVenue
from hedgectl.venues.base import Venue
from hedgectl.venues.config import VenueConfig

KEY = "zDIJj9qneWIY0IYZ5aXoHcNMCm+XDhVcTssiT0HyY0A="
SEED = "4odxgSUxFrC/zsKWZF4OQwYAgnNu9hnWH3NxWfLAPz4="
OTHER_SEED = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
BASE = "https://api.backpack.exchange"
CID = "hc0123456789abcdef"
UCID = uint32_client_id(CID)


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, tz=UTC)

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def make_config(**overrides: Any) -> VenueConfig:
    fields: dict[str, Any] = {
        "name": "backpack",
        "mode": Mode.LIVE,
        "base_url": BASE,
        "credentials": {"api_key": SecretStr(KEY), "api_secret": SecretStr(SEED)},
    }
    fields.update(overrides)
    return VenueConfig(**fields)


def market_wire(
    base: str, tick: str, step: str, *, kind: str = "PERP", interval: int | None = 3600000
) -> dict[str, Any]:
    symbol = f"{base}_USDC_PERP" if kind == "PERP" else f"{base}_USDC"
    return {
        "symbol": symbol,
        "baseSymbol": base,
        "quoteSymbol": "USDC",
        "marketType": kind,
        "filters": {
            "price": {"tickSize": tick, "minPrice": tick},
            "quantity": {"stepSize": step, "minQuantity": step, "maxQuantity": None},
        },
        "fundingInterval": interval,
        "orderBookState": "Open",
    }


MARKETS = [
    market_wire("SOL", "0.01", "0.01", kind="SPOT", interval=None),
    market_wire("SOL", "0.01", "0.01"),
    market_wire("BTC", "0.1", "0.00001"),
]


def order_wire(**overrides: Any) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "id": "111",
        "clientId": UCID,
        "symbol": "BTC_USDC_PERP",
        "side": "Bid",
        "orderType": "Limit",
        "price": "95000",
        "quantity": "0.01",
        "executedQuantity": "0",
        "executedQuoteQuantity": "0",
        "status": "New",
        "timeInForce": "GTC",
        "postOnly": False,
        "reduceOnly": None,
        "createdAt": 1753626206762,
    }
    wire.update(overrides)
    return wire


def fill_wire(**overrides: Any) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "tradeId": 1,
        "orderId": "111",
        "clientId": UCID,
        "symbol": "BTC_USDC_PERP",
        "side": "Bid",
        "price": "95000",
        "quantity": "0.01",
        "fee": "0.2375",
        "feeSymbol": "USDC",
        "isMaker": False,
        "timestamp": "2025-07-27T17:39:00.092",
    }
    wire.update(overrides)
    return wire


def not_found() -> httpx.Response:
    return httpx.Response(404, json={"code": "RESOURCE_NOT_FOUND", "message": "Order not found"})


def limit(side: Side = Side.BUY, **overrides: Any) -> OrderRequest:
    fields: dict[str, Any] = {
        "symbol": "BTC",
        "side": side,
        "type": OrderType.LIMIT,
        "qty": Decimal("0.01"),
        "price": Decimal(95000),
        "client_order_id": CID,
    }
    fields.update(overrides)
    return OrderRequest(**fields)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def venue(clock: FakeClock) -> AsyncIterator[BackpackVenue]:
    v = BackpackVenue(make_config(), clock=clock)
    yield v
    await v.close()


@pytest.fixture
def mock() -> Any:
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as router:
        yield router


def mock_markets(mock: respx.MockRouter) -> respx.Route:
    return mock.get(BASE + "/api/v1/markets").respond(200, json=MARKETS)


def mock_time(mock: respx.MockRouter) -> respx.Route:
    return mock.get(BASE + "/api/v1/time").respond(200, text=str(int(time.time() * 1000)))


def body(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


def params(route: respx.Route, index: int = -1) -> dict[str, str]:
    return dict(route.calls[index].request.url.params)


# --- construction -----------------------------------------------------------------------------------


def test_it_is_a_venue_and_its_repr_holds_no_secret() -> None:
    v = BackpackVenue(make_config())
    assert isinstance(v, Venue)
    assert v.name == "backpack"
    assert v.host == BASE
    assert SEED not in repr(v)


def test_testnet_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="no test environment"):
        BackpackVenue(make_config(mode=Mode.TESTNET))


def test_a_secret_that_does_not_derive_the_key_is_an_auth_error_without_the_secret() -> None:
    config = make_config(credentials={"api_key": SecretStr(KEY), "api_secret": SecretStr(OTHER_SEED)})
    with pytest.raises(AuthError, match="does not match") as info:
        BackpackVenue(config)
    assert OTHER_SEED not in str(info.value)
    assert KEY not in str(info.value)


@pytest.mark.parametrize(
    "credentials",
    [
        {"api_key": KEY, "api_secret": "not-base64!"},
        {"api_key": "c2hvcnQ=", "api_secret": SEED},
        {"api_key": KEY},
        {"api_secret": SEED},
    ],
)
def test_malformed_or_half_credentials_are_a_config_error(credentials: dict[str, str]) -> None:
    config = make_config(credentials={k: SecretStr(v) for k, v in credentials.items()})
    with pytest.raises(ConfigError) as info:
        BackpackVenue(config)
    assert SEED not in str(info.value)


async def test_without_credentials_public_data_still_works(mock: respx.MockRouter) -> None:
    v = BackpackVenue(make_config(credentials={}))
    mock_markets(mock)
    assert set(await v.load_markets()) == {"SOL", "BTC"}
    with pytest.raises(ConfigError, match="api_key"):
        await v.fetch_balances()
    await v.close()


# --- markets and prices -----------------------------------------------------------------------------


async def test_markets_are_perps_only_keyed_by_base(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    route = mock_markets(mock)
    markets = await venue.load_markets()
    assert params(route) == {"marketType": "PERP"}
    assert markets["BTC"].venue_symbol == "BTC_USDC_PERP"
    assert markets["BTC"].min_notional == 0
    assert markets["SOL"].venue_symbol == "SOL_USDC_PERP"
    await venue.load_markets()
    assert route.call_count == 1
    with pytest.raises(SymbolNotListed, match="DOGE"):
        await venue.market("DOGE")


async def test_markets_come_from_the_disk_cache_and_funding_interval_from_one_market(
    tmp_path: Path, clock: FakeClock, mock: respx.MockRouter
) -> None:
    first = BackpackVenue(make_config(cache_dir=tmp_path), clock=clock)
    markets_route = mock_markets(mock)
    await first.load_markets()
    await first.close()
    second = BackpackVenue(make_config(cache_dir=tmp_path), clock=clock)
    assert (await second.market("SOL")).tick_size == Decimal("0.01")
    assert markets_route.call_count == 1
    market_route = mock.get(BASE + "/api/v1/market").respond(
        200, json=market_wire("SOL", "0.01", "0.01", interval=28800000)
    )
    mock.get(BASE + "/api/v1/depth").respond(200, json={"bids": [["1", "1"]], "asks": [["2", "1"]]})
    mock.get(BASE + "/api/v1/ticker").respond(200, json={"lastPrice": "1.5"})
    mock.get(BASE + "/api/v1/markPrices").respond(200, json=[{"symbol": "SOL_USDC_PERP", "markPrice": "1.5"}])
    quote = await second.fetch_quote("SOL")
    assert quote.funding_interval == timedelta(hours=8)
    assert params(market_route) == {"symbol": "SOL_USDC_PERP"}
    await second.close()


async def test_a_market_listed_after_the_cache_was_written_is_found_by_one_reload(
    tmp_path: Path, clock: FakeClock, mock: respx.MockRouter
) -> None:
    first = BackpackVenue(make_config(cache_dir=tmp_path), clock=clock)
    mock.get(BASE + "/api/v1/markets").mock(
        side_effect=[
            httpx.Response(200, json=MARKETS),
            httpx.Response(200, json=[*MARKETS, market_wire("ETH", "0.01", "0.001")]),
        ]
    )
    await first.load_markets()
    await first.close()
    second = BackpackVenue(make_config(cache_dir=tmp_path), clock=clock)
    assert (await second.market("eth/usdc")).venue_symbol == "ETH_USDC_PERP"
    with pytest.raises(SymbolNotListed, match=r"no perpetual for DOGE \(looked for DOGE_USDC_PERP\)"):
        await second.market("DOGE")
    await second.close()


async def test_quote_takes_best_bid_ask_from_an_ascending_depth_and_mark_funding(
    venue: BackpackVenue, mock: respx.MockRouter
) -> None:
    mock_markets(mock)
    depth = mock.get(BASE + "/api/v1/depth").respond(
        200,
        json={
            "bids": [["94990.0", "1"], ["94995.5", "0.3"], ["95000.0", "0.2"]],
            "asks": [["95000.1", "0.1"], ["95003.0", "2"]],
            "lastUpdateId": "9",
            "timestamp": 1753131712992123,
        },
    )
    ticker = mock.get(BASE + "/api/v1/ticker").respond(200, json={"symbol": "BTC_USDC_PERP", "lastPrice": "95000.05"})
    marks = mock.get(BASE + "/api/v1/markPrices").respond(
        200,
        json=[
            {
                "symbol": "BTC_USDC_PERP",
                "markPrice": "95001.2",
                "indexPrice": "95000",
                "fundingRate": "0.0000125",
                "nextFundingTimestamp": 1753113600000,
            }
        ],
    )
    quote = await venue.fetch_quote("BTC")
    assert (quote.bid, quote.ask) == (Decimal("95000.0"), Decimal("95000.1"))
    assert quote.last == Decimal("95000.05")
    assert quote.mark == Decimal("95001.2")
    assert quote.funding_rate == Decimal("0.0000125")
    assert quote.next_funding_at == datetime(2025, 7, 21, 16, 0, tzinfo=UTC)
    assert quote.funding_interval == timedelta(hours=1)
    assert params(depth) == {"limit": "5", "symbol": "BTC_USDC_PERP"}
    assert params(ticker) == {"symbol": "BTC_USDC_PERP"}
    assert params(marks) == {"symbol": "BTC_USDC_PERP"}


async def test_book_levels_are_best_first_and_cut_to_depth(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock_markets(mock)
    route = mock.get(BASE + "/api/v1/depth").respond(
        200,
        json={"bids": [[str(100 + i), "1"] for i in range(8)], "asks": [[str(200 + i), "1"] for i in range(8)]},
    )
    book = await venue.fetch_book("SOL", depth=3)
    assert [lv.price for lv in book.bids] == [Decimal(107), Decimal(106), Decimal(105)]
    assert [lv.price for lv in book.asks] == [Decimal(200), Decimal(201), Decimal(202)]
    assert params(route)["limit"] == "5"


async def test_server_time(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock.get(BASE + "/api/v1/time").respond(200, text="1753131712992")
    assert await venue.fetch_server_time() == datetime(2025, 7, 21, 21, 1, 52, 992000, tzinfo=UTC)


# --- placing orders ---------------------------------------------------------------------------------


async def test_limit_post_only_reduce_only_order_is_sent_with_a_uint32_client_id(
    venue: BackpackVenue, mock: respx.MockRouter
) -> None:
    mock_markets(mock)
    mock_time(mock)
    route = mock.post(BASE + "/api/v1/order").respond(200, json=order_wire(side="Ask", postOnly=True, reduceOnly=True))
    order = await venue.place_order(
        limit(Side.SELL, reduce_only=True, time_in_force=TimeInForce.POST_ONLY, qty=Decimal("0.0100"))
    )
    assert body(route) == {
        "clientId": UCID,
        "orderType": "Limit",
        "postOnly": True,
        "price": "95000",
        "quantity": "0.01",
        "reduceOnly": True,
        "side": "Ask",
        "symbol": "BTC_USDC_PERP",
    }
    assert order.client_order_id == CID
    assert order.status is OrderStatus.NEW
    assert order.side is Side.SELL
    assert order.reduce_only is True


async def test_market_order_filled_in_the_reply(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock_markets(mock)
    mock_time(mock)
    route = mock.post(BASE + "/api/v1/order").respond(
        200,
        json=order_wire(
            orderType="Market", price=None, status="Filled", executedQuantity="0.01", executedQuoteQuantity="950.5"
        ),
    )
    order = await venue.place_order(limit(type=OrderType.MARKET, price=None))
    assert "price" not in body(route)
    assert order.status is OrderStatus.FILLED
    assert order.avg_price == Decimal("95050")


async def test_post_only_that_would_take_is_an_expired_order_not_an_error(
    venue: BackpackVenue, mock: respx.MockRouter
) -> None:
    mock_markets(mock)
    mock_time(mock)
    mock.post(BASE + "/api/v1/order").respond(200, json=order_wire(status="Expired", expiryReason="PostOnlyTaker"))
    order = await venue.place_order(limit(time_in_force=TimeInForce.POST_ONLY))
    assert order.status is OrderStatus.EXPIRED
    assert order.filled_qty == 0


@pytest.mark.parametrize(
    ("request_", "match"),
    [
        (limit(qty=Decimal("0.000015")), "step"),
        (limit(price=Decimal("95000.05")), "tick"),
        (limit(price=None), "price"),
        (limit(type=OrderType.MARKET, price=None, time_in_force=TimeInForce.POST_ONLY), "post-only"),
        (limit(client_order_id="has-dash"), "client order id"),
    ],
)
async def test_an_order_the_rules_refuse_is_rejected_before_sending(
    venue: BackpackVenue, mock: respx.MockRouter, request_: OrderRequest, match: str
) -> None:
    mock_markets(mock)
    with pytest.raises(OrderRejected, match=match):
        await venue.place_order(request_)


async def test_a_venue_rejection_is_raised_and_not_retried(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock_markets(mock)
    mock_time(mock)
    route = mock.post(BASE + "/api/v1/order").respond(
        400, json={"code": "INVALID_PRICE", "message": "Price is too far from the last active price"}
    )
    with pytest.raises(OrderRejected, match="too far") as info:
        await venue.place_order(limit())
    assert info.value.code == "INVALID_PRICE"
    assert route.call_count == 1


async def test_accept_then_timeout_is_reconciled_by_client_id(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock_markets(mock)
    mock_time(mock)
    post = mock.post(BASE + "/api/v1/order").mock(side_effect=httpx.ReadTimeout("no reply"))
    lookup = mock.get(BASE + "/api/v1/order").respond(200, json=order_wire())
    order = await venue.place_order(limit())
    assert post.call_count == 1
    assert params(lookup) == {"clientId": str(UCID), "symbol": "BTC_USDC_PERP"}
    assert order.order_id == "111"
    assert order.client_order_id == CID


async def test_a_dropped_connection_after_a_fill_is_reconciled_through_history_and_fills(
    venue: BackpackVenue, mock: respx.MockRouter
) -> None:
    mock_markets(mock)
    mock_time(mock)
    post = mock.post(BASE + "/api/v1/order").mock(side_effect=httpx.RemoteProtocolError("disconnected"))
    mock.get(BASE + "/api/v1/order").mock(return_value=not_found())
    history = mock.get(BASE + "/wapi/v1/history/orders").respond(
        200,
        json=[
            order_wire(id="99", clientId=7, status="Cancelled", createdAt="2025-07-27T18:00:00"),
            order_wire(
                status="Filled",
                executedQuantity="0.01",
                executedQuoteQuantity="950",
                createdAt="2025-07-27T18:05:40.897",
            ),
        ],
    )
    fills = mock.get(BASE + "/wapi/v1/history/fills").respond(
        200,
        json=[
            fill_wire(tradeId=1, quantity="0.004", price="94990", fee="0.1"),
            fill_wire(tradeId=2, quantity="0.006", price="95010", fee="0.15"),
        ],
    )
    order = await venue.place_order(limit())
    assert post.call_count == 1
    assert order.status is OrderStatus.FILLED
    assert order.avg_price == Decimal("95002")
    assert order.fee == Decimal("0.25")
    assert order.fee_asset == "USDC"
    assert params(history)["symbol"] == "BTC_USDC_PERP"
    assert params(fills) == {"fillType": "User", "marketType": "PERP", "orderId": "111", "symbol": "BTC_USDC_PERP"}


async def test_a_timeout_where_the_order_never_arrived_says_it_was_not_placed_after_the_window(
    venue: BackpackVenue, clock: FakeClock, mock: respx.MockRouter
) -> None:
    mock_markets(mock)
    mock_time(mock)
    post = mock.post(BASE + "/api/v1/order").mock(side_effect=httpx.ReadTimeout("no reply"))
    lookup = mock.get(BASE + "/api/v1/order").mock(return_value=not_found())
    mock.get(BASE + "/wapi/v1/history/orders").respond(200, json=[order_wire(id="5", clientId=12345)])
    start = clock.t
    with pytest.raises(Unavailable, match="was not placed"):
        await venue.place_order(limit())
    assert post.call_count == 1
    assert lookup.call_count >= 2
    assert clock.t - start > 5.0  # the 5 s signature window had passed before "absent" was believed


async def test_a_timeout_whose_lookups_fail_is_ambiguous(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock_markets(mock)
    mock_time(mock)
    post = mock.post(BASE + "/api/v1/order").mock(side_effect=httpx.ReadTimeout("no reply"))
    mock.get(BASE + "/api/v1/order").respond(503, text="<html>down</html>")
    with pytest.raises(AmbiguousOrderState, match="may or may not"):
        await venue.place_order(limit())
    assert post.call_count == 1


async def test_a_500_on_the_post_is_reconciled_not_resent(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock_markets(mock)
    mock_time(mock)
    post = mock.post(BASE + "/api/v1/order").respond(500, json={"code": "SERVER_ERROR", "message": "oops"})
    mock.get(BASE + "/api/v1/order").respond(200, json=order_wire())
    order = await venue.place_order(limit())
    assert order.status is OrderStatus.NEW
    assert post.call_count == 1


# --- looking orders up ------------------------------------------------------------------------------


async def test_a_resting_order_is_read_from_the_order_endpoint(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock_markets(mock)
    mock_time(mock)
    route = mock.get(BASE + "/api/v1/order").respond(200, json=order_wire())
    order = await venue.fetch_order("BTC", order_id="111")
    assert params(route) == {"orderId": "111", "symbol": "BTC_USDC_PERP"}
    assert order.status is OrderStatus.NEW


async def test_a_404_order_is_resolved_through_history_then_fills(
    venue: BackpackVenue, clock: FakeClock, mock: respx.MockRouter
) -> None:
    mock_markets(mock)
    mock_time(mock)
    mock.get(BASE + "/api/v1/order").mock(return_value=not_found())
    history = mock.get(BASE + "/wapi/v1/history/orders").mock(
        side_effect=[
            httpx.Response(200, json=[]),  # history lags the engine
            httpx.Response(
                200,
                json=[
                    order_wire(
                        status="Cancelled",
                        executedQuantity="0.004",
                        executedQuoteQuantity="380",
                        createdAt="2025-07-27T18:05:40",
                    )
                ],
            ),
        ]
    )
    mock.get(BASE + "/wapi/v1/history/fills").mock(
        side_effect=[
            httpx.Response(200, json=[]),  # fills lag too
            httpx.Response(200, json=[fill_wire(quantity="0.004", price="95000", fee="0.095", isMaker=True)]),
        ]
    )
    order = await venue.fetch_order("BTC", order_id="111")
    assert order.status is OrderStatus.CANCELED
    assert order.filled_qty == Decimal("0.004")
    assert order.avg_price == Decimal(95000)
    assert order.fee == Decimal("0.095")
    assert params(history) == {
        "marketType": "PERP",
        "orderId": "111",
        "sortDirection": "Desc",
        "symbol": "BTC_USDC_PERP",
    }
    assert len(clock.sleeps) == 2


async def test_fills_that_never_catch_up_leave_the_fee_unknown_not_wrong(
    venue: BackpackVenue, mock: respx.MockRouter
) -> None:
    mock_markets(mock)
    mock_time(mock)
    mock.get(BASE + "/api/v1/order").mock(return_value=not_found())
    mock.get(BASE + "/wapi/v1/history/orders").respond(
        200, json=[order_wire(status="Filled", executedQuantity="0.01", executedQuoteQuantity="951")]
    )
    mock.get(BASE + "/wapi/v1/history/fills").respond(200, json=[fill_wire(quantity="0.004")])
    order = await venue.fetch_order("BTC", order_id="111")
    assert order.status is OrderStatus.FILLED
    assert order.avg_price == Decimal(95100)
    assert order.fee is None


async def test_an_order_found_nowhere_is_order_not_found(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock_markets(mock)
    mock_time(mock)
    mock.get(BASE + "/api/v1/order").mock(return_value=not_found())
    history = mock.get(BASE + "/wapi/v1/history/orders").respond(200, json=[order_wire(id="5", clientId=1)])
    with pytest.raises(OrderNotFound):
        await venue.fetch_order("BTC", client_order_id=CID)
    assert history.call_count > 1


async def test_lookup_by_client_order_id_scans_history_by_client_id(
    venue: BackpackVenue, mock: respx.MockRouter
) -> None:
    mock_markets(mock)
    mock_time(mock)
    lookup = mock.get(BASE + "/api/v1/order").mock(return_value=not_found())
    history = mock.get(BASE + "/wapi/v1/history/orders").respond(
        200, json=[order_wire(id="5", clientId=1), order_wire(id="6", status="Expired")]
    )
    order = await venue.fetch_order("BTC", client_order_id=CID)
    assert order.order_id == "6"
    assert order.client_order_id == CID
    assert params(lookup) == {"clientId": str(UCID), "symbol": "BTC_USDC_PERP"}
    assert "orderId" not in params(history)


# --- cancelling -------------------------------------------------------------------------------------


async def test_cancel_returns_what_filled_before_the_cancel(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock_markets(mock)
    mock_time(mock)
    route = mock.delete(BASE + "/api/v1/order").respond(
        200, json=order_wire(status="Cancelled", executedQuantity="0.004", executedQuoteQuantity="380")
    )
    mock.get(BASE + "/wapi/v1/history/fills").respond(200, json=[fill_wire(quantity="0.004", fee="0.1")])
    order = await venue.cancel_order("BTC", order_id="111")
    assert body(route) == {"orderId": "111", "symbol": "BTC_USDC_PERP"}
    assert order.status is OrderStatus.CANCELED
    assert order.filled_qty == Decimal("0.004")
    assert order.fee == Decimal("0.1")


@pytest.mark.parametrize(
    "reply",
    [
        {"code": "RESOURCE_NOT_FOUND", "message": "Order not found"},
        {"code": "INVALID_ORDER", "message": "Order not found"},
    ],
)
async def test_cancelling_an_order_that_already_filled_returns_it_filled(
    venue: BackpackVenue, mock: respx.MockRouter, reply: dict[str, str]
) -> None:
    mock_markets(mock)
    mock_time(mock)
    route = mock.delete(BASE + "/api/v1/order").respond(
        404 if reply["code"] == "RESOURCE_NOT_FOUND" else 400, json=reply
    )
    mock.get(BASE + "/wapi/v1/history/orders").respond(
        200, json=[order_wire(status="Filled", executedQuantity="0.01", executedQuoteQuantity="950")]
    )
    mock.get(BASE + "/wapi/v1/history/fills").respond(200, json=[fill_wire()])
    order = await venue.cancel_order("BTC", client_order_id=CID)
    assert body(route) == {"clientId": UCID, "symbol": "BTC_USDC_PERP"}
    assert order.status is OrderStatus.FILLED
    assert order.filled_qty == Decimal("0.01")


async def test_a_cancel_without_reply_is_checked_before_anything_else(
    venue: BackpackVenue, mock: respx.MockRouter
) -> None:
    mock_markets(mock)
    mock_time(mock)
    delete = mock.delete(BASE + "/api/v1/order").mock(side_effect=httpx.ReadTimeout("no reply"))
    mock.get(BASE + "/api/v1/order").mock(return_value=not_found())
    mock.get(BASE + "/wapi/v1/history/orders").respond(200, json=[order_wire(status="Cancelled")])
    order = await venue.cancel_order("BTC", order_id="111")
    assert order.status is OrderStatus.CANCELED
    assert delete.call_count == 1


async def test_a_queued_cancel_is_followed_until_final(
    venue: BackpackVenue, clock: FakeClock, mock: respx.MockRouter
) -> None:
    mock_markets(mock)
    mock_time(mock)
    mock.delete(BASE + "/api/v1/order").respond(202, json=order_wire(status="New"))
    mock.get(BASE + "/api/v1/order").mock(side_effect=[httpx.Response(200, json=order_wire()), not_found()])
    mock.get(BASE + "/wapi/v1/history/orders").respond(200, json=[order_wire(status="Cancelled")])
    order = await venue.cancel_order("BTC", order_id="111")
    assert order.status is OrderStatus.CANCELED
    assert clock.sleeps


async def test_open_orders_and_cancel_all(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock_markets(mock)
    mock_time(mock)
    listing = mock.get(BASE + "/api/v1/orders").respond(
        200, json=[order_wire(), order_wire(id="7", symbol="SOL_USDC", clientId=None)]
    )
    cancel_all = mock.delete(BASE + "/api/v1/orders").respond(200, json=[order_wire(status="Cancelled")])
    orders = await venue.fetch_open_orders()
    assert [(o.order_id, o.symbol) for o in orders] == [("111", "BTC")]
    assert params(listing) == {"marketType": "PERP"}
    cancelled = await venue.cancel_all_orders()
    assert body(cancel_all) == {"symbol": "BTC_USDC_PERP"}
    assert [o.status for o in cancelled] == [OrderStatus.CANCELED]


# --- account ----------------------------------------------------------------------------------------


async def test_positions_are_signed_non_zero_and_canonical(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock_markets(mock)
    mock_time(mock)
    mock.get(BASE + "/api/v1/position").respond(
        200,
        json=[
            {
                "symbol": "BTC_USDC_PERP",
                "netQuantity": "-0.02",
                "netExposureQuantity": "0.05",
                "entryPrice": "95000",
                "markPrice": "95100",
                "pnlUnrealized": "-2",
            },
            {"symbol": "SOL_USDC_PERP", "netQuantity": "0", "entryPrice": "0"},
        ],
    )
    [position] = await venue.fetch_positions()
    assert (position.symbol, position.qty, position.entry_price) == ("BTC", Decimal("-0.02"), Decimal(95000))
    assert await venue.fetch_positions("btc/usdc") == [position]  # any form of the symbol the others accept


async def test_balances_come_from_collateral(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock_time(mock)
    mock.get(BASE + "/api/v1/capital/collateral").respond(
        200,
        json={
            "netEquity": "1000",
            "collateral": [{"symbol": "USDC", "totalQuantity": "1000", "availableQuantity": "900"}],
        },
    )
    [usdc] = await venue.fetch_balances()
    assert (usdc.asset, usdc.total, usdc.free, usdc.used) == ("USDC", Decimal(1000), Decimal(900), Decimal(100))


async def test_fills_are_ours_oldest_first(venue: BackpackVenue, mock: respx.MockRouter) -> None:
    mock_markets(mock)
    mock_time(mock)
    route = mock.get(BASE + "/wapi/v1/history/fills").respond(
        200,
        json=[
            fill_wire(tradeId=3, timestamp="2025-07-27T17:40:00"),
            fill_wire(tradeId=2, timestamp="2025-07-27T17:39:00"),
        ],
    )
    since = datetime(2025, 7, 27, tzinfo=UTC)
    fills = await venue.fetch_fills("BTC", since=since)
    assert [f.trade_id for f in fills] == ["2", "3"]
    assert fills[0].client_order_id == str(UCID)  # a fresh process has not seen CID
    assert params(route) == {
        "fillType": "User",
        "from": str(int(since.timestamp() * 1000)),
        "limit": "1000",
        "marketType": "PERP",
        "symbol": "BTC_USDC_PERP",
    }
