"""A paper account's ids never repeat, as a real venue's do not: after `sim reset`, every fill is still journaled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import hedgectl

pytestmark = pytest.mark.e2e


def test_fills_after_a_sim_reset_are_journaled_like_the_first_ones(isolated_env: Path) -> None:
    runs = []
    for _ in range(2):
        proc = hedgectl("bootstrap", "--notional", "300", "--hold", "0", "--yes", "--json", "--max-slippage-bps", "100")
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads(proc.stdout.splitlines()[-1])["run_id"])
        reset = hedgectl("sim", "reset")
        assert reset.returncode == 0, reset.stderr
    for run_id in runs:
        shown = hedgectl("history", "show", run_id, "--json")
        assert shown.returncode == 0, shown.stderr
        fills = json.loads(shown.stdout)["fills"]
        assert len(fills) >= 4, f"run {run_id}: {len(fills)} fills journaled"  # two opens, two closes
