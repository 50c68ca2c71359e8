"""Binance/OKX wire -> domain: market rules in base units, OKX contract conversion, orders, fills, positions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.types import (
    Market,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
    Side,
    TimeInForce,
)
from hedgectl.errors import BadResponse, OrderRejected
from hedgectl.venues import ccxt_binance, ccxt_okx
from hedgectl.venues.ccxt_wire import dec, opt_dec, plain, sum_fills

D = Decimal

BINANCE_BTC: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "pair": "BTCUSDT",
    "contractType": "PERPETUAL",
    "status": "TRADING",
    "baseAsset": "BTC",
    "quoteAsset": "USDT",
    "marginAsset": "USDT",
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "556.80", "maxPrice": "4529764", "tickSize": "0.10"},
        {"filterType": "LOT_SIZE", "stepSize": "0.001", "maxQty": "1000", "minQty": "0.001"},
        {"filterType": "MARKET_LOT_SIZE", "stepSize": "0.001", "maxQty": "120", "minQty": "0.001"},
        {"filterType": "MIN_NOTIONAL", "notional": "100"},
    ],
    "orderTypes": ["LIMIT", "MARKET"],
}
OKX_BTC = {
    "instId": "BTC-USDT-SWAP",
    "instType": "SWAP",
    "uly": "BTC-USDT",
    "instFamily": "BTC-USDT",
    "settleCcy": "USDT",
    "ctVal": "0.01",
    "ctValCcy": "BTC",
    "ctType": "linear",
    "lotSz": "0.1",
    "minSz": "0.1",
    "tickSz": "0.1",
    "maxLmtSz": "100000",
    "state": "live",
    "baseCcy": "",
    "quoteCcy": "",
}


def okx_btc() -> Market:
    return ccxt_okx.parse_market(OKX_BTC, "BTC")


def binance_btc() -> Market:
    return ccxt_binance.parse_market(BINANCE_BTC)


def request(**overrides: object) -> OrderRequest:
    fields: dict[str, object] = {
        "symbol": "BTC",
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "qty": D("0.003"),
        "client_order_id": "hc0123456789abcdef",
        "price": D("95000.1"),
    }
    fields.update(overrides)
    return OrderRequest(**fields)  # type: ignore[arg-type]


def test_binance_market_rules_come_from_the_filters() -> None:
    market = binance_btc()
    assert (market.symbol, market.venue_symbol, market.quote) == ("BTC", "BTCUSDT", "USDT")
    assert (market.tick_size, market.step_size, market.min_qty) == (D("0.10"), D("0.001"), D("0.001"))
    assert market.min_notional == D("100")
    assert market.max_qty == D("1000")
    assert market.contract_size == 1


def test_binance_market_without_lot_size_is_a_bad_response() -> None:
    row = {**BINANCE_BTC, "filters": [f for f in BINANCE_BTC["filters"] if f["filterType"] != "LOT_SIZE"]}
    with pytest.raises(BadResponse, match="LOT_SIZE"):
        ccxt_binance.parse_market(row)


def test_okx_market_rules_are_converted_to_base_units() -> None:
    market = okx_btc()
    assert market.contract_size == D("0.01")
    assert market.step_size == D("0.001")  # lotSz 0.1 x ctVal 0.01
    assert market.min_qty == D("0.001")
    assert market.max_qty == D("1000")
    assert market.tick_size == D("0.1")


def test_binance_limit_order_wire_params() -> None:
    params = ccxt_binance.to_wire_order(binance_btc(), request(reduce_only=True))
    assert params == {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": "0.003",
        "price": "95000.1",
        "timeInForce": "GTC",
        "reduceOnly": "true",
        "newClientOrderId": "hc0123456789abcdef",
        "newOrderRespType": "RESULT",
    }


@pytest.mark.parametrize(("tif", "wire"), [(TimeInForce.POST_ONLY, "GTX"), (TimeInForce.IOC, "IOC")])
def test_binance_time_in_force(tif: TimeInForce, wire: str) -> None:
    assert ccxt_binance.to_wire_order(binance_btc(), request(time_in_force=tif))["timeInForce"] == wire


def test_binance_market_order_has_no_price_or_time_in_force() -> None:
    params = ccxt_binance.to_wire_order(binance_btc(), request(type=OrderType.MARKET, price=None))
    assert "price" not in params
    assert "timeInForce" not in params
    assert "reduceOnly" not in params


@pytest.mark.parametrize(
    "bad",
    [
        {"qty": D("0.0015")},
        {"qty": D("0")},
        {"price": D("95000.15")},
        {"price": None},
        {"type": OrderType.MARKET, "price": None, "time_in_force": TimeInForce.POST_ONLY},
    ],
)
def test_orders_off_the_rules_are_refused_before_sending(bad: dict[str, object]) -> None:
    with pytest.raises(OrderRejected):
        ccxt_binance.to_wire_order(binance_btc(), request(**bad))
    with pytest.raises(OrderRejected):
        ccxt_okx.to_wire_order(okx_btc(), request(**bad))


def test_okx_order_body_is_in_contracts() -> None:
    body = ccxt_okx.to_wire_order(okx_btc(), request(qty=D("0.003"), time_in_force=TimeInForce.POST_ONLY))
    assert body == {
        "instId": "BTC-USDT-SWAP",
        "tdMode": "cross",
        "side": "buy",
        "ordType": "post_only",
        "sz": "0.3",
        "px": "95000.1",
        "clOrdId": "hc0123456789abcdef",
    }
    market_body = ccxt_okx.to_wire_order(
        okx_btc(), request(type=OrderType.MARKET, price=None, qty=D("0.25"), side=Side.SELL, reduce_only=True)
    )
    assert market_body["ordType"] == "market"
    assert market_body["sz"] == "25"
    assert market_body["reduceOnly"] is True
    assert "px" not in market_body


def test_okx_refuses_a_quantity_that_is_not_whole_lots_and_says_why() -> None:
    with pytest.raises(OrderRejected, match=r"0\.0005 is not a whole number of lots"):
        ccxt_okx.to_contracts(okx_btc(), D("0.0005"))


@given(lots=st.integers(min_value=1, max_value=10**7))
def test_okx_contract_conversion_round_trips(lots: int) -> None:
    market = okx_btc()
    qty = market.step_size * lots
    contracts = ccxt_okx.to_contracts(market, qty)
    assert contracts * market.contract_size == qty
    assert contracts % D(OKX_BTC["lotSz"]) == 0


def test_binance_result_reply_of_a_market_order() -> None:
    reply = {
        "orderId": 4081234567,
        "symbol": "BTCUSDT",
        "status": "FILLED",
        "clientOrderId": "hc1",
        "price": "0",
        "avgPrice": "95001.20000",
        "origQty": "0.010",
        "executedQty": "0.010",
        "cumQuote": "950.01200",
        "timeInForce": "GTC",
        "type": "MARKET",
        "reduceOnly": False,
        "side": "BUY",
        "origType": "MARKET",
        "updateTime": 1700000000123,
    }
    order = ccxt_binance.parse_order(reply, binance_btc())
    assert order.order_id == "4081234567"
    assert order.status is OrderStatus.FILLED
    assert order.type is OrderType.MARKET
    assert (order.qty, order.filled_qty, order.avg_price) == (D("0.010"), D("0.010"), D("95001.20000"))
    assert order.price is None
    assert order.fee is None
    assert order.updated_at is not None
    assert order.updated_at.tzinfo is not None


def test_binance_new_limit_order_has_no_average_price() -> None:
    reply = {
        "orderId": 1,
        "status": "NEW",
        "price": "90000.0",
        "avgPrice": "0.00",
        "origQty": "0.5",
        "executedQty": "0",
        "type": "LIMIT",
        "side": "SELL",
        "reduceOnly": True,
        "time": 1,
    }
    order = ccxt_binance.parse_order(reply, binance_btc())
    assert order.avg_price is None
    assert order.price == D("90000.0")
    assert order.reduce_only
    assert order.side is Side.SELL


@pytest.mark.parametrize("broken", [{"status": "WEIRD"}, {"origQty": None}, {"orderId": None}, {"side": "UP"}])
def test_binance_order_with_missing_or_unknown_fields_is_a_bad_response(broken: dict[str, object]) -> None:
    reply = {"orderId": 1, "status": "NEW", "origQty": "1", "executedQty": "0", "type": "LIMIT", "side": "BUY"}
    with pytest.raises(BadResponse):
        ccxt_binance.parse_order({**reply, **broken}, binance_btc())


def test_okx_order_sizes_are_converted_and_fee_is_positive_when_paid() -> None:
    row = {
        "instId": "BTC-USDT-SWAP",
        "ordId": "680800019749904384",
        "clOrdId": "hc1",
        "px": "",
        "sz": "25",
        "ordType": "market",
        "side": "sell",
        "state": "filled",
        "accFillSz": "25",
        "avgPx": "95000.5",
        "fee": "-0.11875",
        "feeCcy": "USDT",
        "reduceOnly": "false",
        "cTime": "1700000000000",
        "uTime": "1700000000100",
    }
    order = ccxt_okx.parse_order(row, okx_btc())
    assert (order.qty, order.filled_qty) == (D("0.25"), D("0.25"))
    assert order.fee == D("0.11875")
    assert order.fee_asset == "USDT"
    assert order.type is OrderType.MARKET
    assert order.price is None
    assert order.status is OrderStatus.FILLED


@pytest.mark.parametrize(
    ("state", "status"),
    [("live", OrderStatus.NEW), ("partially_filled", OrderStatus.PARTIALLY_FILLED), ("canceled", OrderStatus.CANCELED)],
)
def test_okx_order_states(state: str, status: OrderStatus) -> None:
    row = {"ordId": "1", "sz": "1", "side": "buy", "state": state, "ordType": "post_only", "px": "1", "accFillSz": "0"}
    assert ccxt_okx.parse_order(row, okx_btc()).status is status


def test_okx_net_mode_position_is_signed_base_units() -> None:
    row = {"instId": "BTC-USDT-SWAP", "posSide": "net", "pos": "-30", "avgPx": "95000", "markPx": "95100", "upl": "-3"}
    position = ccxt_okx.parse_position(row, okx_btc())
    assert position.qty == D("-0.30")
    assert position.entry_price == D("95000")
    assert position.unrealized_pnl == D("-3")


def test_okx_long_short_mode_position_takes_its_sign_from_pos_side() -> None:
    row = {"instId": "BTC-USDT-SWAP", "posSide": "short", "pos": "30", "avgPx": "95000"}
    assert ccxt_okx.parse_position(row, okx_btc()).qty == D("-0.30")


def test_binance_position_is_signed_base_units() -> None:
    row = {
        "symbol": "BTCUSDT",
        "positionAmt": "-0.010",
        "entryPrice": "95000.0",
        "markPrice": "95010",
        "unRealizedProfit": "-0.1",
    }
    assert ccxt_binance.parse_position(row, binance_btc()).qty == D("-0.010")


def test_fills_and_their_fees() -> None:
    binance_fill = ccxt_binance.parse_fill(
        {
            "id": 698759,
            "orderId": 25851813,
            "side": "BUY",
            "price": "95000",
            "qty": "0.004",
            "commission": "0.19",
            "commissionAsset": "USDT",
            "maker": False,
            "time": 1700000000000,
        },
        binance_btc(),
    )
    okx_fill = ccxt_okx.parse_fill(
        {
            "tradeId": "123",
            "ordId": "9",
            "clOrdId": "hc1",
            "side": "buy",
            "fillPx": "95010",
            "fillSz": "6",
            "fee": "-0.285",
            "feeCcy": "USDT",
            "execType": "M",
            "ts": "1700000000001",
        },
        okx_btc(),
    )
    assert (binance_fill.qty, binance_fill.fee, binance_fill.is_maker) == (D("0.004"), D("0.19"), False)
    assert (okx_fill.qty, okx_fill.fee, okx_fill.is_maker) == (D("0.06"), D("0.285"), True)
    qty, avg, fee, asset = sum_fills([binance_fill, okx_fill], "USDT")
    assert qty == D("0.064")
    assert avg == (D("0.004") * 95000 + D("0.06") * 95010) / D("0.064")
    assert (fee, asset) == (D("0.475"), "USDT")


@pytest.mark.parametrize("value", [None, "", "abc", True, 1.5, "NaN", "Infinity", [1]])
def test_dec_refuses_anything_that_is_not_a_finite_decimal(value: object) -> None:
    with pytest.raises(BadResponse):
        dec({"x": value}, "x", "okx")


def test_opt_dec_treats_empty_as_absent_but_garbage_as_bad() -> None:
    assert opt_dec({"x": ""}, "x", "okx") is None
    assert opt_dec({"x": D("1.5")}, "x", "okx") == D("1.5")
    with pytest.raises(BadResponse):
        opt_dec({"x": "1,5"}, "x", "okx")


@pytest.mark.parametrize(("value", "wire"), [("1E+2", "100"), ("0.00100", "0.001"), ("25.0", "25"), ("0", "0")])
def test_plain_decimals_for_the_wire(value: str, wire: str) -> None:
    assert plain(D(value)) == wire


@pytest.mark.parametrize(
    ("side", "reduce_only", "binance_side", "okx_side"),
    [
        (Side.BUY, False, "LONG", "long"),  # opens the long
        (Side.SELL, True, "LONG", "long"),  # closes the long
        (Side.SELL, False, "SHORT", "short"),  # opens the short
        (Side.BUY, True, "SHORT", "short"),  # closes the short
    ],
)
def test_hedge_mode_orders_name_their_side_and_send_no_reduce_only(
    side: Side, reduce_only: bool, binance_side: str, okx_side: str
) -> None:
    hedge = PositionMode.HEDGE
    params = ccxt_binance.to_wire_order(binance_btc(), request(side=side, reduce_only=reduce_only), hedge)
    assert params["positionSide"] == binance_side
    assert "reduceOnly" not in params
    body = ccxt_okx.to_wire_order(okx_btc(), request(qty=D("0.003"), side=side, reduce_only=reduce_only), hedge)
    assert body["posSide"] == okx_side
    assert "reduceOnly" not in body


def test_one_way_orders_carry_no_position_side() -> None:
    assert "positionSide" not in ccxt_binance.to_wire_order(binance_btc(), request(reduce_only=True))
    body = ccxt_okx.to_wire_order(okx_btc(), request(qty=D("0.003"), reduce_only=True))
    assert "posSide" not in body
    assert body["reduceOnly"] is True


@pytest.mark.parametrize(
    ("reply", "mode"),
    [
        ({"dualSidePosition": True}, PositionMode.HEDGE),
        ({"dualSidePosition": False}, PositionMode.ONE_WAY),
        ({"dualSidePosition": "true"}, PositionMode.HEDGE),
    ],
)
def test_binance_position_mode_is_read_from_dual_side_position(reply: dict[str, Any], mode: PositionMode) -> None:
    assert ccxt_binance.parse_position_mode(reply) is mode


@pytest.mark.parametrize("reply", [{}, {"dualSidePosition": None}, {"dualSidePosition": 1}])
def test_a_missing_dual_side_position_is_a_bad_response(reply: dict[str, Any]) -> None:
    with pytest.raises(BadResponse):
        ccxt_binance.parse_position_mode(reply)


def test_okx_pos_mode_and_hedge_mode_positions_per_side() -> None:
    assert ccxt_okx.parse_position_mode({"posMode": "long_short_mode"}) is PositionMode.HEDGE
    assert ccxt_okx.parse_position_mode({"posMode": "net_mode"}) is PositionMode.ONE_WAY
    with pytest.raises(BadResponse):
        ccxt_okx.parse_position_mode({"posMode": ""})
    # long_short_mode: `pos` is positive on both sides, posSide gives the direction (OKX docs example)
    short = ccxt_okx.parse_position(
        {"instId": "BTC-USDT-SWAP", "pos": "2", "posSide": "short", "avgPx": "95000"}, okx_btc()
    )
    expected = (-2 * okx_btc().contract_size, PositionSide.SHORT, "BTC short")
    assert (short.qty, short.position_side, short.label) == expected


def test_binance_hedge_mode_position_rows_keep_their_side() -> None:
    row = {"symbol": "BTCUSDT", "positionSide": "SHORT", "positionAmt": "-0.010", "entryPrice": "95000"}
    position = ccxt_binance.parse_position(row, binance_btc())
    assert (position.qty, position.position_side) == (D("-0.010"), PositionSide.SHORT)
    one_way = ccxt_binance.parse_position({**row, "positionSide": "BOTH"}, binance_btc())
    assert one_way.position_side is None
