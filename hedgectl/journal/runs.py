"""The `runs` and `events` tables: one row per command run (its arguments, end, status, PnL), and what happened
during it."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hedgectl.journal.rows import INTENT, UNKNOWN, RunRow, dec_text, now_text, run_row


class RunTables:
    """Runs and their events; part of `Journal` (which owns the connection)."""

    _conn: sqlite3.Connection

    def start_run(self, command: str, mode: str, args: dict[str, Any] | None = None) -> str:
        run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self._conn.execute(
            "INSERT INTO runs (id, command, mode, args, pid, started_at) VALUES (?, ?, ?, ?, ?, ?)",
            (run_id, command, mode, json.dumps(args or {}, default=str), os.getpid(), now_text()),
        )
        return run_id

    def end_run(
        self,
        run_id: str,
        *,
        status: str,
        exit_code: int,
        net_pnl: Decimal | None = None,
        volume: Decimal | None = None,
        error: str | None = None,
    ) -> None:
        self._conn.execute(
            "UPDATE runs SET ended_at=?, status=?, exit_code=?, net_pnl=?, volume=?, error=? WHERE id=?",
            (now_text(), status, exit_code, dec_text(net_pnl), dec_text(volume), error, run_id),
        )

    def run(self, run_id: str) -> RunRow | None:
        row = self._conn.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        return run_row(row) if row else None

    def runs(
        self, limit: int | None = 50, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[RunRow]:
        """Runs started in [since, until), newest first; `limit` None: all of them."""
        rows = self._conn.execute(
            "SELECT * FROM runs WHERE started_at >= ? AND started_at < ? ORDER BY started_at DESC, id DESC LIMIT ?",
            (
                since.astimezone(UTC).isoformat(timespec="microseconds") if since else "",
                until.astimezone(UTC).isoformat(timespec="microseconds") if until else "\uffff",
                -1 if limit is None else limit,
            ),
        )
        return [run_row(r) for r in rows]

    def unfinished_runs(self, *, exclude: str | None = None) -> list[RunRow]:
        """Runs that never recorded an end, were aborted with something open (status `aborted`, until a flatten
        recovers them), or hold order intents never acknowledged."""
        rows = self._conn.execute(
            "SELECT * FROM runs WHERE (ended_at IS NULL OR status = 'aborted' OR id IN "
            "(SELECT run_id FROM orders WHERE state IN (?, ?))) AND id IS NOT ? ORDER BY started_at",
            (INTENT, UNKNOWN, exclude),
        )
        return [run_row(r) for r in rows]

    def mark_run_recovered(self, run_id: str, note: str) -> None:
        self._conn.execute(
            "UPDATE runs SET ended_at=COALESCE(ended_at, ?), status=CASE WHEN ended_at IS NULL THEN 'crashed' "
            "WHEN status = 'aborted' THEN 'aborted, recovered' ELSE status END, error=COALESCE(error, ?) WHERE id=?",
            (now_text(), note, run_id),
        )

    def update_run_args(self, run_id: str, args: dict[str, Any]) -> None:
        """Replace a run's recorded arguments (a resumed carry records the config it took over)."""
        self._conn.execute("UPDATE runs SET args=? WHERE id=?", (json.dumps(args, default=str), run_id))

    def event(self, run_id: str, kind: str, data: dict[str, Any] | None = None) -> None:
        self._conn.execute(
            "INSERT INTO events (run_id, at, kind, data) VALUES (?, ?, ?, ?)",
            (run_id, now_text(), kind, json.dumps(data or {}, default=str)),
        )

    def events(self, run_id: str) -> list[dict[str, Any]]:
        rows = self._conn.execute("SELECT at, kind, data FROM events WHERE run_id=? ORDER BY id", (run_id,))
        return [{"at": r["at"], "kind": r["kind"], "data": json.loads(r["data"])} for r in rows]
