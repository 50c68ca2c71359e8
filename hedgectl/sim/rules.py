"""Order admission rules: instrument filters, reduce-only, min notional and the margin check."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from hedgectl.sim.accounts import Account
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.market import Book
from hedgectl.sim.model import ZERO, OrderRequest, OrderType, PositionMode, PosSide, Reason, Side, SimError


def closes(req: OrderRequest) -> bool:
    """A hedge-mode order on the long side that sells, or on the short side that buys: it only reduces."""
    if req.position_side is PosSide.BOTH:
        return False
    return (req.position_side is PosSide.LONG) == (req.side is Side.SELL)


def check_position_side(acct: Account, inst: Instrument, req: OrderRequest) -> None:
    """Refuse an order whose position side does not fit the account's mode (Binance -4061, OKX 51000)."""
    hedge = acct.position_mode is PositionMode.HEDGE
    if hedge == (req.position_side is PosSide.BOTH):
        detail = f"{inst.symbol}: {req.position_side.value} in {acct.position_mode.value} mode"
        raise SimError(Reason.POSITION_SIDE_MISMATCH, detail)


def check_order(
    acct: Account, inst: Instrument, req: OrderRequest, book: Book, available: Callable[[], Decimal]
) -> None:
    """Raise SimError if `req` breaks the instrument's rules, reduce-only or the margin check."""
    # Range checks come before the step/tick checks: `%` on absurd magnitudes is undefined.
    if req.qty <= 0:
        raise SimError(Reason.QTY_NOT_POSITIVE, str(req.qty))
    if req.qty > inst.max_qty:
        raise SimError(Reason.QTY_ABOVE_MAX, str(req.qty), max_qty=inst.max_qty)
    if req.qty % inst.step_size:
        raise SimError(Reason.QTY_STEP, str(req.qty), step=inst.step_size)
    if req.qty < inst.min_qty:
        raise SimError(Reason.QTY_BELOW_MIN, str(req.qty), min_qty=inst.min_qty)
    if req.type is OrderType.LIMIT:
        if req.price is None or req.price <= 0:
            raise SimError(Reason.PRICE_NOT_POSITIVE, str(req.price))
        if req.price > inst.max_price:
            raise SimError(Reason.PRICE_ABOVE_MAX, str(req.price), max_price=inst.max_price)
        if req.price % inst.tick_size:
            raise SimError(Reason.PRICE_TICK, str(req.price), tick=inst.tick_size)
    if req.client_order_id is not None and any(
        o.client_order_id == req.client_order_id for o in acct.open_orders.values()
    ):
        raise SimError(Reason.DUPLICATE_CLIENT_ID, req.client_order_id)
    ref_price = req.price if req.price is not None else (book.best_ask if req.side is Side.BUY else book.best_bid)
    position = acct.position(inst.symbol, inst.base, req.position_side).qty
    if req.reduce_only or closes(req):
        if position == 0 or (position > 0) == (req.side is Side.BUY):
            raise SimError(Reason.REDUCE_ONLY_REJECTED, inst.symbol)
        return
    if inst.min_notional and req.qty * ref_price < inst.min_notional:
        raise SimError(Reason.MIN_NOTIONAL, str(req.qty * ref_price), min_notional=inst.min_notional)
    reducing = abs(position) if position and (position > 0) != (req.side is Side.BUY) else ZERO
    opening = max(ZERO, req.qty - reducing)
    need = opening * ref_price / acct.leverage + req.qty * ref_price * inst.taker_fee
    if opening and need > available():
        raise SimError(Reason.INSUFFICIENT_MARGIN, str(need))
