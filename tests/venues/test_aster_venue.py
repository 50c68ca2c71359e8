"""AsterVenue over respx: the exact requests sent with both auth schemes, and what comes back of each reply."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from eth_account import Account
from eth_account.messages import encode_typed_data
from pydantic import SecretStr

from hedgectl.domain.types import Mode, OrderRequest, OrderStatus, OrderType, PositionMode, Side, TimeInForce
from hedgectl.errors import (
    AmbiguousOrderState,
    AuthError,
    BadResponse,
    ConfigError,
    InsufficientFunds,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    SymbolNotListed,
    Unavailable,
)
from hedgectl.venues.aster import AsterVenue, auth
from hedgectl.venues.aster import client as client_module
from hedgectl.venues.base import Venue
from hedgectl.venues.config import VenueConfig
from hedgectl.venues.kit import host_guard
from hedgectl.venues.kit import http as kit_http

BASE = "https://fapi.asterdex.com"
USER = "0x63DD5aCC6b1aa0f563956C0e534DD30B6dcF7C4e"
SIGNER = "0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0"
PRIVATE_KEY = "0x4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1"
API_KEY = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83"
API_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
SERVER_AHEAD_MS = 7_000  # the venue's clock runs 7 s ahead of ours in these tests
CID = "hc0123456789abcdef0123456789abcd"

_V3_AUTH = {"nonce", "user", "signer", "signature"}
_V1_AUTH = {"recvWindow", "timestamp", "signature"}


@dataclass(frozen=True)
class Scheme:
    name: str
    creds: dict[str, str]

    def path(self, name: str) -> str:
        return (client_module.V3_PATHS if self.name == "v3" else client_module.V1_PATHS)[name]


V3 = Scheme("v3", {"user": USER, "signer": SIGNER, "private_key": PRIVATE_KEY})
V1 = Scheme("v1", {"api_key": API_KEY, "api_secret": API_SECRET})


def _config(scheme: Scheme, *, cache_dir: Path | None = None, timeout_s: float = 3.0) -> VenueConfig:
    return VenueConfig(
        name="aster",
        mode=Mode.LIVE,
        base_url=BASE,
        credentials={k: SecretStr(v) for k, v in scheme.creds.items()},
        timeout_s=timeout_s,
        cache_dir=cache_dir,
    )


async def _no_sleep(_: float) -> None:
    return None


def _venue(scheme: Scheme, **kw: Any) -> AsterVenue:
    return AsterVenue(_config(scheme, **kw), sleep=_no_sleep, reconcile_delays_s=(0.0, 0.0, 0.0))


async def _one_way(venue: AsterVenue, scheme: Scheme, mock: respx.MockRouter) -> None:
    """Read the account's position mode once (one-way), as the venue does before its first order."""
    mock.get(scheme.path("positionSide/dual")).respond(json={"dualSidePosition": False})
    assert await venue.position_mode() is PositionMode.ONE_WAY


def _market_row(symbol: str, base: str, tick: str, step: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "contractType": "PERPETUAL",
        "status": "TRADING",
        "baseAsset": base,
        "quoteAsset": "USDT",
        "marginAsset": "USDT",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "1000000", "tickSize": tick},
            {"filterType": "LOT_SIZE", "minQty": step, "maxQty": "1000", "stepSize": step},
            {"filterType": "MARKET_LOT_SIZE", "minQty": step, "maxQty": "100", "stepSize": step},
            {"filterType": "MIN_NOTIONAL", "notional": "5"},
        ],
    }


EXCHANGE_INFO = {
    "timezone": "UTC",
    "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400}],
    "assets": [{"asset": "USDT", "marginAvailable": True}],
    "symbols": [
        _market_row("BTCUSDT", "BTC", "0.1", "0.001"),
        _market_row("ETHUSDT", "ETH", "0.01", "0.001"),
        _market_row("ASTERUSDT", "ASTER", "0.0001", "1"),
        dict(_market_row("XRPUSDT", "XRP", "0.0001", "0.1"), status="SETTLING"),
    ],
}


def _order(status: str = "NEW", **over: Any) -> dict[str, Any]:
    wire = {
        "orderId": 1001,
        "symbol": "BTCUSDT",
        "status": status,
        "clientOrderId": CID,
        "price": "95000",
        "avgPrice": "0",
        "origQty": "0.010",
        "executedQty": "0",
        "cumQuote": "0",
        "timeInForce": "GTX",
        "type": "LIMIT",
        "reduceOnly": False,
        "side": "BUY",
        "positionSide": "BOTH",
        "time": 1_700_000_000_000,
        "updateTime": 1_700_000_000_000,
    }
    wire.update(over)
    return wire


def _trade(trade_id: int, qty: str, price: str, fee: str) -> dict[str, Any]:
    return {
        "id": trade_id,
        "orderId": 1001,
        "symbol": "BTCUSDT",
        "side": "BUY",
        "price": price,
        "qty": qty,
        "commission": fee,
        "commissionAsset": "USDT",
        "maker": False,
        "time": 1_700_000_000_000 + trade_id,
    }


