"""What one bootstrap cycle did and what it earned: the result, and PnL from every fill of every order sent.

`HedgeResult` carries the cycle's legs, latency figures, PnL, funding, final flatten report and its own exit
code; `account` fills in the PnL once the cycle is flat, re-reading fills that an earlier read left stale
(a PnL without some of the fills would be a wrong number shown as a right one). Also the legs' arithmetic the
cycle and carry share (each venue's net and entry from its opening legs) and the latency figures journaled.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from hedgectl.domain.fees import PUBLISHED_TAKER_FEE_RATE
from hedgectl.domain.lots import ZERO, Trade, realise
from hedgectl.domain.pnl import (
    REPORT_ASSET,
    LegPnl,
    bps_of,
    conversion_note,
    opened_notional_per_leg,
    sum_in_report_asset,
)
from hedgectl.domain.types import Balance, Fill, Order
from hedgectl.engine.bootstrap.leg_fills import LegOutcome
from hedgectl.engine.bootstrap.maker_first import EntryReport
from hedgectl.engine.bootstrap.plan import ASSUMED_TAKER_FEE_RATE, HedgeConfig, HedgePlan, PlanCheck
from hedgectl.engine.flatten import FlattenReport
from hedgectl.engine.funding import RunFunding, collect_funding
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.errors import HedgectlError, run_status
from hedgectl.venues.base import Venue


@dataclass
class HedgeResult:
    config: HedgeConfig
    plan: HedgePlan | None = None
    opened: list[LegOutcome] = field(default_factory=list)
    closed: list[LegOutcome] = field(default_factory=list)
    extra_closes: list[Order] = field(default_factory=list)
    # Latency, as reported (README "Latency figures"): open/close phase = both orders built and signed ->
    # both acknowledged; skew = between the two open requests leaving. Per leg: LegOutcome.latency_ms (sent ->
    # acknowledged) and fill_ms (sent -> fully filled known).
    open_ms: float | None = None
    close_ms: float | None = None
    skew_ms: float | None = None
    pnl: dict[str, LegPnl] = field(default_factory=dict)
    # Funding settled while the legs were open, per venue (read after the close; see engine/funding.py).
    funding: dict[str, RunFunding] = field(default_factory=dict)
    opened_at: datetime | None = None  # wall clock as the open orders left: the funding window's start
    balances_before: dict[str, list[Balance]] = field(default_factory=dict)
    balances_after: dict[str, list[Balance]] = field(default_factory=dict)
    final: FlattenReport | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    interrupted: bool = False
    closed_early: bool = False
    declined: bool = False  # the confirmation was refused: nothing was sent
    checks: tuple[PlanCheck, ...] = ()  # the pre-entry checks of the plan (or of the plan refused)
    entry: EntryReport | None = None  # --entry maker-first: what rested, what was taken, the fee saving
    # venue -> base units of its leg that the venue shows flat though no order of this run closed them
    closed_outside: dict[str, Decimal] = field(default_factory=dict)

    @property
    def flat(self) -> bool:
        return self.final is None or self.final.flat

    @property
    def ok(self) -> bool:
        return self.error is None and not self.interrupted and self.flat

    @property
    def exit_code(self) -> int:
        if self.declined:
            return 2
        if not self.flat:
            return 3
        if self.interrupted:
            return 130
        return 0 if self.error is None else 1

    @property
    def status(self) -> str:
        """How the run is journaled: ok, failed, exposure or interrupted."""
        return run_status(self.exit_code)

    def pnl_asset(self, venue: str) -> str:
        """The asset a venue's PnL and fees are in: its market's settlement asset (USDT, or USDC on Backpack)."""
        legs = self.plan.legs if self.plan else ()
        return next((leg.market.quote for leg in legs if leg.venue == venue), REPORT_ASSET)

    @property
    def conversion(self) -> str | None:
        """How `total` converted the legs' assets to USDT (None: nothing to convert)."""
        return conversion_note(self.pnl_asset(v) for v in self.pnl)

    @property
    def total(self) -> LegPnl:
        """The legs' PnL summed in USDT (see `conversion`)."""

        def total_of(part: str) -> Decimal:
            return sum_in_report_asset((getattr(p, part), self.pnl_asset(v)) for v, p in self.pnl.items())

        return LegPnl(gross=total_of("gross"), fees=total_of("fees"), funding=total_of("funding"))

    @property
    def opened_notional(self) -> Decimal:
        """The bps base: the opening fills' value per leg (not the target notional, nor the plan's estimate)."""
        return opened_notional_per_leg(f for leg in self.opened for f in leg.fills)

    @property
    def net_bps(self) -> Decimal:
        """Net PnL in bps of `opened_notional`."""
        return bps_of(self.total.net, self.opened_notional)


