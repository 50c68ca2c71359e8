"""Backpack signing and raw client: known answers, ccxt's own signing, exact requests, error mapping."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import ccxt
import httpx
import pytest
import respx
from nacl.signing import VerifyKey
from pydantic import SecretStr

from hedgectl.domain.types import Mode
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
    VenueError,
)
from hedgectl.venues.backpack import auth
from hedgectl.venues.backpack.client import BackpackClient, depth_limit, map_error
from hedgectl.venues.config import VenueConfig

# The keypair of Backpack's support Python guide (reference §4.2).
KEY = "zDIJj9qneWIY0IYZ5aXoHcNMCm+XDhVcTssiT0HyY0A="
SEED = "4odxgSUxFrC/zsKWZF4OQwYAgnNu9hnWH3NxWfLAPz4="
BASE = "https://api.backpack.exchange"
TS = 1614550000000


def make_config(base_url: str = BASE, **overrides: Any) -> VenueConfig:
    return VenueConfig(
        name="backpack",
        mode=Mode.LIVE,
        base_url=base_url,
        credentials={"api_key": SecretStr(KEY), "api_secret": SecretStr(SEED)},
        **overrides,
    )


async def no_sleep(_: float) -> None:
    return None


def ccxt_exchange() -> Any:
    exchange = ccxt.backpack({"apiKey": KEY, "secret": SEED})
    return exchange


def ccxt_signature(path: str, method: str, params: Any, timestamp: int) -> dict[str, str]:
    """ccxt's headers for the same request at the same timestamp."""
    exchange = ccxt_exchange()
    exchange.nonce = lambda: timestamp
    signed = exchange.sign(path.lstrip("/"), ["private"], method, params)
    return dict(signed["headers"])


def sent_params(request: httpx.Request) -> Any:
    if request.method == "GET":
        return dict(request.url.params)
    return json.loads(request.content)


def assert_signed(request: httpx.Request, instruction: str) -> None:
    """The request carries our key and a valid signature over exactly what was sent, equal to ccxt's."""
    headers = request.headers
    assert headers["X-API-Key"] == KEY
    assert headers["X-Window"] == "5000"
    timestamp = int(headers["X-Timestamp"])
    params = sent_params(request)
    message = auth.signing_string(instruction, params, timestamp, 5000)
    VerifyKey(base64.b64decode(KEY)).verify(message.encode(), base64.b64decode(headers["X-Signature"]))
    path = request.url.path
    theirs = ccxt_signature(path, request.method, params, timestamp)
    assert theirs["X-Signature"] == headers["X-Signature"]


# --- signing --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instruction", "params", "expected"),
    [
        (
            "orderCancel",
            {"orderId": 28, "symbol": "BTC_USDT"},
            "zEG6YnoeAYkxY4tNgJfWnjcPTBa501irFgBnArYXORzexlr9mrjflWI6Wm/YwimVZGe9PARP/mZxOHXsvhuZBw==",
        ),
        (
            "subscribe",
            None,
            "JET04e2DKxa3MzJX+vHAvZ2t85IDCQV0Yvkne6ZioCLxZhaDPHACzfEFkaACTR+J2WlVJjGX2nICcJMwOK8zAw==",
        ),
        (
            "balanceQuery",
            {},
            "qz9CmzCkuYD4Y2s2ifeL3MBHc3NtCapiiHhZm1px08FqkZFuHSO5sohI+MKABd02yXwf7EviULr6IGRs/kRsDw==",
        ),
    ],
)
def test_signature_matches_the_computed_reference_vectors(
    instruction: str, params: dict[str, object] | None, expected: str
) -> None:
    headers = auth.signed_headers(SEED, instruction, params, TS, 5000)
    assert headers == {"X-API-Key": KEY, "X-Signature": expected, "X-Timestamp": str(TS), "X-Window": "5000"}


def test_signing_string_of_the_documented_cancel_example() -> None:
    text = auth.signing_string("orderCancel", {"symbol": "BTC_USDT", "orderId": 28}, TS, 5000)
    assert text == "instruction=orderCancel&orderId=28&symbol=BTC_USDT&timestamp=1614550000000&window=5000"
    assert auth.signing_string("balanceQuery", None, TS, 60000) == (
        "instruction=balanceQuery&timestamp=1614550000000&window=60000"
    )