LIMIT = OrderRequest(
    symbol="BTC",
    side=Side.BUY,
    type=OrderType.LIMIT,
    qty=Decimal("0.010"),
    price=Decimal("95000.0"),
    client_order_id=CID,
    time_in_force=TimeInForce.POST_ONLY,
)
MARKET = OrderRequest(symbol="BTC", side=Side.BUY, type=OrderType.MARKET, qty=Decimal("0.010"), client_order_id=CID)


# --- what was sent ----------------------------------------------------------------------------


def _raw_params(request: httpx.Request, scheme: Scheme) -> str:
    in_body = request.method == "POST" or (request.method == "DELETE" and scheme.name == "v3")
    query, body = request.url.query.decode(), request.content.decode()
    if in_body:
        assert query == "", "params belong in the form body"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        return body
    assert body == "", "params belong in the query"
    return query


def _recover_v3(msg: str, signature: str) -> str:
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Message": [{"name": "msg", "type": "string"}],
        },
        "primaryType": "Message",
        "domain": {
            "name": "AsterSignTransaction",
            "version": "1",
            "chainId": 1666,
            "verifyingContract": "0x0000000000000000000000000000000000000000",
        },
        "message": {"msg": msg},
    }
    return str(Account.recover_message(encode_typed_data(full_message=typed), signature=signature))


def signed_params(request: httpx.Request, scheme: Scheme) -> list[tuple[str, str]]:
    """Check where the params went and that the signature is valid; return the business params in order."""
    raw = _raw_params(request, scheme)
    payload, _, signature = raw.rpartition("&signature=")
    pairs = parse_qsl(payload, keep_blank_values=True)
    keys = [k for k, _ in pairs]
    now_ms = int(time.time() * 1000) + SERVER_AHEAD_MS
    if scheme.name == "v3":
        assert keys[-3:] == ["nonce", "user", "signer"]
        fields = dict(pairs)
        assert (fields["user"], fields["signer"]) == (USER, SIGNER)
        assert abs(int(fields["nonce"]) - now_ms * 1000) < 3_000_000, "nonce follows the server clock, in µs"
        assert _recover_v3(payload, signature) == SIGNER
        assert "x-mbx-apikey" not in request.headers
    else:
        assert keys[-2:] == ["recvWindow", "timestamp"]
        assert abs(int(dict(pairs)["timestamp"]) - now_ms) < 3_000, "timestamp follows the server clock"
        assert signature == hmac.new(API_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
        assert request.headers["x-mbx-apikey"] == API_KEY
    auth_keys = _V3_AUTH if scheme.name == "v3" else _V1_AUTH
    return [(k, v) for k, v in pairs if k not in auth_keys]


def public_params(request: httpx.Request) -> list[tuple[str, str]]:
    pairs = parse_qsl(request.url.query.decode())
    assert not {"signature", "nonce", "timestamp"} & {k for k, _ in pairs}
    assert "x-mbx-apikey" not in request.headers
    return pairs


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=True, assert_all_mocked=True) as router:
        yield router


@pytest.fixture(params=[V3, V1], ids=["v3", "v1"])
def scheme(request: pytest.FixtureRequest) -> Scheme:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def venue(scheme: Scheme, mock: respx.MockRouter) -> AsyncIterator[AsterVenue]:
    """A venue whose markets and clock are mocked (both routes must be used by the test), in one-way mode."""
    mock.get(scheme.path("exchangeInfo")).respond(json=EXCHANGE_INFO)
    mock.get(scheme.path("time")).mock(
        side_effect=lambda _: httpx.Response(200, json={"serverTime": int(time.time() * 1000) + SERVER_AHEAD_MS})
    )
    venue = _venue(scheme)
    await _one_way(venue, scheme, mock)
    try:
        yield venue
    finally:
        await venue.close()


# --- markets and market data -------------------------------------------------------------------


async def test_markets_load_once_then_come_from_the_disk_cache(mock: respx.MockRouter, tmp_path: Path) -> None:
    route = mock.get("/fapi/v3/exchangeInfo").respond(json=EXCHANGE_INFO)
    first = _venue(V3, cache_dir=tmp_path)
    markets = await first.load_markets()
    await first.load_markets()
    assert sorted(markets) == ["ASTER", "BTC", "ETH"]
    second = _venue(V3, cache_dir=tmp_path)
    assert await second.load_markets() == markets
    assert route.call_count == 1
    assert public_params(route.calls[0].request) == []
    await first.close()
    await second.close()


async def test_market_maps_what_users_type_and_refuses_unlisted_symbols(mock: respx.MockRouter) -> None:
    mock.get("/fapi/v1/exchangeInfo").respond(json=EXCHANGE_INFO)
    venue = _venue(V1)
    assert (await venue.market("btc/usdt")).venue_symbol == "BTCUSDT"
    assert (await venue.market("ASTER")).venue_symbol == "ASTERUSDT"
    with pytest.raises(SymbolNotListed, match="aster"):
        await venue.market("XRP")  # listed but settling
    with pytest.raises(SymbolNotListed):
        await venue.market("DOGE")
    await venue.close()


