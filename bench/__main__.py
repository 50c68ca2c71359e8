"""python -m bench: every performance figure, measured against the simulator, as one table.

Options: --quick (fewer repetitions), --only NAME[,NAME] (startup, kit, bootstrap, interrupt, flatten, journal,
report, replay, plus the stream/loop figures when their modules are present).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
from collections.abc import Callable

from bench.figures import Figure, table

# name -> (module, full repetitions, quick repetitions)
BENCHES: dict[str, tuple[str, int, int]] = {
    "startup": ("bench.startup", 15, 5),
    "kit": ("bench.venue_kit", 8, 2),
    "bootstrap": ("bench.bootstrap_latency", 30, 8),
    "hedge": ("bench.hedge_reaction", 50, 15),
    "interrupt": ("bench.interrupt_close", 10, 4),
    "flatten": ("bench.flatten_latency", 8, 3),
    "journal": ("bench.journal_write", 2000, 500),
    "rss": ("bench.loop_memory", 1000, 200),
    "report": ("bench.report_build", 3, 1),
    "replay": ("bench.replay_market", 120, 30),
}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
            f"Python {platform.python_version()}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    wanted = [n for n in args.only.split(",") if n] or list(BENCHES)
    figures: list[Figure] = []
    for name in wanted:
        module_name, full, quick = BENCHES[name]
        try:
            measure: Callable[[int], list[Figure]] = importlib.import_module(module_name).measure
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            print(f"({name}: {module_name} not present, skipped)", file=sys.stderr)
            continue
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        figures.extend(measure(quick if args.quick else full))
    print(f"machine: {machine()}")
    print(table(figures))
    if any(f.met is False for f in figures):
        sys.exit(1)


if __name__ == "__main__":
    main()
