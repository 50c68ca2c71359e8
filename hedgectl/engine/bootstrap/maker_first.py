"""Bootstrap's maker-first entry: rest a post-only order on one venue, hedge each fill at once on the other,
take the rest after a timeout.

    maker = the venue with the higher taker fee (the saving is largest there; a tie: the long venue)
    one leg of the maker/taker loop (maker_taker.leg.Leg, its Hedger, the run's order tracker): a post-only order at
        the touch (best bid to buy, best ask to sell), re-quoted every REQUOTE_S, every fill hedged at once
        with a market order on the other venue; until the plan's quantity is filled, --maker-timeout passes
        or a stop is requested. Then nothing rests, and every maker fill is hedged (or, for a residual the
        other venue cannot take, closed on the maker) - the leg's own wind-down guarantees it.
    the rest (plan qty - what is now hedged) is taken as in the taker entry: both market orders at once.

Nothing here is a second copy of the loop: the leg, the hedger, placement and reconciliation are the loop's.
The fee saving is measured on the entry's own fills: every fill of a post-only order, had it been taken
instead, would have paid the venue's taker rate at the same price and quantity.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.fees import PUBLISHED_TAKER_FEE_RATE
from hedgectl.domain.pnl import sum_in_report_asset
from hedgectl.domain.quantity import accepts
from hedgectl.domain.types import Fill, Order, OrderType, Side
from hedgectl.engine.bootstrap.leg_fills import LegOutcome
from hedgectl.engine.bootstrap.plan import ASSUMED_TAKER_FEE_RATE, HedgePlan, LegPlan
from hedgectl.engine.interrupts import Interrupts
from hedgectl.engine.maker_taker.config import LoopConfig
from hedgectl.engine.maker_taker.context import LoopContext
from hedgectl.engine.maker_taker.events import LoopEvent
from hedgectl.engine.maker_taker.leg import Leg
from hedgectl.engine.maker_taker.stats import LoopStats, StatsSnapshot
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.engine.orders.tracker import OrderTracker
from hedgectl.errors import HedgectlError
from hedgectl.venues.base import AccountFees, Venue

REQUOTE_S = 5.0  # a resting entry order left behind by the market is re-posted at the touch this often


class EntryReporter(Protocol):
    def entry_event(self, text: str) -> None: ...


@dataclass
class EntryReport:
    """What the maker-first entry did, and what it saved against taking everything at the same prices."""

    maker: str
    taker: str
    maker_side: Side
    timeout_s: float
    taker_rates: dict[str, Decimal]  # the rate an all-taker entry would have paid, per venue
    rate_sources: dict[str, str]  # "market", "account" or "default" (the venue's published base tier)
    assets: dict[str, str]  # each venue's fee asset (its settlement asset)
    maker_orders: int = 0
    maker_filled: Decimal = Decimal(0)
    hedged: Decimal = Decimal(0)
    closed_on_maker: Decimal = Decimal(0)
    taken: Decimal = Decimal(0)  # the rest taken after the timeout, on each leg
    timed_out: bool = False
    fees: dict[str, Decimal] = field(default_factory=dict)  # what the entry's fills paid, per venue
    all_taker_fees: dict[str, Decimal] = field(default_factory=dict)  # the same fills, every one as taker

    @property
    def saving(self) -> dict[str, Decimal]:
        return {v: self.all_taker_fees[v] - self.fees.get(v, Decimal(0)) for v in self.all_taker_fees}

    @property
    def saving_total(self) -> Decimal:
        """The saving over both venues, in USDT (USDC at par)."""
        return sum_in_report_asset((s, self.assets[v]) for v, s in self.saving.items())

    def account(self, legs: Sequence[LegOutcome]) -> None:
        """Fees paid and the all-taker equivalent, from the entry's fills (post-only orders' fills are maker)."""
        for venue in (self.maker, self.taker):
            self.fees.setdefault(venue, Decimal(0))
            self.all_taker_fees.setdefault(venue, Decimal(0))
        for leg in legs:
            maker_order = leg.order is not None and leg.order.type is OrderType.LIMIT
            for fill in leg.fills:
                self.fees[leg.venue] += fill.fee
                as_taker = fill.qty * fill.price * self.taker_rates[leg.venue] if maker_order else fill.fee
                self.all_taker_fees[leg.venue] += as_taker


@dataclass
class MakerFirstOutcome:
    legs: list[LegOutcome]
    report: EntryReport
    error: str | None = None


TakeRest = Callable[[Decimal], Awaitable[list[LegOutcome]]]


async def taker_rates(plan: HedgePlan, venues: dict[str, Venue]) -> tuple[dict[str, Decimal], dict[str, str]]:
    """Each leg's taker fee rate: the market's, else the account's own tier, else the venue's published one."""
    rates: dict[str, Decimal] = {}
    sources: dict[str, str] = {}
    for leg in plan.legs:
        rate, source = leg.market.taker_fee_rate, "market"
        venue = venues[leg.venue]
        if rate is None and isinstance(venue, AccountFees):
            try:
                rate, source = await venue.fetch_taker_fee_rate(plan.symbol), "account"
            except HedgectlError:
                rate = None
        if rate is None:
            rate, source = PUBLISHED_TAKER_FEE_RATE.get(leg.venue, ASSUMED_TAKER_FEE_RATE), "default"
        rates[leg.venue], sources[leg.venue] = rate, source
    return rates, sources


def choose_maker(plan: HedgePlan, rates: dict[str, Decimal]) -> tuple[LegPlan, LegPlan]:
    """(maker leg, taker leg): the maker is the venue with the higher taker fee; a tie rests on the long venue."""
    if rates[plan.short.venue] > rates[plan.long.venue]:
        return plan.short, plan.long
    return plan.long, plan.short


async def enter_maker_first(
    plan: HedgePlan,
    venues: dict[str, Venue],
    dispatcher: Dispatcher,
    reporter: EntryReporter,
    interrupts: Interrupts,
    *,
    timeout_s: float,
    tracker: OrderTracker | None,
    take_rest: TakeRest,
) -> MakerFirstOutcome:
    """Open `plan` maker-first (see the module docstring); every fill it made is in the outcome's legs, also
    when it failed (`error`): the caller rolls back what is open. `tracker`: the run's (None: polling only)."""
    if tracker is None:
        tracker = OrderTracker(dispatcher, stop=interrupts.stop, streams=False, on_error=reporter.entry_event)
    rates, sources = await taker_rates(plan, venues)
    maker_leg, taker_leg = choose_maker(plan, rates)
    maker, taker = venues[maker_leg.venue], venues[taker_leg.venue]
    report = EntryReport(
        maker=maker.name,
        taker=taker.name,
        maker_side=maker_leg.side,
        timeout_s=timeout_s,
        taker_rates=rates,
        rate_sources=sources,
        assets={leg.venue: leg.market.quote for leg in plan.legs},
    )
    deadline = SYSTEM_CLOCK.monotonic() + timeout_s
    ctx = _EntryContext(
        deadline=deadline,
        maker=maker,
        taker=taker,
        maker_market=maker_leg.market,
        taker_market=taker_leg.market,
        dispatcher=dispatcher,
        config=LoopConfig(
            symbol=plan.symbol,
            qty=plan.qty,
            offset_pct=Decimal(0),  # at the touch: the best bid to buy, the best ask to sell
            requote_after_s=min(REQUOTE_S, timeout_s),
            maker_venue=maker.name,
            taker_venue=taker.name,
            poll_interval_s=tracker.poll_s,
        ),
        reporter=_LoopLines(reporter, maker.name),
        interrupts=interrupts,
        clock=SYSTEM_CLOCK,
        tracker=tracker,
        stats=LoopStats(
            maker_venue=maker.name,
            taker_venue=taker.name,
            maker_asset=maker_leg.market.quote,
            taker_asset=taker_leg.market.quote,
        ),
        ref_price=plan.reference_price,
    )
    outcome = MakerFirstOutcome(legs=[], report=report)
    leg = Leg(ctx, maker_leg.side, until=deadline)
    try:
        await leg.run()
    except HedgectlError as exc:
        outcome.error = f"maker-first entry: {exc}"
    finally:
        try:
            await ctx.settle_accounts()  # the fills of every order the leg left owed
        except HedgectlError as exc:
            outcome.error = outcome.error or f"maker-first entry: reading fills: {exc}"
        outcome.legs = ctx.outcomes()
    book = leg.book
    report.maker_orders = ctx.stats.maker_orders
    report.maker_filled, report.hedged, report.closed_on_maker = book.maker_filled, book.hedged, book.closed_on_maker
    if outcome.error is None and book.unhedged != 0:
        outcome.error = f"maker-first entry: {book.unhedged} {plan.symbol} filled on {maker.name} is not hedged"
    rest = plan.qty - book.hedged
    if outcome.error is None and not interrupts.requested and rest > 0:
        report.timed_out = True
        price = plan.reference_price
        if all(accepts(leg.market, rest, price, market_order=True) for leg in plan.legs):
            reporter.entry_event(
                f"maker timeout after {timeout_s:g} s: {book.hedged} of {plan.qty} {plan.symbol} open; "
                f"taking the remaining {rest} on both venues"
            )
            taken = await take_rest(rest)
            outcome.legs += taken
            report.taken = min((t.filled_qty for t in taken), default=Decimal(0)) if len(taken) == 2 else Decimal(0)
        else:
            reporter.entry_event(
                f"maker timeout after {timeout_s:g} s: the remaining {rest} {plan.symbol} is below a venue's "
                f"minimum: entering with {book.hedged}"
            )
    report.account(outcome.legs)
    return outcome


