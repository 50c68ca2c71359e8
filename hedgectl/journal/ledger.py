"""The `fills` and `funding` tables: the money side of a run. Each trade and each funding payment is stored once,
under the run that saw it first, however often a venue reports it."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from hedgectl.domain.types import Fill, FundingPayment
from hedgectl.journal.rows import dec_text, fill_row, funding_row


class LedgerTables:
    """Fills and funding payments per run; part of `Journal` (which owns the connection)."""

    _conn: sqlite3.Connection

    def record_fill(self, run_id: str, fill: Fill) -> None:
        """Record one of our fills; the same trade seen twice is stored once."""
        self._conn.execute(
            "INSERT OR IGNORE INTO fills (run_id, venue, symbol, order_id, client_order_id, trade_id, side, qty, "
            "price, fee, fee_asset, is_maker, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                fill.venue,
                fill.symbol,
                fill.order_id,
                fill.client_order_id,
                fill.trade_id,
                fill.side.value,
                format(fill.qty, "f"),
                format(fill.price, "f"),
                format(fill.fee, "f"),
                fill.fee_asset,
                int(fill.is_maker),
                fill.at.isoformat() if fill.at else None,
            ),
        )

    def fills(self, run_id: str) -> list[dict[str, Any]]:
        rows = self._conn.execute("SELECT * FROM fills WHERE run_id=? ORDER BY id", (run_id,))
        return [dict(r) for r in rows]

    def run_fills(self, run_id: str) -> list[Fill]:
        """The run's recorded fills as domain values (for PnL from the journal alone)."""
        return [fill_row(row) for row in self.fills(run_id)]

    def fees_by_run(self, run_ids: list[str]) -> dict[str, dict[str, Decimal]]:
        """run id -> fee asset -> fees paid (from the recorded fills)."""
        out: dict[str, dict[str, Decimal]] = {}
        for chunk in (run_ids[i : i + 500] for i in range(0, len(run_ids), 500)):
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT run_id, fee_asset, fee FROM fills WHERE run_id IN ({marks})",  # noqa: S608 - placeholders only
                chunk,
            )
            for r in rows:
                per_asset = out.setdefault(r["run_id"], {})
                per_asset[r["fee_asset"]] = per_asset.get(r["fee_asset"], Decimal(0)) + Decimal(r["fee"])
        return out

    def record_funding(self, run_id: str, payments: list[FundingPayment]) -> list[FundingPayment]:
        """Record funding payments against `run_id`; return those not seen before (a payment already journaled,
        under any run, is neither stored again nor moved)."""
        new: list[FundingPayment] = []
        for payment in payments:
            cursor = self._conn.execute(
                "INSERT OR IGNORE INTO funding (run_id, venue, symbol, payment_id, at, asset, amount, position_qty, "
                "rate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    payment.venue,
                    payment.symbol,
                    payment.payment_id,
                    payment.at.isoformat(),
                    payment.asset,
                    format(payment.amount, "f"),
                    dec_text(payment.position_qty),
                    dec_text(payment.rate),
                ),
            )
            if cursor.rowcount:
                new.append(payment)
        return new

    def run_funding(self, run_id: str) -> list[FundingPayment]:
        """The funding payments attributed to `run_id`, oldest first."""
        rows = self._conn.execute("SELECT * FROM funding WHERE run_id=? ORDER BY at, id", (run_id,))
        return [funding_row(dict(r)) for r in rows]

    def funding_by_run(self, run_ids: list[str]) -> dict[str, dict[str, Decimal]]:
        """Net funding per run and asset (+ received, - paid)."""
        totals: dict[str, dict[str, Decimal]] = {}
        for run_id in run_ids:
            for payment in self.run_funding(run_id):
                per_asset = totals.setdefault(run_id, {})
                per_asset[payment.asset] = per_asset.get(payment.asset, Decimal(0)) + payment.amount
        return totals
