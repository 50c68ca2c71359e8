"""The maker/taker volume loop (`hedgectl bp-aster loop`), venue-agnostic: cycles of two hedged legs.

    check (qty against both markets, start positions hedged)
    cycle: [funding gate] leg 1 (maker sells, taker buys) -> invariant -> between-legs sleep
           [funding gate] leg 2 (maker buys, taker sells) -> invariant -> cycle sleep
    exit:  --on-exit flatten (the flatten engine on both venues) or keep-hedged (invariant, corrected)

A stop request (Ctrl+C, SIGTERM), the last cycle or a fatal error all lead to the exit step. The result
says what happened; the CLI maps it to an exit code (0, 1, 3 exposure remains, 130 interrupted).
The package's other modules: leg (quoting), hedger (hedges, invariant), funding_gate, stats
(constant-memory), context (what the parts share), config (the seed file and flags).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from hedgectl.clock import SYSTEM_CLOCK, Clock
from hedgectl.domain.quantity import accepts
from hedgectl.domain.types import Market, Side
from hedgectl.engine.flatten import FlattenReport, flatten
from hedgectl.engine.funding import LoopFunding, collect_funding
from hedgectl.engine.interrupts import Interrupts
from hedgectl.engine.maker_taker.config import LoopConfig, OnExit
from hedgectl.engine.maker_taker.context import COUNTDOWN_TICK_S, LoopContext, Stopped
from hedgectl.engine.maker_taker.events import LoopReporter
from hedgectl.engine.maker_taker.funding_gate import FundingPause, funding_pause, next_funding
from hedgectl.engine.maker_taker.hedger import min_order_qty, read_positions, verify_hedged
from hedgectl.engine.maker_taker.leg import Leg, reference_price
from hedgectl.engine.maker_taker.stats import LoopStats, StatsSnapshot
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.engine.orders.feeds import FillFeed, PollingFeed
from hedgectl.errors import HedgectlError, UsageError, run_status, venue_said
from hedgectl.venues.base import Venue

log = logging.getLogger(__name__)
LEGS: tuple[tuple[int, Side], ...] = ((1, Side.SELL), (2, Side.BUY))


class UnhedgedAtStart(UsageError):
    """The pair is not hedged before the loop starts: nothing was sent."""

    exit_code = 1


@dataclass
class LoopResult:
    config: LoopConfig
    stats: StatsSnapshot | None = None
    interrupted: bool = False
    error: str | None = None
    final: FlattenReport | None = None
    positions_after: tuple[Decimal, Decimal] | None = None  # maker, taker (keep-hedged)
    exposure: str | None = None  # what is left open that should not be, for the exit-3 message
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.exposure is not None:
            return 3
        if self.interrupted:
            return 130
        return 0 if self.error is None else 1

    @property
    def status(self) -> str:
        """How the run is journaled: ok, failed, exposure or interrupted."""
        return run_status(self.exit_code)


@dataclass(frozen=True)
class Preflight:
    maker_market: Market
    taker_market: Market
    price: Decimal
    maker_position: Decimal
    taker_position: Decimal


async def preflight(maker: Venue, taker: Venue, config: LoopConfig, *, max_notional: Decimal) -> Preflight:
    """Check --qty against both markets' rules and the notional cap, and that the pair starts hedged."""
    symbol = config.symbol
    maker_market, taker_market, quote = await asyncio.gather(
        maker.market(symbol), taker.market(symbol), maker.fetch_quote(symbol)
    )
    price = reference_price(quote)
    for market in (maker_market, taker_market):
        if not accepts(market, config.qty, price, market_order=market is taker_market):
            minimum = min_order_qty(market, price)
            raise UsageError(
                f"--qty {config.qty} is not a quantity {market.venue} takes for {symbol}: step {market.step_size}, "
                f"min qty {market.min_qty}"
                + (f", min notional {market.min_notional} (about {minimum} at {price})" if market.min_notional else "")
            )
    if config.qty * price > max_notional:
        raise UsageError(
            f"--qty {config.qty} is about {config.qty * price:.2f} notional, above the cap of {max_notional} "
            "(HEDGECTL_MAX_NOTIONAL_USDT)"
        )
    maker_positions, taker_positions = await asyncio.gather(
        maker.fetch_positions(symbol), taker.fetch_positions(symbol)
    )
    maker_pos = sum((p.qty for p in maker_positions if p.symbol == symbol), Decimal(0))
    taker_pos = sum((p.qty for p in taker_positions if p.symbol == symbol), Decimal(0))
    if maker_pos + taker_pos != 0:
        raise UnhedgedAtStart(
            f"{symbol} is not hedged before starting ({maker.name} {maker_pos:+f}, {taker.name} {taker_pos:+f}): "
            f"run `hedgectl flatten --venue {maker.name} --venue {taker.name} --symbol {symbol}` first"
        )
    return Preflight(maker_market, taker_market, price, maker_pos, taker_pos)