@pytest.mark.parametrize(
    ("path", "method", "params"),
    [
        ("/api/v1/order", "DELETE", {"orderId": 28, "symbol": "BTC_USDT"}),
        (
            "/api/v1/order",
            "POST",
            {
                "symbol": "BTC_USDC_PERP",
                "side": "Bid",
                "orderType": "Limit",
                "quantity": "0.001",
                "price": "95000.5",
                "postOnly": True,
                "reduceOnly": False,
                "clientId": 4294967295,
            },
        ),
        ("/wapi/v1/history/fills", "GET", {"fillType": "User", "symbol": "SOL_USDC_PERP", "orderId": "123"}),
        ("/api/v1/capital", "GET", {}),
    ],
)
def test_signature_equals_ccxt_signing_the_same_request(path: str, method: str, params: dict[str, object]) -> None:
    instruction = auth.INSTRUCTIONS[(method, path)]
    ours = auth.signed_headers(SEED, instruction, params, TS, 5000)
    theirs = ccxt_signature(path, method, params, TS)
    assert {k: theirs[k] for k in ours} == ours


def test_batch_orders_sign_one_segment_per_order_like_ccxt() -> None:
    orders: list[dict[str, object]] = [
        {"symbol": "SOL_USDC_PERP", "side": "Bid", "orderType": "Limit", "quantity": "1", "price": "150"},
        {"symbol": "SOL_USDC_PERP", "side": "Ask", "orderType": "Market", "quantity": "2", "reduceOnly": True},
    ]
    text = auth.signing_string("orderExecute", orders, TS, 5000)
    assert text == (
        "instruction=orderExecute&orderType=Limit&price=150&quantity=1&side=Bid&symbol=SOL_USDC_PERP"
        "&instruction=orderExecute&orderType=Market&quantity=2&reduceOnly=true&side=Ask&symbol=SOL_USDC_PERP"
        "&timestamp=1614550000000&window=5000"
    )
    theirs = ccxt_signature("/api/v1/orders", "POST", orders, TS)
    assert auth.signed_headers(SEED, "orderExecute", orders, TS, 5000)["X-Signature"] == theirs["X-Signature"]


def test_values_are_written_unquoted_and_booleans_lower_case() -> None:
    assert auth.wire_value(True) == "true"
    assert auth.wire_value(False) == "false"
    assert auth.wire_value(Decimal("0.0010")) == "0.0010"
    assert auth.wire_value(7) == "7"
    with pytest.raises(TypeError):
        auth.wire_value(1.5)


def test_keypair_check_accepts_the_matching_pair_and_refuses_others() -> None:
    assert auth.public_key_b64(SEED) == KEY
    assert auth.check_keypair(KEY, SEED)
    other_seed = base64.b64encode(bytes(range(32))).decode()
    assert not auth.check_keypair(KEY, other_seed)
    with pytest.raises(auth.KeyFormatError) as info:
        auth.check_keypair(KEY, "not base64 !!")
    assert "not base64 !!" not in str(info.value)
    with pytest.raises(auth.KeyFormatError):
        auth.check_keypair(KEY, base64.b64encode(b"short").decode())


# --- requests -------------------------------------------------------------------------------------------


def mock_time(mock: respx.MockRouter, offset_ms: int = 0) -> respx.Route:
    return mock.get(BASE + "/api/v1/time").respond(
        200, text=str(int(time.time() * 1000) + offset_ms), headers={"Content-Type": "text/plain"}
    )


Call = Callable[[BackpackClient], Awaitable[object]]

