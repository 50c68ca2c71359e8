"""BinanceVenue over respx: the exact requests sent, what comes back of each reply, funding history paging."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from hedgectl.clock import ms_from_utc
from hedgectl.domain.types import Mode, OrderRequest, OrderStatus, OrderType, PositionMode, Side, TimeInForce
from hedgectl.errors import AmbiguousOrderState, ConfigError, OrderNotFound, OrderRejected, Unavailable
from hedgectl.venues.base import AccountConfigured, Venue
from hedgectl.venues.binance import BinanceVenue
from hedgectl.venues.binance_family.venue import INCOME_PAGE
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit import rate_limit
from tests.waiting import FakeClock

BASE = "https://fapi.binance.com"
API_KEY = "binance-test-key-0123456789"
API_SECRET = "binance-test-secret-9876543210"
CID = "hc0123456789abcdef0123456789abcd"
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _market_row(symbol: str, base: str) -> dict[str, Any]:
    return {
        "symbol": symbol, "contractType": "PERPETUAL", "status": "TRADING", "baseAsset": base, "quoteAsset": "USDT",
        "marginAsset": "USDT",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.1", "maxPrice": "1000000", "tickSize": "0.1"},
            {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.001", "maxQty": "120", "stepSize": "0.001"},
            {"filterType": "MIN_NOTIONAL", "notional": "100"},
        ],
    }  # fmt: skip


EXCHANGE_INFO = {"symbols": [_market_row("BTCUSDT", "BTC"), _market_row("ETHUSDT", "ETH")]}
LIMIT = OrderRequest(
    "BTC", Side.BUY, OrderType.LIMIT, Decimal("0.010"), CID, price=Decimal("95000"), time_in_force=TimeInForce.GTC
)


def _order(status: str = "NEW", **over: Any) -> dict[str, Any]:
    wire = {
        "orderId": 1001, "symbol": "BTCUSDT", "status": status, "clientOrderId": CID, "price": "95000",
        "avgPrice": "0.00000", "origQty": "0.010", "executedQty": "0", "type": "LIMIT", "reduceOnly": False,
        "side": "BUY", "positionSide": "BOTH", "time": 1_764_547_200_000, "updateTime": 1_764_547_200_000,
    }  # fmt: skip
    wire.update(over)
    return wire


def now_ms() -> int:
    return int(time.time() * 1000)


def _config(**creds: str) -> VenueConfig:
    secrets = {k: SecretStr(v) for k, v in (creds or {"api_key": API_KEY, "api_secret": API_SECRET}).items()}
    return VenueConfig(name="binance", mode=Mode.LIVE, base_url=BASE, credentials=secrets, timeout_s=3.0)


async def _no_sleep(_: float) -> None:
    return None


def _venue(**creds: str) -> BinanceVenue:
    return BinanceVenue(_config(**creds), sleep=_no_sleep, reconcile_delays_s=(0.0, 0.0, 0.0))


def sent(request: httpx.Request) -> list[tuple[str, str]]:
    """The params of a request as sent (query, or form body), signature checked and removed."""
    raw = request.content.decode() if request.content else request.url.query.decode()
    payload, _, signature = raw.rpartition("&signature=")
    assert hmac.new(API_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest() == signature
    assert request.headers["X-MBX-APIKEY"] == API_KEY
    return parse_qsl(payload)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=True, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
async def venue(mock: respx.MockRouter) -> AsyncIterator[BinanceVenue]:
    """Markets and clock mocked (both must be used), one-way mode."""
    mock.get("/fapi/v1/exchangeInfo").respond(json=EXCHANGE_INFO)
    mock.get("/fapi/v1/time").mock(
        side_effect=lambda _: httpx.Response(200, json={"serverTime": int(time.time() * 1000)})
    )
    adapter = _venue()
    try:
        yield adapter
    finally:
        await adapter.close()


def test_the_adapter_is_a_venue_with_account_configuration() -> None:
    adapter = _venue()
    assert isinstance(adapter, Venue)
    assert isinstance(adapter, AccountConfigured)
    assert API_KEY not in repr(adapter)
    assert API_SECRET not in repr(adapter) + repr(adapter._client)


# ---- orders ---------------------------------------------------------------------------------------------


async def test_an_order_is_signed_timestamp_first_in_a_form_body_and_sent_once(
    mock: respx.MockRouter, venue: BinanceVenue
) -> None:
    dual = mock.get("/fapi/v1/positionSide/dual").respond(json={"dualSidePosition": False})
    post = mock.post("/fapi/v1/order").respond(json=_order())
    order = await venue.place_order(LIMIT)
    assert (order.status, order.client_order_id, order.price) == (OrderStatus.NEW, CID, Decimal(95000))
    params = sent(post.calls[0].request)
    assert params[0][0] == "timestamp"
    assert params[-1] == ("recvWindow", "5000")
    assert dict(params[1:-1]) == {
        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01",
        "price": "95000", "newClientOrderId": CID, "newOrderRespType": "RESULT",
    }  # fmt: skip
    assert post.calls[0].request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert (post.call_count, dual.call_count) == (1, 1)


async def test_a_stale_position_mode_refusal_makes_the_next_order_read_the_mode_again(
    mock: respx.MockRouter, venue: BinanceVenue
) -> None:
    dual = mock.get("/fapi/v1/positionSide/dual")
    dual.side_effect = [
        httpx.Response(200, json={"dualSidePosition": False}),
        httpx.Response(200, json={"dualSidePosition": True}),
    ]
    post = mock.post("/fapi/v1/order")
    post.side_effect = [
        httpx.Response(400, json={"code": -4061, "msg": "Order's position side does not match user's setting."}),
        httpx.Response(200, json=_order(positionSide="LONG")),
    ]
    with pytest.raises(OrderRejected, match="-4061"):
        await venue.place_order(LIMIT)
    await venue.place_order(LIMIT)
    assert dual.call_count == 2
    assert ("positionSide", "LONG") in sent(post.calls[1].request)
    assert "reduceOnly" not in dict(sent(post.calls[1].request))


async def test_a_post_whose_reply_is_lost_is_found_by_client_id_and_never_resent(
    mock: respx.MockRouter, venue: BinanceVenue
) -> None:
    mock.get("/fapi/v1/positionSide/dual").respond(json={"dualSidePosition": False})
    post = mock.post("/fapi/v1/order").mock(side_effect=httpx.ReadTimeout("lost"))
    lookup = mock.get("/fapi/v1/order")
    lookup.side_effect = [
        httpx.Response(400, json={"code": -2013, "msg": "Order does not exist."}),
        httpx.Response(200, json=_order()),
    ]
    order = await venue.place_order(LIMIT)
    assert order.client_order_id == CID
    assert (post.call_count, lookup.call_count) == (1, 2)
    assert ("origClientOrderId", CID) in sent(lookup.calls[0].request)


async def test_an_order_the_venue_never_saw_is_unavailable_and_one_it_cannot_find_is_ambiguous(
    mock: respx.MockRouter, venue: BinanceVenue
) -> None:
    mock.get("/fapi/v1/positionSide/dual").respond(json={"dualSidePosition": False})
    post = mock.post("/fapi/v1/order").respond(503, json={"code": -1007, "msg": "Timeout waiting for response"})
    lookup = mock.get("/fapi/v1/order").respond(400, json={"code": -2013, "msg": "Order does not exist."})
    with pytest.raises(Unavailable, match="not placed"):
        await venue.place_order(LIMIT)
    lookup.respond(502, text="bad gateway")
    with pytest.raises(AmbiguousOrderState, match=CID):
        await venue.place_order(LIMIT)
    assert post.call_count == 2  # one per order: neither was resent


async def test_without_keys_a_private_call_is_refused_before_anything_is_sent(mock: respx.MockRouter) -> None:
    adapter = _venue(api_key=API_KEY)
    with pytest.raises(ConfigError, match="no API credentials"):
        await adapter.fetch_balances()
    assert not mock.calls
    await adapter.close()


# ---- account ---------------------------------------------------------------------------------------------


async def test_account_config_reads_leverage_from_the_v2_position_risk(
    mock: respx.MockRouter, venue: BinanceVenue
) -> None:
    mock.get("/fapi/v1/positionSide/dual").respond(json={"dualSidePosition": "true"})
    v2 = mock.get("/fapi/v2/positionRisk").respond(
        json=[
            {"symbol": "BTCUSDT", "positionAmt": "0", "marginType": "isolated", "leverage": "7", "positionSide": "LONG"}
        ]
    )
    config = await venue.fetch_account_config("BTC")
    assert (config.position_mode, config.margin_mode, config.leverage) == (PositionMode.HEDGE, "isolated", Decimal(7))
    assert ("symbol", "BTCUSDT") in sent(v2.calls[0].request)


async def test_positions_come_from_v3_and_balances_from_the_v3_account(
    mock: respx.MockRouter, venue: BinanceVenue
) -> None:
    mock.get("/fapi/v3/positionRisk").respond(
        json=[
            {
                "symbol": "BTCUSDT",
                "positionSide": "SHORT",
                "positionAmt": "-0.020",
                "entryPrice": "95000",
                "markPrice": "94000",
                "unRealizedProfit": "20",
                "liquidationPrice": "0",
            },
            {"symbol": "ETHUSDT", "positionSide": "BOTH", "positionAmt": "0", "entryPrice": "0"},
            {
                "symbol": "DOGEUSDT",
                "positionSide": "BOTH",
                "positionAmt": "5",
                "entryPrice": "0.1",
            },  # not a market of ours
        ]
    )
    mock.get("/fapi/v3/account").respond(
        json={
            "assets": [
                {
                    "asset": "USDT",
                    "walletBalance": "100",
                    "marginBalance": "120",
                    "availableBalance": "80",
                    "initialMargin": "40",
                },
                {"asset": "BNB", "walletBalance": "0", "availableBalance": "0"},
            ]
        }
    )
    short, other = await venue.fetch_positions()
    assert (short.symbol, short.qty, short.liquidation_price) == ("BTC", Decimal("-0.020"), None)
    assert (other.symbol, other.qty) == ("DOGE", Decimal(5))  # not a market we list: shown, never hidden
    (usdt,) = await venue.fetch_balances()
    assert (usdt.total, usdt.free, usdt.used) == (Decimal(120), Decimal(80), Decimal(40))


# ---- funding history ------------------------------------------------------------------------------------


def _income(tran_id: int, at: datetime, amount: str = "-0.5", symbol: str = "BTCUSDT") -> dict[str, Any]:
    return {
        "symbol": symbol, "incomeType": "FUNDING_FEE", "income": amount, "asset": "USDT", "info": "FUNDING_FEE",
        "time": ms_from_utc(at), "tranId": tran_id, "tradeId": "",
    }  # fmt: skip


class IncomeVenue:
    """The income endpoint's paging as Binance documents it: the oldest `limit` rows in [startTime, endTime]."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = sorted(rows, key=lambda r: (r["time"], r["tranId"]))
        self.pages: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = dict(sent(request))
        self.pages.append(params)
        assert params["incomeType"] == "FUNDING_FEE"
        start, end = int(params["startTime"]), int(params.get("endTime", 10**15))
        match = [r for r in self.rows if start <= r["time"] <= end and r["symbol"] == params.get("symbol", r["symbol"])]
        return httpx.Response(200, json=match[: int(params["limit"])])