async def account(venues: tuple[Venue, Venue], dispatcher: Dispatcher, result: HedgeResult) -> None:
    """PnL per venue from every fill of every order this cycle sent."""
    by_name = {v.name: v for v in venues}
    for order in result.extra_closes:
        try:
            fills = await dispatcher.fills_of(by_name[order.venue], order)
        except HedgectlError as exc:
            result.warnings.append(f"{order.venue}: fills of {order.order_id} unavailable: {exc}")
            continue
        result.closed.append(LegOutcome(venue=order.venue, side=order.side, order=order, fills=fills))
    incomplete = await _complete_fills(by_name, dispatcher, result.opened + result.closed)
    for venue in venues:
        if venue.name in incomplete:
            # A PnL without some of the fills would be a wrong number shown as a right one.
            result.warnings.append(
                f"{venue.name}: PnL unknown, the fills of order {incomplete[venue.name]} could not be read"
            )
            continue
        fills = [f for leg in result.opened + result.closed if leg.venue == venue.name for f in leg.fills]
        if fills:
            funding = await _funding(venue, dispatcher, result)
            result.pnl[venue.name] = _own_pnl(venue.name, fills, funding.net, result)
            if not funding.known:
                result.warnings.append(
                    f"{venue.name}: funding unknown, the payments could not be read: {funding.error}"
                )


def _own_pnl(venue: str, fills: list[Fill], funding: Decimal, result: HedgeResult) -> LegPnl:
    """The leg's PnL from this run's own fills, each close matched with the open it closes (domain/lots.py).

    A part of the leg the venue shows flat though no fill of this run closed it (a `flatten` in another shell,
    a manual close: this run's reduce-only close is then refused) was closed outside the run, at a price it
    does not know: counted in `uncounted_qty` and `closed_outside`, never as money (the cash flow of the open
    alone would show the whole notional as a loss on one venue and a profit on the other)."""
    realised = realise(Trade(f.side.sign * f.qty, f.price) for f in fills)  # opens, then closes: as sent
    outside = abs(realised.open_qty) if realised.open_qty and result.flat and result.final is not None else ZERO
    if outside:
        result.closed_outside[venue] = outside
        symbol = result.plan.symbol if result.plan else result.config.symbol
        result.warnings.append(
            f"{venue}: {outside} {symbol} was closed outside this run (the venue shows it flat, no order of this "
            "run closed it): its close price is unknown, its PnL is not counted"
        )
    fees = sum((f.fee for f in fills), ZERO)
    return LegPnl(realised.gross, fees, funding, uncounted_qty=realised.uncounted_qty + outside)


async def _funding(venue: Venue, dispatcher: Dispatcher, result: HedgeResult) -> RunFunding:
    """The funding the venue settled on this cycle's leg between the open and now (after the close).

    Read every time rather than only when the quoted next funding time fell inside the hold: one request per
    venue, after the orders, and it does not depend on a quoted time being right (ccxt, for one, maps Binance's
    nextFundingTime to the current period)."""
    if result.opened_at is None or result.plan is None:
        return RunFunding(venue.name)
    side = next((leg.side.sign for leg in result.opened if leg.venue == venue.name), None)
    funding = await collect_funding(venue, dispatcher, result.plan.symbol, result.opened_at, side_sign=side)
    result.funding[venue.name] = funding
    return funding


