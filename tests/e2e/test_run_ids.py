"""Every trading command names its run (screen and --json): the id `hedgectl history show` takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Sim, hedgectl
from tests.e2e.test_bp_aster_loop import FAST, Loop, _fill_when_resting, frozen_sim  # noqa: F401 - a fixture

pytestmark = pytest.mark.e2e


def _latest_run(command: str) -> str:
    runs = json.loads(hedgectl("history", "--json").stdout)["runs"]
    return next(r["id"] for r in runs if r["command"] == command)


def test_bootstrap_names_its_run(sim: Sim, isolated_env: Path) -> None:
    proc = hedgectl("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "0", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["run_id"] == _latest_run("bootstrap")
    screen = hedgectl("bootstrap", "--notional", "300", "--max-slippage-bps", "50", "--hold", "0")
    assert screen.returncode == 0, screen.stderr
    assert f"run {_latest_run('bootstrap')}" in screen.stdout


def test_flatten_names_its_run(sim: Sim, isolated_env: Path) -> None:
    proc = hedgectl("flatten", "--all", "--yes", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["run_id"] == _latest_run("flatten")
    screen = hedgectl("flatten", "--all", "--yes")
    assert f"run {_latest_run('flatten')}" in screen.stdout


def test_the_loop_names_its_run(frozen_sim: Sim, isolated_env: Path) -> None:  # noqa: F811 - the fixture
    loop = Loop("--qty", "10", "--cycles", "1", *FAST)
    for leg in range(1, 3):
        _fill_when_resting(frozen_sim)
        loop.wait_for("leg", count=leg, action="end")
    assert loop.finish() == 0, loop.stderr
    assert loop.summary["run_id"] == _latest_run("bp-aster loop")
