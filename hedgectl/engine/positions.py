"""The read-only positions view: every venue's open positions and orders, and net exposure per base asset."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from hedgectl.domain.types import Order, Position
from hedgectl.engine.funding import PositionFunding, position_funding
from hedgectl.errors import HedgectlError, SymbolNotListed, UsageError
from hedgectl.journal import Journal
from hedgectl.venues.base import Venue


@dataclass
class VenuePositions:
    """One venue's open positions and orders as it reports them; `error` when it could not be read."""

    venue: str
    positions: list[Position] = field(default_factory=list)
    open_orders: list[Order] = field(default_factory=list)
    pnl_asset: dict[str, str] = field(default_factory=dict)  # symbol -> the asset its PnL is in (USDT, USDC)
    error: str | None = None
    not_listed: bool = False  # the venue has no perpetual for the symbol asked about: nothing can be open there


@dataclass(frozen=True)
class NetExposure:
    """Signed base quantity summed over the venues that could be read (long > 0), and where it comes from."""

    symbol: str
    net_qty: Decimal
    by_venue: dict[str, Decimal]


@dataclass
class PositionsReport:
    venues: list[VenuePositions]
    funding: dict[tuple[str, str], PositionFunding] = field(default_factory=dict)  # (venue, symbol)

    @property
    def ok(self) -> bool:
        return all(v.error is None for v in self.venues)

    def net_exposure(self) -> list[NetExposure]:
        """Per base asset, the sum of the signed positions across venues (a hedged pair nets to zero)."""
        by_symbol: dict[str, dict[str, Decimal]] = {}
        for v in self.venues:
            for p in v.positions:
                per_venue = by_symbol.setdefault(p.symbol, {})
                per_venue[v.venue] = per_venue.get(v.venue, Decimal(0)) + p.qty
        return [
            NetExposure(symbol=s, net_qty=sum(q.values(), Decimal(0)), by_venue=q) for s, q in sorted(by_symbol.items())
        ]


async def read_venue_positions(venue: Venue, symbol: str | None = None) -> VenuePositions:
    """Read one venue's non-zero positions and open orders (both, or the error that stopped the read)."""
    out = VenuePositions(venue=venue.name)
    try:
        positions, orders = await asyncio.gather(venue.fetch_positions(symbol), venue.fetch_open_orders(symbol))
        for p in positions:
            out.pnl_asset[p.symbol] = (await venue.market(p.symbol)).quote
    except SymbolNotListed:
        out.not_listed = True
        return out
    except HedgectlError as exc:
        out.error = str(exc)
        return out
    out.positions = sorted(positions, key=lambda p: p.symbol)
    out.open_orders = sorted(orders, key=lambda o: (o.symbol, o.order_id))
    return out


async def read_positions(
    venues: Sequence[Venue], symbol: str | None = None, journal: Journal | None = None
) -> PositionsReport:
    """Read every venue at once; a venue that fails is reported as such, the others still are. A symbol that no
    venue lists is a usage error (a typo, not an empty account). With a journal, each open position's funding
    since the run that opened it (engine/funding.py) is read too, and journaled to that run."""
    report = PositionsReport(list(await asyncio.gather(*(read_venue_positions(v, symbol) for v in venues))))
    if symbol is not None and report.venues and all(v.not_listed for v in report.venues):
        raise UsageError(f"no venue lists a perpetual for {symbol}: {', '.join(v.venue for v in report.venues)}")
    if journal is not None:
        by_name = {v.name: v for v in venues}
        found = await asyncio.gather(
            *(position_funding(by_name[v.venue], journal, p.symbol, p.qty) for v in report.venues for p in v.positions)
        )
        report.funding = {(f.venue, f.symbol): f for f in found}
    return report
