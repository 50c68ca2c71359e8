"""The carry: open the pair as bootstrap does (or adopt/resume one), watch it, re-hedge it, close it through flatten.

Open: bootstrap's planner and checks (`plan_hedge`), both intents journaled before either leg is sent, both legs
built and signed before either leaves (`Dispatcher.send_journaled_many`), each settled (`settle`); a leg that
failed or filled short is rolled back by the flatten engine, as bootstrap's is.

Watch: on every event of the venues' private order streams (any order on the account: a manual trade, an ADL, a
liquidation), at least every `refresh_s`, and at once on a stop, both venues' positions and quotes are read (the
venues' own view, never the journal's) and valued (`CarryView`); funding payments are read and journaled on each
reading; the exit rules (`exits.exit_reason`) are judged and a delta beyond `--max-delta-pct` is re-hedged on the leg
that restores the pair. Every exit goes through the one flatten engine, scoped to the symbol on both venues;
the carry ends flat, or with exit 3 naming what is open. With `--on-exit keep`, a Ctrl+C/SIGTERM leaves the pair
open for `carry --resume`.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import FIRST_COMPLETED
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from hedgectl.clock import SYSTEM_CLOCK, Clock
from hedgectl.domain.pnl import LegPnl, leg_pnl
from hedgectl.domain.rounding import floor_to_step
from hedgectl.domain.types import OrderRequest, OrderType, Position, Quote, Side
from hedgectl.engine.bootstrap.accounting import net_by_venue
from hedgectl.engine.bootstrap.leg_fills import LegOutcome, settle
from hedgectl.engine.bootstrap.maker_first import enter_maker_first
from hedgectl.engine.bootstrap.plan import Entry, HedgeConfig, HedgePlan, PlanRefused, plan_hedge
from hedgectl.engine.carry import breaker
from hedgectl.engine.carry.breaker import (
    DAILY_LOSS,
    DELTA_BREACH,
    ERROR_BURST,
    BreakerLimits,
    ErrorBurst,
    check_daily_loss,
)
from hedgectl.engine.carry.config import CarryConfig
from hedgectl.engine.carry.exits import WatchState, exit_reason, rehedge_order
from hedgectl.engine.carry.notify import Notifier
from hedgectl.engine.carry.view import CarryView, leg_view, spread_apr
from hedgectl.engine.flatten import FlattenReport, flatten
from hedgectl.engine.funding import collect_funding
from hedgectl.engine.interrupts import Interrupts
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.engine.orders.tracker import OrderTracker
from hedgectl.errors import HedgectlError, UsageError
from hedgectl.venues.base import Venue

log = logging.getLogger(__name__)
OPEN_LATENCY_MS = 5000.0  # a leg of the open unfilled after this is rolled back
REHEDGE_LATENCY_MS = 5000.0
REHEDGE_ATTEMPTS = 2  # re-hedges in a row that leave the delta beyond the limit trip the breaker
MIN_READ_GAP_S = 0.2  # a burst of stream events is one reading, not one per event


class CarryReporter(Protocol):
    """What the carry tells its user as it goes (a Rich live view, or JSON Lines)."""

    def phase(self, title: str) -> None: ...
    def plan(self, plan: HedgePlan) -> None: ...
    def view(self, view: CarryView) -> None: ...
    def event(self, kind: str, text: str, data: dict[str, Any]) -> None: ...
    def warning(self, text: str) -> None: ...


@dataclass(frozen=True)
class Resume:
    """A pair to take over instead of opening one: a crashed or kept carry (`runs`: its run chain, oldest first,
    whose fills and funding count), or one adopted from the venues (`runs` empty)."""

    runs: tuple[str, ...] = ()
    since: datetime | None = None  # when the pair was opened (the funding window's start)


@dataclass
class CarryResult:
    config: CarryConfig
    plan: HedgePlan | None = None
    opened: list[LegOutcome] = field(default_factory=list)
    target_qty: Decimal = Decimal(0)
    opened_at: datetime | None = None
    exit_reason: str | None = None
    kept: bool = False  # --on-exit keep: the pair was left open on purpose
    final: FlattenReport | None = None
    open_per_venue: dict[str, Decimal] = field(default_factory=dict)  # with `kept`: what stays open
    last_view: CarryView | None = None
    rehedges: int = 0
    pnl: dict[str, LegPnl] = field(default_factory=dict)
    funding_known: bool = True
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    interrupted: bool = False
    tripped: str | None = None  # the breaker trip this carry caused

    @property
    def flat(self) -> bool:
        return self.final is None or self.final.flat

    @property
    def exit_code(self) -> int:
        if not self.flat:
            return 3
        if self.tripped is not None:
            return 4
        if self.kept:
            return 0
        if self.interrupted:
            return 130
        return 0 if self.error is None else 1

    @property
    def net(self) -> Decimal | None:
        if not self.pnl:
            return None
        return sum((p.net for p in self.pnl.values()), Decimal(0))


@dataclass
class _Ctx:
    long: Venue
    short: Venue
    dispatcher: Dispatcher
    config: CarryConfig
    reporter: CarryReporter
    interrupts: Interrupts
    notifier: Notifier
    limits: BreakerLimits
    clock: Clock
    result: CarryResult
    runs: tuple[str, ...]  # every run whose fills and funding are this carry's (the current one last)
    streams: OrderTracker | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # set by any order event on either venue

    @property
    def venues(self) -> tuple[Venue, Venue]:
        return (self.long, self.short)


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
    ctx = _Ctx(long_venue, short_venue, dispatcher, config, reporter, interrupts, notifier, limits, clock, result, runs)
    ctx.streams = OrderTracker(dispatcher, stop=interrupts.stop, streams=streams)
    for venue in ctx.venues:
        ctx.streams.on_any(venue, config.symbol, ctx.wake.set)  # connects while the plan is read
    holding = False
    try:
        if resume is None:
            holding = await _open(ctx, hedge_config, confirm)
        else:
            holding = await _take_over(ctx, resume)
        if holding and not interrupts.requested:
            await _watch(ctx)
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
                await _finish(ctx, keep=result.interrupted and config.on_exit == "keep" and result.error is None)
        finally:
            if ctx.streams is not None:
                await ctx.streams.aclose()  # however the carry ended: no task or socket outlives it
    return result


# -- open ---------------------------------------------------------------------------------------------------
async def _open(ctx: _Ctx, hedge_config: HedgeConfig, confirm: Callable[[HedgePlan], Awaitable[bool]] | None) -> bool:
    """Plan and open both legs (at once, or maker-first); True when both hold the same size (else the finish rolls
    back whatever was opened)."""
    result, reporter = ctx.result, ctx.reporter
    reporter.phase("Checking venues and planning")
    planned = await ctx.interrupts.unless_stopped(plan_hedge(ctx.long, ctx.short, hedge_config, clock=ctx.clock))
    if planned is None:
        return False
    plan, _balances = planned.result()
    result.plan = plan
    reporter.plan(plan)
    for warning in plan.warnings:
        _warn(ctx, warning)
    if confirm is not None and not await confirm(plan):
        raise UsageError("live trading not confirmed")
    if ctx.interrupts.requested:
        return False
    result.opened_at = ctx.clock.now()
    if hedge_config.entry is Entry.MAKER_FIRST:
        qty = await _open_maker_first(ctx, plan, hedge_config)
    else:
        reporter.phase("Opening both legs (market)")
        result.opened = await _open_taker(ctx, plan)
        failed = [leg for leg in result.opened if leg.error or leg.filled_qty != plan.qty]
        if failed:
            result.error = "open failed, rolled back: " + "; ".join(
                f"{leg.venue}: {leg.error or f'filled {leg.filled_qty} of {plan.qty}'}" for leg in failed
            )
        qty = plan.qty
    if result.error is not None or qty <= 0:
        if result.error is not None:
            reporter.warning(result.error)
        return False
    result.target_qty = qty
    notional = qty * plan.reference_price
    text = f"opened {qty} {plan.symbol}: long {ctx.long.name}, short {ctx.short.name} (~{notional:.2f} USDT)"
    _event(ctx, "open", text, qty=qty, notional=notional)
    return True


async def _open_taker(ctx: _Ctx, plan: HedgePlan) -> list[LegOutcome]:
    """Both legs at market at once: both intents on disk before either leaves, both signed before either is sent."""
    requests = [
        OrderRequest(
            symbol=plan.symbol,
            side=leg.side,
            type=OrderType.MARKET,
            qty=plan.qty,
            client_order_id=ctx.dispatcher.new_id(),
        )
        for leg in plan.legs
    ]
    for venue, request in zip(ctx.venues, requests, strict=True):
        ctx.dispatcher.journal_intent(venue.name, request, "carry_open")
    sends = await ctx.dispatcher.send_journaled_many(list(zip(ctx.venues, requests, strict=True)))
    legs = await asyncio.gather(
        *(
            settle(venue, ctx.dispatcher, request, sent, OPEN_LATENCY_MS, ctx.streams)
            for venue, request, sent in zip(ctx.venues, requests, sends, strict=True)
        )
    )
    return list(legs)


async def _open_maker_first(ctx: _Ctx, plan: HedgePlan, hedge_config: HedgeConfig) -> Decimal:
    """bootstrap's maker-first entry (engine/bootstrap/maker_first.py); the size each leg holds after it
    (result.error and 0 when it failed: the finish rolls back what it opened)."""
    result = ctx.result

    async def take_rest(qty: Decimal) -> list[LegOutcome]:
        return await _open_taker(ctx, replace(plan, qty=qty))

    ctx.reporter.phase(f"Opening maker-first (post-only, the rest taken after {hedge_config.maker_timeout_s:g} s)")
    outcome = await enter_maker_first(
        plan,
        {v.name: v for v in ctx.venues},
        ctx.dispatcher,
        _EntryLines(ctx),
        ctx.interrupts,
        timeout_s=hedge_config.maker_timeout_s,
        tracker=ctx.streams,
        take_rest=take_rest,
    )
    result.opened = outcome.legs
    held = net_by_venue(outcome.legs)
    long_qty, short_qty = held.get(ctx.long.name, Decimal(0)), held.get(ctx.short.name, Decimal(0))
    error = outcome.error or "; ".join(f"{leg.venue}: {leg.error}" for leg in outcome.legs if leg.error) or None
    if error is None and long_qty != -short_qty:
        error = f"the legs do not offset ({ctx.long.name} {long_qty:+f}, {ctx.short.name} {short_qty:+f})"
    if error is not None:
        result.error = f"open failed, rolled back: {error}"
        return Decimal(0)
    saving = outcome.report.saving_total
    _event(ctx, "entry", f"maker-first entry: {long_qty} opened, fees saved {saving:.4f} USDT", saved=saving)
    return long_qty


class _EntryLines:
    """The maker-first entry's lines, as carry events."""

    def __init__(self, ctx: _Ctx) -> None:
        self._ctx = ctx

    def entry_event(self, text: str) -> None:
        self._ctx.reporter.event("entry", text, {})


