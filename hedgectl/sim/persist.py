"""The paper account on disk: a snapshot (`sim-state.json`) and a log of the changes made since (`.log` beside it).

A durable simulator saves every change before it answers (`Simulator.commit`). Writing the whole account each
time would not do: with its history full (5,000 orders and fills per venue) a snapshot takes ~0.4 s. So a change
is appended as one JSON line holding all it can have touched: each account's balance, ids, positions and open
orders in full, and the history entries (closed orders, fills, funding payments) new since the last line; and the
funding rates. Reading takes the snapshot and replays the lines whose `seq` is above the snapshot's. The log is
folded into a new snapshot once it outgrows the snapshot (so its cost per change stays that of one line), at stop
and on `POST /_sim/save`; a log left beside no snapshot (`sim reset` removes both) is ignored.

A line is appended with one write(2) on an O_APPEND descriptor: a process killed with -9 leaves it whole (in
the page cache); a line cut short (a power loss) can only be the last one and is skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections import deque
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hedgectl.sim.accounts import HISTORY_LIMIT, Account
from hedgectl.sim.funding import rates_to_json
from hedgectl.sim.model import OrderStatus

if TYPE_CHECKING:
    from hedgectl.sim.engine import Engine

MIN_LOG_BYTES = 64 * 1024  # below this the log is never folded (a fresh account's snapshot is a few kB)


def log_path(path: Path) -> Path:
    return path.with_name(path.name + ".log")


def read(path: Path) -> dict[str, Any] | None:
    """The saved account as `Engine.to_json` wrote it, the log replayed over it; None if there is no snapshot."""
    try:
        with path.open(encoding="utf-8") as fh:
            doc: dict[str, Any] = json.load(fh)
    except FileNotFoundError:
        return None
    seq = int(doc.get("seq", 0))
    with contextlib.suppress(FileNotFoundError), log_path(path).open(encoding="utf-8") as fh:
        for text in fh:
            try:
                line = json.loads(text)
            except ValueError:
                break  # cut short by a crash mid-write: the last line, never acknowledged
            if int(line["seq"]) > seq:
                _apply(doc, line)
                seq = int(line["seq"])
    doc["seq"] = seq
    return doc


def _apply(doc: dict[str, Any], line: dict[str, Any]) -> None:
    for venue, account in line["accounts"].items():
        old = doc["accounts"].get(venue, {"orders": [], "fills": [], "funding": []})
        closed = [o for o in old["orders"] if not OrderStatus(o["status"]).is_open]
        orders = [*(closed + line["closed"].get(venue, []))[-HISTORY_LIMIT:], *account["orders"]]
        account["orders"] = sorted(orders, key=lambda o: int(o["order_id"]))  # as Account.to_json lists them
        account["fills"] = (old["fills"] + line["fills"].get(venue, []))[-HISTORY_LIMIT:]
        account["funding"] = (old["funding"] + line["payments"].get(venue, []))[-HISTORY_LIMIT:]
        doc["accounts"][venue] = account
    doc["funding"] = line["funding"]


class Store:
    """Writes one engine's account to `path`: `snapshot()` in full, `append()` as one line of what changed."""

    def __init__(self, path: Path, engine: Engine, seq: int = 0) -> None:
        self.path = path
        self._engine = engine
        self._seq = seq
        self._log_bytes = 0
        self._snapshot_bytes = 0
        self._accounts: dict[str, Account] = {}  # the objects the trackers below follow (a reset replaces them)
        self._closed: dict[str, set[int]] = {}
        self._last_fill: dict[str, int] = {}
        self._last_payment: dict[str, int] = {}
        self._track()

    def snapshot(self) -> None:
        """Write the whole account atomically, then drop the log it folds in."""
        self._seq += 1
        doc = self._engine.to_json()
        doc["seq"] = self._seq
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".paper-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
            self._snapshot_bytes = fh.tell()
        os.replace(tmp, self.path)
        with contextlib.suppress(FileNotFoundError):
            log_path(self.path).unlink()  # older lines than the snapshot's seq: skipped if this never runs
        self._log_bytes = 0
        self._track()

    def append(self) -> None:
        """Save what changed since the last write; a snapshot instead if there is none or the accounts were reset."""
        accounts = self._engine.accounts
        if not self.path.exists() or any(self._accounts.get(v) is not a for v, a in accounts.items()):
            self.snapshot()
            return
        if self._log_bytes > max(self._snapshot_bytes, MIN_LOG_BYTES):
            self.snapshot()
            return
        self._seq += 1
        line: dict[str, Any] = {"seq": self._seq, "accounts": {}, "closed": {}, "fills": {}, "payments": {}}
        for venue, acct in accounts.items():
            line["accounts"][venue] = replace(acct, closed_orders={}, fills=deque(), funding=deque()).to_json()
            line["closed"][venue] = [o.to_json() for o in self._new_closed(venue, acct)]
            line["fills"][venue] = [f.to_json() for f in _newer(acct.fills, self._last_fill[venue], "fill_id")]
            line["payments"][venue] = [
                p.to_json() for p in _newer(acct.funding, self._last_payment[venue], "payment_id")
            ]
        line["funding"] = rates_to_json(self._engine.funding)  # as Engine.to_json writes them
        data = (json.dumps(line, separators=(",", ":")) + "\n").encode()
        fd = os.open(log_path(self.path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        self._log_bytes += len(data)
        for venue, acct in accounts.items():  # where each history ends now: the next line carries what follows
            self._closed[venue].update(int(o["order_id"]) for o in line["closed"][venue])
            self._last_fill[venue] = acct.fills[-1].fill_id if acct.fills else 0
            self._last_payment[venue] = acct.funding[-1].payment_id if acct.funding else 0

    def _new_closed(self, venue: str, acct: Account) -> list[Any]:
        seen = self._closed[venue]
        new = []
        for order_id in reversed(acct.closed_orders):
            if order_id in seen:
                break
            new.append(acct.closed_orders[order_id])
        return new[::-1]

    def _track(self) -> None:
        """Follow the accounts as they are now (after a snapshot): the next line carries what comes after."""
        for venue, acct in self._engine.accounts.items():
            self._accounts[venue] = acct
            self._closed[venue] = set(acct.closed_orders)
            self._last_fill[venue] = acct.fills[-1].fill_id if acct.fills else 0
            self._last_payment[venue] = acct.funding[-1].payment_id if acct.funding else 0


def _newer(history: deque[Any], last_id: int, key: str) -> list[Any]:
    """The entries of `history` (oldest first, ids rising) whose `key` is above `last_id`."""
    new = []
    for entry in reversed(history):
        if getattr(entry, key) <= last_id:
            break
        new.append(entry)
    return new[::-1]
