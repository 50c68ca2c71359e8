"""The `live` market source: the venues' public market data, polled while the simulator runs.

Books, marks and funding rates are the last ones received; trades are handed to the engine once, in the
order they were printed. Until `start` has read every pair once, the simulator does not serve.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from decimal import Decimal

from hedgectl.errors import ConfigError
from hedgectl.sim.instruments import Instrument
from hedgectl.sim.market import Book
from hedgectl.sim.market_source.base import sampled_ohlc
from hedgectl.sim.market_source.client import Event, MarketDataError, PublicClient
from hedgectl.sim.market_source.records import FundingQuote, Snapshot, Trade
from hedgectl.sim.market_source.replay import snapshot_book
from hedgectl.sim.model import Reason, SimError

log = logging.getLogger("hedgectl.sim")
PENDING_LIMIT = 10_000  # trades kept per pair between two engine looks
FUNDING_EVERY = 10  # polls between two reads of mark and funding
START_TIMEOUT_S = 10.0  # under the embedded simulator's own start bound (sim/embedded.py)


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class LiveSource:
    kind = "live"
    trade_driven = True

    def __init__(
        self,
        pairs: Sequence[tuple[str, str]],
        *,
        base_url: str | None = None,
        poll_ms: int = 1000,
        timeout_s: float = 4.0,
    ) -> None:
        if poll_ms < 50:
            raise ConfigError("the live market's poll interval must be at least 50 ms")
        self.base_url = base_url
        self.poll_ms = poll_ms
        self.timeout_s = timeout_s
        self._wanted = list(pairs)
        self._client: PublicClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._books: dict[tuple[str, str], tuple[int, Snapshot]] = {}
        self._funding: dict[tuple[str, str], FundingQuote] = {}
        self._pending: dict[tuple[str, str], deque[Trade]] = {}
        self._built: dict[tuple[str, str], Book] = {}
        self.errors = 0

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {"source": self.kind, "pairs": [f"{v}:{b}" for v, b in sorted(self._books)]}
        out["trade_gaps"] = self._client.gaps if self._client is not None else 0
        if self.base_url is not None:
            out["url"] = self.base_url
        return out

    def covers(self, venue: str, base: str) -> bool:
        return (venue, base) in self._books if self._client is not None else (venue, base) in self._wanted

    async def start(self) -> None:
        """Read every pair once (bounded), then keep polling in the background."""
        client = PublicClient(self._wanted, base_url=self.base_url, timeout_s=self.timeout_s, clock_ms=wall_ms)
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                ok = await client.prime()
                events = await client.poll(funding=True) if ok else []
        except TimeoutError:
            await client.aclose()
            raise ConfigError(f"no live market data within {START_TIMEOUT_S:g} s") from None
        except BaseException:
            await client.aclose()
            raise
        self._client = client
        self._apply(events)
        missing = [f"{v}:{b}" for v, b in self._wanted if (v, b) not in self._books]
        if not self._books:
            await client.aclose()
            self._client = None
            raise ConfigError("no venue answered for live market data (no internet, or a wrong HEDGECTL_SIM_LIVE_URL)")
        if missing:
            log.warning("live market: no data for %s; those instruments are not listed", ", ".join(missing))
        self._task = asyncio.get_running_loop().create_task(self._run(), name="hedgectl-sim-live-market")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        client = self._client
        if client is None:
            return
        rounds = 0
        while True:
            await asyncio.sleep(self.poll_ms / 1000)
            rounds += 1
            try:
                self._apply(await client.poll(funding=rounds % FUNDING_EVERY == 0))
            except MarketDataError:
                self.errors += 1
            except Exception:  # keep polling; a bug here must not stop the market
                self.errors += 1
                log.exception("live market: poll failed")

    def _apply(self, events: list[Event]) -> None:
        for event in events:
            key = (event.venue, event.base)
            if isinstance(event, Snapshot):
                version = self._books[key][0] + 1 if key in self._books else 0
                self._books[key] = (version, event)
            elif isinstance(event, Trade):
                self._pending.setdefault(key, deque(maxlen=PENDING_LIMIT)).append(event)
            else:
                self._funding[key] = event

    def _snapshot(self, venue: str, base: str) -> tuple[int, Snapshot]:
        got = self._books.get((venue, base))
        if got is None:
            raise SimError(Reason.UNKNOWN_SYMBOL, f"no live data for {base} on {venue}", symbol=base)
        return got

    def book(self, inst: Instrument, tick: int) -> Book:
        key = (inst.venue, inst.base)
        version, snapshot = self._snapshot(inst.venue, inst.base)
        cached = self._built.get(key)
        if cached is None or cached.tick != version:
            cached = self._built[key] = snapshot_book(snapshot, version)
        return cached

    def ohlc(self, venue: str, base: str, first: int, last: int) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        return sampled_ohlc(self.mid, venue, base, first, last)

    def mid(self, venue: str, base: str, tick: int) -> Decimal:
        quote = self._funding.get((venue, base))
        if quote is not None and quote.mark is not None:
            return quote.mark
        _, snapshot = self._snapshot(venue, base)
        return (snapshot.bids[0][0] + snapshot.asks[0][0]) / 2

    def index(self, base: str, venue: str, tick: int) -> Decimal:
        quote = self._funding.get((venue, base))
        return quote.index if quote is not None and quote.index is not None else self.mid(venue, base, tick)

    def trades(self, inst: Instrument, after_tick: int, upto_tick: int) -> list[Trade]:
        pending = self._pending.get((inst.venue, inst.base))
        if not pending:
            return []
        out = list(pending)
        pending.clear()
        return out

    def funding(self, venue: str, base: str, tick: int) -> FundingQuote | None:
        return self._funding.get((venue, base))
