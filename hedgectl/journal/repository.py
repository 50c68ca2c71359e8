"""A small repository over the journal (SQLite, WAL). Writes are synchronous; what must be durable is:

- an order intent: fsynced (synchronous=FULL for that one commit) before the request that carries it leaves
  the process - and with it everything written before it, since the log is synced as a whole;
- everything else (acks, fills, failures, events, runs) is written to the OS at once, so it survives a crash of
  the process, and becomes durable with the next intent or checkpoint. A power cut can lose only such rows,
  which reconciliation by client order id recovers from the venue - never an intent.

The `Journal` is one connection and the tables' parts it inherits, a module each: runs and events (`runs.py`),
orders (`orders.py`), fills and funding (`ledger.py`), the circuit breaker (`breaker.py`); the rows they return
are in `rows.py`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hedgectl.errors import ConfigError
from hedgectl.journal.breaker import BreakerTable
from hedgectl.journal.ledger import LedgerTables
from hedgectl.journal.migrations import migrate
from hedgectl.journal.orders import OrderTable, journal_exposure
from hedgectl.journal.rows import ACKED, FAILED, INTENT, READ_ONLY_COMMANDS, UNKNOWN, OrderRow, RunRow
from hedgectl.journal.runs import RunTables

# What callers have imported from here since the journal was one module.
__all__ = [
    "ACKED",
    "FAILED",
    "INTENT",
    "READ_ONLY_COMMANDS",
    "UNKNOWN",
    "WAL_CHECKPOINT_PAGES",
    "WAL_RESERVE_BYTES",
    "Journal",
    "OrderRow",
    "RunRow",
    "journal_exposure",
]

# Every commit ends with an fdatasync of the write-ahead log. While that file grows, the sync must also commit
# its new size to the filesystem's own journal, which doubles an intent write's cost here (fresh log: 0.35 ms
# p50 / 1 ms p99; a log rewritten in place: 0.15 / 0.3 ms). So each open pre-sizes the log to WAL_RESERVE_BYTES
# (about 5 ms, once), and checkpoints run every WAL_CHECKPOINT_PAGES pages, before the log outgrows the reserve,
# so that SQLite rewrites it from the start instead of appending.
WAL_RESERVE_BYTES = 1 << 20
WAL_CHECKPOINT_PAGES = 200


class Journal(RunTables, OrderTable, LedgerTables, BreakerTable):
    """One process's connection to the journal database; a method per table operation (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")  # FULL for intents only: see record_intent
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            migrate(self._conn)
            self._reserve_wal()
        except (sqlite3.Error, OSError, RuntimeError) as exc:
            raise ConfigError(f"cannot open the journal at {path}: {exc}") from None

    def _reserve_wal(self) -> None:
        """Grow the write-ahead log to WAL_RESERVE_BYTES (unless it is that big already, e.g. another process
        has it open) with one throwaway row, then checkpoint so the next commit rewrites it from the start."""
        try:
            if Path(f"{self.path}-wal").stat().st_size >= WAL_RESERVE_BYTES:
                return
        except FileNotFoundError:
            pass
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.execute("INSERT INTO wal_reserve (b) VALUES (zeroblob(?))", (WAL_RESERVE_BYTES,))
            self._conn.execute("DELETE FROM wal_reserve")
            self._conn.execute("COMMIT")
        except BaseException:
            # A Ctrl+C may land after COMMIT ran: rolling back then fails ("no transaction is active") and hid
            # the interrupt behind a "cannot open the journal" error (exit 2).
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # never waits for another process's readers

    def close(self) -> None:
        self._conn.close()
