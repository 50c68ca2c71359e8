"""A simulator, a private HEDGECTL_HOME and the real CLI as a subprocess: the ground truth the reliability suite reads.

Shared by the pytest suite and `bench/fault_matrix.py` (which runs many rigs in parallel worker processes), so
nothing here touches `os.environ` or pytest: every rig has its own simulator, home directory and environment.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx

from hedgectl.domain.ids import uint32_client_id
from hedgectl.sim.embedded import EmbeddedSimulator
from tests import forked_cli, waiting

ENV_PREFIXES = ("HEDGECTL_", "BINANCE_", "OKX_", "BACKPACK_", "ASTER_")
VENUES = ("binance", "okx", "backpack", "aster")
# The simulator's request log shows the client order id as each venue's wire carries it.
TOOK_EFFECT_FAULTS = frozenset({"accept_then_timeout", "partial_fill"})


def clean_env(sim_url: str, home: Path, **extra: str) -> dict[str, str]:
    """The parent's environment without any hedgectl or venue setting, pointed at one simulator and home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIXES)}
    env.update(
        HEDGECTL_SIM_URL=sim_url,
        HEDGECTL_HOME=str(home),
        HEDGECTL_HTTP_TIMEOUT_S="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def wire_client_id(venue: str, client_order_id: str) -> str:
    """Our journaled client order id as the simulator logs it for `venue`."""
    return str(uint32_client_id(client_order_id)) if venue == "backpack" else client_order_id


@dataclass
class Rig:
    """One simulator on a loopback port, one home directory, one environment for the CLI."""

    workdir: Path
    seed: int = 3
    sim: EmbeddedSimulator | None = None
    url: str = ""
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.home = self.workdir / "home"
        self.sim = EmbeddedSimulator(None, seed=self.seed)
        self.url = self.sim.start().rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=10)
        self.env = clean_env(self.url, self.home)

    def close(self) -> None:
        self.http.close()
        if self.sim is not None:
            self.sim.stop()
            self.sim = None

    # -- the simulator ------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        venues: dict[str, Any] = self.http.get("/_sim/state").json()["venues"]
        return venues

    def requests(self, op: str | None = None) -> list[dict[str, Any]]:
        rows = self.http.get("/_sim/requests").json()
        rows = rows["requests"] if isinstance(rows, dict) else rows
        return [r for r in rows if op is None or r["op"] == op]

    def clear_requests(self) -> None:
        self.http.delete("/_sim/requests").raise_for_status()

    def fault(self, **body: Any) -> None:
        self.http.post("/_sim/faults", json=body).raise_for_status()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()

    def exposure(self, state: dict[str, Any] | None = None) -> dict[str, dict[str, Decimal]]:
        """Open positions per venue and base asset (only non-zero ones)."""
        state = state if state is not None else self.state()
        out: dict[str, dict[str, Decimal]] = {}
        for venue, body in state.items():
            for p in body["positions"]:
                qty = Decimal(p["qty"])
                if qty != 0:
                    out.setdefault(venue, {})[p["base"]] = qty
        return out

    def resting(self, state: dict[str, Any] | None = None) -> dict[str, int]:
        state = state if state is not None else self.state()
        return {v: len(body["open_orders"]) for v, body in state.items() if body["open_orders"]}

    # -- the CLI --------------------------------------------------------------------------------------
    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "hedgectl", *args]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        if forked_cli.use_fork():
            return forked_cli.run(list(args), dict(self.env), timeout, cwd=str(self.workdir))
        return subprocess.run(
            self.command(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
            cwd=self.workdir,
            check=False,
        )

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        if forked_cli.use_fork():
            return cast(
                "subprocess.Popen[str]", forked_cli.ForkedProcess(list(args), dict(self.env), str(self.workdir))
            )
        return subprocess.Popen(
            self.command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=self.workdir,
        )

    # -- the journal --------------------------------------------------------------------------------
    def journal_orders(self) -> list[dict[str, Any]]:
        path = self.home / "journal.sqlite"
        if not path.exists():
            return []
        conn = sqlite3.connect(path)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute("SELECT * FROM orders ORDER BY created_at")]
        finally:
            conn.close()

    # -- setting the scene through the real adapters --------------------------------------------------
    def open_positions(self, sides: dict[str, str], *, qty: str = "0.002", resting: bool = False) -> None:
        """Open a BTC market position per venue ("buy"/"sell"), optionally with a resting limit order too."""
        asyncio.run(_open_positions(self.url, self.home, sides, Decimal(qty), resting))


