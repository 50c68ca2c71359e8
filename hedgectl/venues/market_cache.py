"""Market rules cached on disk with a TTL, so a command does not wait for a full market load each time."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from decimal import Decimal
from pathlib import Path

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.types import Market

_DECIMAL_FIELDS = {f.name for f in fields(Market)} - {"venue", "symbol", "venue_symbol", "base", "quote"}


def _cache_path(cache_dir: Path, venue: str, base_url: str) -> Path:
    safe = "".join(c if c.isalnum() else "_" for c in base_url)[-60:]
    return cache_dir / f"markets-{venue}-{safe}.json"


def load_markets_cache(cache_dir: Path | None, venue: str, base_url: str, ttl_s: float) -> dict[str, Market] | None:
    """Cached markets if present and younger than `ttl_s`; None otherwise (or if the file is unreadable)."""
    if cache_dir is None:
        return None
    path = _cache_path(cache_dir, venue, base_url)
    try:
        if SYSTEM_CLOCK.time() - path.stat().st_mtime > ttl_s:
            return None
        rows = json.loads(path.read_text())
        markets = {}
        for row in rows:
            for key in _DECIMAL_FIELDS:
                if row.get(key) is not None:
                    row[key] = Decimal(row[key])
            market = Market(**row)
            markets[market.symbol] = market
        return markets
    except (OSError, ValueError, TypeError, ArithmeticError):
        return None


def save_markets_cache(cache_dir: Path | None, venue: str, base_url: str, markets: dict[str, Market]) -> None:
    """Write the markets atomically; a failure to cache is never an error."""
    if cache_dir is None:
        return
    path = _cache_path(cache_dir, venue, base_url)
    rows = [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(m).items()} for m in markets.values()]
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(rows))
        tmp.replace(path)
    except OSError:
        return
