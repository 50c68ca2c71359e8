"""The volatility check before entry: each venue's realised volatility over the last minutes, from its candles.

Read with the rest of the plan (one candle request per venue, concurrently); a venue whose candles cannot be
read makes its figure unknown and says why - the check then passes with a warning, as every check with an
unknown figure does (hedge_plan.PlanCheck). The figure is the window's own volatility, not annualised (see
hedgectl.domain.volatility).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hedgectl.domain.types import Candle
from hedgectl.domain.volatility import realised_volatility
from hedgectl.errors import HedgectlError
from hedgectl.venues.base import Venue

CANDLE_INTERVAL = timedelta(minutes=1)
FLAG = "--max-volatility-pct"


async def read_candles(venue: Venue, symbol: str, minutes: int) -> list[Candle] | HedgectlError:
    """The last `minutes` one-minute returns' candles (minutes + 1 of them), or the error that stopped the read."""
    try:
        return await venue.fetch_candles(symbol, CANDLE_INTERVAL, minutes + 1)
    except HedgectlError as exc:
        return exc


def volatility_figure(venue: str, candles: list[Candle] | HedgectlError, minutes: int) -> tuple[Decimal | None, str]:
    """The venue's realised volatility in % over the window (None when unknown) and the detail to show."""
    if isinstance(candles, HedgectlError):
        return None, f"{venue}: candles unreadable ({candles})"
    try:
        vol = realised_volatility(candles[-(minutes + 1) :])
    except ValueError as exc:
        return None, f"{venue}: candles unusable ({exc})"
    if vol is None:
        return None, f"{venue}: fewer than two candles"
    detail = (
        f"{vol.returns} one-minute returns from {vol.first_at:%H:%M} UTC; "
        f"{vol.annualised_pct.quantize(Decimal('0.1'))}% annualised"
    )
    if vol.returns < minutes:
        detail += f" (the venue served {vol.returns} of the {minutes} minutes asked)"
    return vol.pct, detail