async def _open_positions(url: str, home: Path, sides: dict[str, str], qty: Decimal, resting: bool) -> None:
    from hedgectl.cli.paper import PaperSimulator
    from hedgectl.domain.ids import new_client_order_id
    from hedgectl.domain.rounding import floor_to_step
    from hedgectl.domain.types import OrderRequest, OrderType, Side
    from hedgectl.settings import Settings
    from hedgectl.venues.registry import Registry

    settings = Settings(_env_file=None, HEDGECTL_SIM_URL=url, HEDGECTL_HOME=str(home))
    registry = Registry(settings, paper=PaperSimulator(settings))
    try:
        for venue, side in sides.items():
            adapter = registry.venue(venue)
            await adapter.place_order(
                OrderRequest(
                    symbol="BTC", side=Side(side), type=OrderType.MARKET, qty=qty, client_order_id=new_client_order_id()
                )
            )
            if resting:
                quote = await adapter.fetch_quote("BTC")
                market = await adapter.market("BTC")
                price = floor_to_step(quote.bid * Decimal("0.99"), market.tick_size)
                await adapter.place_order(
                    OrderRequest(
                        symbol="BTC",
                        side=Side.BUY,
                        type=OrderType.LIMIT,
                        qty=qty,
                        price=price,
                        client_order_id=new_client_order_id(),
                    )
                )
    finally:
        await registry.aclose()


@contextmanager
def rig(workdir: Path, seed: int = 3) -> Iterator[Rig]:
    r = Rig(workdir, seed=seed)
    try:
        yield r
    finally:
        r.close()


def eventually(cond: Callable[[], bool], timeout: float = 20.0, interval: float = 0.02) -> None:
    """Poll `cond` until it holds (no fixed sleeps in tests)."""
    waiting.eventually(cond, timeout, interval)


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGKILL) -> None:
    """End a process this rig started (by its own pid), if it is still running."""
    if proc.poll() is None:
        proc.send_signal(sig)
        proc.wait(timeout=30)


# -- ledger checks: what the simulator saw against what the journal holds ----------------------------


@dataclass
class Ledger:
    """Duplicates and journal gaps between the simulator's create_order log and the journal."""

    duplicates: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)


def audit(requests: list[dict[str, Any]], journal: list[dict[str, Any]]) -> Ledger:
    """Compare every create_order the simulator saw with the journal.

    duplicates: a client id that took effect twice on a venue (a second order under the same id), one id used
    on two venues or by two journal rows (two intents), or a run that journaled two opening orders on one venue
    (an open re-sent under a new id). gaps: a client id the simulator saw that the journal does not hold.
    """
    ledger = Ledger()
    journaled: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in journal:
        journaled.setdefault((row["venue"], wire_client_id(row["venue"], row["client_order_id"])), []).append(row)
    venues_of: dict[str, set[str]] = {}
    effective: dict[tuple[str, str], int] = {}
    for r in requests:
        if r["op"] != "create_order" or not r.get("client_order_id"):
            continue
        for cid in str(r["client_order_id"]).split(","):  # an OKX batch carries several ids, comma-joined
            venue = r["venue"]
            venues_of.setdefault(cid, set()).add(venue)
            if r.get("status") == 200 or r.get("fault") in TOOK_EFFECT_FAULTS:
                effective[(venue, cid)] = effective.get((venue, cid), 0) + 1
            if (venue, cid) not in journaled:
                ledger.gaps.append(f"{venue}:{cid}")
    ledger.gaps = sorted(set(ledger.gaps))
    for (venue, cid), count in effective.items():
        if count > 1:
            ledger.duplicates.append(f"{venue}:{cid} placed {count} times")
    for cid, venues in venues_of.items():
        if len(venues) > 1:
            ledger.duplicates.append(f"{cid} sent to {', '.join(sorted(venues))}")
    for (venue, cid), rows in journaled.items():
        if len(rows) > 1:
            ledger.duplicates.append(f"{venue}:{cid} journaled {len(rows)} times")
    opens: dict[tuple[str, str], int] = {}
    for row in journal:
        if row["intent"] == "open" and row["state"] != "failed":
            opens[(row["run_id"], row["venue"])] = opens.get((row["run_id"], row["venue"]), 0) + 1
    for (run_id, venue), count in opens.items():
        if count > 1:
            ledger.duplicates.append(f"run {run_id} opened {venue} {count} times")
    return ledger
