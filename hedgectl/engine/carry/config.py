"""What a carry holds and when it lets go: the pair, its size, and every exit rule."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from hedgectl.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
MAX_HOLD = timedelta(days=366)


def parse_duration(text: str) -> timedelta:
    """`90`, `90s`, `15m`, `8h`, `2d` -> a timedelta; anything else is a UsageError."""
    match = _DURATION.match(text)
    if match is None:
        raise UsageError(f"--until: {text!r} is not a duration (e.g. 90s, 15m, 8h, 2d)")
    value = Decimal(match.group(1)) * _UNIT_S[(match.group(2) or "s").lower()]
    if value <= 0 or value > Decimal(MAX_HOLD.total_seconds()):
        raise UsageError(f"--until must be more than 0 and at most {MAX_HOLD.days} days")
    return timedelta(seconds=float(value))


@dataclass(frozen=True)
class CarryConfig:
    """The exit rules of one carry; None switches a rule off."""

    symbol: str
    long_venue: str
    short_venue: str
    notional_usdt: Decimal
    until: timedelta | None = None
    take_profit_usdt: Decimal | None = None  # close once the net PnL (funding and fees in) reaches this
    max_loss_pct: Decimal | None = None  # close once the net loss passes this % of the notional
    min_liq_distance_pct: Decimal | None = None  # close once a leg's mark is this close (%) to its liquidation
    min_funding_apr: Decimal | None = None  # close once the pair's funding spread stays below this APR (%) ...
    min_funding_settlements: int = 2  # ... for this many settlements in a row
    max_basis_bps: Decimal | None = None  # close once |basis| between the two marks passes this
    max_delta_pct: Decimal | None = Decimal(5)  # re-hedge a net delta above this % of the notional
    on_exit: str = "flatten"  # "flatten" | "keep" (Ctrl+C / SIGTERM only)
    refresh_s: float = 5.0  # the watch reads both venues at least this often

    def as_args(self) -> dict[str, str]:
        """The config as journaled run arguments (what `carry --resume` reads back)."""
        out = {
            "symbol": self.symbol,
            "long_venue": self.long_venue,
            "short_venue": self.short_venue,
            "notional_usdt": str(self.notional_usdt),
            "min_funding_settlements": str(self.min_funding_settlements),
            "on_exit": self.on_exit,
            "refresh_s": str(self.refresh_s),
        }
        for name in ("take_profit_usdt", "max_loss_pct", "min_liq_distance_pct", "min_funding_apr", "max_basis_bps"):
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value)
        out["max_delta_pct"] = "" if self.max_delta_pct is None else str(self.max_delta_pct)
        if self.until is not None:
            out["until_s"] = str(self.until.total_seconds())
        return out

    @classmethod
    def from_args(cls, args: dict[str, str]) -> CarryConfig:
        """Read back `as_args` (a journaled carry run); a UsageError when the run is not a carry's."""
        try:

            def dec(name: str) -> Decimal | None:
                raw = args.get(name)
                return None if raw in (None, "") else Decimal(str(raw))

            return cls(
                symbol=args["symbol"],
                long_venue=args["long_venue"],
                short_venue=args["short_venue"],
                notional_usdt=Decimal(args["notional_usdt"]),
                until=timedelta(seconds=float(args["until_s"])) if args.get("until_s") else None,
                take_profit_usdt=dec("take_profit_usdt"),
                max_loss_pct=dec("max_loss_pct"),
                min_liq_distance_pct=dec("min_liq_distance_pct"),
                min_funding_apr=dec("min_funding_apr"),
                min_funding_settlements=int(args.get("min_funding_settlements", 2)),
                max_basis_bps=dec("max_basis_bps"),
                max_delta_pct=dec("max_delta_pct"),
                on_exit=args.get("on_exit", "flatten"),
                refresh_s=float(args.get("refresh_s", 5.0)),
            )
        except (KeyError, ArithmeticError, ValueError) as exc:
            raise UsageError(f"the journaled run is not a carry that can be resumed ({type(exc).__name__})") from None
