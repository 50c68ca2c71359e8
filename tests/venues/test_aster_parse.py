"""Aster wire -> domain: good replies parse to exact Decimals; broken ones raise BadResponse, never a guess."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedgectl.domain.types import OrderRequest, OrderStatus, OrderType, PositionMode, PositionSide, Side, TimeInForce
from hedgectl.errors import BadResponse, OrderRejected
from hedgectl.venues.aster import parse
from hedgectl.venues.aster.client import Kind, decode_response


def _symbol_of(venue_symbol: str) -> str:
    return venue_symbol.removesuffix("USDT")


def _market_row(symbol: str = "BTCUSDT", base: str = "BTC", **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "symbol": symbol,
        "pair": symbol,
        "contractType": "PERPETUAL",
        "status": "TRADING",
        "baseAsset": base,
        "quoteAsset": "USDT",
        "marginAsset": "USDT",
        "pricePrecision": 2,
        "quantityPrecision": 3,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.1", "maxPrice": "1000000", "tickSize": "0.10"},
            {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "100", "stepSize": "0.001"},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.002", "maxQty": "50", "stepSize": "0.001"},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": "5"},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.05", "multiplierDown": "0.95", "multiplierDecimal": "4"},
        ],
        "orderTypes": ["LIMIT", "MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "HIDDEN"],
    }
    row.update(over)
    return row


ORDER = {
    "orderId": 22542179,
    "symbol": "BTCUSDT",
    "status": "PARTIALLY_FILLED",
    "clientOrderId": "hc0123456789abcdef",
    "price": "95000.0",
    "avgPrice": "94999.5",
    "origQty": "0.010",
    "executedQty": "0.004",
    "cumQuote": "379.998",
    "timeInForce": "GTC",
    "type": "LIMIT",
    "reduceOnly": False,
    "closePosition": False,
    "side": "SELL",
    "positionSide": "BOTH",
    "stopPrice": "0",
    "workingType": "CONTRACT_PRICE",
    "origType": "LIMIT",
    "time": 1_700_000_000_000,
    "updateTime": 1_700_000_000_500,
}
TRADE: dict[str, Any] = {
    "buyer": False,
    "commission": "0.019",
    "commissionAsset": "USDT",
    "id": 698759,
    "maker": True,
    "orderId": 22542179,
    "price": "95000.0",
    "qty": "0.004",
    "quoteQty": "380",
    "realizedPnl": "0",
    "side": "SELL",
    "positionSide": "BOTH",
    "symbol": "BTCUSDT",
    "time": 1_700_000_000_400,
}
POSITION = {
    "symbol": "BTCUSDT",
    "positionAmt": "-0.004",
    "entryPrice": "95000.0",
    "markPrice": "94900.0",
    "unRealizedProfit": "0.4",
    "liquidationPrice": "0",
    "leverage": "10",
    "marginType": "cross",
    "isolatedMargin": "0",
    "positionSide": "BOTH",
    "notional": "-379.6",
    "updateTime": 1_700_000_000_000,
}
BALANCE = {
    "accountAlias": "SgsR",
    "asset": "USDT",
    "balance": "1000.50",
    "crossWalletBalance": "1000.50",
    "crossUnPnl": "0.4",
    "availableBalance": "900.25",
    "maxWithdrawAmount": "900.25",
    "marginAvailable": True,
    "updateTime": 1_700_000_000_000,
}
BOOK_TICKER = {
    "symbol": "BTCUSDT",
    "bidPrice": "94999.9",
    "bidQty": "1.2",
    "askPrice": "95000.1",
    "askQty": "0.8",
    "time": 1_700_000_000_000,
}
PREMIUM = {
    "symbol": "BTCUSDT",
    "markPrice": "95000.05",
    "indexPrice": "95001",
    "estimatedSettlePrice": "95000",
    "lastFundingRate": "0.00010000",
    "interestRate": "0.0001",
    "nextFundingTime": 1_700_006_400_000,
    "time": 1_700_000_000_000,
}
DAY = {"symbol": "BTCUSDT", "lastPrice": "95000.0", "volume": "1000", "openTime": 1, "closeTime": 2}
DEPTH = {
    "lastUpdateId": 1027024,
    "E": 1_700_000_000_010,
    "T": 1_700_000_000_000,
    "bids": [["94999.9", "1.2"], ["94999.8", "3"]],
    "asks": [["95000.1", "0.8"], ["95000.2", "2"]],
}


# --- good replies -----------------------------------------------------------------------------


def test_markets_keep_only_trading_usdt_perpetuals_with_rules_both_order_types_accept() -> None:
    info = {
        "symbols": [
            _market_row(),
            _market_row("ETHUSDT_240628", "ETH", contractType="CURRENT_QUARTER"),
            _market_row("SOLUSDT", "SOL", status="SETTLING"),
            _market_row("BTCUSDC", "BTC", quoteAsset="USDC"),
            _market_row("ASTERUSDT", "ASTER"),
        ]
    }
    markets, _ = parse.parse_markets(info)
    assert sorted(markets) == ["ASTER", "BTC"]
    btc = markets["BTC"]
    assert (btc.venue_symbol, btc.base, btc.quote) == ("BTCUSDT", "BTC", "USDT")
    assert btc.tick_size == Decimal("0.10")
    assert btc.step_size == Decimal("0.001")
    assert btc.min_qty == Decimal("0.002")  # the market-order minimum is the stricter one
    assert (btc.max_qty, btc.max_market_qty) == (Decimal("100"), Decimal("50"))  # LOT_SIZE, MARKET_LOT_SIZE
    assert btc.min_notional == Decimal("5")


def test_a_market_without_min_notional_has_zero() -> None:
    row = _market_row()
    row["filters"] = [f for f in row["filters"] if f["filterType"] != "MIN_NOTIONAL"]
    assert parse.parse_market(row).min_notional == 0


def test_order_parses_to_exact_decimals_and_domain_enums() -> None:
    order = parse.parse_order(ORDER, _symbol_of)
    assert order.symbol == "BTC"
    assert order.order_id == "22542179"
    assert order.client_order_id == "hc0123456789abcdef"
    assert (order.side, order.type, order.status) == (Side.SELL, OrderType.LIMIT, OrderStatus.PARTIALLY_FILLED)
    assert (order.qty, order.filled_qty) == (Decimal("0.010"), Decimal("0.004"))
    assert order.avg_price == Decimal("94999.5")
    assert order.price == Decimal("95000.0")
    assert order.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert order.fee is None


def test_unfilled_market_order_has_no_price_and_no_average() -> None:
    wire = dict(ORDER, type="MARKET", price="0", avgPrice="0.00000", executedQty="0", status="NEW")
    order = parse.parse_order(wire, _symbol_of)
    assert order.type is OrderType.MARKET
    assert order.price is None
    assert order.avg_price is None


def test_expired_in_match_is_expired_and_reduce_only_string_is_read() -> None:
    order = parse.parse_order(dict(ORDER, status="EXPIRED_IN_MATCH", reduceOnly="true"), _symbol_of)
    assert order.status is OrderStatus.EXPIRED
    assert order.reduce_only


def test_fills_are_oldest_first_with_positive_fees_when_paid() -> None:
    later = dict(TRADE, id=2, time=TRADE["time"] + 1, commission="-0.001", maker=True)
    fills = parse.parse_fills([later, TRADE], _symbol_of)
    assert [f.trade_id for f in fills] == ["698759", "2"]
    assert fills[0].fee == Decimal("0.019")
    assert fills[0].fee_asset == "USDT"
    assert fills[0].is_maker
    assert fills[1].fee == Decimal("-0.001")  # a maker rebate is a negative fee


def test_positions_are_signed_and_zero_rows_dropped() -> None:
    positions = parse.parse_positions([POSITION, dict(POSITION, symbol="ETHUSDT", positionAmt="0.000")], _symbol_of)
    assert len(positions) == 1
    assert positions[0].qty == Decimal("-0.004")
    assert positions[0].symbol == "BTC"
    assert positions[0].entry_price == Decimal("95000.0")


def test_balances_use_wallet_balance_and_available() -> None:
    [balance] = parse.parse_balances([BALANCE, dict(BALANCE, asset="BNB", balance="0", availableBalance="0")])
    assert (balance.asset, balance.total, balance.free, balance.used) == (
        "USDT",
        Decimal("1000.50"),
        Decimal("900.25"),
        Decimal("100.25"),
    )


def test_quote_combines_top_of_book_mark_funding_and_interval() -> None:
    quote = parse.parse_quote("BTC", BOOK_TICKER, PREMIUM, DAY, timedelta(hours=4))
    assert (quote.bid, quote.ask, quote.last) == (Decimal("94999.9"), Decimal("95000.1"), Decimal("95000.0"))
    assert quote.mark == Decimal("95000.05")
    assert quote.funding_rate == Decimal("0.00010000")
    assert quote.next_funding_at == datetime.fromtimestamp(1_700_006_400, tz=UTC)
    assert quote.funding_interval == timedelta(hours=4)
    assert parse.parse_quote("BTC", BOOK_TICKER, PREMIUM, DAY, None).funding_interval == timedelta(hours=8)


def test_funding_intervals_by_symbol() -> None:
    wire = [{"symbol": "ETHUSDT", "interestRate": "0.0001", "time": 1, "fundingIntervalHours": 4}]
    assert parse.parse_funding_intervals(wire) == {"ETHUSDT": timedelta(hours=4)}


def test_book_levels_best_first() -> None:
    book = parse.parse_book(DEPTH, "BTC")
    assert book.bids[0].price == Decimal("94999.9")
    assert book.asks[0].qty == Decimal("0.8")
    assert book.at == datetime.fromtimestamp(1_700_000_000, tz=UTC)


def test_cancel_all_ack_must_say_code_200() -> None:
    parse.parse_ack({"code": 200, "msg": "The operation of cancel all open order is done."})
    with pytest.raises(BadResponse):
        parse.parse_ack({"msg": "done"})


# --- order params -----------------------------------------------------------------------------


def test_post_only_limit_order_becomes_gtx_with_reduce_only_true_and_result_replies() -> None:
    request = OrderRequest(
        symbol="BTC",
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=Decimal("0.0100"),
        price=Decimal("95000.00"),
        client_order_id="hcabc",
        reduce_only=True,
        time_in_force=TimeInForce.POST_ONLY,
    )
    assert parse.to_wire_order("BTCUSDT", request) == [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTX"),
        ("quantity", "0.01"),
        ("price", "95000"),
        ("reduceOnly", "true"),
        ("newClientOrderId", "hcabc"),
        ("newOrderRespType", "RESULT"),
    ]


def test_market_order_has_no_price_and_no_time_in_force() -> None:
    request = OrderRequest("BTC", Side.SELL, OrderType.MARKET, Decimal("1E+1"), client_order_id="hc1")
    assert parse.to_wire_order("BTCUSDT", request) == [
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "MARKET"),
        ("quantity", "10"),
        ("newClientOrderId", "hc1"),
        ("newOrderRespType", "RESULT"),
    ]


@pytest.mark.parametrize(
    "request_",
    [
        OrderRequest("BTC", Side.BUY, OrderType.LIMIT, Decimal(1), client_order_id="x"),
        OrderRequest("BTC", Side.BUY, OrderType.LIMIT, Decimal(0), client_order_id="x", price=Decimal(1)),
        OrderRequest("BTC", Side.BUY, OrderType.MARKET, Decimal(1), client_order_id="x", price=Decimal(1)),
        OrderRequest(
            "BTC", Side.BUY, OrderType.MARKET, Decimal(1), client_order_id="x", time_in_force=TimeInForce.POST_ONLY
        ),
    ],
)
def test_impossible_orders_are_refused_before_sending(request_: OrderRequest) -> None:
    # OrderRejected (exit 1, the venue would refuse it), as on Binance: one family, one answer (issue 14).
    with pytest.raises(OrderRejected):
        parse.to_wire_order("BTCUSDT", request_)


# --- broken replies ---------------------------------------------------------------------------

PARSERS: dict[str, tuple[Any, Any, tuple[str, ...]]] = {
    # name: (parser taking the wire, a good reply, the keys it cannot do without)
    "order": (lambda w: parse.parse_order(w, _symbol_of), ORDER, ("orderId", "symbol", "status", "side", "type")),
    "fill": (lambda w: parse.parse_fill(w, _symbol_of), TRADE, ("id", "orderId", "price", "qty", "commission")),
    "position": (lambda w: parse.parse_positions([w], _symbol_of), POSITION, ("symbol", "positionAmt")),
    "balance": (lambda w: parse.parse_balances([w]), BALANCE, ("asset", "balance", "availableBalance")),
    "market": (parse.parse_market, _market_row(), ("symbol", "baseAsset", "quoteAsset", "filters")),
    "book": (lambda w: parse.parse_book(w, "BTC"), DEPTH, ("bids", "asks")),
    "quote_top": (lambda w: parse.parse_quote("BTC", w, PREMIUM, DAY, None), BOOK_TICKER, ("bidPrice", "askPrice")),
    "quote_premium": (
        lambda w: parse.parse_quote("BTC", BOOK_TICKER, w, DAY, None),
        PREMIUM,
        ("markPrice", "lastFundingRate", "nextFundingTime"),
    ),
    "time": (parse.parse_server_time, {"serverTime": 1_700_000_000_000}, ("serverTime",)),
}
_REQUIRED = [(name, key) for name, (_, _, keys) in PARSERS.items() for key in keys]
_WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.lists(st.integers(), min_size=1, max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.text(alphabet="abcxyz!<> ", min_size=0, max_size=8),
)


@pytest.mark.parametrize(("name", "key"), _REQUIRED)
def test_a_missing_required_field_is_a_bad_response(name: str, key: str) -> None:
    parser, good, _ = PARSERS[name]
    wire = copy.deepcopy(good)
    del wire[key]
    with pytest.raises(BadResponse):
        parser(wire)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(target=st.sampled_from(_REQUIRED), value=_WRONG)
def test_a_wrong_typed_required_field_is_a_bad_response(target: tuple[str, str], value: Any) -> None:
    name, key = target
    parser, good, _ = PARSERS[name]
    wire = copy.deepcopy(good)
    wire[key] = value
    with pytest.raises(BadResponse):
        parser(wire)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(PARSERS)), wire=st.one_of(st.none(), st.integers(), st.text(), st.lists(st.none())))
def test_a_reply_of_the_wrong_shape_is_a_bad_response(name: str, wire: Any) -> None:
    with pytest.raises(BadResponse):
        PARSERS[name][0](wire)


@settings(max_examples=200, deadline=None)
@given(
    field=st.sampled_from(["price", "avgPrice", "origQty", "executedQty", "time", "reduceOnly"]),
    value=st.one_of(st.floats(), st.lists(st.text(max_size=2), max_size=2), st.text(alphabet="xyz", min_size=1)),
)
def test_a_wrong_typed_optional_order_field_is_a_bad_response_not_a_default(field: str, value: Any) -> None:
    wire = dict(ORDER, **{field: value})
    with pytest.raises(BadResponse):
        parse.parse_order(wire, _symbol_of)


@pytest.mark.parametrize("value", [1.5, 123, ["a"], {"id": "a"}])
def test_a_client_order_id_that_is_not_a_string_is_a_bad_response(value: Any) -> None:
    with pytest.raises(BadResponse):
        parse.parse_order(dict(ORDER, clientOrderId=value), _symbol_of)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e999999999", "", " ", "1,5"])
def test_non_finite_or_garbled_numbers_are_bad_responses(value: str) -> None:
    with pytest.raises(BadResponse):
        parse.parse_order(dict(ORDER, executedQty=value), _symbol_of)


def test_filled_more_than_ordered_is_a_bad_response() -> None:
    with pytest.raises(BadResponse):
        parse.parse_order(dict(ORDER, executedQty="0.011"), _symbol_of)


# --- bodies that are not JSON -----------------------------------------------------------------

_GOOD_BODY = json.dumps(ORDER)


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(_GOOD_BODY) - 1))
def test_a_truncated_body_is_a_bad_response(cut: int) -> None:
    response = httpx.Response(200, content=_GOOD_BODY[:cut].encode(), headers={"content-type": "application/json"})
    try:
        result = decode_response(response, Kind.READ)
    except BadResponse:
        return
    # A prefix that happens to be JSON (a bare number, say) is still not an order.
    with pytest.raises(BadResponse):
        parse.parse_order(result, _symbol_of)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "text/html"),
        (b"Service temporarily down", "text/plain"),
        (b"", "application/json"),
        (b"\xff\xfe\x00garbage", "application/octet-stream"),
    ],
)
def test_html_plain_empty_or_binary_bodies_with_200_are_bad_responses(body: bytes, content_type: str) -> None:
    response = httpx.Response(200, content=body, headers={"content-type": content_type})
    with pytest.raises(BadResponse, match="aster"):
        decode_response(response, Kind.READ)


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=64))
def test_any_undecodable_body_is_a_bad_response_never_a_crash(body: bytes) -> None:
    response = httpx.Response(200, content=body)
    try:
        result = decode_response(response, Kind.READ)
    except BadResponse:
        return
    # Valid JSON that happens to be in the bytes must still not pass for an order.
    with pytest.raises(BadResponse):
        parse.parse_order(result, _symbol_of)


def test_hedge_mode_orders_name_their_side_and_send_no_reduce_only() -> None:
    close_long = OrderRequest("BTC", Side.SELL, OrderType.MARKET, Decimal(1), client_order_id="hc2", reduce_only=True)
    params = dict(parse.to_wire_order("BTCUSDT", close_long, PositionMode.HEDGE))
    assert params["positionSide"] == "LONG"
    assert "reduceOnly" not in params
    open_short = OrderRequest("BTC", Side.SELL, OrderType.MARKET, Decimal(1), client_order_id="hc3")
    assert dict(parse.to_wire_order("BTCUSDT", open_short, PositionMode.HEDGE))["positionSide"] == "SHORT"


def test_position_mode_and_account_config_are_read() -> None:
    assert parse.parse_position_mode({"dualSidePosition": True}) is PositionMode.HEDGE
    with pytest.raises(BadResponse):
        parse.parse_position_mode({"dualSidePosition": "maybe"})
    # the Aster v3 docs example row: isolated, leverage 10
    row = {"symbol": "BTCUSDT", "marginType": "isolated", "leverage": "10", "positionAmt": "0.000"}
    config = parse.parse_account_config(PositionMode.ONE_WAY, [row], "BTCUSDT")
    assert (config.margin_mode, config.leverage) == ("isolated", Decimal(10))
    [short] = parse.parse_positions(
        [{"symbol": "BTCUSDT", "positionSide": "SHORT", "positionAmt": "-3"}], lambda s: "BTC"
    )
    assert (short.qty, short.position_side) == (Decimal(-3), PositionSide.SHORT)
