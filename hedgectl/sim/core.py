"""The simulator's shared state: engine, armed faults, per-venue latency and the request log."""

from __future__ import annotations

import json
import os
import tempfile
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hedgectl.errors import ConfigError
from hedgectl.sim.engine import Engine
from hedgectl.sim.faults import FaultBook
from hedgectl.sim.market import DEFAULT_TICK_MS

if TYPE_CHECKING:
    from hedgectl.sim.market_source import MarketSpec

REQUEST_LOG_LIMIT = 200_000


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
    ) -> None:
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
        self.state_path = state_path
        if state_path is not None and state_path.exists():
            self.load(state_path)

    def reset(self) -> None:
        """Fresh accounts and prices; faults, latency and the request log cleared."""
        self.engine.reset()
        self.faults.clear()
        self.requests.clear()
        self.latency_ms.clear()

    def save(self, path: Path | None = None) -> None:
        """Persist the paper account atomically (to `path` or the configured state path)."""
        target = path or self.state_path
        if target is None:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".paper-", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.engine.to_json(), fh)
        os.replace(tmp, target)

    def load(self, path: Path) -> None:
        """Restore a saved paper account; an unreadable file is a ConfigError naming the fix."""
        try:
            with path.open(encoding="utf-8") as fh:
                self.engine.load_json(json.load(fh))
        except (OSError, ValueError, KeyError, TypeError, ArithmeticError) as exc:
            self.engine.reset()
            raise ConfigError(
                f"the paper account in {path} is unreadable ({type(exc).__name__}); `hedgectl sim reset` clears it"
            ) from None
