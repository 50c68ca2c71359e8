"""Venue reply parsers fed missing, wrong-typed and out-of-range fields (the native Binance-family and OKX
parsers in full; every adapter's timestamps).

tests/venues/test_binance_family_parse.py and test_okx_parse.py check the good replies and a few broken ones by
hand, and the Backpack and Aster parse tests already fuzz their fields; this walks every field of the Binance
and OKX replies with hypothesis.
The rule: a BadResponse, or a domain value that is still true - never a garbled field read as a number,
a negative size, a fill larger than its order, or a crash of another kind.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedgectl.domain.types import Fill, Market, Order, Position
from hedgectl.errors import BadResponse
from hedgectl.venues.aster import parse as aster_parse
from hedgectl.venues.backpack import parse_orders as backpack_orders
from hedgectl.venues.binance_family.parse import FamilyParser
from hedgectl.venues.okx import parse as okx_parse
from hedgectl.venues.okx import parse_orders as okx_orders

BINANCE = FamilyParser("binance")

BINANCE_MARKET: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "baseAsset": "BTC",
    "quoteAsset": "USDT",
    "filters": [
        {"filterType": "PRICE_FILTER", "tickSize": "0.10"},
        {"filterType": "LOT_SIZE", "stepSize": "0.001", "maxQty": "1000", "minQty": "0.001"},
        {"filterType": "MIN_NOTIONAL", "notional": "100"},
    ],
}
OKX_MARKET: dict[str, Any] = {
    "instId": "BTC-USDT-SWAP",
    "ctVal": "0.01",
    "ctValCcy": "BTC",
    "lotSz": "0.1",
    "minSz": "0.1",
    "tickSz": "0.1",
    "maxLmtSz": "100000",
}
BINANCE_ORDER: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "orderId": 4081234567,
    "status": "PARTIALLY_FILLED",
    "clientOrderId": "hc1",
    "price": "95000.1",
    "avgPrice": "95000.10000",
    "origQty": "0.010",
    "executedQty": "0.004",
    "type": "LIMIT",
    "origType": "LIMIT",
    "reduceOnly": False,
    "side": "BUY",
    "time": 1700000000000,
    "updateTime": 1700000000123,
}
OKX_ORDER: dict[str, Any] = {
    "ordId": "680800019749904384",
    "clOrdId": "hc1",
    "px": "95000.5",
    "sz": "25",
    "ordType": "limit",
    "side": "sell",
    "state": "partially_filled",
    "accFillSz": "10",
    "avgPx": "95000.5",
    "fee": "-0.11875",
    "feeCcy": "USDT",
    "reduceOnly": "false",
    "cTime": "1700000000000",
    "uTime": "1700000000100",
}
BINANCE_FILL: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "id": 698759,
    "orderId": 25851813,
    "side": "BUY",
    "price": "95000",
    "qty": "0.004",
    "commission": "0.152",
    "commissionAsset": "USDT",
    "maker": False,
    "time": 1700000000000,
}
OKX_FILL: dict[str, Any] = {
    "ordId": "1",
    "tradeId": "2",
    "side": "sell",
    "fillSz": "10",
    "fillPx": "95000.5",
    "fee": "-0.05",
    "feeCcy": "USDT",
    "execType": "T",
    "clOrdId": "hc1",
    "fillTime": "1700000000000",
}
BINANCE_POSITION: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "positionAmt": "-0.010",
    "entryPrice": "95000.0",
    "markPrice": "95010",
    "unRealizedProfit": "-0.1",
}
OKX_POSITION: dict[str, Any] = {
    "instId": "BTC-USDT-SWAP",
    "posSide": "net",
    "pos": "-30",
    "avgPx": "95000",
    "markPx": "95100",
    "upl": "-3",
}


def _base(venue_symbol: str) -> str:
    return venue_symbol.removesuffix("USDT")


def _okx_market() -> Market:
    return okx_parse.parse_market(OKX_MARKET, "BTC")


PARSERS: dict[str, tuple[Any, dict[str, Any]]] = {
    "binance market": (BINANCE.market, BINANCE_MARKET),
    "okx market": (lambda w: okx_parse.parse_market(w, "BTC"), OKX_MARKET),
    "binance order": (lambda w: BINANCE.order(w, _base), BINANCE_ORDER),
    "okx order": (lambda w: okx_orders.parse_order(w, _okx_market()), OKX_ORDER),
    "binance fill": (lambda w: BINANCE.fill(w, _base), BINANCE_FILL),
    "okx fill": (lambda w: okx_orders.parse_fill(w, _okx_market()), OKX_FILL),
    # positionRisk is a list; a row whose amount became zero is no position (an empty list is true to life)
    "binance position": (lambda w: BINANCE.positions([w], _base), BINANCE_POSITION),
    "okx position": (lambda w: okx_parse.parse_position(w, _okx_market()), OKX_POSITION),
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


def _paths(wire: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a reply, nested lists and objects included."""
    out: list[tuple[Any, ...]] = []
    items = wire.items() if isinstance(wire, dict) else enumerate(wire) if isinstance(wire, list) else []
    for key, value in items:
        out.append((*prefix, key))
        out.extend(_paths(value, (*prefix, key)))
    return out


