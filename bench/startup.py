"""Start-up cost of `hedgectl --help` against a bare `import typer, rich` and a bare Typer app's --help.

Run: python bench/startup.py [--runs 15]. Prints medians and the ratios (target: <= 1.3).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    py = sys.executable
    cases = {
        "import typer, rich": [py, "-c", "import typer, rich"],
        "bare Typer app --help": [py, "-c", BARE_APP],
        "hedgectl --help": [py, "-m", "hedgectl", "--help"],
    }
    wall(cases["hedgectl --help"], 2)  # warm the file cache and bytecode
    medians = {name: statistics.median(wall(cmd, args.runs)) for name, cmd in cases.items()}
    for name, ms in medians.items():
        print(f"{name:<24} {ms:8.1f} ms (median of {args.runs})")
    ours = medians["hedgectl --help"]
    print(f"ratio vs import typer, rich:  {ours / medians['import typer, rich']:.2f} (target <= 1.3)")
    print(f"ratio vs bare Typer --help:   {ours / medians['bare Typer app --help']:.2f} (target <= 1.3)")


if __name__ == "__main__":
    main()
