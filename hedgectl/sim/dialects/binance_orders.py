"""Reading a Binance-style new-order request (shared by the Binance and Aster dialects)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from aiohttp import web

from hedgectl.sim.dialects import binance_errors as errors
from hedgectl.sim.dialects import binance_wire as wire
from hedgectl.sim.dialects.base import Call, Reply
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.model import OrderRequest, OrderType, PositionMode, PosSide, Side, TimeInForce

CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
POSITION_SIDES = {"BOTH": PosSide.BOTH, "LONG": PosSide.LONG, "SHORT": PosSide.SHORT}


def check_mode_params(call: Call, req: OrderRequest) -> None:
    """Hedge mode: a close is a SELL of LONG / BUY of SHORT, and the venue refuses the reduceOnly flag (-1106).

    A position side that does not fit the mode is the engine's refusal (-4061), after the request is logged.
    """
    if req.reduce_only and call.engine.account(call.venue).position_mode is PositionMode.HEDGE:
        raise Reply(errors.error(-1106, "Parameter 'reduceOnly' sent when not required."))


def _precise(step: Decimal, value: Decimal) -> bool:
    return wire.decimals(value) <= wire.decimals(step)


def read_order(
    call: Call,
    inst: Instrument,
    *,
    time_in_force: list[str],
    parse_tif: Callable[[str], TimeInForce],
    conditional_error: Callable[[], web.Response],
) -> OrderRequest:
    """Read a POST order's params into an OrderRequest, answering malformed ones as Binance does."""
    side_raw = call.require("side")
    if side_raw not in ("BUY", "SELL"):
        raise Reply(errors.error(-1117, "Invalid side."))
    type_raw = call.require("type")
    if type_raw in wire.CONDITIONAL_TYPES:
        raise Reply(conditional_error())
    if type_raw not in ("LIMIT", "MARKET"):
        raise Reply(errors.error(-1116, "Invalid orderType."))
    position_side = POSITION_SIDES.get(call.get("positionSide", "BOTH") or "BOTH")
    if position_side is None:
        raise Reply(errors.error(-4061, "Order's position side does not match user's setting."))
    reduce_only = call.flag("reduceOnly")
    if call.flag("closePosition"):
        raise Reply(errors.error(-1106, "Parameter 'closePosition' sent when not required."))
    quantity = call.decimal("quantity")
    if not _precise(inst.step_size, quantity):
        raise Reply(errors.error(-1111, "Precision is over the maximum defined for this asset."))
    price: Decimal | None = None
    tif = TimeInForce.GTC
    if type_raw == "LIMIT":
        price = call.decimal("price")
        if not _precise(inst.tick_size, price):
            raise Reply(errors.error(-1111, "Precision is over the maximum defined for this asset."))
        tif_raw = call.require("timeInForce")
        tif = parse_tif(tif_raw)
    elif call.get("price") is not None:
        raise Reply(errors.error(-1106, "Parameter 'price' sent when not required."))
    elif call.get("timeInForce") is not None and call.get("timeInForce") not in time_in_force:
        raise Reply(errors.error(-1115, "Invalid timeInForce."))
    client_id = call.client_order_id
    if client_id is None or not CLIENT_ID_RE.match(client_id):
        raise Reply(errors.error(-4015, "Client order id is not valid."))
    return OrderRequest(
        symbol=inst.symbol,
        side=Side.BUY if side_raw == "BUY" else Side.SELL,
        type=OrderType.LIMIT if type_raw == "LIMIT" else OrderType.MARKET,
        qty=quantity,
        price=price,
        tif=tif,
        reduce_only=reduce_only,
        client_order_id=client_id,
        position_side=position_side,
    )
