"""The maker/taker loop's settings (LoopConfig) and how they are built: flags over the seed file's values.

Precedence, per value: a flag given on the command line, else the seed YAML's `trade:` value, else the
seed's default. The YAML itself is read and validated in the CLI layer (hedgectl.cli.seed_file, a strict
pydantic model); it reaches the engine as SeedValues.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from hedgectl.errors import UsageError


class OnExit(StrEnum):
    """What a stopped loop leaves behind: nothing (flatten), or both legs exactly hedged."""

    FLATTEN = "flatten"
    KEEP_HEDGED = "keep-hedged"


@dataclass(frozen=True)
class LoopConfig:
    """The seed's trade parameters (same defaults) plus the venues, symbol, cycle count and exit policy."""

    symbol: str = "ASTER"
    qty: Decimal = Decimal(10)  # quantity
    offset_pct: Decimal = Decimal("0.2")  # offset_percent
    requote_after_s: float = 10.0  # first_wait_seconds
    between_legs_s: float = 20.0  # between_legs_sleep
    cycle_sleep_s: float = 60.0  # cycle_sleep
    stop_before_funding_min: float = 5.0  # stop_before_funding_minutes
    cycles: int | None = None  # None: until stopped
    maker_venue: str = "backpack"
    taker_venue: str = "aster"
    on_exit: OnExit = OnExit.FLATTEN
    poll_interval_s: float = 0.2  # how often a resting maker order is re-read while no stream pushes fills
    streams: bool = True  # maker fills from the maker's private order stream (False: polling only)

    def check(self) -> None:
        """Refuse values that cannot work (before anything is connected)."""
        if not self.qty.is_finite() or self.qty <= 0:
            raise UsageError(f"--qty must be a positive number, got {self.qty}")
        if not self.offset_pct.is_finite() or not Decimal(0) < self.offset_pct < Decimal(50):
            raise UsageError(f"--offset-pct must be above 0 and below 50 (percent), got {self.offset_pct}")
        for name, value in (
            ("--requote-after", self.requote_after_s),
            ("--between-legs", self.between_legs_s),
            ("--cycle-sleep", self.cycle_sleep_s),
            ("--stop-before-funding", self.stop_before_funding_min),
        ):
            if not 0 <= value <= 7 * 86_400:
                raise UsageError(f"{name} must be between 0 and 604800, got {value:g}")
        if self.cycles is not None and self.cycles < 1:
            raise UsageError(f"--cycles must be at least 1, got {self.cycles}")
        if self.maker_venue == self.taker_venue:
            raise UsageError("--maker and --taker must be two different venues")


class SeedValues(Protocol):
    """What a seed file says about the loop (hedgectl.cli.seed_file.SeedFile): LoopConfig field -> value."""

    @property
    def trade(self) -> Mapping[str, Any]: ...

    @property
    def symbol(self) -> str | None: ...


def build_config(flags: Mapping[str, Any], seed: SeedValues | None) -> LoopConfig:
    """Flags (None = not given) over the seed file's values over the defaults; then checked."""
    values: dict[str, Any] = {}
    if seed is not None:
        values.update(seed.trade)
        if seed.symbol is not None:
            values["symbol"] = seed.symbol
    values.update({k: v for k, v in flags.items() if v is not None})
    config = replace(LoopConfig(), **values)
    config.check()
    return config
