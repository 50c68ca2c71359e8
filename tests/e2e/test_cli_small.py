"""Issue 13 item 11 through the real CLI: unknown symbols, misspelled settings, typed options, completion."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hedgectl.cli.app import app
from tests.e2e.conftest import Sim, hedgectl

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "argv",
    [["prices", "--symbol", "FOO", "--json"], ["bootstrap", "--symbol", "FOO", "--yes", "--json"]],
    ids=" ".join,
)
def test_an_unknown_symbol_is_a_usage_error(sim: Sim, argv: list[str]) -> None:
    proc = hedgectl(*argv)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "error: unknown symbol 'FOO': not listed on " + (
        "binance, okx, backpack, aster" if argv[0] == "prices" else "binance, okx"
    )
    assert json.loads(proc.stdout)["exit_code"] == 2
    assert sim.requests("create_order") == []


def test_a_misspelled_setting_is_warned_about_with_the_closest_name(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path(".env").write_text("HEDGECTL_MODEE=paper\n")
    Path(".env").chmod(0o600)
    monkeypatch.setenv("HEDGECTL_SIM_SEEDS", "4")
    proc = hedgectl("history", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "HEDGECTL_MODEE (in .env) is not a hedgectl setting: did you mean HEDGECTL_MODE?" in proc.stderr
    assert "HEDGECTL_SIM_SEEDS (in the environment) is not a hedgectl setting: did you mean HEDGECTL_SIM_SEED?" in (
        proc.stderr
    )


@pytest.mark.parametrize(
    ("argv", "options"),
    [
        (["bootstrap", "--help"], ["--notional", "--hold", "--max-slippage-bps", "--max-latency-ms", "--max-loss-pct"]),
        (["bp-aster", "loop", "--help"], ["--qty", "--offset-pct"]),
    ],
)
def test_numeric_options_show_their_type_in_help(argv: list[str], options: list[str]) -> None:
    result = CliRunner().invoke(app, argv, env={"COLUMNS": "200"})
    assert result.exit_code == 0
    lines = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("│ --")}
    for option in options:
        assert "<decimal>" in lines[option], lines[option]


def test_a_bad_number_is_one_json_usage_error() -> None:
    proc = hedgectl("bootstrap", "--notional", "abc", "--json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["error"].startswith("Invalid value for '--notional': must be a number")


def test_shell_completion_completes_commands(tmp_path: Path) -> None:
    env = {**os.environ, "_HEDGECTL_COMPLETE": "complete_bash", "COMP_WORDS": "hedgectl con", "COMP_CWORD": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", "from hedgectl.cli.app import main; main()"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["connect"]


def test_install_completion_writes_the_shell_script(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "SHELL": "/bin/bash"}
    # typer finds the shell among the process's parents (shellingham), not from an argument: run it from a bash
    # (`; exit` keeps bash from exec-ing python in its place), as a user's terminal does, whatever runs pytest.
    command = f"{shlex.quote(sys.executable)} -m hedgectl --install-completion; exit $?"
    proc = subprocess.run(
        ["bash", "-c", command],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "_HEDGECTL_COMPLETE" in (tmp_path / ".bash_completions" / "hedgectl.sh").read_text()
    assert "hedgectl.sh" in (tmp_path / ".bashrc").read_text()
