"""The kit's wire readers, and our own samples of what real venues send, through every parser.

The samples are written here (not copied from anyone's recordings); each one shows one fact of the real
wire that a parser once got wrong.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.quantity import NoCommonQuantity, common_quantity
from hedgectl.domain.types import Market, OrderStatus, OrderType
from hedgectl.errors import BadResponse, OrderNotFound
from hedgectl.venues.aster import client as aster_client
from hedgectl.venues.aster import parse as aster
from hedgectl.venues.backpack import parse as backpack
from hedgectl.venues.backpack import parse_orders as backpack_orders
from hedgectl.venues.backpack import stream as backpack_stream
from hedgectl.venues.binance_family.parse import FamilyParser
from hedgectl.venues.binance_family.stream import parse_order_trade_update, unwrap
from hedgectl.venues.kit.wire import WireReader, decode_json, error_code
from hedgectl.venues.okx import parse as okx_parse

D = Decimal
R = WireReader("testvenue")
BINANCE = FamilyParser("binance")

decimals = st.decimals(min_value=D("-1e12"), max_value=D("1e12"), allow_nan=False, allow_infinity=False, places=8)


# ---- the readers ------------------------------------------------------------------------------------


@given(value=decimals)
def test_a_decimal_reads_the_same_as_a_json_number_and_as_a_string(value: Decimal) -> None:
    as_number = decode_json(f'{{"x": {value}}}', "v")  # a JSON number, decoded exactly
    as_string = {"x": str(value)}
    assert R.dec(as_number, "x") == R.dec(as_string, "x") == value


@given(value=st.integers(min_value=0, max_value=10**13))
def test_an_id_or_a_time_reads_the_same_as_a_number_and_as_a_string(value: int) -> None:
    assert R.ident({"i": value}, "i") == R.ident({"i": str(value)}, "i") == str(value)
    assert R.opt_ms({"t": value}, "t") == R.opt_ms({"t": str(value)}, "t")
    assert error_code({"code": value}) == error_code({"code": str(value)}) == value


@given(value=st.one_of(st.none(), st.just("")))
def test_none_and_empty_are_absent_for_optional_fields_and_errors_for_required_money(value: Any) -> None:
    row = {"x": value}
    assert R.opt_dec(row, "x") is None
    assert R.opt_ident(row, "x") is None
    with pytest.raises(BadResponse, match="missing"):
        R.dec(row, "x")
    with pytest.raises(BadResponse):
        R.dec({}, "x")  # never guessed as 0


@given(junk=st.one_of(st.text(alphabet="abc,%- ", min_size=1), st.booleans(), st.lists(st.integers(), max_size=2),
                      st.sampled_from(["NaN", "Infinity", "1e999999", "1,5", "80%", "0x10"])))  # fmt: skip
def test_anything_that_is_not_a_number_is_refused_naming_the_field(junk: Any) -> None:
    with pytest.raises(BadResponse, match="price"):
        R.dec({"price": junk}, "price", "order")


def test_floats_that_slipped_past_the_decoder_are_refused() -> None:
    with pytest.raises(BadResponse):
        R.dec({"x": 0.1}, "x")


def test_flags_are_booleans_or_their_strings_and_nothing_else() -> None:
    assert (R.flag({"r": "true"}, "r"), R.flag({"r": False}, "r"), R.flag({}, "r", default=True)) == (True, False, True)
    with pytest.raises(BadResponse):
        R.flag({"r": "yes"}, "r")


# ---- Binance family ---------------------------------------------------------------------------------

FAMILY_ROW: dict[str, Any] = {
    "symbol": "BTCUSDT", "status": "TRADING", "contractType": "PERPETUAL", "baseAsset": "BTC", "quoteAsset": "USDT",
    "filters": [
        {"filterType": "PRICE_FILTER", "tickSize": "0.10"},
        {"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001", "maxQty": "1000"},
        {"filterType": "MARKET_LOT_SIZE", "stepSize": "0.001", "minQty": "0.001", "maxQty": "120"},
        {"filterType": "MIN_NOTIONAL", "notional": "5"},
    ],
}  # fmt: skip


def test_both_family_venues_read_market_lot_size_as_the_market_order_cap() -> None:
    binance = BINANCE.market(FAMILY_ROW)
    aster_market = aster.parse_market(FAMILY_ROW)
    for market in (binance, aster_market):
        assert (market.max_qty, market.max_market_qty) == (D(1000), D(120))


def test_one_aster_row_with_min_notional_spelled_differently_is_read_and_a_garbled_one_only_refuses_itself() -> None:
    odd = {**FAMILY_ROW, "symbol": "ETHUSDT", "baseAsset": "ETH"}
    odd["filters"] = [*FAMILY_ROW["filters"][:3], {"filterType": "MIN_NOTIONAL", "minNotional": "20"}]
    broken = {**FAMILY_ROW, "symbol": "SOLUSDT", "baseAsset": "SOL", "filters": [{"filterType": "LOT_SIZE"}]}
    markets, refused = aster.parse_markets({"symbols": [FAMILY_ROW, odd, broken]})
    assert sorted(markets) == ["BTC", "ETH"]
    assert markets["ETH"].min_notional == D(20)
    assert list(refused) == ["SOL"]


def test_aster_order_post_with_ids_and_times_as_strings_is_read() -> None:
    reply = {
        "orderId": "17338441758", "symbol": "BTCUSDT", "status": "FILLED", "clientOrderId": "c1", "price": "0",
        "avgPrice": "65000.10", "origQty": "0.010", "executedQty": "0.010", "type": "MARKET", "side": "BUY",
        "reduceOnly": False, "time": "1776800300700", "updateTime": "1776800300701",
    }  # fmt: skip
    order = aster.parse_order(reply, str)
    assert (order.order_id, order.status, order.avg_price) == ("17338441758", OrderStatus.FILLED, D("65000.10"))
    assert order.created_at is not None
    assert order.updated_at is not None
    assert aster.parse_server_time({"serverTime": "1779359311580"}).year == 2026
    aster.parse_ack({"code": "200", "msg": "done"})


@pytest.mark.parametrize("code", [-2011, "-2011"])
def test_an_aster_error_code_as_a_string_still_maps(code: Any) -> None:
    number = error_code({"code": code, "msg": "Unknown order sent."})
    assert number == -2011
    assert isinstance(
        aster_client.map_error(400, number, "Unknown order sent.", aster_client.Kind.WRITE), OrderNotFound
    )


def test_a_cancel_reply_without_avg_price_of_a_partly_filled_order_is_read_as_no_average() -> None:
    reply = {
        "orderId": 7, "symbol": "BTCUSDT", "status": "CANCELED", "clientOrderId": "c1", "price": "60000",
        "origQty": "0.010", "executedQty": "0.004", "cumQty": "0.004", "type": "LIMIT", "side": "BUY",
        "reduceOnly": False, "updateTime": 1,
    }  # fmt: skip
    for order in (BINANCE.order(reply, str), aster.parse_order(reply, str)):
        assert (order.filled_qty, order.avg_price) == (D("0.004"), None)


def test_a_trailing_stop_is_a_market_order_and_an_unknown_type_is_an_error() -> None:
    row = {"orderId": 1, "symbol": "BTCUSDT", "status": "NEW", "price": "0", "origQty": "1", "executedQty": "0",
           "type": "TRAILING_STOP_MARKET", "side": "SELL"}  # fmt: skip
    assert BINANCE.order(row, str).type is OrderType.MARKET
    with pytest.raises(BadResponse):
        BINANCE.order({**row, "type": "ICEBERG"}, str)


def test_binance_position_with_adl_as_a_string_and_time_as_a_string_is_read() -> None:
    row = {"symbol": "BTCUSDT", "positionAmt": "-0.5", "entryPrice": "60000", "markPrice": "60100",
           "unRealizedProfit": "-50", "adl": "2", "updateTime": "1722062678998"}  # fmt: skip
    [position] = BINANCE.positions([row], str)
    assert position.qty == D("-0.5")


UPDATE = {"e": "ORDER_TRADE_UPDATE", "E": 2, "T": 1, "o": {
    "s": "BTCUSDT", "c": "c1", "S": "BUY", "o": "MARKET", "q": "0.010", "p": "0", "ap": "65000", "x": "TRADE",
    "X": "FILLED", "i": 42, "l": "0.010", "z": "0.010", "L": "65000", "n": "0.26", "N": "USDT", "T": 1, "t": 9,
    "m": False, "R": False}}  # fmt: skip


@pytest.mark.parametrize("frame", [UPDATE, {"stream": "listenKey", "data": UPDATE}], ids=["bare", "envelope"])
def test_a_binance_user_stream_event_is_read_bare_and_in_its_envelope(frame: dict[str, Any]) -> None:
    markets = {"BTCUSDT": BINANCE.market(FAMILY_ROW)}
    event = parse_order_trade_update(unwrap(frame), markets, "binance")
    assert event is not None
    assert event.fill is not None
    assert event.fill.fee == D("0.26")


# ---- OKX --------------------------------------------------------------------------------------------

OKX_INSTRUMENT = {"instId": "BTC-USDT-SWAP", "ctVal": "0.01", "ctValCcy": "BTC", "lotSz": "0.1", "minSz": "0.1",
                  "tickSz": "0.1", "maxLmtSz": "100000000", "maxMktSz": "12000"}  # fmt: skip


def test_okx_market_order_cap_is_max_mkt_sz_not_max_lmt_sz() -> None:
    market = okx_parse.parse_market(OKX_INSTRUMENT, "BTC")
    assert (market.max_market_qty, market.max_qty) == (D(120), D(1000000))


def test_the_hedge_quantity_refuses_a_market_leg_above_either_venues_cap_before_any_order() -> None:
    okx = okx_parse.parse_market(OKX_INSTRUMENT, "BTC")
    binance = BINANCE.market(FAMILY_ROW)
    assert common_quantity([okx, binance], D(1_000_000), D(10_000)).qty == D(100)
    with pytest.raises(NoCommonQuantity, match="okx takes at most 120"):
        common_quantity([okx, binance], D(2_000_000), D(10_000))  # 200 BTC: above OKX's 120
    with pytest.raises(NoCommonQuantity, match="binance takes at most 120"):
        common_quantity([binance, _uncapped()], D(1_300_000), D(10_000))
    assert common_quantity([binance, _uncapped()], D(1_300_000), D(10_000), market_orders=False).qty == D(130)


def _uncapped() -> Market:
    return Market("backpack", "BTC", "BTC_USDC_PERP", "BTC", "USDC", D("0.1"), D("0.001"), D("0.001"))


# ---- Backpack ---------------------------------------------------------------------------------------

BP_ORDER = {"id": "11", "clientId": None, "createdAt": "2025-07-27T18:05:40.897", "executedQuantity": "0",
            "executedQuoteQuantity": "0", "orderType": "Limit", "side": "Ask", "symbol": "ETH_USDC_PERP"}  # fmt: skip


def test_backpack_trigger_orders_and_triggered_status_are_read() -> None:
    trigger = {**BP_ORDER, "quantity": None, "triggerQuantity": "0.5", "status": "TriggerPending", "price": "4500"}
    assert backpack_orders.parse_order(trigger, "ETH").qty == D("0.5")
    fired = {**trigger, "status": "Triggered"}
    assert backpack_orders.parse_order(fired, "ETH").status is OrderStatus.NEW


def test_a_backpack_system_fill_without_trade_id_gets_a_stable_id() -> None:
    fill = {"tradeId": None, "orderId": "99", "symbol": "ETH_USDC_PERP", "side": "Ask", "price": "3800",
            "quantity": "0.01", "fee": "0", "feeSymbol": "USDC", "isMaker": False,
            "timestamp": "2025-07-27T17:39:00.092"}  # fmt: skip
    first, again = backpack_orders.parse_fill(fill, "ETH"), backpack_orders.parse_fill(dict(fill), "ETH")
    assert first.trade_id == again.trade_id
    assert first.trade_id.startswith("system:")


def test_backpack_funding_interval_as_a_string_is_read() -> None:
    market = {"symbol": "SOL_USDC_PERP", "baseSymbol": "SOL", "quoteSymbol": "USDC", "marketType": "PERP",
              "fundingInterval": "28800000", "filters": {"price": {"tickSize": "0.01"},
              "quantity": {"stepSize": "0.01", "minQuantity": "0.01", "maxQuantity": None}}}  # fmt: skip
    (_, interval) = backpack.parse_markets([market])["SOL"]
    assert interval is not None
    assert interval.total_seconds() == 8 * 3600


def test_a_backpack_order_expired_by_post_only_mode_is_a_refusal() -> None:
    wire = {**BP_ORDER, "orderType": "Market", "quantity": "0.1", "status": "Expired", "expiryReason": "PostOnlyMode"}
    order = backpack_orders.parse_order(wire, "ETH")
    reason = backpack_orders.refusal(order, wire)
    assert reason is not None
    assert "post-only mode" in reason
    taker = {**wire, "expiryReason": "PostOnlyTaker"}
    assert backpack_orders.refusal(backpack_orders.parse_order(taker, "ETH"), taker) is None


def test_a_backpack_stream_trigger_update_is_read_with_its_trigger_size_and_string_times() -> None:
    data = {"e": "triggerPlaced", "E": "1748288167010366", "s": "SOL_USDC_PERP", "S": "Ask", "o": "LIMIT",
            "X": "TriggerPending", "i": "1145", "q": "0", "Y": "20.03", "z": "0", "p": "178.15",
            "r": False}  # fmt: skip
    event = backpack_stream.parse_order_update(data, {"SOL_USDC_PERP": "SOL"})
    assert event is not None
    assert event.order.qty == D("20.03")
    assert event.order.updated_at is not None


def test_one_unreadable_backpack_market_refuses_only_its_symbol() -> None:
    good = {"symbol": "SOL_USDC_PERP", "baseSymbol": "SOL", "quoteSymbol": "USDC", "marketType": "PERP",
            "fundingInterval": "28800000", "filters": {"price": {"tickSize": "0.01"},
            "quantity": {"stepSize": "0.01", "minQuantity": "0.01"}}}  # fmt: skip
    odd = {**good, "symbol": "ETH_USDC_PERP", "baseSymbol": "ETH", "filters": {"price": {}, "quantity": {}}}
    broken: dict[str, str] = {}
    assert list(backpack.parse_markets([good, odd], broken)) == ["SOL"]
    assert list(broken) == ["ETH"]


@pytest.mark.parametrize("code", [-1021, "-1021", -4225, "-4225"])
def test_an_aster_clock_error_as_a_string_still_triggers_the_clock_resync(code: Any) -> None:
    reply = httpx.Response(400, json={"code": code, "msg": "Timestamp for this request is outside of the recvWindow."})
    with pytest.raises(aster_client._ClockRejected):
        aster_client.decode_response(reply, aster_client.Kind.READ)
