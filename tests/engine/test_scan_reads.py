"""The scan's reads: a slow or failing venue marks its rows, the account's fee tier is used where read."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hedgectl.domain.types import BookLevel, OrderBook, Quote
from hedgectl.engine.scan.pairs import Listing
from hedgectl.engine.scan.reads import AdapterSource, ScanConfig, scan
from hedgectl.errors import Unavailable
from hedgectl.venues.read_only import read_only
from tests.engine.fakes import FakeVenue
from tests.waiting import loop_turns

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
D = Decimal


class FakeSource:
    """A venue listing BTC/USDT, answering at once (after a loop turn), never (`hangs`), or failing."""

    def __init__(self, name: str, *, hangs: bool = False, fail: bool = False, rate: str = "0.0001") -> None:
        self.name, self.hangs, self.fail, self.rate = name, hangs, fail, D(rate)
        self.closed = False

    async def listed(self) -> dict[tuple[str, str], Any]:
        return {("BTC", "USDT"): None}

    async def read(self, key: tuple[str, str], depth: int) -> Listing:
        await (asyncio.Event().wait() if self.hangs else loop_turns())
        if self.fail:
            raise Unavailable(self.name, "connection refused")
        base = key[0]
        quote = Quote(
            self.name, base, D(99), D(101), funding_rate=self.rate, funding_interval=timedelta(hours=8),
            next_funding_at=NOW + timedelta(hours=1),
        )  # fmt: skip
        book = OrderBook(self.name, base, (BookLevel(D(99), D(100)),), (BookLevel(D(101), D(100)),))
        return Listing(self.name, base, "USDT", quote, book, D("0.0005"), "default")

    async def close(self) -> None:
        self.closed = True


async def test_a_slow_venue_and_a_failing_one_mark_their_rows_and_the_rest_is_ranked() -> None:
    sources = [
        FakeSource("a"),
        FakeSource("b", rate="0.0002"),
        FakeSource("slow", hangs=True),
        FakeSource("down", fail=True),
    ]
    config = ScanConfig(timeout_s=0.2)
    result = await asyncio.wait_for(scan(sources, config, lambda: NOW), timeout=10)
    assert [(o.long.venue, o.short.venue) for o in result.opportunities] == [("a", "b"), ("b", "a")]
    reasons = {(u.long, u.short): u.reason for u in result.unranked}
    assert reasons[("slow", "a")] == "slow: no answer within 0.2 s"
    assert reasons[("a", "down")] == "down: connection refused"
    assert len(reasons) == 8  # each of slow and down, as long and as short, against a and b
    assert result.ok  # every venue listed its markets; only reads failed


async def test_a_venue_that_cannot_list_its_markets_is_marked_down() -> None:
    class Unlisted(FakeSource):
        async def listed(self) -> dict[tuple[str, str], Any]:
            raise Unavailable(self.name, "HTTP 503")

    result = await scan([FakeSource("a"), FakeSource("b"), Unlisted("c")], ScanConfig(symbols=("BTC",)), lambda: NOW)
    assert not result.ok
    assert result.venues["c"].error == "c: HTTP 503"
    assert {(u.long, u.short) for u in result.unranked} == {("c", "a"), ("a", "c"), ("c", "b"), ("b", "c")}
    assert len(result.opportunities) == 2


class FeeTierVenue(FakeVenue):
    async def fetch_taker_fee_rate(self, symbol: str) -> Decimal:
        return D("0.0002")


async def test_the_accounts_own_fee_tier_is_used_where_the_adapter_reads_it_even_read_only() -> None:
    venue = read_only(FeeTierVenue("binance", price=D(100)))  # type: ignore[arg-type]
    listing = await AdapterSource(venue, account_fees=True).read(("ASTER", "USDT"), 5)
    assert (listing.taker_fee_rate, listing.fee_source) == (D("0.0002"), "account")
    published = await AdapterSource(FakeVenue("binance", price=D(100)), account_fees=True).read(("ASTER", "USDT"), 5)  # type: ignore[arg-type]
    assert (published.taker_fee_rate, published.fee_source) == (D("0.0005"), "default")


async def test_a_symbol_listed_on_fewer_than_two_venues_says_so() -> None:
    result = await scan([FakeSource("a"), FakeSource("b")], ScanConfig(symbols=("BTC", "NOPE")), lambda: NOW)
    assert len(result.opportunities) == 2
    assert [(u.base, u.reason) for u in result.unranked] == [("NOPE", "listed on no venue")]
    assert result.unlisted == ["NOPE"]


async def test_reads_are_concurrent_but_never_more_than_the_limit_per_venue() -> None:
    class Counting(FakeSource):
        in_flight = peak = 0
        two_in_flight: asyncio.Event

        async def listed(self) -> dict[tuple[str, str], Any]:
            return {(base, "USDT"): None for base in ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA")}

        async def read(self, key: tuple[str, str], depth: int) -> Listing:
            cls = type(self)
            cls.in_flight += 1
            cls.peak = max(cls.peak, cls.in_flight)
            if cls.in_flight >= 2:
                cls.two_in_flight.set()
            try:
                # The first read waits (bounded) for a second to start beside it: concurrency seen, not timed. A
                # scan that read one at a time would never set the event, and leave the peak at 1 after the bound.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(2):
                        await cls.two_in_flight.wait()
                await loop_turns(5)  # a third read, were the limit not kept, would start meanwhile
                return await super().read(key, depth)
            finally:
                cls.in_flight -= 1

    class A(Counting):
        two_in_flight = asyncio.Event()

    class B(Counting):
        two_in_flight = asyncio.Event()

    config = ScanConfig(concurrency=2, rate_per_s=1000)
    result = await asyncio.wait_for(scan([A("a"), B("b")], config, lambda: NOW), timeout=10)
    assert len(result.opportunities) == 12
    assert A.peak == B.peak == 2  # both venues read side by side, each at most two at a time