SIGNED_ENDPOINTS: list[tuple[str, Call, str, str, dict[str, str] | None, Any]] = [
    (
        "post_order",
        lambda c: c.post_order({"symbol": "BTC_USDC_PERP", "side": "Bid", "orderType": "Market", "quantity": "0.01"}),
        "POST",
        "/api/v1/order",
        None,
        {"orderType": "Market", "quantity": "0.01", "side": "Bid", "symbol": "BTC_USDC_PERP"},
    ),
    (
        "delete_order",
        lambda c: c.delete_order("BTC_USDC_PERP", order_id="111"),
        "DELETE",
        "/api/v1/order",
        None,
        {"orderId": "111", "symbol": "BTC_USDC_PERP"},
    ),
    (
        "delete_order_by_client_id",
        lambda c: c.delete_order("BTC_USDC_PERP", client_id=42),
        "DELETE",
        "/api/v1/order",
        None,
        {"clientId": 42, "symbol": "BTC_USDC_PERP"},
    ),
    (
        "get_order",
        lambda c: c.get_order("BTC_USDC_PERP", client_id=42),
        "GET",
        "/api/v1/order",
        {"clientId": "42", "symbol": "BTC_USDC_PERP"},
        None,
    ),
    (
        "get_open_orders",
        lambda c: c.get_open_orders("ETH_USDC_PERP"),
        "GET",
        "/api/v1/orders",
        {"marketType": "PERP", "symbol": "ETH_USDC_PERP"},
        None,
    ),
    (
        "delete_orders",
        lambda c: c.delete_orders("ETH_USDC_PERP"),
        "DELETE",
        "/api/v1/orders",
        None,
        {"symbol": "ETH_USDC_PERP"},
    ),
    (
        "get_order_history",
        lambda c: c.get_order_history(symbol="BTC_USDC_PERP", order_id="111"),
        "GET",
        "/wapi/v1/history/orders",
        {"marketType": "PERP", "orderId": "111", "sortDirection": "Desc", "symbol": "BTC_USDC_PERP"},
        None,
    ),
    (
        "get_fills",
        lambda c: c.get_fills(symbol="BTC_USDC_PERP", order_id="111", from_ms=1700000000000, limit=1000),
        "GET",
        "/wapi/v1/history/fills",
        {
            "fillType": "User",
            "from": "1700000000000",
            "limit": "1000",
            "marketType": "PERP",
            "orderId": "111",
            "symbol": "BTC_USDC_PERP",
        },
        None,
    ),
    ("get_positions", lambda c: c.get_positions(), "GET", "/api/v1/position", {}, None),
    ("get_capital", lambda c: c.get_capital(), "GET", "/api/v1/capital", {}, None),
    ("get_collateral", lambda c: c.get_collateral(), "GET", "/api/v1/capital/collateral", {}, None),
    (
        "get_funding_history",
        lambda c: c.get_funding_history(symbol="SOL_USDC_PERP", limit=10),
        "GET",
        "/wapi/v1/history/funding",
        {"limit": "10", "symbol": "SOL_USDC_PERP"},
        None,
    ),
]


