"""One reading of the pair: both venues' positions and quotes (the venues' own view, never the journal's), the
funding paid and received so far (new payments journaled on each reading), valued as a `CarryView`; and the
reading's marks journaled (`carry.mark`, what `hedgectl report` draws) when a figure changed."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import Any

from hedgectl.domain.types import Position, Quote
from hedgectl.engine.carry.context import Ctx, event
from hedgectl.engine.carry.view import CarryView, leg_view, spread_apr
from hedgectl.engine.funding import collect_funding


async def read_pair(ctx: Ctx, seen: set[tuple[str, datetime]]) -> tuple[CarryView, list[str]]:
    """Both venues' positions and quotes, the funding so far (journaled); and the venues of new settlements."""
    symbol = ctx.config.symbol
    long_pos, short_pos, long_q, short_q = await asyncio.gather(
        ctx.long.fetch_positions(symbol),
        ctx.short.fetch_positions(symbol),
        ctx.long.fetch_quote(symbol),
        ctx.short.fetch_quote(symbol),
    )
    funding, known, new = await read_funding(ctx, seen)
    fees = sum((f.fee for run in ctx.runs for f in ctx.dispatcher.journal.run_fills(run)), Decimal(0))
    view = _view(ctx, (long_pos, short_pos), (long_q, short_q), fees, funding if known else None)
    return view, new


def _view(
    ctx: Ctx,
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
        notional=ctx.result.opened_notional or ctx.config.notional_usdt,
        long=legs[0],
        short=legs[1],
        fees=fees,
        funding=funding,
        spread_apr_pct=spread_apr(*quotes),
    )


async def read_funding(ctx: Ctx, seen: set[tuple[str, datetime]]) -> tuple[Decimal, bool, list[str]]:
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
            event(ctx, "funding", f"{p.venue}: funding {p.amount:+f} {p.asset}", venue=p.venue, amount=p.amount)
    return sum((p.amount for p in payments), Decimal(0)), ctx.result.funding_known, new


def journal_mark(ctx: Ctx, view: CarryView, last: tuple[Any, ...] | None) -> tuple[Any, ...]:
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
