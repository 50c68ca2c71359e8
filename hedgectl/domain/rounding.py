"""Rounding quantities and prices to what a venue accepts, in exact Decimal arithmetic."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from math import lcm


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round `value` down to a whole multiple of `step` (a quantity never grows by rounding)."""
    if step <= 0:
        raise ValueError("step must be positive")
    units = (value / step).to_integral_value(rounding=ROUND_FLOOR)
    return (units * step).normalize() if units else Decimal(0)


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round `value` up to a whole multiple of `step`."""
    if step <= 0:
        raise ValueError("step must be positive")
    units = (value / step).to_integral_value(rounding=ROUND_CEILING)
    return (units * step).normalize() if units else Decimal(0)


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """True when `value` is an exact whole multiple of `step`."""
    return step > 0 and (value % step) == 0


def common_step(steps: list[Decimal]) -> Decimal:
    """The smallest positive quantity that is a whole multiple of every step (their Decimal LCM)."""
    if not steps or any(s <= 0 for s in steps):
        raise ValueError("steps must be positive")
    exponent = min(int(s.normalize().as_tuple().exponent) for s in steps)
    scale = Decimal(10) ** exponent
    ints = [int((s / scale).to_integral_value()) for s in steps]
    return (Decimal(lcm(*ints)) * scale).normalize()


def round_price(price: Decimal, tick: Decimal, *, up: bool) -> Decimal:
    """Round a price to the tick, up (for sells that must not undercut) or down (for buys)."""
    return ceil_to_step(price, tick) if up else floor_to_step(price, tick)
