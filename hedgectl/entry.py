"""The `hedgectl` script and `python -m hedgectl`: load the CLI and run it.

A Ctrl+C while Python loads the CLI (the first few tenths of a second) would print a traceback from inside some
import: it is one line and exit 130 instead, as every later Ctrl+C before an order is.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from hedgectl.cli.app import main as run
    except KeyboardInterrupt:
        from hedgectl.errors import Interrupted

        sys.stderr.write(f"{Interrupted.STARTING}\n")
        raise SystemExit(130) from None
    run()