def _set(wire: Any, path: tuple[Any, ...], value: Any, *, delete: bool = False) -> Any:
    broken = copy.deepcopy(wire)
    node = broken
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return broken


def assert_true_to_life(value: Any) -> None:
    """What a parsed reply must satisfy whatever the venue sent."""
    if isinstance(value, list):
        for item in value:
            assert_true_to_life(item)
    elif isinstance(value, Market):
        assert value.tick_size > 0
        assert value.step_size > 0
        assert value.min_qty >= 0
        assert value.min_notional >= 0
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
        assert value.order_id
        assert value.trade_id
    elif isinstance(value, Position):
        assert value.qty.is_finite()
        assert value.entry_price is None or value.entry_price > 0
    else:  # pragma: no cover - every parser is listed above
        raise AssertionError(type(value))


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_the_good_replies_parse_true_to_life(name: str) -> None:
    parser, good = PARSERS[name]
    assert_true_to_life(parser(copy.deepcopy(good)))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(PARSERS)), data=st.data(), junk=JUNK, delete=st.booleans())
def test_a_garbled_or_missing_field_is_a_bad_response_or_still_true(
    name: str, data: st.DataObject, junk: Any, delete: bool
) -> None:
    parser, good = PARSERS[name]
    path = data.draw(st.sampled_from(_paths(good)))
    broken = _set(good, path, junk, delete=delete and not isinstance(path[-1], int))
    try:
        parsed = parser(broken)
    except BadResponse:
        return
    assert_true_to_life(parsed)


@settings(max_examples=100, deadline=None)
@given(wire=st.one_of(st.none(), st.text(max_size=20), st.lists(st.none(), min_size=1, max_size=2), st.integers()))
def test_a_reply_that_is_not_an_object_is_a_bad_response(wire: Any) -> None:
    with pytest.raises(BadResponse):
        okx_parse.data(wire, "orders")
    with pytest.raises(BadResponse):
        okx_parse.data({"code": "0", "data": wire}, "orders")


@pytest.mark.parametrize("reply", [{"code": "0", "data": []}, {"code": "0"}, {"data": [None]}, {"data": ["x"]}])
def test_an_okx_write_without_its_row_is_a_bad_response(reply: dict[str, Any]) -> None:
    with pytest.raises(BadResponse):
        okx_parse.first(reply, "order")


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("binance order", "executedQty", "0.011"),  # more than the order's 0.010
        ("okx order", "accFillSz", "26"),  # more than the order's 25 contracts
        ("binance order", "origQty", "-0.010"),
        ("binance fill", "qty", "-0.004"),
        ("okx fill", "fillPx", "0"),
        ("binance order", "time", "1e30"),  # a timestamp no calendar has
    ],
)
def test_numbers_that_cannot_be_true_are_bad_responses(name: str, field: str, value: str) -> None:
    parser, good = PARSERS[name]
    with pytest.raises(BadResponse):
        parser({**good, field: value})


