"""Realised volatility from candles: how much a venue's price moved over the last minutes.

The figure is the volatility *realised within the window*, not annualised: the square root of the sum of the
squared log returns between consecutive closes, in percent. Over 60 one-minute candles a market that moves
0.05 % a minute, in either direction, shows about 0.39 %. `annualised_pct` scales it to a year
(x sqrt(year / window)) for comparison with quoted volatilities; the entry check compares the window figure.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, localcontext

from hedgectl.domain.types import Candle

YEAR = timedelta(days=365)
_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class RealisedVolatility:
    pct: Decimal  # over the window, in percent (not annualised)
    returns: int  # how many close-to-close returns it is made of
    interval: timedelta  # the candles' interval
    first_at: datetime  # the first candle's open time
    last_at: datetime  # the last candle's open time (usually still forming)

    @property
    def window(self) -> timedelta:
        return self.interval * self.returns

    @property
    def annualised_pct(self) -> Decimal:
        """The window's figure scaled to a year (square-root-of-time rule)."""
        with localcontext() as ctx:
            ctx.prec = 28
            return self.pct * (Decimal(YEAR // _US) / Decimal(self.window // _US)).sqrt()


def realised_volatility(candles: Sequence[Candle]) -> RealisedVolatility | None:
    """The realised volatility of `candles`' closes (any order; sorted by open time); None with fewer than two.

    Raises ValueError for a close that is not positive (a parser lets none through) or candles of mixed
    intervals."""
    ordered = sorted(candles, key=lambda c: c.open_at)
    if len(ordered) < 2:
        return None
    intervals = {c.interval for c in ordered}
    if len(intervals) != 1:
        raise ValueError(f"candles of mixed intervals: {sorted(intervals)}")
    with localcontext() as ctx:
        ctx.prec = 28
        squares = Decimal(0)
        for before, after in itertools.pairwise(ordered):
            if before.close <= 0 or after.close <= 0:
                raise ValueError(f"a candle close must be positive, got {before.close} / {after.close}")
            r = (after.close / before.close).ln()
            squares += r * r
        pct = squares.sqrt() * 100
    return RealisedVolatility(
        pct=pct,
        returns=len(ordered) - 1,
        interval=ordered[0].interval,
        first_at=ordered[0].open_at,
        last_at=ordered[-1].open_at,
    )
