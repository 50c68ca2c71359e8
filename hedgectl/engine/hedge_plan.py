"""Planning a two-venue hedge: prices, the common quantity, and every pre-trade check, before any order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from hedgectl.aio import stop_tasks
from hedgectl.clock import SYSTEM_CLOCK, Clock
from hedgectl.domain.funding_rates import funding_rate_of
from hedgectl.domain.quantity import common_quantity
from hedgectl.domain.types import AccountConfig, Balance, BookLevel, Market, OrderBook, Quote, Side
from hedgectl.engine.volatility_check import FLAG, read_candles, volatility_figure
from hedgectl.errors import UsageError
from hedgectl.venues.base import AccountConfigured, Venue

# Leverage assumed when the venue does not report one (Backpack): margin = notional / 5.
ASSUMED_LEVERAGE = Decimal(5)
# Taker fee rate assumed when the market does not carry one (higher than every venue's base tier).
ASSUMED_TAKER_FEE_RATE = Decimal("0.001")


class Entry(StrEnum):
    """How bootstrap opens: both legs taken at once, or a post-only order resting on one venue first."""

    TAKER = "taker"
    MAKER_FIRST = "maker-first"


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
    max_funding_cost_bps: Decimal | None = None  # None: a hold that pays funding on net is only warned about
    max_volatility_pct: Decimal | None = None  # None: the volatility is shown, never refused on
    volatility_minutes: int = 60  # the window of the volatility check, in one-minute candles
    entry: Entry = Entry.TAKER
    maker_timeout_s: float = 30.0  # maker-first: after this, the rest is taken

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
class PlanCheck:
    """One pre-entry check: its figure against its threshold, shown in the plan whether it passes or not.

    `threshold` None: the check is shown and warned about, never refused on (--max-funding-cost-bps unset).
    `figure` None: it could not be computed (`detail` says why); it then passes, with a warning.
    """

    name: str  # "cross_spread", "slippage", "margin", "funding"
    venue: str | None  # the leg it is about; None for the pair
    figure: Decimal | None
    threshold: Decimal | None
    unit: str  # "bps" or an asset
    flag: str  # the option that sets the threshold, or what it is compared with
    passed: bool
    detail: str = ""
    warning: str | None = None  # said even when it passes (a hold that pays funding, a figure unknown)

    def describe(self) -> str:
        """`cross_spread: 1.34 bps, limit 5.00 bps (--max-slippage-bps): ok - detail`"""
        who = f"{self.name} {self.venue}" if self.venue else self.name
        places = 4 if self.unit == "%" else 2
        figure = "unknown" if self.figure is None else f"{self.figure:.{places}f} {self.unit}"
        limit = "no limit, warn only" if self.threshold is None else f"limit {self.threshold:.{places}f} {self.unit}"
        verdict = "ok" if self.passed else "REFUSED"
        tail = f" - {self.detail}" if self.detail else ""
        return f"{who}: {figure}, {limit} ({self.flag}): {verdict}{tail}"


@dataclass(frozen=True)
class HedgePlan:
    symbol: str
    qty: Decimal
    notional: Decimal
    reference_price: Decimal
    cross_spread_bps: Decimal  # |mid(long) - mid(short)| in bps of their mean
    long: LegPlan
    short: LegPlan
    checks: tuple[PlanCheck, ...] = ()
    # Per venue: realised volatility in % over config.volatility_minutes (None: unknown) and what it is made of.
    volatility: tuple[tuple[str, Decimal | None, str], ...] = ()

    @property
    def legs(self) -> tuple[LegPlan, LegPlan]:
        return (self.long, self.short)

    @property
    def warnings(self) -> list[str]:
        return [c.warning for c in self.checks if c.warning]


class PlanRefused(UsageError):
    """A pre-trade check failed: nothing was sent. `checks`: every check computed, the failed one included."""

    exit_code = 1

    def __init__(self, message: str, checks: tuple[PlanCheck, ...] = ()) -> None:
        super().__init__(message)
        self.checks = checks


async def plan_hedge(
    long_venue: Venue, short_venue: Venue, config: HedgeConfig, *, clock: Clock = SYSTEM_CLOCK
) -> tuple[HedgePlan, dict[str, list[Balance]]]:
    """Read markets, quotes, books and balances of both venues at once, and check everything."""
    config.check_caps()
    # The account configuration is read here, off the order path: the position mode every order needs is
    # then cached, and the margin check uses each account's real leverage.
    reads = await _all(
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
        read_candles(long_venue, config.symbol, config.volatility_minutes),
        read_candles(short_venue, config.symbol, config.volatility_minutes),
    )
    m_long, m_short, q_long, q_short, b_long, b_short, bal_long, bal_short, acct_long, acct_short = reads[:10]
    volatility = tuple(
        (venue.name, *volatility_figure(venue.name, candles, config.volatility_minutes))
        for venue, candles in zip((long_venue, short_venue), reads[10:], strict=True)
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
        volatility=volatility,
    )
    plan = replace(plan, checks=_check(plan, config, clock.now()))
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


def _check(plan: HedgePlan, config: HedgeConfig, now: datetime) -> tuple[PlanCheck, ...]:
    """Every pre-entry check, in order; the first that fails refuses the plan (with all of them attached)."""
    limit = config.max_slippage_bps
    checks: list[PlanCheck] = [
        PlanCheck(
            "cross_spread", None, plan.cross_spread_bps, limit, "bps", "--max-slippage-bps",
            plan.cross_spread_bps <= limit,
            f"{plan.long.venue} mid {plan.long.quote.mid}, {plan.short.venue} mid {plan.short.quote.mid}",
        )
    ]  # fmt: skip
    for leg in plan.legs:
        needed = leg.margin_needed(plan.notional)
        checks += [
            PlanCheck(
                "slippage", leg.venue, leg.slippage_bps, limit, "bps", "--max-slippage-bps", leg.slippage_bps <= limit,
                f"walking the book for {plan.qty}",
            ),
            PlanCheck(
                "margin", leg.venue, needed, leg.balance_free, leg.balance_asset, "free balance",
                leg.balance_free >= needed,
                f"{plan.notional:.2f} notional at {leg.leverage.normalize():f}x (fees included)",
            ),
        ]  # fmt: skip
    checks.append(funding_check(plan, config, now))
    checks += [volatility_check(venue, figure, detail, config) for venue, figure, detail in plan.volatility]
    done = tuple(checks)
    for check in done:
        if not check.passed:
            raise PlanRefused(_refusal(check, plan), done)
    return done


def _refusal(check: PlanCheck, plan: HedgePlan) -> str:
    if check.name == "cross_spread":
        return (
            f"cross-venue spread {check.figure:.2f} bps exceeds --max-slippage-bps {check.threshold} ({check.detail})"
        )
    if check.name == "slippage":
        return (
            f"{check.venue}: estimated slippage {check.figure:.2f} bps for {plan.qty} exceeds "
            f"--max-slippage-bps {check.threshold}"
        )
    if check.name == "margin":
        return (
            f"{check.venue}: free {check.unit} {check.threshold:.2f} is below the {check.figure:.2f} "
            f"margin needed for {check.detail}"
        )
    if check.name == "volatility":
        return (
            f"{check.venue}: realised volatility {check.figure:.4f}% exceeds --max-volatility-pct {check.threshold} "
            f"({check.detail})"
        )
    return (
        f"funding over the hold would cost {check.figure:.2f} bps of notional, above --max-funding-cost-bps "
        f"{check.threshold} ({check.detail})"
    )


def volatility_check(venue: str, figure: Decimal | None, detail: str, config: HedgeConfig) -> PlanCheck:
    """One venue's realised volatility over the window, against --max-volatility-pct (none: shown only)."""
    limit = config.max_volatility_pct
    if figure is None:
        return PlanCheck("volatility", venue, None, limit, "%", FLAG, True, detail, f"volatility unknown: {detail}")
    passed = limit is None or figure <= limit
    return PlanCheck("volatility", venue, figure, limit, "%", FLAG, passed, detail)


