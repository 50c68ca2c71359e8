"""A small public-market-data client for the `live` source and `hedgectl sim record`: REST only, no keys.

Deliberately not the adapters' code (hedgectl/venues/*): the simulator is the referee and never imports it.
It reads each venue's public endpoints - depth, recent trades, mark/funding - and turns the wire into
`Snapshot`, `Trade` and `FundingQuote`, in base units. Every request is bounded by `timeout_s`.

Why polling rather than the public WebSockets: one code path that a second simulator can stand in for (the
simulator serves these REST routes), one bounded request per step, and trades deduplicated by id so that a
slow poll loses none of the venue's last `TRADES_LIMIT` trades (each venue's maximum page). A venue printing more
trades than that per poll interval loses the oldest ones - counted in `gaps` - and the queue model then sees
fewer fills, never more (pessimistic).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from hedgectl.sim.instruments import symbol_for
from hedgectl.sim.market_source.records import FundingQuote, Snapshot, Trade

# The venues' public mainnet hosts (duplicated from hedgectl/venues/config.py on purpose: sim/ imports no adapter
# code). Overridden by `base_url` (a simulator standing in for all four, each under /<venue>).
PUBLIC_URLS: dict[str, str] = {
    "binance": "https://fapi.binance.com",
    "okx": "https://www.okx.com",
    "backpack": "https://api.backpack.exchange",
    "aster": "https://fapi.asterdex.com",
}
DEPTH_LIMIT = 20
# The largest page of recent trades each venue serves (Binance/Aster /fapi/v1/trades and Backpack 1000, OKX 500).
TRADES_LIMIT: dict[str, int] = {"binance": 1000, "okx": 500, "backpack": 1000, "aster": 1000}
SEEN_LIMIT = 4000
Event = Snapshot | Trade | FundingQuote


class MarketDataError(Exception):
    """A public endpoint failed or answered something unreadable; the message names venue and route."""


def venue_urls(base_url: str | None) -> dict[str, str]:
    """Each venue's REST root: the real hosts, or `base_url`/<venue> for a stand-in simulator."""
    if base_url is None:
        return dict(PUBLIC_URLS)
    root = base_url.rstrip("/")
    return {venue: f"{root}/{venue}" for venue in PUBLIC_URLS}


def _dec(raw: Any, what: str) -> Decimal:
    try:
        value = Decimal(str(raw)) if isinstance(raw, str | int | float) and not isinstance(raw, bool) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise MarketDataError(f"{what} is not a number")
    return value


def _levels(raw: Any, what: str, scale: Decimal, *, descending: bool) -> tuple[tuple[Decimal, Decimal], ...]:
    if not isinstance(raw, list):
        raise MarketDataError(f"{what} is not a list")
    out = []
    for row in raw:
        if not isinstance(row, list) or len(row) < 2:
            raise MarketDataError(f"{what} has a malformed level")
        price, qty = _dec(row[0], what), _dec(row[1], what) * scale
        if price > 0 and qty > 0:
            out.append((price, qty))
    # Backpack sends both sides ascending; sorting here makes every venue best-first.
    out.sort(key=lambda level: level[0], reverse=descending)
    return tuple(out[:DEPTH_LIMIT])


@dataclass
class _Key:
    venue: str
    base: str
    symbol: str
    contract_value: Decimal = Decimal(1)
    seen: deque[str] = field(default_factory=lambda: deque(maxlen=SEEN_LIMIT))
    seen_set: set[str] = field(default_factory=set)

    def remember(self, trade_id: str) -> bool:
        """Record a trade id; False if it was already seen."""
        if trade_id in self.seen_set:
            return False
        if len(self.seen) == self.seen.maxlen:
            self.seen_set.discard(self.seen[0])
        self.seen.append(trade_id)
        self.seen_set.add(trade_id)
        return True


