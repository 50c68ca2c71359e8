"""`hedgectl sim record`: capture the venues' public market data to a recording `replay` plays back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hedgectl.errors import ConfigError
from hedgectl.sim.market_source import recording
from hedgectl.sim.market_source.client import PublicClient
from hedgectl.sim.market_source.live import FUNDING_EVERY, wall_ms


@dataclass(frozen=True)
class Recorded:
    path: Path
    events: int
    pairs: list[tuple[str, str]]
    missing: list[tuple[str, str]]
    gaps: int  # polls that may have missed trades (a whole page was new)


async def record(
    pairs: Sequence[tuple[str, str]],
    out: Path,
    *,
    seconds: float,
    base_url: str | None = None,
    poll_ms: int = 1000,
    timeout_s: float = 5.0,
) -> Recorded:
    """Poll every pair for `seconds` (plus at most one request timeout) and write what is new to `out`."""
    client = PublicClient(pairs, base_url=base_url, timeout_s=timeout_s, clock_ms=wall_ms)
    try:
        ok = await client.prime()
        if not ok:
            raise ConfigError("no venue answered for market data (no internet, or a wrong --url)")
        missing = [p for p in pairs if p not in ok]
        venues = tuple(dict.fromkeys(v for v, _ in ok))
        header = recording.Header(wall_ms(), venues, tuple(dict.fromkeys(b for _, b in ok)))
        try:
            fh = out.open("w", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write {out}: {exc.strerror or type(exc).__name__}") from None
        with fh:
            writer = recording.Writer(fh, header)
            deadline = time.monotonic() + seconds
            rounds = 0
            while True:
                for event in await client.poll(funding=rounds % FUNDING_EVERY == 0):
                    writer.write(event)
                rounds += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                await asyncio.sleep(min(poll_ms / 1000, left))
        return Recorded(out, writer.count, ok, missing, client.gaps)
    finally:
        await client.aclose()
