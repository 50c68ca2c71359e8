"""How a carry comes to hold its pair: opened as bootstrap opens one, or taken over (resumed or adopted).

Open: bootstrap's planner and checks (`plan_hedge`), both intents journaled before either leg is sent, both legs
built and signed before either leaves (`Dispatcher.send_journaled_many`), each settled (`settle`); or bootstrap's
maker-first entry. A leg that failed or filled short is left to the close, which rolls it back through flatten.

Take over: the orders earlier runs left unknown are reconciled by client order id (never sent again), then the
pair must be open on both venues, long on one and short on the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from decimal import Decimal

from hedgectl.domain.types import OrderRequest, OrderType, Position
from hedgectl.engine.bootstrap.accounting import net_by_venue
from hedgectl.engine.bootstrap.leg_fills import LegOutcome, settle
from hedgectl.engine.bootstrap.maker_first import enter_maker_first
from hedgectl.engine.bootstrap.plan import Entry, HedgeConfig, HedgePlan, plan_hedge
from hedgectl.engine.carry.context import Ctx, Resume, event, warn
from hedgectl.engine.flatten import flatten
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.errors import HedgectlError, UsageError, venue_said

OPEN_LATENCY_MS = 5000.0  # a leg of the open unfilled after this is rolled back


async def open_pair(
    ctx: Ctx, hedge_config: HedgeConfig, confirm: Callable[[HedgePlan], Awaitable[bool]] | None
) -> bool:
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
        warn(ctx, warning)
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
                venue_said(leg.venue, leg.error or f"filled {leg.filled_qty} of {plan.qty}") for leg in failed
            )
        qty = plan.qty
    if result.error is not None or qty <= 0:
        if result.error is not None:
            reporter.warning(result.error)
        return False
    result.target_qty = qty
    notional = result.opened_notional = qty * plan.reference_price
    text = f"opened {qty} {plan.symbol}: long {ctx.long.name}, short {ctx.short.name} (~{notional:.2f} USDT)"
    event(ctx, "open", text, qty=qty, notional=notional)
    return True


async def _open_taker(ctx: Ctx, plan: HedgePlan) -> list[LegOutcome]:
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


async def _open_maker_first(ctx: Ctx, plan: HedgePlan, hedge_config: HedgeConfig) -> Decimal:
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
    error = outcome.error or "; ".join(venue_said(leg.venue, leg.error) for leg in outcome.legs if leg.error) or None
    if error is None and long_qty != -short_qty:
        error = f"the legs do not offset ({ctx.long.name} {long_qty:+f}, {ctx.short.name} {short_qty:+f})"
    if error is not None:
        result.error = f"open failed, rolled back: {error}"
        return Decimal(0)
    saving = outcome.report.saving_total
    event(ctx, "entry", f"maker-first entry: {long_qty} opened, fees saved {saving:.4f} USDT", saved=saving)
    return long_qty


class _EntryLines:
    """The maker-first entry's lines, as carry events."""

    def __init__(self, ctx: Ctx) -> None:
        self._ctx = ctx

    def entry_event(self, text: str) -> None:
        self._ctx.reporter.event("entry", text, {})


async def take_over(ctx: Ctx, resume: Resume) -> bool:
    """Resume or adopt: the pair must be open on both venues, long on one and short on the other."""
    result = ctx.result
    ctx.reporter.phase("Reconciling the pair with both venues")
    await _reconcile_unknown(ctx, resume.runs)
    held = await asyncio.gather(*(v.fetch_positions(ctx.config.symbol) for v in ctx.venues))
    long_qty, short_qty = (sum((p.qty for p in positions), Decimal(0)) for positions in held)
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
    entry = _entry_price(held[0]) or _entry_price(held[1])
    result.opened_notional = result.target_qty * entry if entry else None
    result.opened_at = resume.since or ctx.clock.now()
    pair = f"{ctx.long.name} {long_qty:+f}, {ctx.short.name} {short_qty:+f} {ctx.config.symbol}"
    if resume.runs:
        event(ctx, "resume", f"resumed the pair: {pair}", qty=result.target_qty)
    else:
        # The adopted legs were opened by trades the carry never made: their sizes and the venues' entry prices are
        # journaled as the legs' opening (engine/carry/legs.py), so their close is matched with a price.
        entries = {
            v.name: {"qty": sum((p.qty for p in ps), Decimal(0)), "entry_price": _entry_price(ps)}
            for v, ps in zip(ctx.venues, held, strict=True)
        }
        event(ctx, "adopt", f"adopted the pair: {pair}", qty=result.target_qty, entries=entries)
    return True


def _entry_price(positions: Sequence[Position]) -> Decimal | None:
    """The average entry price of a venue's positions in the symbol (None when it does not give one)."""
    held = [p for p in positions if p.qty]
    qty = sum((p.qty for p in held), Decimal(0))
    if not held or not qty or any(p.entry_price is None or p.qty * qty < 0 for p in held):
        return None
    return sum((p.qty * (p.entry_price or 0) for p in held), Decimal(0)) / qty


async def _reconcile_unknown(ctx: Ctx, runs: Sequence[str]) -> None:
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
                warn(ctx, f"{row.venue}: order {row.client_order_id} of run {run} still unknown: {exc}")
