"""Fault injection: rules set through POST /_sim/faults, consumed by the dialect request pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from hedgectl.sim.instruments import VENUES


class FaultKind(StrEnum):
    REJECT = "reject"  # the venue's real rejection, nothing happens
    HTTP_500 = "http_500"  # an internal-error reply, nothing happens
    RATE_LIMIT = "rate_limit"  # the venue's real 429 reply, nothing happens
    TIMEOUT = "timeout"  # nothing happens and no reply: held until the client gives up
    ACCEPT_THEN_TIMEOUT = "accept_then_timeout"  # the request takes effect, the reply never comes
    PARTIAL_FILL = "partial_fill"  # a new order fills `fill_ratio`; limit rest stays open, market rest expires
    DISCONNECT = "disconnect"  # the connection is dropped without a reply, nothing happens


OPS: frozenset[str] = frozenset(
    {
        "create_order",
        "cancel_order",
        "fetch_order",
        "fetch_positions",
        "fetch_funding_history",
        "fetch_ohlcv",
        "fetch_trading_fee",
        "any",
    }
)
# Kinds the dialect answers itself (render_fault); the others are applied by the pipeline.
RENDERED_KINDS: frozenset[FaultKind] = frozenset({FaultKind.REJECT, FaultKind.HTTP_500, FaultKind.RATE_LIMIT})


class FaultSpecError(ValueError):
    """A POST /_sim/faults body that cannot be understood."""


@dataclass(slots=True)
class Fault:
    venue: str
    op: str
    kind: FaultKind
    count: int = 1
    after: int = 0
    fill_ratio: Decimal = Decimal("0.5")
    # Optional overrides of the venue error a `reject` renders (e.g. {"code": -2019, "msg": "..."}).
    code: str | None = None
    msg: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "op": self.op,
            "kind": self.kind.value,
            "count": self.count,
            "after": self.after,
            "fill_ratio": str(self.fill_ratio),
            "code": self.code,
            "msg": self.msg,
        }


def parse_fault(raw: Any) -> Fault:
    """Validate a POST /_sim/faults body."""
    if not isinstance(raw, dict):
        raise FaultSpecError("body must be a JSON object")
    venue = raw.get("venue")
    if venue not in VENUES:
        raise FaultSpecError(f"venue must be one of {', '.join(VENUES)}")
    op = raw.get("op", "any")
    if op not in OPS:
        raise FaultSpecError(f"op must be one of {', '.join(sorted(OPS))}")
    try:
        kind = FaultKind(str(raw.get("kind")))
    except ValueError:
        raise FaultSpecError(f"kind must be one of {', '.join(k.value for k in FaultKind)}") from None
    try:
        count = int(raw.get("count", 1))
        after = int(raw.get("after", 0))
        ratio = Decimal(str(raw.get("fill_ratio", "0.5")))
    except (TypeError, ValueError, InvalidOperation):
        raise FaultSpecError("count and after must be integers, fill_ratio a decimal") from None
    if count < 1 or after < 0 or not (0 <= ratio <= 1):
        raise FaultSpecError("need count >= 1, after >= 0 and 0 <= fill_ratio <= 1")
    code = raw.get("code")
    msg = raw.get("msg")
    return Fault(venue, op, kind, count, after, ratio, None if code is None else str(code), msg)


class FaultBook:
    """The armed faults; `take` consumes the first one that matches a request."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def armed(self) -> list[Fault]:
        return list(self._faults)

    def take(self, venue: str, op: str) -> Fault | None:
        """Return the fault that fires for this request, consuming it (honours `after` and `count`)."""
        for fault in self._faults:
            if fault.venue != venue or fault.op not in ("any", op):
                continue
            if fault.after > 0:
                fault.after -= 1
                continue
            fault.count -= 1
            if fault.count <= 0:
                self._faults.remove(fault)
            return fault
        return None