async def test_an_empty_history_is_one_request_and_no_payment(mock: respx.MockRouter, venue: BinanceVenue) -> None:
    income = IncomeVenue([])
    mock.get("/fapi/v1/income").mock(side_effect=income)
    assert await venue.funding_payments("BTC", T0, T0 + timedelta(days=1)) == []
    assert [{k: v for k, v in p.items() if k != "timestamp"} for p in income.pages] == [
        {"symbol": "BTCUSDT", "incomeType": "FUNDING_FEE", "startTime": str(ms_from_utc(T0)),
         "endTime": str(ms_from_utc(T0 + timedelta(days=1)) - 1), "limit": str(INCOME_PAGE), "recvWindow": "5000"}
    ]  # fmt: skip


async def test_a_full_page_is_read_on_from_its_last_time_and_repeats_count_once(
    mock: respx.MockRouter, venue: BinanceVenue
) -> None:
    # Exactly one page of payments, then two more sharing the last one's millisecond: the second page starts
    # at that millisecond (inclusive) and sees the boundary row again.
    rows = [_income(i, T0 + timedelta(seconds=i)) for i in range(INCOME_PAGE)]
    last = T0 + timedelta(seconds=INCOME_PAGE - 1)
    rows += [_income(INCOME_PAGE + 1, last, "0.25"), _income(INCOME_PAGE + 2, last + timedelta(hours=8), "0.75")]
    income = IncomeVenue(rows)
    mock.get("/fapi/v1/income").mock(side_effect=income)
    payments = await venue.funding_payments(None, T0)
    assert len(income.pages) == 2
    assert income.pages[1]["startTime"] == str(ms_from_utc(T0 + timedelta(seconds=INCOME_PAGE - 1)))
    assert "symbol" not in income.pages[0]
    assert [p.payment_id for p in payments] == [str(i) for i in range(INCOME_PAGE)] + [
        str(INCOME_PAGE + 1), str(INCOME_PAGE + 2)
    ]  # fmt: skip
    assert sum(p.amount for p in payments) == Decimal("-0.5") * INCOME_PAGE + 1
    assert {(p.symbol, p.asset) for p in payments} == {("BTC", "USDT")}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    offsets_s=st.lists(st.integers(min_value=0, max_value=3 * 86_400), min_size=0, max_size=2_600),
    window_h=st.integers(min_value=1, max_value=72),
)
def test_every_payment_in_the_window_is_read_once_whatever_the_paging(offsets_s: list[int], window_h: int) -> None:
    rows = [_income(i + 1, T0 + timedelta(seconds=s), str(Decimal(i) / 100)) for i, s in enumerate(offsets_s)]
    until = T0 + timedelta(hours=window_h)

    async def read() -> list[Any]:
        with respx.mock(base_url=BASE, assert_all_mocked=True) as router:
            router.get("/fapi/v1/time").mock(side_effect=lambda _: httpx.Response(200, json={"serverTime": now_ms()}))
            router.get("/fapi/v1/exchangeInfo").respond(json=EXCHANGE_INFO)
            router.get("/fapi/v1/income").mock(side_effect=IncomeVenue(rows))
            adapter = _venue()
            try:
                return await adapter.funding_payments("BTC", T0, until)
            finally:
                await adapter.close()

    payments = asyncio.run(read())
    expected = sorted((r for r in rows if r["time"] < ms_from_utc(until)), key=lambda r: (r["time"], r["tranId"]))
    assert [(p.payment_id, p.amount) for p in payments] == [(str(r["tranId"]), Decimal(r["income"])) for r in expected]


