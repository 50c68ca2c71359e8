"""Crash recovery: resolve order intents that were journaled but never acknowledged, by client order id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hedgectl.domain.types import Order
from hedgectl.engine.orders.dispatch import Dispatcher
from hedgectl.errors import HedgectlError
from hedgectl.journal import Journal
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
