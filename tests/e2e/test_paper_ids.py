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


def test_a_paper_command_killed_with_minus_9_leaves_its_positions_for_flatten(isolated_env: Path) -> None:
    """Crash recovery can be rehearsed on paper: the account is saved as it goes, not only at a clean stop."""
    import subprocess
    import sys

    from tests.e2e.conftest import cli_env
    from tests.waiting import eventually

    proc = subprocess.Popen(
        [sys.executable, "-m", "hedgectl", "bootstrap", "--notional", "300", "--hold", "60", "--yes", "--json",
         "--max-slippage-bps", "100"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(),
    )  # fmt: skip
    state = isolated_env / "paper" / "sim-state.json"
    # The hold has begun once both legs are saved in the paper account.
    try:
        eventually(lambda: state.exists() and state.read_text().count('"qty": "0.00') >= 2, 60, 0.1)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    held = hedgectl("positions", "--json")
    assert held.returncode == 0, held.stderr
    legs = {v: doc["positions"] for v, doc in json.loads(held.stdout)["venues"].items() if doc["positions"]}
    assert set(legs) == {"binance", "okx"}, held.stdout  # the legs survived the crash
    flat = hedgectl("flatten", "--all", "--yes", "--json")
    assert flat.returncode == 0, flat.stderr
    after = hedgectl("positions", "--json")
    assert all(not doc["positions"] for doc in json.loads(after.stdout)["venues"].values()), after.stdout