async def _take_over(ctx: _Ctx, resume: Resume) -> bool:
    """Resume or adopt: the pair must be open on both venues, long on one and short on the other."""
    result = ctx.result
    ctx.reporter.phase("Reconciling the pair with both venues")
    await _reconcile_unknown(ctx, resume.runs)
    long_qty, short_qty = await asyncio.gather(*(_venue_qty(v, ctx.config.symbol) for v in ctx.venues))
    if long_qty == 0 and short_qty == 0:
        result.error = f"nothing to carry: {ctx.config.symbol} is flat on {ctx.long.name} and {ctx.short.name}"
        return False
    if long_qty <= 0 or short_qty >= 0:
        open_now = f"{ctx.long.name} {long_qty:+f}, {ctx.short.name} {short_qty:+f} {ctx.config.symbol}"
        result.final = await flatten(ctx.venues, None, symbol=ctx.config.symbol, dry_run=True)
        raise UsageError(
            f"not a pair to carry (long on {ctx.long.name}, short on {ctx.short.name} expected): open now "
            f"{open_now}; close it with `hedgectl flatten --all` or adopt it with the right --long/--short"
        )
    result.target_qty = min(long_qty, -short_qty)
    result.opened_at = resume.since or ctx.clock.now()
    kind = "resume" if resume.runs else "adopt"
    _event(
        ctx,
        kind,
        f"{kind}d the pair: {ctx.long.name} {long_qty:+f}, {ctx.short.name} {short_qty:+f} {ctx.config.symbol}",
        qty=result.target_qty,
    )
    return True


