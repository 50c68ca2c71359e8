"""What a venue publishes about its market, whichever source carries it: trades, book snapshots, funding quotes.

Plain values with no imports of the simulator's own: the price process (`sim/market.py`), the sources
(`sim/market_source/`), the recorder and the engine's tape all share them, and none has to import another for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Trade:
    """One public trade: `taker` is the aggressor's side ("buy" lifted an ask, "sell" hit a bid); base units."""

    venue: str
    base: str
    trade_id: str
    price: Decimal
    qty: Decimal
    taker: str
    time_ms: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One instrument's book as the venue published it: levels best first, base units."""

    venue: str
    base: str
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]
    time_ms: int


@dataclass(frozen=True, slots=True)
class FundingQuote:
    """The venue's mark, index and current funding rate for one instrument."""

    venue: str
    base: str
    rate: Decimal
    mark: Decimal | None
    index: Decimal | None
    time_ms: int
