"""OkxVenue over respx: the exact requests sent (signature, headers, body) and what each reply becomes."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from okx_samples import D, fill_row, instrument, ok, order_row, refused
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
from hedgectl.venues.base import Venue
from hedgectl.venues.config import TESTNET_HEADERS, VenueConfig
from hedgectl.venues.okx import OkxVenue, auth
from hedgectl.venues.okx import client as client_module

BASE = "https://www.okx.com"
SECRET = "okx-test-secret-0123456789"
PASSPHRASE = "okx-test-passphrase"
CREDS = {"api_key": "okx-test-key", "api_secret": SECRET, "passphrase": PASSPHRASE}
SERVER_AHEAD_MS = 7_000
CID = "hc0123456789abcdef0123456789abcd"


def _config(
    mode: Mode = Mode.LIVE, base: str = BASE, *, creds: dict[str, str] = CREDS, cache_dir: Path | None = None
) -> VenueConfig:
    headers = dict(TESTNET_HEADERS["okx"]) if mode is Mode.TESTNET else {}
    return VenueConfig(
        "okx", mode, base, {k: SecretStr(v) for k, v in creds.items()}, headers=headers, cache_dir=cache_dir
    )


async def _no_sleep(_: float) -> None:
    return None


def _venue(config: VenueConfig | None = None, **kw: Any) -> OkxVenue:
    return OkxVenue(config or _config(), sleep=_no_sleep, reconcile_delays_s=(0.0, 0.0, 0.0), **kw)


def _server_time() -> dict[str, Any]:
    return ok([{"ts": str(int(datetime.now(UTC).timestamp() * 1000) + SERVER_AHEAD_MS)}])


@pytest.fixture
def mock() -> Any:
    with respx.mock(base_url=BASE, assert_all_called=False, assert_all_mocked=True) as router:
        router.get("/api/v5/public/time").mock(side_effect=lambda _r: httpx.Response(200, json=_server_time()))
        router.get("/api/v5/public/instruments").respond(
            json=ok([instrument(), instrument("ETH", state="suspend"), instrument("XRP", ctType="inverse")])
        )
        yield router


def _net_mode(mock: Any) -> respx.Route:
    return mock.get("/api/v5/account/config").respond(json=ok([{"posMode": "net_mode", "acctLv": "2"}]))


def _buy(qty: str = "0.03", kind: OrderType = OrderType.MARKET, **kw: Any) -> OrderRequest:
    price = D("65000.1") if kind is OrderType.LIMIT else None
    return OrderRequest("BTC", Side.BUY, kind, D(qty), CID, price=price, **kw)


def _signed_over(request: httpx.Request, prefix: str = "") -> str:
    """The signature OKX expects of the request as it was written."""
    path = request.url.raw_path.decode().removeprefix(prefix)
    stamp = request.headers[auth.TIMESTAMP_HEADER]
    return auth.signature(SECRET, stamp, request.method, path, request.content.decode())


# ---- the seam ----------------------------------------------------------------------------------


async def test_it_is_a_venue_and_its_repr_holds_no_secret() -> None:
    venue = _venue()
    assert isinstance(venue, Venue)
    assert all(secret not in repr(venue) for secret in (SECRET, PASSPHRASE))
    await venue.close()


async def test_a_private_request_is_signed_over_exactly_what_was_sent_at_the_venues_time(mock: Any) -> None:
    route = mock.get("/api/v5/account/balance").respond(
        json=ok([{"totalEq": "1000", "details": [{"ccy": "USDT", "eq": "1000", "availEq": "900", "availBal": ""}]}])
    )
    venue = _venue()
    assert [(b.asset, b.total, b.free, b.used) for b in await venue.fetch_balances()] == [
        ("USDT", D(1000), D(900), D(100))
    ]
    sent = route.calls.last.request
    assert sent.headers[auth.KEY_HEADER] == "okx-test-key"
    assert sent.headers[auth.PASSPHRASE_HEADER] == PASSPHRASE
    assert sent.headers[auth.SIGN_HEADER] == _signed_over(sent)
    stamp = datetime.fromisoformat(sent.headers[auth.TIMESTAMP_HEADER].removesuffix("Z")).replace(tzinfo=UTC)
    assert abs(stamp - datetime.now(UTC) - timedelta(milliseconds=SERVER_AHEAD_MS)) < timedelta(seconds=2)
    assert abs(venue.clock_offset_ms - SERVER_AHEAD_MS) < 2_000
    await venue.close()


async def test_paper_mode_signs_the_path_from_api_v5_on() -> None:
    base = "http://127.0.0.1:9/okx"
    with respx.mock(base_url=base, assert_all_called=True) as router:
        router.get("/api/v5/public/time").mock(side_effect=lambda _r: httpx.Response(200, json=_server_time()))
        route = router.get("/api/v5/account/positions").respond(json=ok([]))
        router.get("/api/v5/public/instruments").respond(json=ok([instrument()]))
        venue = _venue(_config(Mode.PAPER, base))
        assert await venue.fetch_positions() == []
        sent = route.calls.last.request
        assert sent.url.raw_path.startswith(b"/okx/api/v5/account/positions?instType=SWAP")
        assert sent.headers[auth.SIGN_HEADER] == _signed_over(sent, "/okx")
        await venue.close()


async def test_demo_trading_sends_its_header_on_every_request_and_refuses_to_go_without_it(mock: Any) -> None:
    route = mock.get("/api/v5/account/balance").respond(json=ok([{"details": []}]))
    venue = _venue(_config(Mode.TESTNET))
    assert await venue.fetch_balances() == []
    assert all(call.request.headers["x-simulated-trading"] == "1" for call in mock.calls)
    await venue.close()
    calls = route.call_count
    bare = VenueConfig("okx", Mode.TESTNET, BASE, {k: SecretStr(v) for k, v in CREDS.items()})  # no headers
    unguarded = _venue(bare)
    with pytest.raises(ConfigError, match="x-simulated-trading"):
        await unguarded.fetch_server_time()
    assert route.call_count == calls
    await unguarded.close()


async def test_private_calls_without_credentials_are_refused_before_sending(mock: Any) -> None:
    venue = _venue(_config(creds={}))
    with pytest.raises(ConfigError, match="credentials"):
        await venue.fetch_balances()
    with pytest.raises(ConfigError, match="credentials"):
        await venue.place_order(_buy())
    assert not any("/account/" in str(c.request.url) or "/trade/" in str(c.request.url) for c in mock.calls)
    await venue.close()


async def test_a_refused_timestamp_remeasures_the_clock_and_signs_the_read_again_once(mock: Any) -> None:
    route = mock.get("/api/v5/account/balance").mock(
        side_effect=[
            httpx.Response(401, json=refused("50102", "Timestamp request expired")),
            httpx.Response(200, json=ok([{"details": []}])),
        ]
    )
    venue = _venue()
    assert await venue.fetch_balances() == []
    assert route.call_count == 2
    assert mock.routes[0].call_count == 2  # public/time: measured, then measured again
    assert route.calls.last.request.headers[auth.SIGN_HEADER] == _signed_over(route.calls.last.request)
    await venue.close()


@pytest.mark.parametrize(
    ("status", "reply", "error"),
    [
        (401, refused("50113", "Invalid Sign"), AuthError),
        (401, refused("50119", "API key doesn't exist"), AuthError),
        (429, refused("50011", "Too Many Requests"), RateLimited),
        (200, refused("50013", "Systems are busy"), Unavailable),
        (503, b"<html>busy</html>", Unavailable),
        (200, b"not json", BadResponse),
    ],
)
async def test_read_failures_map_to_the_error_taxonomy(mock: Any, status: int, reply: Any, error: type) -> None:
    content = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
    mock.get("/api/v5/account/balance").respond(status, content=content)
    venue = _venue()
    with pytest.raises(error) as raised:
        await venue.fetch_balances()
    assert all(secret not in str(raised.value) for secret in (SECRET, PASSPHRASE))
    await venue.close()


async def test_a_reply_echoing_a_credential_never_carries_it_into_the_error(mock: Any) -> None:
    mock.get("/api/v5/account/balance").respond(401, json=refused("50105", f"passphrase {PASSPHRASE} is wrong"))
    venue = _venue()
    with pytest.raises(AuthError) as raised:
        await venue.fetch_balances()
    assert PASSPHRASE not in str(raised.value)
    assert "50105" in str(raised.value)
    await venue.close()


# ---- markets and market data -------------------------------------------------------------------


async def test_markets_are_live_linear_usdt_swaps_in_base_units_and_cached_on_disk(mock: Any, tmp_path: Path) -> None:
    first = _venue(_config(cache_dir=tmp_path))
    markets = await first.load_markets()
    assert set(markets) == {"BTC"}
    btc = markets["BTC"]
    assert (btc.venue_symbol, btc.step_size, btc.min_qty, btc.contract_size) == (
        "BTC-USDT-SWAP",
        D("0.001"),
        D("0.001"),
        D("0.01"),
    )
    assert (btc.max_qty, btc.max_market_qty, btc.tick_size) == (D("1000000"), D("120"), D("0.1"))
    await first.close()
    loads = mock.routes[1].call_count
    second = _venue(_config(cache_dir=tmp_path))
    assert await second.market("btc") == btc
    assert mock.routes[1].call_count == loads
    with pytest.raises(SymbolNotListed):
        await second.market("ETH")  # suspended: a miss in cached rules reloads them once, then it is not listed
    assert mock.routes[1].call_count == loads + 1
    await second.close()


async def test_an_unreadable_instrument_refuses_that_symbol_only(mock: Any) -> None:
    mock.get("/api/v5/public/instruments").respond(json=ok([instrument(), instrument("SOL", ctVal="0")]))
    venue = _venue()
    assert (await venue.market("BTC")).symbol == "BTC"
    with pytest.raises(BadResponse, match="SOL: market rules unreadable"):
        await venue.market("SOL")
    await venue.close()


async def test_quote_and_book_come_in_base_units(mock: Any) -> None:
    mock.get("/api/v5/market/ticker").respond(
        json=ok(
            [
                {
                    "instId": "BTC-USDT-SWAP",
                    "last": "65000.2",
                    "bidPx": "65000.1",
                    "askPx": "65000.3",
                    "ts": "1765000000000",
                }
            ]
        )
    )
    mock.get("/api/v5/public/funding-rate").respond(
        json=ok([{"fundingRate": "0.0001", "fundingTime": "1765008000000", "nextFundingTime": "1765036800000"}])
    )
    mock.get("/api/v5/public/mark-price").respond(json=ok([{"markPx": "65000.0", "ts": "1765000000000"}]))
    book = mock.get("/api/v5/market/books").respond(
        json=ok(
            [{"bids": [["65000.1", "12", "0", "3"]], "asks": [["65000.3", "4.5", "0", "1"]], "ts": "1765000000000"}]
        )
    )
    venue = _venue()
    quote = await venue.fetch_quote("BTC")
    assert (quote.bid, quote.ask, quote.mark, quote.funding_rate) == (
        D("65000.1"),
        D("65000.3"),
        D("65000.0"),
        D("0.0001"),
    )
    assert quote.funding_interval == timedelta(hours=8)
    depth = await venue.fetch_book("BTC", 5)
    assert [(lv.price, lv.qty) for lv in depth.bids + depth.asks] == [
        (D("65000.1"), D("0.12")),
        (D("65000.3"), D("0.045")),
    ]
    assert book.calls.last.request.url.params["sz"] == "5"
    await venue.close()


# ---- orders ------------------------------------------------------------------------------------


async def test_a_market_order_is_sized_in_contracts_and_returns_at_its_id_only_ack(mock: Any) -> None:
    _net_mode(mock)
    post = mock.post("/api/v5/trade/order").respond(
        json=ok([{"ordId": "7001", "clOrdId": CID, "sCode": "0", "sMsg": "Order placed", "tag": "", "ts": "1"}])
    )
    venue = _venue()
    order = await venue.place_order(_buy("0.03", reduce_only=True))
    assert (order.order_id, order.client_order_id, order.status, order.qty, order.filled_qty) == (
        "7001", CID, OrderStatus.NEW, D("0.03"), D(0)
    )  # fmt: skip
    sent = post.calls.last.request
    assert json.loads(sent.content) == {
        "instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy", "sz": "3", "clOrdId": CID,
        "ordType": "market", "reduceOnly": True,
    }  # fmt: skip
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers[auth.SIGN_HEADER] == _signed_over(sent)
    await venue.close()


async def test_in_long_short_mode_an_order_names_its_side_and_carries_no_reduce_only(mock: Any) -> None:
    mock.get("/api/v5/account/config").respond(json=ok([{"posMode": "long_short_mode"}]))
    post = mock.post("/api/v5/trade/order").respond(json=ok([{"ordId": "7002", "clOrdId": CID, "sCode": "0"}]))
    venue = _venue()
    assert await venue.position_mode() is PositionMode.HEDGE
    await venue.place_order(_buy("0.03", kind=OrderType.LIMIT, reduce_only=True, time_in_force=TimeInForce.POST_ONLY))
    body = json.loads(post.calls.last.request.content)
    assert (body["posSide"], body["ordType"], body["px"], "reduceOnly" in body) == (
        "short",
        "post_only",
        "65000.1",
        False,
    )
    await venue.close()


async def test_an_order_is_not_delayed_by_an_exhausted_read_budget(mock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "RATE_PER_S", 0.001)  # an empty read bucket would take ~1000 s to refill
    monkeypatch.setattr(client_module, "BURST", 2)  # spent on the server time and the instruments
    _net_mode(mock)
    mock.post("/api/v5/trade/order").respond(json=ok([{"ordId": "9", "clOrdId": CID, "sCode": "0"}]))
    venue = _venue()
    order = await asyncio.wait_for(venue.place_order(_buy()), timeout=5)
    assert order.order_id == "9"
    assert mock.routes[0].call_count + mock.routes[1].call_count == 2
    await venue.close()


async def test_a_quantity_off_the_lot_is_refused_before_anything_is_sent(mock: Any) -> None:
    _net_mode(mock)
    post = mock.post("/api/v5/trade/order")
    venue = _venue()
    with pytest.raises(OrderRejected, match=r"0\.0305"):
        await venue.place_order(_buy("0.0305"))
    with pytest.raises(OrderRejected, match="cap"):
        await venue.place_order(_buy("121"))
    assert not post.called
    await venue.close()


async def test_a_prepared_order_is_signed_ahead_and_sent_once(mock: Any) -> None:
    _net_mode(mock)
    post = mock.post("/api/v5/trade/order").respond(json=ok([{"ordId": "7001", "clOrdId": CID, "sCode": "0"}]))
    venue = _venue()
    prepared = await venue.prepare_order(_buy())
    assert not post.called
    assert prepared.wire.url == f"{BASE}/api/v5/trade/order"
    assert "okx-test-key" not in repr(prepared)
    await prepared.send()
    with pytest.raises(RuntimeError, match="never sent twice"):
        await prepared.send()
    assert post.call_count == 1
    assert post.calls.last.request.content == prepared.wire.body
    await venue.close()


async def test_a_timed_out_post_is_reconciled_by_client_id_and_never_resent(mock: Any) -> None:
    _net_mode(mock)
    post = mock.post("/api/v5/trade/order").mock(side_effect=httpx.ReadTimeout("slow"))
    lookup = mock.get("/api/v5/trade/order").mock(
        side_effect=[
            httpx.Response(200, json=refused("51603", "Order does not exist")),
            httpx.Response(200, json=ok([order_row(clOrdId=CID)])),
        ]
    )
    venue = _venue()
    order = await venue.place_order(_buy())
    assert (order.order_id, order.status, order.filled_qty, order.fee) == (
        "7001",
        OrderStatus.FILLED,
        D("0.03"),
        D("0.0975015"),
    )
    assert post.call_count == 1
    assert lookup.calls.last.request.url.params["clOrdId"] == CID
    await venue.close()


async def test_an_order_the_venue_never_saw_is_reported_not_placed(mock: Any) -> None:
    _net_mode(mock)
    post = mock.post("/api/v5/trade/order").respond(500, json=refused("50026", "System error"))
    mock.get("/api/v5/trade/order").respond(json=refused("51603", "Order does not exist"))
    venue = _venue()
    with pytest.raises(Unavailable, match="was not placed"):
        await venue.place_order(_buy())
    assert post.call_count == 1
    await venue.close()


async def test_an_order_that_cannot_be_looked_up_stays_ambiguous(mock: Any) -> None:
    _net_mode(mock)
    post = mock.post("/api/v5/trade/order").respond(200, content=b"<html>gateway</html>")
    mock.get("/api/v5/trade/order").mock(side_effect=httpx.ConnectError("down"))
    venue = _venue()
    with pytest.raises(AmbiguousOrderState, match=CID):
        await venue.place_order(_buy())
    assert post.call_count == 1
    await venue.close()


@pytest.mark.parametrize(
    ("s_code", "error"),
    [("51008", InsufficientFunds), ("51121", OrderRejected), ("51202", OrderRejected), ("59999", OrderRejected)],
)
async def test_a_per_order_refusal_is_raised_without_a_lookup(mock: Any, s_code: str, error: type) -> None:
    _net_mode(mock)
    mock.post("/api/v5/trade/order").respond(json=refused("1", "All operations failed", s_code=s_code, s_msg="no"))
    lookup = mock.get("/api/v5/trade/order")
    venue = _venue()
    with pytest.raises(error) as raised:
        await venue.place_order(_buy())
    assert raised.value.code == s_code
    assert not lookup.called
    await venue.close()


async def test_a_per_order_refusal_under_code_zero_is_still_a_refusal(mock: Any) -> None:
    _net_mode(mock)
    mock.post("/api/v5/trade/order").respond(json=ok([{"ordId": "", "clOrdId": CID, "sCode": "51008", "sMsg": "x"}]))
    venue = _venue()
    with pytest.raises(InsufficientFunds):
        await venue.place_order(_buy())
    await venue.close()


async def test_a_position_side_refusal_makes_the_next_order_read_the_mode_again(mock: Any) -> None:
    config = _net_mode(mock)
    mock.post("/api/v5/trade/order").mock(
        side_effect=[
            httpx.Response(200, json=refused("1", "failed", s_code="51000", s_msg="Parameter posSide error")),
            httpx.Response(200, json=ok([{"ordId": "7003", "clOrdId": CID, "sCode": "0"}])),
        ]
    )
    venue = _venue()
    with pytest.raises(OrderRejected, match="posSide"):
        await venue.place_order(_buy())
    assert config.call_count == 1
    await venue.place_order(_buy())
    assert config.call_count == 2
    await venue.close()


async def test_a_refused_timestamp_on_an_order_signs_it_anew_and_sends_it_once_more(mock: Any) -> None:
    _net_mode(mock)
    post = mock.post("/api/v5/trade/order").mock(
        side_effect=[
            httpx.Response(401, json=refused("50102", "Timestamp request expired")),
            httpx.Response(200, json=ok([{"ordId": "7004", "clOrdId": CID, "sCode": "0"}])),
        ]
    )
    venue = _venue()
    assert (await venue.place_order(_buy())).order_id == "7004"
    first, second = (c.request for c in post.calls)
    assert first.content == second.content  # the same order (the same clOrdId), refused before it was taken
    assert second.headers[auth.SIGN_HEADER] == _signed_over(second)
    await venue.close()


async def test_cancel_of_a_filled_order_returns_its_final_state_and_of_an_unknown_one_raises(mock: Any) -> None:
    cancel = mock.post("/api/v5/trade/cancel-order").respond(
        json=refused("1", "failed", s_code="51402", s_msg="Order cancellation failed as the order has been filled")
    )
    lookup = mock.get("/api/v5/trade/order").mock(
        side_effect=[
            httpx.Response(200, json=ok([order_row()])),
            httpx.Response(200, json=refused("51603", "Order does not exist")),
        ]
    )
    venue = _venue()
    final = await venue.cancel_order("BTC", order_id="7001")
    assert (final.status, final.filled_qty) == (OrderStatus.FILLED, D("0.03"))
    with pytest.raises(OrderNotFound):
        await venue.cancel_order("BTC", client_order_id="nosuch")
    assert json.loads(cancel.calls.last.request.content) == {"instId": "BTC-USDT-SWAP", "clOrdId": "nosuch"}
    assert lookup.call_count == 2
    await venue.close()


async def test_a_cancelled_order_reads_its_final_state_and_fee_from_the_fills(mock: Any) -> None:
    mock.post("/api/v5/trade/cancel-order").respond(json=ok([{"ordId": "7001", "clOrdId": "hc1", "sCode": "0"}]))
    mock.get("/api/v5/trade/order").respond(
        json=ok([order_row(state="canceled", ordType="limit", px="64000", sz="5", accFillSz="2", fee="", avgPx="")])
    )
    fills = mock.get("/api/v5/trade/fills-history").respond(
        json=ok(
            [
                fill_row(fillSz="1", fillPx="64000", fee="-0.01", tradeId="2"),
                fill_row(fillSz="1", fillPx="64000", fee="-0.02", tradeId="1"),
            ]
        )
    )
    venue = _venue()
    order = await venue.cancel_order("BTC", order_id="7001")
    assert (order.status, order.filled_qty, order.avg_price, order.fee, order.fee_asset) == (
        OrderStatus.CANCELED, D("0.02"), D("64000"), D("0.03"), "USDT"
    )  # fmt: skip
    assert fills.calls.last.request.url.params["ordId"] == "7001"
    await venue.close()


async def test_open_orders_are_read_page_after_page(mock: Any) -> None:
    full = [order_row(ordId=str(9000 - i), state="live", accFillSz="0", avgPx="", fee="0") for i in range(100)]
    pending = mock.get("/api/v5/trade/orders-pending").mock(
        side_effect=[
            httpx.Response(200, json=ok(full)),
            httpx.Response(
                200, json=ok([order_row(ordId="1", state="live", accFillSz="0", avgPx="", instId="DOGE-USDT-SWAP")])
            ),
        ]
    )
    venue = _venue()
    orders = await venue.fetch_open_orders()
    assert len(orders) == 100
    assert pending.calls[1].request.url.params["after"] == "8901"
    await venue.close()


async def test_positions_take_their_sign_from_pos_or_pos_side(mock: Any) -> None:
    rows = [
        {"instId": "BTC-USDT-SWAP", "posSide": "net", "pos": "-30", "avgPx": "65000", "markPx": "65010", "upl": "-3",
         "liqPx": "", "lever": "10", "mgnMode": "cross"},
        {"instId": "BTC-USDT-SWAP", "posSide": "long", "pos": "2", "avgPx": "65000", "mgnMode": "cross"},
        {"instId": "BTC-USDT-SWAP", "posSide": "short", "pos": "0", "avgPx": ""},
    ]  # fmt: skip
    mock.get("/api/v5/account/positions").respond(json=ok(rows))
    venue = _venue()
    positions = await venue.fetch_positions("BTC")
    assert [(p.qty, p.label, p.liquidation_price, p.leverage) for p in positions] == [
        (D("-0.30"), "BTC", None, D(10)), (D("0.02"), "BTC long", None, None)
    ]  # fmt: skip
    await venue.close()


def test_the_adapter_module_does_not_import_ccxt() -> None:
    import subprocess
    import sys

    code = "import sys, hedgectl.venues.okx.venue, hedgectl.venues.okx.stream; print('ccxt' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
