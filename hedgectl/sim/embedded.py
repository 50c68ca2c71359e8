"""Run the simulator in-process: its own event loop in a daemon thread, on an ephemeral loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from decimal import Decimal
from pathlib import Path
from types import TracebackType

from hedgectl.sim.account_lock import LOCK_WAIT_S, AccountLock
from hedgectl.sim.core import Simulator
from hedgectl.sim.market import DEFAULT_TICK_MS
from hedgectl.sim.market_source import MarketSpec
from hedgectl.sim.server import Running, start

START_TIMEOUT_S = 15.0

log = logging.getLogger("hedgectl.sim")


class EmbeddedSimulator:
    """`with EmbeddedSimulator(path) as sim: sim.url` — paper mode's venue when HEDGECTL_SIM_URL is unset.

    The paper account is loaded from `state_path` at start (if it exists) and saved there as it changes, each
    change before the simulator's reply or stream event that reports it (`Simulator.commit`): a command killed
    with -9 leaves its paper orders and positions behind, as a real venue would, so that crash recovery
    (`flatten --all`) can be rehearsed on paper. It is locked meanwhile (sim/account_lock.py), so a second
    process waits for it rather than losing updates.
    A simulator that does not persist (a read-only command's) neither takes nor waits for the lock: while another
    command holds the account, it reads that command's simulator (its URL is in the lock file) instead of its own.
    """

    def __init__(
        self,
        state_path: Path | None,
        seed: int = 0,
        *,
        tick_ms: int = DEFAULT_TICK_MS,
        frozen: bool = False,
        host: str = "127.0.0.1",
        persist: bool = True,
        lock_wait_s: float = LOCK_WAIT_S,
        market: MarketSpec | None = None,
        fees: dict[str, tuple[Decimal, Decimal]] | None = None,
    ) -> None:
        self.market = market
        self.fees = fees
        self.state_path = state_path
        self.persist = persist  # False: load the account from state_path if it is there, never write it
        self.seed = seed
        self.tick_ms = tick_ms
        self.frozen = frozen
        self.host = host
        self.url: str | None = None
        self.sim: Simulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._running: Running | None = None
        self._lock = AccountLock(state_path, wait_s=lock_wait_s) if state_path is not None else None

    def start(self) -> str:
        """Start serving; return the base URL (http://127.0.0.1:PORT)."""
        if self.url is not None:
            return self.url
        if self._lock is not None and self.persist:
            self._lock.acquire()  # before loading: the account read must be the one this process saves back
        elif self._lock is not None and (holder := self._lock.holder()) is not None:
            if holder.url is not None:
                # A reader never waits for the account: it reads the holder's simulator, as it is now.
                log.info("the paper account is in use by another hedgectl command%s: reading it there", holder.owner)
                self.url = holder.url
                return self.url
            log.warning(
                "the paper account is in use by another hedgectl command%s that is still starting: showing it as "
                "last saved, not as it is now",
                holder.owner,
            )
        try:
            url = self._start()
        except BaseException:
            self._release()
            raise
        if self._lock is not None and self._lock.held:
            self._lock.announce(url)
        return url

    def _start(self) -> str:
        self.sim = Simulator(
            self.seed,
            tick_ms=self.tick_ms,
            frozen=self.frozen,
            state_path=self.state_path,
            market=self.market,
            fees=self.fees,
            durable=self.state_path is not None and self.persist,
        )
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="hedgectl-sim", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(start(self.sim, self.host, 0), loop)
        try:
            self._running = future.result(timeout=START_TIMEOUT_S)
        except BaseException:  # a Ctrl+C or a failure while starting: end the half-started server's tasks first
            self._end_loop(loop)
            raise
        self.url = self._running.url
        return self.url

    def _end_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel what runs in the simulator's loop (bounded), then stop and close it, so nothing is left pending
        ("Task was destroyed but it is pending!" at exit)."""

        async def cancel_the_rest() -> None:
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            if rest:
                await asyncio.wait(rest, timeout=START_TIMEOUT_S)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(cancel_the_rest(), loop).result(timeout=START_TIMEOUT_S)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=START_TIMEOUT_S)
        if not loop.is_running():
            loop.close()
        self._loop = self._thread = None

    def stop(self) -> None:
        """Stop serving and persist the paper account (idempotent)."""
        loop, running = self._loop, self._running
        if loop is None:  # never started, or reading another command's simulator
            self.url = None
            self._release()
            return
        try:
            if running is not None:
                asyncio.run_coroutine_threadsafe(running.stop(), loop).result(timeout=START_TIMEOUT_S)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=START_TIMEOUT_S)
            loop.close()
            self._loop = self._thread = self._running = None
            self.url = None
            try:
                if self.sim is not None and self.state_path is not None and self.persist:
                    self.sim.save()
            finally:
                self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> EmbeddedSimulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
