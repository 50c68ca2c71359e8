"""Pure OKX helpers: reading order bodies, refusal codes and wire rendering."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgectl.sim.dialects import okx_errors, okx_trade_wire, okx_wire
from hedgectl.sim.dialects.okx_orders import OkxRefusal, read_place_order
from hedgectl.sim.instruments import build_instruments
from hedgectl.sim.model import Order, OrderStatus, OrderType, Reason, Side, SimError, TimeInForce

INSTRUMENTS = build_instruments()["okx"]
BTC = INSTRUMENTS["BTC-USDT-SWAP"]


def body(**fields: object) -> dict[str, object]:
    return {
        "instId": "BTC-USDT-SWAP",
        "tdMode": "cross",
        "side": "buy",
        "ordType": "limit",
        "px": "90000",
        "sz": "2",
        **fields,
    }


@given(lots=st.integers(min_value=1, max_value=100_000))
def test_contracts_convert_to_base_and_back(lots: int) -> None:
    size = BTC.venue_step * lots
    parsed = read_place_order(body(sz=str(size)), INSTRUMENTS)
    assert parsed.request is not None
    assert parsed.request.qty == size * Decimal("0.01")
    assert okx_wire.contracts(BTC, parsed.request.qty) == size


@pytest.mark.parametrize(
    ("ord_type", "order_type", "tif"),
    [
        ("market", OrderType.MARKET, TimeInForce.GTC),
        ("optimal_limit_ioc", OrderType.MARKET, TimeInForce.IOC),
        ("limit", OrderType.LIMIT, TimeInForce.GTC),
        ("post_only", OrderType.LIMIT, TimeInForce.POST_ONLY),
        ("ioc", OrderType.LIMIT, TimeInForce.IOC),
        ("fok", OrderType.LIMIT, TimeInForce.FOK),
    ],
)
def test_each_ord_type_maps_to_the_engine(ord_type: str, order_type: OrderType, tif: TimeInForce) -> None:
    parsed = read_place_order(body(ordType=ord_type), INSTRUMENTS)
    assert parsed.request is not None
    assert (parsed.request.type, parsed.request.tif) == (order_type, tif)
    assert parsed.request.post_only_reject is False
    assert (parsed.request.price is None) == (order_type is OrderType.MARKET)


def test_reduce_only_accepts_a_json_bool_or_text() -> None:
    for value in (True, "true"):
        parsed = read_place_order(body(reduceOnly=value), INSTRUMENTS)
        assert parsed.request is not None
        assert parsed.request.reduce_only is True


def test_an_unknown_instrument_is_refused_per_order_not_per_request() -> None:
    parsed = read_place_order(body(instId="DOGE-USDT-SWAP"), INSTRUMENTS)
    assert parsed.request is None


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"tdMode": None}, "50014"),
        ({"sz": None}, "50014"),
        ({"side": "up"}, "51000"),
        ({"ordType": "twap"}, "51000"),
        ({"tdMode": "cash"}, "51000"),
        ({"clOrdId": "has-dash"}, "51000"),
        ({"clOrdId": "x" * 33}, "51000"),
        ({"sz": "lots"}, "51000"),
        ({"reduceOnly": "maybe"}, "51000"),
    ],
)
def test_malformed_fields_are_refused_with_okx_codes(fields: dict[str, object], code: str) -> None:
    raw = {k: v for k, v in body(**fields).items() if v is not None}
    with pytest.raises(OkxRefusal) as info:
        read_place_order(raw, INSTRUMENTS)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        (Reason.UNKNOWN_SYMBOL, "51001"),
        (Reason.QTY_BELOW_MIN, "51020"),
        (Reason.QTY_STEP, "51121"),
        (Reason.INSUFFICIENT_MARGIN, "51008"),
        (Reason.REDUCE_ONLY_REJECTED, "51205"),
        (Reason.DUPLICATE_CLIENT_ID, "51016"),
        (Reason.PRICE_TICK, "51000"),
    ],
)
def test_engine_refusals_map_to_okx_scodes(reason: Reason, code: str) -> None:
    assert okx_errors.place_error(SimError(reason))[0] == code


def test_cancel_refusals_distinguish_gone_cancelled_and_filled() -> None:
    assert okx_errors.cancel_error(SimError(Reason.ORDER_NOT_FOUND))[0] == "51400"
    assert okx_errors.cancel_error(SimError(Reason.ORDER_NOT_OPEN, status="canceled"))[0] == "51401"
    assert okx_errors.cancel_error(SimError(Reason.ORDER_NOT_OPEN, status="filled"))[0] == "51402"


def _order(status: OrderStatus, tif: TimeInForce = TimeInForce.GTC, filled: str = "0") -> Order:
    order = Order(
        venue="okx",
        order_id=7,
        symbol=BTC.symbol,
        base="BTC",
        side=Side.SELL,
        type=OrderType.LIMIT,
        tif=tif,
        qty=Decimal("0.05"),
        price=Decimal("95000.5"),
        reduce_only=True,
        client_order_id=None,
        created_ms=1,
        created_ns=1,
        status=status,
        filled_qty=Decimal(filled),
        filled_quote=Decimal(filled) * Decimal("95000.5"),
        fee=Decimal("0.25"),
    )
    return order


def test_rendered_order_is_in_contracts_with_okx_states() -> None:
    row = okx_trade_wire.render_order(_order(OrderStatus.PARTIALLY_FILLED, filled="0.02"), BTC, 10)
    assert (row["sz"], row["accFillSz"], row["state"], row["side"]) == ("5", "2", "partially_filled", "sell")
    assert (row["fee"], row["reduceOnly"], row["clOrdId"], row["avgPx"]) == ("-0.25", "true", "", "95000.5")
    expired = okx_trade_wire.render_order(_order(OrderStatus.EXPIRED, TimeInForce.POST_ONLY), BTC, 10)
    assert (expired["state"], expired["ordType"], expired["cancelSource"]) == ("canceled", "post_only", "31")
    assert expired["avgPx"] == ""


def test_fmt_never_uses_exponents() -> None:
    assert okx_wire.fmt(Decimal("1E+2")) == "100"
    assert okx_wire.fmt(Decimal("0.00000100")) == "0.000001"
    assert okx_wire.fmt(Decimal("-0")) == "0"
