"""The one flatten implementation: cancel open orders, close positions reduce-only, re-read until flat.

It serves `hedgectl flatten`, bootstrap's rollback and close, and every Ctrl+C path. The venues' own
position reports are the truth; nothing here trusts what we believe we sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.quantity import max_order_qty
from hedgectl.domain.rounding import floor_to_step
from hedgectl.domain.types import Fill, Market, Order, OrderRequest, OrderType, Position, Side
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.errors import AmbiguousOrderState, HedgectlError, VenueError
from hedgectl.venues.base import Venue

log = logging.getLogger(__name__)


@dataclass
class CloseAccount:
    """One closing order's fills, and what closing cost against the position it closed (quote units).

    realised = (fill VWAP - entry) x the signed quantity closed, less the closing fees; cost vs mark =
    (mark - fill VWAP) x signed qty + fees: what the close gave up against the mark read just before it.
    """

    position: Position
    order: Order
    fills: list[Fill]

    @property
    def qty(self) -> Decimal:
        return sum((f.qty for f in self.fills), Decimal(0))

    @property
    def price(self) -> Decimal | None:
        qty = self.qty
        return sum((f.qty * f.price for f in self.fills), Decimal(0)) / qty if qty else None

    @property
    def fees(self) -> Decimal:
        return sum((f.fee for f in self.fills), Decimal(0))

    @property
    def fee_asset(self) -> str | None:
        assets = {f.fee_asset for f in self.fills}
        return assets.pop() if len(assets) == 1 else None

    def _signed(self) -> Decimal:
        return self.qty if self.position.qty > 0 else -self.qty

    @property
    def realised(self) -> Decimal | None:
        price, entry = self.price, self.position.entry_price
        return None if price is None or entry is None else (price - entry) * self._signed() - self.fees

    @property
    def cost_vs_mark(self) -> Decimal | None:
        price, mark = self.price, self.position.mark_price
        return None if price is None or mark is None else (mark - price) * self._signed() + self.fees


@dataclass
class VenueFlatten:
    """What one venue had open, what was done about it, and what is left."""

    venue: str
    positions_before: list[Position] = field(default_factory=list)
    positions_read: bool = False  # False: positions_before is empty because they could not be read, not flat
    open_orders_before: list[Order] = field(default_factory=list)
    cancelled: list[Order] = field(default_factory=list)
    closes: list[Order] = field(default_factory=list)
    accounts: list[CloseAccount] = field(default_factory=list)  # with `account=True`: each close's fills
    positions_after: list[Position] | None = None  # None: could not be read
    errors: list[str] = field(default_factory=list)

    @property
    def flat(self) -> bool:
        return self.positions_after is not None and not self.positions_after

    @property
    def exposure(self) -> dict[str, Decimal]:
        """Signed open quantity per symbol after flattening (the last known one if it could not be re-read)."""
        positions = self.positions_after if self.positions_after is not None else self.positions_before
        return {p.label: p.qty for p in positions}


@dataclass
class FlattenReport:
    venues: list[VenueFlatten]
    dry_run: bool = False

    @property
    def flat(self) -> bool:
        return all(v.flat for v in self.venues)

    @property
    def read_everywhere(self) -> bool:
        """Every venue's positions were read (a dry run that could not read one must not pass for flat)."""
        return all(v.positions_read for v in self.venues)

    def exposure(self) -> dict[str, dict[str, Decimal] | None]:
        """Open quantity per venue and symbol for venues that are not flat (None: could not be read)."""
        return {v.venue: v.exposure or None for v in self.venues if not v.flat}

    def describe_exposure(self) -> str:
        parts = []
        for venue, symbols in self.exposure().items():
            if symbols is None:
                parts.append(f"{venue}: unknown (positions could not be read)")
            else:
                parts.append(f"{venue}: " + ", ".join(f"{s} {q:+f}" for s, q in symbols.items()))
        return "; ".join(parts)


async def flatten(
    venues: Sequence[Venue],
    dispatcher: Dispatcher | None,
    *,
    symbol: str | None = None,
    rounds: int = 5,
    retry_delay_s: float = 0.5,
    dry_run: bool = False,
    intent: str = "flatten",
    account: bool = False,
) -> FlattenReport:
    """Flatten every venue concurrently; a venue that fails is reported and the others still flattened.

    `account`: also read (and journal) each close's fills, for its price, fees and cost (`VenueFlatten.accounts`);
    off where only being flat matters (rollbacks, Ctrl+C), since it is one more read per close."""
    if dispatcher is None and not dry_run:
        raise ValueError("a dispatcher is needed unless dry_run")
    results = await asyncio.gather(
        *(
            _flatten_venue(
                v,
                dispatcher,
                symbol=symbol,
                rounds=rounds,
                delay_s=retry_delay_s,
                dry_run=dry_run,
                intent=intent,
                account=account,
            )
            for v in venues
        )
    )
    return FlattenReport(venues=list(results), dry_run=dry_run)


