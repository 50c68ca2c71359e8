"""The simulator's shared state: engine, armed faults, per-venue latency and the request log."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hedgectl.errors import ConfigError
from hedgectl.sim import persist
from hedgectl.sim.engine import Engine
from hedgectl.sim.faults import FaultBook
from hedgectl.sim.market import DEFAULT_TICK_MS

if TYPE_CHECKING:
    from hedgectl.sim.market_source import MarketSpec

REQUEST_LOG_LIMIT = 200_000

log = logging.getLogger("hedgectl.sim")


@dataclass(slots=True)
class RequestRecord:
    """One request as GET /_sim/requests shows it; `client_order_id` is filled once parsed."""

    venue: str
    method: str
    path: str
    op: str
    received_ns: int
    client_order_id: str | None = None
    status: int | None = None
    fault: str | None = None
    # An order request as the dialect parsed it (None for other requests or one refused before parsing).
    side: str | None = None
    qty: str | None = None
    reduce_only: bool | None = None
    position_side: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "qty": self.qty,
            "reduce_only": self.reduce_only,
            "position_side": self.position_side,
            "venue": self.venue,
            "method": self.method,
            "path": self.path,
            "op": self.op,
            "received_ns": self.received_ns,
            "client_order_id": self.client_order_id,
            "status": self.status,
            "fault": self.fault,
        }


class RequestLog:
    """Every request received by a dialect, oldest first (bounded to REQUEST_LOG_LIMIT)."""

    def __init__(self) -> None:
        self._records: deque[RequestRecord] = deque(maxlen=REQUEST_LOG_LIMIT)

    def add(self, record: RequestRecord) -> None:
        self._records.append(record)

    def clear(self) -> None:
        self._records.clear()

    def select(self, venue: str | None = None, since_ns: int = 0) -> list[RequestRecord]:
        return [r for r in self._records if (venue is None or r.venue == venue) and r.received_ns >= since_ns]


class Simulator:
    """Everything a dialect or the control API touches; one per server."""

    def __init__(
        self,
        seed: int = 0,
        *,
        tick_ms: int = DEFAULT_TICK_MS,
        frozen: bool = False,
        state_path: Path | None = None,
        aster_chain_id: int = 1666,
        market: MarketSpec | None = None,
        fees: dict[str, tuple[Decimal, Decimal]] | None = None,
        durable: bool = False,
    ) -> None:
        """`durable`: every change is saved to `state_path` before the simulator answers (`commit`); without,
        `state_path` is only loaded, and saved when asked (`save`, `POST /_sim/save`)."""
        source = None if market is None or market.kind == "synthetic" else market.build(seed, tick_ms)
        self.market_label = "synthetic" if market is None else market.label
        self.engine = Engine(
            seed, tick_ms=tick_ms, frozen=frozen, market=source, fees=fees, unique_ids=state_path is not None
        )
        # The EIP-712 chain id the Aster dialect verifies V3 signatures on: 1666 as mainnet, 714 as the testnet.
        self.aster_chain_id = aster_chain_id
        self.faults = FaultBook()
        self.requests = RequestLog()
        self.latency_ms: dict[str, int] = {}
        self.op_latency_ms: dict[tuple[str, str], int] = {}  # (venue, op) -> ms; wins over the venue's own
        self.state_path = state_path
        self.durable = durable and state_path is not None
        self._saved_mark: object = None
        self._save_failed = False
        seq = self.load(state_path) if state_path is not None else 0
        self._store = persist.Store(state_path, self.engine, seq) if state_path is not None else None
        if self.durable:
            self._saved_mark = self._mark()

    def commit(self) -> None:
        """Make the paper account on disk what clients have been told: save it if it changed since the last save.

        Called by the server after every request (before the reply is sent) and after every engine tick (before
        a stream event leaves), so that a command killed with -9 at any moment leaves on disk every order,
        fill, cancel and funding payment a venue reply or stream event reported. A no-op unless `durable`.
        """
        if not self.durable or self._store is None or self._mark() == self._saved_mark:
            return
        try:
            self._store.append()
        except OSError as exc:
            if not self._save_failed:  # a full or read-only disk: said once, retried on the next change
                log.warning("the paper account could not be saved to %s: %s", self.state_path, exc)
            self._save_failed = True
            return
        self._save_failed = False
        self._saved_mark = self._mark()

    def _mark(self) -> object:
        """A cheap fingerprint of everything `save` writes: any order placed, filled, cancelled or expired,
        any fill, funding payment, balance, leverage, position-mode or funding-rate change moves it."""
        engine = self.engine
        return (
            tuple(
                (
                    a.balance,
                    a.leverage,
                    a.position_mode,
                    a.fees_paid,
                    a.next_order_id,
                    a.next_fill_id,
                    a.next_funding_id,
                    len(a.closed_orders),
                    tuple((o.order_id, o.status, o.filled_qty, o.updated_ms) for o in a.open_orders.values()),
                    tuple((p.key, p.qty, p.entry_price) for p in a.positions.values()),
                )
                for a in engine.accounts.values()
            ),
            tuple((s.rate, s.next_ms) for s in engine.funding.values()),
        )

    def reset(self) -> None:
        """Fresh accounts and prices; faults, latency and the request log cleared."""
        self.engine.reset()
        self.faults.clear()
        self.requests.clear()
        self.latency_ms.clear()
        self.op_latency_ms.clear()
        self.commit()

    def save(self, path: Path | None = None) -> None:
        """Persist the whole paper account atomically (to `path` or the configured state path, folding its log)."""
        target = path or self.state_path
        if target is None:
            return
        if self._store is not None and target == self.state_path:
            self._store.snapshot()
        else:
            persist.Store(target, self.engine).snapshot()
        if self.durable:
            self._saved_mark = self._mark()

    def load(self, path: Path) -> int:
        """Restore a saved paper account (its snapshot and log); return its sequence number (0: none saved).

        An unreadable file is a ConfigError naming the fix."""
        try:
            doc = persist.read(path)
            if doc is not None:
                self.engine.load_json(doc)
        except (OSError, ValueError, KeyError, TypeError, ArithmeticError) as exc:
            self.engine.reset()
            raise ConfigError(
                f"the paper account in {path} is unreadable ({type(exc).__name__}); `hedgectl sim reset` clears it"
            ) from None
        return 0 if doc is None else int(doc["seq"])
