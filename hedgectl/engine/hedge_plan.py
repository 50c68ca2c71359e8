"""Planning a two-venue hedge: prices, the common quantity, and every pre-trade check, before any order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from hedgectl.aio import stop_tasks
from hedgectl.domain.quantity import common_quantity
from hedgectl.domain.types import AccountConfig, Balance, BookLevel, Market, OrderBook, Quote, Side
from hedgectl.errors import UsageError
from hedgectl.venues.base import AccountConfigured, Venue

# Leverage assumed when the venue does not report one (Backpack): margin = notional / 5.
ASSUMED_LEVERAGE = Decimal(5)
# Taker fee rate assumed when the market does not carry one (higher than every venue's base tier).
ASSUMED_TAKER_FEE_RATE = Decimal("0.001")


@dataclass(frozen=True)
class HedgeConfig:
    """The seed's HedgeConfig: same names, same defaults."""

    symbol: str = "BTC"
    notional_usdt: Decimal = Decimal(300)
    max_slippage_bps: Decimal = Decimal(5)
    max_position_duration_seconds: float = 10.0
    max_order_latency_ms: float = 800.0
    max_acceptable_loss_pct: Decimal = Decimal("0.2")
    long_venue: str = "binance"
    short_venue: str = "okx"
    max_notional_usdt: Decimal = Decimal(1000)  # HEDGECTL_MAX_NOTIONAL_USDT

    def check_caps(self) -> None:
        """Refuse a notional above the configured cap (before anything is connected)."""
        if self.notional_usdt > self.max_notional_usdt:
            raise UsageError(
                f"notional {self.notional_usdt} exceeds the cap of {self.max_notional_usdt} USDT "
                "(HEDGECTL_MAX_NOTIONAL_USDT)"
            )


@dataclass(frozen=True)
class LegPlan:
    venue: str
    side: Side
    market: Market
    quote: Quote
    expected_price: Decimal  # VWAP of walking the book for the planned quantity
    slippage_bps: Decimal  # expected price vs. the best level
    balance_free: Decimal
    balance_asset: str
    account: AccountConfig | None = None  # position mode, margin mode, leverage (venues that have them)

    @property
    def leverage(self) -> Decimal:
        """The account's leverage for the symbol, or ASSUMED_LEVERAGE where the venue does not say."""
        if self.account is not None and self.account.leverage is not None and self.account.leverage > 0:
            return self.account.leverage
        return ASSUMED_LEVERAGE

    def margin_needed(self, notional: Decimal) -> Decimal:
        """Initial margin at the account's leverage plus the taker fees of the open and the close."""
        rate = self.market.taker_fee_rate if self.market.taker_fee_rate is not None else ASSUMED_TAKER_FEE_RATE
        return notional / self.leverage + 2 * notional * rate


@dataclass(frozen=True)
class HedgePlan:
    symbol: str
    qty: Decimal
    notional: Decimal
    reference_price: Decimal
    cross_spread_bps: Decimal  # |mid(long) - mid(short)| in bps of their mean
    long: LegPlan
    short: LegPlan

    @property
    def legs(self) -> tuple[LegPlan, LegPlan]:
        return (self.long, self.short)


class PlanRefused(UsageError):
    """A pre-trade check failed: nothing was sent."""

    exit_code = 1


async def plan_hedge(
    long_venue: Venue, short_venue: Venue, config: HedgeConfig
) -> tuple[HedgePlan, dict[str, list[Balance]]]:
    """Read markets, quotes, books and balances of both venues at once, and check everything."""
    config.check_caps()
    # The account configuration is read here, off the order path: the position mode every order needs is
    # then cached, and the margin check uses each account's real leverage.
    m_long, m_short, q_long, q_short, b_long, b_short, bal_long, bal_short, acct_long, acct_short = await _all(
        long_venue.market(config.symbol),
        short_venue.market(config.symbol),
        long_venue.fetch_quote(config.symbol),
        short_venue.fetch_quote(config.symbol),
        long_venue.fetch_book(config.symbol, 50),
        short_venue.fetch_book(config.symbol, 50),
        long_venue.fetch_balances(),
        short_venue.fetch_balances(),
        _account_config(long_venue, config.symbol),
        _account_config(short_venue, config.symbol),
    )
    # The quote and the book are two reads, and prices move between them: the plan shows, sizes and checks
    # against the book it walks, so the expected price always lies within the bid/ask it is shown with.
    q_long, q_short = _top_of_book(q_long, b_long), _top_of_book(q_short, b_short)
    # Size against the dearer side so that neither leg's notional exceeds the target.
    reference = max(q_long.ask, q_short.bid)
    sizing = common_quantity([m_long, m_short], config.notional_usdt, reference)
    qty = sizing.qty
    mid_long, mid_short = q_long.mid, q_short.mid
    cross_bps = abs(mid_long - mid_short) / ((mid_long + mid_short) / 2) * 10_000
    long_leg = _leg(long_venue.name, Side.BUY, m_long, q_long, b_long, qty, bal_long, acct_long)
    short_leg = _leg(short_venue.name, Side.SELL, m_short, q_short, b_short, qty, bal_short, acct_short)
    plan = HedgePlan(
        symbol=config.symbol,
        qty=qty,
        notional=qty * reference,
        reference_price=reference,
        cross_spread_bps=cross_bps,
        long=long_leg,
        short=short_leg,
    )
    _check(plan, config)
    return plan, {long_venue.name: bal_long, short_venue.name: bal_short}


