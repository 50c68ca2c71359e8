"""Pure Backpack helpers: reading order payloads, refusal codes and wire rendering."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hedgectl.sim.dialects import backpack_errors, backpack_wire
from hedgectl.sim.dialects.backpack_orders import BackpackRefusal, read_client_id, read_order
from hedgectl.sim.instruments import build_instruments
from hedgectl.sim.market import Level
from hedgectl.sim.model import Order, OrderStatus, OrderType, Reason, Side, SimError, TimeInForce

INSTRUMENTS = build_instruments()["backpack"]
BID, ASK = Decimal("94990"), Decimal("95010")


def payload(**fields: Any) -> dict[str, Any]:
    return {
        "symbol": "BTC_USDC_PERP",
        "side": "Bid",
        "orderType": "Limit",
        "price": "90000",
        "quantity": "0.01",
        **fields,
    }


def read(**fields: Any) -> Any:
    return read_order(payload(**fields), INSTRUMENTS, BID, ASK)


def test_a_limit_post_only_reduce_only_order_reads_as_the_engine_wants() -> None:
    request = read(postOnly=True, reduceOnly=True, clientId=123, side="Ask")
    assert (request.side, request.type, request.tif) == (Side.SELL, OrderType.LIMIT, TimeInForce.POST_ONLY)
    assert (request.qty, request.price, request.reduce_only) == (Decimal("0.01"), Decimal("90000"), True)
    assert request.client_order_id == "123"
    assert request.post_only_reject is False


def test_a_market_order_by_quote_quantity_sizes_from_the_best_ask() -> None:
    request = read(orderType="Market", quantity=None, price=None, quoteQuantity="950.2")
    assert request.type is OrderType.MARKET
    assert request.qty == Decimal("0.01")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"side": "Buy"}, "INVALID_CLIENT_REQUEST"),
        ({"orderType": "StopLimit"}, "INVALID_CLIENT_REQUEST"),
        ({"symbol": "DOGE_USDC_PERP"}, "INVALID_MARKET"),
        ({"price": None}, "INVALID_ORDER"),
        ({"quantity": None}, "INVALID_QUANTITY"),
        ({"orderType": "Market", "postOnly": True}, "INVALID_ORDER"),
        ({"postOnly": True, "timeInForce": "IOC"}, "INVALID_ORDER"),
        ({"timeInForce": "GTD"}, "INVALID_CLIENT_REQUEST"),
        ({"triggerPrice": "80000"}, "INVALID_ORDER"),
        ({"reduceOnly": "yes"}, "INVALID_CLIENT_REQUEST"),
    ],
)
def test_bad_payloads_are_refused_with_backpack_codes(fields: dict[str, Any], code: str) -> None:
    raw = {k: v for k, v in payload(**fields).items() if v is not None}
    with pytest.raises(BackpackRefusal) as info:
        read_order(raw, INSTRUMENTS, BID, ASK)
    assert info.value.error[1] == code


@pytest.mark.parametrize("raw", [-1, 2**32, "12a", True, 1.5])
def test_client_ids_outside_uint32_are_refused(raw: Any) -> None:
    with pytest.raises(BackpackRefusal):
        read_client_id(raw)


def test_client_id_bounds() -> None:
    assert read_client_id(0) == 0
    assert read_client_id(2**32 - 1) == 2**32 - 1
    assert read_client_id("17") == 17
    assert read_client_id(None) is None


@pytest.mark.parametrize(
    ("reason", "status", "code"),
    [
        (Reason.UNKNOWN_SYMBOL, 400, "INVALID_SYMBOL"),
        (Reason.ORDER_NOT_FOUND, 404, "RESOURCE_NOT_FOUND"),
        (Reason.ORDER_NOT_OPEN, 404, "RESOURCE_NOT_FOUND"),
        (Reason.QTY_BELOW_MIN, 400, "INVALID_QUANTITY"),
        (Reason.PRICE_TICK, 400, "INVALID_PRICE"),
        (Reason.INSUFFICIENT_MARGIN, 400, "INSUFFICIENT_MARGIN"),
        (Reason.DUPLICATE_CLIENT_ID, 400, "INVALID_ORDER"),
    ],
)
def test_engine_refusals_map_to_backpack_errors(reason: Reason, status: int, code: str) -> None:
    assert backpack_errors.for_sim_error(SimError(reason), placing=False)[:2] == (status, code)


def _order(status: OrderStatus, tif: TimeInForce, client_order_id: str | None = "4000000000") -> Order:
    return Order(
        venue="backpack",
        order_id=11_000_000_001,
        symbol="BTC_USDC_PERP",
        base="BTC",
        side=Side.BUY,
        type=OrderType.LIMIT,
        tif=tif,
        qty=Decimal("0.0300"),
        price=Decimal("95000.0"),
        reduce_only=False,
        client_order_id=client_order_id,
        created_ms=1_700_000_000_123,
        created_ns=0,
        status=status,
    )


def test_rendered_orders_carry_backpack_enums_and_timestamps() -> None:
    row = backpack_wire.render_order(_order(OrderStatus.NEW, TimeInForce.GTC))
    assert (row["id"], row["clientId"], row["side"], row["status"], row["quantity"]) == (
        "11000000001",
        4_000_000_000,
        "Bid",
        "New",
        "0.03",
    )
    assert row["createdAt"] == 1_700_000_000_123
    assert "expiryReason" not in row
    expired = backpack_wire.render_history_order(_order(OrderStatus.EXPIRED, TimeInForce.POST_ONLY, None))
    assert (expired["status"], expired["expiryReason"], expired["postOnly"]) == ("Expired", "PostOnlyTaker", True)
    assert expired["createdAt"] == "2023-11-14T22:13:20.123"
    assert expired["clientId"] is None


def test_depth_lists_the_best_levels_ascending() -> None:
    bids = [Level(Decimal(p), Decimal("1")) for p in ("100", "99", "98")]
    asks = [Level(Decimal(p), Decimal("1")) for p in ("101", "102", "103")]
    depth = backpack_wire.render_depth(bids, asks, 2, 5, 1)
    assert depth["bids"] == [["99", "1"], ["100", "1"]]
    assert depth["asks"] == [["101", "1"], ["102", "1"]]
