"""Soak: `hedgectl bp-aster loop` with zero sleeps for a few thousand orders against the simulator.

A bench, not a test (minutes, not seconds). The simulator runs in its own process (`hedgectl sim serve`) with
a frozen clock and funding far away; a filler fills every resting Backpack order as soon as it appears, so
the loop never waits. Measured: the RSS of the loop and of the simulator, sampled every cycle, as growth from
the warm point (10% of the cycles) to the end and as the fitted slope over the second half - memory is
flat when both stay small. Checked: nothing is lost on the way - every order the simulator saw is in the
journal, none twice; every maker fill was hedged (the loop's own stats and the venues' positions agree);
every order the loop reports is one the simulator received; the loop exits 0 with both venues flat.

Run: python -m bench.soak [--cycles 1000]     (4 orders a cycle: 2 maker, 2 taker)
Exit 1 if a check fails or memory grows past the targets.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]  # a test extra without stubs

from bench.figures import Figure, table
from bench.simlib import BenchSim

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from reliability.rig import audit  # the fault matrix's ledger check

GROWTH_TARGET_MB = 10.0  # per process, warm point -> end
SLOPE_TARGET_KB_PER_CYCLE = 5.0  # second half; a leak of a few objects a cycle shows here first
SIM_BYTES_PER_REQUEST_TARGET = 1024  # one RequestRecord plus its share of the order book's history


def _slope(samples: list[tuple[int, int]]) -> float:
    """Least-squares bytes per cycle over (cycle, rss) samples."""
    if len(samples) < 2:
        return 0.0
    xs = [float(c) for c, _ in samples]
    ys = [float(r) for _, r in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def _journal_orders(home: Path) -> list[dict[str, Any]]:
    import sqlite3

    conn = sqlite3.connect(home / "journal.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM orders")]
    finally:
        conn.close()


def soak(cycles: int) -> tuple[list[Figure], list[str]]:
    sim = BenchSim()
    stop = threading.Event()
    problems: list[str] = []
    sim_ps = psutil.Process(sim._server.pid)  # the bench's own child process
    try:
        sim.freeze_market()

        def filler() -> None:
            while not stop.is_set():
                sim.http.post("/_sim/fill", json={"venue": "backpack", "all": True, "ratio": "1"})
                time.sleep(0.002)

        threading.Thread(target=filler, daemon=True).start()
        started = time.monotonic()
        proc = sim.spawn("bp-aster", "loop", "--qty", "10", "--cycles", str(cycles), "--requote-after", "30",
                         "--between-legs", "0", "--cycle-sleep", "0", "--stop-before-funding", "0", "--json")
        loop_ps = psutil.Process(proc.pid)
        loop_rss: list[tuple[int, int]] = []
        sim_rss: list[tuple[int, int]] = []
        kinds: Counter[str] = Counter()
        summary: dict[str, Any] = {}
        assert proc.stdout is not None
        for raw in proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                problems.append(f"a line of the loop's output is not JSON: {raw[:80]!r}")
                continue
            kind = str(event.get("event"))
            kinds[kind] += 1
            if kind == "cycle":
                loop_rss.append((kinds["cycle"], loop_ps.memory_info().rss))
                sim_rss.append((kinds["cycle"], sim_ps.memory_info().rss))
            elif kind == "summary":
                summary = event
        _, err = proc.communicate(timeout=120)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
    try:
        state = sim.http.get("/_sim/state").json()["venues"]
        requests = sim.requests()
    finally:
        sim.close()

    # -- nothing lost ---------------------------------------------------------------------------------
    if proc.returncode != 0:
        problems.append(f"the loop exited {proc.returncode}: {err.strip()[-300:]}")
    if kinds["cycle"] != cycles:
        problems.append(f"{kinds['cycle']} cycle events for {cycles} cycles")
    for venue in ("backpack", "aster"):
        open_positions = [p for p in state[venue]["positions"] if Decimal(p["qty"]) != 0]
        if open_positions or state[venue]["open_orders"]:
            problems.append(f"{venue} not flat at the end: {open_positions} {state[venue]['open_orders']}")
    creates = Counter(r["venue"] for r in requests if r["op"] == "create_order" and r.get("status") == 200)
    ledger = audit(requests, _journal_orders(sim.home))
    problems += [f"duplicate: {d}" for d in ledger.duplicates] + [f"journal gap: {g}" for g in ledger.gaps]
    stats = summary.get("stats", {})
    if stats.get("maker_orders") != creates["backpack"]:
        problems.append(
            f"the loop counts {stats.get('maker_orders')} maker orders, Backpack received {creates['backpack']}"
        )
    taker_orders = stats.get("hedges", 0) + stats.get("corrections", 0) + stats.get("residual_closes", 0)
    if taker_orders != creates["aster"]:
        problems.append(f"the loop counts {taker_orders} taker orders, Aster received {creates['aster']}")
    if kinds["hedge"] != stats.get("hedges"):
        problems.append(f"{kinds['hedge']} hedge events for {stats.get('hedges')} hedges")
    if Decimal(str(stats.get("maker_volume", "0"))) <= 0:
        problems.append("no maker volume: the loop did not trade")

    # -- memory flat -----------------------------------------------------------------------------------
    warm = max(1, cycles // 10)
    figures = []
    for name, samples in (("loop", loop_rss), ("simulator", sim_rss)):
        after_warm = [s for s in samples if s[0] >= warm]
        growth_mb = (after_warm[-1][1] - after_warm[0][1]) / 2**20 if after_warm else 0.0
        slope = _slope([s for s in samples if s[0] >= cycles // 2])
        figures.append(Figure(f"{name} RSS growth, cycle {warm} -> {cycles}", growth_mb, None, "MB",
                              f"< {GROWTH_TARGET_MB:g} MB", growth_mb < GROWTH_TARGET_MB))
        if name == "loop":
            figures.append(Figure("loop RSS slope, second half", slope / 1024, None, "KB/cycle",
                                  f"< {SLOPE_TARGET_KB_PER_CYCLE:g} KB/cycle",
                                  slope / 1024 < SLOPE_TARGET_KB_PER_CYCLE))
        else:
            # The simulator keeps every request (GET /_sim/requests, capped at 200,000) and every order by
            # design: its memory is bounded by that cap, not flat before it. Per request is the fair figure.
            per_request = slope * cycles / max(1, len(requests))
            figures.append(Figure("simulator RSS slope per request received, second half", per_request, None,
                                  "B/request", f"< {SIM_BYTES_PER_REQUEST_TARGET} B/request (retained log)",
                                  per_request < SIM_BYTES_PER_REQUEST_TARGET))
    orders = sum(creates.values())
    figures.append(Figure(f"orders sent ({cycles} cycles)", float(orders), None, "orders", "a few thousand", None))
    figures.append(Figure("order rate", orders / elapsed if elapsed else 0.0, None, "orders/s", "-", None))
    figures.append(Figure("events lost (journal gaps + duplicates + count mismatches)", float(len(problems)), None,
                          "", "0", not problems))
    return figures, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    args = parser.parse_args()
    figures, problems = soak(args.cycles)
    print(table(figures))
    for problem in problems:
        print("PROBLEM:", problem)
    return 0 if all(f.met is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
