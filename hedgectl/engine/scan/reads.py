"""Reading every venue for the scan: concurrent, rate-limited per venue, every read bounded.

A venue is a `Source`: one of ours through its adapter (public data: markets, quote, book; the account's fee
tier where the adapter reads it), or any other exchange through ccxt's public data. A read that fails or takes
longer than the timeout marks that venue's rows (or the venue) with the reason; the scan itself goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from hedgectl.aio import stop_tasks, within
from hedgectl.domain.fees import PUBLISHED_TAKER_FEE_RATE
from hedgectl.domain.types import Market
from hedgectl.engine.scan.pairs import Listing, Opportunity, evaluate, rank
from hedgectl.errors import HedgectlError, venue_said
from hedgectl.venues.base import AccountFees, Venue
from hedgectl.venues.kit.rate_limit import RateLimiter
from hedgectl.venues.kit.transport import exception_chain

if TYPE_CHECKING:
    from hedgectl.venues.ccxt_public import CcxtPublic, PublicMarket

log = logging.getLogger("hedgectl")
T = TypeVar("T")


@dataclass(frozen=True)
class ScanConfig:
    notional: Decimal = Decimal(1000)
    hold: timedelta = timedelta(hours=8)
    symbols: tuple[str, ...] | None = None  # None: every base listed on at least two venues
    min_apr_pct: Decimal | None = None  # keep only opportunities whose net APR reaches this
    depth: int = 50
    timeout_s: float = 10.0  # per read
    concurrency: int = 4  # reads in flight per venue
    rate_per_s: float = 10.0  # reads started per second per venue


class Source(Protocol):
    """One venue as the scan reads it."""

    name: str

    async def listed(self) -> dict[tuple[str, str], Any]:
        """Perpetuals keyed by (base, settlement asset)."""
        ...

    async def read(self, key: tuple[str, str], depth: int) -> Listing:
        """Quote, book and taker fee of one listed perpetual."""
        ...

    async def close(self) -> None: ...


class AdapterSource:
    """One of our four venues, through its adapter."""

    def __init__(self, venue: Venue, *, account_fees: bool) -> None:
        self.venue = venue
        self.name = venue.name
        self._account_fees = account_fees

    async def listed(self) -> dict[tuple[str, str], Any]:
        markets = await self.venue.load_markets()
        return {(m.symbol, m.quote): m for m in markets.values()}

    async def read(self, key: tuple[str, str], depth: int) -> Listing:
        """GET quote and book (concurrently), and the account's taker fee where the adapter reads it."""
        market: Market = (await self.listed())[key]
        quote, book, (fee, source) = await asyncio.gather(
            self.venue.fetch_quote(market.symbol), self.venue.fetch_book(market.symbol, depth), self._fee(market)
        )
        return Listing(self.name, key[0], key[1], quote, book, fee, source)

    async def _fee(self, market: Market) -> tuple[Decimal | None, str]:
        # The read-only wrapper forwards only the Venue protocol; a fee read is a read, so ask the adapter.
        inner = getattr(self.venue, "inner", self.venue)
        if self._account_fees and isinstance(inner, AccountFees):
            try:
                return await inner.fetch_taker_fee_rate(market.symbol), "account"
            except HedgectlError as exc:
                log.debug("%s: account fee tier unreadable, using the published default: %s", self.name, exc)
        return PUBLISHED_TAKER_FEE_RATE.get(self.name), "default"

    async def close(self) -> None:
        """The registry owns the adapter and closes it."""


class CcxtSource:
    """Any exchange ccxt knows, through its public market data (no keys: fees are the published defaults)."""

    def __init__(self, reader: CcxtPublic, *, published_fee: Decimal | None = None) -> None:
        self.reader = reader
        self.name = reader.name
        self._published_fee = published_fee

    async def listed(self) -> dict[tuple[str, str], Any]:
        return dict(await self.reader.markets())

    async def read(self, key: tuple[str, str], depth: int) -> Listing:
        market: PublicMarket = (await self.reader.markets())[key]
        quote, book = await asyncio.gather(self.reader.quote(market), self.reader.book(market, depth))
        fee = self._published_fee if self._published_fee is not None else market.taker_fee_rate
        return Listing(self.name, key[0], key[1], quote, book, fee, "default")

    async def close(self) -> None:
        await self.reader.close()


class Throttle:
    """Per venue: at most `concurrency` reads in flight, `rate_per_s` started per second, each bounded."""

    def __init__(self, config: ScanConfig) -> None:
        self._slots = asyncio.Semaphore(config.concurrency)
        self._limiter = RateLimiter(config.rate_per_s, burst=config.concurrency)
        self._timeout_s = config.timeout_s

    async def run(self, make: Callable[[], Awaitable[T]]) -> T:
        async with self._slots:
            await within(self._limiter.acquire(), self._timeout_s)
            return await within(make(), self._timeout_s)


@dataclass
class VenueStatus:
    ok: bool
    markets: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Unranked:
    """A pair that could not be priced, and why (a venue down or slow, no interval reported, a thin book...)."""

    base: str
    long: str  # venue names; "-" where there is no other side to pair with
    short: str
    reason: str
    long_settle: str | None = None  # None: not known (the venue could not be read)
    short_settle: str | None = None


