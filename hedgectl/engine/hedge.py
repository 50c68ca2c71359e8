"""The bootstrap hedge cycle: open both legs at once, hold, close both at once, verify flat, account.

Any failure, an interrupt or a loss limit leads to the same place: the flatten engine, scoped to the
symbol on both venues, until flat. The result says what happened; the caller maps it to an exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from hedgectl.domain.pnl import LegPnl, bps_of, leg_pnl
from hedgectl.domain.types import Balance, Fill, Order, OrderRequest, OrderStatus, OrderType, Side
from hedgectl.engine.dispatch import Dispatcher, Sent
from hedgectl.engine.flatten import FlattenReport, flatten
from hedgectl.engine.hedge_plan import HedgeConfig, HedgePlan, plan_hedge
from hedgectl.engine.interrupts import Interrupts
from hedgectl.errors import HedgectlError
from hedgectl.venues.base import Venue

log = logging.getLogger(__name__)
HOLD_POLL_S = 0.5
CLOSE_FILL_WAIT_MS = 5000.0
FILL_POLL_FIRST_S = 0.01  # a market order the ack left open is re-read after 10, 20, 40, 80, 100, 100... ms
FILL_POLL_MAX_S = 0.1


class HedgeReporter(Protocol):
    """What the cycle tells its user as it goes (Rich on a terminal, nothing with --json)."""

    def phase(self, title: str) -> None: ...
    def balances(self, title: str, balances: dict[str, list[Balance]]) -> None: ...
    def plan(self, plan: HedgePlan) -> None: ...
    def fills(self, title: str, legs: Sequence[LegOutcome]) -> None: ...
    def hold_tick(self, remaining_s: float, upnl: dict[str, Decimal], total: Decimal) -> None: ...
    def warning(self, text: str) -> None: ...


@dataclass
class LegOutcome:
    venue: str
    side: Side
    order: Order | None = None
    latency_ms: float | None = None  # request sent -> answer received
    fill_ms: float | None = None  # request sent -> fully filled known
    fills: list[Fill] = field(default_factory=list)
    error: str | None = None

    @property
    def filled_qty(self) -> Decimal:
        return self.order.filled_qty if self.order else Decimal(0)


@dataclass
class HedgeResult:
    config: HedgeConfig
    plan: HedgePlan | None = None
    opened: list[LegOutcome] = field(default_factory=list)
    closed: list[LegOutcome] = field(default_factory=list)
    extra_closes: list[Order] = field(default_factory=list)
    open_ms: float | None = None
    close_ms: float | None = None
    skew_ms: float | None = None
    pnl: dict[str, LegPnl] = field(default_factory=dict)
    balances_before: dict[str, list[Balance]] = field(default_factory=dict)
    balances_after: dict[str, list[Balance]] = field(default_factory=dict)
    final: FlattenReport | None = None
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    interrupted: bool = False
    closed_early: bool = False

    @property
    def flat(self) -> bool:
        return self.final is None or self.final.flat

    @property
    def ok(self) -> bool:
        return self.error is None and not self.interrupted and self.flat

    @property
    def exit_code(self) -> int:
        if not self.flat:
            return 3
        if self.interrupted:
            return 130
        return 0 if self.error is None else 1

    @property
    def total(self) -> LegPnl:
        return LegPnl(
            gross=sum((p.gross for p in self.pnl.values()), Decimal(0)),
            fees=sum((p.fees for p in self.pnl.values()), Decimal(0)),
            funding=sum((p.funding for p in self.pnl.values()), Decimal(0)),
        )

    @property
    def net_bps(self) -> Decimal:
        return bps_of(self.total.net, self.plan.notional) if self.plan else Decimal(0)


async def run_hedge_cycle(
    long_venue: Venue,
    short_venue: Venue,
    dispatcher: Dispatcher,
    config: HedgeConfig,
    reporter: HedgeReporter,
    interrupts: Interrupts,
) -> HedgeResult:
    """Plan, open, hold, close, verify and account; every failure path ends in flatten."""
    result = HedgeResult(config=config)
    venues = (long_venue, short_venue)
    opened_anything = False
    try:
        reporter.phase("Checking venues and planning")
        plan, result.balances_before = await plan_hedge(long_venue, short_venue, config)
        result.plan = plan
        reporter.balances("Balances before", result.balances_before)
        reporter.plan(plan)
        if interrupts.requested:
            result.interrupted = True
            return result
        reporter.phase("Opening both legs (market)")
        opened_anything = True
        result.opened = await _open(long_venue, short_venue, dispatcher, plan, config, result)
        reporter.fills("Opened", result.opened)
        failed = [leg for leg in result.opened if leg.error or leg.filled_qty != plan.qty]
        if failed:
            result.error = "; ".join(f"{leg.venue}: {leg.error or _short_fill(leg, plan.qty)}" for leg in failed)
            reporter.warning(f"open failed ({result.error}): rolling back")
            return result
        if not interrupts.requested:
            reporter.phase(f"Holding for {config.max_position_duration_seconds:g} s")
            await _hold(long_venue, short_venue, plan, config, reporter, interrupts, result)
        result.interrupted = interrupts.requested
        reporter.phase("Closing both legs (reduce-only market)")
        result.closed = await _close(venues, dispatcher, result.opened, result)
        reporter.fills("Closed", result.closed)
    except HedgectlError as exc:
        result.error = str(exc)
    except Exception as exc:
        log.debug("unexpected error in the hedge cycle", exc_info=exc)
        result.error = f"unexpected {type(exc).__name__}: {exc}"
    finally:
        result.interrupted = result.interrupted or interrupts.requested
        if opened_anything:
            await _finish(venues, dispatcher, config, reporter, interrupts, result)
    return result


async def _open(
    long_venue: Venue,
    short_venue: Venue,
    dispatcher: Dispatcher,
    plan: HedgePlan,
    config: HedgeConfig,
    result: HedgeResult,
) -> list[LegOutcome]:
    requests = [
        OrderRequest(
            symbol=plan.symbol, side=leg.side, type=OrderType.MARKET, qty=plan.qty, client_order_id=dispatcher.new_id()
        )
        for leg in plan.legs
    ]
    # Both intents are on disk before either request leaves.
    for venue, request in zip((long_venue, short_venue), requests, strict=True):
        dispatcher.journal.record_intent(dispatcher.run_id, venue.name, request, "open")
    t0 = time.perf_counter()
    sends = await asyncio.gather(
        *(dispatcher.send_journaled(v, r) for v, r in zip((long_venue, short_venue), requests, strict=True)),
        return_exceptions=True,
    )
    result.open_ms = (time.perf_counter() - t0) * 1000
    legs = await asyncio.gather(
        *(
            _settle(venue, dispatcher, request, sent, config.max_order_latency_ms)
            for venue, request, sent in zip((long_venue, short_venue), requests, sends, strict=True)
        )
    )
    sent_ns = [s.sent_ns for s in sends if isinstance(s, Sent)]
    if len(sent_ns) == 2:
        result.skew_ms = abs(sent_ns[0] - sent_ns[1]) / 1e6
    for leg in legs:
        if leg.latency_ms is not None and leg.latency_ms > config.max_order_latency_ms:
            result.warnings.append(
                f"{leg.venue}: open latency {leg.latency_ms:.0f} ms above "
                f"--max-latency-ms {config.max_order_latency_ms:g}"
            )
    return list(legs)


async def _settle(
    venue: Venue, dispatcher: Dispatcher, request: OrderRequest, sent: Sent | BaseException, max_latency_ms: float
) -> LegOutcome:
    """Turn a send outcome into a leg: wait (up to the latency limit) for a market order to report filled."""
    leg = LegOutcome(venue=venue.name, side=request.side)
    if isinstance(sent, BaseException):
        if not isinstance(sent, HedgectlError):
            raise sent
        leg.error = str(sent)
        return leg
    leg.order, leg.latency_ms = sent.order, sent.ack_ms
    t0 = time.perf_counter() - sent.ack_ms / 1000
    deadline = t0 + max(max_latency_ms, sent.ack_ms) / 1000
    delay = FILL_POLL_FIRST_S
    try:
        while leg.order.status.is_open and time.perf_counter() < deadline:
            await asyncio.sleep(min(delay, max(0.0, deadline - time.perf_counter())))
            leg.order = await dispatcher.refresh(venue, leg.order)
            delay = min(delay * 2, FILL_POLL_MAX_S)
        if leg.order.status is OrderStatus.FILLED or leg.order.filled_qty == request.qty:
            leg.fill_ms = (time.perf_counter() - t0) * 1000
        leg.fills = await dispatcher.fills_of(venue, leg.order)
    except HedgectlError as exc:
        leg.error = f"could not confirm the fill: {exc}"
    return leg


async def _hold(
    long_venue: Venue,
    short_venue: Venue,
    plan: HedgePlan,
    config: HedgeConfig,
    reporter: HedgeReporter,
    interrupts: Interrupts,
    result: HedgeResult,
) -> None:
    entries = {leg.venue: (leg.side.sign * leg.filled_qty, _avg_price(leg)) for leg in result.opened}
    loss_limit = plan.notional * config.max_acceptable_loss_pct / 100
    fees = sum((f.fee for leg in result.opened for f in leg.fills), Decimal(0))
    start = time.monotonic()
    end = start + config.max_position_duration_seconds
    while end - time.monotonic() > 0:
        try:
            quotes = await asyncio.gather(long_venue.fetch_quote(plan.symbol), short_venue.fetch_quote(plan.symbol))
        except HedgectlError as exc:
            reporter.warning(f"price update failed during the hold: {exc}")
            quotes = None
        if quotes is not None:
            upnl = {}
            for quote in quotes:
                qty, entry = entries[quote.venue]
                exit_price = quote.bid if qty > 0 else quote.ask
                upnl[quote.venue] = (exit_price - entry) * qty
            total = sum(upnl.values(), Decimal(0)) - fees
            reporter.hold_tick(max(0.0, end - time.monotonic()), upnl, total)
            if total < -loss_limit:
                result.closed_early = True
                result.warnings.append(
                    f"loss {total:.4f} passed --max-loss-pct {config.max_acceptable_loss_pct}% "
                    f"({-loss_limit:.4f}): closed early"
                )
                reporter.warning(result.warnings[-1])
                return
        if await interrupts.sleep(min(HOLD_POLL_S, max(0.0, end - time.monotonic()))):
            return


async def _close(
    venues: tuple[Venue, Venue], dispatcher: Dispatcher, opened: list[LegOutcome], result: HedgeResult
) -> list[LegOutcome]:
    by_name = {v.name: v for v in venues}
    requests = []
    for leg in opened:
        if leg.order is None or leg.filled_qty <= 0:
            continue
        request = OrderRequest(
            symbol=leg.order.symbol,
            side=leg.side.opposite,
            type=OrderType.MARKET,
            qty=leg.filled_qty,
            client_order_id=dispatcher.new_id(),
            reduce_only=True,
        )
        dispatcher.journal.record_intent(dispatcher.run_id, leg.venue, request, "close")
        requests.append((by_name[leg.venue], request))
    t0 = time.perf_counter()
    sends = await asyncio.gather(*(dispatcher.send_journaled(v, r) for v, r in requests), return_exceptions=True)
    result.close_ms = (time.perf_counter() - t0) * 1000
    legs = await asyncio.gather(
        *(_settle(v, dispatcher, r, s, CLOSE_FILL_WAIT_MS) for (v, r), s in zip(requests, sends, strict=True))
    )
    return list(legs)


async def _finish(
    venues: tuple[Venue, Venue],
    dispatcher: Dispatcher,
    config: HedgeConfig,
    reporter: HedgeReporter,
    interrupts: Interrupts,
    result: HedgeResult,
) -> None:
    """Verify flat through the flatten engine (closing whatever is left), then balances and PnL."""
    reporter.phase("Verifying both venues are flat")
    interrupts.flattening = True
    result.final = await flatten(venues, dispatcher, symbol=config.symbol, intent="verify_close")
    result.extra_closes = [o for v in result.final.venues for o in v.closes]
    for order in result.extra_closes:
        result.warnings.append(f"{order.venue}: closed a leftover {order.qty} {order.symbol} while verifying flat")
    for v in result.final.venues:
        for err in v.errors:
            result.warnings.append(f"{v.venue}: {err}")
    try:
        after = await asyncio.gather(*(v.fetch_balances() for v in venues))
        result.balances_after = {v.name: b for v, b in zip(venues, after, strict=True)}
        reporter.balances("Balances after", result.balances_after)
    except HedgectlError as exc:
        result.warnings.append(f"could not read balances after: {exc}")
    await _account(venues, dispatcher, result)


async def _account(venues: tuple[Venue, Venue], dispatcher: Dispatcher, result: HedgeResult) -> None:
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
            result.pnl[venue.name] = leg_pnl(fills)


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


def _avg_price(leg: LegOutcome) -> Decimal:
    if leg.fills:
        qty = sum((f.qty for f in leg.fills), Decimal(0))
        if qty:
            return sum((f.qty * f.price for f in leg.fills), Decimal(0)) / qty
    if leg.order is not None and leg.order.avg_price is not None:
        return leg.order.avg_price
    return Decimal(0)


def _short_fill(leg: LegOutcome, qty: Decimal) -> str:
    return f"filled {leg.filled_qty} of {qty}" + (f" ({leg.order.status.value})" if leg.order else "")