async def test_a_history_that_never_ends_is_refused_not_read_forever(
    mock: respx.MockRouter, venue: BinanceVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 100 pages at weight 30 are ~65 s of the real weight budget: the limiter waits on a fake clock instead.
    clock = FakeClock(monotonic=time.monotonic())
    monkeypatch.setattr(rate_limit, "SYSTEM_CLOCK", clock)
    same = [_income(i, T0) for i in range(INCOME_PAGE)]
    route = mock.get("/fapi/v1/income").mock(side_effect=lambda _: httpx.Response(200, json=same))
    with pytest.raises(Unavailable, match="did not end"):
        await venue.funding_payments("BTC", T0)
    assert route.call_count == 100
    assert sum(clock.sleeps) > 60  # the budget was waited for, as a real run would


# ---- clock, limits, host --------------------------------------------------------------------------------


async def test_the_signed_timestamp_is_the_venues_clock_and_a_refused_one_is_remeasured_and_resent_once(
    mock: respx.MockRouter,
) -> None:
    ahead_ms = 30_000
    clock = mock.get("/fapi/v1/time").mock(
        side_effect=lambda _: httpx.Response(200, json={"serverTime": now_ms() + ahead_ms})
    )
    account = mock.get("/fapi/v3/account")
    account.side_effect = [
        httpx.Response(400, json={"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}),
        httpx.Response(200, json={"assets": [{"asset": "USDT", "walletBalance": "10", "availableBalance": "7"}]}),
    ]
    adapter = _venue()
    (usdt,) = await adapter.fetch_balances()
    assert (usdt.total, usdt.free) == (Decimal(10), Decimal(7))
    assert (clock.call_count, account.call_count) == (2, 2)
    assert 29_000 < adapter.clock_offset_ms < 31_000
    stamps = [int(dict(sent(call.request))["timestamp"]) for call in account.calls]
    assert all(abs(stamp - (now_ms() + ahead_ms)) < 5_000 for stamp in stamps)
    await adapter.close()


async def test_an_order_is_not_delayed_by_an_exhausted_read_budget(
    mock: respx.MockRouter, venue: BinanceVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    mock.get("/fapi/v1/positionSide/dual").respond(json={"dualSidePosition": False})
    mock.post("/fapi/v1/order").respond(json=_order())
    await venue.market("BTC")
    await venue.position_mode()
    venue._client._seam.weight._tokens = 0.0  # the read budget is spent

    async def no_wait(_: float) -> None:
        raise AssertionError("an order waited for the read budget")

    monkeypatch.setattr(rate_limit.asyncio, "sleep", no_wait)
    assert (await venue.place_order(LIMIT)).order_id == "1001"


async def test_testnet_requests_reach_only_demo_trading(mock: respx.MockRouter) -> None:
    demo = VenueConfig("binance", Mode.TESTNET, "https://demo-fapi.binance.com", credentials={})
    adapter = BinanceVenue(demo)
    adapter._client._seam.base_url = BASE  # a bug that would send testnet traffic to the live venue
    with pytest.raises(ConfigError, match=r"refusing a request to https://fapi\.binance\.com"):
        await adapter.fetch_server_time()
    assert not mock.calls
    await adapter.close()


# ---- fills and cancels ----------------------------------------------------------------------------------


async def test_a_filled_order_comes_back_with_its_fee_from_the_fills(
    mock: respx.MockRouter, venue: BinanceVenue
) -> None:
    filled = _order("FILLED", type="MARKET", price="0", avgPrice="95010.5", executedQty="0.010")
    mock.get("/fapi/v1/order").respond(json=filled)
    rows = [
        {"symbol": "BTCUSDT", "id": 7, "orderId": 1001, "side": "BUY", "price": "95010", "qty": "0.004",
         "commission": "0.152", "commissionAsset": "USDT", "maker": False, "time": 1_764_547_200_100},
        {"symbol": "BTCUSDT", "id": 8, "orderId": 1001, "side": "BUY", "price": "95010.83333", "qty": "0.006",
         "commission": "0.228", "commissionAsset": "USDT", "maker": False, "time": 1_764_547_200_100},
    ]  # fmt: skip
    trades = mock.get("/fapi/v1/userTrades").respond(json=rows)
    order = await venue.fetch_order("BTC", order_id="1001")
    assert (order.status, order.fee, order.fee_asset, order.avg_price) == (
        OrderStatus.FILLED, Decimal("0.380"), "USDT", Decimal("95010.5"),
    )  # fmt: skip
    assert ("orderId", "1001") in sent(trades.calls[0].request)


async def test_cancelling_a_filled_order_returns_it_and_an_unknown_one_is_order_not_found(
    mock: respx.MockRouter, venue: BinanceVenue
) -> None:
    mock.delete("/fapi/v1/order").respond(400, json={"code": -2011, "msg": "Unknown order sent."})
    lookup = mock.get("/fapi/v1/order")
    lookup.side_effect = [
        httpx.Response(200, json=_order("FILLED", executedQty="0.010", avgPrice="95000")),
        httpx.Response(400, json={"code": -2013, "msg": "Order does not exist."}),
    ]
    mock.get("/fapi/v1/userTrades").respond(json=[])  # fills not visible yet: the fee stays unknown, never 0
    order = await venue.cancel_order("BTC", order_id="1001")
    assert (order.status, order.fee) == (OrderStatus.FILLED, None)
    with pytest.raises(OrderNotFound, match="-2013"):
        await venue.cancel_order("BTC", client_order_id="hc-never")
