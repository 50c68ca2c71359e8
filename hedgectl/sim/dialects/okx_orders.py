"""Reading OKX place-order bodies into engine requests: pure, no I/O.

One order object (`/trade/order` body, or one element of the `/trade/batch-orders` array) becomes an
`OrderRequest` in BASE units (`sz` contracts x `ctVal`), or an `OkxRefusal` carrying the code OKX uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from hedgectl.sim.dialects import okx_errors
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import OrderRequest, OrderType, PosSide, Side, TimeInForce

_ALNUM_32 = re.compile(r"^[A-Za-z0-9]{1,32}$")
_ALNUM_16 = re.compile(r"^[A-Za-z0-9]{1,16}$")
# ordType -> (engine type, time in force); optimal_limit_ioc is OKX's market-IOC for swaps.
ORD_TYPES: dict[str, tuple[OrderType, TimeInForce]] = {
    "market": (OrderType.MARKET, TimeInForce.GTC),
    "optimal_limit_ioc": (OrderType.MARKET, TimeInForce.IOC),
    "limit": (OrderType.LIMIT, TimeInForce.GTC),
    "post_only": (OrderType.LIMIT, TimeInForce.POST_ONLY),
    "ioc": (OrderType.LIMIT, TimeInForce.IOC),
    "fok": (OrderType.LIMIT, TimeInForce.FOK),
}


class OkxRefusal(Exception):
    """An order OKX refuses before it reaches the book; `request_level` errors void the whole call."""

    def __init__(self, code: str, msg: str, *, request_level: bool = False) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.request_level = request_level


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """A parsed OKX order: what the engine should do, plus the echo fields of the reply."""

    inst_id: str
    request: OrderRequest | None  # None when the instrument is unknown (refused per order, 51001)
    client_order_id: str
    tag: str


def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _required(fields: Mapping[str, Any], name: str) -> str:
    value = _text(fields, name)
    if not value:
        raise OkxRefusal(*okx_errors.param_empty(name), request_level=True)
    return value


def _decimal(fields: Mapping[str, Any], name: str) -> Decimal:
    text = _required(fields, name)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise OkxRefusal(*okx_errors.param_error(name), request_level=True) from None
    if not value.is_finite():
        raise OkxRefusal(*okx_errors.param_error(name), request_level=True)
    return value


def _flag(fields: Mapping[str, Any], name: str) -> bool:
    text = _text(fields, name).lower()
    if text in ("", "false"):
        return False
    if text == "true":
        return True
    raise OkxRefusal(*okx_errors.param_error(name), request_level=True)


# "" and "net" are the net position (net_mode); long/short a side (long_short_mode). A side that does not fit
# the account's mode is the engine's refusal, answered 51000 "Parameter posSide error" like OKX.
POS_SIDES = {"": PosSide.BOTH, "net": PosSide.BOTH, "long": PosSide.LONG, "short": PosSide.SHORT}


def read_place_order(fields: Mapping[str, Any], instruments: Mapping[str, Instrument]) -> PlaceOrder:
    """Validate one OKX order object the way OKX does; sizes converted from contracts to base."""
    if not isinstance(fields, Mapping):
        raise OkxRefusal(*okx_errors.JSON_FORMAT, request_level=True)
    inst_id = _required(fields, "instId")
    td_mode = _required(fields, "tdMode")
    side_text = _required(fields, "side")
    ord_type = _required(fields, "ordType")
    client_order_id = _text(fields, "clOrdId")
    tag = _text(fields, "tag")
    if td_mode not in ("cross", "isolated"):
        raise OkxRefusal(*okx_errors.param_error("tdMode"), request_level=True)
    if side_text not in ("buy", "sell"):
        raise OkxRefusal(*okx_errors.param_error("side"), request_level=True)
    if ord_type not in ORD_TYPES:
        raise OkxRefusal(*okx_errors.param_error("ordType"), request_level=True)
    position_side = POS_SIDES.get(_text(fields, "posSide"))
    if position_side is None:
        raise OkxRefusal("51000", "Parameter posSide error")
    if client_order_id and not _ALNUM_32.match(client_order_id):
        raise OkxRefusal(*okx_errors.param_error("clOrdId"), request_level=True)
    if tag and not _ALNUM_16.match(tag):
        raise OkxRefusal(*okx_errors.param_error("tag"), request_level=True)
    size = _decimal(fields, "sz")
    order_type, tif = ORD_TYPES[ord_type]
    price = _decimal(fields, "px") if order_type is OrderType.LIMIT else None
    reduce_only = _flag(fields, "reduceOnly")
    inst = instruments.get(inst_id)
    if inst is None:
        return PlaceOrder(inst_id, None, client_order_id, tag)
    request = OrderRequest(
        symbol=inst.symbol,
        side=Side(side_text),
        type=order_type,
        qty=size * inst.contract_value,
        price=price,
        tif=tif,
        reduce_only=reduce_only,
        client_order_id=client_order_id or None,
        post_only_reject=False,
        position_side=position_side,
    )
    return PlaceOrder(inst_id, request, client_order_id, tag)
