"""Read-only checks across venues: `connect` (reachability, clock, auth, balances) and `prices`."""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hedgectl.domain.types import AccountConfig, Balance, Quote
from hedgectl.errors import HedgectlError
from hedgectl.venues.base import AccountConfigured, Venue
from hedgectl.venues.kit.transport import exception_chain

log = logging.getLogger("hedgectl")


@dataclass
class ConnectResult:
    venue: str
    mode: str
    host: str
    ok: bool = False
    rtt_ms_p50: float | None = None
    clock_skew_ms: float | None = None
    auth_ok: bool | None = None
    balances: list[Balance] = field(default_factory=list)
    account: AccountConfig | None = None  # position mode, margin mode, leverage (venues that have them)
    error: str | None = None


async def check_venue(venue: Venue, *, pings: int = 3) -> ConnectResult:
    """Ping the venue's clock a few times (RTT p50, skew), then read balances (auth) and the account's
    position mode, margin mode and leverage (Binance, OKX, Aster)."""
    result = ConnectResult(venue=venue.name, mode=venue.mode.value, host=venue.host)
    try:
        rtts: list[float] = []
        skews: list[float] = []
        for _ in range(pings):
            t0 = time.time()
            server = await venue.fetch_server_time()
            t1 = time.time()
            rtts.append((t1 - t0) * 1000)
            skews.append(server.timestamp() * 1000 - (t0 + t1) / 2 * 1000)
        result.rtt_ms_p50 = statistics.median(rtts)
        result.clock_skew_ms = statistics.median(skews)
    except HedgectlError as exc:
        log.debug("%s: server time failed: %s", venue.name, exception_chain(exc))
        result.error = f"unreachable: {exc}"
        return result
    try:
        result.balances = await venue.fetch_balances()
        result.auth_ok = True
    except HedgectlError as exc:
        log.debug("%s: balances failed: %s", venue.name, exception_chain(exc))
        result.auth_ok = False
        result.error = f"auth/balances failed: {exc}"
        return result
    if isinstance(venue, AccountConfigured):
        try:
            result.account = await venue.fetch_account_config()
        except HedgectlError as exc:
            result.error = f"account configuration unreadable: {exc}"
            return result
    result.ok = True
    return result


async def check_venues(venues: Sequence[Venue]) -> list[ConnectResult]:
    return list(await asyncio.gather(*(check_venue(v) for v in venues)))


@dataclass
class PriceRow:
    venue: str
    quote: Quote | None
    error: str | None = None

    @property
    def time_to_funding(self) -> timedelta | None:
        if self.quote is None or self.quote.next_funding_at is None:
            return None
        return max(timedelta(0), self.quote.next_funding_at - datetime.now(UTC))


@dataclass
class CrossSpread:
    """Buy on `buy_venue` at its ask, sell on `sell_venue` at its bid: the best such edge, in bps of mid."""

    buy_venue: str
    sell_venue: str
    bps: Decimal


async def fetch_prices(venues: Sequence[Venue], symbol: str) -> list[PriceRow]:
    async def one(venue: Venue) -> PriceRow:
        try:
            return PriceRow(venue=venue.name, quote=await venue.fetch_quote(symbol))
        except HedgectlError as exc:
            log.debug("%s: quote failed: %s", venue.name, exception_chain(exc))
            return PriceRow(venue=venue.name, quote=None, error=str(exc))

    return list(await asyncio.gather(*(one(v) for v in venues)))


def best_cross_spread(rows: Sequence[PriceRow]) -> CrossSpread | None:
    quotes = [r.quote for r in rows if r.quote is not None]
    best: CrossSpread | None = None
    for buy in quotes:
        for sell in quotes:
            if buy.venue == sell.venue:
                continue
            mid = (buy.mid + sell.mid) / 2
            bps = (sell.bid - buy.ask) / mid * 10_000
            if best is None or bps > best.bps:
                best = CrossSpread(buy_venue=buy.venue, sell_venue=sell.venue, bps=bps)
    return best