class _EntryContext(LoopContext):
    """The loop's context, remembering every order that filled and its fills (the entry's legs).

    Past the deadline it reads as stopping, as after Ctrl+C: the loop retries a failing read until a stop, and
    the entry's waits must end with its timeout (the leg's wind-down then retries a bounded number of times)."""

    def __init__(self, *, deadline: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deadline = deadline
        self._orders: dict[tuple[str, str], tuple[Venue, Order]] = {}
        self._fills_of: dict[tuple[str, str], list[Fill]] = {}

    @property
    def stopping(self) -> bool:
        return self.interrupts.requested or SYSTEM_CLOCK.monotonic() >= self.deadline

    def owe_account(self, venue: Venue, order: Order) -> None:
        if order.filled_qty > 0:
            self._orders[(venue.name, order.order_id)] = (venue, order)
        super().owe_account(venue, order)

    async def _fills(self, venue: Venue, order: Order) -> list[Fill]:
        fills = await super()._fills(venue, order)
        self._fills_of[(venue.name, order.order_id)] = fills
        return fills

    def outcomes(self) -> list[LegOutcome]:
        return [
            LegOutcome(
                venue=venue.name,
                side=order.side,
                order=order,
                fills=self._fills_of.get(key, []),
                fills_source="rest",
            )
            for key, (venue, order) in self._orders.items()
        ]


class _LoopLines:
    """The loop's events as one line each on the bootstrap's screen (the loop's table is not shown)."""

    def __init__(self, reporter: EntryReporter, maker: str) -> None:
        self._reporter = reporter
        self._maker = maker

    def event(self, event: LoopEvent) -> None:
        d = event.data
        text: str | None = None
        if event.kind == "order":
            text = f"{d.get('venue')} post-only {d.get('side')} {d.get('qty')} @ {d.get('price')}: {d.get('action')}"
            if d.get("action") in ("filled", "cancelled"):
                text += f" (filled {d.get('filled')})"
            if d.get("error") or d.get("reason"):
                text += f" - {d.get('error') or d.get('reason')}"
        elif event.kind == "fill":
            text = f"{d['venue']} maker fill {d['delta']} @ {d['price']} ({d['leg_filled']} filled so far)"
        elif event.kind == "hedge":
            text = f"{d['venue']} hedge {d['side']} {d['filled']} @ {d['avg_price']} ({d['unhedged']} unhedged)"
        elif event.kind in ("residual_close", "hedge_rejected", "warning"):
            text = f"{event.kind.replace('_', ' ')}: " + (d.get("message") or d.get("reason") or d.get("error") or "")
        if text is not None:
            self._reporter.entry_event(text)

    def stats(self, snapshot: StatsSnapshot) -> None:
        return None

    def countdown(self, text: str | None) -> None:
        return None
