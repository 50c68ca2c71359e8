"""The bootstrap hedge cycle: open both legs at once, hold, close both at once, verify flat, account.

Any failure, an interrupt or a loss limit leads to the same place: the flatten engine, scoped to the
symbol on both venues, until flat. The result says what happened; the caller maps it to an exit code.

Everything that can be done before the first order is: markets, server-time offsets, balances, books and
both venues' private order streams are read or opened while planning, before the user is asked (`confirm`,
live mode) and before the open, so the orders' fills are pushed rather than polled. An answer that took
longer than REPLAN_AFTER_S re-plans on a fresh book (and asks again if the quantity changed).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Protocol

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.pnl import (
    HoldMark,
    hold_mark,
)
from hedgectl.domain.types import Balance, OrderRequest, OrderType, Side
from hedgectl.engine.bootstrap.accounting import (
    HedgeResult,
    account,
    close_fee_rates,
    held_by_venue,
    journal_latency,
    net_by_venue,
    short_fill,
)
from hedgectl.engine.bootstrap.leg_fills import LegOutcome, settle
from hedgectl.engine.bootstrap.maker_first import enter_maker_first
from hedgectl.engine.bootstrap.plan import Entry, HedgeConfig, HedgePlan, PlanRefused, plan_hedge
from hedgectl.engine.flatten import flatten
from hedgectl.engine.interrupts import Interrupts
from hedgectl.engine.orders.dispatch import Dispatcher, Sent
from hedgectl.engine.orders.tracker import OrderTracker
from hedgectl.errors import HedgectlError, venue_said
from hedgectl.venues.base import Venue

__all__ = ["HedgeReporter", "HedgeResult", "LegOutcome", "run_hedge_cycle"]

log = logging.getLogger(__name__)
HOLD_POLL_S = 0.5
CLOSE_FILL_WAIT_MS = 5000.0
STREAM_WARM_S = 3.0  # how long planning waits for the order streams to be up (then: polling until they are)
REPLAN_AFTER_S = 5.0  # a confirmation that took longer than this re-plans on a fresh book before opening
# The hold's marks are journaled (for `hedgectl report`'s PnL curve) at most this many times per hold, and at
# most every HOLD_POLL_S: a day-long hold writes a few hundred rows, not one per poll.
HOLD_MARKS_JOURNALED = 600

# Asked with the plan before the first order is sent; True to go ahead (live mode's typed confirmation).
Confirm = Callable[[HedgePlan], Awaitable[bool]]


class HedgeReporter(Protocol):
    """What the cycle tells its user as it goes (Rich on a terminal, nothing with --json)."""

    def phase(self, title: str) -> None: ...
    def balances(self, title: str, balances: dict[str, list[Balance]]) -> None: ...
    def plan(self, plan: HedgePlan) -> None: ...
    def fills(self, title: str, legs: Sequence[LegOutcome]) -> None: ...
    def hold_tick(self, remaining_s: float, mark: HoldMark) -> None: ...
    def warning(self, text: str) -> None: ...
    def entry_event(self, text: str) -> None:
        """One line of the maker-first entry: an order placed, a fill, its hedge."""
        ...


async def run_hedge_cycle(
    long_venue: Venue,
    short_venue: Venue,
    dispatcher: Dispatcher,
    config: HedgeConfig,
    reporter: HedgeReporter,
    interrupts: Interrupts,
    *,
    streams: bool = True,
    confirm: Confirm | None = None,
) -> HedgeResult:
    """Plan, (confirm,) open, hold, close, verify and account; every failure path ends in flatten.

    `streams`: take fills from the venues' private order streams when they arrive first (polling stays the
    fallback). `confirm`: asked with the plan, after every read and before the first order.
    """
    result = HedgeResult(config=config)
    venues = (long_venue, short_venue)
    tracker = OrderTracker(dispatcher, stop=interrupts.stop, streams=streams, on_error=reporter.entry_event)
    opened_anything = False
    try:
        reporter.phase("Checking venues and planning")
        if streams:
            for venue in venues:
                tracker.warm(venue, config.symbol)  # connects while the plan is read
            for name, why in tracker.unavailable.items():
                _warn(reporter, result, f"{name}: no order stream ({why}); fills are confirmed by polling")
        planned = await interrupts.unless_stopped(plan_hedge(long_venue, short_venue, config))
        if planned is None:
            result.interrupted = True
            return result
        plan, result.balances_before = planned.result()
        result.plan, result.checks = plan, plan.checks
        reporter.balances("Balances before", result.balances_before)
        reporter.plan(plan)
        for warning in plan.warnings:
            _warn(reporter, result, warning)
        if streams:
            await _streams_up(tracker, reporter, interrupts, result)
        if confirm is not None and not interrupts.requested:
            confirmed = await _confirm(long_venue, short_venue, config, plan, confirm, reporter, interrupts, result)
            if confirmed is None:
                return result
            plan = confirmed
        if interrupts.requested:
            result.interrupted = True
            return result
        opened_anything = True
        if config.entry is Entry.MAKER_FIRST:
            if not await _open_maker_first(
                long_venue, short_venue, dispatcher, plan, config, reporter, interrupts, result, tracker
            ):
                return result
        else:
            reporter.phase("Opening both legs (market)")
            result.opened = await _open(long_venue, short_venue, dispatcher, plan, config, result, tracker)
            reporter.fills("Opened", result.opened)
            failed = [leg for leg in result.opened if leg.error or leg.filled_qty != plan.qty]
            if failed:
                result.error = "; ".join(
                    venue_said(leg.venue, leg.error or short_fill(leg, plan.qty)) for leg in failed
                )
                reporter.warning(f"open failed ({result.error}): rolling back")
                return result
        if not interrupts.requested:
            reporter.phase(f"Holding for {config.max_position_duration_seconds:g} s")
            await _hold(long_venue, short_venue, dispatcher, plan, config, reporter, interrupts, result)
        result.interrupted = interrupts.requested
        reporter.phase("Closing both legs (reduce-only market)")
        result.closed = await _close(venues, dispatcher, result.opened, result, tracker)
        reporter.fills("Closed", result.closed)
    except HedgectlError as exc:
        result.error = str(exc)
        if isinstance(exc, PlanRefused):
            result.checks = exc.checks
    except Exception as exc:
        log.debug("unexpected error in the hedge cycle", exc_info=exc)
        result.error = f"unexpected {type(exc).__name__}: {exc}"
    finally:
        result.interrupted = result.interrupted or interrupts.requested
        try:
            if opened_anything:
                await _finish(venues, dispatcher, config, reporter, interrupts, result)
        finally:
            await tracker.aclose()  # however the cycle ended: no task or socket outlives it
    return result


async def _streams_up(
    tracker: OrderTracker, reporter: HedgeReporter, interrupts: Interrupts, result: HedgeResult
) -> None:
    """Wait (briefly) for both order streams to be up; a late one is covered by polling, and said so."""
    waited = await interrupts.unless_stopped(tracker.wait_up(STREAM_WARM_S))
    for name in waited.result() if waited is not None else ():
        _warn(reporter, result, f"{name}: order stream not up after {STREAM_WARM_S:g} s; polling meanwhile")


def _warn(reporter: HedgeReporter, result: HedgeResult, text: str) -> None:
    result.warnings.append(text)
    reporter.warning(text)


async def _confirm(
    long_venue: Venue,
    short_venue: Venue,
    config: HedgeConfig,
    plan: HedgePlan,
    confirm: Confirm,
    reporter: HedgeReporter,
    interrupts: Interrupts,
    result: HedgeResult,
) -> HedgePlan | None:
    """Ask about the plan; after a slow answer re-plan on a fresh book, and ask again if the quantity changed.
    Returns the plan to open, or None (declined: result.declined; interrupted: result.interrupted)."""
    while True:
        asked = SYSTEM_CLOCK.monotonic()
        answer = await interrupts.unless_stopped(confirm(plan))
        if answer is None:
            result.interrupted = True
            return None
        if not answer.result():
            result.declined = True
            result.error = "live trading not confirmed"
            return None
        took = SYSTEM_CLOCK.monotonic() - asked
        if took <= REPLAN_AFTER_S:
            return plan
        reporter.phase(f"Re-planning on fresh prices (the answer took {took:.0f} s)")
        fresh, result.balances_before = await plan_hedge(long_venue, short_venue, config)
        result.plan, result.checks = fresh, fresh.checks
        if fresh.qty == plan.qty:
            return fresh
        reporter.plan(fresh)
        reporter.warning(f"the quantity changed from {plan.qty} to {fresh.qty} {fresh.symbol}: confirm again")
        plan = fresh


async def _open(
    long_venue: Venue,
    short_venue: Venue,
    dispatcher: Dispatcher,
    plan: HedgePlan,
    config: HedgeConfig,
    result: HedgeResult,
    tracker: OrderTracker,
) -> list[LegOutcome]:
    requests = [
        OrderRequest(
            symbol=plan.symbol, side=leg.side, type=OrderType.MARKET, qty=plan.qty, client_order_id=dispatcher.new_id()
        )
        for leg in plan.legs
    ]
    # Both intents are on disk before either request leaves.
    for venue, request in zip((long_venue, short_venue), requests, strict=True):
        dispatcher.journal_intent(venue.name, request, "open")
    t0 = SYSTEM_CLOCK.monotonic()
    # Both legs are built and signed before either is sent (see Dispatcher.send_journaled_many).
    result.opened_at = SYSTEM_CLOCK.now()
    sends = await dispatcher.send_journaled_many(list(zip((long_venue, short_venue), requests, strict=True)))
    result.open_ms = (SYSTEM_CLOCK.monotonic() - t0) * 1000
    legs = await asyncio.gather(
        *(
            settle(venue, dispatcher, request, sent, config.max_order_latency_ms, tracker)
            for venue, request, sent in zip((long_venue, short_venue), requests, sends, strict=True)
        )
    )
    sent_ns = [s.sent_ns for s in sends if isinstance(s, Sent)]
    if len(sent_ns) == 2:
        result.skew_ms = abs(sent_ns[0] - sent_ns[1]) / 1e6
    journal_latency(dispatcher, "bootstrap.open", result.open_ms, legs, skew_ms=result.skew_ms)
    for leg in legs:
        if leg.latency_ms is not None and leg.latency_ms > config.max_order_latency_ms:
            result.warnings.append(
                f"{leg.venue}: open latency {leg.latency_ms:.0f} ms above "
                f"--max-latency-ms {config.max_order_latency_ms:g}"
            )
    return list(legs)


async def _open_maker_first(
    long_venue: Venue,
    short_venue: Venue,
    dispatcher: Dispatcher,
    plan: HedgePlan,
    config: HedgeConfig,
    reporter: HedgeReporter,
    interrupts: Interrupts,
    result: HedgeResult,
    tracker: OrderTracker,
) -> bool:
    """Open maker-first (bootstrap/maker_first.py); False when it failed (result.error: the caller rolls back)."""

    async def take_rest(qty: Decimal) -> list[LegOutcome]:
        opened_at = result.opened_at  # the funding window starts with the first maker order, not with the rest
        legs = await _open(long_venue, short_venue, dispatcher, replace(plan, qty=qty), config, result, tracker)
        result.opened_at = opened_at
        return legs

    reporter.phase(f"Opening maker-first (post-only, the rest taken after {config.maker_timeout_s:g} s)")
    result.opened_at = SYSTEM_CLOCK.now()
    outcome = await enter_maker_first(
        plan,
        {long_venue.name: long_venue, short_venue.name: short_venue},
        dispatcher,
        reporter,
        interrupts,
        timeout_s=config.maker_timeout_s,
        tracker=tracker,
        take_rest=take_rest,
    )
    result.opened, result.entry = outcome.legs, outcome.report
    reporter.fills("Opened", result.opened)
    held = net_by_venue(result.opened)
    long_qty, short_qty = held.get(long_venue.name, Decimal(0)), held.get(short_venue.name, Decimal(0))
    failed = [leg for leg in result.opened if leg.error]
    if outcome.error is None and failed:
        outcome.error = "; ".join(venue_said(leg.venue, leg.error or "") for leg in failed)
    if outcome.error is None and long_qty != -short_qty:
        outcome.error = f"the legs do not offset ({long_venue.name} {long_qty:+f}, {short_venue.name} {short_qty:+f})"
    if outcome.error is None and long_qty != plan.qty and not interrupts.requested:
        result.warnings.append(f"opened {long_qty} of the planned {plan.qty} {plan.symbol} on each leg")
    if outcome.error is not None:
        result.error = outcome.error
        reporter.warning(f"open failed ({result.error}): rolling back")
        return False
    return True


async def _hold(
    long_venue: Venue,
    short_venue: Venue,
    dispatcher: Dispatcher,
    plan: HedgePlan,
    config: HedgeConfig,
    reporter: HedgeReporter,
    interrupts: Interrupts,
    result: HedgeResult,
) -> None:
    # A filled leg whose price the venue has not said is valued at the plan's expected price, never at 0
    # (which would show a loss or a profit the size of the notional and trip, or hide, the loss limit).
    expected = {leg.venue: leg.expected_price for leg in plan.legs}
    opened = held_by_venue(result.opened, expected)
    close_rates = close_fee_rates(plan, result.entry)  # a market close: each venue's taker rate
    loss_limit = plan.notional * config.max_acceptable_loss_pct / 100
    start = SYSTEM_CLOCK.monotonic()
    end = start + config.max_position_duration_seconds
    mark_every_s = config.max_position_duration_seconds / HOLD_MARKS_JOURNALED
    next_mark_at = start
    while end - SYSTEM_CLOCK.monotonic() > 0:
        try:
            quotes = await asyncio.gather(long_venue.fetch_quote(plan.symbol), short_venue.fetch_quote(plan.symbol))
        except HedgectlError as exc:
            reporter.warning(f"price update failed during the hold: {exc}")
            quotes = None
        if quotes is not None:
            # Valued at the marks (what the venues' unrealised PnL uses), net of the fees paid and of closing
            # fees estimated at each venue's taker rate.
            assets = {v: result.pnl_asset(v) for v in opened}
            marks = {q.venue: q.mark if q.mark is not None else q.mid for q in quotes}
            mark = hold_mark(opened, marks, assets, close_rates)
            reporter.hold_tick(max(0.0, end - SYSTEM_CLOCK.monotonic()), mark)
            if SYSTEM_CLOCK.monotonic() >= next_mark_at:
                next_mark_at = SYSTEM_CLOCK.monotonic() + mark_every_s
                dispatcher.event("bootstrap.mark", {"marks": marks, "upnl": mark.upnl, "net": mark.net})
            # The loss guard keeps the seed's rule: the legs closed at the touch (bid/ask), less the fees paid.
            # The closing fees are not counted here: at the default 0.2 % they alone would trip it at once.
            exits = {q.venue: q.bid if opened[q.venue][0] > 0 else q.ask for q in quotes}
            at_touch = hold_mark(opened, exits, assets, close_rates)
            total = at_touch.net + at_touch.est_close_fees
            if total < -loss_limit:
                result.closed_early = True
                result.warnings.append(
                    f"loss {total:.4f} passed --max-loss-pct {config.max_acceptable_loss_pct}% "
                    f"({-loss_limit:.4f}): closed early"
                )
                reporter.warning(result.warnings[-1])
                return
        if await interrupts.sleep(min(HOLD_POLL_S, max(0.0, end - SYSTEM_CLOCK.monotonic()))):
            return


async def _close(
    venues: tuple[Venue, Venue],
    dispatcher: Dispatcher,
    opened: list[LegOutcome],
    result: HedgeResult,
    tracker: OrderTracker,
) -> list[LegOutcome]:
    by_name = {v.name: v for v in venues}
    requests = []
    # One close per venue, of what its legs hold on net (a maker-first entry opened it in several orders).
    for venue, held in net_by_venue([leg for leg in opened if leg.order is not None]).items():
        if held == 0:
            continue
        symbol = next(leg.order.symbol for leg in opened if leg.venue == venue and leg.order is not None)
        request = OrderRequest(
            symbol=symbol,
            side=Side.SELL if held > 0 else Side.BUY,
            type=OrderType.MARKET,
            qty=abs(held),
            client_order_id=dispatcher.new_id(),
            reduce_only=True,
        )
        dispatcher.journal_intent(venue, request, "close")
        requests.append((by_name[venue], request))
    if not requests:  # nothing held (an entry stopped before its first fill): no close phase to time
        return []
    t0 = SYSTEM_CLOCK.monotonic()
    sends = await dispatcher.send_journaled_many(requests)
    result.close_ms = (SYSTEM_CLOCK.monotonic() - t0) * 1000
    legs = await asyncio.gather(
        *(settle(v, dispatcher, r, s, CLOSE_FILL_WAIT_MS, tracker) for (v, r), s in zip(requests, sends, strict=True))
    )
    journal_latency(dispatcher, "bootstrap.close", result.close_ms, legs)
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
    # An error before the close (a failed open): the closes here are the rollback of the legs it opened.
    opened_on = {leg.venue for leg in result.opened if leg.filled_qty} if result.error and not result.closed else set()
    for order in result.extra_closes:
        rolled = order.venue in opened_on
        what = "rolled back the opened leg: closed {} {}" if rolled else "closed a leftover {} {} while verifying flat"
        result.warnings.append(f"{order.venue}: " + what.format(order.qty, order.symbol))
    for v in result.final.venues:
        for err in v.errors:
            result.warnings.append(venue_said(v.venue, err))
    try:
        after = await asyncio.gather(*(v.fetch_balances() for v in venues))
        result.balances_after = {v.name: b for v, b in zip(venues, after, strict=True)}
        reporter.balances("Balances after", result.balances_after)
    except HedgectlError as exc:
        result.warnings.append(f"could not read balances after: {exc}")
    await account(venues, dispatcher, result)
