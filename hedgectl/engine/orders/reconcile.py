"""Crash recovery: resolve order intents that were journaled but never acknowledged, by client order id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from hedgectl.domain.types import Order, OrderStatus
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.errors import HedgectlError
from hedgectl.journal import Journal
from hedgectl.journal.rows import ACKED, FAILED, INTENT, UNKNOWN, OrderRow
from hedgectl.venues.base import Venue


@dataclass(frozen=True, slots=True)
class Reconciled:
    client_order_id: str
    run_id: str
    venue: str
    order: Order | None  # None: the venue never placed it
    error: str | None = None


async def reconcile_intents(journal: Journal, dispatcher: Dispatcher, venues: Mapping[str, Venue]) -> list[Reconciled]:
    """Look up every unacknowledged intent on venues in scope and journal what the venue says."""
    out = []
    for row in journal.unacknowledged_orders():
        venue = venues.get(row.venue)
        if venue is None:
            continue
        try:
            order = await dispatcher.reconcile(venue, row.symbol, row.client_order_id)
        except HedgectlError as exc:
            out.append(Reconciled(row.client_order_id, row.run_id, row.venue, None, error=str(exc)))
            continue
        out.append(Reconciled(row.client_order_id, row.run_id, row.venue, order))
    return out


def positions_by_run(journal: Journal, run_ids: list[str]) -> dict[tuple[str, str], list[str]]:
    """Which unfinished runs traded each (venue, symbol): used to label positions flatten finds."""
    labels: dict[tuple[str, str], list[str]] = {}
    for run_id in run_ids:
        for order in journal.orders(run_id):
            if order.state == "acked" and order.filled_qty not in (None, "0"):
                key = (order.venue, order.symbol)
                if run_id not in labels.setdefault(key, []):
                    labels[key].append(run_id)
    return labels


@dataclass(frozen=True, slots=True)
class Settled:
    """What recovery learned of one unfinished run's orders: how many it settled, fills journaled, and the orders
    it could not read (left as the journal had them)."""

    run_id: str
    settled: int = 0
    fills: int = 0
    errors: tuple[str, ...] = ()
    open_left: int = 0  # orders still working or unknown after recovery

    @property
    def done(self) -> bool:
        """Every order of the run is final or known never placed."""
        return not self.errors and not self.open_left


async def settle_runs(journal: Journal, venues: Mapping[str, Venue], run_ids: Sequence[str]) -> list[Settled]:
    """Journal the final state and the fills of every order of `run_ids` (crashed or aborted runs) on venues in
    scope: an intent or unknown outcome looked up by client order id, an order the journal still has working
    re-read, and a filled order whose fills the journal lacks given its fills (once per trade id, to its own
    run). Each lookup is bounded by the adapters' timeouts; a venue that cannot be read leaves the order as it
    was, and the result says so."""
    return [await _settle_run(journal, venues, run_id) for run_id in run_ids]


async def _settle_run(journal: Journal, venues: Mapping[str, Venue], run_id: str) -> Settled:
    dispatcher = Dispatcher(journal, run_id)  # fills go to the run that placed the orders
    settled = fills = open_left = 0
    errors: list[str] = []
    for row in journal.orders(run_id):
        if row.state == FAILED:
            continue
        venue = venues.get(row.venue)
        if venue is None:
            if not _final(row):
                open_left += 1
            continue
        try:
            order = await _final_state(dispatcher, venue, row)
            if order is None:  # never placed
                settled += 1
                continue
            if not order.status.is_final:
                open_left += 1
            elif not _final(row):
                settled += 1
            if order.filled_qty > _journaled_qty(journal, run_id, row.venue, order.order_id):
                before = len(journal.fills(run_id))
                await dispatcher.fills_of(venue, order)
                fills += len(journal.fills(run_id)) - before
        except HedgectlError as exc:
            errors.append(f"{row.venue} order {row.client_order_id}: {exc}")
    return Settled(run_id, settled, fills, tuple(errors), open_left)


async def _final_state(dispatcher: Dispatcher, venue: Venue, row: OrderRow) -> Order | None:
    """The order as the venue has it now, journaled; None when the venue never placed it."""
    if row.state in (INTENT, UNKNOWN) or not row.venue_order_id:
        return await dispatcher.reconcile(venue, row.symbol, row.client_order_id)
    order = await venue.fetch_order(row.symbol, order_id=row.venue_order_id)
    dispatcher.journal_state(row.client_order_id, order)
    return order


def _final(row: OrderRow) -> bool:
    return row.state == ACKED and row.status is not None and OrderStatus(row.status).is_final


def _journaled_qty(journal: Journal, run_id: str, venue: str, order_id: str) -> Decimal:
    return sum(
        (Decimal(f["qty"]) for f in journal.fills(run_id) if f["venue"] == venue and f["order_id"] == order_id),
        Decimal(0),
    )