async def test_quote_reads_book_ticker_mark_funding_and_its_interval(scheme: Scheme, mock: respx.MockRouter) -> None:
    mock.get(scheme.path("exchangeInfo")).respond(json=EXCHANGE_INFO)
    book = mock.get(scheme.path("bookTicker")).respond(
        json={"symbol": "ETHUSDT", "bidPrice": "3000.10", "bidQty": "5", "askPrice": "3000.20", "askQty": "4"}
    )
    premium = mock.get(scheme.path("premiumIndex")).respond(
        json={
            "symbol": "ETHUSDT",
            "markPrice": "3000.15",
            "lastFundingRate": "-0.00005",
            "nextFundingTime": 1_700_006_400_000,
            "time": 1_700_000_000_000,
        }
    )
    day = mock.get(scheme.path("ticker24hr")).respond(json={"symbol": "ETHUSDT", "lastPrice": "3000.11"})
    funding = mock.get(scheme.path("fundingInfo")).respond(
        json=[{"symbol": "ETHUSDT", "fundingIntervalHours": 4, "fundingFeeCap": "0.02", "fundingFeeFloor": "-0.02"}]
    )
    venue = _venue(scheme)
    quote = await venue.fetch_quote("ETH")
    again = await venue.fetch_quote("ETH")
    assert (quote.bid, quote.ask, quote.last, quote.mark) == (
        Decimal("3000.10"),
        Decimal("3000.20"),
        Decimal("3000.11"),
        Decimal("3000.15"),
    )
    assert quote.funding_rate == Decimal("-0.00005")
    assert quote.funding_interval == timedelta(hours=4) == again.funding_interval
    assert quote.next_funding_at == datetime.fromtimestamp(1_700_006_400, tz=UTC)
    assert funding.call_count == 1, "fundingInfo is cached"
    for route in (book, premium, day):
        assert public_params(route.calls[0].request) == [("symbol", "ETHUSDT")]
    await venue.close()


async def test_a_symbol_missing_from_funding_info_settles_every_8_hours(mock: respx.MockRouter) -> None:
    mock.get("/fapi/v3/exchangeInfo").respond(json=EXCHANGE_INFO)
    mock.get("/fapi/v3/ticker/bookTicker").respond(json={"bidPrice": "1", "askPrice": "2"})
    mock.get("/fapi/v3/premiumIndex").respond(
        json={"markPrice": "1.5", "lastFundingRate": "0.0001", "nextFundingTime": 1_700_006_400_000}
    )
    mock.get("/fapi/v3/ticker/24hr").respond(json={"lastPrice": "1.5"})
    mock.get("/fapi/v3/fundingInfo").respond(json=[{"symbol": "ETHUSDT", "fundingIntervalHours": 4}])
    venue = _venue(V3)
    assert (await venue.fetch_quote("BTC")).funding_interval == timedelta(hours=8)
    await venue.close()


async def test_book_asks_for_an_allowed_depth_and_trims_to_what_was_asked(mock: respx.MockRouter) -> None:
    mock.get("/fapi/v3/exchangeInfo").respond(json=EXCHANGE_INFO)
    levels = [[str(95000 - i), "1"] for i in range(10)]
    route = mock.get("/fapi/v3/depth").respond(json={"lastUpdateId": 1, "T": 1, "bids": levels, "asks": levels})
    venue = _venue(V3)
    book = await venue.fetch_book("BTC", depth=7)
    assert public_params(route.calls[0].request) == [("symbol", "BTCUSDT"), ("limit", "10")]
    assert len(book.bids) == 7
    assert book.bids[0].price == Decimal(95000)
    await venue.close()


async def test_server_time_is_the_venues_clock(scheme: Scheme, mock: respx.MockRouter) -> None:
    mock.get(scheme.path("time")).respond(json={"serverTime": 1_700_000_000_123})
    venue = _venue(scheme)
    assert await venue.fetch_server_time() == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    await venue.close()


# --- orders -----------------------------------------------------------------------------------


async def test_post_only_limit_order_is_sent_once_signed_and_formed_exactly(
    scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue
) -> None:
    route = mock.post(scheme.path("order")).respond(json=_order())
    order = await venue.place_order(LIMIT)
    assert route.call_count == 1
    assert signed_params(route.calls[0].request, scheme) == [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTX"),
        ("quantity", "0.01"),
        ("price", "95000"),
        ("newClientOrderId", CID),
        ("newOrderRespType", "RESULT"),
    ]
    assert (order.order_id, order.client_order_id, order.status) == ("1001", CID, OrderStatus.NEW)
    assert order.fee is None  # nothing filled, so no fills were fetched


