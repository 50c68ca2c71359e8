"""The carry from start to end: open the pair (or take one over), watch it, close it; every way out ends closed.

opening.py  open as bootstrap does (at once, or maker-first), or resume/adopt a pair already open
watch.py    the watch loop: readings, exit rules, re-hedges, breaker trips (reading.py: one reading of the pair)
closing.py  close through flatten (or keep, with --on-exit keep) and account from the journal
context.py  what those share: the result, the reporter protocol, the context, the carry's events

The carry ends flat, or with exit 3 naming what is open. With `--on-exit keep`, a Ctrl+C/SIGTERM leaves the pair
open for `carry --resume`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from hedgectl.clock import SYSTEM_CLOCK, Clock
from hedgectl.engine.bootstrap.plan import HedgeConfig, HedgePlan, PlanRefused
from hedgectl.engine.carry.breaker import BreakerLimits
from hedgectl.engine.carry.closing import finish
from hedgectl.engine.carry.config import CarryConfig
from hedgectl.engine.carry.context import CarryReporter, CarryResult, Ctx, Resume
from hedgectl.engine.carry.notify import Notifier
from hedgectl.engine.carry.opening import open_pair, take_over
from hedgectl.engine.carry.watch import watch
from hedgectl.engine.interrupts import Interrupts
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.engine.orders.tracker import OrderTracker
from hedgectl.errors import HedgectlError
from hedgectl.venues.base import Venue

log = logging.getLogger(__name__)


async def run_carry(
    long_venue: Venue,
    short_venue: Venue,
    dispatcher: Dispatcher,
    config: CarryConfig,
    hedge_config: HedgeConfig,
    reporter: CarryReporter,
    interrupts: Interrupts,
    *,
    notifier: Notifier,
    limits: BreakerLimits,
    resume: Resume | None = None,
    confirm: Callable[[HedgePlan], Awaitable[bool]] | None = None,
    clock: Clock = SYSTEM_CLOCK,
    streams: bool = True,
) -> CarryResult:
    """Open (or take over) the pair, watch it until an exit rule, a stop or a failure, and close it.

    `streams`: open both venues' private order streams: fills of the carry's orders are pushed, and any order
    event wakes the watch (polling stays the fallback)."""
    result = CarryResult(config=config)
    runs = (*(resume.runs if resume else ()), dispatcher.run_id)
    ctx = Ctx(long_venue, short_venue, dispatcher, config, reporter, interrupts, notifier, limits, clock, result, runs)
    ctx.streams = OrderTracker(dispatcher, stop=interrupts.stop, streams=streams)
    for venue in ctx.venues:
        ctx.streams.on_any(venue, config.symbol, ctx.wake.set)  # connects while the plan is read
    holding = False
    try:
        if resume is None:
            holding = await open_pair(ctx, hedge_config, confirm)
        else:
            holding = await take_over(ctx, resume)
        if holding and not interrupts.requested:
            await watch(ctx)
        result.interrupted = interrupts.requested
    except HedgectlError as exc:
        result.error = str(exc)
        if isinstance(exc, PlanRefused):
            result.warnings.extend(c.describe() for c in exc.checks if not c.passed)
    except Exception as exc:
        log.debug("unexpected error in the carry", exc_info=exc)
        result.error = f"unexpected {type(exc).__name__}: {exc}"
    finally:
        result.interrupted = result.interrupted or interrupts.requested
        try:
            if holding or result.opened:
                await finish(ctx, keep=result.interrupted and config.on_exit == "keep" and result.error is None)
        finally:
            if ctx.streams is not None:
                await ctx.streams.aclose()  # however the carry ended: no task or socket outlives it
    return result


__all__: Sequence[str] = ["CarryReporter", "CarryResult", "Resume", "run_carry"]
