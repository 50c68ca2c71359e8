"""Numbered schema migrations; the database records which ones it has applied (PRAGMA user_version)."""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: runs, orders, fills, events
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        command TEXT NOT NULL,
        mode TEXT NOT NULL,
        args TEXT NOT NULL DEFAULT '{}',
        pid INTEGER,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL DEFAULT 'running',
        exit_code INTEGER,
        net_pnl TEXT,
        volume TEXT,
        error TEXT
    );
    CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(id),
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        type TEXT NOT NULL,
        qty TEXT NOT NULL,
        price TEXT,
        reduce_only INTEGER NOT NULL DEFAULT 0,
        intent TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'intent',
        venue_order_id TEXT,
        status TEXT,
        filled_qty TEXT,
        avg_price TEXT,
        fee TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        acked_at TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX orders_run ON orders(run_id);
    CREATE INDEX orders_state ON orders(state);
    CREATE TABLE fills (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id),
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        order_id TEXT NOT NULL,
        client_order_id TEXT,
        trade_id TEXT NOT NULL,
        side TEXT NOT NULL,
        qty TEXT NOT NULL,
        price TEXT NOT NULL,
        fee TEXT NOT NULL,
        fee_asset TEXT NOT NULL,
        is_maker INTEGER NOT NULL DEFAULT 0,
        at TEXT,
        UNIQUE (venue, trade_id)
    );
    CREATE INDEX fills_run ON fills(run_id);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id),
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_run ON events(run_id);
    """,
    # 2: scratch space for pre-sizing the write-ahead log once per open (Journal._reserve_wal); always empty
    "CREATE TABLE wal_reserve (b BLOB);",
    # 3: funding payments, each stored once per venue payment id, attributed to the run that held the position
    """
    CREATE TABLE funding (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs(id),
        venue TEXT NOT NULL,
        symbol TEXT NOT NULL,
        payment_id TEXT NOT NULL,
        at TEXT NOT NULL,
        asset TEXT NOT NULL,
        amount TEXT NOT NULL,
        position_qty TEXT,
        rate TEXT,
        UNIQUE (venue, payment_id)
    );
    CREATE INDEX funding_run ON funding(run_id);
    """,
    # 4: circuit breaker trips across runs; a trip holds until `hedgectl breaker reset` sets reset_at
    """
    CREATE TABLE breaker (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        reason TEXT NOT NULL,
        run_id TEXT,
        tripped_at TEXT NOT NULL,
        reset_at TEXT
    );
    CREATE INDEX breaker_active ON breaker(reset_at);
    """,
)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every migration the database has not seen yet; return the schema version."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise RuntimeError(f"journal schema {version} is newer than this hedgectl ({len(MIGRATIONS)})")
    for number in range(version + 1, len(MIGRATIONS) + 1):
        with conn:
            conn.executescript("BEGIN;" + MIGRATIONS[number - 1] + f"; PRAGMA user_version = {number};")
    return len(MIGRATIONS)
