"""Supervised private order streams: one venue-agnostic loop that makes a WebSocket feed safe to trade on.

A stream is a speed-up, never the only source of truth. The supervisor (re)connects with backoff and
jitter; after every connect it reconciles by REST (open orders, fills since the last one seen) so nothing
that happened while it was away is missed; while the stream is down it polls REST every
`poll_interval_s` and says so (one warning per outage); and it drops duplicates, so each fill and each
state change of an order reaches the consumer exactly once, whichever source saw it first.

Plug-in interface (what a venue adds)
-------------------------------------
A venue plugs in with one function, its *connector*: an async generator that runs ONE WebSocket session
and yields that session's order events::

    async def connect(ready: Callable[[], None]) -> AsyncGenerator[OrderEvent, None]:
        ensure_allowed(...)                      # the host guard checks the WS URL first
        async with open_socket(url) as ws:       # connect, log in / sign, subscribe
            await subscribe(ws)
            ready()                              # from now on the venue pushes every change
            async for raw in ws:
                event = parse(raw)               # venue wire -> OrderEvent(source=STREAM), or None
                if event is not None:
                    yield event

- Call `ready()` once the venue will push every later change: after the login/subscribe ack when the
  venue sends one, right after sending the subscription when it sends none. REST reconciliation starts
  only then, so nothing falls between the REST snapshot and the stream. Yielding an event implies ready.
- Yield `OrderEvent(order, fill, EventSource.STREAM, received_ns=SYSTEM_CLOCK.time_ns())`: `order` is the
  cumulative state in domain terms (canonical symbol, our client order id), `fill` the execution the
  message reports with its venue trade id (None for accepted/cancelled/expired messages).
- End the session by returning or raising (any exception: it is logged, then the supervisor reconnects).
  Raise AuthError when the venue refuses the login or subscription: the supervisor then waits the
  maximum backoff between attempts and keeps polling. A ConfigError (the host guard refused the URL) ends
  the whole stream: the consumer sees it. Raise (BadResponse) rather than skip a message that cannot be
  parsed: the reconnect's REST reconciliation then recovers what it said.
- Keep-alive is the connector's job (ping/pong, listenKey renewal): a dead connection must end the
  session (e.g. pings with a timeout), or the supervisor cannot know it is blind.

The REST side is the venue adapter itself (`OrderSource`: `fetch_open_orders`, `fetch_fills(symbol,
since=)`, `fetch_order`; OrderNotFound from fetch_order means "skip it"). A venue then offers the
StreamingVenue protocol with (see BackpackVenue.order_events)::

    def order_events(self, symbol=None, *, config=None, on_state=None) -> AsyncIterator[OrderEvent]:
        stream = MyVenueStream(self._config, ...)     # checks its URL with the host guard at construction
        return supervise(self, stream.connect, symbol, config=config, on_state=on_state)

`config` (SupervisorConfig) tunes polling and backoff; `on_state(state, reason)` is told UP/DOWN/CLOSED
(the DOWN warning is also logged once per outage). Deduplication lives in hedgectl.venues.streams.ledger.

Consumers act on the growth of `event.order.filled_qty` (cumulative); `event.fill` is the detail (price,
fee, trade id) when known. Fills are read by symbol: with `symbol=None` the supervisor reads the fills
of every symbol it has seen an order of (give the symbol when you can).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from hedgectl.aio import stop_tasks, wait_event
from hedgectl.clock import SYSTEM_CLOCK, Clock
from hedgectl.domain.types import Fill, Order
from hedgectl.errors import AuthError, ConfigError, OrderNotFound, RateLimited, VenueError
from hedgectl.venues.streams.ledger import OrderLedger
from hedgectl.venues.streams.types import (
    Connect,
    EventSource,
    OrderEvent,
    OrderSource,
    StateHook,
    StreamState,
)

log = logging.getLogger(__name__)
SLOW = "connecting is slow"  # the reason of a DOWN before a connect has failed or succeeded: the cause follows

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")


@dataclass(frozen=True, slots=True)
class SupervisorConfig:
    poll_interval_s: float = 0.25  # REST polling period while the stream is down
    backoff_initial_s: float = 0.1  # first reconnect delay (doubled per failure, with jitter)
    backoff_max_s: float = 10.0
    connect_grace_s: float = 1.0  # a connect slower than this starts the polling fallback
    connect_timeout_s: float = 10.0  # a connect that is not ready by then is abandoned
    stable_s: float = 30.0  # a session that lasted this long resets the backoff
    lookback_s: float = 10.0  # REST fills are read from the last one seen minus this (clock skew, lag)
    max_remembered: int = 10_000  # trade ids and orders remembered for deduplication (LRU)


@dataclass(slots=True)
class SupervisorStats:
    connects: int = 0
    disconnects: int = 0
    polls: int = 0
    reconciles: int = 0
    emitted: int = 0
    duplicates: int = 0  # events dropped: a trade id already delivered, no progress, or another symbol


class StreamSupervisor:
    """Turn one venue's connector into a gap-free, duplicate-free stream of OrderEvents."""

    def __init__(
        self,
        venue: OrderSource,
        connect: Connect,
        *,
        symbol: str | None = None,
        config: SupervisorConfig | None = None,
        on_state: StateHook | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
    ) -> None:
        self._venue = venue
        self._connect = connect
        self._symbol = symbol.upper() if symbol else None
        self._config = config or SupervisorConfig()
        self._on_state = on_state
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._queue: asyncio.Queue[OrderEvent | BaseException] = asyncio.Queue()
        lookback = timedelta(seconds=self._config.lookback_s)
        self._ledger = OrderLedger(
            symbol=self._symbol, horizon=clock.now() - lookback, lookback=lookback, limit=self._config.max_remembered
        )
        self._up = asyncio.Event()
        self._down = asyncio.Event()
        self._started = False
        self.state = StreamState.CONNECTING
        self._reason = ""
        self.stats = SupervisorStats()

    @property
    def venue_name(self) -> str:
        return self._venue.name

    @property
    def horizon(self) -> datetime:
        """Fills at or after this time are read by the next REST pass."""
        return self._ledger.horizon

    @property
    def remembered(self) -> tuple[int, int]:
        """How many (trade ids, orders) are remembered for deduplication (bounded by max_remembered)."""
        return self._ledger.remembered

    async def events(self) -> AsyncIterator[OrderEvent]:
        """Yield order events until the consumer stops iterating; raise only what retrying cannot fix
        (AuthError from REST, ConfigError from the connector)."""
        if self._started:
            raise RuntimeError("a StreamSupervisor runs once: create one per consumer")
        self._started = True
        tasks = [
            asyncio.create_task(self._run_stream(), name=f"{self._venue.name}-order-stream"),
            asyncio.create_task(self._run_poller(), name=f"{self._venue.name}-order-poller"),
        ]
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            # Bounded: a session that will not end (a close that never completes) is abandoned, not awaited.
            await stop_tasks(tasks, what=f"{self._venue.name} order stream")
            self._set_state(StreamState.CLOSED, "closed")

    # --- state ----------------------------------------------------------------------------------------

    def _set_state(self, state: StreamState, reason: str) -> None:
        if state is self.state:
            if state is StreamState.DOWN and self._reason == SLOW and reason != SLOW:
                log.warning("%s: order stream down: %s", self._venue.name, reason)  # what the slow connect was
            self._reason = reason
            return
        previous, self.state, self._reason = self.state, state, reason
        if state is StreamState.UP:
            self._down.clear()
            self._up.set()
            if previous is StreamState.DOWN:
                log.info("%s: order stream back up", self._venue.name)
        elif state is StreamState.DOWN:
            self._up.clear()
            self._down.set()
            log.warning(
                "%s: order stream down (%s); polling every %.2f s until it is back",
                self._venue.name,
                reason,
                self._config.poll_interval_s,
            )
        else:
            self._up.clear()
            self._down.clear()
        if self._on_state is not None:
            self._on_state(state, reason)

    def _fail(self, exc: BaseException) -> None:
        self._queue.put_nowait(exc)

    # --- the stream -----------------------------------------------------------------------------------

    async def _run_stream(self) -> None:
        attempt = 0
        while True:
            started = self._clock.monotonic()
            refused = False
            was_ready = False
            try:
                was_ready = await self._session()
                reason = "closed by the venue"
            except AuthError as exc:
                refused = True
                reason = f"refused: {exc}"
            except ConfigError as exc:
                self._fail(exc)  # e.g. the host guard refused the URL: say so, never retry it
                return
            except Exception as exc:  # noqa: BLE001 - any failure ends this session; the next one reconciles
                reason = _failure(exc)
            self.stats.disconnects += 1
            self._set_state(StreamState.DOWN, reason)
            if was_ready and self._clock.monotonic() - started >= self._config.stable_s:
                attempt = 0
            await self._clock.sleep(self._config.backoff_max_s if refused else self._backoff(attempt))
            attempt += 1

    def _backoff(self, attempt: int) -> float:
        cap = min(self._config.backoff_max_s, self._config.backoff_initial_s * 2 ** min(attempt, 30))
        return self._rng.uniform(cap / 2, cap)

    async def _session(self) -> bool:
        """Run one connection: reconcile once it is ready, feed its events through; True if it got ready."""
        loop = asyncio.get_running_loop()
        ready = False
        reconcile: asyncio.Task[None] | None = None

        def slow() -> None:
            if not ready:
                self._set_state(StreamState.DOWN, SLOW)

        grace = loop.call_later(self._config.connect_grace_s, slow)
        try:
            async with asyncio.timeout(self._config.connect_timeout_s) as deadline:

                def mark_ready() -> None:
                    nonlocal ready, reconcile
                    if ready:
                        return
                    ready = True
                    deadline.reschedule(None)
                    grace.cancel()
                    self.stats.connects += 1
                    self._set_state(StreamState.UP, "subscribed")
                    reconcile = asyncio.create_task(self._reconcile_while_up())

                async with contextlib.aclosing(self._connect(mark_ready)) as events:
                    async for event in events:
                        mark_ready()
                        self._offer(event)
        finally:
            grace.cancel()
            if reconcile is not None:
                await stop_tasks([reconcile], what=f"{self._venue.name} reconciliation")
        return ready

    async def _reconcile_while_up(self) -> None:
        """REST reconciliation after a connect, retried (with backoff) until one pass succeeds."""
        attempt = 0
        while self.state is StreamState.UP:
            try:
                await self._rest_pass(EventSource.RECONCILE)
            except AuthError as exc:
                self._fail(exc)
                return
            except VenueError as exc:
                log.warning("%s: reconciling orders after connect failed (%s); retrying", self._venue.name, exc)
                await self._clock.sleep(self._backoff(attempt + (2 if isinstance(exc, RateLimited) else 0)))
                attempt += 1
                continue
            self.stats.reconciles += 1
            return

    # --- polling --------------------------------------------------------------------------------------

    async def _run_poller(self) -> None:
        attempt = 0
        while True:
            await self._down.wait()
            delay = self._config.poll_interval_s
            try:
                await self._rest_pass(EventSource.POLL)
                self.stats.polls += 1
                attempt = 0
            except AuthError as exc:
                self._fail(exc)
                return
            except VenueError as exc:
                log.debug("%s: polling orders failed: %s", self._venue.name, exc)
                attempt += 1
                delay = max(delay, self._backoff(attempt + (2 if isinstance(exc, RateLimited) else 0)))
            await wait_event(self._up, delay)

    # --- REST -----------------------------------------------------------------------------------------

    async def _rest_pass(self, source: EventSource) -> None:
        """Read open orders and recent fills; emit whatever the stream did not (the ledger decides)."""
        ledger = self._ledger
        started = self._clock.now()
        symbols = ledger.symbols()
        open_orders, fills = await _both(
            self._venue.fetch_open_orders(self._symbol), self._read_fills(symbols, ledger.horizon)
        )
        snapshots = {o.order_id: o for o in open_orders if ledger.wanted(o)}
        unread = ledger.symbols(o.symbol for o in snapshots.values()) - symbols
        if unread:
            fills = [*fills, *await self._read_fills(unread, ledger.horizon)]
        new_fills = ledger.unseen(fills, started)
        await self._read_orders(ledger.stale(snapshots, new_fills), snapshots)
        for event in ledger.replay(snapshots, new_fills, source, SYSTEM_CLOCK.time_ns()):
            self._offer(event)
        ledger.advance(started)

    async def _read_fills(self, symbols: Iterable[str], since: datetime) -> list[Fill]:
        batches = await _gather(*(self._venue.fetch_fills(s, since=since) for s in sorted(symbols)))
        return [fill for batch in batches for fill in batch]

    async def _read_orders(self, wanted: dict[str, str], into: dict[str, Order]) -> None:
        """Read orders one by one (id -> symbol) into `into`; an order the venue does not know is skipped."""
        if not wanted:
            return
        results = await asyncio.gather(
            *(self._venue.fetch_order(symbol, order_id=order_id) for order_id, symbol in wanted.items()),
            return_exceptions=True,
        )
        failure: BaseException | None = None
        for result in results:
            if isinstance(result, Order):
                into[result.order_id] = result
            elif not isinstance(result, OrderNotFound) and failure is None:
                failure = result
        if failure is not None:
            raise failure

    def _offer(self, event: OrderEvent) -> None:
        """Hand `event` to the consumer unless the ledger has seen it (or it brings no progress)."""
        if self._ledger.accept(event):
            self.stats.emitted += 1
            self._queue.put_nowait(event)
        else:
            self.stats.duplicates += 1


