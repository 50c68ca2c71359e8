"""Bootstrap open phase against the simulator with 50 ms / 80 ms injected on the two venues.

Figures: open-phase wall time minus the slower venue's injected latency (target <= 5 ms p50), and the skew
between the two open orders' arrival at the simulator (target <= 1 ms p50). Each repetition is one full
`run_hedge_cycle` with --hold 0 through the real adapters.

Run: python -m bench.bootstrap_latency [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from pathlib import Path

import httpx

from bench.figures import Figure, table
from bench.simlib import BenchSim, percentile

LAT_LONG_MS, LAT_SHORT_MS = 50, 80


async def _measure(runs: int) -> list[Figure]:
    from hedgectl.cli.paper import PaperSimulator
    from hedgectl.engine.dispatch import Dispatcher
    from hedgectl.engine.hedge import run_hedge_cycle
    from hedgectl.engine.hedge_plan import HedgeConfig
    from hedgectl.engine.interrupts import Interrupts
    from hedgectl.journal import Journal
    from hedgectl.settings import load_settings
    from hedgectl.venues.registry import Registry

    sim = BenchSim(seed=11)  # its own process: the client under test never competes with it for the GIL
    url = sim.url
    home = Path(tempfile.mkdtemp())
    os.environ.update({"HEDGECTL_SIM_URL": url, "HEDGECTL_HOME": str(home)})
    settings = load_settings()
    registry = Registry(settings, paper=PaperSimulator(settings))
    journal = Journal(home / "journal.sqlite")
    run_id = journal.start_run("bench", "paper")
    long_v, short_v = registry.venue("binance"), registry.venue("okx")
    config = HedgeConfig(max_position_duration_seconds=0.0)

    class Quiet:
        def __getattr__(self, _name: str) -> object:
            return lambda *a, **k: None

    open_excess: list[float] = []
    skews: list[float] = []
    fills_known: list[float] = []
    try:
        async with httpx.AsyncClient(base_url=url) as control:
            await control.post("/_sim/latency", json={"venue": "binance", "ms": LAT_LONG_MS})
            await control.post("/_sim/latency", json={"venue": "okx", "ms": LAT_SHORT_MS})
            warm = 2
            while len(open_excess) < runs:
                before = len(_requests((await control.get("/_sim/requests")).json()))
                result = await run_hedge_cycle(long_v, short_v, Dispatcher(journal, run_id), config, Quiet(),
                                               Interrupts(lambda _t: None))
                if not result.opened and result.error is not None and "cross-venue spread" in result.error:
                    continue  # the plan was refused (the walk moved the venues > 5 bps apart): nothing was sent
                assert result.ok, result.error
                rows = _requests((await control.get("/_sim/requests")).json())[before:]
                creates = [r for r in rows if r["op"] == "create_order"][:2]
                if warm:
                    warm -= 1  # warm-up: connections, markets, time offsets
                    continue
                assert result.open_ms is not None
                open_excess.append(result.open_ms - max(LAT_LONG_MS, LAT_SHORT_MS))
                skews.append(abs(creates[0]["received_ns"] - creates[1]["received_ns"]) / 1e6)
                known = [leg.fill_ms for leg in result.opened]
                if all(ms is not None for ms in known):
                    fills_known.append(max(ms for ms in known if ms is not None))
    finally:
        await registry.aclose()
        sim.close()
    excess50, skew50 = statistics.median(open_excess), statistics.median(skews)
    return [
        Figure(f"bootstrap open phase wall - slower venue's latency ({LAT_LONG_MS} / {LAT_SHORT_MS} ms)", excess50,
               percentile(open_excess, 0.99), "ms", "<= 5 ms p50", excess50 <= 5),
        Figure("skew between the two open orders' arrival at the simulator", skew50, percentile(skews, 0.99), "ms",
               "<= 1 ms p50", skew50 <= 1),
        Figure("bootstrap open: orders sent -> both fills known (order streams on)", statistics.median(fills_known),
               percentile(fills_known, 0.99), "ms", "reported", None),
    ]


def measure(runs: int = 30) -> list[Figure]:
    return asyncio.run(_measure(runs))


def _requests(payload: object) -> list[dict[str, object]]:
    if isinstance(payload, dict):
        return list(payload.get("requests", []))
    return list(payload)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    print(table(measure(parser.parse_args().runs)))


if __name__ == "__main__":
    main()
