"""The reliability fault matrix: every command x phase x fault kind x venue, as real processes, in parallel.

Each scenario gets its own simulator and HEDGECTL_HOME in a worker process, runs the real CLI, and is judged
from /_sim/state, the simulator's request log and the journal (see tests/reliability/matrix.py). Prints
the table (scenarios run / ended flat / exit as documented / duplicates / journal gaps) and exits 1 if any
scenario failed.

Run: python bench/fault_matrix.py [--workers 4] [--only bootstrap,flatten,loop] [--match TEXT] [--list]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

# The matrix lives with the tests (`reliability`, which imports `tests.waiting`).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from reliability.matrix import Outcome, Scenario, all_scenarios, run_scenario, table


def _run(scenario: Scenario) -> Outcome:
    return run_scenario(scenario)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=max(2, (os.cpu_count() or 2) * 2))
    parser.add_argument("--only", default="bootstrap,flatten,loop,carry", help="comma-separated commands")
    parser.add_argument("--match", default="", help="only scenarios whose id contains this")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args()
    scenarios = [s for s in all_scenarios(args.only.split(",")) if args.match in s.id]
    if args.list:
        print("\n".join(s.id for s in scenarios))
        return 0
    print(f"running {len(scenarios)} scenarios on {args.workers} workers", flush=True)
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = {pool.submit(_run, s): s for s in scenarios}
        for future in as_completed(futures):
            outcome = future.result()
            outcomes.append(outcome)
            mark = "ok  " if outcome.ok else "FAIL"
            print(f"{mark} {outcome.seconds:5.1f} s  {outcome.describe()}", flush=True)
    order = {s: i for i, s in enumerate(scenarios)}
    outcomes.sort(key=lambda o: order[o.scenario])
    print()
    print(table(outcomes))
    print(f"\n{len(outcomes)} scenarios in {time.monotonic() - started:.0f} s wall time")
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        print("FAILED", o.describe())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
