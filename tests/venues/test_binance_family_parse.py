"""The Binance family's one reading of Binance's and Aster's wire: the same reply means the same thing on both
venues, whatever representation its numbers come in (JSON numbers or strings: Aster really sends strings)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.domain.types import OrderRequest, OrderType, PositionMode, Side, TimeInForce
from hedgectl.errors import (
    AmbiguousOrderState,
    AuthError,
    BadResponse,
    InsufficientFunds,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    SymbolNotListed,
    Unavailable,
    VenueError,
)
from hedgectl.venues.binance_family.errors import map_error
from hedgectl.venues.binance_family.parse import FamilyParser
from hedgectl.venues.kit.transport import Kind

D = Decimal
VENUES = ("binance", "aster")
ORDER: dict[str, Any] = {
    "orderId": 4000000002, "symbol": "BTCUSDT", "status": "PARTIALLY_FILLED", "clientOrderId": "hc1",
    "price": "95000.10", "avgPrice": "95000.10", "origQty": "0.010", "executedQty": "0.004", "type": "LIMIT",
    "reduceOnly": False, "side": "SELL", "positionSide": "BOTH", "time": 1_764_547_200_000,
    "updateTime": 1_764_547_200_500,
}  # fmt: skip
NUMERIC = ("orderId", "price", "avgPrice", "origQty", "executedQty", "time", "updateTime")


def _strip(symbol: str) -> str:
    return symbol.removesuffix("USDT")


def _as(value: Any, form: str) -> Any:
    """One figure in one of the representations venues send."""
    text = str(value)
    if form == "str":
        return text
    number = D(text)
    return int(number) if form == "json" and number == number.to_integral_value() else number


@given(forms=st.fixed_dictionaries({k: st.sampled_from(["str", "json"]) for k in NUMERIC}))
def test_an_order_reads_the_same_on_both_venues_whatever_its_numbers_look_like(forms: dict[str, str]) -> None:
    wire = {**ORDER, **{k: _as(ORDER[k], form) for k, form in forms.items()}}
    binance, aster = (FamilyParser(v).order(wire, _strip) for v in VENUES)
    assert (binance.venue, aster.venue) == VENUES
    assert binance == FamilyParser("binance").order(ORDER, _strip)
    assert {**vars_of(binance), "venue": "aster"} == vars_of(aster)
    assert (binance.qty, binance.filled_qty, binance.price, binance.order_id) == (
        D("0.010"), D("0.004"), D("95000.10"), "4000000002",
    )  # fmt: skip


def vars_of(order: Any) -> dict[str, Any]:
    return {name: getattr(order, name) for name in order.__dataclass_fields__}


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.parametrize(("key", "value"), [("origQty", "abc"), ("price", "1e999"), ("orderId", True), ("time", -5)])
def test_a_garbled_figure_is_a_bad_response_on_both_venues(venue: str, key: str, value: Any) -> None:
    with pytest.raises(BadResponse, match=venue):
        FamilyParser(venue).order({**ORDER, key: value}, _strip)


@pytest.mark.parametrize("venue", VENUES)
def test_market_lot_size_caps_market_orders_and_coarsens_the_step_on_both_venues(venue: str) -> None:
    row = {
        "symbol": "ETHUSDT", "contractType": "PERPETUAL", "status": "TRADING", "baseAsset": "ETH", "quoteAsset": "USDT",
        "filters": [
            {"filterType": "PRICE_FILTER", "tickSize": D("0.01")},
            {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "10000", "stepSize": "0.001"},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.01", "maxQty": "2000", "stepSize": "0.01"},
            {"filterType": "MIN_NOTIONAL", "notional": "20"},
        ],
    }  # fmt: skip
    market = FamilyParser(venue).market(row)
    assert (market.step_size, market.min_qty, market.max_qty, market.max_market_qty, market.min_notional) == (
        D("0.01"), D("0.01"), D(10000), D(2000), D(20),
    )  # fmt: skip


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.parametrize(
    "request_",
    [
        OrderRequest("BTC", Side.BUY, OrderType.LIMIT, D(1), "x"),
        OrderRequest("BTC", Side.BUY, OrderType.MARKET, D(0), "x"),
        OrderRequest("BTC", Side.BUY, OrderType.MARKET, D(1), "x", time_in_force=TimeInForce.POST_ONLY),
    ],
)
def test_an_order_the_venue_would_refuse_is_order_rejected_on_both_venues(venue: str, request_: OrderRequest) -> None:
    with pytest.raises(OrderRejected, match=venue):
        FamilyParser(venue).to_wire_order("BTCUSDT", request_)


@pytest.mark.parametrize(
    ("status", "code", "kind", "error"),
    [
        (400, -2019, Kind.WRITE, InsufficientFunds),
        (400, -4061, Kind.WRITE, OrderRejected),
        (400, -4999, Kind.WRITE, OrderRejected),  # any refusal of an order: not placed
        (400, -4999, Kind.READ, VenueError),
        (400, -2013, Kind.READ, OrderNotFound),
        (401, -2015, Kind.READ, AuthError),
        (429, -1003, Kind.READ, RateLimited),
        (503, -1007, Kind.WRITE, AmbiguousOrderState),  # "execution status unknown": reconcile, never resend
        (503, -1007, Kind.READ, Unavailable),
        (502, None, Kind.WRITE, AmbiguousOrderState),
        (400, None, Kind.READ, BadResponse),
    ],
)
def test_one_reply_is_one_error_on_both_venues(status: int, code: int | None, kind: Kind, error: type) -> None:
    for venue in VENUES:
        mapped = map_error(venue, status, code, "msg", kind)
        assert type(mapped) is error
        assert mapped.venue == venue
        assert mapped.code == (str(code) if code is not None else None)


@pytest.mark.parametrize("venue", VENUES)
def test_income_reads_funding_fees_only_with_the_sign_as_sent(venue: str) -> None:
    rows = [
        {"symbol": "BTCUSDT", "incomeType": "FUNDING_FEE", "income": "-0.0123", "asset": "USDT", "time": 1,
         "tranId": 9689322392},
        {"symbol": "ETHUSDT", "incomeType": "FUNDING_FEE", "income": D("0.5"), "asset": "USDT", "time": "2",
         "tranId": "9689322393"},
        {"symbol": "BTCUSDT", "incomeType": "COMMISSION", "income": "-0.01", "asset": "USDT", "time": 3, "tranId": 1},
    ]  # fmt: skip
    payments = FamilyParser(venue).funding_payments(rows, _strip)
    assert [(p.symbol, p.payment_id, p.amount, p.asset) for p in payments] == [
        ("BTC", "9689322392", D("-0.0123"), "USDT"), ("ETH", "9689322393", D("0.5"), "USDT"),
    ]  # fmt: skip
    with pytest.raises(BadResponse):
        FamilyParser(venue).funding_payments([{**rows[0], "tranId": None}], _strip)
    with pytest.raises(BadResponse):
        FamilyParser(venue).funding_payments([{**rows[0], "income": ""}], _strip)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (-2019, InsufficientFunds),
        (-2018, InsufficientFunds),
        (-4164, OrderRejected),
        (-2022, OrderRejected),
        (-5022, OrderRejected),
        (-1111, OrderRejected),
        (-4014, OrderRejected),
        (-4023, OrderRejected),
        (-2011, OrderNotFound),
        (-2013, OrderNotFound),
        (-1121, SymbolNotListed),
        (-1022, AuthError),
        (-2015, AuthError),
        (-1003, RateLimited),
    ],
)
def test_binance_codes_map_exactly_and_say_the_venues_words(code: int, expected: type) -> None:
    """The codes the ccxt adapter's table pinned (ccxt leaves most of them generic off production URLs)."""
    mapped = map_error("binance", 400, code, "Venue says no.", Kind.READ)  # READ: no write-side fallback
    assert type(mapped) is expected
    assert mapped.code == str(code)
    assert str(mapped).startswith("binance: ")
    assert str(mapped).endswith(f"HTTP 400: Venue says no. (code {code})")


@pytest.mark.parametrize(
    ("reply", "mode"),
    [
        ({"dualSidePosition": True}, PositionMode.HEDGE),
        ({"dualSidePosition": "true"}, PositionMode.HEDGE),
        ({"dualSidePosition": False}, PositionMode.ONE_WAY),
    ],
)
def test_the_position_mode_is_read_from_dual_side_position(reply: dict[str, Any], mode: PositionMode) -> None:
    for venue in VENUES:
        assert FamilyParser(venue).position_mode(reply) is mode


@pytest.mark.parametrize("reply", [{}, {"dualSidePosition": None}, {"dualSidePosition": "maybe"}, [True]])
def test_a_missing_or_garbled_dual_side_position_is_a_bad_response(reply: Any) -> None:
    with pytest.raises(BadResponse):
        FamilyParser("binance").position_mode(reply)