class PublicClient:
    """Polls books, trades and funding of (venue, base) pairs; `poll` returns what is new since the last one."""

    def __init__(
        self,
        pairs: Sequence[tuple[str, str]],
        *,
        base_url: str | None = None,
        timeout_s: float = 5.0,
        clock_ms: Callable[[], int],
    ) -> None:
        self.urls = venue_urls(base_url)
        self.timeout_s = timeout_s
        self._clock_ms = clock_ms
        self._keys = [_Key(venue, base, symbol_for(venue, base)) for venue, base in pairs]
        self.gaps = 0  # polls whose whole page of trades was new: older trades may have been missed
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), follow_redirects=False)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(k.venue, k.base) for k in self._keys]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, venue: str, path: str, params: dict[str, str]) -> Any:
        url = self.urls[venue] + path
        try:
            # Bounded twice: httpx's own timeouts per phase, and the whole request here.
            response = await asyncio.wait_for(self._http.get(url, params=params), timeout=self.timeout_s)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise MarketDataError(f"{venue} GET {path}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise MarketDataError(f"{venue} GET {path}: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise MarketDataError(f"{venue} GET {path}: not JSON") from None
        if venue == "okx":
            if not isinstance(data, dict) or data.get("code") != "0" or not isinstance(data.get("data"), list):
                raise MarketDataError(f"okx GET {path}: code {data.get('code') if isinstance(data, dict) else '?'}")
            return data["data"]
        return data

    async def prime(self) -> list[tuple[str, str]]:
        """Read each pair once (contract size, current trades marked as seen); return the pairs that answered."""
        ok: list[tuple[str, str]] = []
        results = await asyncio.gather(*(self._prime(key) for key in self._keys), return_exceptions=True)
        for key, result in zip(self._keys, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, MarketDataError):
                    raise result
                continue
            ok.append((key.venue, key.base))
        self._keys = [k for k in self._keys if (k.venue, k.base) in ok]
        return ok

    async def _prime(self, key: _Key) -> None:
        if key.venue == "okx":
            rows = await self._get("okx", "/api/v5/public/instruments", {"instType": "SWAP", "instId": key.symbol})
            if not rows or not isinstance(rows[0], dict):
                raise MarketDataError(f"okx lists no {key.symbol}")
            key.contract_value = _dec(rows[0].get("ctVal"), "okx ctVal")
        for trade in await self._trades(key):
            key.remember(trade.trade_id)

    async def poll(self, *, funding: bool) -> list[Event]:
        """One round over every pair: books and new trades (and funding when asked); failures are skipped."""
        results = await asyncio.gather(*(self._poll(k, funding) for k in self._keys), return_exceptions=True)
        events: list[Event] = []
        for result in results:
            if isinstance(result, MarketDataError):
                continue  # a missed round: the next one reads the venue again
            if isinstance(result, BaseException):
                raise result
            events.extend(result)
        return events

    async def _poll(self, key: _Key, funding: bool) -> list[Event]:
        out: list[Event] = [await self._book(key)]
        trades = await self._trades(key)
        if funding:
            # A funding read that fails costs this round's funding only: the book and the trades still count.
            with contextlib.suppress(MarketDataError):
                out.append(await self._funding(key))
        # Trades are remembered only once nothing else in this round can fail: a lost round loses none of them.
        new = [t for t in trades if key.remember(t.trade_id)]
        if trades and len(new) == len(trades) == TRADES_LIMIT[key.venue]:
            self.gaps += 1
        out.extend(new)
        return out

    # ---- per-venue wire ------------------------------------------------------------------------------------

    async def _book(self, key: _Key) -> Snapshot:
        venue, symbol = key.venue, key.symbol
        if venue == "okx":
            rows = await self._get(venue, "/api/v5/market/books", {"instId": symbol, "sz": str(DEPTH_LIMIT)})
            raw = rows[0] if rows and isinstance(rows[0], dict) else {}
        elif venue == "backpack":
            raw = await self._get(venue, "/api/v1/depth", {"symbol": symbol, "limit": str(DEPTH_LIMIT)})
        else:
            raw = await self._get(venue, "/fapi/v1/depth", {"symbol": symbol, "limit": str(DEPTH_LIMIT)})
        if not isinstance(raw, dict):
            raise MarketDataError(f"{venue} depth of {symbol} is not an object")
        what = f"{venue} depth of {symbol}"
        bids = _levels(raw.get("bids"), what, key.contract_value, descending=True)
        asks = _levels(raw.get("asks"), what, key.contract_value, descending=False)
        if not bids or not asks:
            raise MarketDataError(f"{what} has an empty side")
        return Snapshot(venue, key.base, bids, asks, self._clock_ms())

    async def _trades(self, key: _Key) -> list[Trade]:
        venue, symbol = key.venue, key.symbol
        limit = str(TRADES_LIMIT[venue])
        what = f"{venue} trades of {symbol}"
        out: list[Trade] = []
        if venue == "okx":
            for row in await self._get(venue, "/api/v5/market/trades", {"instId": symbol, "limit": limit}):
                if not isinstance(row, dict) or row.get("side") not in ("buy", "sell"):
                    raise MarketDataError(f"{what}: malformed row")
                qty = _dec(row.get("sz"), what) * key.contract_value
                out.append(
                    Trade(
                        venue,
                        key.base,
                        str(row.get("tradeId")),
                        _dec(row.get("px"), what),
                        qty,
                        str(row["side"]),
                        int(_dec(row.get("ts"), what)),
                    )
                )
        else:
            path = "/api/v1/trades" if venue == "backpack" else "/fapi/v1/trades"
            rows = await self._get(venue, path, {"symbol": symbol, "limit": limit})
            if not isinstance(rows, list):
                raise MarketDataError(f"{what} is not a list")
            for row in rows:
                if not isinstance(row, dict) or not isinstance(row.get("isBuyerMaker"), bool):
                    raise MarketDataError(f"{what}: malformed row")
                qty = _dec(row.get("quantity" if venue == "backpack" else "qty"), what)
                stamp = row.get("timestamp" if venue == "backpack" else "time")
                # The buyer was the maker: a seller took liquidity.
                taker = "sell" if row["isBuyerMaker"] else "buy"
                out.append(
                    Trade(
                        venue,
                        key.base,
                        str(row.get("id")),
                        _dec(row.get("price"), what),
                        qty,
                        taker,
                        int(_dec(stamp, what)),
                    )
                )
        out.sort(key=lambda t: t.time_ms)
        return out

    async def _funding(self, key: _Key) -> FundingQuote:
        venue, symbol = key.venue, key.symbol
        what = f"{venue} funding of {symbol}"
        if venue == "okx":
            rows = await self._get(venue, "/api/v5/public/funding-rate", {"instId": symbol})
            marks = await self._get(venue, "/api/v5/public/mark-price", {"instType": "SWAP", "instId": symbol})
            if not rows or not isinstance(rows[0], dict):
                raise MarketDataError(f"{what}: no row")
            mark = _dec(marks[0].get("markPx"), what) if marks and isinstance(marks[0], dict) else None
            return FundingQuote(venue, key.base, _dec(rows[0].get("fundingRate"), what), mark, None, self._clock_ms())
        if venue == "backpack":
            rows = await self._get(venue, "/api/v1/markPrices", {"symbol": symbol})
            row = (
                next((r for r in rows if isinstance(r, dict) and r.get("symbol") == symbol), None)
                if isinstance(rows, list)
                else None
            )
            if row is None:
                raise MarketDataError(f"{what}: no row")
            return FundingQuote(
                venue,
                key.base,
                _dec(row.get("fundingRate"), what),
                _dec(row.get("markPrice"), what),
                _dec(row.get("indexPrice"), what),
                self._clock_ms(),
            )
        row = await self._get(venue, "/fapi/v1/premiumIndex", {"symbol": symbol})
        if not isinstance(row, dict):
            raise MarketDataError(f"{what}: not an object")
        return FundingQuote(
            venue,
            key.base,
            _dec(row.get("lastFundingRate"), what),
            _dec(row.get("markPrice"), what),
            _dec(row.get("indexPrice"), what),
            self._clock_ms(),
        )