async def test_every_request_carries_the_configured_timeout(
    scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue
) -> None:
    route = mock.post(scheme.path("order")).respond(json=_order())
    await venue.place_order(LIMIT)
    timeouts = [call.request.extensions["timeout"] for call in mock.calls]
    assert all(t == {"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0} for t in timeouts)
    assert route.called


async def test_reduce_only_market_order_returns_at_the_ack_and_its_fees_come_from_user_trades(
    scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue
) -> None:
    filled = _order("FILLED", type="MARKET", price="0", avgPrice="0", executedQty="0.010", reduceOnly=True)
    post = mock.post(scheme.path("order")).respond(json=filled)
    mock.get(scheme.path("order")).respond(json=filled)
    trades = mock.get(scheme.path("userTrades")).respond(
        json=[_trade(1, "0.004", "95000", "0.152"), _trade(2, "0.006", "95010", "0.228")]
    )
    ack = await venue.place_order(OrderRequest("BTC", Side.BUY, OrderType.MARKET, Decimal("0.01"), CID, None, True))
    assert (ack.status, ack.fee) == (OrderStatus.FILLED, None)
    assert not trades.called  # nothing but the POST on the hot path
    order = await venue.fetch_order("BTC", order_id=ack.order_id)
    assert signed_params(post.calls[0].request, scheme) == [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "MARKET"),
        ("quantity", "0.01"),
        ("reduceOnly", "true"),
        ("newClientOrderId", CID),
        ("newOrderRespType", "RESULT"),
    ]
    assert signed_params(trades.calls[0].request, scheme) == [
        ("symbol", "BTCUSDT"),
        ("orderId", "1001"),
        ("limit", "1000"),
    ]
    assert order.status is OrderStatus.FILLED
    assert order.reduce_only
    assert order.fee == Decimal("0.380")
    assert order.fee_asset == "USDT"
    assert order.avg_price == Decimal("950.0600") * 100  # (0.004*95000 + 0.006*95010) / 0.010


async def test_fills_not_yet_recorded_leave_the_fee_unknown_rather_than_wrong(mock: respx.MockRouter) -> None:
    mock.get("/fapi/v3/exchangeInfo").respond(json=EXCHANGE_INFO)
    mock.get("/fapi/v3/time").respond(json={"serverTime": int(time.time() * 1000) + SERVER_AHEAD_MS})
    mock.get("/fapi/v3/order").respond(json=_order("FILLED", avgPrice="95000", executedQty="0.010"))
    mock.get("/fapi/v3/userTrades").respond(json=[_trade(1, "0.004", "95000", "0.152")])
    venue = _venue(V3)
    order = await venue.fetch_order("BTC", client_order_id=CID)
    assert order.fee is None
    assert order.avg_price == Decimal(95000)
    await venue.close()


@pytest.mark.parametrize(
    "fault",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.Response(503, json={"code": -1000, "msg": "Service Unavailable"}),
        httpx.Response(504, text="<html>Gateway Timeout</html>", headers={"content-type": "text/html"}),
        httpx.Response(400, json={"code": -1007, "msg": "Timeout waiting for response from backend server."}),
    ],
    ids=["read-timeout", "disconnect", "503", "504-html", "-1007"],
)
async def test_an_order_with_an_unknown_outcome_is_found_by_client_id_and_never_resent(
    scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue, fault: Exception | httpx.Response
) -> None:
    post = mock.post(scheme.path("order")).mock(side_effect=[fault])
    lookup = mock.get(scheme.path("order")).respond(json=_order("NEW"))
    order = await venue.place_order(LIMIT)
    assert post.call_count == 1
    assert signed_params(lookup.calls[0].request, scheme) == [("symbol", "BTCUSDT"), ("origClientOrderId", CID)]
    assert (order.order_id, order.status) == ("1001", OrderStatus.NEW)


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, text="<html>cached page</html>", headers={"content-type": "text/html"}),
        httpx.Response(200, json={"orderId": 1001, "status": "NEW"}),
        httpx.Response(400, text=""),
    ],
    ids=["html-200", "missing-fields", "400-empty"],
)
async def test_an_unreadable_order_reply_is_reconciled_not_trusted_or_resent(
    mock: respx.MockRouter, reply: httpx.Response
) -> None:
    mock.get("/fapi/v3/exchangeInfo").respond(json=EXCHANGE_INFO)
    mock.get("/fapi/v3/time").respond(json={"serverTime": int(time.time() * 1000) + SERVER_AHEAD_MS})
    post = mock.post("/fapi/v3/order").mock(side_effect=[reply])
    lookup = mock.get("/fapi/v3/order").respond(json=_order("NEW"))
    venue = _venue(V3)
    await _one_way(venue, V3, mock)
    order = await venue.place_order(LIMIT)
    assert (order.order_id, order.qty) == ("1001", Decimal("0.010"))
    assert (post.call_count, lookup.call_count) == (1, 1)
    await venue.close()


async def test_an_order_that_landed_late_is_found_on_a_later_lookup(mock: respx.MockRouter) -> None:
    mock.get("/fapi/v3/exchangeInfo").respond(json=EXCHANGE_INFO)
    mock.get("/fapi/v3/time").respond(json={"serverTime": int(time.time() * 1000) + SERVER_AHEAD_MS})
    post = mock.post("/fapi/v3/order").mock(side_effect=httpx.ReadTimeout("slow"))
    missing = httpx.Response(400, json={"code": -2013, "msg": "Order does not exist."})
    lookup = mock.get("/fapi/v3/order").mock(
        side_effect=[missing, httpx.Response(500), httpx.Response(200, json=_order())]
    )
    venue = _venue(V3)
    await _one_way(venue, V3, mock)
    assert (await venue.place_order(LIMIT)).order_id == "1001"
    assert (post.call_count, lookup.call_count) == (1, 3)
    await venue.close()