def funding_check(plan: HedgePlan, config: HedgeConfig, now: datetime) -> PlanCheck:
    """What the pair pays (+ bps) or receives (- bps) in funding at the settlements within the hold.

    Each leg at its own venue's next settlement and interval, at the rate the venue reports now: the long pays
    its venue's rate, the short receives its venue's rate, at every settlement in (now, now + hold].
    """
    limit = config.max_funding_cost_bps
    flag = "--max-funding-cost-bps"
    end = now + timedelta(seconds=config.max_position_duration_seconds)
    rates = [(leg, funding_rate_of(leg.quote)) for leg in plan.legs]
    unknown = [leg.venue for leg, rate in rates if rate is None]
    if unknown:
        detail = f"{', '.join(unknown)} did not report its funding rate and interval"
        return PlanCheck(
            "funding", None, None, limit, "bps", flag, True, detail, f"funding over the hold unknown: {detail}"
        )
    net, parts = Decimal(0), []
    for leg, rate in rates:
        assert rate is not None  # noqa: S101 - `unknown` is empty
        count = rate.settlements(now, end)
        if count == 0:
            parts.append(f"{leg.venue}: no settlement within the hold")
            continue
        # A positive rate: longs pay shorts. The long leg's money is -rate, the short's +rate, per settlement.
        amount = rate.rate * plan.notional * count * (-1 if leg.side is Side.BUY else 1)
        net += amount
        verb = "receives" if amount >= 0 else "pays"
        parts.append(
            f"{leg.venue} settles {count}x from {rate.next_at:%H:%M:%S} UTC at {(rate.rate * 100).normalize():f}% "
            f"every {rate.interval.total_seconds() / 3600:g}h: the {leg.side.value} leg {verb} {abs(amount):.4f}"
        )
    cost_bps = -net / plan.notional * 10_000 if plan.notional else Decimal(0)
    if all(part.endswith("no settlement within the hold") for part in parts):
        summary = "neither venue settles funding within the hold"
    else:
        summary = "; ".join(parts) + f"; net {'pays' if net < 0 else 'receives'} {abs(net):.4f}"
    passed = limit is None or cost_bps <= limit
    warning = None
    if net < 0 and limit is None:
        warning = (
            f"the hold crosses funding at which the pair pays {abs(net):.4f} on net ({cost_bps:.2f} bps of "
            f"notional): warn only; {flag} refuses above a limit"
        )
    return PlanCheck("funding", None, cost_bps, limit, "bps", flag, passed, summary, warning)
