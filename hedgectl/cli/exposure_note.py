"""What a run's journal says may be open, worded for the message of an abort (the third Ctrl+C).

Read from the journal only: an abort must never wait on a venue, so what the journal knows is what is said -
filled quantities per venue and symbol that no later order closed, and the orders whose outcome is not known
yet (sent or in flight, unanswered, or still working), named by their client order id as "may be open".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from hedgectl.domain.types import OrderStatus, Side

if TYPE_CHECKING:
    from hedgectl.journal import OrderRow


@dataclass
class JournalOpen:
    """Net filled quantity per (venue, symbol) that the run's orders leave open, and the orders still unsettled."""

    net: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    unsettled: list[OrderRow] = field(default_factory=list)

    @property
    def nothing(self) -> bool:
        return not self.unsettled and not any(self.net.values())


def journal_open(orders: list[OrderRow]) -> JournalOpen:
    """Sum the run's fills per venue and symbol; an order not known final counts with what it filled so far."""
    from hedgectl.journal.repository import ACKED, FAILED

    out = JournalOpen()
    for o in orders:
        if o.state == FAILED:
            continue  # refused by the venue: nothing was placed
        settled = o.state == ACKED and o.status is not None and OrderStatus(o.status).is_final
        if not settled:
            out.unsettled.append(o)
        key = (o.venue, o.symbol)
        out.net[key] = out.net.get(key, Decimal(0)) + Side(o.side).sign * Decimal(o.filled_qty or 0)
    return out


def describe_open(orders: list[OrderRow], *, flattening: bool = False) -> str | None:
    """The abort's account of what may be open; None when the journal says nothing is.

    `flattening`: the run only closes positions it read from the venues (flatten), which the journal does not
    hold - so it cannot say nothing is open, and names the closes whose outcome is unknown.
    """
    known = journal_open(orders)
    parts = []
    open_now = sorted((k, q) for k, q in known.net.items() if q != 0)
    if open_now and not flattening:
        parts.append("open per the journal: " + ", ".join(f"{v} {s} {_signed(q)}" for (v, s), q in open_now))
    if known.unsettled:
        parts.append(
            "may be open: orders whose outcome is not known yet (each may have filled): "
            + ", ".join(
                f"{o.venue} {o.side} {_plain(Decimal(o.qty))} {o.symbol} "
                f"({'a close, ' if o.reduce_only else ''}client order id {o.client_order_id})"
                for o in known.unsettled
            )
        )
    if flattening:
        parts.append("positions the flatten had not closed yet may remain open")
    elif known.nothing:
        return None
    return "; ".join(parts)


def _plain(q: Decimal) -> str:
    return format(q.normalize(), "f")


def _signed(q: Decimal) -> str:
    return format(q.normalize(), "+f")