async def _complete_fills(by_name: dict[str, Venue], dispatcher: Dispatcher, legs: list[LegOutcome]) -> dict[str, str]:
    """Re-read what an earlier failed read left stale - an order still shown open, fills that do not add up to
    its filled quantity; return the order ids per venue whose fills are still not known."""
    missing: dict[str, str] = {}
    for leg in legs:
        if leg.order is None:
            continue
        venue = by_name[leg.venue]
        if leg.order.status.is_open:
            with contextlib.suppress(HedgectlError):  # still unreadable: reported as missing below
                leg.order = await dispatcher.refresh(venue, leg.order)
        if sum((f.qty for f in leg.fills), Decimal(0)) != leg.order.filled_qty:
            with contextlib.suppress(HedgectlError):
                leg.fills = await dispatcher.fills_of(venue, leg.order)
        if leg.order.status.is_open or sum((f.qty for f in leg.fills), Decimal(0)) != leg.order.filled_qty:
            missing[leg.venue] = leg.order.order_id
    return missing


def fees_paid(leg: LegOutcome) -> Decimal:
    """The leg's fees: its fills', else what the order reply said, else none known."""
    if leg.fills:
        return sum((f.fee for f in leg.fills), Decimal(0))
    return leg.order.fee if leg.order is not None and leg.order.fee is not None else Decimal(0)


def avg_price(leg: LegOutcome) -> Decimal | None:
    """The leg's fill VWAP, else the order's average price; None when the venue has said neither."""
    if leg.fills:
        qty = sum((f.qty for f in leg.fills), Decimal(0))
        if qty:
            return sum((f.qty * f.price for f in leg.fills), Decimal(0)) / qty
    if leg.order is not None and leg.order.avg_price is not None:
        return leg.order.avg_price
    return None


def close_fee_rates(plan: HedgePlan, entry: EntryReport | None) -> dict[str, Decimal]:
    """The fee rate each venue's close will pay: the close is a market order, so the taker rate (the one a
    maker-first entry read, else the market's, else the venue's published one), whatever the entry paid."""
    read = entry.taker_rates if entry is not None else {}
    rates: dict[str, Decimal] = {}
    for leg in plan.legs:
        rate = read.get(leg.venue, leg.market.taker_fee_rate)
        rates[leg.venue] = rate if rate is not None else PUBLISHED_TAKER_FEE_RATE.get(leg.venue, ASSUMED_TAKER_FEE_RATE)
    return rates


def net_by_venue(legs: Sequence[LegOutcome]) -> dict[str, Decimal]:
    """Each venue's signed position from the legs' fills (+ long), as the legs' orders report them filled."""
    held: dict[str, Decimal] = {}
    for leg in legs:
        held[leg.venue] = held.get(leg.venue, Decimal(0)) + leg.side.sign * leg.filled_qty
    return held


def held_by_venue(
    legs: Sequence[LegOutcome], expected: dict[str, Decimal]
) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """venue -> (signed qty, entry price, fees paid) over every opening leg on it (maker-first has several)."""
    out: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
    for venue, qty in net_by_venue(legs).items():
        mine = [leg for leg in legs if leg.venue == venue]
        cost = Decimal(0)
        for leg in mine:
            price = avg_price(leg) or expected[venue]
            cost += leg.side.sign * leg.filled_qty * price
        entry = cost / qty if qty else expected[venue]
        out[venue] = (qty, entry, sum((fees_paid(leg) for leg in mine), Decimal(0)))
    return out


def journal_latency(
    dispatcher: Dispatcher, kind: str, phase_ms: float | None, legs: Sequence[LegOutcome], **extra: float | None
) -> None:
    """Journal a phase's latency figures as reported (README "Latency"), for `hedgectl report`."""

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value, 3)

    dispatcher.event(
        kind,
        {
            "phase_ms": ms(phase_ms),
            **{k: ms(v) for k, v in extra.items()},
            "legs": {leg.venue: {"ack_ms": ms(leg.latency_ms), "fill_ms": ms(leg.fill_ms)} for leg in legs},
        },
    )


def short_fill(leg: LegOutcome, qty: Decimal) -> str:
    return f"filled {leg.filled_qty} of {qty}" + (f" ({leg.order.status.value})" if leg.order else "")