async def _reconcile_unknown(ctx: _Ctx, runs: Sequence[str]) -> None:
    """Orders the earlier runs sent without learning their outcome (a crash mid-request): looked up by client
    order id and journaled, never sent again. One that cannot be read stays unknown (the positions decide)."""
    by_name = {v.name: v for v in ctx.venues}
    journal = ctx.dispatcher.journal
    for run in runs:
        for row in journal.orders(run):
            venue = by_name.get(row.venue)
            if venue is None or row.state not in ("intent", "unknown"):
                continue
            try:
                await Dispatcher(journal, run).reconcile(venue, row.symbol, row.client_order_id)
            except HedgectlError as exc:
                _warn(ctx, f"{row.venue}: order {row.client_order_id} of run {run} still unknown: {exc}")


async def _venue_qty(venue: Venue, symbol: str) -> Decimal:
    return sum((p.qty for p in await venue.fetch_positions(symbol)), Decimal(0))


# -- watch --------------------------------------------------------------------------------------------------
async def _watch(ctx: _Ctx) -> None:
    config, result = ctx.config, ctx.result
    state = WatchState(started_at=ctx.clock.now())
    errors = ErrorBurst(ctx.limits)
    seen_settlements: set[tuple[str, datetime]] = set()
    marked: tuple[Any, ...] | None = None
    misses = 0
    ctx.reporter.phase(f"Carrying {config.symbol}: long {ctx.long.name}, short {ctx.short.name}")
    while not ctx.interrupts.requested:
        ctx.wake.clear()  # an event from here on means another reading
        try:
            view, settlements = await _read(ctx, seen_settlements)
        except HedgectlError as exc:
            ctx.reporter.warning(f"reading the pair failed: {exc}")
            if errors.record(ctx.clock.monotonic()):
                _trip(ctx, ERROR_BURST, f"{ctx.limits.error_burst} venue errors within {ctx.limits.error_window_s:g} s")
                result.exit_reason = f"circuit breaker: {result.tripped}"
                return
            if await ctx.interrupts.sleep(min(config.refresh_s, 1.0)):
                return
            continue
        result.last_view = view
        marked = _mark(ctx, view, marked)
        for venue in settlements:
            state.settled(venue, view, config)
        ctx.reporter.view(view)
        reason = exit_reason(view, config, state, ctx.clock.now())
        if reason is not None:
            result.exit_reason = reason
            return
        order = rehedge_order(view, config)
        if order is None:
            misses = 0
        elif await _rehedge(ctx, view, *order):
            misses += 1
            if misses >= REHEDGE_ATTEMPTS:
                _trip(ctx, DELTA_BREACH, f"delta {view.delta:+f} {config.symbol} ({view.delta_pct:.2f}%) not repaired")
                result.exit_reason = f"circuit breaker: {result.tripped}"
                return
        if await _pause(ctx, config.refresh_s):
            return


