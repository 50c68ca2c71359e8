"""The `breaker` table: circuit-breaker trips, account-wide and held across runs until reset."""

from __future__ import annotations

import sqlite3
from typing import Any

from hedgectl.journal.rows import now_text


class BreakerTable:
    """Circuit-breaker trips and resets; part of `Journal` (which owns the connection)."""

    _conn: sqlite3.Connection

    def trip_breaker(self, kind: str, reason: str, run_id: str | None = None) -> None:
        """Record a circuit-breaker trip; it holds across runs until `reset_breaker`."""
        self._conn.execute(
            "INSERT INTO breaker (kind, reason, run_id, tripped_at) VALUES (?, ?, ?, ?)",
            (kind, reason, run_id, now_text()),
        )

    def breaker_trips(self) -> list[dict[str, Any]]:
        """The trips not reset yet, oldest first: kind, reason, run_id, tripped_at."""
        rows = self._conn.execute(
            "SELECT kind, reason, run_id, tripped_at FROM breaker WHERE reset_at IS NULL ORDER BY id"
        )
        return [dict(r) for r in rows]

    def reset_breaker(self) -> int:
        """Clear every trip; returns how many were cleared."""
        return self._conn.execute("UPDATE breaker SET reset_at=? WHERE reset_at IS NULL", (now_text(),)).rowcount

    def last_breaker_reset(self) -> str | None:
        """When the breaker was last reset (ISO UTC), None if never."""
        row = self._conn.execute("SELECT MAX(reset_at) FROM breaker").fetchone()
        return row[0] if row else None
