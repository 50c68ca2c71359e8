"""Backpack wire -> domain: realistic replies parse exactly; anything malformed is a BadResponse, never a number."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hedgectl.domain.ids import uint32_client_id
from hedgectl.domain.types import (
    Market,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from hedgectl.errors import BadResponse
from hedgectl.venues.backpack import parse, parse_orders
from hedgectl.venues.kit.wire import decode_json

# --- realistic replies (shapes from Backpack's docs and ccxt's comments) ---------------------------------

PERP_MARKET: dict[str, Any] = {
    "baseSymbol": "SOL",
    "createdAt": "2025-01-21T06:34:54.691858",
    "filters": {
        "price": {
            "maxImpactMultiplier": "1.03",
            "maxMultiplier": "1.25",
            "maxPrice": "1000",
            "meanMarkPriceBand": {"maxMultiplier": "1.1", "minMultiplier": "0.9"},
            "meanPremiumBand": {"tolerancePct": "0.05"},
            "minImpactMultiplier": "0.97",
            "minMultiplier": "0.75",
            "minPrice": "0.01",
            "tickSize": "0.01",
        },
        "quantity": {"maxQuantity": None, "minQuantity": "0.01", "stepSize": "0.01"},
    },
    "fundingInterval": "3600000",
    "fundingRateLowerBound": "-100",
    "fundingRateUpperBound": "100",
    "imfFunction": {"base": "0.02", "factor": "0.0001275", "type": "sqrt"},
    "marketType": "PERP",
    "mmfFunction": {"base": "0.0125", "factor": "0.0000765", "type": "sqrt"},
    "openInterestLimit": "4000000",
    "orderBookState": "Open",
    "quoteSymbol": "USDC",
    "symbol": "SOL_USDC_PERP",
}
SPOT_MARKET: dict[str, Any] = {**copy.deepcopy(PERP_MARKET), "marketType": "SPOT", "symbol": "SOL_USDC"}
BTC_MARKET: dict[str, Any] = {
    **copy.deepcopy(PERP_MARKET),
    "baseSymbol": "BTC",
    "symbol": "BTC_USDC_PERP",
    "fundingInterval": 28800000,
    "filters": {
        "price": {"tickSize": "0.1", "minPrice": "0.1"},
        "quantity": {"minQuantity": "0.00001", "stepSize": "0.00001", "maxQuantity": "100"},
    },
}
# Both sides ascending, as Backpack is reported to send them.
DEPTH: dict[str, Any] = {
    "asks": [["150.10", "3.5"], ["150.11", "1"], ["150.30", "0"], ["150.50", "8"]],
    "bids": [["149.80", "2"], ["149.90", "4"], ["150.00", "1.25"]],
    "lastUpdateId": "1684026955123",
    "timestamp": 1753131712992123,
}
TICKER: dict[str, Any] = {
    "firstPrice": "148.2",
    "high": "151",
    "lastPrice": "150.05",
    "low": "147",
    "priceChange": "1.85",
    "priceChangePercent": "0.0125",
    "quoteVolume": "1000000",
    "symbol": "SOL_USDC_PERP",
    "trades": "12345",
    "volume": "6700",
}
MARK_PRICES: list[dict[str, Any]] = [
    {
        "fundingRate": "0.0001",
        "indexPrice": "118333.18643195",
        "markPrice": "118343.51853741",
        "nextFundingTimestamp": 1753113600000,
        "symbol": "BTC_USDC_PERP",
    },
    {
        "fundingRate": "-0.0000125",
        "indexPrice": "150.01",
        "markPrice": "150.02",
        "nextFundingTimestamp": 1753113600000,
        "symbol": "SOL_USDC_PERP",
    },
]
OPEN_ORDER: dict[str, Any] = {
    "clientId": 123456789,
    "createdAt": 1753626206762,
    "executedQuantity": "0.4",
    "executedQuoteQuantity": "60.04",
    "id": "4228978331",
    "orderType": "Limit",
    "postOnly": True,
    "price": "150.1",
    "quantity": "1",
    "reduceOnly": None,
    "relatedOrderId": None,
    "selfTradePrevention": "RejectTaker",
    "side": "Ask",
    "status": "PartiallyFilled",
    "symbol": "SOL_USDC_PERP",
    "timeInForce": "GTC",
    "triggerPrice": None,
}
FILLED_MARKET_ORDER: dict[str, Any] = {
    "clientId": None,
    "createdAt": 1753624283415,
    "executedQuantity": "0.001",
    "executedQuoteQuantity": "118.3435",
    "id": "4227701917",
    "orderType": "Market",
    "quantity": "0.001",
    "quoteQuantity": "118.35",
    "reduceOnly": True,
    "selfTradePrevention": "RejectTaker",
    "side": "Bid",
    "status": "Filled",
    "symbol": "BTC_USDC_PERP",
    "timeInForce": "GTC",
}
HISTORY_ORDER: dict[str, Any] = {
    "clientId": 42,
    "createdAt": "2025-07-27T18:05:40.897",
    "executedQuantity": "0",
    "executedQuoteQuantity": "0",
    "expiryReason": "PostOnlyTaker",
    "id": "4239996998",
    "orderType": "Limit",
    "postOnly": True,
    "price": "4500",
    "quantity": "0.5",
    "quoteQuantity": None,
    "selfTradePrevention": "RejectTaker",
    "side": "Ask",
    "status": "Expired",
    "symbol": "ETH_USDC_PERP",
    "systemOrderType": None,
    "timeInForce": "GTC",
}
FILL: dict[str, Any] = {
    "clientId": None,
    "fee": "0.004974",
    "feeSymbol": "USDC",
    "isMaker": False,
    "orderId": "4238907375",
    "price": "3826.15",
    "quantity": "0.0026",
    "side": "Bid",
    "symbol": "ETH_USDC_PERP",
    "systemOrderType": None,
    "timestamp": "2025-07-27T17:39:00.092",
    "tradeId": 9748827,
}
POSITION: dict[str, Any] = {
    "breakEvenPrice": "3831.3630555555555555555555556",
    "cumulativeFundingPayment": "-0.009218",
    "entryPrice": "3826.8888888888888888888888889",
    "estLiquidationPrice": "0",
    "imf": "0.02",
    "markPrice": "3787.46813304",
    "mmf": "0.0125",
    "netCost": "-13.7768",
    "netExposureNotional": "13.634885278944",
    "netExposureQuantity": "0.0046",
    "netQuantity": "-0.0036",
    "pnlRealized": "0",
    "pnlUnrealized": "-0.141914",
    "positionId": "4238420454",
    "subaccountId": None,
    "symbol": "ETH_USDC_PERP",
    "userId": 1813870,
}
COLLATERAL: dict[str, Any] = {
    "assetsValue": "10000",
    "borrowLiability": "0",
    "collateral": [
        {
            "symbol": "USDC",
            "assetMarkPrice": "1",
            "totalQuantity": "10000.5",
            "balanceNotional": "10000.5",
            "collateralWeight": "1",
            "collateralValue": "10000.5",
            "openOrderQuantity": "0",
            "lendQuantity": "0",
            "availableQuantity": "9000.25",
        }
    ],
    "imf": "0.02",
    "mmf": "0.0125",
    "netEquity": "10000.5",
    "netEquityAvailable": "9000.25",
    "netEquityLocked": "1000.25",
    "pnlUnrealized": "0",
}
CAPITAL: dict[str, Any] = {"USDC": {"available": "120", "locked": "3.5", "staked": "0"}}


# --- markets --------------------------------------------------------------------------------------------


def test_markets_keep_only_perps_keyed_by_base_with_their_rules_and_funding_interval() -> None:
    markets = parse.parse_markets([SPOT_MARKET, PERP_MARKET, BTC_MARKET])
    assert set(markets) == {"SOL", "BTC"}
    sol, sol_interval = markets["SOL"]
    assert sol == Market(
        venue="backpack",
        symbol="SOL",
        venue_symbol="SOL_USDC_PERP",
        base="SOL",
        quote="USDC",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.01"),
        min_qty=Decimal("0.01"),
        min_notional=Decimal(0),
        max_qty=None,
    )
    assert sol_interval == timedelta(hours=1)
    btc, btc_interval = markets["BTC"]
    assert btc.max_qty == Decimal(100)
    assert btc.step_size == Decimal("0.00001")
    assert btc_interval == timedelta(hours=8)


def test_a_usdc_perp_wins_over_another_quote_for_the_same_base() -> None:
    usdt = {**copy.deepcopy(PERP_MARKET), "quoteSymbol": "USDT", "symbol": "SOL_USDT_PERP"}
    markets = parse.parse_markets([PERP_MARKET, usdt])
    assert markets["SOL"][0].venue_symbol == "SOL_USDC_PERP"
    markets = parse.parse_markets([usdt, PERP_MARKET])
    assert markets["SOL"][0].venue_symbol == "SOL_USDC_PERP"


def test_depth_is_resorted_best_first_whatever_the_wire_order() -> None:
    book = parse.parse_depth(DEPTH, "SOL", 5)
    assert [lv.price for lv in book.bids] == [Decimal("150.00"), Decimal("149.90"), Decimal("149.80")]
    assert [lv.price for lv in book.asks] == [Decimal("150.10"), Decimal("150.11"), Decimal("150.50")]
    assert book.bids[0].qty == Decimal("1.25")
    assert book.at == datetime(2025, 7, 21, 21, 1, 52, 992123, tzinfo=UTC)
    assert len(parse.parse_depth(DEPTH, "SOL", 1).asks) == 1


def test_mark_price_entry_is_found_by_symbol() -> None:
    info = parse.parse_mark_price(MARK_PRICES, "SOL_USDC_PERP")
    assert info.mark == Decimal("150.02")
    assert info.funding_rate == Decimal("-0.0000125")
    assert info.next_funding_at == datetime(2025, 7, 21, 16, 0, tzinfo=UTC)
    with pytest.raises(BadResponse, match="no entry"):
        parse.parse_mark_price(MARK_PRICES, "ETH_USDC_PERP")


def test_ticker_last_price() -> None:
    assert parse.parse_last_price(TICKER) == Decimal("150.05")
    assert parse.parse_last_price({**TICKER, "lastPrice": None}) is None


def test_server_time_is_a_bare_integer() -> None:
    assert parse.parse_server_time(b"1753131712992\n") == 1753131712992
    with pytest.raises(BadResponse):
        parse.parse_server_time(b'{"serverTime": 1753131712992}')


# --- orders and fills -----------------------------------------------------------------------------------


def test_open_order_maps_sides_statuses_and_average_price() -> None:
    order = parse_orders.parse_order(OPEN_ORDER, "SOL", {123456789: "hcabc"})
    assert order.order_id == "4228978331"
    assert order.client_order_id == "hcabc"
    assert order.side is Side.SELL
    assert order.type is OrderType.LIMIT
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.qty == Decimal(1)
    assert order.filled_qty == Decimal("0.4")
    assert order.avg_price == Decimal("150.1")
    assert order.price == Decimal("150.1")
    assert order.reduce_only is False
    assert order.created_at == datetime(2025, 7, 27, 14, 23, 26, 762000, tzinfo=UTC)


def test_unknown_client_id_is_kept_as_its_decimal_string() -> None:
    assert parse_orders.parse_order(OPEN_ORDER, "SOL").client_order_id == "123456789"
    assert parse_orders.parse_order(FILLED_MARKET_ORDER, "BTC").client_order_id is None


def test_filled_market_order() -> None:
    order = parse_orders.parse_order(FILLED_MARKET_ORDER, "BTC")
    assert order.status is OrderStatus.FILLED
    assert order.type is OrderType.MARKET
    assert order.side is Side.BUY
    assert order.price is None
    assert order.avg_price == Decimal("118343.5")
    assert order.reduce_only is True


def test_history_order_with_iso_time_and_post_only_expiry_is_an_expired_order() -> None:
    order = parse_orders.parse_order(HISTORY_ORDER, "ETH")
    assert order.status is OrderStatus.EXPIRED
    assert order.avg_price is None
    assert order.created_at == datetime(2025, 7, 27, 18, 5, 40, 897000, tzinfo=UTC)
    assert parse_orders.expiry_reason(HISTORY_ORDER) == "PostOnlyTaker"


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("New", OrderStatus.NEW),
        ("PartiallyFilled", OrderStatus.PARTIALLY_FILLED),
        ("Filled", OrderStatus.FILLED),
        ("Cancelled", OrderStatus.CANCELED),
        ("Expired", OrderStatus.EXPIRED),
        ("TriggerPending", OrderStatus.NEW),
        ("TriggerFailed", OrderStatus.REJECTED),
    ],
)
def test_every_backpack_status_has_a_domain_status(wire: str, expected: OrderStatus) -> None:
    assert parse_orders.parse_order({**OPEN_ORDER, "status": wire}, "SOL").status is expected


def test_executed_more_than_ordered_is_refused() -> None:
    with pytest.raises(BadResponse, match="exceeds"):
        parse_orders.parse_order({**OPEN_ORDER, "executedQuantity": "1.5"}, "SOL")


def test_fill_with_fee_and_iso_timestamp() -> None:
    fill = parse_orders.parse_fill(FILL, "ETH")
    assert fill.trade_id == "9748827"
    assert fill.order_id == "4238907375"
    assert fill.side is Side.BUY
    assert fill.qty == Decimal("0.0026")
    assert fill.price == Decimal("3826.15")
    assert fill.fee == Decimal("0.004974")
    assert fill.fee_asset == "USDC"
    assert fill.is_maker is False
    assert fill.at == datetime(2025, 7, 27, 17, 39, 0, 92000, tzinfo=UTC)


def test_fills_give_average_and_fee_only_when_they_cover_the_executed_quantity() -> None:
    order = parse_orders.parse_order({**OPEN_ORDER, "status": "Filled", "executedQuantity": "1"}, "SOL")
    fills = [
        parse_orders.parse_fill(
            {**FILL, "orderId": order.order_id, "quantity": "0.25", "price": "150", "fee": "0.01"}, "SOL"
        ),
        parse_orders.parse_fill(
            {**FILL, "orderId": order.order_id, "tradeId": 2, "quantity": "0.75", "price": "152", "fee": "0.03"}, "SOL"
        ),
    ]
    merged = parse_orders.with_fills(order, fills)
    assert merged.avg_price == Decimal("151.5")
    assert merged.fee == Decimal("0.04")
    assert merged.fee_asset == "USDC"
    lagging = parse_orders.with_fills(order, fills[:1])
    assert lagging is order
    assert lagging.fee is None


def test_position_uses_net_quantity_not_net_exposure() -> None:
    position = parse.parse_position(POSITION, "ETH")
    assert position.qty == Decimal("-0.0036")
    assert position.side is Side.SELL
    assert position.entry_price == Decimal("3826.8888888888888888888888889")
    assert position.unrealized_pnl == Decimal("-0.141914")


def test_collateral_and_capital_balances() -> None:
    [usdc] = parse.parse_collateral(COLLATERAL)
    assert (usdc.asset, usdc.total, usdc.free, usdc.used) == (
        "USDC",
        Decimal("10000.5"),
        Decimal("9000.25"),
        Decimal("1000.25"),
    )
    [cap] = parse.parse_capital(CAPITAL)
    assert (cap.total, cap.free, cap.used) == (Decimal("123.5"), Decimal(120), Decimal("3.5"))


def test_error_body_shape() -> None:
    assert parse.parse_error(b'{"code":"INVALID_ORDER","message":"Invalid order"}') == (
        "INVALID_ORDER",
        "Invalid order",
    )
    assert parse.parse_error(b"Bad Request parse request payload error") is None
    assert parse.parse_error(b'{"message":"x"}') is None


# --- requests -------------------------------------------------------------------------------------------

SOL = parse.parse_market(PERP_MARKET)


def test_limit_post_only_reduce_only_order_body() -> None:
    request = OrderRequest(
        symbol="SOL",
        side=Side.SELL,
        type=OrderType.LIMIT,
        qty=Decimal("1.50"),
        price=Decimal("150.10"),
        client_order_id="hc1",
        reduce_only=True,
        time_in_force=TimeInForce.POST_ONLY,
    )
    assert parse_orders.to_wire_order(request, SOL) == {
        "symbol": "SOL_USDC_PERP",
        "side": "Ask",
        "orderType": "Limit",
        "quantity": "1.5",
        "price": "150.1",
        "postOnly": True,
        "reduceOnly": True,
        "clientId": uint32_client_id("hc1"),
    }


def test_market_order_body_sends_no_price_and_the_asked_time_in_force() -> None:
    request = OrderRequest(
        symbol="SOL",
        side=Side.BUY,
        type=OrderType.MARKET,
        qty=Decimal("1E+1"),
        price=Decimal(150),
        client_order_id="hc2",
        time_in_force=TimeInForce.IOC,
    )
    assert parse_orders.to_wire_order(request, SOL) == {
        "symbol": "SOL_USDC_PERP",
        "side": "Bid",
        "orderType": "Market",
        "quantity": "10",
        "timeInForce": "IOC",
        "clientId": uint32_client_id("hc2"),
    }


# --- hostile replies ------------------------------------------------------------------------------------

Parser = Callable[[object], object]
PARSERS: dict[str, tuple[Parser, Any, list[tuple[Any, ...]]]] = {
    # name: (parser, valid sample, paths of the fields it reads)
    "market": (
        parse.parse_market,
        PERP_MARKET,
        [
            ("symbol",),
            ("baseSymbol",),
            ("quoteSymbol",),
            ("filters", "price", "tickSize"),
            ("filters", "quantity", "stepSize"),
            ("filters", "quantity", "minQuantity"),
        ],
    ),
    "depth": (lambda w: parse.parse_depth(w, "SOL", 5), DEPTH, [("bids",), ("asks",), ("bids", 0), ("asks", 1, 0)]),
    "mark": (
        lambda w: parse.parse_mark_price(w, "SOL_USDC_PERP"),
        MARK_PRICES,
        [(1, "markPrice")],
    ),
    "order": (
        lambda w: parse_orders.parse_order(w, "SOL"),
        OPEN_ORDER,
        [("id",), ("side",), ("orderType",), ("status",), ("quantity",), ("executedQuantity",)],
    ),
    "fill": (
        lambda w: parse_orders.parse_fill(w, "ETH"),
        FILL,
        [
            ("orderId",),
            ("side",),
            ("price",),
            ("quantity",),
            ("fee",),
            ("feeSymbol",),
            ("isMaker",),
            ("timestamp",),
        ],
    ),
    "position": (lambda w: parse.parse_position(w, "ETH"), POSITION, [("netQuantity",)]),
    "collateral": (
        parse.parse_collateral,
        COLLATERAL,
        [("collateral",), ("collateral", 0, "totalQuantity"), ("collateral", 0, "availableQuantity")],
    ),
    "capital": (parse.parse_capital, CAPITAL, [("USDC",), ("USDC", "available"), ("USDC", "locked")]),
}
OPTIONAL_TYPED: dict[str, list[tuple[Any, ...]]] = {
    # fields that may be null but, when present, must have the right type
    "order": [("price",), ("executedQuoteQuantity",), ("reduceOnly",), ("createdAt",), ("clientId",)],
    "mark": [(1, "fundingRate"), (1, "nextFundingTimestamp")],
    "fill": [("tradeId",)],  # null on system fills
    "position": [("entryPrice",), ("markPrice",), ("pnlUnrealized",)],
    "depth": [("timestamp",)],
}

FREE_TEXT = {"id", "tradeId", "orderId", "symbol", "baseSymbol", "quoteSymbol", "feeSymbol"}
junk_values = st.one_of(
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.text(alphabet="abcxyz<>/ !-", min_size=1, max_size=10),
    st.sampled_from(["NaN", "Infinity", "-", "1e", "0x10", "1,5", "", " "]),
)


def _set(wire: Any, path: tuple[Any, ...], value: Any) -> Any:
    wire = copy.deepcopy(wire)
    target = wire
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return wire


def _get(wire: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        wire = wire[key]
    return wire


def _delete(wire: Any, path: tuple[Any, ...]) -> Any:
    wire = copy.deepcopy(wire)
    target = wire
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return wire


def _through_json(text: str) -> object:
    return decode_json(text, "backpack")


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_valid_samples_parse(name: str) -> None:
    parser, sample, _ = PARSERS[name]
    parser(_through_json(json.dumps(sample)))


@given(name=st.sampled_from(sorted(PARSERS)), data=st.data())
def test_a_required_field_missing_or_null_is_a_bad_response(name: str, data: st.DataObject) -> None:
    parser, sample, paths = PARSERS[name]
    path = data.draw(st.sampled_from(paths))
    # A list element or a map entry may legitimately be absent; null is still wrong there.
    may_be_absent = isinstance(path[-1], int) or (name == "capital" and len(path) == 1)
    candidates = [_set(sample, path, None)] if may_be_absent else [_delete(sample, path), _set(sample, path, None)]
    broken = data.draw(st.sampled_from(candidates))
    with pytest.raises(BadResponse):
        parser(_through_json(json.dumps(broken)))


@given(name=st.sampled_from(sorted(PARSERS)), data=st.data(), value=junk_values)
def test_a_wrong_typed_field_is_a_bad_response(name: str, data: st.DataObject, value: Any) -> None:
    parser, sample, paths = PARSERS[name]
    path = data.draw(st.sampled_from(paths + OPTIONAL_TYPED.get(name, [])))
    assume(not (path[-1] in ("reduceOnly", "isMaker") and isinstance(value, bool)))  # the right type there
    assume(not (path[-1] in FREE_TEXT and isinstance(value, str) and value))  # any non-empty id/name is valid
    original = _get(sample, path)
    assume(not (path in OPTIONAL_TYPED.get(name, []) and value == ""))  # "" is how venues say "none"
    # A finite JSON number where the venue sends a decimal string is the same figure in another representation.
    assume(not (isinstance(value, float) and math.isfinite(value) and isinstance(original, str | int)))
    assume(not (isinstance(original, list) and isinstance(value, list)))
    assume(not (isinstance(original, dict) and isinstance(value, dict)))
    broken = _set(sample, path, value)
    text = json.dumps(broken, allow_nan=True)
    with pytest.raises(BadResponse):
        parser(decode_json(text, "backpack"))


@given(name=st.sampled_from(sorted(PARSERS)), data=st.data())
def test_a_truncated_reply_is_a_bad_response(name: str, data: st.DataObject) -> None:
    parser, sample, _ = PARSERS[name]
    text = json.dumps(sample)
    cut = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    with pytest.raises(BadResponse):
        parser(decode_json(text[:cut], "backpack"))


@given(
    body=st.one_of(
        st.just(""),
        st.just("   \n"),
        st.just("<!DOCTYPE html><html><body>502 Bad Gateway</body></html>"),
        st.just("Bad Request parse request payload error: failed to parse"),
        st.text(max_size=40).map(lambda t: "<html>" + t),
    )
)
def test_empty_html_or_plain_text_is_a_bad_response(body: str) -> None:
    with pytest.raises(BadResponse):
        decode_json(body, "backpack")


@given(
    name=st.sampled_from(sorted(PARSERS)),
    wire=st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.none(), max_size=2)),
)
def test_a_reply_of_the_wrong_shape_is_a_bad_response(name: str, wire: Any) -> None:
    parser, _, _ = PARSERS[name]
    with pytest.raises(BadResponse):
        parser(wire)


@given(
    price=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**9), places=4),
    qty=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4),
)
def test_decimal_strings_round_trip_exactly(price: Decimal, qty: Decimal) -> None:
    wire = {**OPEN_ORDER, "price": str(price), "quantity": str(qty), "executedQuantity": "0"}
    order = parse_orders.parse_order(json.loads(json.dumps(wire)), "SOL")
    assert order.price == price
    assert order.qty == qty
    assert Decimal(parse_orders.wire_decimal(price)) == price
