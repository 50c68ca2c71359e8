"""One long/short pair, priced: funding carry, basis, the cost to enter and exit at a notional, the result.

All figures come from what the venues said at `as_of`: each venue's funding rate with its own interval and
next settlement, both order books, and each venue's taker fee. Nothing is extrapolated except the funding rates
themselves, which are assumed to stay where they are for the hold (said in the README).

- qty = notional / the two venues' mean mid (one quantity on both legs: a hedge).
- Entry and exit are taker orders that walk the books as they are now: buy the long venue's asks and sell its
  bids, sell the short venue's bids and buy its asks. The cost is measured against each venue's own mid
  (spread and depth crossed twice) plus four taker fees; the cross-venue price difference is the basis, shown
  apart, not counted (nothing says it converges within the hold).
- Funding carry: what the pair receives (+) or pays (-) at the settlements of both venues within the hold, each
  at its own times (hedgectl.domain.funding_rates.PairCarry.settled).
- Expected result = carry - entry/exit cost; its APR is that over notional, per year of the hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from hedgectl.domain.funding_rates import HOURS_PER_YEAR, FundingRate, PairCarry, funding_rate_of, interval_hours
from hedgectl.domain.types import BookLevel, OrderBook, Quote

_BPS = Decimal(10_000)
PAR_NOTE = "USDC counted at par with USDT"


@dataclass(frozen=True, slots=True)
class Listing:
    """One venue's perpetual for one base and settlement asset, as read for the scan."""

    venue: str
    base: str
    settle: str  # USDT or USDC: the asset the contract is margined and settled in
    quote: Quote  # mark and funding (rate, interval, next settlement)
    book: OrderBook
    taker_fee_rate: Decimal | None
    fee_source: str  # "account" (the account's own tier) or "default" (the venue's published base tier)

    @property
    def mid(self) -> Decimal:
        return (self.book.bids[0].price + self.book.asks[0].price) / 2


@dataclass(frozen=True, slots=True)
class Opportunity:
    base: str
    long: Listing
    short: Listing
    qty: Decimal
    notional: Decimal
    long_funding: FundingRate
    short_funding: FundingRate
    funding_per_hour: Decimal  # fraction of notional the pair receives per hour (short's rate - long's)
    funding_apr_pct: Decimal
    basis_bps: Decimal  # (short's mid - long's mid) / mean mid: > 0 sells higher than it buys
    entry_exit_cost: Decimal  # money: both books walked twice, plus four taker fees
    entry_exit_cost_bps: Decimal
    fees: Decimal  # the part of the cost that is taker fees
    funding_carry: Decimal  # money received (+) or paid (-) at the settlements within the hold
    expected_pnl: Decimal
    net_apr_pct: Decimal

    @property
    def asset(self) -> str:
        """The asset the money figures are in (USDT when the legs settle in different assets)."""
        return self.long.settle if self.long.settle == self.short.settle else "USDT"

    @property
    def mixed_settlement(self) -> bool:
        return self.long.settle != self.short.settle


def walk_cost(levels: tuple[BookLevel, ...], qty: Decimal) -> Decimal | None:
    """What taking `qty` from `levels` (best first) costs or brings in; None if the book is too thin."""
    remaining, value = qty, Decimal(0)
    for level in levels:
        take = min(remaining, level.qty)
        value += take * level.price
        remaining -= take
        if remaining <= 0:
            return value
    return None


def evaluate(long: Listing, short: Listing, notional: Decimal, hold: timedelta, as_of: datetime) -> Opportunity | str:
    """Price the pair (long on `long`, short on `short`), or say why it cannot be priced."""
    for leg in (long, short):
        if not leg.book.bids or not leg.book.asks:
            return f"{leg.venue}: empty order book"
    long_fee, short_fee = long.taker_fee_rate, short.taker_fee_rate
    if long_fee is None or short_fee is None:
        return f"{long.venue if long_fee is None else short.venue}: taker fee not known"
    long_rate, short_rate = funding_rate_of(long.quote), funding_rate_of(short.quote)
    if long_rate is None or short_rate is None:
        leg = long if long_rate is None else short
        what = "funding rate" if leg.quote.funding_rate is None else "funding interval"
        return f"{leg.venue}: {what} not reported"
    mean_mid = (long.mid + short.mid) / 2
    qty = notional / mean_mid
    long_buy, long_sell = walk_cost(long.book.asks, qty), walk_cost(long.book.bids, qty)
    if long_buy is None or long_sell is None:
        return f"{long.venue}: order book too thin for {notional} notional"
    short_sell, short_buy = walk_cost(short.book.bids, qty), walk_cost(short.book.asks, qty)
    if short_sell is None or short_buy is None:
        return f"{short.venue}: order book too thin for {notional} notional"
    crossing = (long_buy - long_sell) + (short_buy - short_sell)
    fees = long_fee * (long_buy + long_sell) + short_fee * (short_sell + short_buy)
    cost = crossing + fees
    pair = PairCarry(long=long_rate, short=short_rate)
    carry = pair.settled(notional, as_of, as_of + hold)
    expected = carry - cost
    hold_hours = interval_hours(hold) if hold > timedelta(0) else None
    return Opportunity(
        base=long.base,
        long=long,
        short=short,
        qty=qty,
        notional=notional,
        long_funding=long_rate,
        short_funding=short_rate,
        funding_per_hour=pair.per_hour,
        funding_apr_pct=pair.apr_pct,
        basis_bps=(short.mid - long.mid) / mean_mid * _BPS,
        entry_exit_cost=cost,
        entry_exit_cost_bps=cost / notional * _BPS,
        fees=fees,
        funding_carry=carry,
        expected_pnl=expected,
        net_apr_pct=Decimal(0) if hold_hours is None else expected / notional / hold_hours * HOURS_PER_YEAR * 100,
    )


def rank(opportunities: list[Opportunity]) -> list[Opportunity]:
    """Best expected result first (the same notional and hold for all: the same order as net APR)."""
    return sorted(
        opportunities, key=lambda o: (-o.expected_pnl, -o.funding_apr_pct, o.base, o.long.venue, o.short.venue)
    )
