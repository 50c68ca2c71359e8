"""A carry run's part of the report: what `hedgectl carry` journals as it watches the pair, read back.

`carry.mark` (one per reading whose figures changed: both venues' marks, the basis, the funding spread, the
delta) gives the marks the PnL is valued at between fills, and the basis / spread / delta series; the other
`carry.*` events (open, re-hedges, breaker trips, the close and its reason) become the run's markers. Funding
settlements are not taken from `carry.funding` events: the `funding` table is the one record of them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

# Event kind (after "carry.") -> marker kind; "close" and "exposure" both end the carry: an exit.
MARKER_KINDS = {
    "open": "open",
    "resume": "open",
    "adopt": "open",
    "rehedge": "rehedge",
    "trip": "trip",
    "close": "exit",
    "exposure": "exit",
    "kept": "exit",
}


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def read_mark(at: datetime, data: dict[str, Any]) -> tuple[dict[str, Decimal], dict[str, Any]]:
    """One `carry.mark`: the venues' marks, and its point of the carry series."""
    marks = {venue: Decimal(str(price)) for venue, price in (data.get("marks") or {}).items()}
    point = {
        "at": at,
        "basis_bps": _decimal(data.get("basis_bps")),
        "spread_apr_pct": _decimal(data.get("spread_apr_pct")),
        "delta": _decimal(data.get("delta")),
        "delta_pct": _decimal(data.get("delta_pct")),
        "qty": {venue: _decimal(q) for venue, q in (data.get("qty") or {}).items()},
        "funding_apr_pct": {venue: _decimal(r) for venue, r in (data.get("funding_apr_pct") or {}).items()},
    }
    return marks, point


def marker(at: datetime, kind: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The marker a `carry.<kind>` event puts on the run's charts (None: one the report does not mark)."""
    shown = MARKER_KINDS.get(kind)
    if shown is None:
        return None
    found: dict[str, Any] = {"at": at, "kind": shown, "event": kind, "text": data.get("text")}
    for key in ("venue", "breaker", "reason"):
        if data.get(key) is not None:
            found[key] = data[key]
    if kind == "rehedge" and data.get("qty") is not None:
        found["qty"] = _decimal(data["qty"])
    return found
