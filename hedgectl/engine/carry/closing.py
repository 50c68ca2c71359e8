"""How a carry ends: both legs closed through the one flatten engine (or kept open on request), then accounted.

The close is scoped to the symbol on both venues and ends flat, or names what stays open (exit 3). The PnL per
venue comes from the journaled fills and funding of the carry's run chain; this carry's own result then counts
toward today's loss, and a daily-loss trip is journaled (through the Dispatcher) and alerted at once.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from hedgectl.domain.lots import realise
from hedgectl.domain.pnl import LegPnl
from hedgectl.engine.carry.breaker import DAILY_LOSS, check_daily_loss
from hedgectl.engine.carry.context import Ctx, event, venue_qty
from hedgectl.engine.carry.legs import leg_books
from hedgectl.engine.carry.reading import read_funding
from hedgectl.engine.flatten import flatten
from hedgectl.errors import HedgectlError, venue_said


async def finish(ctx: Ctx, *, keep: bool) -> None:
    """Close both legs through flatten (or keep them, on request), then account from the journal."""
    result = ctx.result
    if keep:
        result.kept = True
        result.exit_reason = f"interrupted ({_stop_name(ctx)}): pair kept open (--on-exit keep)"
        ctx.reporter.phase("Keeping the pair open")  # the live view ends here, above the final lines
        qtys = await asyncio.gather(*(venue_qty(v, ctx.config.symbol) for v in ctx.venues), return_exceptions=True)
        result.open_per_venue = {v.name: q for v, q in zip(ctx.venues, qtys, strict=True) if isinstance(q, Decimal)}
        event(ctx, "kept", f"pair left open on request (--on-exit keep): `hedgectl carry --resume {ctx.runs[0]}`")
        return
    why = result.exit_reason or result.error or ("interrupted" if result.interrupted else "closing")
    if result.interrupted and result.exit_reason is None and result.error is None:
        result.exit_reason = f"interrupted ({_stop_name(ctx)})"
    ctx.reporter.phase(f"Closing both legs: {why}")
    ctx.interrupts.flattening = True
    result.final = await flatten(ctx.venues, ctx.dispatcher, symbol=ctx.config.symbol, intent="carry_close")
    for v in result.final.venues:
        result.warnings.extend(venue_said(v.venue, e) for e in v.errors)
    await _account(ctx)
    if result.final.flat:
        net = f"net {result.net:+.4f} USDT" if result.net is not None else "net unknown"
        event(ctx, "close", f"closed {ctx.config.symbol}, both venues flat ({why}); {net}", net=result.net, reason=why)
    else:
        event(
            ctx,
            "exposure",
            f"EXPOSURE REMAINS: {result.final.describe_exposure()}",
            exposure=result.final.exposure(),
            reason=why,
        )
    # This carry's own result counts toward today's loss (the journal records it only when the run ends): a trip
    # is recorded and alerted now; the pair is already closed, so the exit code stays the close's.
    tripped = check_daily_loss(
        ctx.dispatcher.journal,
        ctx.limits,
        ctx.clock.now(),
        ctx.dispatcher.trip_breaker,
        pending=result.net or Decimal(0),
    )
    if tripped is not None:
        event(ctx, "trip", f"circuit breaker tripped: {DAILY_LOSS}: {tripped}", breaker=DAILY_LOSS)


def _stop_name(ctx: Ctx) -> str:
    """What stopped the carry, as the user would name it ("SIGINT received")."""
    name = ctx.interrupts.signal_name
    return f"{name} received" if name else "stop requested"


async def _account(ctx: Ctx) -> None:
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
        await read_funding(ctx, set())
    except HedgectlError as exc:
        result.warnings.append(f"funding unreadable at the close: {exc}")
    books = leg_books(journal, ctx.runs, [v.name for v in ctx.venues], ctx.config.symbol)
    funding = [p for run in ctx.runs for p in journal.run_funding(run) if p.symbol == ctx.config.symbol]
    flat = result.final is not None and result.final.flat
    for venue in ctx.venues:
        book = books[venue.name]
        if not book.fills and not book.adopted:
            continue
        # Realised: each close matched with the open it closes; a part opened or closed by a trade the carry did
        # not make (and did not see: it closed while the watch was not reading) is unknown, never a profit.
        realised = realise(book.trades())
        uncounted = realised.uncounted_qty + (abs(realised.open_qty) if flat else Decimal(0))
        paid = sum((p.amount for p in funding if p.venue == venue.name), Decimal(0))
        fees = sum((f.fee for f in book.fills), Decimal(0))
        result.pnl[venue.name] = LegPnl(realised.gross, fees, paid, uncounted_qty=uncounted)
        if uncounted:
            result.warnings.append(
                f"{venue.name}: {uncounted} {ctx.config.symbol} of the leg was opened or closed outside the carry "
                "(not by its orders, or at a price it does not know): the PnL of that part is unknown and not counted"
            )
