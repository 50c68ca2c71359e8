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


def max_order_qty(market: Market, *, market_order: bool) -> Decimal | None:
    """The largest quantity one order may have (a market order's cap is often far below a limit order's)."""
    caps = [c for c in (market.max_qty, market.max_market_qty if market_order else None) if c is not None]
    return min(caps) if caps else None


def accepts(market: Market, qty: Decimal, price: Decimal, *, market_order: bool = False) -> bool:
    """True when `market` takes an order of `qty` at about `price` (step, min qty, min notional, max)."""
    return refusal(market, qty, price, market_order=market_order) is None


def refusal(market: Market, qty: Decimal, price: Decimal, *, market_order: bool = False) -> str | None:
    """Why `market` would not take an order of `qty` at about `price` (the rule it breaks), None if it would."""
    if qty <= 0:
        return "a quantity must be above 0"
    cap = max_order_qty(market, market_order=market_order)
    if cap is not None and qty > cap:
        kind = "a market order's" if market_order and cap == market.max_market_qty else "an order's"
        return f"above {kind} max qty {cap}"
    if qty < market.min_qty:
        return f"below the min qty {market.min_qty}"
    if qty % market.step_size != 0:
        return f"not a multiple of the step {market.step_size}"
    if qty * price < market.min_notional:
        minimum = ceil_to_step(max(market.min_notional / price, market.min_qty), market.step_size)
        return f"below the min notional {market.min_notional} (about {minimum} at {price})"
    return None


def common_quantity(
    markets: list[Market], notional: Decimal, price: Decimal, *, market_orders: bool = True
) -> QuantityPlan:
    """The largest quantity every market accepts exactly whose notional at `price` is <= `notional`.

    With `market_orders` (the hedge's legs are market orders) each venue's market-order cap applies: a
    quantity above it is refused here, before any order goes out, rather than by the venue after the
    other leg filled.
    """
    if notional <= 0:
        raise UsageError("notional must be positive")
    if price <= 0:
        raise UsageError("price must be positive")
    step = common_step([m.step_size for m in markets])
    qty = floor_to_step(notional / price, step)
    if qty > 0 and all(accepts(m, qty, price, market_order=market_orders) for m in markets):
        return QuantityPlan(qty=qty, step=step, notional=qty * price)
    over = [
        (m, cap) for m in markets if (cap := max_order_qty(m, market_order=market_orders)) is not None and qty > cap
    ]
    if over:
        caps = ", ".join(
            f"{m.venue} takes at most {cap:f} {m.symbol} per {'market ' if market_orders else ''}order"
            for m, cap in over
        )
        raise NoCommonQuantity(f"quantity {qty:f} for {notional:f} at price {price:f} is above a venue's cap: {caps}")
    needed = _smallest_accepted(markets, step, price)
    venues = ", ".join(
        f"{m.venue} step {m.step_size} min {m.min_qty}" + (f" min notional {m.min_notional}" if m.min_notional else "")
        for m in markets
    )
    raise NoCommonQuantity(
        f"no quantity fits {notional} at price {price}: the common step is {step} ({venues}); "
        f"the smallest quantity all accept is {needed} (about {(needed * price).quantize(Decimal('0.01'))} notional)"
    )


def _smallest_accepted(markets: list[Market], step: Decimal, price: Decimal) -> Decimal:
    floor_qty = max([m.min_qty for m in markets] + [m.min_notional / price for m in markets])
    return ceil_to_step(max(floor_qty, step), step)