async def _flatten_venue(
    venue: Venue,
    dispatcher: Dispatcher | None,
    *,
    symbol: str | None,
    rounds: int,
    delay_s: float,
    dry_run: bool,
    intent: str,
    account: bool = False,
) -> VenueFlatten:
    report = VenueFlatten(venue=venue.name)
    # Cancel and read at once: a fill racing the cancel shows up in the re-read of the next round.
    cancelled: list[Order] | BaseException = []
    if dry_run:
        open_orders, positions = await asyncio.gather(
            venue.fetch_open_orders(symbol), venue.fetch_positions(symbol), return_exceptions=True
        )
    else:
        open_orders, positions, cancelled = await asyncio.gather(
            venue.fetch_open_orders(symbol),
            venue.fetch_positions(symbol),
            venue.cancel_all_orders(symbol),
            return_exceptions=True,
        )
    if isinstance(open_orders, BaseException):
        report.errors.append(_describe("reading open orders", open_orders))
    else:
        report.open_orders_before = list(open_orders)
    current: list[Position] | None = None
    if isinstance(positions, BaseException):
        report.errors.append(_describe("reading positions", positions))
    else:
        current = [p for p in positions if p.qty != 0]
        report.positions_before = current
        report.positions_read = True
    if isinstance(cancelled, BaseException):
        report.errors.append(_describe("cancelling open orders", cancelled))
    else:
        report.cancelled = list(cancelled)
    if dry_run:
        report.positions_after = current
        return report
    assert dispatcher is not None  # noqa: S101 - checked by flatten()
    for round_no in range(rounds):
        if current is None:
            current = await _read_positions(venue, symbol, report)
            if current is None:
                await SYSTEM_CLOCK.sleep(delay_s * (round_no + 1))
                continue
        if not current:
            report.positions_after = []
            return report
        await asyncio.gather(*(_close(venue, dispatcher, p, intent, report, account) for p in current))
        current = None
    report.positions_after = await _read_positions(venue, symbol, report)
    return report


async def _read_positions(venue: Venue, symbol: str | None, report: VenueFlatten) -> list[Position] | None:
    try:
        return [p for p in await venue.fetch_positions(symbol) if p.qty != 0]
    except HedgectlError as exc:
        report.errors.append(_describe("reading positions", exc))
        return None


async def _close(
    venue: Venue, dispatcher: Dispatcher, position: Position, intent: str, report: VenueFlatten, account: bool
) -> None:
    side = position.side
    if side is None:
        return
    try:
        market: Market | None = await venue.market(position.symbol)
    except HedgectlError:
        market = None  # rules unreadable: still close, in one order, and let the venue judge it
    # A position above the venue's market-order cap closes in several orders, one after the other.
    for qty in close_quantities(abs(position.qty), market) if market else [abs(position.qty)]:
        if not await _close_part(venue, dispatcher, position, side.opposite, qty, intent, report, account):
            return


def close_quantities(qty: Decimal, market: Market) -> list[Decimal]:
    """`qty` cut into market orders the venue accepts: each at most its market-order cap (whole steps)."""
    cap = max_order_qty(market, market_order=True)
    cap = floor_to_step(cap, market.step_size) if cap is not None else None
    if cap is None or cap <= 0 or qty <= cap:
        return [qty]
    parts = [cap] * int(qty // cap)
    rest = qty - cap * len(parts)
    return parts + ([rest] if rest > 0 else [])


async def _close_part(
    venue: Venue,
    dispatcher: Dispatcher,
    position: Position,
    side: Side,
    qty: Decimal,
    intent: str,
    report: VenueFlatten,
    account: bool,
) -> bool:
    """One reduce-only market order; False when it failed (the next round re-reads the position)."""
    symbol = position.symbol
    request = OrderRequest(
        symbol=symbol,
        side=side,
        type=OrderType.MARKET,
        qty=qty,
        client_order_id=dispatcher.new_id(),
        reduce_only=True,
    )
    try:
        sent = await dispatcher.place(venue, request, intent)
        closed = await _settled(venue, dispatcher, sent.order)
        report.closes.append(closed)
        if account and closed.filled_qty > 0:
            report.accounts.append(CloseAccount(position, closed, await _fills(venue, dispatcher, closed, report)))
        return True
    except AmbiguousOrderState as exc:
        report.errors.append(_describe(f"closing {symbol}", exc))
        try:
            found = await dispatcher.reconcile(venue, symbol, request.client_order_id)
        except HedgectlError as again:
            report.errors.append(_describe(f"reconciling {request.client_order_id}", again))
        else:
            if found is not None:
                report.closes.append(found)
    except VenueError as exc:
        report.errors.append(_describe(f"closing {symbol}", exc))
        await SYSTEM_CLOCK.sleep(0.2)
    return False


async def _settled(venue: Venue, dispatcher: Dispatcher, order: Order) -> Order:
    """The close as the venue reports it after the send: an ack (OKX's) carries only ids, not the fill."""
    if order.status.is_final:
        return order
    try:
        return await dispatcher.refresh(venue, order)
    except HedgectlError:
        return order  # the position re-read that follows says whether it closed


async def _fills(venue: Venue, dispatcher: Dispatcher, order: Order, report: VenueFlatten) -> list[Fill]:
    """The close's fills (journaled); none if they cannot be read: the close itself stands."""
    try:
        return await dispatcher.fills_of(venue, order)
    except HedgectlError as exc:
        report.errors.append(_describe(f"reading the fills of {order.order_id}", exc))
        return []


def _describe(action: str, exc: BaseException) -> str:
    if isinstance(exc, HedgectlError):
        return f"{action}: {exc.detail if isinstance(exc, VenueError) else exc}"  # listed under its venue
    log.debug("unexpected error while %s", action, exc_info=exc)
    return f"{action}: unexpected {type(exc).__name__}"
