"""tests/forked_cli.py, the tests' CLI processes forked warm, behaves as `subprocess` does for what the tests use:
argv, environment and directory of the caller, output, exit codes, signals."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from tests import forked_cli


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


def test_output_and_exit_codes_are_the_commands(isolated_env: Path) -> None:
    done = forked_cli.run(["--version"], _env(), timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, f"hedgectl {__import__('hedgectl').__version__}")
    wrong = forked_cli.run(["positons"], _env(), timeout=60)
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("error: ")


def test_the_callers_environment_and_directory_are_the_commands(tmp_path: Path) -> None:
    home = tmp_path / "elsewhere-home"
    (tmp_path / "work").mkdir()
    done = forked_cli.run(["history", "--json"], _env(HEDGECTL_HOME=str(home)), timeout=60, cwd=str(tmp_path / "work"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["runs"] == []
    assert (home / "journal.sqlite").exists()  # the environment given, not the parent's (set when it started)


def test_a_signal_reaches_the_command_and_a_death_by_signal_is_negative(isolated_env: Path) -> None:
    served = forked_cli.ForkedProcess(["sim", "serve", "--port", "0", "--json"], _env())
    assert served.stdout is not None
    assert json.loads(served.stdout.readline())["ok"] is True  # serving
    assert served.poll() is None
    served.send_signal(signal.SIGTERM)  # the simulator stops on SIGTERM: its own exit
    served.communicate(timeout=60)
    assert served.returncode == 0
    killed = forked_cli.ForkedProcess(["sim", "serve", "--port", "0", "--json"], _env())
    assert killed.stdout is not None
    killed.stdout.readline()
    killed.kill()
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
