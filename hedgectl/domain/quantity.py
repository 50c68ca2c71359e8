"""The one quantity two venues both accept exactly, so the two legs of a hedge are equal."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hedgectl.domain.rounding import ceil_to_step, common_step, floor_to_step
from hedgectl.domain.types import Market
from hedgectl.errors import UsageError


class NoCommonQuantity(UsageError):
    """No quantity satisfies every venue's rules within the target notional."""


@dataclass(frozen=True, slots=True)
class QuantityPlan:
    qty: Decimal
    step: Decimal
    notional: Decimal  # qty x reference price


def accepts(market: Market, qty: Decimal, price: Decimal) -> bool:
    """True when `market` takes an order of `qty` at about `price` (step, min qty, min notional, max)."""
    if qty <= 0 or qty % market.step_size != 0 or qty < market.min_qty:
        return False
    if market.max_qty is not None and qty > market.max_qty:
        return False
    return qty * price >= market.min_notional


def common_quantity(markets: list[Market], notional: Decimal, price: Decimal) -> QuantityPlan:
    """The largest quantity every market accepts exactly whose notional at `price` is <= `notional`."""
    if notional <= 0:
        raise UsageError("notional must be positive")
    if price <= 0:
        raise UsageError("price must be positive")
    step = common_step([m.step_size for m in markets])
    qty = floor_to_step(notional / price, step)
    if qty > 0 and all(accepts(m, qty, price) for m in markets):
        return QuantityPlan(qty=qty, step=step, notional=qty * price)
    needed = _smallest_accepted(markets, step, price)
    venues = ", ".join(
        f"{m.venue} step {m.step_size} min {m.min_qty}"
        + (f" min notional {m.min_notional}" if m.min_notional else "")
        for m in markets
    )
    raise NoCommonQuantity(
        f"no quantity fits {notional} at price {price}: the common step is {step} ({venues}); "
        f"the smallest quantity all accept is {needed} (about {(needed * price).quantize(Decimal('0.01'))} notional)"
    )


def _smallest_accepted(markets: list[Market], step: Decimal, price: Decimal) -> Decimal:
    floor_qty = max([m.min_qty for m in markets] + [m.min_notional / price for m in markets])
    return ceil_to_step(max(floor_qty, step), step)