async def _account_config(venue: Venue, symbol: str) -> AccountConfig | None:
    """Position mode, margin mode and leverage, where the venue has them (None for Backpack)."""
    if isinstance(venue, AccountConfigured):
        return await venue.fetch_account_config(symbol)
    return None


async def _all(*reads: Awaitable[Any]) -> list[Any]:
    """asyncio.gather, except that the first failure cancels the other reads: none is left running (and
    holding a connection) after the command has given up and closed its venues."""
    tasks = [asyncio.ensure_future(r) for r in reads]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        await stop_tasks(tasks, what="plan read")  # bounded: a read that will not stop is abandoned
        raise


def _top_of_book(quote: Quote, book: OrderBook) -> Quote:
    """`quote` (mark, funding) with its bid/ask taken from `book`; unchanged if a side of the book is empty."""
    if not book.bids or not book.asks:
        return quote
    return replace(quote, bid=book.bids[0].price, ask=book.asks[0].price)


def _leg(
    venue: str,
    side: Side,
    market: Market,
    quote: Quote,
    book: OrderBook,
    qty: Decimal,
    balances: list[Balance],
    account: AccountConfig | None = None,
) -> LegPlan:
    levels = book.asks if side is Side.BUY else book.bids
    vwap = walk_book(levels, qty)
    if vwap is None:
        raise PlanRefused(f"{venue}: the order book is too thin for {qty} {market.symbol}")
    best = levels[0].price
    slippage = abs(vwap - best) / best * 10_000
    balance = next((b for b in balances if b.asset == market.quote), None)
    return LegPlan(
        venue=venue,
        side=side,
        market=market,
        quote=quote,
        expected_price=vwap,
        slippage_bps=slippage,
        balance_free=balance.free if balance else Decimal(0),
        balance_asset=market.quote,
        account=account,
    )


def walk_book(levels: tuple[BookLevel, ...], qty: Decimal) -> Decimal | None:
    """The average price of taking `qty` from `levels` (best first); None if the book is too thin."""
    remaining = qty
    cost = Decimal(0)
    for level in levels:
        take = min(remaining, level.qty)
        cost += take * level.price
        remaining -= take
        if remaining <= 0:
            return cost / qty
    return None


def _check(plan: HedgePlan, config: HedgeConfig) -> None:
    limit = config.max_slippage_bps
    if plan.cross_spread_bps > limit:
        raise PlanRefused(
            f"cross-venue spread {plan.cross_spread_bps:.2f} bps exceeds --max-slippage-bps {limit} "
            f"({plan.long.venue} mid {plan.long.quote.mid}, {plan.short.venue} mid {plan.short.quote.mid})"
        )
    for leg in plan.legs:
        if leg.slippage_bps > limit:
            raise PlanRefused(
                f"{leg.venue}: estimated slippage {leg.slippage_bps:.2f} bps for {plan.qty} exceeds "
                f"--max-slippage-bps {limit}"
            )
        needed = leg.margin_needed(plan.notional)
        if leg.balance_free < needed:
            raise PlanRefused(
                f"{leg.venue}: free {leg.balance_asset} {leg.balance_free:.2f} is below the {needed:.2f} "
                f"margin needed for {plan.notional:.2f} notional at {leg.leverage.normalize():f}x (fees included)"
            )
