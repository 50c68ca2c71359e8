"""The journal's rows as the repository returns them, the order row states, and how values are stored.

Decimals are stored as plain-notation text, times as ISO-8601 UTC text with microseconds.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hedgectl.domain.types import Fill, FundingPayment, Side

# Order row states, in the order they normally happen.
INTENT = "intent"  # written, request not yet known to have reached the venue
ACKED = "acked"  # the venue answered with an order id
FAILED = "failed"  # the venue refused it: nothing was placed
UNKNOWN = "unknown"  # outcome ambiguous: reconcile by client order id

# Commands that only read (they are journaled, but `history` and `report --since` leave them out unless asked).
READ_ONLY_COMMANDS = frozenset({"connect", "prices", "positions", "scan"})


def now_text() -> str:
    """The current time as the journal stores it."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def dec_text(value: Decimal | None) -> str | None:
    """A Decimal as stored: plain notation ("10", never "1E+1"), so that whatever reads it shows it as is."""
    return None if value is None else format(value, "f")


@dataclass(frozen=True, slots=True)
class RunRow:
    id: str
    command: str
    mode: str
    args: dict[str, Any]
    pid: int | None
    started_at: str
    ended_at: str | None
    status: str
    exit_code: int | None
    net_pnl: str | None
    volume: str | None
    error: str | None

    @property
    def read_only(self) -> bool:
        """A run that could not trade: a read-only command, or a flatten dry run."""
        return self.command in READ_ONLY_COMMANDS or (
            self.command == "flatten" and self.args.get("dry_run") in (True, "True")
        )


@dataclass(frozen=True, slots=True)
class OrderRow:
    client_order_id: str
    run_id: str
    venue: str
    symbol: str
    side: str
    type: str
    qty: str
    price: str | None
    reduce_only: bool
    intent: str
    state: str
    venue_order_id: str | None
    status: str | None
    filled_qty: str | None
    avg_price: str | None
    fee: str | None
    error: str | None
    created_at: str
    acked_at: str | None
    updated_at: str


def run_row(row: sqlite3.Row) -> RunRow:
    data = dict(row)
    data["args"] = json.loads(data["args"] or "{}")
    return RunRow(**data)


def order_row(row: sqlite3.Row) -> OrderRow:
    data = dict(row)
    data["reduce_only"] = bool(data["reduce_only"])
    return OrderRow(**data)


def fill_row(row: dict[str, Any]) -> Fill:
    return Fill(
        venue=row["venue"],
        symbol=row["symbol"],
        order_id=row["order_id"],
        trade_id=row["trade_id"],
        side=Side(row["side"]),
        qty=Decimal(row["qty"]),
        price=Decimal(row["price"]),
        fee=Decimal(row["fee"]),
        fee_asset=row["fee_asset"],
        client_order_id=row["client_order_id"],
        at=datetime.fromisoformat(row["at"]) if row["at"] else None,
    )


def funding_row(row: dict[str, Any]) -> FundingPayment:
    return FundingPayment(
        venue=row["venue"],
        symbol=row["symbol"],
        payment_id=row["payment_id"],
        at=datetime.fromisoformat(row["at"]),
        asset=row["asset"],
        amount=Decimal(row["amount"]),
        position_qty=Decimal(row["position_qty"]) if row["position_qty"] is not None else None,
        rate=Decimal(row["rate"]) if row["rate"] is not None else None,
    )