async def test_an_order_the_venue_never_saw_is_unavailable_saying_it_was_not_placed(
    scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue
) -> None:
    post = mock.post(scheme.path("order")).mock(side_effect=httpx.ReadTimeout("timed out"))
    lookup = mock.get(scheme.path("order")).respond(400, json={"code": -2013, "msg": "Order does not exist."})
    with pytest.raises(Unavailable, match="not placed"):
        await venue.place_order(LIMIT)
    assert (post.call_count, lookup.call_count) == (1, 3)


async def test_an_order_that_cannot_be_looked_up_is_ambiguous(
    scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue
) -> None:
    post = mock.post(scheme.path("order")).respond(503, text="")
    lookup = mock.get(scheme.path("order")).mock(side_effect=httpx.ReadTimeout("still down"))
    with pytest.raises(AmbiguousOrderState, match=CID) as caught:
        await venue.place_order(LIMIT)
    assert "reconcile" in str(caught.value)
    assert (post.call_count, lookup.call_count) == (1, 3)


async def test_a_connection_that_never_opened_is_unavailable_without_any_lookup(
    scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue
) -> None:
    post = mock.post(scheme.path("order")).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(Unavailable, match="cannot reach"):
        await venue.place_order(LIMIT)
    assert post.call_count == 1


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, -2019, InsufficientFunds),
        (400, -2018, InsufficientFunds),
        (400, -4164, OrderRejected),
        (400, -2022, OrderRejected),
        (400, -5022, OrderRejected),
        (400, -1111, OrderRejected),
        (400, -4014, OrderRejected),
        (400, -4023, OrderRejected),
        (400, -2010, OrderRejected),
        (400, -4131, OrderRejected),
        (400, -4999, OrderRejected),
        (400, -1121, SymbolNotListed),
        (401, -1022, AuthError),
        (401, -2014, AuthError),
        (401, -2015, AuthError),
        (429, -1003, RateLimited),
        (418, -1003, RateLimited),
    ],
)
async def test_a_refused_order_maps_to_the_taxonomy_without_a_lookup_or_a_resend(
    mock: respx.MockRouter, status: int, code: int, error: type[Exception]
) -> None:
    mock.get("/fapi/v1/exchangeInfo").respond(json=EXCHANGE_INFO)
    mock.get("/fapi/v1/time").respond(json={"serverTime": int(time.time() * 1000) + SERVER_AHEAD_MS})
    post = mock.post("/fapi/v1/order").respond(status, json={"code": code, "msg": "Refused by the venue."})
    venue = _venue(V1)
    await _one_way(venue, V1, mock)
    with pytest.raises(error) as caught:
        await venue.place_order(LIMIT)
    assert caught.value.code == str(code)  # type: ignore[attr-defined]
    assert "aster" in str(caught.value)
    assert "Refused by the venue." in str(caught.value)
    assert API_SECRET not in str(caught.value)
    assert API_KEY not in str(caught.value)
    assert post.call_count == 1
    await venue.close()


async def test_cancel_by_client_id_returns_the_cancelled_order(
    scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue
) -> None:
    route = mock.delete(scheme.path("order")).respond(json=_order("CANCELED", executedQty="0.002"))
    mock.get(scheme.path("userTrades")).respond(json=[_trade(1, "0.002", "95000", "0.076")])
    order = await venue.cancel_order("BTC", client_order_id=CID)
    assert signed_params(route.calls[0].request, scheme) == [("symbol", "BTCUSDT"), ("origClientOrderId", CID)]
    assert order.status is OrderStatus.CANCELED
    assert order.filled_qty == Decimal("0.002")
    assert order.fee == Decimal("0.076")


async def test_cancelling_an_order_that_already_filled_returns_its_final_state(
    scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue
) -> None:
    mock.delete(scheme.path("order")).respond(400, json={"code": -2011, "msg": "Unknown order sent."})
    mock.get(scheme.path("order")).respond(json=_order("FILLED", avgPrice="95000", executedQty="0.010"))
    mock.get(scheme.path("userTrades")).respond(json=[_trade(1, "0.010", "95000", "0.38")])
    order = await venue.cancel_order("BTC", order_id="1001")
    assert order.status is OrderStatus.FILLED
    assert order.fee == Decimal("0.38")


async def test_cancelling_an_unknown_order_is_order_not_found(
    scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue
) -> None:
    mock.delete(scheme.path("order")).respond(400, json={"code": -2011, "msg": "Unknown order sent."})
    mock.get(scheme.path("order")).respond(400, json={"code": -2013, "msg": "Order does not exist."})
    with pytest.raises(OrderNotFound, match="does not exist"):
        await venue.cancel_order("BTC", order_id="42")


