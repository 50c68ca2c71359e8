"""One venue's market rules: loaded once per session, from a fresh disk cache when there is one.

Every native adapter (Binance family, OKX, Backpack) holds a `MarketRules` and gives it its own fetch (the
markets endpoint parsed into `{canonical base: Market}` plus `{base: why its row was unreadable}`). The rules
here are the same for all of them:

- the first `load()` reads `markets-<venue>-<base url>.json` under the config's `cache_dir` if it is younger
  than `market_cache_ttl_s`, and fetches (then writes the file atomically) otherwise; later calls reuse it;
- `get(symbol)` maps what the user typed to the canonical base; a miss in rules that came from the cache
  reloads them once from the venue (a market listed since the file was written);
- a base whose row could not be read is BadResponse (that symbol is refused, the venue's others still trade);
  a base the venue does not list is SymbolNotListed, worded by the venue (`not_listed(base)`).

A cache file that cannot be read or written is never an error: the rules are fetched instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, fields
from decimal import Decimal
from pathlib import Path

from hedgectl.clock import SYSTEM_CLOCK
from hedgectl.domain.symbols import canonical_symbol
from hedgectl.domain.types import Market
from hedgectl.errors import BadResponse, SymbolNotListed
from hedgectl.venues.config import VenueConfig

# The venue's markets endpoint, parsed: {canonical base: Market}, {base: why its row was unreadable}.
FetchMarkets = Callable[[], Awaitable[tuple[dict[str, Market], dict[str, str]]]]

_DECIMAL_FIELDS = {f.name for f in fields(Market)} - {"venue", "symbol", "venue_symbol", "base", "quote"}


class MarketRules:
    """The market rules of one venue account, shared by every call of the session (see the module docstring)."""

    def __init__(
        self, config: VenueConfig, fetch: FetchMarkets, *, not_listed: Callable[[str], str], venue: str | None = None
    ) -> None:
        self.venue = venue or config.name
        self._config = config
        self._fetch = fetch
        self._not_listed = not_listed
        self._markets: dict[str, Market] | None = None
        self._broken: dict[str, str] = {}
        self._canonical: dict[str, str] = {}
        self._from_cache = False
        self._lock = asyncio.Lock()

    @property
    def loaded(self) -> dict[str, Market] | None:
        """The rules as last loaded (None before the first load)."""
        return self._markets

    async def load(self, *, reload: bool = False) -> dict[str, Market]:
        """The rules: in memory, else from a fresh cache file, else fetched (and cached); `reload` fetches."""
        async with self._lock:
            if self._markets is not None and not reload:
                return self._markets
            cfg = self._config
            cached = None if reload else load_cache(cfg.cache_dir, self.venue, cfg.base_url, cfg.market_cache_ttl_s)
            if cached:
                markets, self._broken, self._from_cache = cached, {}, True
            else:
                markets, self._broken = await self._fetch()
                self._from_cache = False
                save_cache(cfg.cache_dir, self.venue, cfg.base_url, markets)
            self._markets = markets
            self._canonical = {m.venue_symbol: m.symbol for m in markets.values()}
            return markets

    async def get(self, symbol: str) -> Market:
        """The market of what the user typed (BTC, btc, BTC/USDT...); a miss in cached rules reloads them once."""
        base = canonical_symbol(symbol)
        markets = await self.load()
        if base not in markets and self._from_cache:
            markets = await self.load(reload=True)
        if base in markets:
            return markets[base]
        if base in self._broken:  # one odd row: this symbol is refused, the venue's others still trade
            raise BadResponse(self.venue, f"{base}: market rules unreadable: {self._broken[base]}")
        raise SymbolNotListed(self.venue, self._not_listed(base))

    def canonical(self, venue_symbol: str) -> str | None:
        """The canonical base of a listed venue symbol (BTCUSDT -> BTC); None if it is not one of the rules."""
        return self._canonical.get(venue_symbol)


def cache_path(cache_dir: Path, venue: str, base_url: str) -> Path:
    """The cache file of one venue at one base URL (paper and live rules never share a file)."""
    safe = "".join(c if c.isalnum() else "_" for c in base_url)[-60:]
    return cache_dir / f"markets-{venue}-{safe}.json"


def load_cache(cache_dir: Path | None, venue: str, base_url: str, ttl_s: float) -> dict[str, Market] | None:
    """Cached markets if present and younger than `ttl_s`; None otherwise (or if the file is unreadable)."""
    if cache_dir is None:
        return None
    path = cache_path(cache_dir, venue, base_url)
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


def save_cache(cache_dir: Path | None, venue: str, base_url: str, markets: dict[str, Market]) -> None:
    """Write the markets atomically; a failure to cache is never an error."""
    if cache_dir is None:
        return
    path = cache_path(cache_dir, venue, base_url)
    rows = [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(m).items()} for m in markets.values()]
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(rows))
        tmp.replace(path)
    except OSError:
        return