async def run_loop(
    maker: Venue,
    taker: Venue,
    dispatcher: Dispatcher,
    config: LoopConfig,
    reporter: LoopReporter,
    interrupts: Interrupts,
    checked: Preflight,
    *,
    feed: FillFeed | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> LoopResult:
    """Run cycles until --cycles, a stop or a fatal error; then leave the pair as --on-exit says."""
    stats = LoopStats(
        maker_venue=maker.name,
        taker_venue=taker.name,
        maker_asset=checked.maker_market.quote,
        taker_asset=checked.taker_market.quote,
    )
    ctx = LoopContext(
        maker=maker,
        taker=taker,
        maker_market=checked.maker_market,
        taker_market=checked.taker_market,
        dispatcher=dispatcher,
        config=config,
        reporter=reporter,
        interrupts=interrupts,
        clock=clock,
        feed=feed or PollingFeed(interrupts.stop, interval_s=config.poll_interval_s),
        stats=stats,
        ref_price=checked.price,
        taker_position=checked.taker_position,
    )
    result = LoopResult(config=config)
    if checked.maker_position or checked.taker_position:
        ctx.warn(
            f"{config.symbol} positions already open ({maker.name} {checked.maker_position:+f}, "
            f"{taker.name} {checked.taker_position:+f}): the loop trades on top of them"
            + (" and --on-exit flatten closes them" if config.on_exit is OnExit.FLATTEN else "")
        )
    funding = LoopFunding(since=clock.now())
    try:
        await _cycles(ctx, funding)
    except Stopped:
        pass
    except HedgectlError as exc:
        result.error = str(exc)
        ctx.warn(f"stopping: {exc}")
    except Exception as exc:
        log.debug("unexpected error in the loop", exc_info=exc)
        result.error = f"unexpected {type(exc).__name__}: {exc}"
        ctx.warn(f"stopping: {result.error}")
    finally:
        result.interrupted = interrupts.requested
        ctx.leg = None
        interrupts.flattening = True
        await _exit(ctx, result)
        await _read_funding(ctx, funding, final=True)
    result.stats = stats.snapshot()
    ctx.show_stats()
    return result


async def _cycles(ctx: LoopContext, funding: LoopFunding) -> None:
    config = ctx.config
    while config.cycles is None or ctx.cycle < config.cycles:
        ctx.cycle += 1
        for leg_no, side in LEGS:
            if leg_no == 2:
                await ctx.wait(
                    "between_legs", config.between_legs_s, lambda left: f"between legs: leg 2 starts in {left}"
                )
            await _read_funding(ctx, funding)
            await _funding_gate(ctx, funding)
            ctx.leg = leg_no
            ctx.emit("leg", action="start", side=side)
            leg = await Leg(ctx, side).run()
            ctx.stats.legs += 1
            maker_pos, taker_pos = await verify_hedged(ctx, on_exit=ctx.stopping)
            ctx.taker_position = taker_pos
            ctx.emit(
                "leg",
                action="end",
                side=side,
                complete=leg.complete,
                maker_filled=leg.book.maker_filled,
                hedged=leg.book.hedged,
                closed_on_maker=leg.book.closed_on_maker,
                fill_s=None if leg.fill_s is None else round(leg.fill_s, 3),
                maker_position=maker_pos,
                taker_position=taker_pos,
            )
            if maker_pos + taker_pos != 0:
                raise HedgectlError(
                    f"{ctx.symbol} is not hedged after the leg ({ctx.maker.name} {maker_pos:+f}, "
                    f"{ctx.taker.name} {taker_pos:+f})"
                )
            ctx.leg = None
            if ctx.stopping:
                raise Stopped
        ctx.stats.cycles += 1
        snapshot = ctx.stats.snapshot()
        ctx.emit(
            "cycle",
            journal=True,
            cycles=snapshot.cycles,
            maker_volume=snapshot.maker_volume,
            taker_volume=snapshot.taker_volume,
            net_pnl=snapshot.net_pnl,
        )
        if config.cycles is None or ctx.cycle < config.cycles:
            await ctx.wait(
                "cycle_sleep", config.cycle_sleep_s, lambda left: f"cycle {ctx.cycle} done: next cycle in {left}"
            )


async def _funding_gate(ctx: LoopContext, funding: LoopFunding) -> None:
    """Do not start a leg within --stop-before-funding minutes of either venue's funding; count down."""
    window = timedelta(minutes=ctx.config.stop_before_funding_min)
    if window <= timedelta(0):
        return
    while True:
        maker_quote, taker_quote = await asyncio.gather(
            ctx.read(f"{ctx.maker.name}: quote", lambda: ctx.maker.fetch_quote(ctx.symbol)),
            ctx.read(f"{ctx.taker.name}: quote", lambda: ctx.taker.fetch_quote(ctx.symbol)),
        )
        now = ctx.clock.now()
        times = [next_funding(ctx.maker.name, maker_quote, now), next_funding(ctx.taker.name, taker_quote, now)]
        for when in times:
            funding.seen(when.venue, when.at)
        pause = funding_pause(times, now, window)
        if pause is None:
            return
        ctx.stats.pauses += 1
        ctx.emit(
            "pause",
            journal=True,
            reason="funding",
            venue=pause.venue,
            funding_at=pause.funding_at,
            resume_at=pause.resume_at,
            seconds=round(pause.remaining_s(now), 3),
            funding_time_source="venue" if pause.from_venue else "fallback 00/08/16 UTC",
            funding_rate=None if pause.rate is None else pause.rate.rate,
            funding_interval_s=None if pause.rate is None else pause.rate.interval,
            funding_rate_per_hour=None if pause.rate is None else pause.rate.per_hour,
            funding_apr_pct=None if pause.rate is None else pause.rate.apr_pct.quantize(Decimal("0.01")),
        )
        async with ctx.waiting(
            "funding",
            pause.remaining_s(now),
            functools.partial(_funding_label, pause),
            venue=pause.venue,
        ):
            # Until the venue's funding time by the wall clock, whatever the countdown's own ticks say.
            while (left := pause.remaining_s(ctx.clock.now())) > 0:
                await ctx.pause(min(COUNTDOWN_TICK_S, left))
        ctx.emit("resume", reason="funding", venue=pause.venue)


async def _read_funding(ctx: LoopContext, funding: LoopFunding, *, final: bool = False) -> None:
    """Read the payments of each venue whose settlement time has passed (every venue at the end), journal the
    new ones and update the stats; a venue that cannot be read makes funding unknown, never 0."""
    venues = (ctx.maker, ctx.taker)
    due = await funding.check(venues, ctx.symbol, ctx.clock.now(), final=final)
    for venue in venues:
        if venue.name not in due:
            continue
        found = await collect_funding(venue, ctx.dispatcher, ctx.symbol, funding.since)
        before = ctx.stats.funding.get(venue.name)
        ctx.stats.set_funding(venue.name, found.net if found.known else None)
        if not found.known:
            ctx.warn(f"{venue.name}: funding payments unreadable: {found.error}")
        elif found.net != before and found.payments:
            ctx.emit(
                "funding",
                journal=True,
                venue=venue.name,
                payments=len(found.payments),
                net=found.net,
                asset=found.payments[-1].asset,
            )


def _funding_label(pause: FundingPause, left: str) -> str:
    return f"paused: {pause.describe()}, resuming in {left}"


async def _exit(ctx: LoopContext, result: LoopResult) -> None:
    """Leave the pair as --on-exit says; record what could not be done."""
    config = ctx.config
    try:
        if config.on_exit is OnExit.FLATTEN:
            report = await flatten([ctx.maker, ctx.taker], ctx.dispatcher, symbol=config.symbol, intent="flatten")
            result.final = report
            for venue_report in report.venues:
                venue = ctx.maker if venue_report.venue == ctx.maker.name else ctx.taker
                for order in venue_report.closes:
                    ctx.owe_account(venue, order)
                result.warnings.extend(venue_said(venue_report.venue, e) for e in venue_report.errors)
            if not report.flat:
                result.exposure = report.describe_exposure()
            ctx.emit("exit", journal=True, policy=config.on_exit, flat=report.flat, exposure=result.exposure)
        else:
            await ctx.read(
                f"{ctx.maker.name}: cancel open orders",
                lambda: ctx.maker.cancel_all_orders(config.symbol),
                on_exit=True,
            )
            maker_pos, taker_pos = await verify_hedged(ctx, on_exit=True)
            result.positions_after = (maker_pos, taker_pos)
            if maker_pos + taker_pos != 0:
                result.exposure = (
                    f"{config.symbol} not hedged: {ctx.maker.name} {maker_pos:+f}, {ctx.taker.name} {taker_pos:+f}"
                )
            ctx.emit(
                "exit",
                journal=True,
                policy=config.on_exit,
                maker_position=maker_pos,
                taker_position=taker_pos,
                exposure=result.exposure,
            )
    except HedgectlError as exc:
        result.exposure = result.exposure or f"unknown: could not finish --on-exit {config.on_exit}: {exc}"
        result.warnings.append(str(exc))
        await _describe_positions(ctx, result)
    try:
        await ctx.settle_accounts()
    except HedgectlError as exc:
        result.warnings.append(f"accounting: {exc}")


async def _describe_positions(ctx: LoopContext, result: LoopResult) -> None:
    try:
        maker_pos, taker_pos = await read_positions(ctx)
    except HedgectlError:
        return
    result.positions_after = (maker_pos, taker_pos)
    result.exposure = f"{ctx.symbol}: {ctx.maker.name} {maker_pos:+f}, {ctx.taker.name} {taker_pos:+f}"
