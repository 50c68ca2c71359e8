"""The `orders` table: every order intent, written (and synced to disk) before the request that carries it is
sent, then the venue's answer: acknowledged, refused, or unknown until reconciled by client order id."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

from hedgectl.domain.types import Order, OrderRequest, OrderStatus, Side
from hedgectl.journal.rows import ACKED, FAILED, INTENT, UNKNOWN, OrderRow, dec_text, now_text, order_row


class OrderTable:
    """Order intents and their outcomes; part of `Journal` (which owns the connection)."""

    _conn: sqlite3.Connection

    def record_intent(self, run_id: str, venue: str, request: OrderRequest, intent: str) -> None:
        """Durably write what we are about to send, BEFORE sending it. A duplicate client id is refused."""
        now = now_text()
        self._conn.execute("PRAGMA synchronous=FULL")  # this commit syncs the log: the intent is on disk
        try:
            self._insert_intent(run_id, venue, request, intent, now)
        finally:
            self._conn.execute("PRAGMA synchronous=NORMAL")

    def _insert_intent(self, run_id: str, venue: str, request: OrderRequest, intent: str, now: str) -> None:
        self._conn.execute(
            "INSERT INTO orders (client_order_id, run_id, venue, symbol, side, type, qty, price, reduce_only, "
            "intent, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                request.client_order_id,
                run_id,
                venue,
                request.symbol,
                request.side.value,
                request.type.value,
                format(request.qty, "f"),
                dec_text(request.price),
                int(request.reduce_only),
                intent,
                INTENT,
                now,
                now,
            ),
        )

    def record_order(self, client_order_id: str, order: Order) -> None:
        """Record the venue's view of an order we journaled (ack or later update)."""
        now = now_text()
        self._conn.execute(
            "UPDATE orders SET state=?, venue_order_id=?, status=?, filled_qty=?, avg_price=?, fee=?, "
            "acked_at=COALESCE(acked_at, ?), updated_at=? WHERE client_order_id=?",
            (
                ACKED,
                order.order_id,
                order.status.value,
                format(order.filled_qty, "f"),
                dec_text(order.avg_price),
                dec_text(order.fee),
                now,
                now,
                client_order_id,
            ),
        )

    def record_failure(self, client_order_id: str, error: str, *, ambiguous: bool) -> None:
        """The send failed: FAILED when nothing was placed, UNKNOWN when it may have been."""
        self._conn.execute(
            "UPDATE orders SET state=?, error=?, updated_at=? WHERE client_order_id=?",
            (UNKNOWN if ambiguous else FAILED, error, now_text(), client_order_id),
        )

    def order(self, client_order_id: str) -> OrderRow | None:
        row = self._conn.execute("SELECT * FROM orders WHERE client_order_id=?", (client_order_id,)).fetchone()
        return order_row(row) if row else None

    def orders(self, run_id: str) -> list[OrderRow]:
        rows = self._conn.execute("SELECT * FROM orders WHERE run_id=? ORDER BY created_at", (run_id,))
        return [order_row(r) for r in rows]

    def unacknowledged_orders(self) -> list[OrderRow]:
        rows = self._conn.execute("SELECT * FROM orders WHERE state IN (?, ?) ORDER BY created_at", (INTENT, UNKNOWN))
        return [order_row(r) for r in rows]


def journal_exposure(orders: list[OrderRow]) -> dict[str, Decimal] | None:
    """Net filled quantity per "venue symbol" that the run's orders leave open, as far as the journal knows;
    None when it cannot know (an order unacknowledged, ambiguous or still working)."""
    net: dict[str, Decimal] = {}
    for o in orders:
        if o.state == FAILED:
            continue
        if o.state != ACKED or o.status is None or not OrderStatus(o.status).is_final:
            return None
        key = f"{o.venue} {o.symbol}"
        net[key] = net.get(key, Decimal(0)) + Side(o.side).sign * Decimal(o.filled_qty or 0)
    return {k: q for k, q in net.items() if q != 0}
