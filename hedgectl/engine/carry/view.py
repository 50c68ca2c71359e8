"""One reading of a carried pair: both legs as the venues report them, and the figures the exits judge.

Positions are the venues' own (`fetch_positions`), never what the journal expects: a partial fill, an ADL or
a manual trade shows up here as a delta. Money is Decimal throughout; a figure a venue did not give is None,
never a zero (an unknown liquidation price is not a safe one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hedgectl.domain.funding_rates import PairCarry, funding_rate_of
from hedgectl.domain.pnl import unrealized_pnl
from hedgectl.domain.types import Position, Quote

ZERO = Decimal(0)


@dataclass(frozen=True)
class LegView:
    venue: str
    qty: Decimal  # signed base units as the venue reports them (sum of its positions in the symbol)
    entry_price: Decimal | None
    mark: Decimal
    upnl: Decimal | None
    liquidation_price: Decimal | None
    funding_apr_pct: Decimal | None  # this venue's own rate, annualised (> 0: longs pay)
    next_funding_at: datetime | None

    @property
    def liq_distance_pct(self) -> Decimal | None:
        """How far the mark is from the liquidation price, in % of the mark (None: the venue does not say)."""
        if self.liquidation_price is None or self.liquidation_price <= 0 or not self.mark:
            return None
        return abs(self.mark - self.liquidation_price) / self.mark * 100


@dataclass(frozen=True)
class CarryView:
    symbol: str
    target_qty: Decimal  # the pair's size per leg (base units)
    notional: Decimal  # the pair's notional per leg as opened (USDT): the % figures are of it
    long: LegView
    short: LegView
    fees: Decimal  # paid so far by this carry's orders (USDT)
    funding: Decimal | None  # received (+) or paid (-) so far; None: a venue's payments could not be read
    spread_apr_pct: Decimal | None  # what the pair earns from funding now, annualised; None: a rate unknown

    @property
    def legs(self) -> tuple[LegView, LegView]:
        return (self.long, self.short)

    @property
    def delta(self) -> Decimal:
        """Net position in base units (0 when the legs offset each other exactly)."""
        return self.long.qty + self.short.qty

    @property
    def delta_pct(self) -> Decimal:
        """The net delta's value in % of the notional."""
        mark = (self.long.mark + self.short.mark) / 2
        return abs(self.delta) * mark / self.notional * 100 if self.notional else ZERO

    @property
    def basis_bps(self) -> Decimal:
        """The long venue's mark less the short venue's, in bps of their mean."""
        mean = (self.long.mark + self.short.mark) / 2
        return (self.long.mark - self.short.mark) / mean * 10_000 if mean else ZERO

    @property
    def upnl(self) -> Decimal | None:
        if self.long.upnl is None or self.short.upnl is None:
            return None
        return self.long.upnl + self.short.upnl

    @property
    def net(self) -> Decimal | None:
        """What the carry made so far: unrealised PnL plus funding, less fees (None while a part is unknown)."""
        if self.upnl is None or self.funding is None:
            return None
        return self.upnl + self.funding - self.fees

    @property
    def min_liq_distance_pct(self) -> Decimal | None:
        known = [d for d in (leg.liq_distance_pct for leg in self.legs) if d is not None]
        return min(known) if known else None

    @property
    def flat(self) -> bool:
        return self.long.qty == 0 and self.short.qty == 0

    def summary(self) -> dict[str, object]:
        """The figures as one JSON event (what changed is judged on these)."""
        return {
            "symbol": self.symbol,
            "legs": {
                leg.venue: {
                    "qty": leg.qty,
                    "entry_price": leg.entry_price,
                    "mark": leg.mark,
                    "upnl": leg.upnl,
                    "liquidation_price": leg.liquidation_price,
                    "liq_distance_pct": _q(leg.liq_distance_pct),
                    "funding_apr_pct": _q(leg.funding_apr_pct),
                    "next_funding_at": leg.next_funding_at,
                }
                for leg in self.legs
            },
            "delta": self.delta,
            "delta_pct": _q(self.delta_pct),
            "basis_bps": _q(self.basis_bps),
            "spread_apr_pct": _q(self.spread_apr_pct),
            "upnl": self.upnl,
            "fees": self.fees,
            "funding": self.funding,
            "net": self.net,
        }


def _q(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


def leg_view(venue: str, positions: list[Position], quote: Quote) -> LegView:
    """One venue's leg: its positions in the symbol summed (hedge-mode sides net), valued at its mark."""
    mark = quote.mark if quote.mark is not None else quote.mid
    qty = sum((p.qty for p in positions), ZERO)
    entry = positions[0].entry_price if len(positions) == 1 else None
    if len(positions) == 1 and positions[0].unrealized_pnl is not None:
        upnl: Decimal | None = positions[0].unrealized_pnl
    elif entry is not None:
        upnl = unrealized_pnl(qty, entry, mark)
    else:
        upnl = ZERO if qty == 0 else None
    liq = next((p.liquidation_price for p in positions if p.liquidation_price), None)
    rate = funding_rate_of(quote)
    return LegView(
        venue=venue,
        qty=qty,
        entry_price=entry,
        mark=mark,
        upnl=upnl,
        liquidation_price=liq,
        funding_apr_pct=rate.apr_pct if rate is not None else None,
        next_funding_at=quote.next_funding_at,
    )


def spread_apr(long_quote: Quote, short_quote: Quote) -> Decimal | None:
    """The pair's funding spread, annualised (the short's rate received less the long's paid)."""
    long_rate, short_rate = funding_rate_of(long_quote), funding_rate_of(short_quote)
    if long_rate is None or short_rate is None:
        return None
    return PairCarry(long=long_rate, short=short_rate).apr_pct