@dataclass
class ScanResult:
    as_of: datetime
    config: ScanConfig
    opportunities: list[Opportunity] = field(default_factory=list)
    unranked: list[Unranked] = field(default_factory=list)
    venues: dict[str, VenueStatus] = field(default_factory=dict)
    below_min_apr: int = 0
    unlisted: list[str] = field(default_factory=list)  # asked for (--symbols) but listed by no venue that answered

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.venues.values())


async def scan(sources: Sequence[Source], config: ScanConfig, now: Callable[[], datetime]) -> ScanResult:
    """Read every source, price every ordered pair of listings of the same base, rank them."""
    throttles = {s.name: Throttle(config) for s in sources}
    result = ScanResult(as_of=now(), config=config)
    listed_by: dict[str, dict[tuple[str, str], Any]] = {}

    async def listing_of(source: Source) -> None:
        try:
            listed_by[source.name] = await throttles[source.name].run(source.listed)
            result.venues[source.name] = VenueStatus(ok=True, markets=len(listed_by[source.name]))
        except (HedgectlError, TimeoutError) as exc:
            result.venues[source.name] = VenueStatus(ok=False, error=_reason(source.name, exc, config))

    await _gather([listing_of(s) for s in sources])
    result.venues = {s.name: result.venues[s.name] for s in sources if s.name in result.venues}  # in the asked order
    bases = _bases(listed_by, config.symbols)
    if config.symbols is not None:
        listed_anywhere = {key[0] for listed in listed_by.values() for key in listed}
        result.unlisted = [base for base in config.symbols if base not in listed_anywhere]
    keys = [(s, key) for s in sources for key in listed_by.get(s.name, {}) if key[0] in bases]
    listings: dict[str, list[Listing]] = {}
    failures: dict[str, dict[str, str]] = {}  # base -> venue -> why its read failed

    async def read(source: Source, key: tuple[str, str]) -> None:
        try:
            listing = await throttles[source.name].run(lambda: source.read(key, config.depth))
            listings.setdefault(key[0], []).append(listing)
        except (HedgectlError, TimeoutError) as exc:
            failures.setdefault(key[0], {})[source.name] = _reason(source.name, exc, config)

    await _gather([read(s, key) for s, key in keys])
    result.as_of = now()
    if config.symbols is not None:  # a venue that could not be read at all, for the bases the user asked
        for name, status in result.venues.items():
            if not status.ok and status.error is not None:
                for base in config.symbols:
                    failures.setdefault(base, {}).setdefault(name, status.error)
    priced: list[Opportunity] = []
    for base in sorted(bases):
        here = sorted(listings.get(base, []), key=lambda item: (item.venue, item.settle))
        for long in here:
            for short in here:
                if long.venue == short.venue:
                    continue
                outcome = evaluate(long, short, config.notional, config.hold, result.as_of)
                if isinstance(outcome, str):
                    result.unranked.append(Unranked(base, long.venue, short.venue, outcome, long.settle, short.settle))
                else:
                    priced.append(outcome)
        failed_here = failures.get(base, {})
        if len({item.venue for item in here}) < 2 and not failed_here:
            where = ", ".join(sorted({item.venue for item in here}))
            why = f"listed on fewer than two venues ({where})" if where else "listed on no venue"
            result.unranked.append(Unranked(base, "-", "-", why))
        for venue, why in sorted(failed_here.items()):
            for other in here:
                result.unranked.append(Unranked(base, venue, other.venue, why, short_settle=other.settle))
                result.unranked.append(Unranked(base, other.venue, venue, why, long_settle=other.settle))
            if not here:
                result.unranked.append(Unranked(base, venue, "-", why))
    if config.min_apr_pct is not None:
        kept = [o for o in priced if o.net_apr_pct >= config.min_apr_pct]
        result.below_min_apr = len(priced) - len(kept)
        priced = kept
    result.opportunities = rank(priced)
    return result


def _bases(listed_by: dict[str, dict[tuple[str, str], Any]], symbols: tuple[str, ...] | None) -> set[str]:
    if symbols is not None:
        return set(symbols)
    venues_per_base: dict[str, set[str]] = {}
    for venue, listed in listed_by.items():
        for base, _settle in listed:
            venues_per_base.setdefault(base, set()).add(venue)
    return {base for base, venues in venues_per_base.items() if len(venues) >= 2}


def _reason(venue: str, exc: BaseException, config: ScanConfig) -> str:
    if isinstance(exc, TimeoutError):
        return f"{venue}: no answer within {config.timeout_s:g} s"
    log.debug("%s: scan read failed: %s", venue, exception_chain(exc))
    return venue_said(venue, exc)


async def _gather(reads: list[Awaitable[None]]) -> None:
    """Run every read; each catches its own failures. If the scan itself is cancelled, none is left running."""
    tasks = [asyncio.ensure_future(r) for r in reads]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        await stop_tasks(tasks, what="scan read")
        raise
