"""Start-up cost of `hedgectl --help` against a bare `import typer, rich` and a bare Typer app's --help.

Run: python -m bench.startup [--runs 15]. Prints medians and the ratios (target: <= 1.3).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from bench.figures import Figure, table

BARE_APP = (
    "import typer\n"
    "app = typer.Typer()\n"
    "@app.command()\n"
    "def hello(name: str = 'x') -> None:\n"
    "    '''Say hello.'''\n"
    "@app.command()\n"
    "def bye() -> None:\n"
    "    '''Say bye.'''\n"
    "app(['--help'], prog_name='bare')\n"
)


def wall(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def measure(runs: int = 15) -> list[Figure]:
    """The --help wall-time ratios against a bare Typer app and against `import typer, rich`."""
    medians = _medians(runs)
    ours = medians["hedgectl --help"]
    bare = ours / medians["bare Typer app --help"]
    imports = ours / medians["import typer, rich"]
    return [
        Figure("`hedgectl --help` wall / a bare Typer app's `--help`", bare, None, "x", "<= 1.3", bare <= 1.3),
        Figure("`hedgectl --help` wall / `import typer, rich`", imports, None, "x", "<= 1.3", imports <= 1.3),
    ]


def _medians(runs: int) -> dict[str, float]:
    py = sys.executable
    cases = {
        "import typer, rich": [py, "-c", "import typer, rich"],
        "bare Typer app --help": [py, "-c", BARE_APP],
        "hedgectl --help": [py, "-m", "hedgectl", "--help"],
    }
    wall(cases["hedgectl --help"], 2)  # warm the file cache and bytecode
    return {name: statistics.median(wall(cmd, runs)) for name, cmd in cases.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(table(measure(args.runs)))


if __name__ == "__main__":
    main()