async def test_a_cancel_without_reply_is_checked_then_sent_again(mock: respx.MockRouter) -> None:
    mock.get("/fapi/v3/exchangeInfo").respond(json=EXCHANGE_INFO)
    mock.get("/fapi/v3/time").respond(json={"serverTime": int(time.time() * 1000) + SERVER_AHEAD_MS})
    cancel = mock.delete("/fapi/v3/order").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=_order("CANCELED"))]
    )
    mock.get("/fapi/v3/order").respond(json=_order("NEW"))
    venue = _venue(V3)
    assert (await venue.cancel_order("BTC", order_id="1001")).status is OrderStatus.CANCELED
    assert cancel.call_count == 2
    await venue.close()


async def test_fetch_order_by_id_or_client_id(scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue) -> None:
    route = mock.get(scheme.path("order")).respond(json=_order("PARTIALLY_FILLED", executedQty="0.004"))
    by_id = await venue.fetch_order("BTC", order_id="1001")
    by_cid = await venue.fetch_order("BTC", client_order_id=CID)
    assert signed_params(route.calls[0].request, scheme) == [("symbol", "BTCUSDT"), ("orderId", "1001")]
    assert signed_params(route.calls[1].request, scheme) == [("symbol", "BTCUSDT"), ("origClientOrderId", CID)]
    assert by_id == by_cid
    assert by_id.filled_qty == Decimal("0.004")
    assert by_id.fee is None, "a working order's fee is not fetched on every poll"


async def test_a_final_order_comes_back_with_its_fee(scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue) -> None:
    mock.get(scheme.path("order")).respond(json=_order("CANCELED", avgPrice="95000", executedQty="0.004"))
    trades = mock.get(scheme.path("userTrades")).respond(json=[_trade(1, "0.004", "95000", "0.01")])
    order = await venue.fetch_order("BTC", order_id="1001")
    assert signed_params(trades.calls[0].request, scheme) == [
        ("symbol", "BTCUSDT"),
        ("orderId", "1001"),
        ("limit", "1000"),
    ]
    assert order.fee == Decimal("0.01")
    assert order.avg_price == Decimal(95000)


async def test_open_orders_for_one_symbol_or_all(scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue) -> None:
    eth = _order(symbol="ETHUSDT", orderId=7, clientOrderId="other")
    route = mock.get(scheme.path("openOrders")).mock(
        side_effect=[httpx.Response(200, json=[_order()]), httpx.Response(200, json=[_order(), eth])]
    )
    one = await venue.fetch_open_orders("BTC")
    every = await venue.fetch_open_orders()
    assert signed_params(route.calls[0].request, scheme) == [("symbol", "BTCUSDT")]
    assert signed_params(route.calls[1].request, scheme) == []
    assert [o.symbol for o in one] == ["BTC"]
    assert [o.symbol for o in every] == ["BTC", "ETH"]


async def test_cancel_all_without_a_reply_is_sent_again(mock: respx.MockRouter) -> None:
    mock.get("/fapi/v3/exchangeInfo").respond(json=EXCHANGE_INFO)
    mock.get("/fapi/v3/time").respond(json={"serverTime": int(time.time() * 1000) + SERVER_AHEAD_MS})
    mock.get("/fapi/v3/openOrders").respond(json=[])
    done = httpx.Response(200, json={"code": 200, "msg": "The operation of cancel all open order is done."})
    route = mock.delete("/fapi/v3/allOpenOrders").mock(side_effect=[httpx.ReadTimeout("slow"), done])
    venue = _venue(V3)
    assert await venue.cancel_all_orders("BTC") == []
    assert route.call_count == 2
    await venue.close()


async def test_cancel_all_cancels_per_symbol_and_reports_final_states(
    scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue
) -> None:
    eth = _order(symbol="ETHUSDT", orderId=7, clientOrderId="other")
    mock.get(scheme.path("openOrders")).respond(json=[_order(), eth])
    cancel_all = mock.delete(scheme.path("allOpenOrders")).respond(
        json={"code": 200, "msg": "The operation of cancel all open order is done."}
    )
    lookups = mock.get(scheme.path("order")).mock(
        side_effect=[
            httpx.Response(200, json=_order("CANCELED")),
            httpx.Response(200, json=dict(eth, status="CANCELED")),
        ]
    )
    cancelled = await venue.cancel_all_orders()
    sent = sorted(signed_params(call.request, scheme)[0][1] for call in cancel_all.calls)
    assert sent == ["BTCUSDT", "ETHUSDT"]
    assert {o.symbol: o.status for o in cancelled} == {"BTC": OrderStatus.CANCELED, "ETH": OrderStatus.CANCELED}
    assert lookups.call_count == 2


# --- account ----------------------------------------------------------------------------------


