"""Assemble the simulator's aiohttp application and run it (foreground `serve` or `start`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from aiohttp import web

from hedgectl.sim.control import Control
from hedgectl.sim.core import Simulator
from hedgectl.sim.dialects import load_dialects
from hedgectl.sim.dialects.base import json_response
from hedgectl.sim.market import DEFAULT_TICK_MS
from hedgectl.sim.market_source import MarketSpec

log = logging.getLogger("hedgectl.sim")

SIM_KEY: web.AppKey[Simulator] = web.AppKey("simulator", Simulator)
MAX_BODY_BYTES = 256 * 1024
CLIENT_GONE = 499  # nginx's "client closed request": never seen by the client, only by the access log


@web.middleware
async def _no_tracebacks(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Unknown paths get a JSON 404; an unexpected error a JSON 500 without details; a client gone, a debug line."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400:
            return json_response({"ok": False, "error": exc.reason}, status=exc.status)
        raise
    except asyncio.CancelledError:
        raise
    except ConnectionError as exc:
        # A client that hangs up mid-request or mid-handshake (a command closing its order streams as it
        # exits) is normal. aiohttp drops whatever is answered on a closing transport without a word.
        log.debug("simulator: client went away during %s %s (%s)", request.method, request.path, exc)
        return web.Response(status=CLIENT_GONE)
    except Exception:  # never leak a stack trace to a client
        log.exception("simulator: internal error on %s %s", request.method, request.path)
        return json_response({"ok": False, "error": "internal error"}, status=500)


@web.middleware
async def _durable(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """What a request changed in the paper account is on disk before its reply leaves (`Simulator.commit`)."""
    try:
        return await handler(request)
    finally:
        request.app[SIM_KEY].commit()


def build_app(sim: Simulator) -> web.Application:
    """The whole simulator: /_sim/ control API plus every venue dialect under its prefix."""
    app = web.Application(middlewares=[_no_tracebacks, _durable], client_max_size=MAX_BODY_BYTES)
    app[SIM_KEY] = sim
    Control(sim).mount(app)
    for dialect in load_dialects(sim):
        dialect.mount(app)
    return app


@dataclass
class Running:
    """A started server: its runner, bound port and base URL."""

    runner: web.AppRunner
    sim: Simulator
    port: int
    host: str
    ticker: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self.ticker is not None:
            self.ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.ticker
        await self.runner.cleanup()
        market_stop = getattr(self.sim.engine.market, "stop", None)
        if market_stop is not None:
            await market_stop()


async def _tick(sim: Simulator) -> None:
    """Advance the engine with the clock even when nobody asks, so fills (and their filled_ns)
    happen when the price crosses, not when the next request arrives."""
    while True:
        try:
            sim.engine.sync()
            sim.commit()  # a fill or funding payment of this tick is on disk before its stream event is sent
        except Exception:  # keep ticking; the error is logged, never shown to clients
            log.exception("simulator: engine tick failed")
        await asyncio.sleep(sim.engine.clock.tick_ms / 1000)


async def start(sim: Simulator, host: str = "127.0.0.1", port: int = 0) -> Running:
    """Start serving `sim` on host:port (0 = ephemeral) inside the running event loop.

    A live market source reads every venue once first (bounded), so the first request already sees real books.
    """
    market_start = getattr(sim.engine.market, "start", None)
    if market_start is not None:
        await market_start()
        sim.engine.list_instruments()
    runner = web.AppRunner(build_app(sim), access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    server = site._server  # aiohttp has no public accessor for the bound port
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    ticker = asyncio.get_running_loop().create_task(_tick(sim), name="hedgectl-sim-tick")
    return Running(runner, sim, int(bound), host, ticker)


async def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: int = 0,
    *,
    state_path: Path | None = None,
    tick_ms: int = DEFAULT_TICK_MS,
    frozen: bool = False,
    ready: Callable[[str], None] | None = None,
    market: MarketSpec | None = None,
    fees: dict[str, tuple[Decimal, Decimal]] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM; with a `state_path`, every change to the paper account is saved there as it
    happens (`Simulator.commit`), and once more at exit."""
    sim = Simulator(seed, tick_ms=tick_ms, frozen=frozen, state_path=state_path, market=market, fees=fees, durable=True)
    running = await start(sim, host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready(running.url)
    try:
        await stop.wait()
    finally:
        await running.stop()
        if state_path is not None:
            sim.save()
