"""Reading Backpack `OrderExecutePayload` bodies into engine requests: pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from hedgectl.sim.dialects import backpack_errors
from hedgectl.sim.dialects.backpack_errors import BackpackError
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.market import round_down
from hedgectl.sim.model import OrderRequest, OrderType, Side, TimeInForce

UINT32_MAX = 2**32 - 1
SIDES = {"Bid": Side.BUY, "Ask": Side.SELL}
_TRIGGER_FIELDS = (
    "triggerPrice",
    "triggerQuantity",
    "stopLossTriggerPrice",
    "stopLossLimitPrice",
    "takeProfitTriggerPrice",
    "takeProfitLimitPrice",
)


class BackpackRefusal(Exception):
    """An order payload Backpack refuses before it reaches the book."""

    def __init__(self, error: BackpackError) -> None:
        super().__init__(f"{error[1]} {error[2]}")
        self.error = error


def _decimal(fields: Mapping[str, Any], name: str, error_code: str) -> Decimal | None:
    raw = fields.get(name)
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise BackpackRefusal((400, error_code, f"Invalid {name}"))
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise BackpackRefusal(backpack_errors.client_request(f"Invalid value for `{name}`")) from None
    if not value.is_finite():
        raise BackpackRefusal(backpack_errors.client_request(f"Invalid value for `{name}`"))
    return value


def _flag(fields: Mapping[str, Any], name: str) -> bool:
    raw = fields.get(name)
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    if str(raw).lower() in ("true", "false"):
        return str(raw).lower() == "true"
    raise BackpackRefusal(backpack_errors.client_request(f"Invalid value for `{name}`: expected a boolean"))


def read_client_id(raw: Any) -> int | None:
    """Backpack's `clientId`: a uint32 (JSON number, or digits in a query string)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise BackpackRefusal(backpack_errors.client_request("Invalid value for `clientId`: expected u32"))
    text = str(raw)
    if not text.isdigit() or int(text) > UINT32_MAX:
        raise BackpackRefusal(backpack_errors.client_request("Invalid value for `clientId`: expected u32"))
    return int(text)


def read_order(
    fields: Any, instruments: Mapping[str, Instrument], best_bid: Decimal | None, best_ask: Decimal | None
) -> OrderRequest:
    """Validate one order payload as Backpack does; `best_*` convert a market `quoteQuantity`."""
    if not isinstance(fields, Mapping):
        raise BackpackRefusal(backpack_errors.MALFORMED)
    symbol = fields.get("symbol")
    if not symbol:
        raise BackpackRefusal(backpack_errors.client_request("Missing field `symbol`"))
    inst = instruments.get(str(symbol))
    if inst is None:
        raise BackpackRefusal(backpack_errors.INVALID_MARKET)
    side = SIDES.get(str(fields.get("side")))
    if side is None:
        raise BackpackRefusal(backpack_errors.client_request("Invalid value for `side`: expected Bid or Ask"))
    order_type = {"Limit": OrderType.LIMIT, "Market": OrderType.MARKET}.get(str(fields.get("orderType")))
    if order_type is None:
        raise BackpackRefusal(backpack_errors.client_request("Invalid value for `orderType`"))
    if any(fields.get(name) is not None for name in _TRIGGER_FIELDS):
        # Trigger and bracket orders would rest as untriggered orders; the simulator has none of those.
        raise BackpackRefusal(backpack_errors.invalid_order("Trigger orders are not supported"))
    post_only = _flag(fields, "postOnly")
    reduce_only = _flag(fields, "reduceOnly")
    tif_text = str(fields.get("timeInForce") or "GTC")
    tif = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}.get(tif_text)
    if tif is None:
        raise BackpackRefusal(backpack_errors.client_request("Invalid value for `timeInForce`"))
    client_id = read_client_id(fields.get("clientId"))
    quantity = _decimal(fields, "quantity", "INVALID_QUANTITY")
    price = _decimal(fields, "price", "INVALID_PRICE")
    if order_type is OrderType.LIMIT:
        if price is None:
            raise BackpackRefusal(backpack_errors.invalid_order("Limit orders require a price"))
        if post_only:
            if tif is not TimeInForce.GTC:
                raise BackpackRefusal(backpack_errors.invalid_order("Post only orders must be GTC"))
            tif = TimeInForce.POST_ONLY
    else:
        if post_only:
            raise BackpackRefusal(backpack_errors.invalid_order("Market orders cannot be post only"))
        price = None
        quote_quantity = _decimal(fields, "quoteQuantity", "INVALID_QUANTITY")
        if quantity is None and quote_quantity is not None:
            reference = best_ask if side is Side.BUY else best_bid
            if not reference:
                raise BackpackRefusal(backpack_errors.invalid_order("No liquidity"))
            quantity = round_down(quote_quantity / reference, inst.step_size)
    if quantity is None:
        raise BackpackRefusal((400, "INVALID_QUANTITY", "Quantity is required"))
    return OrderRequest(
        symbol=inst.symbol,
        side=side,
        type=order_type,
        qty=quantity,
        price=price,
        tif=tif,
        reduce_only=reduce_only,
        client_order_id=None if client_id is None else str(client_id),
        post_only_reject=False,
    )