@pytest.mark.parametrize(
    ("call", "method", "path", "query", "body"),
    [pytest.param(*row[1:], id=row[0]) for row in SIGNED_ENDPOINTS],
)
async def test_signed_endpoint_sends_exactly_this_request(
    call: Call, method: str, path: str, query: dict[str, str] | None, body: Any
) -> None:
    client = BackpackClient(make_config(), sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock_time(mock)
        route = mock.request(method, BASE + path).respond(200, json=[])
        assert await call(client) == []
    await client.aclose()
    request = route.calls.last.request
    assert request.url.path == path
    if query is not None:
        assert dict(request.url.params) == query
        assert request.content == b""
    if body is not None:
        assert json.loads(request.content) == body
        assert request.headers["Content-Type"] == "application/json"
        # keys sorted and compact, as ccxt sends them
        assert request.content == json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    assert_signed(request, auth.INSTRUCTIONS[(method, path)])


PUBLIC_ENDPOINTS: list[tuple[str, Call, str, dict[str, str]]] = [
    ("get_markets", lambda c: c.get_markets(), "/api/v1/markets", {"marketType": "PERP"}),
    ("get_market", lambda c: c.get_market("BTC_USDC_PERP"), "/api/v1/market", {"symbol": "BTC_USDC_PERP"}),
    ("get_ticker", lambda c: c.get_ticker("BTC_USDC_PERP"), "/api/v1/ticker", {"symbol": "BTC_USDC_PERP"}),
    (
        "get_depth",
        lambda c: c.get_depth("BTC_USDC_PERP", 7),
        "/api/v1/depth",
        {"limit": "10", "symbol": "BTC_USDC_PERP"},
    ),
    (
        "get_mark_prices",
        lambda c: c.get_mark_prices("BTC_USDC_PERP"),
        "/api/v1/markPrices",
        {"symbol": "BTC_USDC_PERP"},
    ),
]


@pytest.mark.parametrize(("call", "path", "query"), [pytest.param(*row[1:], id=row[0]) for row in PUBLIC_ENDPOINTS])
async def test_public_endpoint_sends_an_unsigned_request(call: Call, path: str, query: dict[str, str]) -> None:
    client = BackpackClient(make_config(), sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        route = mock.get(BASE + path).respond(200, json={"ok": True})
        assert await call(client) == {"ok": True}
    await client.aclose()
    request = route.calls.last.request
    assert dict(request.url.params) == query
    assert "X-Signature" not in request.headers
    assert "X-API-Key" not in request.headers


def test_depth_limit_rounds_up_to_an_accepted_value() -> None:
    assert [depth_limit(n) for n in (1, 5, 6, 20, 21, 500, 501, 5000)] == [5, 5, 10, 20, 50, 500, 1000, 1000]


async def test_server_time_is_text_plain_and_its_offset_goes_into_x_timestamp() -> None:
    client = BackpackClient(make_config(), sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        time_route = mock_time(mock, offset_ms=120_000)
        route = mock.get(BASE + "/api/v1/capital").respond(200, json={})
        await client.get_capital()
        await client.get_capital()
    await client.aclose()
    assert time_route.call_count == 1  # measured once, reused
    sent = int(route.calls.last.request.headers["X-Timestamp"])
    assert abs(sent - (time.time() * 1000 + 120_000)) < 5_000
    assert abs(client.offset.offset_ms - 120_000) < 5_000


@pytest.mark.parametrize("body", ["", "<html>502</html>", "1.7e12", "17000"])
async def test_server_time_that_is_not_epoch_ms_is_a_bad_response(body: str) -> None:
    client = BackpackClient(make_config(), sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock.get(BASE + "/api/v1/time").respond(200, text=body)
        with pytest.raises(BadResponse):
            await client.get_time()
    await client.aclose()


async def test_recv_window_and_extra_headers_come_from_the_config() -> None:
    client = BackpackClient(make_config(recv_window_ms=20_000, headers={"X-Extra": "1"}), sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock_time(mock)
        route = mock.get(BASE + "/api/v1/capital").respond(200, json={})
        await client.get_capital()
    await client.aclose()
    request = route.calls.last.request
    assert request.headers["X-Window"] == "20000"
    assert request.headers["X-Extra"] == "1"
    message = auth.signing_string("balanceQuery", {}, int(request.headers["X-Timestamp"]), 20_000)
    VerifyKey(base64.b64decode(KEY)).verify(message.encode(), base64.b64decode(request.headers["X-Signature"]))


async def test_a_signed_call_without_credentials_is_a_config_error() -> None:
    config = VenueConfig(name="backpack", mode=Mode.LIVE, base_url=BASE)
    client = BackpackClient(config, sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True), pytest.raises(ConfigError):
        await client.get_capital()
    await client.aclose()


async def test_base_url_with_a_path_prefix_is_kept() -> None:
    client = BackpackClient(make_config("http://127.0.0.1:9/backpack"), sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        route = mock.get("http://127.0.0.1:9/backpack/api/v1/ticker").respond(200, json={})
        await client.get_ticker("SOL_USDC_PERP")
    await client.aclose()
    assert route.called


# --- host guard -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://evil.example/api/v1/markets", "http://api.backpack.exchange/api/v1/markets", "http://127.0.0.1:9/okx/x"],
)
async def test_host_guard_refuses_any_other_origin_before_sending(url: str) -> None:
    base = "http://127.0.0.1:9/backpack" if "127.0.0.1" in url else BASE
    client = BackpackClient(make_config(base), sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        with pytest.raises(ConfigError, match="refusing"):
            await client.http.get(url)
        assert mock.calls.call_count == 0
    await client.aclose()


# --- error mapping --------------------------------------------------------------------------------------


def err(code: str, message: str = "m") -> bytes:
    return json.dumps({"code": code, "message": message}).encode()


@pytest.mark.parametrize(
    ("status", "body", "method", "path", "expected"),
    [
        (401, err("INVALID_SIGNATURE"), "GET", "/api/v1/capital", AuthError),
        (401, err("UNAUTHORIZED"), "GET", "/api/v1/capital", AuthError),
        (403, err("FORBIDDEN"), "POST", "/api/v1/order", AuthError),
        (400, err("INSUFFICIENT_FUNDS"), "POST", "/api/v1/order", InsufficientFunds),
        (400, err("INSUFFICIENT_MARGIN"), "POST", "/api/v1/order", InsufficientFunds),
        (400, err("INVALID_ORDER"), "POST", "/api/v1/order", OrderRejected),
        (400, err("INVALID_PRICE"), "POST", "/api/v1/order", OrderRejected),
        (400, err("INVALID_QUANTITY"), "POST", "/api/v1/order", OrderRejected),
        (400, err("INVALID_CLIENT_REQUEST"), "POST", "/api/v1/order", OrderRejected),
        (400, err("POSITION_LIMIT"), "POST", "/api/v1/order", OrderRejected),
        (400, err("ORDER_LIMIT"), "POST", "/api/v1/order", OrderRejected),
        (400, err("INVALID_MARKET"), "GET", "/api/v1/depth", SymbolNotListed),
        (400, err("INVALID_SYMBOL"), "POST", "/api/v1/order", SymbolNotListed),
        (429, err("TOO_MANY_REQUESTS"), "GET", "/api/v1/depth", RateLimited),
        (429, err("TOO_MANY_REQUESTS"), "POST", "/api/v1/order", RateLimited),
        (429, b"Too Many Requests", "GET", "/api/v1/depth", RateLimited),
        (500, err("SERVER_ERROR"), "GET", "/api/v1/depth", Unavailable),
        (503, err("MAINTENANCE"), "GET", "/api/v1/depth", Unavailable),
        (503, err("MAINTENANCE"), "POST", "/api/v1/order", Unavailable),
        (503, b"<html>Service Unavailable</html>", "GET", "/api/v1/depth", Unavailable),
        (500, err("SERVER_ERROR"), "POST", "/api/v1/order", AmbiguousOrderState),
        (502, b"<html>Bad Gateway</html>", "POST", "/api/v1/order", AmbiguousOrderState),
        (404, err("RESOURCE_NOT_FOUND"), "GET", "/api/v1/order", OrderNotFound),
        (404, err("RESOURCE_NOT_FOUND"), "DELETE", "/api/v1/order", OrderNotFound),
        (404, err("RESOURCE_NOT_FOUND"), "GET", "/api/v1/market", SymbolNotListed),
        (400, b"Bad Request parse request payload error: failed", "POST", "/api/v1/order", BadResponse),
        (400, b"<html><body>nope</body></html>", "GET", "/api/v1/depth", BadResponse),
        (400, b"", "GET", "/api/v1/depth", BadResponse),
        (401, b"Unauthorized", "GET", "/api/v1/capital", AuthError),
    ],
)
def test_error_replies_map_to_the_taxonomy(
    status: int, body: bytes, method: str, path: str, expected: type[VenueError]
) -> None:
    error = map_error(status, body, method, path)
    assert type(error) is expected
    assert error.venue == "backpack"
    assert SEED not in str(error)


def test_an_unknown_code_is_still_a_venue_error_with_its_code() -> None:
    error = map_error(400, err("INVALID_RANGE", "bad range"), "GET", "/wapi/v1/history/fills")
    assert isinstance(error, VenueError)
    assert error.code == "INVALID_RANGE"
    assert "bad range" in str(error)


async def test_a_read_is_retried_on_500_then_succeeds() -> None:
    client = BackpackClient(make_config(), sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        route = mock.get(BASE + "/api/v1/ticker").mock(
            side_effect=[
                httpx.Response(500, content=err("SERVER_ERROR")),
                httpx.Response(429, content=err("TOO_MANY_REQUESTS")),
                httpx.Response(200, json={"lastPrice": "1"}),
            ]
        )
        assert await client.get_ticker("BTC_USDC_PERP") == {"lastPrice": "1"}
    await client.aclose()
    assert route.call_count == 3


async def test_a_read_timeout_is_retried_then_unavailable() -> None:
    client = BackpackClient(make_config(), sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        route = mock.get(BASE + "/api/v1/depth").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(Unavailable):
            await client.get_depth("BTC_USDC_PERP")
    await client.aclose()
    assert route.call_count == 4


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("reset"),
        httpx.Response(500, content=err("SERVER_ERROR")),
        httpx.Response(200, text="<html>ok?</html>"),
    ],
)
async def test_an_order_post_with_unknown_outcome_is_ambiguous_and_never_resent(failure: Any) -> None:
    client = BackpackClient(make_config(), sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock_time(mock)
        route = mock.post(BASE + "/api/v1/order").mock(side_effect=[failure])
        with pytest.raises(AmbiguousOrderState):
            await client.post_order({"symbol": "BTC_USDC_PERP"})
    await client.aclose()
    assert route.call_count == 1


async def test_an_order_post_that_cannot_connect_was_certainly_not_sent() -> None:
    client = BackpackClient(make_config(), sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock_time(mock)
        route = mock.post(BASE + "/api/v1/order").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(Unavailable):
            await client.post_order({"symbol": "BTC_USDC_PERP"})
    await client.aclose()
    assert route.call_count == 1


async def test_no_position_is_a_404_and_reads_as_an_empty_list() -> None:
    client = BackpackClient(make_config(), sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock_time(mock)
        mock.get(BASE + "/api/v1/position").respond(404, content=err("RESOURCE_NOT_FOUND"))
        assert await client.get_positions() == []
    await client.aclose()


async def test_a_2xx_html_reply_to_a_read_is_a_bad_response() -> None:
    client = BackpackClient(make_config(), sleep=no_sleep)
    with respx.mock(assert_all_called=True, assert_all_mocked=True) as mock:
        mock.get(BASE + "/api/v1/markets").respond(200, text="<!doctype html><title>Just a moment</title>")
        with pytest.raises(BadResponse, match="not JSON"):
            await client.get_markets()
    await client.aclose()
