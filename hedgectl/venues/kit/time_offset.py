"""Server-time offset: measured once, applied to every signed timestamp (no -1021-style rejections).

The last measured offset of each venue is kept on disk (`save_cached_offset` / `load_cached_offset`, beside the
market rules cache) so that the next command signs its first request at once instead of waiting a round trip
for the venue's clock; the seam (kit/http.py) then measures again in the background.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from hedgectl.clock import SYSTEM_CLOCK

OFFSET_CACHE_TTL_S = 900.0  # a clock does not drift by a recvWindow in 15 minutes; an NTP step is re-measured


class TimeOffset:
    """Milliseconds to add to the local clock to get the venue's clock."""

    def __init__(self) -> None:
        self.offset_ms = 0
        self.rtt_ms: float | None = None

    async def measure(self, server_time_ms: Callable[[], Awaitable[int]]) -> int:
        """Ask the venue for its time and record offset = server - midpoint of the round trip."""
        t0 = SYSTEM_CLOCK.time()
        server_ms = await server_time_ms()
        t1 = SYSTEM_CLOCK.time()
        self.rtt_ms = (t1 - t0) * 1000
        self.offset_ms = int(server_ms - (t0 + t1) / 2 * 1000)
        return self.offset_ms

    def now_ms(self) -> int:
        return int(SYSTEM_CLOCK.time() * 1000) + self.offset_ms

    def now_us(self) -> int:
        return int(SYSTEM_CLOCK.time() * 1_000_000) + self.offset_ms * 1000


def _offset_path(cache_dir: Path, venue: str, base_url: str) -> Path:
    safe = "".join(c if c.isalnum() else "_" for c in base_url)[-60:]
    return cache_dir / f"clock-{venue}-{safe}.json"


def load_cached_offset(
    cache_dir: Path | None, venue: str, base_url: str, ttl_s: float = OFFSET_CACHE_TTL_S
) -> int | None:
    """The offset last measured for this venue and base URL if younger than `ttl_s`; None otherwise."""
    if cache_dir is None:
        return None
    path = _offset_path(cache_dir, venue, base_url)
    try:
        if SYSTEM_CLOCK.time() - path.stat().st_mtime > ttl_s:
            return None
        value = json.loads(path.read_text())["offset_ms"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def save_cached_offset(cache_dir: Path | None, venue: str, base_url: str, offset_ms: int) -> None:
    """Write the offset atomically; a failure to cache is never an error."""
    if cache_dir is None:
        return
    path = _offset_path(cache_dir, venue, base_url)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"offset_ms": offset_ms}))
        tmp.replace(path)
    except OSError:
        return