def supervise(
    venue: OrderSource,
    connect: Connect,
    symbol: str | None = None,
    *,
    config: SupervisorConfig | None = None,
    on_state: StateHook | None = None,
) -> AsyncIterator[OrderEvent]:
    """The supervised order events of `venue` (what a StreamingVenue's `order_events` returns)."""
    return StreamSupervisor(venue, connect, symbol=symbol, config=config, on_state=on_state).events()


async def _gather(*calls: Awaitable[T]) -> list[T]:
    """Run calls concurrently; raise the first failure only after all have finished (none left dangling)."""
    values: list[T] = []
    for result in await asyncio.gather(*calls, return_exceptions=True):
        if isinstance(result, BaseException):
            raise result
        values.append(result)
    return values


async def _both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Two different calls concurrently; the first failure is raised once both have finished."""
    one, two = asyncio.ensure_future(first), asyncio.ensure_future(second)
    try:
        await asyncio.wait({one, two})
    finally:
        one.cancel()
        two.cancel()
    failures = [exc for exc in (one.exception(), two.exception()) if exc is not None]
    if failures:
        raise failures[0]
    return one.result(), two.result()


def _failure(exc: BaseException) -> str:
    """Why a session ended, in words: a refused or unreachable address said so, else the error itself."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return f"connection refused, nothing listens at the stream's address ({seen})"
        if isinstance(seen, OSError) and not isinstance(seen, TimeoutError):
            return f"unreachable ({seen})"
        seen = seen.__cause__ or seen.__context__
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