async def test_positions_are_signed_base_quantities(scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue) -> None:
    row = {
        "symbol": "BTCUSDT",
        "positionAmt": "-0.010",
        "entryPrice": "95000",
        "markPrice": "94000",
        "unRealizedProfit": "10",
        "positionSide": "BOTH",
    }
    flat = dict(row, symbol="ETHUSDT", positionAmt="0")
    route = mock.get(scheme.path("positionRisk")).respond(json=[row, flat])
    [position] = await venue.fetch_positions()
    assert route.calls[0].request.url.path == ("/fapi/v3/positionRisk" if scheme is V3 else "/fapi/v2/positionRisk")
    assert signed_params(route.calls[0].request, scheme) == []
    assert (position.symbol, position.qty, position.entry_price) == ("BTC", Decimal("-0.010"), Decimal(95000))


async def test_balances(scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue) -> None:
    route = mock.get(scheme.path("balance")).respond(
        json=[{"accountAlias": "a", "asset": "USDT", "balance": "100.5", "availableBalance": "80.5"}]
    )
    [balance] = await venue.fetch_balances()
    assert route.calls[0].request.url.path == ("/fapi/v3/balance" if scheme is V3 else "/fapi/v2/balance")
    assert signed_params(route.calls[0].request, scheme) == []
    assert (balance.total, balance.free, balance.used) == (Decimal("100.5"), Decimal("80.5"), Decimal(20))
    # venue fixture's exchangeInfo route must be used too
    await venue.market("BTC")


async def test_fills_since_a_time(scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue) -> None:
    route = mock.get(scheme.path("userTrades")).respond(json=[_trade(2, "1", "2", "0.1"), _trade(1, "1", "2", "0.1")])
    fills = await venue.fetch_fills("BTC", since=datetime(2023, 11, 14, tzinfo=UTC))
    assert signed_params(route.calls[0].request, scheme) == [
        ("symbol", "BTCUSDT"),
        ("startTime", "1699920000000"),
        ("limit", "1000"),
    ]
    assert [f.trade_id for f in fills] == ["1", "2"]


# --- clock, retries, guards -------------------------------------------------------------------


async def test_a_stale_timestamp_remeasures_the_clock_and_resends_once(mock: respx.MockRouter) -> None:
    clock = mock.get("/fapi/v1/time").respond(json={"serverTime": int(time.time() * 1000) + SERVER_AHEAD_MS})
    stale = httpx.Response(400, json={"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."})
    route = mock.get("/fapi/v2/balance").mock(side_effect=[stale, httpx.Response(200, json=[])])
    venue = _venue(V1)
    assert await venue.fetch_balances() == []
    assert (clock.call_count, route.call_count) == (2, 2)
    await venue.close()


async def test_a_timestamp_still_refused_after_resync_is_an_auth_error(mock: respx.MockRouter) -> None:
    mock.get("/fapi/v1/time").respond(json={"serverTime": int(time.time() * 1000)})
    route = mock.get("/fapi/v2/balance").respond(400, json={"code": -1021, "msg": "Timestamp outside recvWindow."})
    venue = _venue(V1)
    with pytest.raises(AuthError, match="clock"):
        await venue.fetch_balances()
    assert route.call_count == 2
    await venue.close()


async def test_an_expired_nonce_remeasures_the_clock_and_resends_with_a_fresh_nonce(mock: respx.MockRouter) -> None:
    clock = mock.get("/fapi/v3/time").respond(json={"serverTime": int(time.time() * 1000) + SERVER_AHEAD_MS})
    expired = httpx.Response(400, json={"code": -4225, "msg": "Nonce Expired"})
    route = mock.get("/fapi/v3/balance").mock(side_effect=[expired, httpx.Response(200, json=[])])
    venue = _venue(V3)
    await venue.fetch_balances()
    nonces = [int(dict(parse_qsl(call.request.url.query.decode()))["nonce"]) for call in route.calls]
    assert nonces[1] > nonces[0]
    assert clock.call_count == 2
    await venue.close()


async def test_concurrent_signed_requests_get_distinct_increasing_nonces(mock: respx.MockRouter) -> None:
    mock.get("/fapi/v3/time").respond(json={"serverTime": int(time.time() * 1000) + SERVER_AHEAD_MS})
    route = mock.get("/fapi/v3/balance").respond(json=[])
    venue = _venue(V3)
    await asyncio.gather(*(venue.fetch_balances() for _ in range(25)))
    nonces = [int(dict(parse_qsl(call.request.url.query.decode()))["nonce"]) for call in route.calls]
    assert len(set(nonces)) == 25
    assert nonces == sorted(nonces), "sent in the order they were issued"
    await venue.close()


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json={"code": -1001, "msg": "Internal error"}),
        httpx.Response(502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}),
        httpx.Response(429, json={"code": -1003, "msg": "Too many requests."}),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("disconnected"),
    ],
    ids=["500", "502-html", "429", "timeout", "disconnect"],
)
async def test_reads_are_retried_through_transient_failures(mock: respx.MockRouter, failure: Any) -> None:
    route = mock.get("/fapi/v3/exchangeInfo").mock(
        side_effect=[failure, failure, httpx.Response(200, json=EXCHANGE_INFO)]
    )
    venue = _venue(V3)
    assert "BTC" in await venue.load_markets()
    assert route.call_count == 3
    await venue.close()