async def _pause(ctx: _Ctx, seconds: float) -> bool:
    """Until the next reading: `seconds`, or an order event on either venue (at least MIN_READ_GAP_S from now);
    True when a stop was requested meanwhile."""
    if await ctx.interrupts.sleep(min(MIN_READ_GAP_S, seconds)):
        return True
    if ctx.wake.is_set():
        return False
    stop = asyncio.ensure_future(ctx.interrupts.stop.wait())
    wake = asyncio.ensure_future(ctx.wake.wait())
    try:
        await asyncio.wait({stop, wake}, timeout=max(0.0, seconds - MIN_READ_GAP_S), return_when=FIRST_COMPLETED)
    finally:
        stop.cancel()
        wake.cancel()
        await asyncio.gather(stop, wake, return_exceptions=True)
    return ctx.interrupts.requested


async def _read(ctx: _Ctx, seen: set[tuple[str, datetime]]) -> tuple[CarryView, list[str]]:
    """Both venues' positions and quotes, the funding so far (journaled); and the venues of new settlements."""
    symbol = ctx.config.symbol
    long_pos, short_pos, long_q, short_q = await asyncio.gather(
        ctx.long.fetch_positions(symbol),
        ctx.short.fetch_positions(symbol),
        ctx.long.fetch_quote(symbol),
        ctx.short.fetch_quote(symbol),
    )
    funding, known, new = await _funding(ctx, seen)
    fees = sum((f.fee for run in ctx.runs for f in ctx.dispatcher.journal.run_fills(run)), Decimal(0))
    view = _view(ctx, (long_pos, short_pos), (long_q, short_q), fees, funding if known else None)
    return view, new


