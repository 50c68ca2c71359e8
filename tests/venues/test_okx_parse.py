"""OKX wire -> domain: contracts <-> base units, orders, fills, positions, funding bills, the error-code map.

Hand-picked replies for what each field means, and hypothesis for every representation a field may take.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from okx_samples import BTC, D, fill_row, funding_bill, instrument, ok, order_row, refused

from hedgectl.domain.types import OrderRequest, OrderStatus, OrderType, PositionMode, PositionSide, Side, TimeInForce
from hedgectl.errors import (
    AmbiguousOrderState,
    AuthError,
    BadResponse,
    HedgectlError,
    InsufficientFunds,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    SymbolNotListed,
    Unavailable,
    VenueError,
)
from hedgectl.venues.okx import codes, parse, parse_orders
from hedgectl.venues.okx.client import Kind, decode_response

MARKETS = {"BTC": BTC}
SINCE = datetime(2025, 1, 1, tzinfo=UTC)


def request(**over: Any) -> OrderRequest:
    fields: dict[str, Any] = {
        "symbol": "BTC", "side": Side.BUY, "type": OrderType.LIMIT, "qty": D("0.003"),
        "client_order_id": "hc0123456789abcdef", "price": D("95000.1"),
    }  # fmt: skip
    return OrderRequest(**{**fields, **over})


# ---- markets -------------------------------------------------------------------------------------


def test_market_rules_are_converted_to_base_units() -> None:
    market = parse.parse_market(instrument(), "BTC")
    assert (market.contract_size, market.step_size, market.min_qty, market.tick_size) == (
        D("0.01"), D("0.001"), D("0.001"), D("0.1")
    )  # fmt: skip
    assert (market.max_qty, market.max_market_qty) == (D("1000000"), D("120"))  # maxMktSz, not maxLmtSz


def test_only_live_linear_usdt_swaps_are_markets_and_an_odd_row_is_set_aside() -> None:
    rows = [
        instrument(),
        instrument("ETH", state="suspend"),
        instrument("XRP", ctType="inverse"),
        instrument("LTC", settleCcy="USDC", uly="LTC-USDC", instFamily="LTC-USDC"),
        instrument("SOL", lotSz="-1"),
        instrument("DOT", ctValCcy="USD"),
    ]
    markets, broken = parse.parse_markets(ok(rows))
    assert set(markets) == {"BTC"}
    assert set(broken) == {"SOL", "DOT"}


@pytest.mark.parametrize(
    "bad",
    [
        {"qty": D("0.0015")},
        {"qty": D("0")},
        {"price": D("95000.15")},
        {"price": None},
        {"type": OrderType.MARKET, "price": None, "time_in_force": TimeInForce.POST_ONLY},
        {"type": OrderType.MARKET, "price": None, "qty": D("120.001")},
    ],
)
def test_orders_off_the_rules_are_refused_before_sending(bad: dict[str, object]) -> None:
    with pytest.raises(OrderRejected):
        parse_orders.to_wire_order(BTC, request(**bad))


def test_an_order_body_is_in_contracts() -> None:
    body = parse_orders.to_wire_order(BTC, request(time_in_force=TimeInForce.POST_ONLY))
    assert body == {
        "instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy", "ordType": "post_only", "sz": "0.3",
        "px": "95000.1", "clOrdId": "hc0123456789abcdef",
    }  # fmt: skip
    sell = parse_orders.to_wire_order(
        BTC, request(type=OrderType.MARKET, price=None, qty=D("0.25"), side=Side.SELL, reduce_only=True)
    )
    assert (sell["ordType"], sell["sz"], sell["reduceOnly"], "px" in sell) == ("market", "25", True, False)
    hedged = parse_orders.to_wire_order(BTC, request(side=Side.SELL, reduce_only=True), PositionMode.HEDGE)
    assert (hedged["posSide"], "reduceOnly" in hedged) == ("long", False)


def test_a_quantity_that_is_not_whole_lots_is_refused_and_says_why() -> None:
    with pytest.raises(OrderRejected, match=r"0\.0005 is not a whole number of lots"):
        parse_orders.to_contracts(BTC, D("0.0005"))


@given(lots=st.integers(min_value=1, max_value=10**7))
def test_contract_conversion_round_trips(lots: int) -> None:
    qty = BTC.step_size * lots
    contracts = parse_orders.to_contracts(BTC, qty)
    assert contracts * BTC.contract_size == qty
    assert contracts % D("0.1") == 0


# ---- orders, fills, positions ------------------------------------------------------------------


def test_an_order_is_in_base_units_and_its_fee_positive_when_paid() -> None:
    order = parse_orders.parse_order(order_row(sz="25", accFillSz="25", fee="-0.11875"), BTC)
    assert (order.qty, order.filled_qty, order.fee, order.fee_asset) == (D("0.25"), D("0.25"), D("0.11875"), "USDT")
    assert (order.type, order.price, order.status, order.reduce_only) == (
        OrderType.MARKET,
        None,
        OrderStatus.FILLED,
        False,
    )
    assert order.created_at == datetime.fromtimestamp(1765000000, tz=UTC)


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("live", OrderStatus.NEW),
        ("partially_filled", OrderStatus.PARTIALLY_FILLED),
        ("canceled", OrderStatus.CANCELED),
        ("mmp_canceled", OrderStatus.CANCELED),
        ("order_failed", OrderStatus.REJECTED),
    ],
)
def test_order_states(state: str, status: OrderStatus) -> None:
    assert parse_orders.parse_order(order_row(state=state, accFillSz="0", avgPx=""), BTC).status is status


@pytest.mark.parametrize(
    "broken",
    [
        {"state": "weird"}, {"ordType": "iceberg"}, {"side": "up"}, {"posSide": "sideways"}, {"sz": ""},
        {"accFillSz": "4"}, {"ordId": ""}, {"reduceOnly": "maybe"}, {"avgPx": "-1"}, {"cTime": "yesterday"},
    ],
)  # fmt: skip
def test_an_order_with_a_missing_or_unknown_field_is_a_bad_response(broken: dict[str, str]) -> None:
    with pytest.raises(BadResponse):
        parse_orders.parse_order(order_row(**broken), BTC)


def test_fills_are_oldest_first_in_base_units_and_maker_from_exec_type() -> None:
    reply = ok([fill_row(tradeId="2", fillTime="1765000000200", execType="M", fee="0.01"), fill_row()])
    fills = parse_orders.parse_fills(reply, BTC)
    assert [f.trade_id for f in fills] == ["91", "2"]
    assert (fills[0].qty, fills[0].fee, fills[0].is_maker) == (D("0.03"), D("0.0975015"), False)
    assert (fills[1].fee, fills[1].is_maker) == (D("-0.01"), True)  # a maker rebate is a negative fee


def test_positions_in_both_modes() -> None:
    assert parse.parse_position_mode(ok([{"posMode": "long_short_mode"}])) is PositionMode.HEDGE
    assert parse.parse_position_mode(ok([{"posMode": "net_mode"}])) is PositionMode.ONE_WAY
    with pytest.raises(BadResponse):
        parse.parse_position_mode(ok([{"posMode": ""}]))
    net = parse.parse_position({"instId": "BTC-USDT-SWAP", "posSide": "net", "pos": "-30", "avgPx": "95000"}, BTC)
    assert (net.qty, net.position_side, net.label) == (D("-0.30"), None, "BTC")
    short = parse.parse_position({"instId": "BTC-USDT-SWAP", "posSide": "short", "pos": "2", "avgPx": "95000"}, BTC)
    assert (short.qty, short.position_side, short.label) == (D("-0.02"), PositionSide.SHORT, "BTC short")


def test_a_positions_margin_mode_is_cross_or_isolated_and_anything_else_a_broken_reply() -> None:
    """The reply fuzz found `mgnMode: "abc"` passed through as the margin mode shown by `positions`."""
    row = {"instId": "BTC-USDT-SWAP", "posSide": "net", "pos": "1", "avgPx": "95000"}
    assert parse.parse_position({**row, "mgnMode": "isolated"}, BTC).margin_mode == "isolated"
    assert parse.parse_position({**row, "mgnMode": ""}, BTC).margin_mode is None
    with pytest.raises(BadResponse):
        parse.parse_position({**row, "mgnMode": "abc"}, BTC)


def test_balances_use_avail_eq_and_fall_back_to_avail_bal() -> None:
    details = [
        {"ccy": "USDT", "eq": "100", "availEq": "80", "availBal": "70"},
        {"ccy": "BTC", "eq": "0.5", "availEq": "", "availBal": "0.4"},
        {"ccy": "ETH", "eq": "0", "availEq": "0"},
    ]
    balances = parse.parse_balances(ok([{"details": details}]))
    assert [(b.asset, b.free, b.used) for b in balances] == [("USDT", D(80), D(20)), ("BTC", D("0.4"), D("0.1"))]


# ---- funding bills -------------------------------------------------------------------------------


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def test_a_funding_bill_keeps_okx_sign_and_the_position_sign_follows_from_the_rate() -> None:
    at = datetime(2025, 1, 2, 8, tzinfo=UTC)
    received = parse_orders.parse_funding_bill(funding_bill("11", _ms(at), "0.195", px="0.0001"), BTC)
    assert (received.payment_id, received.at, received.asset, received.amount, received.rate) == (
        "11", at, "USDT", D("0.195"), D("0.0001")
    )  # fmt: skip
    assert received.position_qty == D("-0.30")  # a positive rate paid to us: we were short
    paid = parse_orders.parse_funding_bill(funding_bill("12", _ms(at), "-0.195", px="0.0001"), BTC)
    assert (paid.amount, paid.position_qty) == (D("-0.195"), D("0.30"))
    said = parse_orders.parse_funding_bill(funding_bill("13", _ms(at), "0.1", posSide="long", px="-0.0001"), BTC)
    assert said.position_qty == D("0.30")
    unknown = parse_orders.parse_funding_bill(funding_bill("14", _ms(at), "0", px="0.0001"), BTC)
    assert (unknown.amount, unknown.position_qty) == (D(0), None)


def test_an_isolated_positions_payment_is_read_from_pos_bal_chg() -> None:
    bill = funding_bill("15", _ms(SINCE), "0", posBalChg="-0.02")
    assert parse_orders.parse_funding_bill(bill, BTC).amount == D("-0.02")


@pytest.mark.parametrize(
    "broken", [{"billId": ""}, {"ts": ""}, {"balChg": "x"}, {"ccy": ""}, {"posSide": "up"}, {"sz": "-30"}]
)
def test_a_garbled_funding_bill_is_a_bad_response(broken: dict[str, str]) -> None:
    with pytest.raises(BadResponse):
        parse_orders.parse_funding_bill(funding_bill("16", _ms(SINCE), "0.1", **broken), BTC)


def test_funding_bills_are_ours_within_the_period_oldest_first() -> None:
    rows = [
        funding_bill("3", _ms(SINCE) + 3_600_000, "0.3"),
        funding_bill("2", _ms(SINCE), "0.2"),
        funding_bill("1", _ms(SINCE) - 1, "0.1"),
        funding_bill("9", _ms(SINCE) + 10, "0.9", instId="DOGE-USDT-SWAP"),
    ]
    until = datetime(2025, 1, 1, 1, tzinfo=UTC)
    assert [p.payment_id for p in parse_orders.parse_funding_bills(rows, MARKETS, SINCE, None)] == ["2", "3"]
    assert [p.payment_id for p in parse_orders.parse_funding_bills(rows, MARKETS, SINCE, until)] == ["2"]


amounts = st.decimals(min_value=D("-1e6"), max_value=D("1e6"), places=8, allow_nan=False)
representations = st.sampled_from([str, lambda d: format(d, "f"), lambda d: d])


@given(amount=amounts, rate=amounts, contracts=st.integers(1, 10**6), show=representations)
def test_funding_bill_amounts_survive_every_representation(
    amount: Decimal, rate: Decimal, contracts: int, show: Any
) -> None:
    bill = {**funding_bill("1", _ms(SINCE), "0"), "balChg": show(amount), "px": show(rate), "sz": show(D(contracts))}
    decoded = json.loads(json.dumps(bill, default=str), parse_float=Decimal)
    payment = parse_orders.parse_funding_bill(decoded, BTC)
    assert payment.amount == amount
    if amount and rate:
        assert payment.position_qty is not None
        assert abs(payment.position_qty) == contracts * BTC.contract_size
        assert (payment.position_qty > 0) == ((rate > 0) != (amount > 0))  # longs pay a positive rate


# ---- the error-code map --------------------------------------------------------------------------


def _reply(payload: Any, status: int = 200) -> httpx.Response:
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return httpx.Response(status, content=content, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("payload", "status", "read", "write"),
    [
        (refused("51008", "x"), 200, InsufficientFunds, InsufficientFunds),
        (refused("1", "All failed", s_code="51008"), 200, InsufficientFunds, InsufficientFunds),
        (refused("1", "All failed", s_code="51121"), 200, OrderRejected, OrderRejected),
        (refused("51001", "Instrument ID does not exist"), 400, SymbolNotListed, SymbolNotListed),
        (refused("51603", "Order does not exist"), 200, OrderNotFound, OrderNotFound),
        (refused("1", "failed", s_code="51402"), 200, OrderNotFound, OrderNotFound),
        (refused("50113", "Invalid Sign"), 401, AuthError, AuthError),
        (refused("50011", "Too Many Requests"), 429, RateLimited, RateLimited),
        (refused("50013", "Systems are busy"), 200, Unavailable, AmbiguousOrderState),
        (refused("50026", "System error"), 500, Unavailable, AmbiguousOrderState),
        (refused("50004", "API endpoint request timeout"), 200, Unavailable, AmbiguousOrderState),
        (b"<html>bad gateway</html>", 502, Unavailable, AmbiguousOrderState),
        (b"", 200, BadResponse, BadResponse),
        (refused("59999", "something new"), 200, VenueError, OrderRejected),
        ({"code": -2015, "msg": "Invalid API-key"}, 401, AuthError, AuthError),
    ],
)
def test_each_refusal_maps_once_to_the_taxonomy(payload: Any, status: int, read: type, write: type) -> None:
    with pytest.raises(read) as as_read:
        decode_response(_reply(payload, status), Kind.READ)
    assert type(as_read.value) is read
    with pytest.raises(write) as as_write:
        decode_response(_reply(payload, status), Kind.WRITE)
    assert type(as_write.value) is write


def test_every_mapped_code_names_a_meaning_and_builds_its_error() -> None:
    for code in codes.CODES:
        for write in (False, True):
            error = codes.okx_error(code, "msg", write=write)
            assert isinstance(error, VenueError)
            assert error.code == code


def test_a_successful_write_row_under_code_zero_passes_and_a_failed_one_is_raised() -> None:
    placed = ok([{"ordId": "1", "clOrdId": "hc1", "sCode": "0", "sMsg": ""}])
    assert decode_response(_reply(placed), Kind.WRITE) == placed
    with pytest.raises(InsufficientFunds):
        decode_response(_reply(ok([{"ordId": "", "sCode": "51008", "sMsg": "no"}])), Kind.WRITE)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


@given(
    code=st.one_of(st.none(), st.sampled_from(["0", "1", "2", "51008", "50102"]), st.text(max_size=6), st.integers()),
    data=json_values,
    status=st.sampled_from([200, 400, 401, 429, 500, 503]),
)
def test_any_reply_is_a_payload_or_one_of_our_errors(code: Any, data: Any, status: int) -> None:
    payload = {"code": code, "msg": "m", "data": data}
    try:
        result = decode_response(_reply(payload, status), Kind.WRITE)
    except HedgectlError:  # anything else escaping fails the test
        return
    assert status < 400
    assert str(code) in ("None", "0")
    assert result == json.loads(json.dumps(payload), parse_float=Decimal)
