"""Where the simulator's market comes from: `synthetic` (seeded random walk), `replay FILE`, or `live`.

`parse_market("replay:day.jsonl")` reads the setting (HEDGECTL_SIM_MARKET, `hedgectl sim serve --market`);
`MarketSpec.build(seed, tick_ms)` makes the source. Heavy modules (httpx) load only for `live`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from hedgectl.errors import ConfigError
from hedgectl.sim.instruments import BASES, VENUES

if TYPE_CHECKING:
    from hedgectl.sim.market import PriceProcess
    from hedgectl.sim.market_source.base import MarketSource

KINDS = ("synthetic", "replay", "live")


@dataclass(frozen=True)
class MarketSpec:
    """A market source as configured: kind, and what that kind needs."""

    kind: str = "synthetic"
    path: Path | None = None  # replay
    speed: Decimal = Decimal(1)  # replay: 2 = twice as fast as recorded
    venues: tuple[str, ...] = VENUES  # live
    symbols: tuple[str, ...] = BASES  # live
    live_url: str | None = None  # live: a simulator standing in for the venues (tests); None = the real hosts
    poll_ms: int = 1000  # live

    @property
    def label(self) -> str:
        """One word or two for a status line: synthetic, replay FILE (x2), live."""
        if self.kind == "replay":
            speed = "" if self.speed == 1 else f" x{self.speed.normalize():f}"
            return f"replay {self.path}{speed}"
        if self.kind == "live":
            return "live" if self.live_url is None else f"live ({self.live_url})"
        return "synthetic"

    def build(self, seed: int, tick_ms: int) -> PriceProcess | MarketSource:
        """The source itself (a live one still needs `await source.start()` in the serving loop)."""
        from hedgectl.sim.market import PriceProcess

        if self.kind == "replay":
            from hedgectl.sim.market_source.replay import ReplaySource

            return ReplaySource(self.path or Path(), tick_ms, self.speed)
        if self.kind == "live":
            from hedgectl.sim.market_source.live import LiveSource

            pairs = [(v, b) for v in self.venues for b in self.symbols]
            return LiveSource(pairs, base_url=self.live_url, poll_ms=self.poll_ms)
        return PriceProcess(seed, tick_ms)


def _names(raw: str, allowed: tuple[str, ...], what: str, *, upper: bool) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(n.strip().upper() if upper else n.strip().lower() for n in raw.split(",") if n.strip()))
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise ConfigError(f"{what} must be among {', '.join(allowed)} (got {raw!r})")
    return names


def parse_market(
    raw: str | None,
    *,
    speed: str | Decimal | None = None,
    venues: str | None = None,
    symbols: str | None = None,
    live_url: str | None = None,
) -> MarketSpec:
    """Read `synthetic`, `replay:FILE` (or `replay FILE`) or `live`; a bad value is one ConfigError."""
    text = (raw or "synthetic").strip()
    kind, _, rest = text.replace(" ", ":", 1).partition(":")
    kind = kind.lower()
    if kind not in KINDS:
        raise ConfigError(f"the market source must be synthetic, replay:FILE or live (got {text!r})")
    if kind == "synthetic":
        if rest:
            raise ConfigError("the synthetic market source takes no argument")
        return MarketSpec()
    if kind == "replay":
        if not rest.strip():
            raise ConfigError("replay needs a recording: replay:FILE (see `hedgectl sim record`)")
        try:
            pace = Decimal(str(speed)) if speed is not None else Decimal(1)
        except InvalidOperation:
            pace = Decimal(0)
        if not pace.is_finite() or pace <= 0:
            raise ConfigError(f"the replay speed must be a positive number (got {speed!r})")
        return MarketSpec(kind, path=Path(rest.strip()).expanduser(), speed=pace)
    if rest:
        raise ConfigError("live takes no argument: choose venues and symbols with HEDGECTL_SIM_LIVE_VENUES/_SYMBOLS")
    if live_url is not None and not live_url.startswith(("http://", "https://")):
        raise ConfigError(f"the live market URL must be http(s)://... (got {live_url!r})")
    return MarketSpec(
        kind,
        venues=_names(venues, VENUES, "live venues", upper=False) if venues else VENUES,
        symbols=_names(symbols, BASES, "live symbols", upper=True) if symbols else BASES,
        live_url=live_url,
    )