def _view(
    ctx: _Ctx,
    positions: tuple[list[Position], list[Position]],
    quotes: tuple[Quote, Quote],
    fees: Decimal,
    funding: Decimal | None,
) -> CarryView:
    legs = [
        leg_view(v.name, [p for p in ps if p.qty], q) for v, ps, q in zip(ctx.venues, positions, quotes, strict=True)
    ]
    return CarryView(
        symbol=ctx.config.symbol,
        target_qty=ctx.result.target_qty,
        notional=ctx.config.notional_usdt,
        long=legs[0],
        short=legs[1],
        fees=fees,
        funding=funding,
        spread_apr_pct=spread_apr(*quotes),
    )


async def _funding(ctx: _Ctx, seen: set[tuple[str, datetime]]) -> tuple[Decimal, bool, list[str]]:
    """Read both venues' payments since the open (new ones journaled to this run); the carry's total over its
    run chain, whether every venue could be read, and the venue of each settlement not seen before."""
    since = ctx.result.opened_at or ctx.clock.now()
    reads = await asyncio.gather(
        *(
            collect_funding(v, ctx.dispatcher, ctx.config.symbol, since, side_sign=s)
            for v, s in zip(ctx.venues, (1, -1), strict=True)
        )
    )
    ctx.result.funding_known = all(r.known for r in reads)
    payments = [p for run in ctx.runs for p in ctx.dispatcher.journal.run_funding(run) if p.symbol == ctx.config.symbol]
    new: list[str] = []
    for p in payments:
        if (p.venue, p.at) not in seen:
            seen.add((p.venue, p.at))
            new.append(p.venue)
            _event(ctx, "funding", f"{p.venue}: funding {p.amount:+f} {p.asset}", venue=p.venue, amount=p.amount)
    return sum((p.amount for p in payments), Decimal(0)), ctx.result.funding_known, new


def _mark(ctx: _Ctx, view: CarryView, last: tuple[Any, ...] | None) -> tuple[Any, ...]:
    """Journal the reading's marks, basis, funding spread and delta (`carry.mark`, what `hedgectl report` draws over
    time; the figures as the live view shows them) when one changed since the last one journaled."""
    shown = view.summary()
    legs: dict[str, dict[str, Any]] = shown["legs"]  # type: ignore[assignment]
    mark = {
        "marks": {venue: leg["mark"] for venue, leg in legs.items()},
        "qty": {venue: leg["qty"] for venue, leg in legs.items()},
        "funding_apr_pct": {venue: leg["funding_apr_pct"] for venue, leg in legs.items()},
        **{key: shown[key] for key in ("basis_bps", "spread_apr_pct", "delta", "delta_pct")},
    }
    figures = tuple(str(v) for v in mark.values())
    if figures != last:
        ctx.dispatcher.event("carry.mark", mark)
    return figures


async def _rehedge(ctx: _Ctx, view: CarryView, venue_name: str, qty: Decimal) -> bool:
    """Trade `qty` (signed) on `venue_name` to restore the pair; True when a re-hedge was attempted."""
    venue = ctx.long if venue_name == ctx.long.name else ctx.short
    market = await venue.market(ctx.config.symbol)
    size = floor_to_step(abs(qty), market.step_size)
    if size <= 0 or size < market.min_qty:
        return False  # below what the venue trades: the delta stays, and so does the warning on screen
    leg = view.long if venue_name == ctx.long.name else view.short
    side = Side.BUY if qty > 0 else Side.SELL
    request = OrderRequest(
        symbol=ctx.config.symbol,
        side=side,
        type=OrderType.MARKET,
        qty=size,
        client_order_id=ctx.dispatcher.new_id(),
        reduce_only=leg.qty * side.sign < 0 and size <= abs(leg.qty),
    )
    text = (
        f"delta {view.delta:+f} {ctx.config.symbol} ({view.delta_pct:.2f}% of notional): {side.value} {size} on "
        f"{venue_name}"
    )
    try:
        sent = await ctx.dispatcher.place(venue, request, "carry_rehedge")
    except HedgectlError as exc:
        _warn(ctx, f"re-hedge failed: {text}: {exc}")
        return True
    outcome = await settle(venue, ctx.dispatcher, request, sent, REHEDGE_LATENCY_MS, ctx.streams)
    ctx.result.rehedges += 1
    _event(ctx, "rehedge", f"re-hedged {text} (filled {outcome.filled_qty})", venue=venue_name, qty=outcome.filled_qty)
    return outcome.filled_qty != size


