"""Which exit rule, if any, says to close the pair now. Pure: a view, the config and what the watch counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from hedgectl.engine.carry.config import CarryConfig
from hedgectl.engine.carry.view import CarryView

CLOSED_OUTSIDE = "both legs are flat: the pair was closed outside the carry, nothing is left to carry"


@dataclass
class WatchState:
    """What the watch keeps between readings."""

    started_at: datetime
    # Per venue: its settlements in a row at which the pair's spread was below --min-funding-apr. Counted per
    # venue, on its own settlement times (venues settle at different intervals; two venues settling at the same
    # hour are one settlement each, not two of one).
    low_spread_settlements: dict[str, int] = field(default_factory=dict)

    def settled(self, venue: str, view: CarryView, config: CarryConfig) -> None:
        """A settlement on `venue` passed: count it when the spread was below the floor, else start again."""
        if config.min_funding_apr is None or view.spread_apr_pct is None:
            return
        low = view.spread_apr_pct < config.min_funding_apr
        self.low_spread_settlements[venue] = self.low_spread_settlements.get(venue, 0) + 1 if low else 0

    @property
    def low_spread_run(self) -> int:
        return max(self.low_spread_settlements.values(), default=0)


def exit_reason(view: CarryView, config: CarryConfig, state: WatchState, now: datetime) -> str | None:
    """The first rule that says close, as one line; None to keep holding."""
    if all(leg.qty == 0 for leg in view.legs):
        return CLOSED_OUTSIDE
    if config.until is not None and now - state.started_at >= config.until:
        return f"--until {config.until} reached"
    liq = view.min_liq_distance_pct
    if config.min_liq_distance_pct is not None and liq is not None and liq < config.min_liq_distance_pct:
        leg = min((leg for leg in view.legs if leg.liq_distance_pct is not None), key=lambda g: g.liq_distance_pct or 0)
        return (
            f"{leg.venue}: liquidation {leg.liq_distance_pct:.2f}% away (mark {leg.mark}, liquidation "
            f"{leg.liquidation_price}), below --min-liq-distance-pct {config.min_liq_distance_pct}"
        )
    net = view.net
    if config.max_loss_pct is not None and net is not None:
        limit = view.notional * config.max_loss_pct / 100
        if net < -limit:
            return f"loss {net:.4f} USDT passed --max-loss-pct {config.max_loss_pct}% ({-limit:.4f})"
    if config.take_profit_usdt is not None and net is not None and net >= config.take_profit_usdt:
        return f"net {net:.4f} USDT reached --take-profit {config.take_profit_usdt}"
    if config.max_basis_bps is not None and abs(view.basis_bps) > config.max_basis_bps:
        return f"basis {view.basis_bps:.2f} bps beyond --max-basis-bps {config.max_basis_bps}"
    if config.min_funding_apr is not None and state.low_spread_run >= config.min_funding_settlements:
        return (
            f"funding spread below --min-funding-apr {config.min_funding_apr}% for "
            f"{state.low_spread_run} settlement(s) (now {view.spread_apr_pct:.2f}%)"
        )
    return None


def rehedge_order(view: CarryView, config: CarryConfig) -> tuple[str, Decimal] | None:
    """The re-hedge a delta beyond --max-delta-pct calls for: (venue, signed base qty to trade), or None.

    The leg that restores the pair is the one further from the pair's size: a leg grown by an outside trade is
    cut back, a leg shrunk (a partial fill, an ADL) is topped up. The quantity is the net delta (not rounded
    here: the caller rounds to the venue's step)."""
    if config.max_delta_pct is None or view.delta == 0 or view.delta_pct <= config.max_delta_pct:
        return None
    long_off = abs(abs(view.long.qty) - view.target_qty)
    short_off = abs(abs(view.short.qty) - view.target_qty)
    venue = view.long.venue if long_off >= short_off else view.short.venue
    return venue, -view.delta