def test_decimal_fields_keep_every_digit() -> None:
    order = BINANCE.order({**BINANCE_ORDER, "avgPrice": "95000.123456789123"}, _base)
    assert order.avg_price == Decimal("95000.123456789123")


# -- timestamps, on every adapter ---------------------------------------------------------------------

BACKPACK_ORDER: dict[str, Any] = {
    "clientId": 123456789,
    "createdAt": 1753626206762,
    "executedQuantity": "0.4",
    "executedQuoteQuantity": "60.04",
    "id": "4228978331",
    "orderType": "Limit",
    "postOnly": True,
    "price": "150.1",
    "quantity": "1",
    "side": "Ask",
    "status": "PartiallyFilled",
    "symbol": "SOL_USDC_PERP",
    "timeInForce": "GTC",
}
ASTER_ORDER: dict[str, Any] = {
    "orderId": 22542179,
    "symbol": "BTCUSDT",
    "status": "PARTIALLY_FILLED",
    "clientOrderId": "hc0123456789abcdef",
    "price": "95000.0",
    "avgPrice": "94999.5",
    "origQty": "0.010",
    "executedQty": "0.004",
    "type": "LIMIT",
    "origType": "LIMIT",
    "reduceOnly": False,
    "side": "SELL",
    "time": 1_700_000_000_000,
    "updateTime": 1_700_000_000_500,
}
TIME_FIELDS: dict[str, tuple[Any, dict[str, Any], str]] = {
    "binance": (PARSERS["binance order"][0], BINANCE_ORDER, "time"),
    "okx": (PARSERS["okx order"][0], OKX_ORDER, "cTime"),
    "backpack": (lambda w: backpack_orders.parse_order(w, "SOL"), BACKPACK_ORDER, "createdAt"),
    "aster": (lambda w: aster_parse.parse_order(w, lambda s: s.removesuffix("USDT")), ASTER_ORDER, "time"),
}
TIMES = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.text(alphabet="0123456789²١ .-e", min_size=1, max_size=40),
    st.sampled_from(["9" * 5000, "1e999999", "-1", "0"]),
)


@settings(max_examples=300, deadline=2000)
@given(venue=st.sampled_from(sorted(TIME_FIELDS)), value=TIMES)
def test_any_timestamp_is_a_time_or_a_bad_response_and_quickly(venue: str, value: Any) -> None:
    """Found here: Backpack raised OSError/ValueError on a huge or non-ASCII-digit time, ccxt's reader
    OverflowError - and spent half a minute in int(Decimal("1e999999")) first (the deadline catches that)."""
    parser, good, key = TIME_FIELDS[venue]
    try:
        order = parser({**good, key: value})
    except BadResponse:
        return
    assert order.created_at is None or order.created_at.year < 5200


@pytest.mark.parametrize("field", ["executedQuantity", "executedQuoteQuantity", "quantity", "price"])
@pytest.mark.parametrize("value", ["1e-999999", "1e999999", "9" * 5000])
def test_numbers_beyond_any_venue_are_bad_responses_not_arithmetic_errors(field: str, value: str) -> None:
    """Found here: Backpack's average price divided by executedQuantity "1e-999999" raised decimal.Overflow;
    ccxt's OKX market multiplied ctVal "1e999999" likewise."""
    with pytest.raises(BadResponse):
        backpack_orders.parse_order({**BACKPACK_ORDER, field: value}, "SOL")
    with pytest.raises(BadResponse):
        okx_parse.parse_market({**OKX_MARKET, "ctVal": value}, "BTC")