# -- finish -------------------------------------------------------------------------------------------------
async def _finish(ctx: _Ctx, *, keep: bool) -> None:
    """Close both legs through flatten (or keep them, on request), then account from the journal."""
    result = ctx.result
    if keep:
        result.kept = True
        qtys = await asyncio.gather(*(_venue_qty(v, ctx.config.symbol) for v in ctx.venues), return_exceptions=True)
        result.open_per_venue = {v.name: q for v, q in zip(ctx.venues, qtys, strict=True) if isinstance(q, Decimal)}
        _event(ctx, "kept", f"pair left open on request (--on-exit keep): `hedgectl carry --resume {ctx.runs[0]}`")
        return
    why = result.exit_reason or result.error or ("interrupted" if result.interrupted else "closing")
    ctx.reporter.phase(f"Closing both legs: {why}")
    ctx.interrupts.flattening = True
    result.final = await flatten(ctx.venues, ctx.dispatcher, symbol=ctx.config.symbol, intent="carry_close")
    for v in result.final.venues:
        result.warnings.extend(f"{v.venue}: {e}" for e in v.errors)
    await _account(ctx)
    if result.final.flat:
        net = f"net {result.net:+.4f} USDT" if result.net is not None else "net unknown"
        _event(ctx, "close", f"closed {ctx.config.symbol}, both venues flat ({why}); {net}", net=result.net, reason=why)
    else:
        _event(
            ctx,
            "exposure",
            f"EXPOSURE REMAINS: {result.final.describe_exposure()}",
            exposure=result.final.exposure(),
            reason=why,
        )
    # This carry's own result counts toward today's loss (the journal records it only when the run ends): a trip
    # is recorded and alerted now; the pair is already closed, so the exit code stays the close's.
    tripped = check_daily_loss(
        ctx.dispatcher.journal, ctx.limits, ctx.clock.now(), ctx.dispatcher.run_id, pending=result.net or Decimal(0)
    )
    if tripped is not None:
        _event(ctx, "trip", f"circuit breaker tripped: {DAILY_LOSS}: {tripped}", breaker=DAILY_LOSS)


async def _account(ctx: _Ctx) -> None:
    """PnL per venue from the journaled fills and funding of the carry's runs (fills of the closes read first)."""
    result, journal = ctx.result, ctx.dispatcher.journal
    by_name = {v.name: v for v in ctx.venues}
    for v in result.final.venues if result.final else ():
        for order in v.closes:
            try:
                await ctx.dispatcher.fills_of(by_name[v.venue], order)
            except HedgectlError as exc:
                result.warnings.append(f"{v.venue}: fills of {order.order_id} unavailable: {exc}")
    try:
        await _funding(ctx, set())
    except HedgectlError as exc:
        result.warnings.append(f"funding unreadable at the close: {exc}")
    fills = [f for run in ctx.runs for f in journal.run_fills(run) if f.symbol == ctx.config.symbol]
    funding = [p for run in ctx.runs for p in journal.run_funding(run) if p.symbol == ctx.config.symbol]
    for venue in ctx.venues:
        mine = [f for f in fills if f.venue == venue.name]
        if mine:
            paid = sum((p.amount for p in funding if p.venue == venue.name), Decimal(0))
            result.pnl[venue.name] = leg_pnl(mine, paid)


def _trip(ctx: _Ctx, kind: str, reason: str) -> None:
    breaker.trip(ctx.dispatcher.journal, kind, reason, ctx.dispatcher.run_id)
    ctx.result.tripped = f"{kind}: {reason}"
    _event(ctx, "trip", f"circuit breaker tripped: {kind}: {reason}", breaker=kind)


def _event(ctx: _Ctx, kind: str, text: str, **data: Any) -> None:
    """Journal, show and alert one carry event."""
    ctx.dispatcher.event(f"carry.{kind}", {"text": text, **data})
    ctx.reporter.event(kind, text, data)
    if kind in ("open", "close", "trip", "exposure", "rehedge", "resume", "adopt"):
        ctx.notifier.send(kind, text, run_id=ctx.dispatcher.run_id, symbol=ctx.config.symbol, **data)


def _warn(ctx: _Ctx, text: str) -> None:
    ctx.result.warnings.append(text)
    ctx.reporter.warning(text)


def describe_exposure(result: CarryResult) -> str:
    return result.final.describe_exposure() if result.final is not None else ""


__all__: Sequence[str] = ["CarryReporter", "CarryResult", "Resume", "run_carry"]
