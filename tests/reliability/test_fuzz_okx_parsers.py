"""The native OKX readers fed missing, wrong-typed and out-of-range fields: every field of every reply they read
is replaced or dropped; the result is a BadResponse or a value that could be true, never anything else."""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedgectl.domain.types import Fill, FundingPayment, Market, Order, Position
from hedgectl.errors import BadResponse
from hedgectl.venues.okx import parse, parse_orders
from hedgectl.venues.okx.stream import parse_order_push
from hedgectl.venues.streams import OrderEvent

D = Decimal
MARKET_ROW: dict[str, Any] = {
    "instId": "BTC-USDT-SWAP", "ctVal": "0.01", "ctValCcy": "BTC", "lotSz": "0.1", "minSz": "0.1", "tickSz": "0.1",
    "maxLmtSz": "100000", "maxMktSz": "12000",
}  # fmt: skip
ORDER_ROW: dict[str, Any] = {
    "instId": "BTC-USDT-SWAP", "ordId": "6808", "clOrdId": "hc1", "px": "95000.5", "sz": "25", "ordType": "limit",
    "side": "sell", "posSide": "net", "state": "partially_filled", "accFillSz": "10", "avgPx": "95000.5",
    "fee": "-0.11875", "feeCcy": "USDT", "reduceOnly": "false", "cTime": "1700000000000", "uTime": "1700000000100",
}  # fmt: skip
PUSH_ROW: dict[str, Any] = {
    **ORDER_ROW, "tradeId": "2", "fillSz": "10", "fillPx": "95000.5", "fillFee": "-0.05", "fillFeeCcy": "USDT",
    "execType": "M", "fillTime": "1700000000100",
}  # fmt: skip
FILL_ROW: dict[str, Any] = {
    "ordId": "1", "tradeId": "2", "side": "sell", "fillSz": "10", "fillPx": "95000.5", "fee": "-0.05",
    "feeCcy": "USDT", "execType": "T", "clOrdId": "hc1", "fillTime": "1700000000000",
}  # fmt: skip
POSITION_ROW: dict[str, Any] = {
    "instId": "BTC-USDT-SWAP", "posSide": "net", "pos": "-30", "avgPx": "95000", "markPx": "95100", "upl": "-3",
    "liqPx": "", "lever": "10", "mgnMode": "cross",
}  # fmt: skip
BILL_ROW: dict[str, Any] = {
    "billId": "901", "instId": "BTC-USDT-SWAP", "ccy": "USDT", "type": "8", "subType": "174", "balChg": "0.2",
    "posBalChg": "0", "sz": "30", "px": "0.0001", "ts": "1700000000000",
}  # fmt: skip
BTC = parse.parse_market(MARKET_ROW, "BTC")

PARSERS: dict[str, tuple[Any, dict[str, Any]]] = {
    "market": (lambda w: parse.parse_market(w, "BTC"), MARKET_ROW),
    "order": (lambda w: parse_orders.parse_order(w, BTC), ORDER_ROW),
    "push": (lambda w: parse_order_push(w, {"BTC-USDT-SWAP": BTC}, OrderedDict()), PUSH_ROW),
    "fill": (lambda w: parse_orders.parse_fill(w, BTC), FILL_ROW),
    "position": (lambda w: parse.parse_position(w, BTC), POSITION_ROW),
    "bill": (lambda w: parse_orders.parse_funding_bill(w, BTC), BILL_ROW),
}

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.text(alphabet="abcxyz<>/ !-", min_size=1, max_size=10),
    st.sampled_from(["", " ", "NaN", "-Infinity", "1e999999", "0x10", "1,5", "-0.5", "-1", "0", "1e30", "-1e30"]),
    st.integers(min_value=-(10**30), max_value=10**30),
)


def true_to_life(value: Any) -> None:
    """What a parsed reply must satisfy whatever OKX sent."""
    if isinstance(value, OrderEvent):
        true_to_life(value.order)
        if value.fill is not None:
            true_to_life(value.fill)
    elif isinstance(value, Market):
        assert value.tick_size > 0
        assert value.step_size > 0
        assert value.min_qty >= 0
        assert value.contract_size > 0
        assert value.max_qty is None or value.max_qty >= value.min_qty
    elif isinstance(value, Order):
        assert value.qty > 0
        assert 0 <= value.filled_qty <= value.qty
        assert value.avg_price is None or value.avg_price > 0
        assert value.price is None or value.price > 0
        assert value.order_id
    elif isinstance(value, Fill):
        assert value.qty > 0
        assert value.price > 0
        assert value.fee.is_finite()
        assert value.trade_id
    elif isinstance(value, Position):
        assert value.qty.is_finite()
        assert value.entry_price is None or value.entry_price > 0
    elif isinstance(value, FundingPayment):
        assert value.amount.is_finite()
        assert value.payment_id
        assert value.position_qty is None or value.position_qty.is_finite()
    else:  # pragma: no cover - every reader is listed above
        raise AssertionError(type(value))


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_the_good_replies_read_true_to_life(name: str) -> None:
    reader, good = PARSERS[name]
    true_to_life(reader(copy.deepcopy(good)))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(PARSERS)), data=st.data(), junk=JUNK, delete=st.booleans())
def test_a_garbled_or_missing_field_is_a_bad_response_or_still_true(
    name: str, data: st.DataObject, junk: Any, delete: bool
) -> None:
    reader, good = PARSERS[name]
    key = data.draw(st.sampled_from(sorted(good)))
    broken = copy.deepcopy(good)
    if delete:
        del broken[key]
    else:
        broken[key] = junk
    try:
        parsed = reader(broken)
    except BadResponse:
        return
    if parsed is not None:
        true_to_life(parsed)


@given(reply=st.one_of(st.none(), st.text(max_size=20), st.lists(st.none(), min_size=1, max_size=2), st.integers()))
def test_a_reply_that_is_not_an_object_of_rows_is_a_bad_response(reply: Any) -> None:
    with pytest.raises(BadResponse):
        parse.data(reply, "orders")
    with pytest.raises(BadResponse):
        parse.data({"code": "0", "data": reply}, "orders")


@pytest.mark.parametrize("reply", [{"code": "0", "data": []}, {"code": "0"}, {"data": [None]}, {"data": ["x"]}])
def test_a_write_without_its_row_is_a_bad_response(reply: dict[str, Any]) -> None:
    with pytest.raises(BadResponse):
        parse.first(reply, "order")


@pytest.mark.parametrize("value", ["1e-999999", "1e999999", "9" * 5000])
def test_numbers_beyond_any_venue_are_bad_responses_not_arithmetic_errors(value: str) -> None:
    with pytest.raises(BadResponse):
        parse.parse_market({**MARKET_ROW, "ctVal": value}, "BTC")
    with pytest.raises(BadResponse):
        parse_orders.parse_funding_bill({**BILL_ROW, "balChg": value}, BTC)


def test_json_numbers_and_strings_read_the_same() -> None:
    as_numbers = json.loads(json.dumps({**ORDER_ROW, "sz": 25, "accFillSz": 10, "cTime": 1700000000000}), parse_float=D)
    assert parse_orders.parse_order(as_numbers, BTC) == parse_orders.parse_order(ORDER_ROW, BTC)