async def test_a_read_that_keeps_failing_ends_unavailable(mock: respx.MockRouter) -> None:
    route = mock.get("/fapi/v3/exchangeInfo").respond(503, text="down")
    venue = _venue(V3)
    with pytest.raises(Unavailable, match="aster"):
        await venue.load_markets()
    assert route.call_count == 4
    await venue.close()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!doctype html><title>Just a moment...</title>", "text/html"),
        (b"", "application/json"),
        (b"OK", "text/plain"),
    ],
)
async def test_a_200_reply_that_is_not_json_is_a_bad_response(
    mock: respx.MockRouter, body: bytes, content_type: str
) -> None:
    mock.get("/fapi/v3/exchangeInfo").respond(200, content=body, headers={"content-type": content_type})
    venue = _venue(V3)
    with pytest.raises(BadResponse, match="aster: HTTP 200"):
        await venue.load_markets()
    await venue.close()


async def test_a_reply_missing_fields_is_a_bad_response(mock: respx.MockRouter) -> None:
    mock.get("/fapi/v3/time").respond(json={"serverTime": int(time.time() * 1000)})
    mock.get("/fapi/v3/balance").respond(json=[{"asset": "USDT", "balance": "1"}])
    venue = _venue(V3)
    with pytest.raises(BadResponse, match="availableBalance"):
        await venue.fetch_balances()
    await venue.close()


async def test_every_request_passes_the_host_guard(
    scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = host_guard.ensure_allowed

    def spy(url: str, allowed: str, *, venue: str) -> None:
        checked.append(url)
        real(url, allowed, venue=venue)

    monkeypatch.setattr(kit_http, "ensure_allowed", spy)
    mock.get(scheme.path("balance")).respond(json=[])
    fresh = _venue(scheme)  # the fixture's venue has already read its clock and position mode
    await fresh.market("BTC")
    await fresh.fetch_balances()
    await fresh.position_mode()
    await fresh.close()
    # The seam guards each request twice (when built, and again as it is sent): one entry per request here.
    sent = [u.split("?")[0].rsplit("/", 1)[1] for u in checked]
    assert [name for i, name in enumerate(sent) if i == 0 or sent[i - 1] != name] == [
        "exchangeInfo", "time", "balance", "dual",
    ]  # fmt: skip
    assert all(u.startswith(BASE + "/fapi/") for u in checked)


async def test_a_request_to_another_host_is_refused_before_it_leaves(mock: respx.MockRouter) -> None:
    sim = VenueConfig(name="aster", mode=Mode.PAPER, base_url="http://127.0.0.1:9/aster", credentials={})
    venue = AsterVenue(
        VenueConfig(
            name="aster",
            mode=Mode.PAPER,
            base_url=sim.base_url,
            credentials={k: SecretStr(v) for k, v in V3.creds.items()},
        )
    )
    venue._client._seam.base_url = BASE  # a bug that would send paper traffic to the real venue
    with pytest.raises(ConfigError, match=r"refusing a request to https://fapi\.asterdex\.com"):
        await venue.fetch_server_time()
    assert not mock.calls
    await venue.close()


def test_venue_repr_and_errors_hold_no_secrets() -> None:
    for scheme in (V1, V3):
        venue = _venue(scheme)
        text = repr(venue) + repr(venue._client) + repr(venue._client._keys) + repr(venue._config)
        for secret in (API_SECRET, API_KEY, PRIVATE_KEY, PRIVATE_KEY[2:]):
            assert secret not in text


def test_the_venue_implements_the_protocol_and_reports_its_auth_scheme() -> None:
    assert isinstance(_venue(V3), Venue)
    assert _venue(V3).auth_scheme == "v3"
    assert _venue(V1).auth_scheme == "v1"
    assert isinstance(auth.keys_from_config(_config(V3)), auth.V3Keys)


async def test_funding_payments_are_read_from_the_income_endpoint_of_the_auth_generation(
    scheme: Scheme, mock: respx.MockRouter, venue: AsterVenue
) -> None:
    since = datetime(2025, 12, 1, tzinfo=UTC)
    first, second = 1_764_576_000_000, 1_764_604_800_000  # 2025-12-01 08:00 and 16:00 UTC
    rows = [
        {"symbol": "BTCUSDT", "incomeType": "FUNDING_FEE", "income": "-0.12", "asset": "USDT", "time": first,
         "tranId": "77", "tradeId": ""},
        {"symbol": "BTCUSDT", "incomeType": "FUNDING_FEE", "income": "0.30", "asset": "USDT", "time": second,
         "tranId": 78, "tradeId": ""},
    ]  # fmt: skip
    income = mock.get(scheme.path("income")).respond(json=rows)
    payments = await venue.funding_payments("BTC", since)
    assert [(p.payment_id, p.amount, p.symbol) for p in payments] == [
        ("77", Decimal("-0.12"), "BTC"), ("78", Decimal("0.30"), "BTC"),
    ]  # fmt: skip
    sent = dict(signed_params(income.calls[0].request, scheme))
    assert (sent["incomeType"], sent["symbol"], sent["limit"]) == ("FUNDING_FEE", "BTCUSDT", "1000")
