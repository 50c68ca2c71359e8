"""`history` totals when a run that traded has no known net PnL: the net total says it is partial, never a
sum that silently leaves that run out while the fees total counts it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from hedgectl.journal import Journal
from tests.e2e.conftest import hedgectl
from tests.e2e.test_history_numbers import _journal_run

pytestmark = pytest.mark.e2e
PERIOD = ("--since", "2000-01-01", "--until", "2100-01-01")


def _unknown_net_run(home: Path) -> None:
    run_id = _journal_run(home, Decimal(10), Decimal(0), end=False)
    journal = Journal(home / "journal.sqlite")
    try:
        journal.end_run(run_id, status="failed", exit_code=1, net_pnl=None, volume=Decimal(15))
    finally:
        journal.close()


def test_a_run_without_a_net_makes_the_total_partial_in_json_and_the_table(isolated_env: Path) -> None:
    _journal_run(isolated_env, Decimal(10), Decimal("-0.25"))
    _unknown_net_run(isolated_env)
    doc = json.loads(hedgectl("history", *PERIOD, "--json").stdout)
    totals = doc["totals"]
    assert totals["fees"] == {"USDT": "0.012"}  # both runs' fees
    assert Decimal(totals["net_pnl"]) == Decimal("-0.25")  # the one run whose net is known
    assert totals["net_pnl_runs"] == {"counted": 1, "of": 2}
    assert totals["net_pnl_partial"] is True
    screen = hedgectl("history", *PERIOD)
    assert screen.returncode == 0, screen.stderr
    assert "(1 of 2 runs)" in screen.stdout
    assert "counts 1 of the 2 runs that traded" in screen.stdout + screen.stderr


def test_no_run_with_a_net_shows_n_a_never_zero(isolated_env: Path) -> None:
    _unknown_net_run(isolated_env)
    doc = json.loads(hedgectl("history", *PERIOD, "--json").stdout)
    assert doc["totals"]["net_pnl"] is None
    assert doc["totals"]["net_pnl_partial"] is True
    screen = hedgectl("history", *PERIOD)
    total_line = next(line for line in screen.stdout.splitlines() if "total (1 run)" in line)
    assert "n/a" in total_line
    assert "0.0000" not in total_line


def test_every_net_known_is_not_partial(isolated_env: Path) -> None:
    _journal_run(isolated_env, Decimal(10), Decimal("-0.25"))
    doc = json.loads(hedgectl("history", *PERIOD, "--json").stdout)
    assert doc["totals"]["net_pnl_runs"] == {"counted": 1, "of": 1}
    assert doc["totals"]["net_pnl_partial"] is False
    assert " of 1 run" not in hedgectl("history", *PERIOD).stdout.split("total (1 run)")[1]
